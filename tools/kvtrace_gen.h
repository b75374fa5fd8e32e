/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvtrace_gen.h - cxl-kv attention trace: format, reader/writer, generator.
 *
 * File: struct kvtrace_hdr, then nwords little-endian u32 words:
 *   STEP  (1 << 28 | step)                   start of step 'step'
 *   WRITE (2 << 28 | ntokens)                every (layer, head) appends
 *                                            ntokens tokens (prefill chunk
 *                                            or one decode token)
 *   READ  (3 << 28 | layer << 18 | head << 10 | n), then n words
 *         (block << 16 | mass_q16)           blocks of (layer, head) read in
 *                                            this step, with their attention
 *                                            mass (Q16, saturated at 65535)
 *   SWRITE (5 << 28 | seq << 16 | ntokens)   sequence 'seq' appends ntokens
 *                                            tokens to its own queues: the
 *                                            layers [seq * L, (seq + 1) * L)
 *                                            with L = layers / seqs (serving
 *                                            traces, hdr.reserved[0] = seqs)
 *   KIND  (4 << 28 | layer << 18 | head << 10 | kind)
 *                                            generator ground truth: the kind
 *                                            of (layer, head), 0 local,
 *                                            1 mixed, 2 retrieval (optional,
 *                                            before the first STEP)
 * See Documentation/policy.rst.
 */
#ifndef KVTRACE_GEN_H
#define KVTRACE_GEN_H

#include <stdint.h>
#include <stddef.h>

#define KVTRACE_MAGIC	"KVTRACE1"
#define KVTRACE_OP_STEP	 1u
#define KVTRACE_OP_WRITE 2u
#define KVTRACE_OP_READ	 3u
#define KVTRACE_OP_KIND	 4u
#define KVTRACE_OP_SWRITE 5u
#define KVTRACE_NKINDS	 3
#define KVTRACE_OP(w)	((w) >> 28)

struct kvtrace_hdr {
	char magic[8];
	uint32_t version;		/* 1 */
	uint32_t layers;
	uint32_t kv_heads;
	uint32_t blocks_per_head;
	uint32_t tokens_per_block;
	uint32_t prompt_tokens;
	uint32_t decode_steps;
	uint32_t prefill_chunk;
	uint64_t seed;
	uint64_t nwords;
	uint32_t reserved[4];
};

struct kvtrace {
	struct kvtrace_hdr h;
	uint32_t *w;
	uint64_t n, cap;
};

/* Generator knobs (defaults: kvtrace_cfg_default(); sources in policy.rst). */
struct kvtrace_cfg {
	uint32_t layers, kv_heads, tokens_per_block;
	uint32_t prompt_tokens, decode_steps, prefill_chunk;
	uint64_t seed;
	double frac_local;	/* streaming/local heads: sink + recent window */
	double frac_retr;	/* retrieval heads: sparse needles far back */
	double budget;		/* mixed heads: fraction of old blocks read/step */
	uint32_t win_local;	/* recent window of local heads, blocks */
	uint32_t win_mixed;	/* recent window of mixed heads, blocks */
	double sink_local, sink_mixed, sink_retr;	/* mass on block 0 */
	double pareto;		/* tail index of per-block importance */
	double sigma, rho;	/* log-normal step noise and its AR(1) factor */
	double on_steps;	/* mean active spell of a block, steps */
	double off_steps;	/* mean quiet spell, steps */
	double quiet;		/* importance factor while quiet */
	uint32_t needles;	/* needle spans per retrieval head */
	uint32_t needle_span;	/* max blocks per needle span */
	double needle_move;	/* per step probability a needle moves */
	double needle_return;	/* a moving needle returns to an old spot */
	/* serving (seqs >= 2): concurrent multi-turn sessions sharing a tier */
	uint32_t seqs;		/* concurrent sequences, each 'layers' layers */
	uint32_t turns;		/* turns per session */
	uint32_t turn_tokens;	/* new prompt tokens of each later turn */
	uint32_t turn_decode;	/* decode steps of each turn */
	double think;		/* mean idle steps between turns */
};

struct kvtrace_genstats {
	uint64_t reads, steps;
	double reads_per_head_step;
	double hh_persistence;	/* top-8 overlap step to step (mixed heads) */
	double sink_mass;	/* mean mass on block 0, all heads */
	double local_mass_local;/* mass in sink+window, local heads */
	uint64_t regains;	/* blocks that became active again after quiet */
	uint32_t n_local, n_mixed, n_retr;
	/* accumulators of the statistics above */
	double pers_sum, sink_sum, loc_sum;
	uint64_t pers_n, sink_n, loc_n;
};

void kvtrace_cfg_default(struct kvtrace_cfg *c);
int kvtrace_preset(const char *name, struct kvtrace_cfg *c);
int kvtrace_cfg_set(struct kvtrace_cfg *c, const char *kv, int geometry);
const char *kvtrace_preset_names(void);
int kvtrace_generate(const struct kvtrace_cfg *c, struct kvtrace *t,
		     struct kvtrace_genstats *gs);
int kvtrace_save(const struct kvtrace *t, const char *path);
int kvtrace_load(const char *path, struct kvtrace *t);
int kvtrace_dump_text(const struct kvtrace *t, void *file);
void kvtrace_free(struct kvtrace *t);

#endif
