// SPDX-License-Identifier: GPL-2.0
/*
 * bench_serve.c - cxl-kv-bench serve: replay a Mooncake-format trace.
 *
 * Each line of the trace is a request whose prompt is a list of block ids
 * ("hash_ids"; equal ids = equal prefix content).  Every block id is stored
 * as the KV of one block slot of the geometry: slot s holds tokens
 * [s * block_tokens, (s + 1) * block_tokens) of every (layer, head) stream,
 * and the content is a function of the block id, so a slot reused for
 * another id cannot pass verification.  A request walks its ids in order:
 * while the prefix matches, a present id is a hit (its KV is read and
 * verified: it may be warm or on NVMe, the module decides); the first
 * absent id and every id after it are misses (recomputed: written).  Slots
 * are recycled LRU when the space is full.  hit rate = prefix hits / blocks.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "common.h"

#define MAX_IDS 4096

struct serve {
	struct cxl_kv_space *space;
	const struct cxl_kv_layout *lo;
	uint32_t block_tokens, slots, used;
	uint64_t seed;
	uint64_t *owner;		/* block id in each slot */
	uint32_t *next, *prev;		/* LRU list, head = most recent */
	uint32_t head, tail;
	uint32_t *bucket, *chain, nbuckets;	/* id -> slot */
	unsigned char *expect;
	uint64_t verified_bytes, mismatches, written_bytes;
	uint64_t read_pages, read_cold_faults;
};

#define NIL UINT32_MAX

static uint32_t hash_id(struct serve *s, uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (uint32_t)(id & (s->nbuckets - 1));
}

static uint32_t lookup(struct serve *s, uint64_t id)
{
	for (uint32_t x = s->bucket[hash_id(s, id)]; x != NIL; x = s->chain[x])
		if (s->owner[x] == id)
			return x;
	return NIL;
}

static void unhash(struct serve *s, uint32_t slot)
{
	uint32_t *pp = &s->bucket[hash_id(s, s->owner[slot])];

	while (*pp != NIL && *pp != slot)
		pp = &s->chain[*pp];
	if (*pp == slot)
		*pp = s->chain[slot];
}

static void lru_unlink(struct serve *s, uint32_t x)
{
	if (s->prev[x] != NIL)
		s->next[s->prev[x]] = s->next[x];
	else
		s->head = s->next[x];
	if (s->next[x] != NIL)
		s->prev[s->next[x]] = s->prev[x];
	else
		s->tail = s->prev[x];
}

static void lru_front(struct serve *s, uint32_t x)
{
	s->prev[x] = NIL;
	s->next[x] = s->head;
	if (s->head != NIL)
		s->prev[s->head] = x;
	s->head = x;
	if (s->tail == NIL)
		s->tail = x;
}

/* Walk every token vector of a slot: write (w) or verify (!w). */
static void slot_io(struct serve *s, uint32_t slot, uint64_t id, int w)
{
	const struct cxl_kv_layout *lo = s->lo;
	uint64_t first = (uint64_t)slot * s->block_tokens;

	for (uint32_t l = 0; l < lo->geo.layers; l++)
		for (uint32_t h = 0; h < lo->geo.kv_heads; h++)
			for (unsigned int k = 0; k < 2; k++)
				for (uint32_t j = 0; j < s->block_tokens; j++) {
					unsigned char *p = cxl_kv_kv_ptr(s->space, l, h, k,
									 first + j);
					uint64_t tok = id * s->block_tokens + j;

					if (w) {
						bench_pattern(s->seed, l, h, k, tok, p,
							      lo->token_bytes);
						s->written_bytes += lo->token_bytes;
						continue;
					}
					if (bench_check(s->seed, l, h, k, tok, p,
							lo->token_bytes)) {
						if (s->mismatches++ < 5)
							printf("# MISMATCH block id %llu slot %u "
							       "layer %u head %u token %u\n",
							       (unsigned long long)id, slot,
							       l, h, j);
					} else {
						s->verified_bytes += lo->token_bytes;
					}
				}
}

