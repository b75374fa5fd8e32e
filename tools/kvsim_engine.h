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
};

/* cxl-kv parameters to use instead of kvp_params_default() (NULL: defaults) */
extern const struct kvp_params *kvsim_ours_params;

int kvsim_events_from_trace(const struct kvtrace *t, struct kvsim_events *ev);
int kvsim_events_from_mooncake(const char *path, struct kvsim_events *ev,
			       uint32_t max_requests);
void kvsim_events_free(struct kvsim_events *ev);
int kvsim_policy_by_name(const char *name);
const char *kvsim_policy_name(int policy);
int kvsim_run(const struct kvsim_events *ev, int policy, uint64_t capacity,
	      struct kvsim_result *res);

#endif
