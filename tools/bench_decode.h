/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_decode.h - cxl-kv-bench decode's state, shared by its setup and
 * summary (bench_decode.c) and its steps (bench_decode_run.c).
 */
#ifndef CXL_KV_BENCH_DECODE_H
#define CXL_KV_BENCH_DECODE_H

#include <stdio.h>
#include <sys/resource.h>

#include <libcxl_kv.h>

#include "bench_be.h"
#include "kvtrace_gen.h"

struct seq {
	struct kvtrace t;
	uint64_t cur;			/* next trace word */
	uint64_t written;		/* tokens in every stream */
	struct be_read **rd, **prev;	/* per layer: this step's, last step's */
	uint32_t *nrd, *nprev;
};


struct decode {
	struct bench_be be;
	struct seq *sq;
	uint32_t nseq, layers, cap;
	uint64_t seed, step;
	uint32_t token_bytes, tpb;
	double compute_us;
	int spin;
	uint64_t verified_bytes, mismatches, pages_read, misses;
	double *step_s;
	uint32_t nsteps, steps_cap;
	/* cxl-kv: the step times with / without demotions during the step */
	double *dem_s, *idle_s;
	uint32_t ndem, nidle;
	/* decode steps' time in: writes, layer_begin, reads, compute, step_end */
	double t_write, t_begin, t_read, t_compute, t_end;
	/* the run as set up (decode_setup) */
	struct kvtrace_cfg cfg;
	struct kvtrace_genstats gs;	/* of sequence 0's trace */
	const char *preset, *plot_prefix, *rows;
	uint32_t head_dim, dtype;
	uint64_t budget;		/* warm budget, bytes */
	char label[64];			/* backend and transport */
	double progress;		/* seconds between progress lines */
	FILE *csv;			/* --plot: per step */
	/* the run so far */
	int failed, decoding;
	double t0, last_progress;
	/* at the start of the decode phase */
	struct be_counters c0;
	struct rusage ru0;
	double ks0, tdec0;
	uint64_t dec_pages0, dec_misses0;
	struct cxl_kv_stats gst0;	/* cxl-kv: global, at the step's start */
};

int decode_step(struct decode *d);

#endif
