// SPDX-License-Identifier: GPL-2.0
/*
 * kvsim_engine.c - replay an event list against a warm tier of 'capacity'
 * blocks under one policy; the cold tier is unbounded.
 *
 * Accounting (the same for every policy):
 *   READ of a WARM block          hit
 *   READ of a non-WARM block      miss: one cold block read, then the block is
 *                                 made WARM (belady may bypass: serve it from
 *                                 cold without caching)
 *   WRITE (a new block)           made WARM (belady may write around)
 *   eviction of a block without   one cold block written
 *   a valid cold copy
 *   prefetch                      one cold block read per promoted block
 * Before anything is made WARM, victims are evicted until warm < capacity
 * (or, with watermarks, from high x capacity down to low x capacity).
 * The kvp-based policies (seed, cxl-kv) run the real policy core; the
 * simulator keeps its own tier array and checks every victim against it.
 * Every event also advances a modelled clock on struct kvsim_dev (see
 * kvsim_engine.h): the modelled replay time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvsim_sim.h"

/* blocks one fault may prefetch: the module's KV_FAULT_RA (driver/fault.c) */
#define KVSIM_FAULT_RA 8

static const char *const pol_names[KVSIM_NPOL] = {
	"lru", "seed", "h2o", "cxl-kv", "cxl-kv-nopf", "belady", "arc",
	"s3fifo", "random", "belady-pf",
};

const char *kvsim_policy_name(int policy)
{
	return policy >= 0 && policy < KVSIM_NPOL ? pol_names[policy] : "?";
}

int kvsim_policy_by_name(const char *name)
{
	for (int i = 0; i < KVSIM_NPOL; i++)
		if (!strcmp(name, pol_names[i]))
			return i;
	return -EINVAL;
}

/* ---- the simulator ----------------------------------------------------- */

const struct kvp_params *kvsim_ours_params;
/* rig figures, admin-guide.rst: fault on a resident page 5.7 us, promotion
 * p50 341 us, raw O_DIRECT write 1656 MiB/s (reads assumed alike) */
struct kvsim_dev kvsim_dev = {
	.warm_ns = 5678.0,
	.cold_lat_ns = 341300.0,
	.cold_rd_bps = 1656.0 * 1048576.0,
	.cold_wr_bps = 1656.0 * 1048576.0,
};
double kvsim_wm_low = 1.0, kvsim_wm_high = 1.0;
uint64_t kvsim_random_seed = 1;

/* choose one victim; NONE if the policy has none */
static uint32_t sim_victim(struct sim *s)
{
	switch (s->pol) {
	case KVSIM_LRU:
		return l_tail(s, L_LRU);
	case KVSIM_ARC:
		if (s->cnt[L_T1] && (s->cnt[L_T1] > s->arc_p ||
				     (s->arc_in_b2 && s->cnt[L_T1] == s->arc_p) ||
				     !s->cnt[L_T2]))
			return l_tail(s, L_T1);
		return l_tail(s, L_T2);
	case KVSIM_S3FIFO:
		return s3_victim(s);
	case KVSIM_RANDOM:
		if (!s->narr)
			return NONE;
		s->rng ^= s->rng >> 12;
		s->rng ^= s->rng << 25;
		s->rng ^= s->rng >> 27;
		return s->arr[((s->rng * 2685821657736338717ull) >> 32) *
			      s->narr >> 32];
	case KVSIM_H2O:
		/* only blocks outside the recent window are in the heap */
		while (s->heap.n) {
			struct hent e = heap_pop(&s->heap);

			if (s->tier[e.idx] == T_WARM && e.key == s->acc[e.idx] &&
			    !h2o_protected(s, e.idx))
				return e.idx;
		}
		return NONE;
	case KVSIM_BELADY:
	case KVSIM_BELADY_PF:
		while (s->heap.n) {
			struct hent e = heap_pop(&s->heap);

			if (s->tier[e.idx] == T_WARM &&
			    e.key == (double)s->cur_next[e.idx])
				return e.idx;
		}
		return NONE;
	default: {
		kvp_u32 out;

		if (kvp_pick_victims(s->st, 1, &out, s->now) != 1)
			return NONE;
		return out;
	}
	}
}

