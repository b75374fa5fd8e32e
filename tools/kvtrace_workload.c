// SPDX-License-Identifier: GPL-2.0
/*
 * kvtrace_workload.c - the workloads of kvtrace's generator over the
 * attention model of kvtrace_gen.c: one sequence (prefill in chunks, then
 * decode), and serving (sessions of turns sharing one tier).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvtrace_model.h"

static int generate_serve(const struct kvtrace_cfg *c, struct kvtrace *t,
			  struct kvtrace_genstats *gs);

int kvtrace_generate(const struct kvtrace_cfg *c, struct kvtrace *t,
		     struct kvtrace_genstats *gs)
{
	uint32_t nq = c->layers * c->kv_heads, tpb = c->tokens_per_block;
	uint32_t total = c->prompt_tokens + c->decode_steps;
	uint32_t bph = (total + tpb - 1) / tpb;
	uint32_t step = 0, pos = 0, qi, i;
	struct gen_bufs gb = { 0 };
	struct gq *qs;
	struct rng r = { c->seed * 0x9e3779b97f4a7c15ull + 12345 };
	int ret = -ENOMEM;

	if (c->seqs > 1)
		return generate_serve(c, t, gs);
	if (!nq || nq > 1024 * 256 || c->layers > 1023 || c->kv_heads > 255 ||
	    !tpb || bph > 65535 || !c->prefill_chunk || !c->prompt_tokens)
		return -EINVAL;
	trace_begin(c, t, gs, c->layers, bph, c->decode_steps);
	if (heads_init(c, &gb, nq, bph, &r, t, gs))
		goto out;
	qs = gb.qs;

	/* prefill: chunks of writes, one step each */
	while (pos < c->prompt_tokens) {
		uint32_t n = c->prompt_tokens - pos, b0, b1, b;

		if (n > c->prefill_chunk)
			n = c->prefill_chunk;
		b0 = pos / tpb;
		b1 = (pos + n - 1) / tpb;
		for (qi = 0; qi < nq; qi++)
			for (b = b0; b <= b1; b++)
				if (b * tpb >= pos || b == 0)
					new_block(c, &qs[qi], b, step, &r);
		if (emit(t, KVTRACE_OP_STEP << 28 | step) ||
		    emit(t, KVTRACE_OP_WRITE << 28 | n))
			goto out;
		pos += n;
		step++;
	}
	for (qi = 0; qi < nq; qi++)
		if (qs[qi].type == H_RETR)
			for (i = 0; i < c->needles; i++)
				place_needle(c, &qs[qi], i,
					     (c->prompt_tokens + tpb - 1) / tpb,
					     &r);

	/* decode: one token written per step, reads per head */
	for (uint32_t d = 0; d < c->decode_steps; d++, step++) {
		uint32_t nb;

		if (pos % tpb == 0)
			for (qi = 0; qi < nq; qi++)
				new_block(c, &qs[qi], pos / tpb, step, &r);
		pos++;
		nb = (pos + tpb - 1) / tpb;
		if (emit(t, KVTRACE_OP_STEP << 28 | step) ||
		    emit(t, KVTRACE_OP_WRITE << 28 | 1))
			goto out;
		for (qi = 0; qi < nq; qi++)
			if (head_reads(c, &qs[qi], qi, nb, step, &r, t, gs, gb.idx,
				       gb.eff, gb.rd_b, gb.rd_m))
				goto out;
		gs->steps++;
	}
	gen_finish(t, gs, nq);
	ret = 0;
out:
	gen_bufs_free(&gb, nq);
	if (ret)
		kvtrace_free(t);
	return ret;
}

/*
 * Serving: c->seqs sessions run at once, each on its own c->layers x
 * kv_heads queues (global layer = seq * layers + layer), all in one tier.
 * A session: a prompt of prompt_tokens, then turns x (prefill of the turn's
 * new tokens in chunks, turn_decode decode steps, a think time of mean
 * 'think' idle steps); later turns add turn_tokens.  Sessions start
 * staggered by think / seqs steps.  A prefill chunk reads, for every head
 * that is not local, every block of the session so far (full attention over
 * the reused prefix; local heads read their sink and window only): the
 * prefill bursts between the other sessions' decode steps.  Decode reads are
 * those of the single-sequence generator.
 */
enum { S_THINK, S_PREFILL, S_DECODE, S_DONE };

static int generate_serve(const struct kvtrace_cfg *c, struct kvtrace *t,
			  struct kvtrace_genstats *gs)
{
	uint32_t L = c->layers, H = c->kv_heads, tpb = c->tokens_per_block;
	uint32_t nseq = c->seqs, nq = nseq * L * H, total, bph, step = 0;
	uint32_t *pos = NULL, *left = NULL, *turn = NULL, *until = NULL;
	uint32_t qi, s, i, b, done = 0;
	uint8_t *state = NULL;
	struct gen_bufs gb = { 0 };
	struct gq *qs;
	struct rng r = { c->seed * 0x9e3779b97f4a7c15ull + 12345 };
	int ret = -ENOMEM;

