/* SPDX-License-Identifier: GPL-2.0 */
/* bench.h - shared between cxl-kv-bench's decode and serve modes. */
#ifndef CXL_KV_BENCH_H
#define CXL_KV_BENCH_H

#include <stdint.h>
#include <stdio.h>
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
/* PREFIX.png from PREFIX.csv (gnuplot, if installed): x against hit rate,
 * warm and cold pages */
void bench_plot(const char *prefix, const char *x, const char *what);

/* bench_util.c */
struct timeval;
void bench_compute_wait(double us, int spin);
double bench_pct(double *v, uint32_t n, double p);
double bench_kernel_cpu_s(void);
double bench_tv_s(struct timeval tv);
/* --plot: PREFIX.csv, one row per x (step, request): x,hit_rate,warm_pages,
 * cold_pages; bench_csv_open() returns NULL without a prefix; close plots */
FILE *bench_csv_open(const char *prefix, const char *x);
void bench_csv_row(FILE *csv, uint64_t x, double hit,
		   const struct cxl_kv_stats *st);
void bench_csv_close(FILE *csv, const char *prefix, const char *x,
		     const char *what);

/* Mooncake JSONL: the hash_ids of one line; returns the count or -errno. */
int bench_parse_mooncake(const char *line, uint64_t *ids, int max,
			 uint64_t *timestamp);

#endif
