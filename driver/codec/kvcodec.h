/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvcodec.h - cxl-kv cold-tier page codec.
 *
 * Freestanding C like the policy core: no libc, no kernel headers, no
 * floating point, no allocation, no global mutable state.  The same sources
 * are compiled into the cxl_kv module (driver/codec/kvcodec.o) and into
 * userspace ($(O)/libkvcodec.a: unit tests, the quality tool, the guest
 * tests and the benchmark, which compare the module's output with it).
 *
 * A page is tokens x head_dim elements of 2 bytes (fp16 or bf16) of one
 * (layer, KV head, K|V) stream, token-major: element (t, d) at index
 * t * head_dim + d.  The lossy formats quantize in groups with one scale
 * each, K per channel (a group is one channel d over the page's tokens: keys
 * have outlier channels) and V per token (a group is one token over its
 * channels; KVC_INT4: over each KVC_INT4_VG of them).  A scale is one byte c: 2^((c - 128) / 4), a quarter octave
 * apart; c = 0 marks a group of zeros.  The elements are
 *   KVC_INT8: round(x / scale), [-127, 127], one byte each;
 *   KVC_FP8:  x / scale rounded to OCP e4m3 (max 448), one byte each;
 *   KVC_INT4: round(x / scale), [-7, 7], two's complement nibbles, element
 *             2i in the low nibble of byte i.
 * A page holding a NaN or an Inf, or a group whose range is outside the
 * scales' (only possible with bf16), is not encoded (kvc_encode() returns 0)
 * and the caller stores it raw, bit-exact.
 *
 * An encoded object is an 8-byte header and a payload:
 *   byte 0   KVC_MAGIC
 *   byte 1   format (KVC_*) | KVC_H_V (a V page) | KVC_H_BF16
 *   2..3     payload bytes, little endian
 *   4..7     kvc_sum() of bytes 0..3 and the payload, little endian
 * Lossy payload: the group scale codes (kvc_groups()), then
 * the elements.  KVC_LOSSLESS payload: whatever the caller's compressor made
 * of kvc_planes_split()'s output (the module: zstd).
 */
#ifndef KVCODEC_H
#define KVCODEC_H

typedef __UINT8_TYPE__ kvc_u8;
typedef __UINT16_TYPE__ kvc_u16;
typedef __UINT32_TYPE__ kvc_u32;
typedef __UINT64_TYPE__ kvc_u64;
typedef __INT32_TYPE__ kvc_s32;
typedef __INT64_TYPE__ kvc_s64;

/* Formats: equal to CXL_KV_FMT_* of the UAPI. */
#define KVC_RAW		0
#define KVC_LOSSLESS	1
#define KVC_INT8	2
#define KVC_FP8		3
#define KVC_INT4	4
#define KVC_NR_FMT	5

#define KVC_PAGE	4096u	/* bytes of a page */
#define KVC_HDR		8u	/* bytes of the header */
#define KVC_MAGIC	0xC7
#define KVC_H_V		0x10
#define KVC_H_BF16	0x20
#define KVC_H_FMT	0x0f

#define KVC_EINVAL	22	/* negative returns: Linux errno numbers */

/**
 * struct kvc_geom - what a page holds
 * @head_dim: elements per token (a power of two, 1..2048).
 * @bf16: elements are bf16 (else fp16).
 * @is_v: a V page (groups per token) rather than a K page (per channel).
 */
struct kvc_geom {
	kvc_u32 head_dim;
	kvc_u8 bf16;
	kvc_u8 is_v;
};

/* Tokens in a page of @g. */
static inline kvc_u32 kvc_tokens(const struct kvc_geom *g)
{
	return KVC_PAGE / 2 / g->head_dim;
}

/* Elements of an int4 V group (a slice of a token's channels). */
#define KVC_INT4_VG	32u

/* Scale groups of a lossy page of @fmt for @g. */
kvc_u32 kvc_groups(int fmt, const struct kvc_geom *g);

/* Group @gi of @fmt for @g: its @n elements are at index first + i * step. */
void kvc_group(int fmt, const struct kvc_geom *g, kvc_u32 gi, kvc_u32 *first,
	       kvc_u32 *step, kvc_u32 *n);

/* Bytes of a lossy object of @fmt for @g (header included), 0 if not lossy. */
kvc_u32 kvc_lossy_size(int fmt, const struct kvc_geom *g);

/*
 * Encode the page @src (KVC_PAGE bytes) in lossy format @fmt into @dst
 * (kvc_lossy_size() bytes).  Returns the object's size, or 0 when the page
 * is to be stored raw (NaN/Inf, range) or @fmt is not lossy.
 */
kvc_u32 kvc_encode(int fmt, const struct kvc_geom *g, const void *src,
		   void *dst);

/*
 * Decode the object @obj of @len bytes into the page @dst (KVC_PAGE bytes).
 * Checks the header (magic, format @fmt, geometry flags, payload size,
 * checksum) before writing @dst.  KVC_LOSSLESS objects are not decoded
 * here (see kvc_check()).  Returns 0 or -KVC_EINVAL (@dst untouched).
 */
int kvc_decode(int fmt, const struct kvc_geom *g, const void *obj,
	       kvc_u32 len, void *dst);

/* The largest object the module stores packed; larger ones go raw. */
#define KVC_OBJ_MAX	4080u

/*
 * What a promoted page holds after the page @src (KVC_PAGE bytes) was
 * demoted in lossy format @fmt: writes it to @dst (KVC_PAGE bytes) using
 * @obj (KVC_PAGE + KVC_HDR bytes) as scratch.  Returns the object's size,
 * or 0 where the module writes the page raw (@dst is then a copy of @src):
 * the reference the tests compare the module's pages with.
 */
kvc_u32 kvc_reference(int fmt, const struct kvc_geom *g, const void *src,
		      void *obj, void *dst);

/* Fill in the header of an object whose payload (@plen bytes) follows it. */
void kvc_header(int fmt, const struct kvc_geom *g, void *obj, kvc_u32 plen);

/*
 * Check the header and checksum of the object @obj of @len bytes, of format
 * @fmt for @g.  Returns the payload size or -KVC_EINVAL.
 */
kvc_s32 kvc_check(int fmt, const struct kvc_geom *g, const void *obj,
		  kvc_u32 len);

/* The checksum: a 64-bit FNV-like mix over 8-byte words, folded to 32. */
kvc_u32 kvc_sum(kvc_u32 h, const void *p, kvc_u32 n);
#define KVC_SUM_SEED	2166136261u

/*
 * Byte-plane split of a page of 2-byte elements: the high bytes (sign,
 * exponent: alike across a page) then the low bytes.  Join undoes it.
 */
void kvc_planes_split(const void *src, void *dst);
void kvc_planes_join(const void *src, void *dst);

/* Element conversions used by the codec, exported for the tests. */
kvc_u16 kvc_dequant_int(kvc_s32 q, kvc_u8 code, int bf16);
kvc_u16 kvc_dequant_fp8(kvc_u8 e4m3, kvc_u8 code, int bf16);
/* What kvc_decode() uses: tables (kvcodec_tab.h), the above as fallback. */
kvc_u16 kvc_dequant_fast(int fmt, kvc_s32 q, int code, int bf16);

#endif /* KVCODEC_H */
