// SPDX-License-Identifier: GPL-2.0
/*
 * bench_decode.c - cxl-kv-bench decode: a decode server's KV traffic with a
 * modelled compute time, over any backend (bench_be.h).
 *
 * Every sequence reads its own trace (kvtrace_gen.c, seed + sequence
 * number).  Prefill steps append tokens; a decode step appends one token to
 * every (layer, head) of every sequence and then runs the layers in order:
 * for each layer, each sequence reads and verifies the blocks its trace
 * names for that layer (the attention kernel's reads), then the layer's
 * compute time passes (--compute-us-per-layer; sleep by default, the CPU
 * thread of a server waits for its GPU; --spin busy-waits).  With
 * --pipeline the backend is told at every layer which blocks layer +
 * --depth is expected to read (that layer's reads in the step before), and
 * prefetches them while this layer computes.
 *
 * Step time is the wall time of one decode step (all sequences, all
 * layers, compute included).  The summary ends with
 *   e2e-row: backend=... (one line, read by `cxl-kv-bench report`)
 *   run-summary: hit_rate=<x.xxx> promotions=<n> demotions=<n> verified_bytes=<n>
 *                prefetch_accuracy=<x.xxx>
 * (prefetch_accuracy: the module's prefetch_used / prefetch_issued over the
 * spaces; -1 when nothing was prefetched, e.g. backends without the module).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <libcxl_kv.h>

#include "bench.h"
#include "bench_decode.h"
#include "common.h"

/*
 * Default compute per layer: Llama-3-8B (bf16, 16.06 GB of weights) decoding
 * at batch 1 on one H100 SXM (3.35 TB/s HBM3) is bound by reading the
 * weights once per token: 16.06 / 3350 s = 4.8 ms per token, / 32 layers =
 * 150 us per layer.
 */
#define DEFAULT_COMPUTE_US 150.0

static const char decode_usage[] =
"decode options: --backend dram|swap|swap+zswap|uoffload|cxl-kv  --sequences N\n"
"  --compute-us-per-layer US (default 150: Llama-3-8B on one H100)  --spin\n"
"  --pipeline [--depth N] [--pf-max PAGES]  --no-layer-batch (cxl-kv)\n"
"  --user-pipeline (cxl-kv: the bench predicts and PREFETCHes, not the module)\n"
"  --budget SIZE (non cxl-kv)\n"
"  --warm-node N  --cold-dev DEV  --swap-dev DEV  --rows FILE\n"
"  --cold-format raw|lossless|int8|fp8|int4[-bf16] (cxl-kv: the spaces' cold\n"
"    format; a lossy one changes what is read back, so its blocks are read\n"
"    but not verified: verified_bytes counts only exact formats)\n";

/* the options that shape the trace and the space (decode_setup) */
struct decode_args {
	uint32_t layers, kv_heads, prompt, steps, chunk;
	double ratio;
	char *knobs[32];
	int nknobs;
};

