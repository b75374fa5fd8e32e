/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kv_compress.h - what kv_compress and kv_bench_compress share: moving
 * whole streams, and the codec's reference of a promoted page.
 */
#ifndef CXL_KV_KV_COMPRESS_H
#define CXL_KV_KV_COMPRESS_H

#include "kv_test.h"
#include "kvcodec.h"

/*
 * PROMOTE or DEMOTE (@cmd) blocks 0..@bph-1 of the streams of @layers x
 * @heads; *@done (if not NULL) gets the ranges' done count.
 */
static inline int kvc_move_streams(int fd, unsigned long cmd, int layers,
				   int heads, uint32_t bph, uint64_t *done)
{
	struct cxl_kv_range r[64];
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)r };
	int ret;

	if (layers * heads > 64)
		return -EINVAL;
	for (int l = 0; l < layers; l++)
		for (int h = 0; h < heads; h++)
			r[q.count++] = (struct cxl_kv_range){
				.layer = (uint16_t)l, .head = (uint16_t)h,
				.nr_blocks = bph };
	ret = kv_ioctl(fd, cmd, &q);
	if (done)
		*done = q.done;
	return ret;
}

/*
 * Page @pg (of @bph pages per K or V half of a stream) of a space with
 * cold format @fmt and head_dim @hdim, written as @in: what a promotion
 * gives back in @out.  Returns the object's size, 0 for a page kept raw.
 */
static inline uint32_t kvc_expect(uint64_t fmt, uint32_t hdim, uint32_t bph,
				  uint64_t pg, const void *in, void *out)
{
	struct kvc_geom g = {
		.head_dim = hdim,
		.bf16 = !!(fmt & CXL_KV_FMT_F_BF16),
		.is_v = (uint8_t)((pg / bph) & 1),
	};
	static uint8_t obj[KVC_PAGE + KVC_HDR];

	return kvc_reference((int)(fmt & CXL_KV_FMT_MASK), &g, in, obj, out);
}

#endif /* CXL_KV_KV_COMPRESS_H */