static void sim_evict(struct sim *s, uint32_t v)
{
	if (s->tier[v] != T_WARM) {
		s->res->bad_victims++;
		return;
	}
	s->tier[v] = T_COLD;
	s->warm--;
	s->res->victims++;
	if (!(s->fl[v] & F_COLDCOPY)) {
		s->fl[v] |= F_COLDCOPY;
		s->res->cold_write_blocks++;
		s->clk += s->wr_ns;
	}
	s->fl[v] &= ~F_PF;
	switch (s->pol) {
	case KVSIM_LRU:
		l_del(s, v);
		break;
	case KVSIM_ARC:
		l_front(s, s->lid[v] == L_T1 ? L_B1 : L_B2, v);
		arc_trim(s);
		break;
	case KVSIM_S3FIFO:
		if (s->lid[v] == L_S) {
			l_front(s, L_G, v);
			while (s->cnt[L_G] > s->cap - s->cap / 10 &&
			       s->cnt[L_G])
				l_del(s, l_tail(s, L_G));
		} else {
			l_del(s, v);
		}
		break;
	case KVSIM_RANDOM: {
		uint32_t last = s->arr[--s->narr];

		s->arr[s->pos[v]] = last;
		s->pos[last] = s->pos[v];
		break;
	}
	default:
		if (is_kvp(s->pol))
			kvp_set_cold(s->st, v);
		break;
	}
}

static void sim_make_room(struct sim *s)
{
	if (s->warm < s->cap_hi)
		return;
	while (s->warm >= s->cap_lo) {
		uint32_t v = sim_victim(s);

		if (v == NONE) {
			s->res->overflows++;
			return;
		}
		sim_evict(s, v);
	}
}

/* a miss on idx, before room is made (ARC and S3-FIFO look at ghosts) */
static void sim_miss(struct sim *s, uint32_t idx)
{
	if (s->pol == KVSIM_ARC) {
		arc_miss(s, idx);
	} else if (s->pol == KVSIM_S3FIFO) {
		s->s3_to_main = s->lid[idx] == L_G;
		l_del(s, idx);
	}
}

/* make idx WARM (after room was made); ev_i is the current event */
static int sim_insert(struct sim *s, uint32_t idx, uint64_t ev_i, int how)
{
	s->tier[idx] = T_WARM;
	s->warm++;
	switch (s->pol) {
	case KVSIM_LRU:
		l_front(s, L_LRU, idx);
		break;
	case KVSIM_ARC:
		l_front(s, s->arc_to_t2 ? L_T2 : L_T1, idx);
		arc_trim(s);
		break;
	case KVSIM_S3FIFO:
		s->freq[idx] = 0;
		l_front(s, s->s3_to_main ? L_M : L_S, idx);
		break;
	case KVSIM_RANDOM:
		s->pos[idx] = (uint32_t)s->narr;
		s->arr[s->narr++] = idx;
		break;
	case KVSIM_H2O:
		if (!h2o_protected(s, idx) &&
		    heap_push(&s->heap, s->acc[idx], idx))
			return -ENOMEM;
		break;
	case KVSIM_BELADY:
	case KVSIM_BELADY_PF:
		s->cur_next[idx] = s->ev->next[ev_i];
		if (heap_push(&s->heap, (double)s->cur_next[idx], idx))
			return -ENOMEM;
		break;
	default:
		if (how != KVP_BY_ABORT)
			kvp_set_resident(s->st, idx, (kvp_u32)how);
		break;
	}
	if (s->heap.n > 4 * s->cap + (1u << 20))
		return heap_rebuild(s);
	return 0;
}

/* a hit on idx: the list policies reorder */
static int sim_hit(struct sim *s, uint32_t idx, uint64_t ev_i)
{
	switch (s->pol) {
	case KVSIM_LRU:
		l_front(s, L_LRU, idx);
		break;
	case KVSIM_ARC:
		l_front(s, L_T2, idx);
		break;
	case KVSIM_S3FIFO:
		if (s->freq[idx] < 3)
			s->freq[idx]++;
		break;
	case KVSIM_H2O:
		if (!h2o_protected(s, idx))
			return heap_push(&s->heap, s->acc[idx], idx);
		break;
	case KVSIM_BELADY:
	case KVSIM_BELADY_PF:
		s->cur_next[idx] = s->ev->next[ev_i];
		return heap_push(&s->heap, (double)s->cur_next[idx], idx);
	default:
		break;
	}
	return 0;
}

