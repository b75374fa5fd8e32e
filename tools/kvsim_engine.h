/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvsim_engine.h - replay engine of kvsim: a warm tier of fixed capacity in
 * front of a cold tier, driven by an event list, under one policy.
 */
#ifndef KVSIM_ENGINE_H
#define KVSIM_ENGINE_H

#include <stdint.h>
#include "kvpolicy.h"
#include "kvtrace_gen.h"

enum kvsim_policy {
	KVSIM_LRU,
	KVSIM_SEED,	/* EMA x recency as the seed writes it: raw mass, fixed
			 * W prefetch, no protection, no adaptivity, no phase */
	KVSIM_H2O,	/* accumulated attention, recent window kept */
	KVSIM_OURS,	/* cxl-kv: kvp defaults, everything on */
	KVSIM_OURS_NOPF,/* cxl-kv without prefetch (demand only) */
	KVSIM_BELADY,	/* offline MIN with bypass on the same events */
	KVSIM_ARC,	/* ARC: T1/T2 + ghosts B1/B2, adaptive target p */
	KVSIM_S3FIFO,	/* S3-FIFO: small FIFO, main CLOCK, ghost FIFO */
	KVSIM_RANDOM,	/* a uniformly random warm block leaves */
	KVSIM_BELADY_PF,/* offline MIN that also prefetches one step ahead */
	KVSIM_NPOL,
};

enum { KVSIM_EV_STEP = 1, KVSIM_EV_WRITE = 2, KVSIM_EV_READ = 3 };

/* A replayable event list (from a kvtrace or from the Mooncake trace). */
struct kvsim_events {
	struct kvp_geom g;
	uint64_t n;
	uint8_t *op;
	uint32_t *arg;		/* step, or global block index */
	uint16_t *mass;		/* READ: attention mass, Q16 */
	uint32_t *next;		/* READ/WRITE: event index of the next READ of
				 * the same block, UINT32_MAX if none */
	uint64_t footprint;	/* distinct blocks written */
	uint64_t tokens;	/* tokens per head at the end */
	uint32_t block_bytes;	/* bytes moved per block (K + V pages) */
	int mooncake;		/* no per-head sequences (no recent window) */
	uint8_t *kinds;		/* per queue: KVTRACE kind, or NULL */
};

struct kvsim_result {
	int policy;
	uint64_t capacity;	/* warm blocks */
	uint64_t reads, hits, writes;
	uint64_t cold_read_blocks;	/* demand misses + prefetches */
	uint64_t cold_write_blocks;
	uint64_t pf_issued, pf_used;
	uint64_t victims, overflows, bad_victims;
	uint64_t meta_bytes;	/* policy metadata for this geometry */
	double meta_per_token;	/* meta_bytes / (tokens * layers * kv_heads) */
	double seconds;		/* replay wall time */
	double decisions_per_s;	/* (reads + writes + victims) / seconds */
	uint32_t w_hist[KVP_PF_WINDOW_MAX + 1]; /* final W over heads (ours) */
	/* per head kind (generated traces; cxl-kv): heads, sum of final W,
	 * prefetched blocks, of which read before eviction */
	uint64_t kind_heads[KVTRACE_NKINDS], kind_w[KVTRACE_NKINDS];
	uint64_t kind_pf[KVTRACE_NKINDS], kind_pf_used[KVTRACE_NKINDS];
	uint64_t phase_switches;	/* kvp policies */
	int final_phase;
	uint64_t late_pf;	/* prefetched blocks read before they arrived
				 * (counted as misses) */
	double time_s;		/* modelled replay time on kvsim_dev */
};

/*
 * Device model for the modelled replay time (one queue: every transfer
 * serialises; only a prefetch's latency overlaps with what follows).
 *   hit             warm_ns
 *   demand miss     cold_lat_ns + block / cold_rd_bps
 *   prefetch        block / cold_rd_bps now; the block arrives cold_lat_ns
 *                   later; a read before that waits (and is a miss)
 *   cold write      block / cold_wr_bps
 * Defaults: the rig's measurements (Documentation/admin-guide.rst).
 */
struct kvsim_dev {
	double warm_ns;
	double cold_lat_ns;
	double cold_rd_bps;
	double cold_wr_bps;
};
extern struct kvsim_dev kvsim_dev;

/*
 * Watermarks: when warm reaches high x capacity, evict down to low x
 * capacity (fractions; both 1.0 by default: evict one block at a time).
 */
extern double kvsim_wm_low, kvsim_wm_high;
/* seed of the random policy */
extern uint64_t kvsim_random_seed;

/* cxl-kv parameters to use instead of kvp_params_default() (NULL: defaults) */
extern const struct kvp_params *kvsim_ours_params;

int kvsim_events_from_trace(const struct kvtrace *t, struct kvsim_events *ev);
int kvsim_events_from_mooncake(const char *path, struct kvsim_events *ev,
			       uint32_t max_requests);
void kvsim_events_free(struct kvsim_events *ev);
/* (re)compute ev->next of a hand-built event list (malloc'ed arrays) */
int kvsim_events_link(struct kvsim_events *ev);
int kvsim_policy_by_name(const char *name);
const char *kvsim_policy_name(int policy);
int kvsim_run(const struct kvsim_events *ev, int policy, uint64_t capacity,
	      struct kvsim_result *res);

#endif
