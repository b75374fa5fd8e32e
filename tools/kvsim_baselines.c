// SPDX-License-Identifier: GPL-2.0
/*
 * kvsim_baselines.c - the structures of kvsim's baseline policies: the lazy
 * heaps (h2o, Belady: stale entries are skipped when popped), ARC's
 * adaptation and directory trim, S3-FIFO's victim scan, Belady's bypass
 * test.  The engine (kvsim_engine.c) calls them per event.
 */
#include <errno.h>
#include <stdlib.h>

#include "kvsim_sim.h"

static int hless(const struct heap *h, uint64_t i, uint64_t j)
{
	return h->max ? h->a[i].key > h->a[j].key : h->a[i].key < h->a[j].key;
}

int heap_push(struct heap *h, double key, uint32_t idx)
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

struct hent heap_pop(struct heap *h)
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

/* compact a lazy heap when stale entries dominate */
int heap_rebuild(struct sim *s)
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
void arc_miss(struct sim *s, uint32_t x)
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
void arc_trim(struct sim *s)
{
	while (s->cnt[L_T1] + s->cnt[L_B1] > s->cap && s->cnt[L_B1])
		l_del(s, l_tail(s, L_B1));
	while (s->cnt[L_T1] + s->cnt[L_T2] + s->cnt[L_B1] + s->cnt[L_B2] >
	       2 * s->cap && s->cnt[L_B2])
		l_del(s, l_tail(s, L_B2));
}

/* S3-FIFO: next victim, moving blocks between the queues on the way */
uint32_t s3_victim(struct sim *s)
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

/* belady: is the next use @nx later than every resident's? */
int belady_later(struct sim *s, uint32_t nx)
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
int belady_bypass(struct sim *s, uint64_t ev_i)
{
	if (s->warm < s->cap)
		return 0;
	return belady_later(s, s->ev->next[ev_i]);
}
