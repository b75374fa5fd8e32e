// SPDX-License-Identifier: GPL-2.0
/*
 * cxl-kv-bench - drive a cxl-kv space like an inference engine would.
 *
 *   cxl-kv-bench decode [options]   prefill + decode steps from the policy
 *                                   issue's trace generator (kvtrace_gen.c)
 *   cxl-kv-bench serve TRACE.jsonl  replay a Mooncake-format request trace
 *
 * decode: a space of the model geometry is filled by the trace's WRITE ops
 * (every (layer, head) appends tokens; K and V vectors carry a pattern that
 * is a function of (seed, layer, head, kind, token)), and at every decode
 * step the blocks named by the trace's READ ops are read and verified byte
 * for byte; their attention masses go to the module as score hints, the
 * reads as ACCESS reports, and every layer gets a PREFETCH window around the
 * newest token.  The summary ends with exactly
 *   run-summary: hit_rate=<x.xxx> promotions=<n> demotions=<n> verified_bytes=<n>
 * hit_rate = 1 - cold faults taken while reading / pages read.
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

#include <cxl_kv.h>

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
"       cxl-kv-bench serve TRACE.jsonl [--layers N] [--kv-heads N]\n"
"                          [--head-dim N] [--block-tokens N] [--slots N]\n"
"                          [--requests N] [--progress SECS] [--plot PREFIX]\n"
"decode: --ratio R sizes the context so the space holds R x the warm budget\n"
"        (default 4) unless --prompt is given; presets: see kvtrace -l.\n";

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
 * The content of one token vector (len bytes): word i is base ^ i * phi,
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
		v = base ^ (i / 8) * WORD_STEP;
		memcpy(p + i, &v, 8);
	}
	if (i < len) {
		v = base ^ (i / 8) * WORD_STEP;
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
		diff |= v ^ (base ^ (i / 8) * WORD_STEP);
	}
	if (i < len) {
		uint64_t w = base ^ (i / 8) * WORD_STEP;

		v = 0;
		memcpy(&v, p + i, len - i);
		memset((unsigned char *)&w + (len - i), 0, 8 - (len - i));
		diff |= v ^ w;
	}
	return diff ? -1 : 0;
}

/* ------------------------------------------------------------------ decode */

struct decode_opts {
	const char *preset;
	uint32_t layers, kv_heads, head_dim, dtype;
	uint32_t prompt, steps, chunk;
	double ratio;
	uint64_t seed;
	uint64_t window;		/* prefetch half-window, tokens */
	int hints, prefetch, access, uring;
	double progress;
	const char *plot;
	char *knobs[32];
	int nknobs;
};

struct decode_run {
	struct decode_opts *o;
	struct cxl_kv_space *space;
	const struct cxl_kv_layout *lo;
	uint64_t written;		/* tokens in every (layer, head) */
	uint64_t step;
	struct cxl_kv_hint *hints;
	unsigned int nhints, hints_cap;
	struct cxl_kv_range *ranges;
	unsigned int nranges, ranges_cap;
	unsigned char *expect;
	struct cxl_kv_prefetch *pf;	/* one per layer */
	/* results */
	uint64_t verified_bytes, mismatches, pages_read, blocks_read;
	uint64_t read_cold_faults;
	uint64_t hint_calls, access_calls, prefetch_calls;
	uint64_t pf_issued_sum, pf_resident_sum;
	int failed;
	FILE *csv;
};

static int flush_hints(struct decode_run *r)
{
	unsigned int off = 0;
	int rc;

	while (off < r->nhints) {
		unsigned int n = r->nhints - off, done = 0;

		if (n > 65536)
			n = 65536;
		rc = cxl_kv_hints(r->space, r->step, r->hints + off, n, &done);
		if (rc) {
			fprintf(stderr, "cxl-kv-bench: HINTS step %llu: %s (done %u)\n",
				(unsigned long long)r->step, strerror(-rc), done);
			return rc;
		}
		r->hint_calls++;
		off += n;
	}
	r->nhints = 0;
	return 0;
}

