// SPDX-License-Identifier: GPL-2.0
/*
 * The cold-tier codec (driver/codec/kvcodec.c) against a double reference:
 * every int8/int4 element must equal round(x / scale) * scale rounded to
 * the element type, fp8 elements must be within e4m3's precision, and the
 * special pages (zeros, NaN/Inf, subnormals, bf16 range) behave as
 * kvcodec.h says.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kvcodec.h"
#include "kvq.h"

#define NEL ((int)(KVC_PAGE / 2))

static uint8_t obj[KVC_PAGE];
static uint16_t in[NEL], out[NEL];

static double scale_of(uint8_t c)
{
	return ldexp(pow(2.0, ((c - 128) & 3) / 4.0), (c - 128) >> 2);
}

/* Encode, decode and check every element against the double reference. */
static void check_page(int fmt, const struct kvc_geom *g)
{
	uint32_t len = kvc_encode(fmt, g, in, obj), ng, gi;
	double qmax = fmt == KVC_INT8 ? 127 : fmt == KVC_INT4 ? 7 : 448;

	cr_assert_eq(len, kvc_lossy_size(fmt, g), "fmt %d len %u", fmt, len);
	cr_assert_eq(kvc_decode(fmt, g, obj, len, out), 0);
	ng = kvc_groups(fmt, g);
	for (gi = 0; gi < ng; gi++) {
		uint32_t first, step, n, j, idx;
		uint8_t c = obj[KVC_HDR + gi];
		double mx = 0, s = scale_of(c);

		kvc_group(fmt, g, gi, &first, &step, &n);
		cr_assert_eq(ng * n, (uint32_t)NEL);
		for (j = 0, idx = first; j < n; j++, idx += step)
			mx = fmax(mx, fabs(kvq_h2f(in[idx], g->bf16)));
		if (mx == 0) {
			cr_assert_eq(c, 0);
			continue;
		}
		/* the smallest code that fits, and it fits */
		cr_assert(mx / s <= qmax + 0.5, "group %u max %g scale %g", gi, mx, s);
		cr_assert(c == 1 || mx / scale_of(c - 1) > qmax - 1e-9 ||
			  fmt != KVC_FP8, "group %u: code %u not the smallest", gi, c);
		for (j = 0, idx = first; j < n; j++, idx += step) {
			double x = kvq_h2f(in[idx], g->bf16);
			double y = kvq_h2f(out[idx], g->bf16);

			if (fmt == KVC_FP8) {
				/* e4m3: 3 mantissa bits; subnormal step 2^-9 */
				cr_assert_leq(fabs(y - x), fabs(x) / 16 * 1.01 +
					      s * ldexp(1, -10) * 1.01 +
					      fabs(x) * ldexp(1, -8),
					      "fp8 %u: %g -> %g (scale %g)", idx, x, y, s);
			} else {
				double q = nearbyint(x / s);
				double ref = kvq_h2f(kvq_f2h((float)(q * s), g->bf16),
						     g->bf16);

				if (fabs(q) > qmax)
					q = copysign(qmax, q);
				ref = kvq_h2f(kvq_f2h((float)(q * s), g->bf16), g->bf16);
				cr_assert(y == ref || (y == 0 && ref == 0),
					  "fmt %d el %u: %a -> %a, ref %a (s %g)",
					  fmt, idx, x, y, ref, s);
			}
		}
	}
}

static const int lossy[] = { KVC_INT8, KVC_FP8, KVC_INT4 };

static void random_page(struct kvq_rng *r, int bf16, double mag)
{
	for (int i = 0; i < NEL; i++)
		in[i] = kvq_f2h((float)(kvq_gauss(r) * mag), bf16);
}

Test(codec, random_pages_fp16_bf16)
{
	struct kvq_rng r = { 42 };
	static const uint32_t dims[] = { 64, 128, 256 };

	for (int it = 0; it < 30; it++)
		for (int bf = 0; bf < 2; bf++)
			for (unsigned di = 0; di < 3; di++)
				for (int v = 0; v < 2; v++)
					for (unsigned f = 0; f < 3; f++) {
						struct kvc_geom g = { dims[di], (uint8_t)bf, (uint8_t)v };

						random_page(&r, bf, pow(10, kvq_urand(&r) * 6 - 3));
						check_page(lossy[f], &g);
					}
}

