/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvtrace_model.h - the attention model of kvtrace's generator, shared by
 * its model (kvtrace_gen.c: knobs, presets, heads, the reads of one head at
 * one step) and its workloads (kvtrace_workload.c: one sequence, serving).
 * Private to the generator; the interface is kvtrace_gen.h.
 */
#ifndef KVTRACE_MODEL_H
#define KVTRACE_MODEL_H

#include <math.h>

#include "kvtrace_gen.h"

enum { H_LOCAL, H_MIXED, H_RETR };

struct gq {
	int type;
	double sink;		/* mass on block 0 */
	float *w;		/* base importance per block */
	float *g;		/* AR(1) noise state per block */
	uint32_t *flip;		/* step of the next on/off flip */
	uint8_t *on;		/* active? */
	uint8_t *was_off;	/* has been quiet at least once */
	uint32_t *needle;	/* retrieval: needle start blocks */
	uint32_t *nspan;	/* retrieval: needle span lengths */
	uint32_t *old;		/* retrieval: earlier needle spots (ring) */
	uint32_t nold;
	uint32_t prev_top[8], nprev;
};

struct rng {
	uint64_t s;
};

static inline uint64_t rnext(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

static inline double runif(struct rng *r)
{
	return ((rnext(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static inline uint32_t rbelow(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)((rnext(r) >> 32) * n >> 32) : 0;
}

/* approximately N(0,1): Irwin-Hall with 4 terms, scaled */
static inline double rnorm(struct rng *r)
{
	return (runif(r) + runif(r) + runif(r) + runif(r) - 2.0) * 1.7320508;
}

static inline uint32_t rgeom(struct rng *r, double mean)
{
	double u = runif(r);

	if (mean <= 1.0)
		return 1;
	return 1 + (uint32_t)(-log(u) * mean);
}

/* a generator's heads and its per-step scratch (bph + 1 entries each) */
struct gen_bufs {
	struct gq *qs;
	uint32_t *idx, *rd_b;
	float *eff;
	double *rd_m;
};

int emit(struct kvtrace *t, uint32_t w);
uint32_t mass_q16(double m);
void new_block(const struct kvtrace_cfg *c, struct gq *q, uint32_t b,
	       uint32_t step, struct rng *r);
void place_needle(const struct kvtrace_cfg *c, struct gq *q,
		  uint32_t i, uint32_t nb, struct rng *r);
int head_reads(const struct kvtrace_cfg *c, struct gq *q, uint32_t qi,
	       uint32_t nb, uint32_t step, struct rng *rr,
	       struct kvtrace *t, struct kvtrace_genstats *gs,
	       uint32_t *idx, float *eff, uint32_t *rd_b, double *rd_m);
void trace_begin(const struct kvtrace_cfg *c, struct kvtrace *t,
		 struct kvtrace_genstats *gs, uint32_t layers, uint32_t bph,
		 uint32_t decode_steps);
int heads_init(const struct kvtrace_cfg *c, struct gen_bufs *gb, uint32_t nq,
	       uint32_t bph, struct rng *r, struct kvtrace *t,
	       struct kvtrace_genstats *gs);
void gen_finish(struct kvtrace *t, struct kvtrace_genstats *gs, uint32_t nq);
void gen_bufs_free(struct gen_bufs *gb, uint32_t nq);

#endif
