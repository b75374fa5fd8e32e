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

#include "kvsim_engine.h"
#include "mooncake.h"

/* Most hash ids one Mooncake request may carry here (32 M tokens). */
#define MOONCAKE_MAX_IDS	65536

#define NONE UINT32_MAX
/* blocks one fault may prefetch: the module's KV_FAULT_RA (driver/fault.c) */
#define KVSIM_FAULT_RA 8

enum { T_ABSENT, T_WARM, T_COLD };
#define F_COLDCOPY 1
#define F_PF 2

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

/* ---- event lists ------------------------------------------------------- */

static int ev_push(struct kvsim_events *ev, uint64_t *cap, uint8_t op,
		   uint32_t arg, uint16_t mass)
{
	if (ev->n == *cap) {
		uint64_t nc = *cap ? *cap * 2 : 1 << 16;
		uint8_t *o = realloc(ev->op, nc);
		uint32_t *a;
		uint16_t *m;

		if (!o)
			return -ENOMEM;
		ev->op = o;
		a = realloc(ev->arg, nc * 4);
		if (!a)
			return -ENOMEM;
		ev->arg = a;
		m = realloc(ev->mass, nc * 2);
		if (!m)
			return -ENOMEM;
		ev->mass = m;
		*cap = nc;
	}
	ev->op[ev->n] = op;
	ev->arg[ev->n] = arg;
	ev->mass[ev->n] = mass;
	ev->n++;
	return 0;
}

static int ev_link(struct kvsim_events *ev)
{
	uint64_t nent = (uint64_t)ev->g.layers * ev->g.kv_heads *
			ev->g.blocks_per_head;
	uint32_t *last = malloc(nent * 4);

	ev->next = malloc(ev->n * 4 + 4);
	if (!last || !ev->next) {
		free(last);
		return -ENOMEM;
	}
	memset(last, 0xff, nent * 4);
	for (uint64_t i = ev->n; i-- > 0;) {
		if (ev->op[i] == KVSIM_EV_STEP) {
			ev->next[i] = NONE;
			continue;
		}
		ev->next[i] = last[ev->arg[i]];
		if (ev->op[i] == KVSIM_EV_READ)
			last[ev->arg[i]] = (uint32_t)i;
	}
	free(last);
	return 0;
}

int kvsim_events_link(struct kvsim_events *ev)
{
	free(ev->next);
	ev->next = NULL;
	return ev_link(ev);
}

