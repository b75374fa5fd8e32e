// SPDX-License-Identifier: GPL-2.0
/*
 * kvscale - the seed's scale on the host: N sequences of one geometry
 * (default 8 x Llama-70B at 128K tokens: 80 layers x 8 KV heads x 128 dims,
 * fp16, 40 GiB of KV each) against one tier set, with the real freestanding
 * policy state of each (the module's code, driver/policy/), to measure what
 * the module's metadata costs at full scale and how long its policy work
 * takes: prefill writes, decode-step hints and accesses, and the demotion
 * worker's victim rounds (kvp_pick_victims_prio() per space, the candidates
 * ranked with kvp_cand_cmp(), the top ones made cold, the rest handed back),
 * as driver/reclaim.c does them.
 *
 *   kvscale [--sequences N] [--tokens T] [--layers L] [--kv-heads H]
 *           [--head-dim D] [--dtype B] [--warm-frac F] [--steps S]
 *           [--hints K] [--rounds R]
 *
 * --rounds caps the worker's rounds per decode step (default 0: as many as
 * it takes to bring the warm blocks down to --warm-frac of them, 0.25).
 *
 * The driver's part is one struct kv_entry (16 bytes, driver/kv.h) per
 * page; the policy's is kvp_state_size().  Ends with
 *   scale-summary: sequences=N kv_gib=G metadata_mib=M metadata_pct=P
 *     hint_ns=H access_ns=A victim_us=V
 * (hint_ns, access_ns: per block; victim_us: per block demoted by a round;
 * all CPU time of this process, so a loaded host does not inflate them).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "kvpolicy.h"

#define KV_ENTRY_BYTES	16	/* sizeof(struct kv_entry), driver/kv.h */
#define PAGE		4096ULL
#define ROUND_NEED	64	/* blocks per worker round (reclaim.c) */
#define MAX_SEQ		32	/* reclaim.c ranks up to 32 spaces a round */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static int cand_cmp(const void *a, const void *b)
{
	return kvp_cand_cmp(a, b);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: kvscale [--sequences N] [--tokens T] [--layers L] [--kv-heads H]\n"
		"               [--head-dim D] [--dtype B] [--warm-frac F] [--steps S]\n"
		"               [--hints K] [--rounds R]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sequences", 1, NULL, 'n' }, { "tokens", 1, NULL, 't' },
		{ "layers", 1, NULL, 'l' }, { "kv-heads", 1, NULL, 'k' },
		{ "head-dim", 1, NULL, 'd' }, { "dtype", 1, NULL, 'b' },
		{ "warm-frac", 1, NULL, 'w' }, { "steps", 1, NULL, 's' },
		{ "hints", 1, NULL, 'h' }, { "rounds", 1, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	uint32_t nseq = 8, layers = 80, heads = 8, dim = 128, dtype = 2;
	uint32_t steps = 4, hints = 64, rounds = 0;	/* 0: to the budget */
	uint64_t tokens = 128 * 1024;
	double warm_frac = 0.25;
	struct kvp_state *st[MAX_SEQ];
	struct kvp_params par;
	struct kvp_geom g;
	struct kvg_space gs;
	struct kvg_layout lo;
	enum kvg_why why;
	struct kvp_cand *cand;
	uint32_t *blks, *prio, step = 0;
	uint64_t psize, pages, blocks, total_blocks, warm_budget, warm;
	uint64_t nhint = 0, nacc = 0, victims = 0, nrounds = 0;
	double t0, t_prefill, t_hint = 0, t_acc = 0, t_vict = 0;
	double meta, kv;
	struct rusage ru;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': nseq = strtoul(optarg, NULL, 0); break;
		case 't': tokens = strtoull(optarg, NULL, 0); break;
		case 'l': layers = strtoul(optarg, NULL, 0); break;
		case 'k': heads = strtoul(optarg, NULL, 0); break;
		case 'd': dim = strtoul(optarg, NULL, 0); break;
		case 'b': dtype = strtoul(optarg, NULL, 0); break;
		case 'w': warm_frac = strtod(optarg, NULL); break;
		case 's': steps = strtoul(optarg, NULL, 0); break;
		case 'h': hints = strtoul(optarg, NULL, 0); break;
		case 'r': rounds = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!nseq || nseq > MAX_SEQ || warm_frac <= 0 || warm_frac > 1)
		usage();
	gs.layers = layers;
	gs.kv_heads = heads;
	gs.head_dim = dim;
	gs.dtype_bytes = dtype;
	gs.max_tokens = tokens;
	/* a space the module would create, laid out as the module does */
	if (kvg_layout(&gs, PAGE, &lo, &why)) {
		fprintf(stderr, "kvscale: SPACE_CREATE refuses the geometry: %s\n",
			kvg_why_str(why));
		return 1;
	}
	g.layers = layers;
	g.kv_heads = heads;
	g.tokens_per_block = lo.tokens_per_block;
	g.blocks_per_head = lo.blocks_per_stream;
	if (hints > g.blocks_per_head)
		hints = g.blocks_per_head;
	psize = kvp_state_size(&g);
	if (!psize) {
		fprintf(stderr, "kvscale: the policy refuses the geometry\n");
		return 1;
	}
	blocks = (uint64_t)layers * heads * g.blocks_per_head;
	pages = 2 * blocks;
	total_blocks = blocks * nseq;
	warm_budget = (uint64_t)(total_blocks * warm_frac);
	kvp_params_default(&par);

	printf("# %u sequences: %u layers x %u KV heads x %u dims x %u bytes, %llu tokens: "
	       "%llu pages (%.1f GiB) each\n", nseq, layers, heads, dim, dtype,
	       (unsigned long long)tokens, (unsigned long long)pages,
	       pages * PAGE / 1073741824.0);
	meta = (double)pages * KV_ENTRY_BYTES + psize;
	kv = (double)pages * PAGE;
	printf("# metadata per sequence: driver %llu B (%u B/page) + policy %llu B "
	       "(%.2f B/page) = %.1f MiB, %.3f %% of its KV\n",
	       (unsigned long long)(pages * KV_ENTRY_BYTES), KV_ENTRY_BYTES,
	       (unsigned long long)psize, (double)psize / pages, meta / 1048576,
	       meta * 100 / kv);

	t0 = now();
	for (uint32_t s = 0; s < nseq; s++) {
		st[s] = aligned_alloc(8, (psize + 7) & ~7ULL);
		if (!st[s] || kvp_init(st[s], psize, &g, &par)) {
			fprintf(stderr, "kvscale: no policy state %u (%llu bytes)\n",
				s, (unsigned long long)psize);
			return 1;
		}
	}
	/* prefill: every block written once, in token order per head */
	for (uint32_t s = 0; s < nseq; s++)
		for (uint32_t b = 0; b < g.blocks_per_head; b++)
			for (uint32_t q = 0; q < layers * heads; q++)
				kvp_on_write(st[s], q * g.blocks_per_head + b, step);
	t_prefill = now() - t0;
	printf("# prefill: %llu blocks written in %.2f s (%.0f ns/block, with init)\n",
	       (unsigned long long)total_blocks, t_prefill,
	       t_prefill * 1e9 / total_blocks);

	cand = calloc((size_t)nseq * ROUND_NEED, sizeof(*cand));
	blks = calloc(ROUND_NEED, sizeof(*blks));
	prio = calloc(ROUND_NEED, sizeof(*prio));
	if (!cand || !blks || !prio)
		return 1;
	warm = total_blocks;
	for (uint32_t k = 0; k < steps; k++) {
		step++;
		/* decode: each sequence reads all its blocks and hints the top */
		t0 = now();
		for (uint32_t s = 0; s < nseq; s++)
			for (uint32_t q = 0; q < layers * heads; q++)
				for (uint32_t h = 0; h < hints; h++) {
					uint32_t b = rnd() % g.blocks_per_head;

					kvp_on_hint(st[s], q * g.blocks_per_head + b,
						    1 + rnd() % 4096, step);
					nhint++;
				}
		t_hint += now() - t0;
		t0 = now();
		for (uint32_t s = 0; s < nseq; s++)
			for (uint64_t i = 0; i < blocks; i++)
				kvp_on_access(st[s], (uint32_t)i, step);
		nacc += total_blocks;
		t_acc += now() - t0;
		/* the worker: rounds until warm <= budget (or the round cap) */
		t0 = now();
		while (warm > warm_budget &&
		       (!rounds || nrounds < (uint64_t)rounds * (k + 1))) {
			uint32_t nc = 0, took = 0;

			for (uint32_t s = 0; s < nseq; s++) {
				int nv = kvp_pick_victims_prio(st[s], ROUND_NEED, blks,
							       prio, step);

				for (int i = 0; i < nv; i++) {
					struct kvp_cand *x = &cand[nc++];

					x->prio = prio[i];
					x->blk = blks[i];
					x->given = 0;
					x->rank = (uint16_t)i;
					x->ord = (uint8_t)s;
					x->taken = 0;
				}
			}
			if (!nc)
				break;
			qsort(cand, nc, sizeof(*cand), cand_cmp);
			for (uint32_t i = 0; i < nc; i++) {
				if (i < ROUND_NEED && warm - took > warm_budget) {
					kvp_set_cold(st[cand[i].ord], cand[i].blk);
					took++;
				} else {
					kvp_set_resident(st[cand[i].ord], cand[i].blk,
							 KVP_BY_ABORT);
				}
			}
			warm -= took;
			victims += took;
			nrounds++;
		}
		t_vict += now() - t0;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("# decode: %u steps: %llu hints %.1f ns each, %llu accesses %.1f ns each\n",
	       steps, (unsigned long long)nhint, t_hint * 1e9 / (nhint ? nhint : 1),
	       (unsigned long long)nacc, t_acc * 1e9 / (nacc ? nacc : 1));
	printf("# worker: %llu rounds of %u spaces, %llu blocks demoted in %.2f s: "
	       "%.2f us per block, %.1f us per round; warm %llu of budget %llu blocks\n",
	       (unsigned long long)nrounds, nseq, (unsigned long long)victims,
	       t_vict, t_vict * 1e6 / (victims ? victims : 1),
	       t_vict * 1e6 / (nrounds ? nrounds : 1),
	       (unsigned long long)warm, (unsigned long long)warm_budget);
	printf("# max RSS %.1f MiB (the policy states; the driver's entries are counted, not allocated)\n",
	       ru.ru_maxrss / 1024.0);
	printf("scale-summary: sequences=%u kv_gib=%.1f metadata_mib=%.1f metadata_pct=%.3f "
	       "hint_ns=%.1f access_ns=%.1f victim_us=%.2f\n", nseq,
	       nseq * kv / 1073741824.0, nseq * meta / 1048576, meta * 100 / kv,
	       t_hint * 1e9 / (nhint ? nhint : 1), t_acc * 1e9 / (nacc ? nacc : 1),
	       t_vict * 1e6 / (victims ? victims : 1));
	for (uint32_t s = 0; s < nseq; s++)
		free(st[s]);
	free(cand);
	free(blks);
	free(prio);
	return 0;
}
