// SPDX-License-Identifier: GPL-2.0
/* kvq.c - see kvq.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvcodec.h"
#include "kvq.h"

float kvq_h2f(uint16_t h, int bf16)
{
	uint32_t u;
	float f;

	if (bf16) {
		u = (uint32_t)h << 16;
		memcpy(&f, &u, 4);
		return f;
	}
	{
		uint32_t s = h >> 15, e = (h >> 10) & 31, m = h & 1023;

		if (e == 31)
			f = m ? NAN : INFINITY;
		else if (!e)
			f = ldexpf((float)m, -24);
		else
			f = ldexpf((float)(m | 1024), (int)e - 25);
		return s ? -f : f;
	}
}

uint16_t kvq_f2h(float f, int bf16)
{
	uint32_t u, s;

	memcpy(&u, &f, 4);
	if (bf16) {
		if (isnan(f))
			return (uint16_t)((u >> 16) | 0x40);
		u += 0x7fff + ((u >> 16) & 1);
		return (uint16_t)(u >> 16);
	}
	s = (u >> 16) & 0x8000;
	if (isnan(f))
		return (uint16_t)(s | 0x7e00);
	f = fabsf(f);
	if (f >= 65520.0f)
		return (uint16_t)(s | 0x7c00);
	if (f < ldexpf(1, -14)) {
		/* subnormal: units of 2^-24, rint() rounds to even */
		return (uint16_t)(s | (uint32_t)rintf(ldexpf(f, 24)));
	}
	{
		int e;
		float m = frexpf(f, &e);	/* [0.5, 1) * 2^e */
		uint32_t mi = (uint32_t)rintf(ldexpf(m, 11));	/* 1024..2048 */

		if (mi == 2048) {
			mi = 1024;
			e++;
		}
		if (e + 14 > 30)
			return (uint16_t)(s | 0x7c00);
		return (uint16_t)(s | (uint32_t)(e + 14) << 10 | (mi & 1023));
	}
}

double kvq_urand(struct kvq_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return ((r->s * 2685821657736338717ull) >> 11) * (1.0 / 9007199254740992.0);
}

double kvq_gauss(struct kvq_rng *r)
{
	double u = kvq_urand(r), w = kvq_urand(r);

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * w);
}

void kvq_gen_stream(uint64_t seed, uint32_t tokens, uint32_t head_dim,
		    int bf16, uint16_t *k, uint16_t *v)
{
	struct kvq_rng r = { seed * 0x9e3779b97f4a7c15ull + 1 };
	double *s = malloc(head_dim * sizeof(*s));
	double *mu = malloc(head_dim * sizeof(*mu));
	uint32_t t, d;

	for (d = 0; d < head_dim; d++) {
		s[d] = exp(0.4 * kvq_gauss(&r));
		if (d % 32 == 5)
			s[d] *= 10 + 10 * kvq_urand(&r);
		mu[d] = 0.3 * s[d] * kvq_gauss(&r);
	}
	for (t = 0; t < tokens; t++) {
		double rt = exp(0.2 * kvq_gauss(&r));

		for (d = 0; d < head_dim; d++) {
			k[(size_t)t * head_dim + d] =
				kvq_f2h((float)(mu[d] + s[d] * kvq_gauss(&r)), bf16);
			v[(size_t)t * head_dim + d] =
				kvq_f2h((float)(rt * 0.5 * kvq_gauss(&r)), bf16);
		}
	}
	free(s);
	free(mu);
}

int kvq_roundtrip(int fmt, int bf16, int is_v, uint32_t head_dim,
		  const uint16_t *in, uint16_t *out, size_t n, uint64_t *bytes)
{
	struct kvc_geom g = { head_dim, (uint8_t)bf16, (uint8_t)is_v };
	uint8_t obj[KVC_PAGE + KVC_HDR];
	size_t per = KVC_PAGE / 2, i;

	for (i = 0; i < n; i += per) {
		uint32_t len = kvc_encode(fmt, &g, in + i, obj);

		if (!len) {
			memcpy(out + i, in + i, KVC_PAGE);
			*bytes += KVC_PAGE;
			continue;
		}
		if (kvc_decode(fmt, &g, obj, len, out + i))
			return -1;
		*bytes += len;
	}
	return 0;
}

void kvq_elem_err(int bf16, const uint16_t *a, const uint16_t *b, size_t n,
		  struct kvq_err *e)
{
	double rms = 0, sum = 0;
	size_t i, cnt = 0;

	for (i = 0; i < n; i++) {
		double x = kvq_h2f(a[i], bf16);

		rms += x * x;
	}
	rms = sqrt(rms / (double)n);
	e->max_rel = 0;
	for (i = 0; i < n; i++) {
		double x = kvq_h2f(a[i], bf16), y = kvq_h2f(b[i], bf16);
		double rel;

		if (fabs(x) < 1e-3 * rms)
			continue;
		rel = fabs(y - x) / fabs(x);
		if (rel > e->max_rel)
			e->max_rel = rel;
		sum += rel;
		cnt++;
	}
	e->mean_rel = cnt ? sum / (double)cnt : 0;
}

static void kvq_attn(uint32_t tokens, uint32_t d, const float *q, int bf16,
		     const uint16_t *k, const uint16_t *v, double *o, double *w)
{
	double mx = -1e300, sum = 0;
	uint32_t t, j;

	for (t = 0; t < tokens; t++) {
		double dot = 0;

		for (j = 0; j < d; j++)
			dot += q[j] * kvq_h2f(k[(size_t)t * d + j], bf16);
		w[t] = dot / sqrt((double)d);
		if (w[t] > mx)
			mx = w[t];
	}
	for (t = 0; t < tokens; t++) {
		w[t] = exp(w[t] - mx);
		sum += w[t];
	}
	for (j = 0; j < d; j++)
		o[j] = 0;
	for (t = 0; t < tokens; t++)
		for (j = 0; j < d; j++)
			o[j] += w[t] / sum * kvq_h2f(v[(size_t)t * d + j], bf16);
}

double kvq_attn_err(int bf16, uint32_t tokens, uint32_t head_dim,
		    const uint16_t *k, const uint16_t *v,
		    const uint16_t *k2, const uint16_t *v2, int nq,
		    uint64_t seed)
{
	struct kvq_rng r = { seed * 0x9e3779b97f4a7c15ull + 7 };
	float *q = malloc(head_dim * sizeof(*q));
	double *o = malloc(head_dim * sizeof(*o));
	double *o2 = malloc(head_dim * sizeof(*o2));
	double *w = malloc(tokens * sizeof(*w));
	double num = 0, den = 0;
	uint32_t j;
	int i;

	for (i = 0; i < nq; i++) {
		/* queries of the keys' scale: logits spread over a few units */
		for (j = 0; j < head_dim; j++)
			q[j] = (float)(kvq_gauss(&r) * 0.25);
		kvq_attn(tokens, head_dim, q, bf16, k, v, o, w);
		kvq_attn(tokens, head_dim, q, bf16, k2, v2, o2, w);
		for (j = 0; j < head_dim; j++) {
			num += (o2[j] - o[j]) * (o2[j] - o[j]);
			den += o[j] * o[j];
		}
	}
	free(q);
	free(o);
	free(o2);
	free(w);
	return den > 0 ? sqrt(num / den) : 0;
}
