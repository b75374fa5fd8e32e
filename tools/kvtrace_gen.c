// SPDX-License-Identifier: GPL-2.0
/*
 * kvtrace_gen.c - synthetic attention traces for the cxl-kv policy.
 *
 * Three kinds of KV head (fractions are knobs, defaults and sources in
 * Documentation/policy.rst):
 *   local     sink block + a recent window of win_local blocks;
 *   mixed     sink + win_mixed recent blocks + the top 'budget' fraction of
 *             the older blocks by importance; importance = a heavy-tailed
 *             (Pareto) per-block weight x an on/off regime (active and quiet
 *             spells: blocks regain importance after a quiet spell) x
 *             log-normal AR(1) noise (persistence step to step);
 *   retrieval sink + a small window + a few needle spans far back that move
 *             now and then (sometimes back to an earlier spot).
 * Prefill writes prefill_chunk tokens per step; decode writes one token per
 * step and reads.  Everything is driven by one seeded xorshift64* stream.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvtrace_model.h"

void kvtrace_cfg_default(struct kvtrace_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->layers = 32;
	c->kv_heads = 8;
	c->tokens_per_block = 16;
	c->prompt_tokens = 8192;
	c->decode_steps = 256;
	c->prefill_chunk = 512;
	c->seed = 1;
	c->frac_local = 0.60;
	c->frac_retr = 0.05;
	c->budget = 0.20;
	c->win_local = 32;
	c->win_mixed = 4;
	c->sink_local = 0.45;
	c->sink_mixed = 0.25;
	c->sink_retr = 0.10;
	c->pareto = 1.2;
	c->sigma = 0.5;
	c->rho = 0.99;
	c->on_steps = 300;
	c->off_steps = 100;
	c->quiet = 0.02;
	c->needles = 3;
	c->needle_span = 3;
	c->needle_move = 0.02;
	c->needle_return = 0.5;
	c->seqs = 1;
	c->turns = 1;
	c->turn_tokens = 512;
	c->turn_decode = 64;
	c->think = 48;
}

static const char *const preset_names =
	"tiny small llama3-8b llama3-8b-retr llama3-8b-dense llama3-8b-local llama-70b "
	"serve serve-small";

const char *kvtrace_preset_names(void)
{
	return preset_names;
}

int kvtrace_preset(const char *name, struct kvtrace_cfg *c)
{
	kvtrace_cfg_default(c);
	if (!strcmp(name, "tiny")) {
		c->layers = 2;
		c->kv_heads = 2;
		c->prompt_tokens = 1024;
		c->decode_steps = 64;
		c->prefill_chunk = 256;
	} else if (!strcmp(name, "small")) {
		c->layers = 4;
		c->kv_heads = 4;
		c->prompt_tokens = 2048;
		c->decode_steps = 128;
	} else if (!strcmp(name, "llama3-8b")) {
		/* 32 layers x 8 KV heads, defaults */
	} else if (!strcmp(name, "llama3-8b-retr")) {
		/* more retrieval heads, larger read budget, faster churn */
		c->frac_local = 0.50;
		c->frac_retr = 0.10;
		c->budget = 0.35;
		c->win_local = 64;
		c->on_steps = 250;
		c->needle_move = 0.05;
	} else if (!strcmp(name, "llama3-8b-dense")) {
		/* close to dense attention: half of the old blocks per step */
		c->frac_local = 0.50;
		c->budget = 0.50;
		c->win_local = 64;
	} else if (!strcmp(name, "llama3-8b-local")) {
		/* streaming-dominated model, small budget */
		c->frac_local = 0.75;
		c->frac_retr = 0.03;
		c->budget = 0.10;
	} else if (!strcmp(name, "serve") || !strcmp(name, "serve-small")) {
		/* 4 concurrent sessions of 4 turns, 8 layers x 8 KV heads each */
		c->seqs = 4;
		c->layers = 8;
		c->prompt_tokens = 2048;
		c->turns = 4;
		c->turn_tokens = 512;
		c->turn_decode = 64;
		c->think = 48;
		c->decode_steps = c->turns * c->turn_decode;
		if (name[5]) {
			c->seqs = 2;
			c->layers = 2;
			c->kv_heads = 2;
			c->prompt_tokens = 512;
			c->turn_tokens = 128;
			c->turn_decode = 16;
			c->decode_steps = c->turns * c->turn_decode;
		}
	} else if (!strcmp(name, "llama-70b")) {
		c->layers = 80;
		c->kv_heads = 8;
		c->prompt_tokens = 4096;
		c->decode_steps = 128;
	} else {
		return -EINVAL;
	}
	return 0;
}

