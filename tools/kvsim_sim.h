/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvsim_sim.h - kvsim's replay state (struct sim), shared by the engine
 * (kvsim_engine.c: the run loop, victims and insertions per policy), the
 * baseline policies' own structures (kvsim_baselines.c: lazy heaps, ARC,
 * S3-FIFO, h2o, Belady) and the event lists (kvsim_events.c).  Private to
 * kvsim; the interface is kvsim_engine.h.
 */
#ifndef KVSIM_SIM_H
#define KVSIM_SIM_H

#include "kvsim_engine.h"

#define NONE UINT32_MAX

enum { T_ABSENT, T_WARM, T_COLD };
#define F_COLDCOPY 1
#define F_PF 2

/* ---- heaps (lazy: stale entries are skipped when popped) --------------- */

struct hent {
	double key;
	uint32_t idx;
};

struct heap {
	struct hent *a;
	uint64_t n, cap;
	int max;	/* 1: max-heap, 0: min-heap */
};

/* intrusive lists over block indexes (one list per block at most) */
enum { L_LRU, L_T1, L_T2, L_B1, L_B2, L_S, L_M, L_G, NLIST };
#define L_NONE 0xff

struct sim {
	const struct kvsim_events *ev;
	struct kvsim_result *res;
	int pol;
	uint64_t cap, cap_hi, cap_lo, warm, nent;
	uint32_t bph, now, recent_blocks;
	uint8_t *tier, *fl;
	uint32_t *len;		/* written blocks per queue */
	/* lists (lru, arc, s3fifo) */
	uint32_t *prev, *nxt;
	uint8_t *lid;
	uint64_t cnt[NLIST];
	/* arc */
	uint64_t arc_p;
	int arc_to_t2, arc_in_b2;
	/* s3fifo */
	uint8_t *freq;
	int s3_to_main;
	/* random */
	uint32_t *arr, *pos;
	uint64_t narr, rng;
	/* h2o */
	double *acc;
	/* belady */
	uint32_t *cur_next;
	struct heap heap;
	/* kvp */
	struct kvp_state *st;
	/* modelled clock, ns; arrival time of prefetched blocks */
	double clk, rd_ns, wr_ns;
	double *ready;
};

static inline uint32_t sim_queue(const struct sim *s, uint32_t idx)
{
	return idx / s->bph;
}

static inline int uses_lists(int pol)
{
	return pol == KVSIM_LRU || pol == KVSIM_ARC || pol == KVSIM_S3FIFO;
}

static inline int is_belady(int pol)
{
	return pol == KVSIM_BELADY || pol == KVSIM_BELADY_PF;
}

static inline int is_kvp(int pol)
{
	return pol == KVSIM_SEED || pol == KVSIM_OURS || pol == KVSIM_OURS_NOPF;
}

static inline void l_del(struct sim *s, uint32_t i)
{
	if (s->lid[i] == L_NONE)
		return;
	s->nxt[s->prev[i]] = s->nxt[i];
	s->prev[s->nxt[i]] = s->prev[i];
	s->cnt[s->lid[i]]--;
	s->lid[i] = L_NONE;
}

static inline void l_front(struct sim *s, int k, uint32_t i)
{
	uint32_t h = (uint32_t)s->nent + (uint32_t)k;

	l_del(s, i);
	s->nxt[i] = s->nxt[h];
	s->prev[i] = h;
	s->prev[s->nxt[h]] = i;
	s->nxt[h] = i;
	s->lid[i] = (uint8_t)k;
	s->cnt[k]++;
}

static inline uint32_t l_tail(const struct sim *s, int k)
{
	uint32_t h = (uint32_t)s->nent + (uint32_t)k;

	return s->prev[h] == h ? NONE : s->prev[h];
}

static inline int h2o_protected(const struct sim *s, uint32_t idx)
{
	uint32_t q = sim_queue(s, idx), b = idx - q * s->bph;

	return b + s->recent_blocks >= s->len[q];
}


int heap_push(struct heap *h, double key, uint32_t idx);
struct hent heap_pop(struct heap *h);
int heap_rebuild(struct sim *s);
void arc_miss(struct sim *s, uint32_t x);
void arc_trim(struct sim *s);
uint32_t s3_victim(struct sim *s);
int belady_later(struct sim *s, uint32_t nx);
int belady_bypass(struct sim *s, uint64_t ev_i);

#endif