Test(codec, outlier_channels_keep_the_others_exact)
{
	struct kvq_rng r = { 7 };
	struct kvc_geom g = { 128, 0, 0 };
	double err = 0, mx = 0;

	random_page(&r, 0, 1.0);
	for (int t = 0; t < 16; t++)
		in[t * 128 + 5] = kvq_f2h(3000.0f * (t & 1 ? 1 : -1), 0);
	check_page(KVC_INT8, &g);
	for (int i = 0; i < NEL; i++) {
		if (i % 128 == 5)
			continue;
		err = fmax(err, fabs(kvq_h2f(out[i], 0) - kvq_h2f(in[i], 0)));
		mx = fmax(mx, fabs(kvq_h2f(in[i], 0)));
	}
	/* per-channel scales: the outlier does not coarsen the other channels */
	cr_assert_leq(err, mx / 100, "err %g max %g", err, mx);
	/* with V's per-token groups the same page loses the small values */
	g.is_v = 1;
	check_page(KVC_INT8, &g);
}

Test(codec, int4_v_outlier_coarsens_only_its_slice)
{
	struct kvq_rng r = { 8 };
	struct kvc_geom g = { 128, 0, 1 };
	double err[4] = { 0 };

	random_page(&r, 0, 1.0);
	for (int t = 0; t < 16; t++)
		in[t * 128 + 37] = kvq_f2h(100.0f, 0);	/* slice 1 of each token */
	check_page(KVC_INT4, &g);
	for (int i = 0; i < NEL; i++)
		if (i % 128 != 37)
			err[i % 128 / 32] = fmax(err[i % 128 / 32],
						 fabs(kvq_h2f(out[i], 0) - kvq_h2f(in[i], 0)));
	/* the other slices keep a step of their own (max ~4 / 7) */
	cr_assert_leq(err[0], 0.5, "slice 0 err %g", err[0]);
	cr_assert_leq(err[2], 0.5, "slice 2 err %g", err[2]);
	cr_assert_leq(err[3], 0.5, "slice 3 err %g", err[3]);
	cr_assert_geq(err[1], 0.9, "slice 1 err %g", err[1]);
}

Test(codec, zero_page)
{
	for (unsigned f = 0; f < 3; f++) {
		struct kvc_geom g = { 128, 0, (uint8_t)(f & 1) };

		memset(in, 0, sizeof(in));
		memset(out, 0xff, sizeof(out));
		check_page(lossy[f], &g);
		for (int i = 0; i < NEL; i++)
			cr_assert_eq(out[i], 0);
	}
}

Test(codec, nan_inf_pages_stay_raw)
{
	struct kvq_rng r = { 9 };
	static const uint16_t bad[2][3] = { { 0x7c00, 0xfc00, 0x7e01 },
					    { 0x7f80, 0xff80, 0x7fc1 } };

	for (int bf = 0; bf < 2; bf++)
		for (int b = 0; b < 3; b++)
			for (unsigned f = 0; f < 3; f++) {
				struct kvc_geom g = { 128, (uint8_t)bf, 0 };

				random_page(&r, bf, 1);
				in[(b * 977) % NEL] = bad[bf][b];
				cr_assert_eq(kvc_encode(lossy[f], &g, in, obj), 0);
			}
}

Test(codec, subnormals)
{
	struct kvq_rng r = { 11 };

	for (unsigned f = 0; f < 3; f++) {
		struct kvc_geom g = { 128, 0, 0 };

		for (int i = 0; i < NEL; i++)
			in[i] = (uint16_t)((kvq_urand(&r) * 1023) + 1) |
				(i & 1 ? 0x8000 : 0);
		check_page(lossy[f], &g);
		/* one normal channel among subnormal ones */
		for (int t = 0; t < 16; t++)
			in[t * 128] = kvq_f2h(1.5f, 0);
		check_page(lossy[f], &g);
	}
}

Test(codec, bf16_out_of_scale_range_stays_raw)
{
	struct kvc_geom g = { 128, 1, 0 };

	for (int i = 0; i < NEL; i++)
		in[i] = kvq_f2h(i & 1 ? 1e30f : -1e-30f, 1);
	cr_assert_eq(kvc_encode(KVC_INT8, &g, in, obj), 0);
	for (int i = 0; i < NEL; i++)
		in[i] = kvq_f2h(i & 1 ? 1e-39f : 0, 1);	/* subnormal bf16 */
	cr_assert_eq(kvc_encode(KVC_INT8, &g, in, obj), 0);
}