/* The options into @d and @a: -1 to go on, else the exit code. */
static int decode_options(struct decode *d, struct decode_args *a,
			  int argc, char **argv)
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
		{ "backend", required_argument, NULL, 'b' },
		{ "sequences", required_argument, NULL, 'n' },
		{ "compute-us-per-layer", required_argument, NULL, 'C' },
		{ "spin", no_argument, NULL, 4 },
		{ "pipeline", no_argument, NULL, 5 },
		{ "depth", required_argument, NULL, 'd' },
		{ "pf-max", required_argument, NULL, 'm' },
		{ "budget", required_argument, NULL, 'B' },
		{ "warm-node", required_argument, NULL, 'W' },
		{ "cold-dev", required_argument, NULL, 'V' },
		{ "swap-dev", required_argument, NULL, 'X' },
		{ "rows", required_argument, NULL, 'R' },
		{ "no-layer-batch", no_argument, NULL, 6 },
		{ "cold-format", required_argument, NULL, 7 },
		{ "user-pipeline", no_argument, NULL, 8 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct be_opts *bo = &d->be.o;
	uint64_t v;
	char *end;
	int c;

	d->preset = "llama3-8b";
	d->head_dim = 128;
	d->dtype = 2;
	d->progress = 10.0;
	a->ratio = 4.0;
	bo->name = "cxl-kv";
	bo->hints = bo->access = bo->prefetch = bo->layer_batch = 1;
	bo->depth = 2;
	bo->pf_max_pages = 1024;
	bo->warm_node = getenv("CXLKV_WARM_NODE") ? atoi(getenv("CXLKV_WARM_NODE")) : -1;
	bo->cold_dev = getenv("CXLKV_NVME2");
	bo->swap_dev = getenv("CXLKV_SWAP");
	bo->sequences = 1;
	d->compute_us = DEFAULT_COMPUTE_US;
	d->seed = 1;
	while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'P': d->preset = optarg; break;
		case 'L': case 'H': case 'D': case 'T': case 'p': case 's':
		case 'c': case 'S': case 'w': case 'n': case 'd': case 'm':
		case 'W':
			if (parse_u64(optarg, &v) || (c != 'S' && v > UINT32_MAX))
				return bench_usage("numeric option out of range");
			if (c == 'L') a->layers = (uint32_t)v;
			if (c == 'H') a->kv_heads = (uint32_t)v;
			if (c == 'D') d->head_dim = (uint32_t)v;
			if (c == 'T') d->dtype = (uint32_t)v;
			if (c == 'p') a->prompt = (uint32_t)v;
			if (c == 's') a->steps = (uint32_t)v;
			if (c == 'c') a->chunk = (uint32_t)v;
			if (c == 'S') d->seed = v;
			if (c == 'w') bo->window = v;
			if (c == 'n') bo->sequences = (uint32_t)v;
			if (c == 'd') bo->depth = (uint32_t)v;
			if (c == 'm') bo->pf_max_pages = (uint32_t)v;
			if (c == 'W') bo->warm_node = (int)v;
			break;
		case 'r':
			a->ratio = strtod(optarg, &end);
			if (*end || a->ratio <= 0 || a->ratio > 1000)
				return bench_usage("--ratio takes a positive number");
			break;
		case 'g':
			d->progress = strtod(optarg, &end);
			if (*end || d->progress < 0)
				return bench_usage("--progress takes seconds");
			break;
		case 'C':
			d->compute_us = strtod(optarg, &end);
			if (*end || d->compute_us < 0 || d->compute_us > 1e6)
				return bench_usage("--compute-us-per-layer: 0..1e6");
			break;
		case 'B':
			if (parse_size(optarg, &d->budget) || !d->budget)
				return bench_usage("--budget takes a size");
			break;
		case 'o': d->plot_prefix = optarg; break;
		case 'b': bo->name = optarg; break;
		case 'V': bo->cold_dev = optarg; break;
		case 'X': bo->swap_dev = optarg; break;
		case 'R': d->rows = optarg; break;
		case 'u': bo->uring = 1; break;
		case 1: bo->hints = 0; break;
		case 2: bo->prefetch = 0; break;
		case 3: bo->access = 0; break;
		case 4: d->spin = 1; break;
		case 5: bo->pipeline = 1; break;
		case 6: bo->layer_batch = 0; break;
		case 7:
			if (cxl_kv_cold_format_parse(optarg, &bo->cold_format))
				return bench_usage("--cold-format: raw, lossless, int8, fp8, int4 (-bf16)");
			break;
		case 8: bo->pipeline = bo->user_pipeline = 1; break;
		case 'k':
			if (a->nknobs >= 32)
				return bench_usage("too many -k");
			a->knobs[a->nknobs++] = optarg;
			break;
		case 'h': fputs(decode_usage, stdout); return 0;
		default: return bench_usage(NULL);
		}
	}
	if (optind != argc)
		return bench_usage("decode takes no positional arguments");
	if (!bo->sequences || bo->sequences > 64 || !bo->depth || bo->depth > 64)
		return bench_usage("--sequences 1..64, --depth 1..64");
	if (!strcmp(bo->name, "dram"))
		d->be.ops = &be_dram_ops;
	else if (!strcmp(bo->name, "swap") || !strcmp(bo->name, "swap+zswap"))
		d->be.ops = &be_swap_ops;
	else if (!strcmp(bo->name, "uoffload"))
		d->be.ops = &be_uoffload_ops;
	else if (!strcmp(bo->name, "cxl-kv"))
		d->be.ops = &be_cxlkv_ops;
	else
		return bench_usage("unknown --backend");
	return -1;
}

