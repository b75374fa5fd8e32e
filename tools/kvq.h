/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvq.h - userspace helpers around the cold-tier codec: fp16/bf16 <->
 * float, the synthetic KV generator, element and attention-output errors.
 * Used by the unit tests, kvcodec-quality and the guest programs.
 *
 * The generator (kvq_gen_stream()) makes one (layer, head) stream pair of
 * @tokens tokens: K[t][d] = mu[d] + s[d] * g, V[t][d] = r[t] * 0.5 * g
 * (g standard normal), with per-channel scales s[d] = exp(0.4 * g) and
 * means mu[d] = 0.3 * s[d] * g, of which every 32nd channel (from channel 5)
 * is an outlier channel with its scale times 10..20 (keys have a few large
 * channels, KIVI); V's per-token scale r[t] = exp(0.2 * g) is smoother.
 */
#ifndef KVQ_H
#define KVQ_H

#include <stddef.h>
#include <stdint.h>

float kvq_h2f(uint16_t h, int bf16);
uint16_t kvq_f2h(float f, int bf16);

struct kvq_rng {
	uint64_t s;
};

double kvq_urand(struct kvq_rng *r);	/* [0, 1) */
double kvq_gauss(struct kvq_rng *r);

/* K and V of one (layer, head): @tokens x @head_dim elements each. */
void kvq_gen_stream(uint64_t seed, uint32_t tokens, uint32_t head_dim,
		    int bf16, uint16_t *k, uint16_t *v);

/* Round trip @n elements (a multiple of a page) page by page in @fmt. */
int kvq_roundtrip(int fmt, int bf16, int is_v, uint32_t head_dim,
		  const uint16_t *in, uint16_t *out, size_t n, uint64_t *bytes);

struct kvq_err {
	double max_rel;		/* max |x' - x| / max(|x| over its group... ) */
	double mean_rel;	/* mean |x' - x| / |x| over |x| >= 1e-3 * rms */
	double attn_rel;	/* ||o' - o|| / ||o|| */
};

/* Element errors of @n values. */
void kvq_elem_err(int bf16, const uint16_t *a, const uint16_t *b, size_t n,
		  struct kvq_err *e);

/*
 * Relative error of softmax(q K^T / sqrt(d)) V over @nq random queries,
 * original (k, v) vs (k2, v2); float math.
 */
double kvq_attn_err(int bf16, uint32_t tokens, uint32_t head_dim,
		    const uint16_t *k, const uint16_t *v,
		    const uint16_t *k2, const uint16_t *v2, int nq,
		    uint64_t seed);

#endif /* KVQ_H */