Test(codec, corrupt_objects_are_refused_untouched)
{
	struct kvq_rng r = { 13 };
	struct kvc_geom g = { 128, 0, 1 };
	uint32_t len;

	random_page(&r, 0, 1);
	len = kvc_encode(KVC_INT8, &g, in, obj);
	cr_assert_gt(len, 0);
	for (uint32_t i = 0; i < len; i += 37) {
		obj[i] ^= 0x10;
		memset(out, 0xa5, sizeof(out));
		cr_assert_eq(kvc_decode(KVC_INT8, &g, obj, len, out), -KVC_EINVAL,
			     "flip at %u", i);
		for (int j = 0; j < NEL; j++)
			cr_assert_eq(out[j], 0xa5a5);
		obj[i] ^= 0x10;
	}
	cr_assert_eq(kvc_decode(KVC_FP8, &g, obj, len, out), -KVC_EINVAL);
	g.is_v = 0;
	cr_assert_eq(kvc_decode(KVC_INT8, &g, obj, len, out), -KVC_EINVAL);
	g.is_v = 1;
	cr_assert_eq(kvc_decode(KVC_INT8, &g, obj, len - 1, out), -KVC_EINVAL);
	cr_assert_eq(kvc_decode(KVC_INT8, &g, obj, len, out), 0);
}

Test(codec, sizes_and_planes)
{
	struct kvc_geom k = { 128, 0, 0 }, v = { 128, 0, 1 };
	uint8_t a[KVC_PAGE], b[KVC_PAGE], c[KVC_PAGE];

	cr_assert_eq(kvc_lossy_size(KVC_INT8, &k), 8 + 128 + 2048);
	cr_assert_eq(kvc_lossy_size(KVC_INT8, &v), 8 + 16 + 2048);
	cr_assert_eq(kvc_lossy_size(KVC_INT4, &k), 8 + 128 + 1024);
	/* int4 V: a scale per 32 channels of a token */
	cr_assert_eq(kvc_lossy_size(KVC_INT4, &v), 8 + 64 + 1024);
	v.head_dim = 16;
	cr_assert_eq(kvc_lossy_size(KVC_INT4, &v), 8 + 128 + 1024);
	cr_assert_eq(kvc_lossy_size(KVC_RAW, &k), 0);
	cr_assert_eq(kvc_lossy_size(KVC_LOSSLESS, &k), 0);
	for (int i = 0; i < (int)KVC_PAGE; i++)
		a[i] = (uint8_t)(i * 7 + (i >> 3));
	kvc_planes_split(a, b);
	cr_assert_eq(b[0], a[1]);
	cr_assert_eq(b[KVC_PAGE / 2], a[0]);
	kvc_planes_join(b, c);
	cr_assert_arr_eq(a, c, KVC_PAGE);
}

Test(codec, synthetic_kv_meets_the_targets)
{
	enum { T = 1024, D = 128 };
	static uint16_t k[T * D], v[T * D], k2[T * D], v2[T * D];
	/*
	 * The error of a softmax average of zero-mean V rows is about the rms
	 * relative error of one element: int8 meets the 1 %; fp8
	 * (e4m3, 3 mantissa bits) measured 3.6 % and int4 (15 levels, V in
	 * groups of 32 channels) 13.2 % against targets of 1 % and 5 % (see
	 * kvcodec-quality).  These bounds
	 * catch a regression, they do not claim the targets.
	 */
	static const double tgt[3] = { 0.01, 0.04, 0.14 };
	uint64_t bytes;

	kvq_gen_stream(1, T, D, 0, k, v);
	for (unsigned f = 0; f < 3; f++) {
		double e;

		bytes = 0;
		cr_assert_eq(kvq_roundtrip(lossy[f], 0, 0, D, k, k2, T * D, &bytes), 0);
		cr_assert_eq(kvq_roundtrip(lossy[f], 0, 1, D, v, v2, T * D, &bytes), 0);
		e = kvq_attn_err(0, T, D, k, v, k2, v2, 16, 3);
		cr_assert_leq(e, tgt[f], "fmt %d attention error %g", lossy[f], e);
	}
}

Test(codec, table_dequant_equals_the_conversion)
{
	for (int bf = 0; bf < 2; bf++)
		for (int code = 0; code < 256; code++) {
			for (int q = -127; q <= 127; q++)
				cr_assert_eq(kvc_dequant_fast(KVC_INT8, q, code, bf),
					     kvc_dequant_int(q, (uint8_t)code, bf),
					     "int q %d code %d bf16 %d", q, code, bf);
			for (int b = 0; b < 256; b++)
				cr_assert_eq(kvc_dequant_fast(KVC_FP8, b, code, bf),
					     kvc_dequant_fp8((uint8_t)b, (uint8_t)code, bf),
					     "fp8 %#x code %d bf16 %d", b, code, bf);
		}
}