int emit(struct kvtrace *t, uint32_t w)
{
	if (t->n == t->cap) {
		uint64_t nc = t->cap ? t->cap * 2 : 1 << 16;
		uint32_t *p = realloc(t->w, nc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->w = p;
		t->cap = nc;
	}
	t->w[t->n++] = w;
	return 0;
}

uint32_t mass_q16(double m)
{
	double v = m * 65536.0 + 0.5;

	if (v < 0)
		return 0;
	return v > 65535 ? 65535 : (uint32_t)v;
}

/* partial selection: the k largest of key[idx[0..n)] into idx[0..k) */
static void topk(uint32_t *idx, const float *key, uint32_t n, uint32_t k)
{
	uint32_t lo = 0, hi = n;

	if (k >= n || !k)
		return;
	while (hi - lo > 1) {
		float piv = key[idx[lo + (hi - lo) / 2]];
		uint32_t i = lo, j = hi - 1, t;

		while (i <= j) {
			while (key[idx[i]] > piv)
				i++;
			while (key[idx[j]] < piv)
				j--;
			if (i <= j) {
				t = idx[i];
				idx[i] = idx[j];
				idx[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j + 1;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

void new_block(const struct kvtrace_cfg *c, struct gq *q, uint32_t b,
		      uint32_t step, struct rng *r)
{
	q->w[b] = (float)pow(runif(r), -1.0 / c->pareto);
	q->g[b] = (float)rnorm(r);
	q->on[b] = runif(r) < c->on_steps / (c->on_steps + c->off_steps);
	q->was_off[b] = 0;
	q->flip[b] = step + rgeom(r, q->on[b] ? c->on_steps : c->off_steps);
}

void place_needle(const struct kvtrace_cfg *c, struct gq *q,
			 uint32_t i, uint32_t nb, struct rng *r)
{
	uint32_t hi = nb > c->win_mixed + 2 ? nb - c->win_mixed - 1 : 1;

	if (q->nold && runif(r) < c->needle_return) {
		q->needle[i] = q->old[rbelow(r, q->nold < 64 ? q->nold : 64)];
	} else {
		q->needle[i] = 1 + rbelow(r, hi > 1 ? hi - 1 : 1);
		q->old[q->nold % 64] = q->needle[i];
		q->nold++;
	}
	q->nspan[i] = 1 + rbelow(r, c->needle_span);
}

/* the decode reads of one head at a step (context nb blocks); emits READ */
int head_reads(const struct kvtrace_cfg *c, struct gq *q, uint32_t qi,
		      uint32_t nb, uint32_t step, struct rng *rr,
		      struct kvtrace *t, struct kvtrace_genstats *gs,
		      uint32_t *idx, float *eff, uint32_t *rd_b, double *rd_m)
{
	struct rng r = *rr;
	uint32_t layer = qi / c->kv_heads, head = qi % c->kv_heads;
	uint32_t win = q->type == H_LOCAL ? c->win_local :
		       q->type == H_MIXED ? c->win_mixed : 2;
	uint32_t nr = 0, lo, b, k, i;
	double mloc = 0, mrest, wsum, rsum;
	int ret = -ENOMEM;

	if (win + 1 > nb)
		win = nb - 1;
	lo = nb - win;		/* first block of the window */
	mrest = q->type == H_LOCAL ? 0.05 :
		q->type == H_MIXED ? 0.45 : 0.75;
	if (q->sink + mrest > 0.95)
		mrest = 0.95 - q->sink;
	mloc = 1.0 - q->sink - mrest;
	rd_b[nr] = 0;
	rd_m[nr++] = q->sink;
	/* window: mass decays with distance, nearest heaviest */
	wsum = 0;
	for (b = lo; b < nb; b++)
		wsum += 1.0 / (nb - b);
	for (b = lo; b < nb; b++) {
		if (b == 0)
			continue;
		rd_b[nr] = b;
		rd_m[nr++] = mloc / (nb - b) / wsum;
	}
	gs->sink_sum += q->sink;
	gs->sink_n++;
	if (q->type == H_LOCAL) {
		gs->loc_sum += q->sink + mloc;
		gs->loc_n++;
	}
	if (q->type == H_MIXED && lo > 1) {
		uint32_t nc = lo - 1, top8;

		wsum = 0;
		for (b = 1; b < lo; b++) {
			if (step >= q->flip[b]) {
				q->on[b] ^= 1;
				if (!q->on[b])
					q->was_off[b] = 1;
				else if (q->was_off[b])
					gs->regains++;
				q->flip[b] = step + rgeom(&r,
					q->on[b] ? c->on_steps :
						   c->off_steps);
			}
			q->g[b] = (float)(c->rho * q->g[b] +
				  sqrt(1 - c->rho * c->rho) *
				  rnorm(&r));
			eff[b] = q->w[b] *
				 (q->on[b] ? 1.0f : (float)c->quiet) *
				 expf((float)c->sigma * q->g[b]);
			wsum += eff[b];
			idx[b - 1] = b;
		}
		k = (uint32_t)(c->budget * nc + 0.5);
		if (k < 1)
			k = 1;
		topk(idx, eff, nc, k);
		rsum = 0;
		for (i = 0; i < k && i < nc; i++) {
			rd_b[nr] = idx[i];
			rd_m[nr++] = mrest * eff[idx[i]] / wsum;
			rsum += eff[idx[i]];
		}
		/* persistence of the 8 heaviest */
		top8 = k < 8 ? k : 8;
		topk(idx, eff, k < nc ? k : nc, top8);
		if (q->nprev == top8 && top8) {
			uint32_t same = 0, x, y;

			for (x = 0; x < top8; x++)
				for (y = 0; y < top8; y++)
					same += idx[x] == q->prev_top[y];
			gs->pers_sum += (double)same / top8;
			gs->pers_n++;
		}
		for (i = 0; i < top8; i++)
			q->prev_top[i] = idx[i];
		q->nprev = top8;
	} else if (q->type == H_RETR) {
		double per = mrest / c->needles;

		for (i = 0; i < c->needles; i++) {
			if (runif(&r) < c->needle_move)
				place_needle(c, q, i, nb, &r);
			for (b = q->needle[i];
			     b < q->needle[i] + q->nspan[i] && b < lo;
			     b++) {
				uint32_t j, dup = 0;

				for (j = 0; j < nr; j++)
					dup |= rd_b[j] == b;
				if (dup)
					continue;
				rd_b[nr] = b;
				rd_m[nr++] = per / q->nspan[i];
			}
		}
	}
	if (nr > 1023)
		nr = 1023;
	if (emit(t, KVTRACE_OP_READ << 28 | layer << 18 |
		    head << 10 | nr))
		goto done;
	for (i = 0; i < nr; i++)
		if (emit(t, rd_b[i] << 16 | mass_q16(rd_m[i])))
			goto done;
	gs->reads += nr;
	ret = 0;
done:
	*rr = r;
	return ret;
}

/*
 * A head of kind picked by @u (local, retrieval or mixed, in the cfg's
 * shares), its sink weight (+-40 % per head) and its per-block arrays.
 */
static int head_init(const struct kvtrace_cfg *c, struct gq *q, uint32_t bph,
		     double u, struct rng *r, struct kvtrace_genstats *gs)
{
	q->type = u < c->frac_local ? H_LOCAL :
		  u < c->frac_local + c->frac_retr ? H_RETR : H_MIXED;
	q->sink = q->type == H_LOCAL ? c->sink_local :
		  q->type == H_MIXED ? c->sink_mixed : c->sink_retr;
	q->sink *= 0.6 + 0.8 * runif(r);
	q->w = calloc(bph, sizeof(float));
	q->g = calloc(bph, sizeof(float));
	q->flip = calloc(bph, sizeof(uint32_t));
	q->on = calloc(bph, 1);
	q->was_off = calloc(bph, 1);
	q->needle = calloc(c->needles + 1, sizeof(uint32_t));
	q->nspan = calloc(c->needles + 1, sizeof(uint32_t));
	q->old = calloc(64, sizeof(uint32_t));
	if (!q->w || !q->g || !q->flip || !q->on || !q->was_off ||
	    !q->needle || !q->nspan || !q->old)
		return -ENOMEM;
	if (q->type == H_LOCAL)
		gs->n_local++;
	else if (q->type == H_MIXED)
		gs->n_mixed++;
	else
		gs->n_retr++;
	return 0;
}

/* the header of a generated trace of @layers x c->kv_heads queues */
void trace_begin(const struct kvtrace_cfg *c, struct kvtrace *t,
		 struct kvtrace_genstats *gs, uint32_t layers, uint32_t bph,
		 uint32_t decode_steps)
{
	memset(t, 0, sizeof(*t));
	memset(gs, 0, sizeof(*gs));
	memcpy(t->h.magic, KVTRACE_MAGIC, 8);
	t->h.version = 1;
	t->h.layers = layers;
	t->h.kv_heads = c->kv_heads;
	t->h.blocks_per_head = bph;
	t->h.tokens_per_block = c->tokens_per_block;
	t->h.prompt_tokens = c->prompt_tokens;
	t->h.decode_steps = decode_steps;
	t->h.prefill_chunk = c->prefill_chunk;
	t->h.seed = c->seed;
}

/*
 * Allocate @nq heads and the scratch of head_reads(), pick each head's kind
 * and emit it (KIND words, in queue order).  0 or -ENOMEM; the caller frees
 * with gen_bufs_free() either way.
 */
int heads_init(const struct kvtrace_cfg *c, struct gen_bufs *gb, uint32_t nq,
	       uint32_t bph, struct rng *r, struct kvtrace *t,
	       struct kvtrace_genstats *gs)
{
	uint32_t qi;

	gb->qs = calloc(nq, sizeof(*gb->qs));
	gb->idx = calloc(bph, sizeof(*gb->idx));
	gb->eff = calloc(bph, sizeof(*gb->eff));
	gb->rd_b = calloc(bph + 1, sizeof(*gb->rd_b));
	gb->rd_m = calloc(bph + 1, sizeof(*gb->rd_m));
	if (!gb->qs || !gb->idx || !gb->eff || !gb->rd_b || !gb->rd_m)
		return -ENOMEM;
	for (qi = 0; qi < nq; qi++) {
		struct gq *q = &gb->qs[qi];
		double u = runif(r);

		if (head_init(c, q, bph, u, r, gs))
			return -ENOMEM;
		if (emit(t, KVTRACE_OP_KIND << 28 | (qi / c->kv_heads) << 18 |
			    (qi % c->kv_heads) << 10 | (uint32_t)q->type))
			return -ENOMEM;
	}
	return 0;
}

/* the trace's length and the summary figures, at the end of a generator */
void gen_finish(struct kvtrace *t, struct kvtrace_genstats *gs, uint32_t nq)
{
	t->h.nwords = t->n;
	gs->reads_per_head_step = gs->steps ? (double)gs->reads / gs->steps / nq : 0;
	gs->hh_persistence = gs->pers_n ? gs->pers_sum / gs->pers_n : 0;
	gs->sink_mass = gs->sink_n ? gs->sink_sum / gs->sink_n : 0;
	gs->local_mass_local = gs->loc_n ? gs->loc_sum / gs->loc_n : 0;
}

void gen_bufs_free(struct gen_bufs *gb, uint32_t nq)
{
	uint32_t qi;

	if (gb->qs)
		for (qi = 0; qi < nq; qi++) {
			free(gb->qs[qi].w);
			free(gb->qs[qi].g);
			free(gb->qs[qi].flip);
			free(gb->qs[qi].on);
			free(gb->qs[qi].was_off);
			free(gb->qs[qi].needle);
			free(gb->qs[qi].nspan);
			free(gb->qs[qi].old);
		}
	free(gb->qs);
	free(gb->idx);
	free(gb->eff);
	free(gb->rd_b);
	free(gb->rd_m);
}

/*
 * kvtrace_cfg_set() - apply one "name=value" generator knob.  With
 * @geometry false the shape knobs (layers, kv_heads, prompt, decode, chunk)
 * are refused: callers that size a real space set those themselves.
 * Returns 0, or -EINVAL for an unknown knob or a malformed or negative value.
 */
int kvtrace_cfg_set(struct kvtrace_cfg *c, const char *kv, int geometry)
{
	const char *eq = strchr(kv, '=');
	char name[32];
	double v;
	char *end;

	if (!eq || eq == kv || eq - kv >= (long)sizeof(name))
		return -EINVAL;
	memcpy(name, kv, (size_t)(eq - kv));
	name[eq - kv] = 0;
	v = strtod(eq + 1, &end);
	if (end == eq + 1 || *end || v < 0)
		return -EINVAL;
#define U(n, f) if (!strcmp(name, n)) { c->f = (uint32_t)v; return 0; }
#define G(n, f) if (geometry && !strcmp(name, n)) { c->f = (uint32_t)v; return 0; }
#define D(n, f) if (!strcmp(name, n)) { c->f = v; return 0; }
	G("layers", layers) G("kv_heads", kv_heads) G("prompt", prompt_tokens)
	G("decode", decode_steps) G("chunk", prefill_chunk) G("seqs", seqs)
	G("turns", turns) G("turn_tokens", turn_tokens)
	G("turn_decode", turn_decode) D("think", think)
	U("win_local", win_local) U("win_mixed", win_mixed)
	U("needles", needles) U("needle_span", needle_span)
	D("local", frac_local) D("retr", frac_retr) D("budget", budget)
	D("sink_local", sink_local) D("sink_mixed", sink_mixed)
	D("sink_retr", sink_retr) D("pareto", pareto) D("sigma", sigma)
	D("rho", rho) D("on", on_steps) D("off", off_steps) D("quiet", quiet)
	D("needle_move", needle_move) D("needle_return", needle_return)
#undef U
#undef G
#undef D
	return -EINVAL;
}