/*
 * The budget, the geometry, the trace configuration and every sequence's
 * trace and read buffers: -1 to go on, else the exit code.
 */
static int decode_setup(struct cxl_kv_ctx *ctx, struct decode *d,
			const struct decode_args *a)
{
	struct kvtrace_cfg *cfg = &d->cfg;
	struct be_opts *bo = &d->be.o;
	struct cxl_kv_features f;
	struct cxl_kv_info info;
	uint32_t prompt = a->prompt, preset_prompt;
	int rc, have_info;

	if (kvtrace_preset(d->preset, cfg))
		return bench_usage("unknown preset (kvtrace -l lists them)");
	{
		struct kvtrace_cfg tmp = *cfg;

		for (int k = 0; k < a->nknobs; k++)
			if (kvtrace_cfg_set(&tmp, a->knobs[k], 0))
				return bench_usage("bad -k KNOB=VALUE");
	}
	preset_prompt = cfg->prompt_tokens;
	if (a->layers)
		cfg->layers = a->layers;
	if (a->kv_heads)
		cfg->kv_heads = a->kv_heads;
	if (a->steps)
		cfg->decode_steps = a->steps;
	if (a->chunk)
		cfg->prefill_chunk = a->chunk;

	/* the module is needed by cxl-kv; the others take its budget if attached */
	have_info = !cxl_kv_get_features(ctx, &f) && !cxl_kv_get_info(ctx, &info);
	if (!have_info) {
		f.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
		info.attached = 0;
	}
	if (d->be.ops == &be_cxlkv_ops && (!have_info || !info.attached)) {
		fprintf(stderr, "cxl-kv-bench: %s\n", have_info ?
			"no tier set attached (cxl-kv attach)" : "no cxl_kv module");
		return 1;
	}
	if (!d->budget) {
		if (!have_info || !info.attached)
			return bench_usage("--budget is needed without an attached tier set");
		d->budget = info.budget_pages * f.page_size;
	}
	if (d->be.ops == &be_cxlkv_ops)
		d->budget = info.budget_pages * f.page_size;
	bo->budget_bytes = d->budget;
	d->be.ctx = ctx;
	d->be.page_size = f.page_size;
	{
		struct cxl_kv_geometry geo = { cfg->layers, cfg->kv_heads,
					       d->head_dim, d->dtype, 1 };

		rc = cxl_kv_layout_init(&d->be.lo, &geo, f.page_size);
		if (rc || f.page_size % d->be.lo.token_bytes)
			return bench_usage("geometry rejected (see the UAPI limits; "
					   "a token vector must divide the page)");
		cfg->tokens_per_block = d->be.lo.tokens_per_block;
		if (!prompt) {
			/* context so that all sequences' KV is ratio x the budget */
			double per_token = 2.0 * geo.layers * geo.kv_heads *
					   d->be.lo.token_bytes * bo->sequences;
			double tokens = a->ratio * (double)d->budget / per_token;

			if (tokens < cfg->decode_steps + 2 * d->be.lo.tokens_per_block)
				tokens = cfg->decode_steps + 2 * d->be.lo.tokens_per_block;
			prompt = (uint32_t)tokens - cfg->decode_steps;
		}
	}
	if (prompt < preset_prompt) {
		double frac = (double)prompt / preset_prompt;

		cfg->win_local = (uint32_t)(cfg->win_local * frac + 0.5);
		cfg->win_mixed = (uint32_t)(cfg->win_mixed * frac + 0.5);
		if (cfg->win_local < 1)
			cfg->win_local = 1;
		if (cfg->win_mixed < 1)
			cfg->win_mixed = 1;
	}
	for (int k = 0; k < a->nknobs; k++)
		kvtrace_cfg_set(cfg, a->knobs[k], 0);
	cfg->prompt_tokens = prompt;
	if (cfg->prefill_chunk > cfg->prompt_tokens)
		cfg->prefill_chunk = cfg->prompt_tokens;
	{
		struct cxl_kv_geometry geo = d->be.lo.geo;

		geo.max_tokens = (uint64_t)cfg->prompt_tokens + cfg->decode_steps;
		cxl_kv_layout_init(&d->be.lo, &geo, f.page_size);
	}
	if (!bo->window)
		bo->window = cfg->tokens_per_block;
	d->layers = cfg->layers;
	d->token_bytes = d->be.lo.token_bytes;
	d->tpb = d->be.lo.tokens_per_block;
	d->cap = cfg->kv_heads * 1024;
	d->nseq = bo->sequences;
	d->sq = calloc(d->nseq, sizeof(*d->sq));
	d->steps_cap = cfg->decode_steps + 1;
	d->step_s = calloc(d->steps_cap, sizeof(*d->step_s));
	d->dem_s = calloc(d->steps_cap, sizeof(*d->dem_s));
	d->idle_s = calloc(d->steps_cap, sizeof(*d->idle_s));
	if (!d->sq || !d->step_s || !d->dem_s || !d->idle_s)
		return 1;
	for (uint32_t s = 0; s < d->nseq; s++) {
		struct seq *q = &d->sq[s];
		struct kvtrace_genstats g2;

		cfg->seed = d->seed + s;
		rc = kvtrace_generate(cfg, &q->t, s ? &g2 : &d->gs);
		q->rd = calloc(d->layers, sizeof(*q->rd));
		q->prev = calloc(d->layers, sizeof(*q->prev));
		q->nrd = calloc(d->layers, sizeof(*q->nrd));
		q->nprev = calloc(d->layers, sizeof(*q->nprev));
		if (rc || !q->rd || !q->prev || !q->nrd || !q->nprev) {
			fprintf(stderr, "cxl-kv-bench: trace generator: %s\n",
				strerror(rc ? -rc : ENOMEM));
			return 1;
		}
		for (uint32_t l = 0; l < d->layers; l++) {
			q->rd[l] = calloc(d->cap, sizeof(struct be_read));
			q->prev[l] = calloc(d->cap, sizeof(struct be_read));
			if (!q->rd[l] || !q->prev[l])
				return 1;
		}
	}
	snprintf(d->label, sizeof(d->label), "%s%s%s%s", bo->name,
		 d->be.ops != &be_cxlkv_ops ? "" : bo->uring ? "-uring" : "-ioctl",
		 d->be.ops == &be_cxlkv_ops && !bo->layer_batch ? "-faults" : "",
		 !bo->pipeline ? "" : d->be.ops == &be_cxlkv_ops &&
		 bo->user_pipeline ? "+upipe" : "+pipe");
	return -1;
}