int bench_serve(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "layers", required_argument, NULL, 'L' },
		{ "kv-heads", required_argument, NULL, 'H' },
		{ "head-dim", required_argument, NULL, 'D' },
		{ "block-tokens", required_argument, NULL, 'B' },
		{ "slots", required_argument, NULL, 'N' },
		{ "requests", required_argument, NULL, 'R' },
		{ "ratio", required_argument, NULL, 'r' },
		{ "progress", required_argument, NULL, 'g' },
		{ "plot", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct cxl_kv_geometry geo = { 8, 2, 128, 2, 0 };
	uint64_t slots = 0, max_req = 0, v, ids[MAX_IDS], reqs = 0, blocks = 0;
	uint64_t hits = 0, misses = 0, evictions = 0, lines = 0;
	double ratio = 4.0, progress = 10.0, t0, last;
	uint32_t block_tokens = 16;
	const char *path, *plot_prefix = NULL;
	struct cxl_kv_features f;
	struct cxl_kv_info info;
	struct cxl_kv_stats st0, st1, st;
	struct cxl_kv_layout lo;
	struct serve s;
	char *line = NULL, *end;
	size_t cap = 0;
	FILE *in, *csv = NULL;
	int c, rc, ret = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'L': case 'H': case 'D': case 'B': case 'N': case 'R':
			if (parse_u64(optarg, &v) || !v || v > UINT32_MAX)
				return bench_usage("numeric option out of range");
			if (c == 'L') geo.layers = (uint32_t)v;
			if (c == 'H') geo.kv_heads = (uint32_t)v;
			if (c == 'D') geo.head_dim = (uint32_t)v;
			if (c == 'B') block_tokens = (uint32_t)v;
			if (c == 'N') slots = v;
			if (c == 'R') max_req = v;
			break;
		case 'r':
			ratio = strtod(optarg, &end);
			if (*end || ratio <= 0)
				return bench_usage("--ratio takes a positive number");
			break;
		case 'g':
			progress = strtod(optarg, &end);
			if (*end || progress < 0)
				return bench_usage("--progress takes seconds");
			break;
		case 'o': plot_prefix = optarg; break;
		case 'h': fputs("see cxl-kv-bench --help\n", stdout); return 0;
		default: return bench_usage(NULL);
		}
	}
	if (optind + 1 != argc)
		return bench_usage("serve takes one trace file (Mooncake JSONL)");
	path = argv[optind];
	in = fopen(path, "r");
	if (!in) {
		fprintf(stderr, "cxl-kv-bench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	rc = cxl_kv_get_features(ctx, &f);
	if (!rc)
		rc = cxl_kv_get_info(ctx, &info);
	if (rc || !info.attached) {
		fprintf(stderr, "cxl-kv-bench: cxl_kv: %s\n",
			rc ? strerror(-rc) : "no tier set attached (cxl-kv attach)");
		fclose(in);
		return 1;
	}
	geo.max_tokens = block_tokens;
	rc = cxl_kv_layout_init(&lo, &geo, f.page_size);
	if (rc || block_tokens % lo.tokens_per_block) {
		fclose(in);
		return bench_usage("geometry rejected, or --block-tokens not a "
				   "multiple of the tokens in a page");
	}
	if (!slots) {
		/* the space holds ratio x the warm budget */
		uint64_t per_slot = 2ULL * geo.layers * geo.kv_heads *
				    (block_tokens / lo.tokens_per_block) * f.page_size;

		slots = (uint64_t)(ratio * (double)info.budget_pages * f.page_size /
				   (double)per_slot);
		if (slots < 4)
			slots = 4;
	}
	geo.max_tokens = slots * block_tokens;
	memset(&s, 0, sizeof(s));
	s.block_tokens = block_tokens;
	s.slots = (uint32_t)slots;
	s.seed = 0x5e77e;
	for (s.nbuckets = 1; s.nbuckets < 2 * s.slots; s.nbuckets <<= 1)
		;
	s.owner = calloc(slots, sizeof(*s.owner));
	s.next = calloc(slots, sizeof(*s.next));
	s.prev = calloc(slots, sizeof(*s.prev));
	s.chain = calloc(slots, sizeof(*s.chain));
	s.bucket = malloc(s.nbuckets * sizeof(*s.bucket));
	if (!s.owner || !s.next || !s.prev || !s.chain || !s.bucket) {
		fprintf(stderr, "cxl-kv-bench: out of memory\n");
		goto out_free;
	}
	memset(s.bucket, 0xff, s.nbuckets * sizeof(*s.bucket));
	s.head = s.tail = NIL;
	rc = cxl_kv_space_create(ctx, &geo, &s.space);
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: space of %llu slots: %s\n",
			(unsigned long long)slots, strerror(-rc));
		goto out_free;
	}
	s.lo = cxl_kv_space_get_layout(s.space);
	s.expect = malloc(s.lo->token_bytes);
	rc = s.expect ? cxl_kv_space_map(s.space, NULL) : -ENOMEM;
	if (rc) {
		fprintf(stderr, "cxl-kv-bench: map: %s\n", strerror(-rc));
		goto out_space;
	}
	csv = bench_csv_open(plot_prefix, "request");
	printf("KTAP version 1\n1..1\n");
	printf("# serve: %s, geometry %ux%ux%u, %u tokens per block id, %u slots "
	       "(space %llu MiB, warm budget %llu MiB)\n", path, geo.layers,
	       geo.kv_heads, geo.head_dim, block_tokens, s.slots,
	       (unsigned long long)(s.lo->mmap_bytes >> 20),
	       (unsigned long long)(info.budget_pages * f.page_size >> 20));
	fflush(stdout);
	t0 = last = bench_now();
	while (getline(&line, &cap, in) > 0 && (!max_req || reqs < max_req)) {
		int n = bench_parse_mooncake(line, ids, MAX_IDS, NULL), prefix = 1;

		lines++;
		if (n < 0) {
			printf("# line %llu: not a Mooncake request (%s), skipped\n",
			       (unsigned long long)lines, strerror(-n));
			continue;
		}
		reqs++;
		for (int i = 0; i < n; i++) {
			uint32_t x = lookup(&s, ids[i]);

			blocks++;
			if (x != NIL && prefix) {
				hits++;
				lru_unlink(&s, x);
				lru_front(&s, x);
				if (cxl_kv_space_stats(s.space, &st0))
					memset(&st0, 0, sizeof(st0));
				slot_io(&s, x, ids[i], 0);
				if (!cxl_kv_space_stats(s.space, &st1))
					s.read_cold_faults += st1.faults_cold -
							      st0.faults_cold;
				s.read_pages += 2ULL * geo.layers * geo.kv_heads *
						(block_tokens / s.lo->tokens_per_block);
				continue;
			}
			misses++;
			prefix = 0;
			if (x == NIL) {
				if (s.used < s.slots) {
					x = s.used++;
				} else {
					x = s.tail;
					lru_unlink(&s, x);
					unhash(&s, x);
					evictions++;
				}
				s.owner[x] = ids[i];
				s.chain[x] = s.bucket[hash_id(&s, ids[i])];
				s.bucket[hash_id(&s, ids[i])] = x;
			} else {
				lru_unlink(&s, x);
			}
			lru_front(&s, x);
			slot_io(&s, x, ids[i], 1);	/* recompute */
		}
		if (progress > 0 && bench_now() - last >= progress) {
			last = bench_now();
			printf("# progress: %llu requests, %llu blocks, hit rate %.3f, "
			       "%.0fs\n", (unsigned long long)reqs,
			       (unsigned long long)blocks,
			       blocks ? (double)hits / (double)blocks : 0.0, last - t0);
			fflush(stdout);
		}
		if (csv && !cxl_kv_space_stats(s.space, &st))
			bench_csv_row(csv, reqs, blocks ? (double)hits /
				      (double)blocks : 0.0, &st);
	}
	if (cxl_kv_space_stats(s.space, &st))
		memset(&st, 0, sizeof(st));
	{
		double hr = blocks ? (double)hits / (double)blocks : 0.0;
		double warm = s.read_pages ? 1.0 - (double)s.read_cold_faults /
					     (double)s.read_pages : 0.0;

		printf("# ---- serve summary ----\n");
		printf("# %-22s %16.3f\n", "seconds", bench_now() - t0);
		printf("# %-22s %16llu\n", "requests", (unsigned long long)reqs);
		printf("# %-22s %16llu\n", "blocks", (unsigned long long)blocks);
		printf("# %-22s %16llu\n", "prefix_hits", (unsigned long long)hits);
		printf("# %-22s %16llu\n", "misses_recomputed", (unsigned long long)misses);
		printf("# %-22s %16llu\n", "slot_evictions", (unsigned long long)evictions);
		printf("# %-22s %16.3f\n", "hit_rate", hr);
		printf("# %-22s %16.3f\n", "hit_pages_warm", warm);
		printf("# %-22s %16llu\n", "promotions", (unsigned long long)st.promotions);
		printf("# %-22s %16llu\n", "demotions", (unsigned long long)st.demotions);
		printf("# %-22s %16llu\n", "nvme_read_bytes", (unsigned long long)st.nvme_read_bytes);
		printf("# %-22s %16llu\n", "nvme_write_bytes", (unsigned long long)st.nvme_write_bytes);
		printf("# %-22s %16llu\n", "written_bytes", (unsigned long long)s.written_bytes);
		printf("# %-22s %16llu\n", "verified_bytes", (unsigned long long)s.verified_bytes);
		printf("# %-22s %16llu\n", "mismatches", (unsigned long long)s.mismatches);
		printf("%sok 1 serve\n", s.mismatches ? "not " : "");
		printf("serve-summary: requests=%llu hit_rate=%.3f hit_pages_warm=%.3f "
		       "promotions=%llu demotions=%llu verified_bytes=%llu\n",
		       (unsigned long long)reqs, hr, warm,
		       (unsigned long long)st.promotions,
		       (unsigned long long)st.demotions,
		       (unsigned long long)s.verified_bytes);
	}
	bench_csv_close(csv, plot_prefix, "request",
			"cxl-kv-bench serve: prefix hit rate, warm and cold pages");
	ret = s.mismatches ? 1 : 0;
out_space:
	cxl_kv_space_close(s.space);
out_free:
	free(line);
	free(s.owner);
	free(s.next);
	free(s.prev);
	free(s.chain);
	free(s.bucket);
	free(s.expect);
	fclose(in);
	return ret;
}
