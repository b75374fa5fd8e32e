// SPDX-License-Identifier: GPL-2.0
/*
 * kvcodec.c - the cold-tier page codec (see kvcodec.h).  Integer only.
 *
 * An element x = M * 2^E (M the integer significand, implicit bit included,
 * E its exponent); a scale code c = 128 + 4k + f is 2^k * 2^(f/4).  Then
 * x / scale = M * 2^(E - k) * 2^(-f/4), computed as (M * RCP[f]) * 2^(E -
 * k - 30) with RCP in Q30, and scale * y = (y * MUL[f]) * 2^(k - 30).  Every
 * conversion to a float format (fp16, bf16, e4m3) goes through
 * kvc_to_float(): round to nearest, ties to even, subnormals, saturation at
 * the largest finite value.
 */
#include "kvcodec.h"
#include "kvcodec_tab.h"

#define KVC_Q		30
static const kvc_u32 kvc_mul[4] = {	/* 2^(f/4) in Q30 */
	1073741824u, 1276901417u, 1518500250u, 1805811301u,
};
static const kvc_u32 kvc_rcp[4] = {	/* 2^(-f/4) in Q30 */
	1073741824u, 902905651u, 759250125u, 638450708u,
};

/* Float formats: mantissa bits, exponent bias, bits of the largest finite. */
struct kvc_ffmt {
	int mbits;
	int bias;
	kvc_u32 maxbits;
};

static const struct kvc_ffmt kvc_fp16 = { 10, 15, 0x7bff };
static const struct kvc_ffmt kvc_bf16 = { 7, 127, 0x7f7f };
static const struct kvc_ffmt kvc_e4m3 = { 3, 7, 0x7e };	/* 448 */