/* Open the backend and every sequence and the CSV, print the header: 0 or -errno. */
static int decode_open(struct decode *d)
{
	const struct kvtrace_cfg *cfg = &d->cfg;
	struct be_opts *bo = &d->be.o;
	int rc;

	rc = d->be.ops->open(&d->be);
	for (uint32_t s = 0; !rc && s < d->nseq; s++)
		rc = d->be.ops->seq_open(&d->be, s);
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: backend %s: %s\n", d->label, strerror(-rc));
		return rc;
	}
	d->csv = bench_csv_open(d->plot_prefix, "step");
	printf("KTAP version 1\n1..1\n");
	printf("# decode: backend %s, %u sequence(s), geometry %ux%ux%u dtype %u, "
	       "%u prompt + %u decode tokens, %u tokens/block, KV %llu MiB, warm "
	       "budget %llu MiB (x%.1f), compute %.0f us/layer (%s), trace %s seed "
	       "%llu win_local %u win_mixed %u: %llu reads, %.1f blocks/head/step, "
	       "transport %s%s\n", d->label, d->nseq, cfg->layers, cfg->kv_heads,
	       d->head_dim, d->dtype, cfg->prompt_tokens, cfg->decode_steps, d->tpb,
	       (unsigned long long)((d->be.lo.mmap_bytes * d->nseq) >> 20),
	       (unsigned long long)(d->budget >> 20),
	       (double)d->be.lo.mmap_bytes * d->nseq / (double)d->budget,
	       d->compute_us, d->spin ? "spin" : "sleep", d->preset,
	       (unsigned long long)d->seed, cfg->win_local, cfg->win_mixed,
	       (unsigned long long)d->gs.reads, d->gs.reads_per_head_step,
	       bo->uring ? "io_uring" : "ioctl",
	       bo->pipeline ? " + layer pipeline" : "");
	fflush(stdout);
	return 0;
}