/* promote a COLD block ahead of its read (a cold read, arriving later) */
static void sim_prefetched(struct sim *s, uint32_t b)
{
	s->fl[b] |= F_PF;
	s->res->pf_issued++;
	s->res->cold_read_blocks++;
	s->clk += s->rd_ns;
	if (s->ready)
		s->ready[b] = s->clk + kvsim_dev.cold_lat_ns;
	if (s->ev->kinds)
		s->res->kind_pf[s->ev->kinds[sim_queue(s, b)]]++;
}

/*
 * belady-pf, at the start of a step (event ev_i): the oracle promotes the
 * cold blocks the next step reads, nearest use first, each if its next use
 * is sooner than the farthest resident's (that one leaves).  One step ahead
 * so that every prefetch has a step to arrive.
 */
static int belady_prefetch(struct sim *s, uint64_t ev_i)
{
	const struct kvsim_events *ev = s->ev;
	uint64_t j = ev_i + 1;
	int ret = 0;

	while (j < ev->n && ev->op[j] != KVSIM_EV_STEP)
		j++;
	for (j++; j < ev->n && ev->op[j] != KVSIM_EV_STEP && !ret; j++) {
		uint32_t b = ev->arg[j];

		if (ev->op[j] != KVSIM_EV_READ || s->tier[b] != T_COLD)
			continue;
		if (s->warm >= s->cap) {
			if (belady_later(s, (uint32_t)j))
				continue;
			sim_make_room(s);
		}
		s->tier[b] = T_WARM;
		s->warm++;
		s->cur_next[b] = (uint32_t)j;
		ret = heap_push(&s->heap, (double)j, b);
		sim_prefetched(s, b);
	}
	return ret;
}

static int sim_setup(struct sim *s, const struct kvsim_events *ev, int pol,
		     uint64_t capacity, struct kvsim_result *res)
{
	struct kvp_params p;
	uint64_t sz;

	memset(s, 0, sizeof(*s));
	s->ev = ev;
	s->res = res;
	s->pol = pol;
	s->cap = capacity ? capacity : 1;
	s->cap_hi = (uint64_t)(s->cap * kvsim_wm_high + 0.5);
	s->cap_lo = (uint64_t)(s->cap * kvsim_wm_low + 0.5);
	if (is_belady(pol) || s->cap_hi > s->cap || !s->cap_hi)
		s->cap_hi = s->cap;
	if (is_belady(pol) || s->cap_lo > s->cap_hi || !s->cap_lo)
		s->cap_lo = s->cap_hi;
	s->nent = (uint64_t)ev->g.layers * ev->g.kv_heads *
		  ev->g.blocks_per_head;
	s->bph = ev->g.blocks_per_head;
	s->rd_ns = ev->block_bytes * 1e9 / kvsim_dev.cold_rd_bps;
	s->wr_ns = ev->block_bytes * 1e9 / kvsim_dev.cold_wr_bps;
	s->tier = calloc(s->nent, 1);
	s->fl = calloc(s->nent, 1);
	s->len = calloc((uint64_t)ev->g.layers * ev->g.kv_heads, 4);
	if (!s->tier || !s->fl || !s->len)
		return -ENOMEM;
	if (is_kvp(pol) || pol == KVSIM_BELADY_PF) {
		s->ready = calloc(s->nent, sizeof(double));
		if (!s->ready)
			return -ENOMEM;
	}
	kvp_params_default(&p);
	if (kvsim_ours_params && (pol == KVSIM_OURS || pol == KVSIM_OURS_NOPF))
		p = *kvsim_ours_params;
	if (ev->mooncake) {
		/* no per-sequence order: no recent window; block 0 is the
		 * shared system prompt; no decode stream: no phases */
		p.recent_tokens = 0;
		p.sink_tokens = ev->g.tokens_per_block;
		p.flags &= ~KVP_P_PHASE;
	}
	s->recent_blocks = (p.recent_tokens + ev->g.tokens_per_block - 1) /
			   ev->g.tokens_per_block;
	if (uses_lists(pol)) {
		s->prev = malloc((s->nent + NLIST) * 4);
		s->nxt = malloc((s->nent + NLIST) * 4);
		s->lid = malloc(s->nent);
		if (!s->prev || !s->nxt || !s->lid)
			return -ENOMEM;
		memset(s->lid, L_NONE, s->nent);
		for (uint32_t k = 0; k < NLIST; k++) {
			uint32_t h = (uint32_t)s->nent + k;

			s->prev[h] = s->nxt[h] = h;
		}
		/* list links; arc and s3fifo also keep ghosts */
		res->meta_bytes = s->nent * 8;
	}
	switch (pol) {
	case KVSIM_LRU:
	case KVSIM_ARC:
		return 0;
	case KVSIM_S3FIFO:
		s->freq = calloc(s->nent, 1);
		return s->freq ? 0 : -ENOMEM;
	case KVSIM_RANDOM:
		s->arr = malloc(s->nent * 4);
		s->pos = malloc(s->nent * 4);
		s->rng = kvsim_random_seed * 0x9e3779b97f4a7c15ull + 1;
		res->meta_bytes = s->nent * 8;
		return s->arr && s->pos ? 0 : -ENOMEM;
	case KVSIM_H2O:
		s->acc = calloc(s->nent, sizeof(double));
		res->meta_bytes = s->nent * 8;
		return s->acc ? 0 : -ENOMEM;
	case KVSIM_BELADY:
	case KVSIM_BELADY_PF:
		s->cur_next = malloc(s->nent * 4);
		s->heap.max = 1;
		res->meta_bytes = 0;
		return s->cur_next ? 0 : -ENOMEM;
	case KVSIM_SEED:
		p.score_shift = 0;
		p.pf_window = 2;
		p.pf_window_max = 2;
		p.flags = KVP_P_PREFETCH | KVP_P_RAW;
		break;
	case KVSIM_OURS:
		break;
	case KVSIM_OURS_NOPF:
		p.flags &= ~(KVP_P_PREFETCH | KVP_P_PF_ADAPT);
		break;
	default:
		return -EINVAL;
	}
	sz = kvp_state_size(&ev->g);
	if (!sz)
		return -EINVAL;
	s->st = aligned_alloc(64, (sz + 63) & ~63ull);
	if (!s->st)
		return -ENOMEM;
	res->meta_bytes = sz;
	return kvp_init(s->st, sz, &ev->g, &p);
}

