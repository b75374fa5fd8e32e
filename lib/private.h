/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * private.h - libcxl_kv internals: the context, logging macros, sysfs I/O.
 * Nothing here is exported; the version script (libcxl_kv.sym) decides what is.
 */
#ifndef LIBCXL_KV_PRIVATE_H
#define LIBCXL_KV_PRIVATE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "libcxl_kv.h"

#define CXL_KV_SYSFS_MAX 4096

struct cxl_kv_node {
	struct cxl_kv_ctx *ctx;
	struct cxl_kv_node *next;
	int id;
	int has_cpus;
	int memory_tier;		/* -1 when the kernel has no memory_tiering */
	enum cxl_kv_origin origin;
	unsigned long long total;	/* bytes */
	unsigned long long free;	/* bytes */
	char dax[32];			/* "dax0.0" or "" */
	char region[32];		/* "region0" (CXL or nvdimm) or "" */
};

struct cxl_kv_ctx {
	int refcount;
	int log_priority;
	cxl_kv_log_fn log_fn;
	void *userdata;
	char sysfs_root[256];
	char dev_path[256];		/* control device */
	int fd;				/* control device, -1 until opened */
	struct cxl_kv_node *nodes;	/* NULL until listed */
	int nodes_listed;
};

void cxl_kv__log(struct cxl_kv_ctx *ctx, int priority, const char *file,
		 int line, const char *fn, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#define cxl_kv__log_cond(ctx, prio, ...)				\
	do {								\
		if ((ctx) && (ctx)->log_priority >= (prio))		\
			cxl_kv__log(ctx, prio, __FILE__, __LINE__,	\
				    __func__, __VA_ARGS__);		\
	} while (0)

#define err(ctx, ...)	cxl_kv__log_cond(ctx, LOG_ERR, __VA_ARGS__)
#define info(ctx, ...)	cxl_kv__log_cond(ctx, LOG_INFO, __VA_ARGS__)
#define dbg(ctx, ...)	cxl_kv__log_cond(ctx, LOG_DEBUG, __VA_ARGS__)

/* sysfs helpers; paths are relative to ctx->sysfs_root ("/sys"). */
int cxl_kv__sysfs_path(struct cxl_kv_ctx *ctx, char *buf, size_t len,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int cxl_kv__read_attr(struct cxl_kv_ctx *ctx, const char *path, char *buf,
		      size_t len);
int cxl_kv__write_attr(struct cxl_kv_ctx *ctx, const char *path,
		       const char *val);
int cxl_kv__read_ull(struct cxl_kv_ctx *ctx, const char *path,
		     unsigned long long *val);
int cxl_kv__parse_ull(const char *s, unsigned long long *val);
int cxl_kv__nodelist_has(const char *list, int node);
int cxl_kv__copy_name(char *dst, size_t len, const char *src);

void cxl_kv__free_nodes(struct cxl_kv_ctx *ctx);
int cxl_kv__ctl_fd(struct cxl_kv_ctx *ctx);

/* A space: its fd, mapping, layout and transport (space.c, cmds.c). */
struct io_uring;
struct cxl_kv_space {
	struct cxl_kv_ctx *ctx;
	int fd;
	void *addr;			/* NULL until mapped */
	struct cxl_kv_layout lo;
	struct cxl_kv_space_info info;
	struct io_uring *ring;		/* NULL: ioctl transport */
};

/* One ioctl, -errno on failure (ctl.c); the second on the control device. */
int cxl_kv__ioctl(struct cxl_kv_ctx *ctx, int fd, unsigned long op,
		  void *arg, const char *what);
int cxl_kv__ctl_ioctl(struct cxl_kv_ctx *ctx, unsigned long op, void *arg,
		      const char *what);

#endif /* LIBCXL_KV_PRIVATE_H */