/* The summary, the e2e row (and --rows), the KTAP result, the plot. */
static void decode_report(struct decode *d)
{
	double tdec = d->decoding ? bench_now() - d->tdec0 : 0, hit, pfacc = -1;
	uint64_t pr = d->pages_read - d->dec_pages0, ms = d->misses - d->dec_misses0;
	double p50, p99, p99dem = -1, p99idle = -1, ks1;
	struct cxl_kv_stats st, stsum;
	struct be_counters c1;
	struct rusage ru1;
	char row[768];

	getrusage(RUSAGE_SELF, &ru1);
	ks1 = bench_kernel_cpu_s();
	d->be.ops->counters(&d->be, &c1);
	/* the step times in order, and where the decode steps' time went */
	printf("# step_ms:");
	for (uint32_t i = 0; i < d->nsteps; i++)
		printf(" %.1f", d->step_s[i] * 1e3);
	printf("\n# step_time_s: write %.3f layer_begin %.3f read %.3f compute %.3f step_end %.3f\n",
	       d->t_write, d->t_begin, d->t_read, d->t_compute, d->t_end);
	p50 = bench_pct(d->step_s, d->nsteps, 0.5) * 1e3;
	p99 = bench_pct(d->step_s, d->nsteps, 0.99) * 1e3;
	if (d->ndem)
		p99dem = bench_pct(d->dem_s, d->ndem, 0.99) * 1e3;
	if (d->nidle)
		p99idle = bench_pct(d->idle_s, d->nidle, 0.99) * 1e3;
	hit = pr ? 1.0 - (double)ms / (double)pr : 1.0;
	if (hit < 0)
		hit = 0;
	memset(&stsum, 0, sizeof(stsum));
	for (uint32_t s = 0; d->be.ops->space_stats && s < d->nseq; s++)
		if (!d->be.ops->space_stats(&d->be, s, &st)) {
			stsum.promotions += st.promotions;
			stsum.demotions += st.demotions;
			stsum.prefetch_issued += st.prefetch_issued;
			stsum.prefetch_used += st.prefetch_used;
			stsum.faults_cold += st.faults_cold;
			if (!s)
				stsum = st;
		}
	if (c1.has_pf && c1.pf_pages > d->c0.pf_pages)
		pfacc = (double)(c1.pf_used - d->c0.pf_used) /
			(double)(c1.pf_pages - d->c0.pf_pages);
	printf("# ---- decode summary (%s) ----\n", d->label);
	printf("# %-22s %16.3f\n", "seconds", bench_now() - d->t0);
	printf("# %-22s %16.3f\n", "decode_seconds", tdec);
	printf("# %-22s %16u\n", "steps", d->nsteps);
	printf("# %-22s %16.3f\n", "step_p50_ms", p50);
	printf("# %-22s %16.3f\n", "step_p99_ms", p99);
	if (d->be.ops == &be_cxlkv_ops)
		printf("# %-22s %16.3f (%u steps)\n# %-22s %16.3f (%u steps)\n",
		       "step_p99_demoting_ms", p99dem, d->ndem,
		       "step_p99_quiet_ms", p99idle, d->nidle);
	printf("# %-22s %16.1f\n", "tokens_per_s",
	       tdec > 0 ? d->nsteps * d->nseq / tdec : 0);
	printf("# %-22s %16llu\n", "pages_read", (unsigned long long)pr);
	printf("# %-22s %16llu\n", "cold_faults_on_read", (unsigned long long)ms);
	printf("# %-22s %16.3f\n", "hit_rate", hit);
	printf("# %-22s %16.3f\n", "prefetch_accuracy", pfacc);
	printf("# %-22s %16llu\n", "cold_read_bytes",
	       (unsigned long long)(c1.cold_read_bytes - d->c0.cold_read_bytes));
	printf("# %-22s %16llu\n", "cold_write_bytes",
	       (unsigned long long)(c1.cold_write_bytes - d->c0.cold_write_bytes));
	printf("# %-22s %16llu\n", "promotions", (unsigned long long)stsum.promotions);
	printf("# %-22s %16llu\n", "demotions", (unsigned long long)stsum.demotions);
	printf("# %-22s %16llu\n", "verified_bytes", (unsigned long long)d->verified_bytes);
	printf("# %-22s %16llu\n", "mismatches", (unsigned long long)d->mismatches);
	if (d->be.ops->space_stats && d->nseq == 1 &&
	    !d->be.ops->space_stats(&d->be, 0, &st)) {
		char *buf = NULL;
		size_t len = 0;
		FILE *mf = open_memstream(&buf, &len);

		printf("# space counters:\n");
		if (mf) {
			stats_table(mf, &st);
			fclose(mf);
			for (char *ln = strtok(buf, "\n"); ln; ln = strtok(NULL, "\n"))
				printf("#   %s\n", ln);
			free(buf);
		}
	}
	snprintf(row, sizeof(row),
		 "e2e-row: backend=%s ratio=%.1f compute_us=%.0f seqs=%u "
		 "steps=%u p50_ms=%.3f p99_ms=%.3f tok_s=%.1f cold_rd_mib=%.1f "
		 "cold_wr_mib=%.1f hit=%.3f pf_acc=%.3f user_s=%.2f sys_s=%.2f "
		 "ksys_s=%.2f mismatches=%llu ok=%d p99_dem_ms=%.3f "
		 "p99_quiet_ms=%.3f",
		 d->label, (double)d->be.lo.mmap_bytes * d->nseq / (double)d->budget,
		 d->compute_us, d->nseq, d->nsteps, p50, p99,
		 tdec > 0 ? d->nsteps * d->nseq / tdec : 0,
		 (double)(c1.cold_read_bytes - d->c0.cold_read_bytes) / 1048576.0,
		 (double)(c1.cold_write_bytes - d->c0.cold_write_bytes) / 1048576.0,
		 hit, pfacc, bench_tv_s(ru1.ru_utime) - bench_tv_s(d->ru0.ru_utime),
		 bench_tv_s(ru1.ru_stime) - bench_tv_s(d->ru0.ru_stime),
		 ks1 - d->ks0,
		 (unsigned long long)d->mismatches,
		 !d->failed && !d->mismatches, p99dem, p99idle);
	printf("%s\n", row);
	if (d->rows) {
		FILE *rf = fopen(d->rows, "a");

		if (rf) {
			fprintf(rf, "%s\n", row);
			fclose(rf);
		}
	}
	printf("%sok 1 decode\n", d->failed || d->mismatches ? "not " : "");
	printf("run-summary: hit_rate=%.3f promotions=%llu demotions=%llu "
	       "verified_bytes=%llu prefetch_accuracy=%.3f\n", hit,
	       (unsigned long long)stsum.promotions,
	       (unsigned long long)stsum.demotions,
	       (unsigned long long)d->verified_bytes,
	       stsum.prefetch_issued ?
	       (double)stsum.prefetch_used / stsum.prefetch_issued : -1.0);
	fflush(stdout);
	bench_csv_close(d->csv, d->plot_prefix, "step",
			"cxl-kv-bench decode: hit rate, warm and cold pages");
}

