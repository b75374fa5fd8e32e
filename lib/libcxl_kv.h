/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cxl_kv.h - libcxl_kv: userspace access to the cxl-kv tiered KV-cache device.
 *
 * Conventions (liburing / libcxl):
 *  - every function that can fail returns 0 (or a count) on success and a
 *    negative errno on failure; errno is never the interface;
 *  - the library never prints and never aborts: diagnostics go through the
 *    context's log function, whose priority comes from CXL_KV_LOG
 *    ("err", "info", "debug" or a syslog number; unset: silent);
 *  - objects hang off one refcounted context (cxl_kv_new/ref/unref); child
 *    lists are built lazily and iterated with *_get_first/_get_next or the
 *    *_foreach macros.
 */
#ifndef LIBCXL_KV_H
#define LIBCXL_KV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/cxl_kv.h>

#ifdef __cplusplus
extern "C" {
#endif

struct io_uring_sqe;
struct io_uring_cqe;

/* ------------------------------------------------------------------ ctx */

struct cxl_kv_ctx;

typedef void (*cxl_kv_log_fn)(struct cxl_kv_ctx *ctx, int priority,
			      const char *file, int line, const char *fn,
			      const char *format, va_list args);

int cxl_kv_new(struct cxl_kv_ctx **ctx);
struct cxl_kv_ctx *cxl_kv_ref(struct cxl_kv_ctx *ctx);
void cxl_kv_unref(struct cxl_kv_ctx *ctx);
void cxl_kv_set_log_fn(struct cxl_kv_ctx *ctx, cxl_kv_log_fn log_fn);
int cxl_kv_get_log_priority(struct cxl_kv_ctx *ctx);
void cxl_kv_set_log_priority(struct cxl_kv_ctx *ctx, int priority);
void cxl_kv_set_userdata(struct cxl_kv_ctx *ctx, void *userdata);
void *cxl_kv_get_userdata(struct cxl_kv_ctx *ctx);
int cxl_kv_set_sysfs_root(struct cxl_kv_ctx *ctx, const char *path);
int cxl_kv_set_device_path(struct cxl_kv_ctx *ctx, const char *path);

/* ---------------------------------------------------------- tier nodes */

/* Where a NUMA node's memory comes from. */
enum cxl_kv_origin {
	CXL_KV_ORIGIN_UNKNOWN = 0,
	CXL_KV_ORIGIN_DRAM,	/* boot memory (a node with no dax device) */
	CXL_KV_ORIGIN_CXL,	/* dax device of a CXL RAM region, via kmem */
	CXL_KV_ORIGIN_NVDIMM,	/* dax device of an nvdimm namespace, via kmem */
	CXL_KV_ORIGIN_HMEM,	/* soft-reserved / HMAT memory (dax_hmem) */
};

struct cxl_kv_node;

int cxl_kv_refresh_nodes(struct cxl_kv_ctx *ctx);
struct cxl_kv_node *cxl_kv_node_get_first(struct cxl_kv_ctx *ctx);
struct cxl_kv_node *cxl_kv_node_get_next(struct cxl_kv_node *node);
struct cxl_kv_node *cxl_kv_node_get_by_id(struct cxl_kv_ctx *ctx, int id);
struct cxl_kv_node *cxl_kv_get_warm_node(struct cxl_kv_ctx *ctx);
int cxl_kv_node_get_id(struct cxl_kv_node *node);
bool cxl_kv_node_has_cpus(struct cxl_kv_node *node);
unsigned long long cxl_kv_node_get_size(struct cxl_kv_node *node);
unsigned long long cxl_kv_node_get_free(struct cxl_kv_node *node);
int cxl_kv_node_get_memory_tier(struct cxl_kv_node *node);
enum cxl_kv_origin cxl_kv_node_get_origin(struct cxl_kv_node *node);
const char *cxl_kv_node_get_dax(struct cxl_kv_node *node);
const char *cxl_kv_node_get_region(struct cxl_kv_node *node);
const char *cxl_kv_origin_name(enum cxl_kv_origin origin);

#define cxl_kv_node_foreach(ctx, node)					\
	for (node = cxl_kv_node_get_first(ctx); node != NULL;		\
	     node = cxl_kv_node_get_next(node))

/* ------------------------------------------- CXL region -> warm node */

int cxl_kv_region_create_ram(struct cxl_kv_ctx *ctx, const char *memdev,
			     char *region, size_t len);
int cxl_kv_dax_online(struct cxl_kv_ctx *ctx, const char *dax, int *node);
/* Discovery, read-only, under the context's sysfs root (LIBCXL_KV_DISCOVER). */
int cxl_kv_memdev_get_ram_size(struct cxl_kv_ctx *ctx, const char *memdev,
			       unsigned long long *size);
int cxl_kv_memdev_first_ram(struct cxl_kv_ctx *ctx, char *memdev, size_t len);
int cxl_kv_memdev_get_region(struct cxl_kv_ctx *ctx, const char *memdev,
			     char *region, size_t len);
int cxl_kv_region_get_dax(struct cxl_kv_ctx *ctx, const char *region,
			  char *dax, size_t len);
int cxl_kv_dax_get_node(struct cxl_kv_ctx *ctx, const char *dax);

/* ------------------------------------------------------- layout math */

/*
 * Geometry of a KV space (what SPACE_CREATE takes) and the layout derived
 * from it (what SPACE_CREATE returns), computed without the module.
 */
struct cxl_kv_geometry {
	uint32_t layers;	/* 1..CXL_KV_MAX_LAYERS */
	uint32_t kv_heads;	/* 1..CXL_KV_MAX_KV_HEADS */
	uint32_t head_dim;	/* elements per head vector */
	uint32_t dtype_bytes;	/* 1, 2 or 4 */
	uint64_t max_tokens;	/* tokens per stream */
};

struct cxl_kv_layout {
	struct cxl_kv_geometry geo;
	uint32_t page_size;
	uint32_t token_bytes;		/* head_dim * dtype_bytes */
	uint32_t tokens_per_block;	/* page_size / token_bytes */
	uint32_t blocks_per_stream;	/* pages per (layer, head, K|V) stream */
	uint64_t stream_bytes;		/* page aligned */
	uint64_t mmap_bytes;		/* 2 * layers * kv_heads * stream_bytes */
};

/* kind of a stream */
enum cxl_kv_kind {
	CXL_KV_K = 0,
	CXL_KV_V = 1,
};

int cxl_kv_layout_init(struct cxl_kv_layout *lo,
		       const struct cxl_kv_geometry *geo, uint32_t page_size);
int cxl_kv_layout_offset(const struct cxl_kv_layout *lo, uint32_t layer,
			 uint32_t head, unsigned int kind, uint64_t token,
			 uint64_t *offset);
int cxl_kv_layout_block(const struct cxl_kv_layout *lo, uint64_t token,
			uint32_t *block);
int cxl_kv_layout_block_tokens(const struct cxl_kv_layout *lo, uint32_t block,
			       uint64_t *first, uint64_t *count);

/* -------------------------------------------- control device (module) */

int cxl_kv_get_features(struct cxl_kv_ctx *ctx, struct cxl_kv_features *f);
int cxl_kv_get_info(struct cxl_kv_ctx *ctx, struct cxl_kv_info *info);
int cxl_kv_get_global_stats(struct cxl_kv_ctx *ctx, struct cxl_kv_stats *st);
int cxl_kv_attach(struct cxl_kv_ctx *ctx, const unsigned int *nodes,
		  unsigned int nr_nodes, const char *const *cold,
		  unsigned int nr_cold, uint64_t budget_pages,
		  uint64_t cold_max_bytes);
int cxl_kv_attach_raw(struct cxl_kv_ctx *ctx, struct cxl_kv_attach *arg);
int cxl_kv_detach(struct cxl_kv_ctx *ctx);

/* ---------------------------------------------------------------- spaces */

struct cxl_kv_space;

int cxl_kv_space_create(struct cxl_kv_ctx *ctx,
			const struct cxl_kv_geometry *geo,
			struct cxl_kv_space **space);
/* cold formats (CXL_KV_F_COLD_FORMAT; LIBCXL_KV_COMPRESS) */
int cxl_kv_space_create_cold(struct cxl_kv_ctx *ctx,
			     const struct cxl_kv_geometry *geo,
			     uint64_t cold_format, struct cxl_kv_space **space);
int cxl_kv_cold_format_parse(const char *name, uint64_t *format);
const char *cxl_kv_cold_format_name(uint64_t format);
int cxl_kv_space_from_fd(struct cxl_kv_ctx *ctx, int fd,
			 struct cxl_kv_space **space);
int cxl_kv_space_open_pid(struct cxl_kv_ctx *ctx, int pid, int fd,
			  struct cxl_kv_space **space);
int cxl_kv_space_map(struct cxl_kv_space *space, void **addr);
int cxl_kv_space_unmap(struct cxl_kv_space *space);
void cxl_kv_space_close(struct cxl_kv_space *space);
int cxl_kv_space_get_fd(struct cxl_kv_space *space);
void *cxl_kv_space_get_addr(struct cxl_kv_space *space);
const struct cxl_kv_layout *cxl_kv_space_get_layout(struct cxl_kv_space *space);
int cxl_kv_space_get_info(struct cxl_kv_space *space,
			  struct cxl_kv_space_info *info);
struct cxl_kv_ctx *cxl_kv_space_get_ctx(struct cxl_kv_space *space);
/* shared prefixes (CXL_KV_F_SHARE, LIBCXL_KV_SHARE) */
int cxl_kv_space_share(struct cxl_kv_space *parent, uint64_t prefix_tokens,
		       struct cxl_kv_space **child);
void *cxl_kv_kv_ptr(struct cxl_kv_space *space, uint32_t layer, uint32_t head,
		    unsigned int kind, uint64_t token);
int cxl_kv_space_use_uring(struct cxl_kv_space *space, unsigned int entries);

/* Where a space lives: process id and fd number (for list, stats). */
struct cxl_kv_space_ref {
	int pid;
	int fd;
};

int cxl_kv_list_spaces(struct cxl_kv_ctx *ctx, struct cxl_kv_space_ref *refs,
		       unsigned int max);

/* LIST: the caller's own spaces, no ptrace access needed (LIBCXL_KV_DEPLOY) */
int cxl_kv_list_owned(struct cxl_kv_ctx *ctx, struct cxl_kv_list_entry *entries,
		      unsigned int count, unsigned int *total);

/* --------------------------------- per-space commands, synchronous API */

int cxl_kv_hints(struct cxl_kv_space *space, uint64_t step,
		 const struct cxl_kv_hint *hints, unsigned int count,
		 unsigned int *done);
int cxl_kv_access(struct cxl_kv_space *space, uint64_t step,
		  const struct cxl_kv_range *ranges, unsigned int count,
		  uint64_t *done);
int cxl_kv_promote(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
		   unsigned int count, uint64_t *done);
int cxl_kv_demote(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
		  unsigned int count, uint64_t *done);
int cxl_kv_pin(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
	       unsigned int count, uint64_t *done);
int cxl_kv_unpin(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
		 unsigned int count, uint64_t *done);
int cxl_kv_prefetch(struct cxl_kv_space *space, uint32_t layer,
		    uint64_t head_mask, uint64_t pos, uint64_t window,
		    unsigned int flags, uint64_t *issued, uint64_t *resident);
int cxl_kv_prefetch_batch(struct cxl_kv_space *space,
			  struct cxl_kv_prefetch *pf, unsigned int count);
int cxl_kv_residency(struct cxl_kv_space *space, uint32_t layer, uint32_t head,
		     uint32_t first_block, uint32_t nr_blocks, uint64_t *bitmap,
		     struct cxl_kv_residency *out);
int cxl_kv_space_stats(struct cxl_kv_space *space, struct cxl_kv_stats *st);
int cxl_kv_params_get(struct cxl_kv_space *space, struct cxl_kv_params *p);
int cxl_kv_params_set(struct cxl_kv_space *space, struct cxl_kv_params *p);

/* ----------------------------------------- parameters by name (CLI, tools) */

int cxl_kv_param_lookup(const char *name, uint64_t *bit);
const char *cxl_kv_param_name(uint64_t bit);
int cxl_kv_param_get_value(const struct cxl_kv_params *p, uint64_t bit,
			   uint32_t *value);
int cxl_kv_param_set_value(struct cxl_kv_params *p, uint64_t bit,
			   uint32_t value);

/* ------------------------------------------------- io_uring request builders
 *
 * Fill an SQE for IORING_OP_URING_CMD on a space fd (or the control device):
 * sqe->cmd_op is the ioctl number, sqe->cmd holds struct cxl_kv_uring_cmd
 * pointing at @arg, every other field is zeroed (user_data included: set it
 * after).  @arg must stay valid until the completion is reaped; the kernel
 * writes its output fields there.  cqe->res is what the ioctl would return.
 */
int cxl_kv_prep_cmd(struct io_uring_sqe *sqe, int fd, uint32_t cmd_op,
		    void *arg, uint32_t len);
int cxl_kv_prep_score(struct io_uring_sqe *sqe, int fd,
		      struct cxl_kv_hints *hints);
int cxl_kv_prep_prefetch(struct io_uring_sqe *sqe, int fd,
			 struct cxl_kv_prefetch *pf);
int cxl_kv_prep_access(struct io_uring_sqe *sqe, int fd,
		       struct cxl_kv_ranges *r);
int cxl_kv_prep_promote(struct io_uring_sqe *sqe, int fd,
			struct cxl_kv_ranges *r);
int cxl_kv_prep_demote(struct io_uring_sqe *sqe, int fd,
		       struct cxl_kv_ranges *r);
int cxl_kv_prep_pin(struct io_uring_sqe *sqe, int fd, struct cxl_kv_ranges *r);
int cxl_kv_prep_unpin(struct io_uring_sqe *sqe, int fd,
		      struct cxl_kv_ranges *r);
int cxl_kv_prep_residency(struct io_uring_sqe *sqe, int fd,
			  struct cxl_kv_residency *r);
int cxl_kv_prep_stats(struct io_uring_sqe *sqe, int fd, struct cxl_kv_stats *st);

/* ------------------------------------- the layer pipeline (LIBCXL_KV_PIPE) */

int cxl_kv_layer_begin(struct cxl_kv_space *space, uint32_t layer,
		       uint32_t step, uint32_t depth, uint64_t max_pages,
		       unsigned int flags);
int cxl_kv_pipe_stats(struct cxl_kv_space *space, struct cxl_kv_pipe_stats *ps);
int cxl_kv_prep_layer_begin(struct io_uring_sqe *sqe, int fd,
			    struct cxl_kv_layer_begin *lb);

#ifdef __cplusplus
}
#endif

#endif /* LIBCXL_KV_H */