int kvsim_events_from_trace(const struct kvtrace *t, struct kvsim_events *ev)
{
	uint32_t nq = t->h.layers * t->h.kv_heads, tpb = t->h.tokens_per_block;
	uint32_t bph = t->h.blocks_per_head, pos = 0, seqs = t->h.reserved[0];
	uint32_t spos[4096] = { 0 }, qper;
	uint64_t cap = 0, i = 0;
	int ret;

	memset(ev, 0, sizeof(*ev));
	ev->g.layers = t->h.layers;
	ev->g.kv_heads = t->h.kv_heads;
	ev->g.blocks_per_head = bph;
	ev->g.tokens_per_block = tpb;
	ev->block_bytes = 8192;
	if (t->h.nwords > UINT32_MAX / 2)
		return -E2BIG;
	if (seqs > 4096 || (seqs > 1 && t->h.layers % seqs))
		return -EINVAL;
	qper = seqs > 1 ? nq / seqs : nq;
	while (i < t->n) {
		uint32_t w = t->w[i++], n, q, b, j, layer, head, sq;

		switch (KVTRACE_OP(w)) {
		case KVTRACE_OP_SWRITE:
			/* sequence sq appends n tokens to its own queues */
			sq = (w >> 16) & 0xfff;
			n = w & 0xffff;
			if (seqs < 2 || sq >= seqs)
				return -EINVAL;
			ret = 0;
			for (b = (spos[sq] + tpb - 1) / tpb;
			     b * tpb < spos[sq] + n; b++) {
				if (b >= bph)
					return -EINVAL;
				for (q = sq * qper; q < (sq + 1) * qper && !ret; q++)
					ret = ev_push(ev, &cap, KVSIM_EV_WRITE,
						      q * bph + b, 0);
				ev->footprint += qper;
			}
			spos[sq] += n;
			if (spos[sq] > pos)
				pos = spos[sq];
			break;
		case KVTRACE_OP_STEP:
			ret = ev_push(ev, &cap, KVSIM_EV_STEP, w & 0x0fffffff, 0);
			break;
		case KVTRACE_OP_WRITE:
			n = w & 0x0fffffff;
			ret = 0;
			/* a WRITE event for every block that starts here */
			for (b = (pos + tpb - 1) / tpb; b * tpb < pos + n; b++) {
				if (b >= bph)
					return -EINVAL;
				for (q = 0; q < nq && !ret; q++)
					ret = ev_push(ev, &cap, KVSIM_EV_WRITE,
						      q * bph + b, 0);
				ev->footprint += nq;
			}
			pos += n;
			break;
		case KVTRACE_OP_KIND:
			layer = (w >> 18) & 1023;
			head = (w >> 10) & 255;
			if (layer >= t->h.layers || head >= t->h.kv_heads ||
			    (w & 1023) >= KVTRACE_NKINDS)
				return -EINVAL;
			if (!ev->kinds) {
				ev->kinds = calloc(nq, 1);
				if (!ev->kinds)
					return -ENOMEM;
			}
			ev->kinds[layer * t->h.kv_heads + head] = w & 1023;
			ret = 0;
			break;
		case KVTRACE_OP_READ:
			n = w & 1023;
			layer = (w >> 18) & 1023;
			head = (w >> 10) & 255;
			if (layer >= t->h.layers || head >= t->h.kv_heads)
				return -EINVAL;
			q = layer * t->h.kv_heads + head;
			ret = 0;
			for (j = 0; j < n && i < t->n && !ret; j++, i++) {
				b = t->w[i] >> 16;
				if (b >= bph)
					return -EINVAL;
				ret = ev_push(ev, &cap, KVSIM_EV_READ, q * bph + b,
					      t->w[i] & 0xffff);
			}
			break;
		default:
			return -EINVAL;
		}
		if (ret)
			return ret;
	}
	ev->tokens = pos;
	return ev_link(ev);
}

/* Append @v to the growable id array; 0 or -ENOMEM. */
static int ids_push(uint32_t **ids, uint32_t *nid, uint32_t *idcap, uint32_t v)
{
	if (*nid + 1 > *idcap) {
		uint32_t cap = *idcap ? *idcap * 2 : 1 << 16;
		uint32_t *n2 = realloc(*ids, (size_t)cap * sizeof(**ids));

		if (!n2)
			return -ENOMEM;
		*ids = n2;
		*idcap = cap;
	}
	(*ids)[(*nid)++] = v;
	return 0;
}

/*
 * Mooncake conversation trace: one JSON object per line with "hash_ids", a
 * list of 512-token block hashes.  Each request is one step; a hash seen
 * before is a READ (prefix reuse), a new one a WRITE.
 */