static void sim_teardown(struct sim *s)
{
	free(s->tier);
	free(s->fl);
	free(s->len);
	free(s->prev);
	free(s->nxt);
	free(s->lid);
	free(s->freq);
	free(s->arr);
	free(s->pos);
	free(s->acc);
	free(s->cur_next);
	free(s->heap.a);
	free(s->st);
	free(s->ready);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int kvsim_run(const struct kvsim_events *ev, int pol, uint64_t capacity,
	      struct kvsim_result *res)
{
	struct sim s;
	kvp_u32 pf[2 * KVP_PF_WINDOW_MAX];
	double t0;
	int ret;

	memset(res, 0, sizeof(*res));
	res->policy = pol;
	res->capacity = capacity;
	ret = sim_setup(&s, ev, pol, capacity, res);
	if (ret)
		goto out;
	t0 = now_s();
	for (uint64_t i = 0; i < ev->n && !ret; i++) {
		uint32_t idx = ev->arg[i], q;
		int hit;

		switch (ev->op[i]) {
		case KVSIM_EV_STEP:
			s.now = idx;
			if (pol == KVSIM_BELADY_PF)
				ret = belady_prefetch(&s, i);
			break;
		case KVSIM_EV_WRITE:
			res->writes++;
			q = sim_queue(&s, idx);
			if (idx - q * s.bph + 1 > s.len[q])
				s.len[q] = idx - q * s.bph + 1;
			if (s.tier[idx] != T_ABSENT)
				break;	/* rewrite of a live block: ignore */
			if (is_belady(pol) && belady_bypass(&s, i)) {
				s.tier[idx] = T_COLD;
				s.fl[idx] |= F_COLDCOPY;
				res->cold_write_blocks++;
				s.clk += s.wr_ns;
				break;
			}
			if (pol == KVSIM_H2O && idx - q * s.bph >= s.recent_blocks) {
				/* a block leaves h2o's recent window */
				uint32_t j = idx - s.recent_blocks;

				if (s.tier[j] == T_WARM)
					ret = heap_push(&s.heap, s.acc[j], j);
			}
			if (is_kvp(pol)) {
				/* room first, then the core learns the block */
				sim_make_room(&s);
				kvp_on_write(s.st, idx, s.now);
				s.tier[idx] = T_WARM;
				s.warm++;
				break;
			}
			sim_miss(&s, idx);
			sim_make_room(&s);
			if (!ret)
				ret = sim_insert(&s, idx, i, KVP_BY_DEMAND);
			break;
		case KVSIM_EV_READ:
			res->reads++;
			if (is_kvp(pol))
				kvp_on_access(s.st, idx, s.now);
			if (pol == KVSIM_H2O)
				s.acc[idx] += ev->mass[i] / 65536.0;
			hit = s.tier[idx] == T_WARM;
			if (hit && (s.fl[idx] & F_PF)) {
				s.fl[idx] &= ~F_PF;
				res->pf_used++;
				if (ev->kinds)
					res->kind_pf_used[ev->kinds[
						sim_queue(&s, idx)]]++;
				if (s.ready && s.ready[idx] > s.clk) {
					/* still in flight: wait, a miss */
					res->late_pf++;
					s.clk = s.ready[idx];
					hit = 0;
				}
			}
			if (s.tier[idx] == T_WARM) {
				if (hit) {
					res->hits++;
					s.clk += kvsim_dev.warm_ns;
				}
				ret = sim_hit(&s, idx, i);
			} else {
				res->cold_read_blocks++;
				s.clk += kvsim_dev.cold_lat_ns + s.rd_ns;
				if (is_belady(pol) && belady_bypass(&s, i))
					break;
				sim_miss(&s, idx);
				sim_make_room(&s);
				ret = sim_insert(&s, idx, i, KVP_BY_DEMAND);
			}
			if (!is_kvp(pol) || ret)
				break;
			kvp_on_hint(s.st, idx, ev->mass[i], s.now);
			/* the module only sees misses (faults): prefetch there */
			if (s.tier[idx] == T_WARM && hit)
				break;
			{
				int n = kvp_prefetch_window(s.st, idx, pf,
							    KVSIM_FAULT_RA);

				for (int k = 0; k < n; k++) {
					uint32_t b = pf[k];

					if (s.tier[b] != T_COLD)
						continue;
					sim_make_room(&s);
					if (s.tier[b] != T_COLD)
						continue;
					sim_insert(&s, b, i, KVP_BY_PREFETCH);
					sim_prefetched(&s, b);
				}
			}
			break;
		}
	}
	res->seconds = now_s() - t0;
	res->time_s = s.clk * 1e-9;
	if (res->seconds > 0)
		res->decisions_per_s = (res->reads + res->writes + res->victims) /
				       res->seconds;
	if (ev->tokens)
		res->meta_per_token = (double)res->meta_bytes /
			((double)ev->tokens * ev->g.layers * ev->g.kv_heads);
	if (s.st) {
		struct kvp_stats ks;

		kvp_get_stats(s.st, &ks);
		res->phase_switches = ks.phase_switches;
		if (getenv("KVSIM_DEBUG"))
			fprintf(stderr, "beta=%llu vage=%llu ghost_prob=%llu "
				"ghost_est=%llu victims=%llu scanned=%llu\n",
				(unsigned long long)ks.beta,
				(unsigned long long)ks.victim_age,
				(unsigned long long)ks.ghost_prob,
				(unsigned long long)ks.ghost_est,
				(unsigned long long)ks.victims,
				(unsigned long long)ks.scanned);
		res->final_phase = kvp_phase(s.st);
	}
	if (s.st && (pol == KVSIM_OURS)) {
		for (uint32_t l = 0; l < ev->g.layers; l++)
			for (uint32_t h = 0; h < ev->g.kv_heads; h++) {
				int w = kvp_head_window(s.st, l, h);

				if (w >= 0 && w <= (int)KVP_PF_WINDOW_MAX)
					res->w_hist[w]++;
				if (w >= 0 && ev->kinds) {
					int k = ev->kinds[l * ev->g.kv_heads + h];

					res->kind_heads[k]++;
					res->kind_w[k] += (uint64_t)w;
				}
			}
	}
out:
	sim_teardown(&s);
	return ret;
}