	total = c->prompt_tokens + (c->turns ? c->turns - 1 : 0) * c->turn_tokens +
		c->turns * c->turn_decode;
	bph = (total + tpb - 1) / tpb;
	if (nseq > 4095 || !L || nseq * L > 1023 || !H || H > 255 || !tpb ||
	    bph > 65535 || !c->prefill_chunk || c->prefill_chunk > 65535 ||
	    !c->prompt_tokens || !c->turns || c->turn_tokens > 65535 ||
	    (uint64_t)c->prompt_tokens + (uint64_t)c->turns *
	    (c->turn_tokens + c->turn_decode) > (1u << 24))
		return -EINVAL;
	trace_begin(c, t, gs, nseq * L, bph, c->turns * c->turn_decode);
	t->h.reserved[0] = nseq;
	pos = calloc(nseq, sizeof(*pos));
	left = calloc(nseq, sizeof(*left));
	turn = calloc(nseq, sizeof(*turn));
	until = calloc(nseq, sizeof(*until));
	state = calloc(nseq, 1);
	if (!pos || !left || !turn || !until || !state ||
	    heads_init(c, &gb, nq, bph, &r, t, gs))
		goto out;
	qs = gb.qs;
	for (s = 0; s < nseq; s++) {
		state[s] = S_THINK;
		until[s] = (uint32_t)(s * c->think / nseq);
		left[s] = c->prompt_tokens;
	}
	while (done < nseq) {
		if (emit(t, KVTRACE_OP_STEP << 28 | step))
			goto out;
		for (s = 0; s < nseq; s++) {
			uint32_t q0 = s * L * H, n, nb;

			if (state[s] == S_THINK && step >= until[s])
				state[s] = S_PREFILL;
			if (state[s] == S_PREFILL) {
				n = left[s] < c->prefill_chunk ? left[s] :
				    c->prefill_chunk;
				for (b = (pos[s] + tpb - 1) / tpb;
				     b * tpb < pos[s] + n; b++)
					for (qi = q0; qi < q0 + L * H; qi++)
						new_block(c, &qs[qi], b, step, &r);
				if (emit(t, KVTRACE_OP_SWRITE << 28 | s << 16 | n))
					goto out;
				pos[s] += n;
				left[s] -= n;
				nb = (pos[s] + tpb - 1) / tpb;
				for (qi = q0; qi < q0 + L * H && nb > 1; qi++) {
					struct gq *q = &qs[qi];
					uint32_t lo = 1, nr = 0;

					if (q->type == H_LOCAL)
						lo = nb > c->win_local + 1 ?
						     nb - c->win_local : 1;
					if (emit(t, KVTRACE_OP_READ << 28 |
						    (qi / H) << 18 | (qi % H) << 10 |
						    (nb - lo + 1 > 1023 ? 1023 :
						     nb - lo + 1)))
						goto out;
					for (b = 0; b < nb && nr < 1023; b++) {
						if (b && b < lo)
							continue;
						if (emit(t, b << 16 |
							 mass_q16(1.0 / (nb - lo + 1))))
							goto out;
						nr++;
					}
					gs->reads += nr;
				}
				if (!left[s]) {
					state[s] = S_DECODE;
					left[s] = c->turn_decode;
					for (qi = q0; qi < q0 + L * H; qi++)
						if (qs[qi].type == H_RETR)
							for (i = 0; i < c->needles; i++)
								place_needle(c, &qs[qi], i,
									     nb, &r);
				}
			} else if (state[s] == S_DECODE) {
				if (pos[s] % tpb == 0)
					for (qi = q0; qi < q0 + L * H; qi++)
						new_block(c, &qs[qi], pos[s] / tpb,
							  step, &r);
				pos[s]++;
				nb = (pos[s] + tpb - 1) / tpb;
				if (emit(t, KVTRACE_OP_SWRITE << 28 | s << 16 | 1))
					goto out;
				for (qi = q0; qi < q0 + L * H; qi++)
					if (head_reads(c, &qs[qi], qi, nb, step,
						       &r, t, gs, gb.idx, gb.eff,
						       gb.rd_b, gb.rd_m))
						goto out;
				if (!--left[s]) {
					if (++turn[s] == c->turns) {
						state[s] = S_DONE;
						done++;
					} else {
						state[s] = S_THINK;
						until[s] = step + rgeom(&r, c->think);
						left[s] = c->turn_tokens;
					}
				}
			}
		}
		gs->steps++;
		step++;
	}
	gen_finish(t, gs, nq);
	ret = 0;
out:
	gen_bufs_free(&gb, nq);
	free(pos);
	free(left);
	free(turn);
	free(until);
	free(state);
	if (ret)
		kvtrace_free(t);
	return ret;
}