static int flush_access(struct decode_run *r)
{
	unsigned int off = 0;
	int rc;

	while (off < r->nranges) {
		unsigned int n = r->nranges - off;

		if (n > 4096)
			n = 4096;
		rc = cxl_kv_access(r->space, r->step, r->ranges + off, n, NULL);
		if (rc) {
			fprintf(stderr, "cxl-kv-bench: ACCESS step %llu: %s\n",
				(unsigned long long)r->step, strerror(-rc));
			return rc;
		}
		r->access_calls++;
		off += n;
	}
	r->nranges = 0;
	return 0;
}

static int write_tokens(struct decode_run *r, uint32_t n)
{
	const struct cxl_kv_layout *lo = r->lo;
	uint64_t t, end = r->written + n;

	if (end > lo->geo.max_tokens)
		return -ERANGE;
	for (uint32_t l = 0; l < lo->geo.layers; l++)
		for (uint32_t h = 0; h < lo->geo.kv_heads; h++)
			for (unsigned int k = 0; k < 2; k++)
				for (t = r->written; t < end; t++) {
					void *p = cxl_kv_kv_ptr(r->space, l, h, k, t);

					bench_pattern(r->o->seed, l, h, k, t, p,
						      lo->token_bytes);
				}
	r->written = end;
	return 0;
}

/* Read and verify the written tokens of one block, K and V. */
static void read_block(struct decode_run *r, uint32_t l, uint32_t h,
		       uint32_t block, uint32_t mass)
{
	const struct cxl_kv_layout *lo = r->lo;
	uint64_t first = (uint64_t)block * lo->tokens_per_block, t;
	uint64_t end = first + lo->tokens_per_block;

	if (end > r->written)
		end = r->written;
	for (unsigned int k = 0; k < 2; k++) {
		for (t = first; t < end; t++) {
			const unsigned char *p = cxl_kv_kv_ptr(r->space, l, h, k, t);

			if (bench_check(r->o->seed, l, h, k, t, p, lo->token_bytes)) {
				if (r->mismatches++ < 5)
					printf("# MISMATCH layer %u head %u %c token %llu "
					       "(block %u, step %llu)\n", l, h,
					       k ? 'V' : 'K', (unsigned long long)t,
					       block, (unsigned long long)r->step);
			} else {
				r->verified_bytes += lo->token_bytes;
			}
		}
	}
	if (end > first) {
		r->pages_read += 2;
		r->blocks_read++;
	}
	if (r->o->hints && r->nhints < r->hints_cap) {
		struct cxl_kv_hint *hi = &r->hints[r->nhints++];

		memset(hi, 0, sizeof(*hi));
		hi->layer = (uint16_t)l;
		hi->head = (uint16_t)h;
		hi->block = block;
		hi->score = mass;
	}
	if (r->o->access && r->nranges < r->ranges_cap) {
		struct cxl_kv_range *rg = &r->ranges[r->nranges];

		/* merge with the previous run of the same (layer, head) */
		if (r->nranges && rg[-1].layer == l && rg[-1].head == h &&
		    rg[-1].first_block + rg[-1].nr_blocks == block) {
			rg[-1].nr_blocks++;
		} else {
			memset(rg, 0, sizeof(*rg));
			rg->layer = (uint16_t)l;
			rg->head = (uint16_t)h;
			rg->first_block = block;
			rg->nr_blocks = 1;
			r->nranges++;
		}
	}
}

/* One PREFETCH window per layer, all heads, around the newest token. */
static int prefetch_layers(struct decode_run *r)
{
	const struct cxl_kv_layout *lo = r->lo;
	uint64_t mask = lo->geo.kv_heads >= 64 ? ~0ULL :
			(1ULL << lo->geo.kv_heads) - 1;
	struct cxl_kv_prefetch *pf = r->pf;
	int rc;

	if (!r->o->prefetch || !r->written)
		return 0;
	memset(pf, 0, lo->geo.layers * sizeof(*pf));
	for (uint32_t l = 0; l < lo->geo.layers; l++) {
		pf[l].layer = l;
		pf[l].head_mask = mask;
		pf[l].pos = r->written - 1;
		pf[l].window = r->o->window;
	}
	rc = cxl_kv_prefetch_batch(r->space, pf, lo->geo.layers);
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: PREFETCH: %s\n", strerror(-rc));
		return rc;
	}
	r->prefetch_calls++;
	for (uint32_t l = 0; l < lo->geo.layers; l++) {
		r->pf_issued_sum += pf[l].issued;
		r->pf_resident_sum += pf[l].resident;
	}
	return 0;
}