Test(codec, reference_is_the_round_trip_or_the_page)
{
	struct kvq_rng r = { 17 };
	static uint8_t obj2[KVC_PAGE + KVC_HDR];
	static uint16_t ref[NEL];
	struct kvc_geom g = { 128, 0, 1 };
	uint32_t len;

	random_page(&r, 0, 1);
	len = kvc_encode(KVC_INT8, &g, in, obj);
	cr_assert_eq(kvc_decode(KVC_INT8, &g, obj, len, out), 0);
	cr_assert_eq(kvc_reference(KVC_INT8, &g, in, obj2, ref), len);
	cr_assert_arr_eq(ref, out, sizeof(ref));
	/* a NaN, raw and lossless pages: the page itself */
	in[5] = 0x7e00;
	cr_assert_eq(kvc_reference(KVC_INT8, &g, in, obj2, ref), 0);
	cr_assert_arr_eq(ref, in, sizeof(ref));
	cr_assert_eq(kvc_reference(KVC_RAW, &g, in, obj2, ref), 0);
	cr_assert_eq(kvc_reference(KVC_LOSSLESS, &g, in, obj2, ref), 0);
	cr_assert_arr_eq(ref, in, sizeof(ref));
	/* a K page of head_dim 2048: 4104 bytes of object, above KVC_OBJ_MAX */
	g = (struct kvc_geom){ 2048, 0, 0 };
	random_page(&r, 0, 1);
	cr_assert_gt(kvc_lossy_size(KVC_INT8, &g), KVC_OBJ_MAX);
	cr_assert_eq(kvc_reference(KVC_INT8, &g, in, obj2, ref), 0);
	cr_assert_arr_eq(ref, in, sizeof(ref));
	cr_assert_gt(kvc_reference(KVC_INT4, &g, in, obj2, ref), 0);
}

/* Element idx of a decoded object, one element at a time (the conversion). */
static uint16_t elem_ref(int fmt, const uint8_t *o, const struct kvc_geom *g,
			 uint32_t idx)
{
	uint32_t ng = kvc_groups(fmt, g), gi, first, step, n, b;
	const uint8_t *data = o + KVC_HDR + ng;

	for (gi = 0; gi < ng; gi++) {
		kvc_group(fmt, g, gi, &first, &step, &n);
		if (idx >= first && (idx - first) % step == 0 &&
		    (idx - first) / step < n)
			break;
	}
	if (fmt == KVC_FP8)
		return kvc_dequant_fp8(data[idx], o[KVC_HDR + gi], g->bf16);
	if (fmt == KVC_INT8) {
		b = data[idx];
		/* -128 (never encoded) reads as 0 */
		return b == 0x80 ? 0 : kvc_dequant_int((int8_t)b,
						       o[KVC_HDR + gi], g->bf16);
	}
	b = (data[idx / 2] >> (4 * (idx & 1))) & 15;
	return kvc_dequant_int(b & 8 ? (int)b - 16 : (int)b, o[KVC_HDR + gi],
			       g->bf16);
}

/*
 * kvc_decode()'s per-format loops against the conversion, element by
 * element: random payloads under every scale code (normal, subnormal and
 * saturating results), K and V, fp16 and bf16, several head_dims, into an
 * aligned page and a misaligned one (the byte-store path).
 */
Test(codec, decode_equals_the_conversion)
{
	static const uint32_t hds[] = { 1, 8, 64, 128, 256 };
	static uint8_t o[KVC_PAGE + KVC_HDR], dbuf[KVC_PAGE + 2];
	struct kvq_rng r = { 23 };

	for (int f = 0; f < 3; f++)
		for (int bf = 0; bf < 2; bf++)
			for (int v = 0; v < 2; v++)
				for (unsigned h = 0; h < sizeof(hds) / sizeof(hds[0]); h++) {
	struct kvc_geom g = { hds[h], (uint8_t)bf, (uint8_t)v };
	int fmt = lossy[f];
	uint32_t size = kvc_lossy_size(fmt, &g), i, ng = kvc_groups(fmt, &g);

	if (size > sizeof(o))
		continue;
	for (int rep = 0; rep < 4; rep++) {
		for (i = KVC_HDR; i < size; i++)
			o[i] = (uint8_t)(kvq_gauss(&r) * 1e6);
		/* codes over the whole range, zero groups included */
		for (i = 0; i < ng; i++)
			o[KVC_HDR + i] = (uint8_t)((i * 37 + rep * 61) & 255);
		kvc_header(fmt, &g, o, size - KVC_HDR);
		for (int mis = 0; mis < 2; mis++) {
			uint8_t *d = dbuf + mis;

			cr_assert_eq(kvc_decode(fmt, &g, o, size, d), 0);
			for (i = 0; i < (uint32_t)NEL; i++) {
				uint16_t got = d[2 * i] | d[2 * i + 1] << 8;
				uint16_t want = elem_ref(fmt, o, &g, i);

				cr_assert_eq(got, want,
					     "fmt %d bf16 %d v %d hd %u el %u: %#x, want %#x",
					     fmt, bf, v, g.head_dim, i, got, want);
			}
		}
	}
				}
}