/* Close the backend, free the traces and buffers: the exit code. */
static int decode_free(struct decode *d)
{
	d->be.ops->close(&d->be);
	for (uint32_t s = 0; s < d->nseq; s++) {
		struct seq *q = &d->sq[s];

		for (uint32_t l = 0; q->rd && l < d->layers; l++) {
			free(q->rd[l]);
			free(q->prev[l]);
		}
		free(q->rd);
		free(q->prev);
		free(q->nrd);
		free(q->nprev);
		kvtrace_free(&q->t);
	}
	free(d->sq);
	free(d->step_s);
	free(d->dem_s);
	free(d->idle_s);
	return d->failed || d->mismatches ? 1 : 0;
}

int bench_decode(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	struct decode_args a;
	struct decode d;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&d, 0, sizeof(d));
	memset(&d.gst0, 0xff, sizeof(d.gst0));
	rc = decode_options(&d, &a, argc, argv);
	if (rc >= 0)
		return rc;
	rc = decode_setup(ctx, &d, &a);
	if (rc >= 0)
		return rc;
	if (decode_open(&d)) {
		d.failed = 1;
	} else {
		d.t0 = d.last_progress = bench_now();
		while (decode_step(&d))
			;
		decode_report(&d);
	}
	return decode_free(&d);
}
