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
 * Before anything is made WARM, victims are evicted until warm < capacity.
 * The kvp-based policies (seed, cxl-kv) run the real policy core; the
 * simulator keeps its own tier array and checks every victim against it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvsim_engine.h"

#define NONE UINT32_MAX

enum { T_ABSENT, T_WARM, T_COLD };
#define F_COLDCOPY 1
#define F_PF 2

static const char *const pol_names[KVSIM_NPOL] = {
	"lru", "seed", "h2o", "cxl-kv", "cxl-kv-nopf", "belady",
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

int kvsim_events_from_trace(const struct kvtrace *t, struct kvsim_events *ev)
{
	uint32_t nq = t->h.layers * t->h.kv_heads, tpb = t->h.tokens_per_block;
	uint32_t bph = t->h.blocks_per_head, pos = 0;
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
	while (i < t->n) {
		uint32_t w = t->w[i++], n, q, b, j, layer, head;

		switch (KVTRACE_OP(w)) {
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
	uint8_t *seen = NULL;
	int ret = 0;

	memset(ev, 0, sizeof(*ev));
	if (!f)
		return -errno;
	/* pass 1: ids per request into one array, -1 separates requests */
	while (getline(&line, &lcap, f) > 0) {
		char *p = strstr(line, "\"hash_ids\"");

		if (!p || (max_requests && step >= max_requests))
			continue;
		p = strchr(p, '[');
		if (!p)
			continue;
		p++;
		for (;;) {
			char *end;
			unsigned long v;

			while (*p == ' ' || *p == ',')
				p++;
			if (*p == ']' || !*p)
				break;
			v = strtoul(p, &end, 10);
			if (end == p || v >= (1u << 30)) {
				ret = -EINVAL;
				goto out;
			}
			p = end;
			ret = ids_push(&ids, &nid, &idcap, (uint32_t)v);
			if (ret)
				goto out;
			if (v > maxid)
				maxid = (uint32_t)v;
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

struct sim {
	const struct kvsim_events *ev;
	struct kvsim_result *res;
	int pol;
	uint64_t cap, warm, nent;
	uint32_t bph, now, recent_blocks;
	uint8_t *tier, *fl;
	uint32_t *len;		/* written blocks per queue */
	/* lru */
	uint32_t *prev, *nxt, lru_head;
	/* h2o */
	double *acc;
	/* belady */
	uint32_t *cur_next;
	struct heap heap;
	/* kvp */
	struct kvp_state *st;
};

static uint32_t sim_queue(const struct sim *s, uint32_t idx)
{
	return idx / s->bph;
}

static void lru_unlink(struct sim *s, uint32_t i)
{
	s->nxt[s->prev[i]] = s->nxt[i];
	s->prev[s->nxt[i]] = s->prev[i];
}

static void lru_front(struct sim *s, uint32_t i)
{
	uint32_t h = s->lru_head;

	s->nxt[i] = s->nxt[h];
	s->prev[i] = h;
	s->prev[s->nxt[h]] = i;
	s->nxt[h] = i;
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

/* choose one victim; NONE if the policy has none */
static uint32_t sim_victim(struct sim *s)
{
	uint32_t v;

	switch (s->pol) {
	case KVSIM_LRU:
		v = s->prev[s->lru_head];
		return v == s->lru_head ? NONE : v;
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
	}
	s->fl[v] &= ~F_PF;
	if (s->pol == KVSIM_LRU)
		lru_unlink(s, v);
	else if (s->pol >= KVSIM_SEED && s->pol != KVSIM_H2O &&
		 s->pol != KVSIM_BELADY)
		kvp_set_cold(s->st, v);
}

static void sim_make_room(struct sim *s)
{
	while (s->warm >= s->cap) {
		uint32_t v = sim_victim(s);

		if (v == NONE) {
			s->res->overflows++;
			return;
		}
		sim_evict(s, v);
	}
}

static int is_kvp(int pol)
{
	return pol == KVSIM_SEED || pol == KVSIM_OURS || pol == KVSIM_OURS_NOPF;
}

/* make idx WARM (after room was made); ev_i is the current event */
static int sim_insert(struct sim *s, uint32_t idx, uint64_t ev_i, int how)
{
	s->tier[idx] = T_WARM;
	s->warm++;
	switch (s->pol) {
	case KVSIM_LRU:
		lru_front(s, idx);
		break;
	case KVSIM_H2O:
		if (!h2o_protected(s, idx) &&
		    heap_push(&s->heap, s->acc[idx], idx))
			return -ENOMEM;
		break;
	case KVSIM_BELADY:
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

/* belady: is the incoming block's next use later than every resident's? */
static int belady_bypass(struct sim *s, uint64_t ev_i)
{
	uint32_t nx = s->ev->next[ev_i];

	if (s->warm < s->cap)
		return 0;
	while (s->heap.n) {
		struct hent e = s->heap.a[0];

		if (s->tier[e.idx] == T_WARM &&
		    e.key == (double)s->cur_next[e.idx])
			return (double)nx >= e.key;
		heap_pop(&s->heap);
	}
	return 0;
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
	s->nent = (uint64_t)ev->g.layers * ev->g.kv_heads *
		  ev->g.blocks_per_head;
	s->bph = ev->g.blocks_per_head;
	s->tier = calloc(s->nent, 1);
	s->fl = calloc(s->nent, 1);
	s->len = calloc((uint64_t)ev->g.layers * ev->g.kv_heads, 4);
	if (!s->tier || !s->fl || !s->len)
		return -ENOMEM;
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
	switch (pol) {
	case KVSIM_LRU:
		s->prev = malloc((s->nent + 1) * 4);
		s->nxt = malloc((s->nent + 1) * 4);
		if (!s->prev || !s->nxt)
			return -ENOMEM;
		s->lru_head = (uint32_t)s->nent;
		s->prev[s->lru_head] = s->nxt[s->lru_head] = s->lru_head;
		res->meta_bytes = (s->nent) * 8 + s->nent * 8; /* list + ts */
		return 0;
	case KVSIM_H2O:
		s->acc = calloc(s->nent, sizeof(double));
		res->meta_bytes = s->nent * 8;
		return s->acc ? 0 : -ENOMEM;
	case KVSIM_BELADY:
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
	free(s->acc);
	free(s->cur_next);
	free(s->heap.a);
	free(s->st);
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
			break;
		case KVSIM_EV_WRITE:
			res->writes++;
			q = sim_queue(&s, idx);
			if (idx - q * s.bph + 1 > s.len[q])
				s.len[q] = idx - q * s.bph + 1;
			if (s.tier[idx] != T_ABSENT)
				break;	/* rewrite of a live block: ignore */
			if (pol == KVSIM_BELADY && belady_bypass(&s, i)) {
				s.tier[idx] = T_COLD;
				s.fl[idx] |= F_COLDCOPY;
				res->cold_write_blocks++;
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
			sim_make_room(&s);
			ret = sim_insert(&s, idx, i, KVP_BY_DEMAND);
			break;
		case KVSIM_EV_READ:
			res->reads++;
			if (is_kvp(pol))
				kvp_on_access(s.st, idx, s.now);
			if (pol == KVSIM_H2O)
				s.acc[idx] += ev->mass[i] / 65536.0;
			hit = s.tier[idx] == T_WARM;
			if (hit) {
				res->hits++;
				if (s.fl[idx] & F_PF) {
					s.fl[idx] &= ~F_PF;
					res->pf_used++;
					if (ev->kinds)
						res->kind_pf_used[ev->kinds[
							sim_queue(&s, idx)]]++;
				}
				if (pol == KVSIM_LRU) {
					lru_unlink(&s, idx);
					lru_front(&s, idx);
				} else if (pol == KVSIM_H2O) {
					if (!h2o_protected(&s, idx))
						ret = heap_push(&s.heap,
								s.acc[idx], idx);
				} else if (pol == KVSIM_BELADY) {
					s.cur_next[idx] = ev->next[i];
					ret = heap_push(&s.heap,
						(double)s.cur_next[idx], idx);
				}
			} else {
				res->cold_read_blocks++;
				if (pol == KVSIM_BELADY && belady_bypass(&s, i))
					break;
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
							    2 * KVP_PF_WINDOW_MAX);

				for (int k = 0; k < n; k++) {
					uint32_t b = pf[k];

					if (s.tier[b] != T_COLD)
						continue;
					sim_make_room(&s);
					if (s.tier[b] != T_COLD)
						continue;
					sim_insert(&s, b, i, KVP_BY_PREFETCH);
					s.fl[b] |= F_PF;
					res->pf_issued++;
					if (ev->kinds)
						res->kind_pf[ev->kinds[
							sim_queue(&s, b)]]++;
					res->cold_read_blocks++;
				}
			}
			break;
		}
	}
	res->seconds = now_s() - t0;
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
