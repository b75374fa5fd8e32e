// SPDX-License-Identifier: GPL-2.0
/*
 * kvsim_events.c - kvsim's event lists: from a kvtrace trace or from the
 * Mooncake conversation trace (JSON lines), with each READ and WRITE linked
 * to the next READ of the same block (Belady's oracle).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvsim_sim.h"
#include "mooncake.h"

/* Most hash ids one Mooncake request may carry here (32 M tokens). */
#define MOONCAKE_MAX_IDS	65536

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
