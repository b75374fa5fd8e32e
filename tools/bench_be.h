/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench_be.h - the backends of cxl-kv-bench decode.
 *
 * A backend holds the KV of one or more sequences.  Every sequence has the
 * layout libcxl_kv computes for the geometry (struct cxl_kv_layout): page
 * (layer, head, kind, block) holds tokens [block * tpb, (block + 1) * tpb)
 * of that stream.  The decode loop (bench_decode.c) only ever asks a backend
 * for a page (be_ops.page) and tells it where the server is (layer_begin,
 * step_end); the backend decides where the bytes live:
 *
 *   dram       anonymous memory, no limit (bench_mem.c)
 *   swap       anonymous memory in a memory cgroup v2 whose memory.max is
 *              the charge before the KV is touched + the warm budget, swap
 *              on an NVMe drive; swap+zswap the same with zswap on
 *              (bench_mem.c)
 *   uoffload   a userspace page cache of the warm budget on the warm node,
 *              misses read from NVMe with io_uring O_DIRECT, LRU eviction
 *              with write-back (bench_uoffload.c)
 *   cxl-kv     a cxl_kv space per sequence, mapped; ioctl or io_uring
 *              (bench_cxlkv.c)
 */
#ifndef CXL_KV_BENCH_BE_H
#define CXL_KV_BENCH_BE_H

#include <stdint.h>
#include <libcxl_kv.h>

/* one block read by the trace: (head, block) of a layer */
struct be_read {
	uint16_t head;
	uint16_t mass;		/* Q16 attention mass, saturated */
	uint32_t block;
};

/* counters a backend keeps (cumulative; the loop takes differences) */
struct be_counters {
	uint64_t cold_read_bytes, cold_write_bytes;
	uint64_t demand_misses;		/* pages read that had to come from NVMe */
	uint64_t pf_pages, pf_used;	/* prefetched pages, and those read */
	int has_pf;			/* pf_* meaningful */
};

struct be_opts {
	const char *name;		/* dram swap swap+zswap uoffload cxl-kv */
	int uring;			/* cxl-kv: io_uring transport */
	int pipeline;			/* prefetch layer + depth at layer_begin */
	int user_pipeline;		/* cxl-kv: the userspace predictor, not
					 * the module's LAYER_BEGIN */
	int layer_batch;		/* cxl-kv: promote the layer's reads first */
	uint32_t depth;
	uint32_t pf_max_pages;		/* per layer and sequence */
	int hints, access, prefetch;	/* cxl-kv: score hints, ACCESS, PREFETCH */
	uint64_t window;		/* cxl-kv PREFETCH half-window, tokens */
	uint64_t budget_bytes;		/* warm budget */
	int warm_node;
	const char *cold_dev;		/* uoffload's NVMe */
	const char *swap_dev;		/* swap's NVMe */
	uint32_t sequences;
	uint64_t cold_format;		/* cxl-kv: CXL_KV_FMT_* of its spaces */
};

struct bench_be;

struct be_ops {
	const char *name;
	/* once, before any sequence: reserve what the backend needs */
	int (*open)(struct bench_be *be);
	/* the KV region of sequence s (layout be->lo), not touched yet */
	int (*seq_open)(struct bench_be *be, uint32_t s);
	/* the page of (s, layer, head, kind, block); write: it will be written */
	unsigned char *(*page)(struct bench_be *be, uint32_t s, uint32_t layer,
			       uint32_t head, unsigned int kind, uint32_t block,
			       int write);
	/*
	 * layer of step starts for sequence s: reads are the blocks the
	 * attention kernel is about to read, pred the blocks the predictor
	 * expects layer + depth to read (NULL if no pipeline).
	 */
	int (*layer_begin)(struct bench_be *be, uint32_t s, uint32_t layer,
			   uint64_t step, const struct be_read *reads,
			   uint32_t nreads, uint32_t pred_layer,
			   const struct be_read *pred, uint32_t npred);
	/* the reads of sequence s in this step, for hints and ACCESS */
	int (*note_read)(struct bench_be *be, uint32_t s, uint32_t layer,
			 const struct be_read *rd);
	int (*step_end)(struct bench_be *be, uint32_t s, uint64_t step,
			uint64_t written);
	void (*counters)(struct bench_be *be, struct be_counters *c);
	/* cxl-kv: the space stats of sequence s (else -EOPNOTSUPP) */
	int (*space_stats)(struct bench_be *be, uint32_t s, struct cxl_kv_stats *st);
	void (*close)(struct bench_be *be);
};

struct bench_be {
	const struct be_ops *ops;
	struct be_opts o;
	struct cxl_kv_ctx *ctx;
	struct cxl_kv_layout lo;
	uint32_t page_size;
	void *priv;
};

extern const struct be_ops be_dram_ops, be_swap_ops, be_uoffload_ops,
	be_cxlkv_ops;

/* offset of page (layer, head, kind, block) in a sequence's layout */
static inline uint64_t be_page_off(const struct cxl_kv_layout *lo,
				   uint32_t layer, uint32_t head,
				   unsigned int kind, uint32_t block)
{
	return ((((uint64_t)layer * lo->geo.kv_heads + head) * 2 + kind) *
		lo->stream_bytes) + (uint64_t)block * lo->page_size;
}

#endif