static void summary(struct decode_run *r, const struct cxl_kv_stats *st,
		    double secs, const char *what)
{
	double hit = r->pages_read ?
		1.0 - (double)r->read_cold_faults / (double)r->pages_read : 0.0;

	if (hit < 0)
		hit = 0;
	printf("# ---- %s summary ----\n", what);
	printf("# %-22s %16.3f\n", "seconds", secs);
	printf("# %-22s %16llu\n", "steps", (unsigned long long)r->step);
	printf("# %-22s %16llu\n", "tokens", (unsigned long long)r->written);
	printf("# %-22s %16llu\n", "blocks_read", (unsigned long long)r->blocks_read);
	printf("# %-22s %16llu\n", "pages_read", (unsigned long long)r->pages_read);
	printf("# %-22s %16llu\n", "cold_faults_on_read",
	       (unsigned long long)r->read_cold_faults);
	printf("# %-22s %16.3f\n", "hit_rate", hit);
	printf("# %-22s %16llu\n", "promotions", (unsigned long long)st->promotions);
	printf("# %-22s %16llu\n", "demotions", (unsigned long long)st->demotions);
	printf("# %-22s %16.3f\n", "prefetch_accuracy", stats_prefetch_accuracy(st));
	printf("# %-22s %16llu\n", "prefetch_issued", (unsigned long long)st->prefetch_issued);
	printf("# %-22s %16llu\n", "prefetch_used", (unsigned long long)st->prefetch_used);
	printf("# %-22s %16llu\n", "nvme_read_bytes", (unsigned long long)st->nvme_read_bytes);
	printf("# %-22s %16llu\n", "nvme_write_bytes", (unsigned long long)st->nvme_write_bytes);
	printf("# %-22s %16llu\n", "hints", (unsigned long long)st->hints);
	printf("# %-22s %16llu\n", "verified_bytes", (unsigned long long)r->verified_bytes);
	printf("# %-22s %16llu\n", "mismatches", (unsigned long long)r->mismatches);
	printf("# space counters:\n");
	fflush(stdout);
	{
		/* the full stats table, as `cxl-kv stats --human` prints it */
		char *buf = NULL;
		size_t len = 0;
		FILE *mf = open_memstream(&buf, &len);

		if (mf) {
			stats_table(mf, st);
			fclose(mf);
			for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
				printf("#   %s\n", line);
			free(buf);
		}
	}
	printf("%sok 1 %s\n", r->failed || r->mismatches ? "not " : "", what);
	printf("run-summary: hit_rate=%.3f promotions=%llu demotions=%llu "
	       "verified_bytes=%llu\n", hit, (unsigned long long)st->promotions,
	       (unsigned long long)st->demotions,
	       (unsigned long long)r->verified_bytes);
	fflush(stdout);
}

static void plot(const char *prefix, const char *what)
{
	char cmd[1024];

	if (system("command -v gnuplot >/dev/null 2>&1")) {
		printf("# plot: gnuplot not installed, data in %s.csv\n", prefix);
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "gnuplot -e \"set terminal png noenhanced size 900,500; set output '%s.png'; "
		 "set datafile separator ','; set key autotitle columnhead; "
		 "set xlabel 'step'; set y2tics; set ytics nomirror; "
		 "set title '%s'; plot '%s.csv' using 1:2 with lines axes x1y1, "
		 "'' using 1:3 with lines axes x1y2, '' using 1:4 with lines axes x1y2\"",
		 prefix, what, prefix);
	if (system(cmd))
		printf("# plot: gnuplot failed\n");
	else
		printf("# plot: %s.png\n", prefix);
}

