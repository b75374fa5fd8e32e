/* SPDX-License-Identifier: GPL-2.0 */
/* bench.h - shared between cxl-kv-bench's decode and serve modes. */
#ifndef CXL_KV_BENCH_H
#define CXL_KV_BENCH_H

#include <stdint.h>
#include <libcxl_kv.h>

int bench_usage(const char *why);
double bench_now(void);
void bench_pattern(uint64_t seed, uint32_t layer, uint32_t head,
		   unsigned int kind, uint64_t token, void *buf, uint32_t len);
int bench_check(uint64_t seed, uint32_t layer, uint32_t head,
		unsigned int kind, uint64_t token, const void *buf, uint32_t len);
int bench_serve(struct cxl_kv_ctx *ctx, int argc, char **argv);
int bench_decode(struct cxl_kv_ctx *ctx, int argc, char **argv);
int bench_report(int argc, char **argv);
void bench_plot(const char *prefix, const char *what);

/* bench_util.c */
struct timeval;
void bench_compute_wait(double us, int spin);
double bench_pct(double *v, uint32_t n, double p);
double bench_kernel_cpu_s(void);
double bench_tv_s(struct timeval tv);

/* Mooncake JSONL: the hash_ids of one line; returns the count or -errno. */
int bench_parse_mooncake(const char *line, uint64_t *ids, int max,
			 uint64_t *timestamp);

#endif
