// SPDX-License-Identifier: GPL-2.0
/*
 * cxl-kv-bench - drive a KV cache like an inference engine would.
 *
 *   cxl-kv-bench decode [options]   prefill + decode steps from the policy
 *                                   issue's trace generator (kvtrace_gen.c),
 *                                   layer by layer with a modelled compute
 *                                   time, over a backend: cxl-kv, dram,
 *                                   swap, swap+zswap, uoffload
 *                                   (bench_decode.c, bench_*.c)
 *   cxl-kv-bench serve TRACE.jsonl  replay a Mooncake-format request trace
 *   cxl-kv-bench report ROWS        the e2e table and e2e-summary line from
 *                                   the e2e-row lines of decode runs
 *
 * Exit status: 0 all bytes verified, 1 a mismatch or a failed operation,
 * 2 bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libcxl_kv.h>

#include "common.h"
#include "kvtrace_gen.h"
#include "bench.h"

static const char usage_text[] =
"usage: cxl-kv-bench decode [--preset NAME] [--layers N] [--kv-heads N]\n"
"                           [--head-dim N] [--dtype 1|2|4] [--prompt TOKENS]\n"
"                           [--steps N] [--chunk TOKENS] [--ratio R] [--seed N]\n"
"                           [--window TOKENS] [--no-hints] [--no-prefetch]\n"
"                           [--no-access] [--uring] [--progress SECS]\n"
"                           [--plot PREFIX] [-k KNOB=VALUE]...\n"
"                           [--backend dram|swap|swap+zswap|uoffload|cxl-kv]\n"
"                           [--sequences N] [--compute-us-per-layer US] [--spin]\n"
"                           [--pipeline] [--depth N] [--pf-max PAGES]\n"
"                           [--no-layer-batch] [--cold-format FMT]\n"
"                           [--budget SIZE] [--warm-node N] [--cold-dev DEV]\n"
"                           [--swap-dev DEV] [--rows FILE]\n"
"       cxl-kv-bench serve TRACE.jsonl [--layers N] [--kv-heads N]\n"
"                          [--head-dim N] [--block-tokens N] [--slots N]\n"
"                          [--requests N] [--progress SECS] [--plot PREFIX]\n"
"decode: --ratio R sizes the context so the space holds R x the warm budget\n"
"        (default 4) unless --prompt is given; presets: see kvtrace -l.\n"
"       cxl-kv-bench report ROWS [--plot PREFIX]\n";

int bench_usage(const char *why)
{
	if (why)
		fprintf(stderr, "cxl-kv-bench: %s\n", why);
	fputs(usage_text, stderr);
	return 2;
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- pattern */

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static inline uint64_t token_base(uint64_t seed, uint32_t layer, uint32_t head,
				  unsigned int kind, uint64_t token)
{
	return mix64(seed ^ ((uint64_t)layer << 44) ^ ((uint64_t)head << 36) ^
		     ((uint64_t)kind << 35) ^ token);
}

#define WORD_STEP 0x9e3779b97f4a7c15ULL

/*
 * Word i of a vector: four fp16 values with the statistics of KV entries
 * (random sign and mantissa, exponent 12 or 13: magnitudes 0.125..0.5), so
 * that a compressor (zswap) sees what it would see in a real KV cache.
 */
static inline uint64_t fp16_word(uint64_t base, uint32_t i)
{
	uint64_t v = base ^ i * WORD_STEP;

	return (v & 0x83ff83ff83ff83ffULL) | 0x3000300030003000ULL |
	       ((v >> 1) & 0x0400040004000400ULL);
}

/*
 * The content of one token vector (len bytes): word i is fp16_word(base, i),
 * base a hash of (seed, layer, head, kind, token).  Cheap enough to check
 * every byte under TCG; no two vectors of a run share a word sequence.
 */
void bench_pattern(uint64_t seed, uint32_t layer, uint32_t head,
		   unsigned int kind, uint64_t token, void *buf, uint32_t len)
{
	uint64_t base = token_base(seed, layer, head, kind, token), v;
	unsigned char *p = buf;
	uint32_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		v = fp16_word(base, i / 8);
		memcpy(p + i, &v, 8);
	}
	if (i < len) {
		v = fp16_word(base, i / 8);
		memcpy(p + i, &v, len - i);
	}
}

/* 0 if buf holds the pattern bench_pattern() writes, else -1. */
int bench_check(uint64_t seed, uint32_t layer, uint32_t head,
		unsigned int kind, uint64_t token, const void *buf, uint32_t len)
{
	uint64_t base = token_base(seed, layer, head, kind, token), v, diff = 0;
	const unsigned char *p = buf;
	uint32_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&v, p + i, 8);
		diff |= v ^ fp16_word(base, i / 8);
	}
	if (i < len) {
		uint64_t w = fp16_word(base, i / 8);

		v = 0;
		memcpy(&v, p + i, len - i);
		memset((unsigned char *)&w + (len - i), 0, 8 - (len - i));
		diff |= v ^ w;
	}
	return diff ? -1 : 0;
}

void bench_plot(const char *prefix, const char *x, const char *what)
{
	char cmd[1024];

	if (system("command -v gnuplot >/dev/null 2>&1")) {
		printf("# plot: gnuplot not installed, data in %s.csv\n", prefix);
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "gnuplot -e \"set terminal png noenhanced size 900,500; set output '%s.png'; "
		 "set datafile separator ','; set key autotitle columnhead; "
		 "set xlabel '%s'; set y2tics; set ytics nomirror; "
		 "set title '%s'; plot '%s.csv' using 1:2 with lines axes x1y1, "
		 "'' using 1:3 with lines axes x1y2, '' using 1:4 with lines axes x1y2\"",
		 prefix, x, what, prefix);
	if (system(cmd))
		printf("# plot: gnuplot failed\n");
	else
		printf("# plot: %s.png\n", prefix);
}

int main(int argc, char **argv)
{
	struct cxl_kv_ctx *ctx;
	int rc;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("%s %s (%s)\n", "cxl-kv-bench", CXL_KV_PKG_VERSION,
		       CXL_KV_GIT_REV);
		return 0;
	}

	if (argc < 2)
		return bench_usage("no command");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "report"))
		return bench_report(argc - 1, argv + 1);
	if (strcmp(argv[1], "decode") && strcmp(argv[1], "serve"))
		return bench_usage("unknown command");
	rc = cxl_kv_new(&ctx);
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: %s\n", strerror(-rc));
		return 1;
	}
	if (getenv("CXL_KV_DEVICE"))
		cxl_kv_set_device_path(ctx, getenv("CXL_KV_DEVICE"));
	optind = 1;
	if (!strcmp(argv[1], "decode"))
		rc = bench_decode(ctx, argc - 1, argv + 1);
	else
		rc = bench_serve(ctx, argc - 1, argv + 1);
	cxl_kv_unref(ctx);
	return rc;
}