static int cmd_decode(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "preset", required_argument, NULL, 'P' },
		{ "layers", required_argument, NULL, 'L' },
		{ "kv-heads", required_argument, NULL, 'H' },
		{ "head-dim", required_argument, NULL, 'D' },
		{ "dtype", required_argument, NULL, 'T' },
		{ "prompt", required_argument, NULL, 'p' },
		{ "steps", required_argument, NULL, 's' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "ratio", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 'S' },
		{ "window", required_argument, NULL, 'w' },
		{ "no-hints", no_argument, NULL, 1 },
		{ "no-prefetch", no_argument, NULL, 2 },
		{ "no-access", no_argument, NULL, 3 },
		{ "uring", no_argument, NULL, 'u' },
		{ "progress", required_argument, NULL, 'g' },
		{ "plot", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct decode_opts o = {
		.preset = "llama3-8b", .layers = 0, .kv_heads = 0, .head_dim = 128,
		.dtype = 2, .ratio = 4.0, .seed = 1, .window = 0, .hints = 1,
		.prefetch = 1, .access = 1, .progress = 10.0,
	};
	struct decode_run r;
	struct kvtrace_cfg cfg;
	struct kvtrace t;
	struct kvtrace_genstats gs;
	struct cxl_kv_geometry geo;
	struct cxl_kv_features f;
	struct cxl_kv_info info;
	struct cxl_kv_stats st0, st1, st;
	double t0, last_progress;
	uint64_t v, i;
	uint32_t preset_prompt, kinds[KVTRACE_NKINDS] = { 0 };
	int c, rc, in_reads = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'P': o.preset = optarg; break;
		case 'L': case 'H': case 'D': case 'T': case 'p': case 's':
		case 'c': case 'S': case 'w':
			if (parse_u64(optarg, &v) || (c != 'S' && v > UINT32_MAX))
				return bench_usage("numeric option out of range");
			if (c == 'L') o.layers = (uint32_t)v;
			if (c == 'H') o.kv_heads = (uint32_t)v;
			if (c == 'D') o.head_dim = (uint32_t)v;
			if (c == 'T') o.dtype = (uint32_t)v;
			if (c == 'p') o.prompt = (uint32_t)v;
			if (c == 's') o.steps = (uint32_t)v;
			if (c == 'c') o.chunk = (uint32_t)v;
			if (c == 'S') o.seed = v;
			if (c == 'w') o.window = v;
			break;
		case 'r':
			o.ratio = strtod(optarg, &end);
			if (*end || o.ratio <= 0 || o.ratio > 1000)
				return bench_usage("--ratio takes a positive number");
			break;
		case 'g':
			o.progress = strtod(optarg, &end);
			if (*end || o.progress < 0)
				return bench_usage("--progress takes seconds");
			break;
		case 'o': o.plot = optarg; break;
		case 'u': o.uring = 1; break;
		case 1: o.hints = 0; break;
		case 2: o.prefetch = 0; break;
		case 3: o.access = 0; break;
		case 'k':
			if (o.nknobs >= 32)
				return bench_usage("too many -k");
			o.knobs[o.nknobs++] = optarg;
			break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: return bench_usage(NULL);
		}
	}
	if (optind != argc)
		return bench_usage("decode takes no positional arguments");
	if (kvtrace_preset(o.preset, &cfg))
		return bench_usage("unknown preset (kvtrace -l lists them)");
	{
		/* check the knobs now, apply them after the scaling below */
		struct kvtrace_cfg tmp = cfg;

		for (int k = 0; k < o.nknobs; k++)
			if (kvtrace_cfg_set(&tmp, o.knobs[k], 0))
				return bench_usage("bad -k KNOB=VALUE");
	}
	preset_prompt = cfg.prompt_tokens;
	if (o.layers)
		cfg.layers = o.layers;
	if (o.kv_heads)
		cfg.kv_heads = o.kv_heads;
	if (o.steps)
		cfg.decode_steps = o.steps;
	if (o.chunk)
		cfg.prefill_chunk = o.chunk;
	cfg.seed = o.seed;

	rc = cxl_kv_get_features(ctx, &f);
	if (!rc)
		rc = cxl_kv_get_info(ctx, &info);
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: cxl_kv module: %s\n", strerror(-rc));
		return 1;
	}
	if (!info.attached) {
		fprintf(stderr, "cxl-kv-bench: no tier set attached (cxl-kv attach)\n");
		return 1;
	}
	geo.layers = cfg.layers;
	geo.kv_heads = cfg.kv_heads;
	geo.head_dim = o.head_dim;
	geo.dtype_bytes = o.dtype;
	geo.max_tokens = 1;
	{
		struct cxl_kv_layout lo;

		rc = cxl_kv_layout_init(&lo, &geo, f.page_size);
		if (rc)
			return bench_usage("geometry rejected (see the UAPI limits)");
		cfg.tokens_per_block = lo.tokens_per_block;
		if (!o.prompt) {
			/* context so that the KV is ratio x the warm budget */
			double per_token = 2.0 * geo.layers * geo.kv_heads *
					   lo.token_bytes;
			double tokens = o.ratio * (double)info.budget_pages *
					f.page_size / per_token;

			if (tokens < cfg.decode_steps + 2 * lo.tokens_per_block)
				tokens = cfg.decode_steps + 2 * lo.tokens_per_block;
			o.prompt = (uint32_t)tokens - cfg.decode_steps;
		}
	}
	/*
	 * The presets' recent windows are sized for their own context (8K
	 * tokens for llama3-8b): keep them the same fraction of a shorter one.
	 */
	if (o.prompt < preset_prompt) {
		double frac = (double)o.prompt / preset_prompt;

		cfg.win_local = (uint32_t)(cfg.win_local * frac + 0.5);
		cfg.win_mixed = (uint32_t)(cfg.win_mixed * frac + 0.5);
		if (cfg.win_local < 1)
			cfg.win_local = 1;
		if (cfg.win_mixed < 1)
			cfg.win_mixed = 1;
	}
	for (int k = 0; k < o.nknobs; k++)
		kvtrace_cfg_set(&cfg, o.knobs[k], 0);
	cfg.prompt_tokens = o.prompt;
	if (cfg.prefill_chunk > cfg.prompt_tokens)
		cfg.prefill_chunk = cfg.prompt_tokens;
	geo.max_tokens = (uint64_t)cfg.prompt_tokens + cfg.decode_steps;
	if (!o.window)
		o.window = cfg.tokens_per_block;

	rc = kvtrace_generate(&cfg, &t, &gs);
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: trace generator: %s\n", strerror(-rc));
		return 1;
	}
	memset(&r, 0, sizeof(r));
	rc = cxl_kv_space_create(ctx, &geo, &r.space);
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: space %ux%ux%u x %llu tokens: %s\n",
			geo.layers, geo.kv_heads, geo.head_dim,
			(unsigned long long)geo.max_tokens, strerror(-rc));
		kvtrace_free(&t);
		return 1;
	}
	r.o = &o;
	r.lo = cxl_kv_space_get_layout(r.space);
	rc = cxl_kv_space_map(r.space, NULL);
	if (!rc && o.uring)
		rc = cxl_kv_space_use_uring(r.space, 64);
	r.hints_cap = 1u << 20;
	r.ranges_cap = 1u << 20;
	r.hints = calloc(r.hints_cap, sizeof(*r.hints));
	r.ranges = calloc(r.ranges_cap, sizeof(*r.ranges));
	r.expect = malloc(r.lo->token_bytes);
	r.pf = calloc(geo.layers, sizeof(*r.pf));
	if (!rc && (!r.hints || !r.ranges || !r.expect || !r.pf))
		rc = -ENOMEM;
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: setup: %s\n", strerror(-rc));
		goto out;
	}
	if (o.plot) {
		char path[512];

		snprintf(path, sizeof(path), "%s.csv", o.plot);
		r.csv = fopen(path, "w");
		if (r.csv)
			fprintf(r.csv, "step,hit_rate,warm_pages,cold_pages\n");
	}
	printf("KTAP version 1\n1..1\n");
	printf("# decode: geometry %ux%ux%u dtype %u, %u prompt + %u decode tokens, "
	       "%u tokens/block, space %llu MiB, warm budget %llu MiB (x%.1f), "
	       "trace %s seed %llu win_local %u win_mixed %u: %llu reads, "
	       "%.1f blocks/head/step, transport %s\n", geo.layers, geo.kv_heads,
	       geo.head_dim,
	       geo.dtype_bytes, cfg.prompt_tokens, cfg.decode_steps,
	       cfg.tokens_per_block, (unsigned long long)(r.lo->mmap_bytes >> 20),
	       (unsigned long long)(info.budget_pages * f.page_size >> 20),
	       (double)r.lo->mmap_bytes / ((double)info.budget_pages * f.page_size),
	       o.preset, (unsigned long long)o.seed, cfg.win_local, cfg.win_mixed,
	       (unsigned long long)gs.reads, gs.reads_per_head_step,
	       o.uring ? "io_uring" : "ioctl");
	fflush(stdout);

	t0 = last_progress = bench_now();
	memset(&st0, 0, sizeof(st0));
	for (i = 0; i < t.n && !r.failed; i++) {
		uint32_t w = t.w[i], op = KVTRACE_OP(w);

		if (op != KVTRACE_OP_READ && in_reads) {
			/* end of this step's reads: cold faults they took */
			if (cxl_kv_space_stats(r.space, &st1) == 0)
				r.read_cold_faults += st1.faults_cold - st0.faults_cold;
			in_reads = 0;
		}
		switch (op) {
		case KVTRACE_OP_STEP:
			if (flush_hints(&r) || flush_access(&r)) {
				r.failed = 1;
				break;
			}
			r.step = w & 0x0fffffff;
			if (r.written >= cfg.prompt_tokens && prefetch_layers(&r))
				r.failed = 1;
			if (o.progress > 0 && bench_now() - last_progress >= o.progress) {
				last_progress = bench_now();
				printf("# progress: step %llu tokens %llu verified %llu MiB "
				       "%.0fs\n", (unsigned long long)r.step,
				       (unsigned long long)r.written,
				       (unsigned long long)(r.verified_bytes >> 20),
				       last_progress - t0);
				fflush(stdout);
			}
			if (r.csv && r.written > cfg.prompt_tokens &&
			    !cxl_kv_space_stats(r.space, &st))
				fprintf(r.csv, "%llu,%.4f,%llu,%llu\n",
					(unsigned long long)r.step,
					r.pages_read ? 1.0 - (double)r.read_cold_faults /
					(double)r.pages_read : 0.0,
					(unsigned long long)st.warm_pages,
					(unsigned long long)st.cold_pages);
			break;
		case KVTRACE_OP_WRITE:
			rc = write_tokens(&r, w & 0x0fffffff);
			if (rc) {
				fprintf(stderr, "cxl-kv-bench: write past max_tokens\n");
				r.failed = 1;
			}
			break;
		case KVTRACE_OP_READ: {
			uint32_t l = (w >> 18) & 0x3ff, h = (w >> 10) & 0xff;
			uint32_t n = w & 0x3ff;

			if (!in_reads) {
				if (cxl_kv_space_stats(r.space, &st0))
					memset(&st0, 0, sizeof(st0));
				in_reads = 1;
			}
			if (i + n >= t.n) {
				r.failed = 1;
				break;
			}
			for (uint32_t b = 0; b < n; b++) {
				uint32_t e = t.w[++i];

				read_block(&r, l, h, e >> 16, e & 0xffff);
			}
			break;
		}
		case KVTRACE_OP_KIND:
			/* generator ground truth (local/mixed/retrieval head) */
			if ((w & 0x3ff) < KVTRACE_NKINDS)
				kinds[w & 0x3ff]++;
			break;
		default:
			fprintf(stderr, "cxl-kv-bench: bad trace word %#x\n", w);
			r.failed = 1;
		}
	}
	if (kinds[0] + kinds[1] + kinds[2])
		printf("# heads: %u local, %u mixed, %u retrieval\n", kinds[0],
		       kinds[1], kinds[2]);
	if (in_reads && !cxl_kv_space_stats(r.space, &st1))
		r.read_cold_faults += st1.faults_cold - st0.faults_cold;
	if (!r.failed && (flush_hints(&r) || flush_access(&r)))
		r.failed = 1;
	rc = cxl_kv_space_stats(r.space, &st);
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: SPACE_STATS: %s\n", strerror(-rc));
		r.failed = 1;
		memset(&st, 0, sizeof(st));
	}
	summary(&r, &st, bench_now() - t0, "decode");
	if (r.csv) {
		fclose(r.csv);
		r.csv = NULL;
		plot(o.plot, "cxl-kv-bench decode: hit rate, warm and cold pages");
	}
out:
	free(r.hints);
	free(r.ranges);
	free(r.expect);
	free(r.pf);
	cxl_kv_space_close(r.space);
	kvtrace_free(&t);
	return rc || r.failed || r.mismatches ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct cxl_kv_ctx *ctx;
	int rc;

	if (argc < 2)
		return bench_usage("no command");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
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
		rc = cmd_decode(ctx, argc - 1, argv + 1);
	else
		rc = bench_serve(ctx, argc - 1, argv + 1);
	cxl_kv_unref(ctx);
	return rc;
}