static int kvc_bitlen(kvc_u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

/* x >> s rounded to nearest, ties to even; s may be <= 0 (shift left). */
static inline kvc_u64 kvc_shr_rne(kvc_u64 x, int s)
{
	if (s <= 0)
		return kvc_bitlen(x) - s > 63 ? ~0ull : x << -s;
	if (s > 63)
		return 0;
	/* + half - 1, + 1 more when the quotient is odd; x < 2^63 here */
	if (x >> 63)
		return (x >> s) + (((x >> (s - 1)) & 1) &&
				   ((x & ((1ull << (s - 1)) - 1)) || ((x >> s) & 1)));
	return (x + (1ull << (s - 1)) - 1 + ((x >> s) & 1)) >> s;
}

/* Bits (no sign) of the float nearest to n * 2^e2 in format @f, saturated. */
static inline kvc_u32 kvc_to_float(kvc_u64 n, int e2, const struct kvc_ffmt *f)
{
	int l, x;
	kvc_u64 m, bits;

	if (!n)
		return 0;
	l = kvc_bitlen(n);
	x = l - 1 + e2;			/* unbiased exponent */
	if (x > f->bias + 1)		/* surely above the largest finite */
		return f->maxbits;
	if (x >= 1 - f->bias) {
		/* normal: mbits + 1 significant bits; a carry bumps the exponent */
		m = kvc_shr_rne(n, l - 1 - f->mbits);
		bits = ((kvc_u64)(x + f->bias - 1) << f->mbits) + m;
	} else {
		/* subnormal: units of 2^(1 - bias - mbits) */
		bits = kvc_shr_rne(n, 1 - f->bias - f->mbits - e2);
	}
	return bits > f->maxbits ? f->maxbits : (kvc_u32)bits;
}

/* Split the magnitude bits @h (no sign) of fp16/bf16 into M, E. */
static kvc_u32 kvc_unpack(kvc_u32 h, int bf16, int *e)
{
	int mb = bf16 ? 7 : 10, bias = bf16 ? 127 : 15;
	kvc_u32 ex = h >> mb, m = h & ((1u << mb) - 1);

	*e = (ex ? (int)ex : 1) - bias - mb;
	return ex ? m | (1u << mb) : m;
}

/* |x| / scale(code) as n * 2^-30: returns n and sets *e2 (= E - k - 30). */
static kvc_u64 kvc_div_scale(kvc_u32 mag, int bf16, int code, int *e2)
{
	int e, c = code - 128, k = c >> 2, f = c & 3;
	kvc_u64 m = kvc_unpack(mag, bf16, &e);

	*e2 = e - k - KVC_Q;
	return m * kvc_rcp[f];
}

static kvc_s32 kvc_quant_int(kvc_u32 mag, int bf16, int code, kvc_s32 qmax)
{
	int e2;
	kvc_u64 n = kvc_div_scale(mag, bf16, code, &e2);
	kvc_u64 q = kvc_shr_rne(n, -e2);

	return q > (kvc_u64)qmax ? qmax : (kvc_s32)q;
}

/* Does a group whose largest magnitude is @mag fit scale @code? */
static int kvc_fits(kvc_u32 mag, int bf16, int code, int fmt)
{
	int e2;
	kvc_u64 n = kvc_div_scale(mag, bf16, code, &e2);

	if (fmt == KVC_FP8) {
		/* n * 2^e2 <= 448 */
		if (e2 >= 0)
			return kvc_bitlen(n) + e2 <= 9 && (n << e2) <= 448;
		return -e2 > 40 || n <= (448ull << -e2);
	}
	return kvc_shr_rne(n, -e2) <= (fmt == KVC_INT8 ? 127u : 7u);
}

/* The smallest scale code (1..255) that @mag fits, or 0 if none. */
static int kvc_pick_code(kvc_u32 mag, int bf16, int fmt)
{
	int e, x, q4, code, top = fmt == KVC_INT8 ? 7 : fmt == KVC_FP8 ? 9 : 3;
	kvc_u32 m = kvc_unpack(mag, bf16, &e), mn;

	/*
	 * log2(mag) is in [x + q4 / 4, x + (q4 + 1) / 4) (q4 from the top
	 * mantissa bits against 2^(1/4), 2^(2/4), 2^(3/4) in Q31); the scale
	 * that fits is above mag / 2^(top - 0.2): start a quarter octave
	 * below mag / 2^top, at most 3 steps from the answer.
	 */
	x = kvc_bitlen(m) - 1 + e;
	mn = (kvc_u32)((kvc_u64)m << (32 - kvc_bitlen(m)));
	q4 = (mn >= 0x9837f051u) + (mn >= 0xb504f334u) + (mn >= 0xd744fccbu);
	code = 128 + 4 * (x - top) + q4 - 1;
	if (code < 1)
		code = 1;
	for (; code <= 255; code++)
		if (kvc_fits(mag, bf16, code, fmt))
			break;
	/* Not even the smallest scale is too big: below the range, raw. */
	if (code > 255 || (code == 1 && kvc_fits(mag, bf16, 0, fmt) &&
			   kvc_quant_int(mag, bf16, 1, 127) < 2))
		return 0;
	return code;
}

/*
 * Element i of a page (2 bytes, little endian): one 16-bit access where the
 * host is little endian (any alignment: the type says 1), else by bytes.
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define KVC_LE 1
#else
#define KVC_LE 0
#endif
typedef kvc_u16 kvc_u16a __attribute__((may_alias, aligned(1)));

static inline kvc_u32 kvc_ld16(const kvc_u8 *p, kvc_u32 i)
{
	if (KVC_LE)
		return ((const kvc_u16a *)p)[i];
	return p[2 * i] | (kvc_u32)p[2 * i + 1] << 8;
}

static inline void kvc_st16(kvc_u8 *p, kvc_u32 i, kvc_u32 v)
{
	if (KVC_LE) {
		((kvc_u16a *)p)[i] = (kvc_u16)v;
		return;
	}
	p[2 * i] = (kvc_u8)v;
	p[2 * i + 1] = (kvc_u8)(v >> 8);
}

static kvc_u64 kvc_ld64(const kvc_u8 *p)
{
	return (kvc_u64)p[0] | (kvc_u64)p[1] << 8 | (kvc_u64)p[2] << 16 |
	       (kvc_u64)p[3] << 24 | (kvc_u64)p[4] << 32 | (kvc_u64)p[5] << 40 |
	       (kvc_u64)p[6] << 48 | (kvc_u64)p[7] << 56;
}

#define KVC_SUM_MUL	0x100000001b3ull	/* the 64-bit FNV prime */

/*
 * Eight bytes a step: x = (x ^ word) * prime, then x ^= x >> 32 so the
 * high bits reach the low ones.  Each step is a bijection of x for a given
 * word and injective in the word for a given x: one changed word always
 * changes the 64-bit state; the result folds it to 32 bits.
 */
kvc_u32 kvc_sum(kvc_u32 h, const void *p, kvc_u32 n)
{
	const kvc_u8 *b = p;
	kvc_u64 x = (h | (kvc_u64)n << 32) * KVC_SUM_MUL;
	kvc_u32 i;

	for (i = 0; i + 8 <= n; i += 8) {
		x = (x ^ kvc_ld64(b + i)) * KVC_SUM_MUL;
		x ^= x >> 32;
	}
	for (; i < n; i++) {
		x = (x ^ b[i]) * KVC_SUM_MUL;
		x ^= x >> 32;
	}
	return (kvc_u32)(x ^ (x >> 32));
}

static int kvc_lossy(int fmt)
{
	return fmt == KVC_INT8 || fmt == KVC_FP8 || fmt == KVC_INT4;
}

/* Elements of a V group: a token's channels, int4 in slices of KVC_INT4_VG. */
static kvc_u32 kvc_vgroup(int fmt, const struct kvc_geom *g)
{
	return fmt == KVC_INT4 && g->head_dim > KVC_INT4_VG ? KVC_INT4_VG :
							       g->head_dim;
}

kvc_u32 kvc_groups(int fmt, const struct kvc_geom *g)
{
	return g->is_v ? KVC_PAGE / 2 / kvc_vgroup(fmt, g) : g->head_dim;
}

static int kvc_geom_ok(const struct kvc_geom *g)
{
	return g->head_dim && g->head_dim <= KVC_PAGE / 2 &&
	       !(g->head_dim & (g->head_dim - 1));
}

kvc_u32 kvc_lossy_size(int fmt, const struct kvc_geom *g)
{
	kvc_u32 n = KVC_PAGE / 2;

	if (!kvc_lossy(fmt) || !kvc_geom_ok(g))
		return 0;
	return KVC_HDR + kvc_groups(fmt, g) + (fmt == KVC_INT4 ? n / 2 : n);
}

static kvc_u8 kvc_hflags(int fmt, const struct kvc_geom *g)
{
	return (kvc_u8)(fmt | (g->is_v ? KVC_H_V : 0) |
			(g->bf16 ? KVC_H_BF16 : 0));
}

void kvc_header(int fmt, const struct kvc_geom *g, void *obj, kvc_u32 plen)
{
	kvc_u8 *h = obj;
	kvc_u32 s;

	h[0] = KVC_MAGIC;
	h[1] = kvc_hflags(fmt, g);
	h[2] = (kvc_u8)plen;
	h[3] = (kvc_u8)(plen >> 8);
	s = kvc_sum(KVC_SUM_SEED, h, 4);
	s = kvc_sum(s, h + KVC_HDR, plen);
	h[4] = (kvc_u8)s;
	h[5] = (kvc_u8)(s >> 8);
	h[6] = (kvc_u8)(s >> 16);
	h[7] = (kvc_u8)(s >> 24);
}

kvc_s32 kvc_check(int fmt, const struct kvc_geom *g, const void *obj,
		  kvc_u32 len)
{
	const kvc_u8 *h = obj;
	kvc_u32 plen, s;

	if (len < KVC_HDR || h[0] != KVC_MAGIC || h[1] != kvc_hflags(fmt, g))
		return -KVC_EINVAL;
	plen = h[2] | (kvc_u32)h[3] << 8;
	if (plen > len - KVC_HDR)
		return -KVC_EINVAL;
	s = kvc_sum(KVC_SUM_SEED, h, 4);
	s = kvc_sum(s, h + KVC_HDR, plen);
	if (s != (h[4] | (kvc_u32)h[5] << 8 | (kvc_u32)h[6] << 16 |
		  (kvc_u32)h[7] << 24))
		return -KVC_EINVAL;
	return (kvc_s32)plen;
}

void kvc_group(int fmt, const struct kvc_geom *g, kvc_u32 gi, kvc_u32 *first,
	       kvc_u32 *step, kvc_u32 *n)
{
	if (g->is_v) {
		*n = kvc_vgroup(fmt, g);
		*first = gi * *n;
		*step = 1;
	} else {
		*first = gi;
		*step = g->head_dim;
		*n = kvc_tokens(g);
	}
}

/*
 * The quantizer of one group, its divisions turned into a multiply and a
 * shift: |x| / scale = m * rcp[f] * 2^-(sbase - ex), m the significand,
 * ex the biased exponent (1 for subnormals).
 */
struct kvc_qp {
	kvc_u64 rcp;
	int sbase;
	int mb;
	kvc_u32 mmask;
};

static inline void kvc_qp_init(struct kvc_qp *p, int code, int bf16)
{
	int c = code - 128;

	p->mb = bf16 ? 7 : 10;
	p->mmask = (1u << p->mb) - 1;
	p->rcp = kvc_rcp[c & 3];
	p->sbase = (c >> 2) + KVC_Q + (bf16 ? 127 : 15) + p->mb;
}

/* n and its shift: |x| / scale = n * 2^-*s. */
static inline kvc_u64 kvc_qp_div(const struct kvc_qp *p, kvc_u32 mag, int *s)
{
	kvc_u32 ex = mag >> p->mb, m = mag & p->mmask;

	if (ex)
		m |= p->mmask + 1;
	else
		ex = 1;
	*s = p->sbase - (int)ex;
	return m * p->rcp;
}

/* round(|x| / scale), ties to even, at most @qmax (kvc_quant_int()). */
static inline kvc_u32 kvc_qp_int(const struct kvc_qp *p, kvc_u32 mag, kvc_u32 qmax)
{
	int s;
	kvc_u64 n = kvc_qp_div(p, mag, &s);

	if (s > 63)
		return 0;
	if (s <= 0)		/* not for a group that fits its scale */
		return qmax;
	n = (n + (1ull << (s - 1)) - 1 + ((n >> s) & 1)) >> s;
	return n > qmax ? qmax : (kvc_u32)n;
}

kvc_u32 kvc_encode(int fmt, const struct kvc_geom *g, const void *src,
		   void *dst)
{
	const kvc_u8 *s = src;
	kvc_u8 *o = dst, *codes = o + KVC_HDR, *data;
	kvc_u32 size = kvc_lossy_size(fmt, g), ng, gi, i, n;
	kvc_u32 qmax = fmt == KVC_INT8 ? 127 : 7;
	kvc_u32 inf = g->bf16 ? 0x7f80 : 0x7c00;
	int bf16 = g->bf16 ? 1 : 0;

	if (!size)
		return 0;
	ng = kvc_groups(fmt, g);
	data = codes + ng;
	if (fmt == KVC_INT4)
		for (i = 0; i < KVC_PAGE / 4; i++)
			data[i] = 0;
	for (gi = 0; gi < ng; gi++) {
		kvc_u32 first, step, j, idx, mx = 0;
		struct kvc_qp qp;
		int code;

		kvc_group(fmt, g, gi, &first, &step, &n);
		for (j = 0, idx = first; j < n; j++, idx += step) {
			kvc_u32 m = kvc_ld16(s, idx) & 0x7fff;

			if (m > mx)
				mx = m;
		}
		/* NaN and Inf are the largest magnitudes: such a page goes raw */
		if (mx >= inf)
			return 0;
		code = 0;
		if (mx) {
			code = kvc_pick_code(mx, bf16, fmt);
			if (!code)
				return 0;	/* outside the scales' range */
		}
		codes[gi] = (kvc_u8)code;
		if (!code) {
			for (j = 0, idx = first; j < n; j++, idx += step)
				if (fmt != KVC_INT4)
					data[idx] = 0;
			continue;
		}
		kvc_qp_init(&qp, code, bf16);
		if (fmt == KVC_FP8) {
			for (j = 0, idx = first; j < n; j++, idx += step) {
				kvc_u32 h = kvc_ld16(s, idx), b;
				int sh;
				kvc_u64 v = kvc_qp_div(&qp, h & 0x7fff, &sh);

				b = kvc_to_float(v, -sh, &kvc_e4m3);
				data[idx] = (kvc_u8)(b ? b | (h >> 15) << 7 : 0);
			}
		} else if (fmt == KVC_INT8) {
			for (j = 0, idx = first; j < n; j++, idx += step) {
				kvc_u32 h = kvc_ld16(s, idx);
				kvc_u32 q = kvc_qp_int(&qp, h & 0x7fff, qmax);

				data[idx] = (kvc_u8)(h >> 15 ? -q : q);
			}
		} else {
			for (j = 0, idx = first; j < n; j++, idx += step) {
				kvc_u32 h = kvc_ld16(s, idx);
				kvc_u32 q = kvc_qp_int(&qp, h & 0x7fff, qmax);

				q = h >> 15 ? -q : q;
				data[idx / 2] |= (kvc_u8)((q & 15) << (4 * (idx & 1)));
			}
		}
	}
	kvc_header(fmt, g, o, size - KVC_HDR);
	return size;
}

kvc_u16 kvc_dequant_int(kvc_s32 q, kvc_u8 code, int bf16)
{
	int c = (int)code - 128, k = c >> 2, f = c & 3;
	kvc_u32 a = (kvc_u32)(q < 0 ? -q : q), bits;

	if (!code || !a)
		return 0;
	bits = kvc_to_float((kvc_u64)a * kvc_mul[f], k - KVC_Q,
			    bf16 ? &kvc_bf16 : &kvc_fp16);
	return (kvc_u16)(bits | (q < 0 ? 0x8000u : 0));
}

kvc_u16 kvc_dequant_fp8(kvc_u8 b, kvc_u8 code, int bf16)
{
	int c = (int)code - 128, k = c >> 2, f = c & 3;
	kvc_u32 ex = (b >> 3) & 15, m = b & 7, bits;
	int e;

	if (!code || !(b & 0x7f))
		return 0;
	if (ex) {
		m |= 8;
		e = (int)ex - 7 - 3;
	} else {
		e = -6 - 3;
	}
	bits = kvc_to_float((kvc_u64)m * kvc_mul[f], e + k - KVC_Q,
			    bf16 ? &kvc_bf16 : &kvc_fp16);
	return (kvc_u16)(bits | (b & 0x80 ? 0x8000u : 0));
}

/*
 * Element @b (an int8/int4 code or an e4m3 byte) of a group with scale
 * @code: the table holds it at scale exponent 0, rounded as kvc_to_float()
 * would; scaling by 2^k adds k to the exponent field, exact while the
 * result stays normal.  Other results take the slow path.
 */
kvc_u16 kvc_dequant_fast(int fmt, kvc_s32 q, int code, int bf16)
{
	int c = code - 128, k = c >> 2, f = c & 3, mb = bf16 ? 7 : 10;
	kvc_u32 a, t, neg, ex;

	if (!code)
		return 0;
	if (fmt == KVC_FP8) {
		a = (kvc_u32)q & 0x7f;
		neg = (kvc_u32)q & 0x80;
		t = bf16 ? kvc_fp8_bf16[f][a] : kvc_fp8_fp16[f][a];
	} else {
		a = (kvc_u32)(q < 0 ? -q : q);
		neg = q < 0;
		t = bf16 ? kvc_int_bf16[f][a] : kvc_int_fp16[f][a];
	}
	if (!t)
		return 0;
	ex = (t >> mb) + (kvc_u32)k;
	if (ex - 1 >= (bf16 ? 254u : 30u))	/* out of the normal range */
		return fmt == KVC_FP8 ? kvc_dequant_fp8((kvc_u8)q, (kvc_u8)code, bf16) :
					kvc_dequant_int(q, (kvc_u8)code, bf16);
	return (kvc_u16)((t + ((kvc_u32)k << mb)) | (neg ? 0x8000u : 0));
}

/* The dequantization table of @fmt for quarter octave @f (kvcodec_tab.h). */
static const kvc_u16 *kvc_tab(int fmt, int f, int bf16)
{
	if (fmt == KVC_FP8)
		return bf16 ? kvc_fp8_bf16[f] : kvc_fp8_fp16[f];
	return bf16 ? kvc_int_bf16[f] : kvc_int_fp16[f];
}

/* Element @j of group (first, step) as a table index and a sign bit. */
static inline kvc_u32 kvc_elem(int fmt, const kvc_u8 *data, kvc_u32 idx,
			kvc_u32 *neg)
{
	kvc_u32 b;

	if (fmt == KVC_FP8) {
		b = data[idx];
		*neg = b >> 7;
		return b & 0x7f;
	}
	if (fmt == KVC_INT8) {
		b = data[idx];
		*neg = b >> 7;
		/* -128 (never encoded) reads as 0 */
		return (*neg ? 256 - b : b) & 0x7f;
	}
	b = (data[idx / 2] >> (4 * (idx & 1))) & 15;
	*neg = b >> 3;
	return *neg ? 16 - b : b;
}

/*
 * The fast loops of kvc_decode(), for a group whose results are all normal:
 * the signed table's value (scale exponent 0, sign in bit 15, 0 for a zero)
 * plus @add (k in the exponent field) is exact.  An element is a load, a
 * look-up, an add and a 16-bit store; @d is the page as 2-byte elements in
 * the host's order, which is the page's (little endian) where these run.
 */
static void kvc_dec_bytes(const kvc_u8 *data, kvc_u16a *d, kvc_u32 idx,
			  kvc_u32 step, kvc_u32 n, const kvc_u16 *tab,
			  kvc_u32 add)
{
	kvc_u32 t;

#pragma GCC unroll 4
	for (; n; n--, idx += step) {
		t = tab[data[idx]];
		d[idx] = (kvc_u16)(t ? t + add : 0);
	}
}

static void kvc_dec_nibbles(const kvc_u8 *data, kvc_u16a *d, kvc_u32 idx,
			    kvc_u32 step, kvc_u32 n, const kvc_u16 *tab,
			    kvc_u32 add)
{
	kvc_u32 t, b, sh = 4 * (idx & 1);

	if (step == 1 && !(idx & 1) && !(n & 1)) {
		/* a V group: two elements a byte */
		for (; n; n -= 2, idx += 2) {
			b = data[idx / 2];
			t = tab[b & 15];
			d[idx] = (kvc_u16)(t ? t + add : 0);
			t = tab[b >> 4];
			d[idx + 1] = (kvc_u16)(t ? t + add : 0);
		}
		return;
	}
	if (step & 1) {
		for (; n; n--, idx += step) {
			t = tab[(data[idx / 2] >> (4 * (idx & 1))) & 15];
			d[idx] = (kvc_u16)(t ? t + add : 0);
		}
		return;
	}
	/* a K group: step even, every element in the same nibble */
	for (; n; n--, idx += step) {
		t = tab[(data[idx / 2] >> sh) & 15];
		d[idx] = (kvc_u16)(t ? t + add : 0);
	}
}

/*
 * A group of bytes (int8, e4m3) some of whose results may not be normal:
 * those go through the conversion, the others as in kvc_dec_bytes().
 */
static void kvc_dec_bytes_check(int fmt, const kvc_u8 *data, kvc_u16a *d,
				kvc_u32 idx, kvc_u32 step, kvc_u32 n,
				const kvc_u16 *tab, int code, int bf16)
{
	int k = (code - 128) >> 2, mb = bf16 ? 7 : 10;
	kvc_u32 add = (kvc_u32)k << mb, maxex = bf16 ? 254 : 30, t, b;
	kvc_s32 q;

	for (; n; n--, idx += step) {
		b = data[idx];
		t = tab[b];
		if (!t) {
			d[idx] = 0;
		} else if (((t & 0x7fff) >> mb) + (kvc_u32)k - 1 < maxex) {
			d[idx] = (kvc_u16)(t + add);
		} else {
			q = fmt == KVC_FP8 ? (kvc_s32)b :
					     (kvc_s32)b - (b & 0x80 ? 256 : 0);
			d[idx] = kvc_dequant_fast(fmt, q, code, bf16);
		}
	}
}

/* The signed table of @fmt for quarter octave @f (kvcodec_tab.h). */
static const kvc_u16 *kvc_stab(int fmt, int f, int bf16)
{
	if (fmt == KVC_FP8)
		return bf16 ? kvc_fp8s_bf16[f] : kvc_fp8s_fp16[f];
	if (fmt == KVC_INT8)
		return bf16 ? kvc_int8s_bf16[f] : kvc_int8s_fp16[f];
	return bf16 ? kvc_int4s_bf16[f] : kvc_int4s_fp16[f];
}

int kvc_decode(int fmt, const struct kvc_geom *g, const void *obj,
	       kvc_u32 len, void *dst)
{
	kvc_u32 size = kvc_lossy_size(fmt, g), ng, gi, n;
	const kvc_u8 *codes = (const kvc_u8 *)obj + KVC_HDR, *data;
	kvc_u8 *d = dst;
	int bf16 = g->bf16 ? 1 : 0, mb = bf16 ? 7 : 10;
	kvc_u32 top = fmt == KVC_INT4 ? 8 : 127, maxex = bf16 ? 254 : 30;
	int fast = KVC_LE;

	if (!size || len < size ||
	    kvc_check(fmt, g, obj, len) != (kvc_s32)(size - KVC_HDR))
		return -KVC_EINVAL;
	ng = kvc_groups(fmt, g);
	data = codes + ng;
	for (gi = 0; gi < ng; gi++) {
		kvc_u32 first, step, j, idx, a, neg, t, add;
		int code = codes[gi], c = code - 128, k = c >> 2;
		const kvc_u16 *tab = kvc_tab(fmt, c & 3, bf16);
		kvc_s32 lo, hi;

		kvc_group(fmt, g, gi, &first, &step, &n);
		lo = (kvc_s32)(tab[1] >> mb) + k;
		hi = (kvc_s32)(tab[top] >> mb) + k;
		add = (kvc_u32)k << mb;
		if (!code) {
			for (j = 0, idx = first; j < n; j++, idx += step)
				kvc_st16(d, idx, 0);
			continue;
		}
		if ((lo < 1 || hi > (kvc_s32)maxex) && fast &&
		    fmt != KVC_INT4) {
			kvc_dec_bytes_check(fmt, data, (kvc_u16a *)dst, first,
					    step, n, kvc_stab(fmt, c & 3, bf16),
					    code, bf16);
			continue;
		}
		if (lo < 1 || hi > (kvc_s32)maxex) {
			/* per element, the others through the conversion */
			for (j = 0, idx = first; j < n; j++, idx += step) {
				a = kvc_elem(fmt, data, idx, &neg);
				t = tab[a];
				if (t && (t >> mb) + (kvc_u32)k - 1 < maxex) {
					kvc_st16(d, idx, (t + add) | neg << 15);
					continue;
				}
				if (fmt == KVC_FP8)
					a |= neg << 7;
				else if (neg)
					a = -a;
				kvc_st16(d, idx, kvc_dequant_fast(fmt, (kvc_s32)a,
								  code, bf16));
			}
			continue;
		}
		if (!fast) {
			for (j = 0, idx = first; j < n; j++, idx += step) {
				a = kvc_elem(fmt, data, idx, &neg);
				t = tab[a];
				kvc_st16(d, idx, t ? (t + add) | neg << 15 : 0);
			}
		} else if (fmt == KVC_INT4) {
			kvc_dec_nibbles(data, (kvc_u16a *)dst, first, step, n,
					kvc_stab(fmt, c & 3, bf16), add);
		} else {
			kvc_dec_bytes(data, (kvc_u16a *)dst, first, step, n,
				      kvc_stab(fmt, c & 3, bf16), add);
		}
	}
	return 0;
}

kvc_u32 kvc_reference(int fmt, const struct kvc_geom *g, const void *src,
		      void *obj, void *dst)
{
	const kvc_u8 *s = src;
	kvc_u8 *d = dst;
	kvc_u32 len = 0, i;

	if (kvc_lossy_size(fmt, g) <= KVC_OBJ_MAX)
		len = kvc_encode(fmt, g, src, obj);
	if (len && !kvc_decode(fmt, g, obj, len, dst))
		return len;
	for (i = 0; i < KVC_PAGE; i++)
		d[i] = s[i];
	return 0;
}

void kvc_planes_split(const void *src, void *dst)
{
	const kvc_u8 *s = src;
	kvc_u8 *d = dst;
	kvc_u32 i, h = KVC_PAGE / 2;

	for (i = 0; i < h; i++) {
		d[i] = s[2 * i + 1];
		d[h + i] = s[2 * i];
	}
}

void kvc_planes_join(const void *src, void *dst)
{
	const kvc_u8 *s = src;
	kvc_u8 *d = dst;
	kvc_u32 i, h = KVC_PAGE / 2;

	for (i = 0; i < h; i++) {
		d[2 * i + 1] = s[i];
		d[2 * i] = s[h + i];
	}
}