int kvsim_events_from_mooncake(const char *path, struct kvsim_events *ev,
			       uint32_t max_requests)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0;
	uint64_t cap = 0;
	uint32_t step = 0, maxid = 0, nid = 0, idcap = 0, *ids = NULL;
	uint64_t *hbuf = NULL;
	uint8_t *seen = NULL;
	int ret = 0;

	memset(ev, 0, sizeof(*ev));
	if (!f)
		return -errno;
	hbuf = malloc(MOONCAKE_MAX_IDS * sizeof(*hbuf));
	if (!hbuf) {
		ret = -ENOMEM;
		goto out;
	}
	/* pass 1: ids per request into one array, -1 separates requests */
	while (getline(&line, &lcap, f) > 0) {
		int n;

		if (max_requests && step >= max_requests)
			break;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;	/* blank line */
		n = mooncake_parse_line(line, hbuf, MOONCAKE_MAX_IDS, NULL);
		if (n < 0) {
			ret = n;
			goto out;
		}
		for (int i = 0; i < n; i++) {
			if (hbuf[i] >= (1u << 30)) {
				ret = -EINVAL;
				goto out;
			}
			ret = ids_push(&ids, &nid, &idcap, (uint32_t)hbuf[i]);
			if (ret)
				goto out;
			if (hbuf[i] > maxid)
				maxid = (uint32_t)hbuf[i];
		}
		ret = ids_push(&ids, &nid, &idcap, NONE);
		if (ret)
			goto out;
		step++;
	}
	if (!step) {
		ret = -EINVAL;
		goto out;
	}
	ev->g.layers = 1;
	ev->g.kv_heads = 1;
	ev->g.blocks_per_head = maxid + 1;
	ev->g.tokens_per_block = 512;
	/* 512 tokens x Llama-3-8B (32 layers x 8 heads x 128 x 2 B x K,V) */
	ev->block_bytes = 512u * 131072u;
	ev->mooncake = 1;
	seen = calloc(maxid + 1, 1);
	if (!seen) {
		ret = -ENOMEM;
		goto out;
	}
	step = 0;
	ret = ev_push(ev, &cap, KVSIM_EV_STEP, step, 0);
	for (uint32_t i = 0; i < nid && !ret; i++) {
		if (ids[i] == NONE) {
			if (i + 1 < nid)
				ret = ev_push(ev, &cap, KVSIM_EV_STEP, ++step, 0);
			continue;
		}
		if (seen[ids[i]]) {
			/* a reused prefix block: 1/16 of the request's
			 * attention, saturating to 1.0 with the default gain */
			ret = ev_push(ev, &cap, KVSIM_EV_READ, ids[i], 4096);
		} else {
			seen[ids[i]] = 1;
			ev->footprint++;
			ret = ev_push(ev, &cap, KVSIM_EV_WRITE, ids[i], 0);
		}
	}
	if (!ret)
		ret = ev_link(ev);
	ev->tokens = (uint64_t)(maxid + 1) * 512;
out:
	free(seen);
	free(hbuf);
	free(ids);
	free(line);
	fclose(f);
	if (ret)
		kvsim_events_free(ev);
	return ret;
}

void kvsim_events_free(struct kvsim_events *ev)
{
	free(ev->op);
	free(ev->arg);
	free(ev->mass);
	free(ev->next);
	free(ev->kinds);
	memset(ev, 0, sizeof(*ev));
}

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

static int hless(const struct heap *h, uint64_t i, uint64_t j)
{
	return h->max ? h->a[i].key > h->a[j].key : h->a[i].key < h->a[j].key;
}

static int heap_push(struct heap *h, double key, uint32_t idx)
{
	uint64_t i;

	if (h->n == h->cap) {
		uint64_t nc = h->cap ? h->cap * 2 : 1 << 16;
		struct hent *a = realloc(h->a, nc * sizeof(*a));

		if (!a)
			return -ENOMEM;
		h->a = a;
		h->cap = nc;
	}
	i = h->n++;
	h->a[i].key = key;
	h->a[i].idx = idx;
	while (i && hless(h, i, (i - 1) / 2)) {
		struct hent t = h->a[i];

		h->a[i] = h->a[(i - 1) / 2];
		h->a[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

static struct hent heap_pop(struct heap *h)
{
	struct hent top = h->a[0];
	uint64_t i = 0;

	h->a[0] = h->a[--h->n];
	for (;;) {
		uint64_t l = 2 * i + 1, r = l + 1, m = i;
		struct hent t;

		if (l < h->n && hless(h, l, m))
			m = l;
		if (r < h->n && hless(h, r, m))
			m = r;
		if (m == i)
			break;
		t = h->a[i];
		h->a[i] = h->a[m];
		h->a[m] = t;
		i = m;
	}
	return top;
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

static uint32_t sim_queue(const struct sim *s, uint32_t idx)
{
	return idx / s->bph;
}

static int uses_lists(int pol)
{
	return pol == KVSIM_LRU || pol == KVSIM_ARC || pol == KVSIM_S3FIFO;
}

static int is_belady(int pol)
{
	return pol == KVSIM_BELADY || pol == KVSIM_BELADY_PF;
}

static int is_kvp(int pol)
{
	return pol == KVSIM_SEED || pol == KVSIM_OURS || pol == KVSIM_OURS_NOPF;
}

static void l_del(struct sim *s, uint32_t i)
{
	if (s->lid[i] == L_NONE)
		return;
	s->nxt[s->prev[i]] = s->nxt[i];
	s->prev[s->nxt[i]] = s->prev[i];
	s->cnt[s->lid[i]]--;
	s->lid[i] = L_NONE;
}

static void l_front(struct sim *s, int k, uint32_t i)
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

static uint32_t l_tail(const struct sim *s, int k)
{
	uint32_t h = (uint32_t)s->nent + (uint32_t)k;

	return s->prev[h] == h ? NONE : s->prev[h];
}

static int h2o_protected(const struct sim *s, uint32_t idx)
{
	uint32_t q = sim_queue(s, idx), b = idx - q * s->bph;

	return b + s->recent_blocks >= s->len[q];
}

/* compact a lazy heap when stale entries dominate */
static int heap_rebuild(struct sim *s)
{
	struct heap *h = &s->heap;

	h->n = 0;
	for (uint64_t i = 0; i < s->nent; i++) {
		if (s->tier[i] != T_WARM ||
		    (s->pol == KVSIM_H2O && h2o_protected(s, (uint32_t)i)))
			continue;
		if (heap_push(h, s->pol == KVSIM_H2O ? s->acc[i] :
				 (double)s->cur_next[i], (uint32_t)i))
			return -ENOMEM;
	}
	return 0;
}

/* ARC: a miss on x (before room is made): adapt p on a ghost hit */
static void arc_miss(struct sim *s, uint32_t x)
{
	uint64_t b1 = s->cnt[L_B1], b2 = s->cnt[L_B2], d;

	s->arc_to_t2 = 0;
	s->arc_in_b2 = 0;
	if (s->lid[x] == L_B1) {
		d = b2 > b1 ? b2 / b1 : 1;
		s->arc_p = s->arc_p + d > s->cap ? s->cap : s->arc_p + d;
		s->arc_to_t2 = 1;
	} else if (s->lid[x] == L_B2) {
		d = b1 > b2 ? b1 / b2 : 1;
		s->arc_p = s->arc_p > d ? s->arc_p - d : 0;
		s->arc_to_t2 = 1;
		s->arc_in_b2 = 1;
	}
	l_del(s, x);
}

/* ARC: keep |T1| + |B1| <= c and the whole directory <= 2c */
static void arc_trim(struct sim *s)
{
	while (s->cnt[L_T1] + s->cnt[L_B1] > s->cap && s->cnt[L_B1])
		l_del(s, l_tail(s, L_B1));
	while (s->cnt[L_T1] + s->cnt[L_T2] + s->cnt[L_B1] + s->cnt[L_B2] >
	       2 * s->cap && s->cnt[L_B2])
		l_del(s, l_tail(s, L_B2));
}

/* S3-FIFO: next victim, moving blocks between the queues on the way */
static uint32_t s3_victim(struct sim *s)
{
	uint64_t small = s->cap / 10 ? s->cap / 10 : 1;

	for (;;) {
		uint32_t t;

		if (s->cnt[L_S] && (s->cnt[L_S] >= small || !s->cnt[L_M])) {
			t = l_tail(s, L_S);
			if (s->freq[t]) {	/* reused while small: to main */
				s->freq[t] = 0;
				l_front(s, L_M, t);
				continue;
			}
			return t;
		}
		t = l_tail(s, L_M);
		if (t == NONE)
			return NONE;
		if (s->freq[t]) {
			s->freq[t]--;
			l_front(s, L_M, t);
			continue;
		}
		return t;
	}
}

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

/* belady: is the next use @nx later than every resident's? */
static int belady_later(struct sim *s, uint32_t nx)
{
	while (s->heap.n) {
		struct hent e = s->heap.a[0];

		if (s->tier[e.idx] == T_WARM &&
		    e.key == (double)s->cur_next[e.idx])
			return (double)nx >= e.key;
		heap_pop(&s->heap);
	}
	return 0;
}

/* belady: bypass the incoming block (event ev_i)? */
static int belady_bypass(struct sim *s, uint64_t ev_i)
{
	if (s->warm < s->cap)
		return 0;
	return belady_later(s, s->ev->next[ev_i]);
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
