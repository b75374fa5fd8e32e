// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * space.c - the control device (features, info, attach, detach, global
 * stats), KV spaces (create, adopt, map, close) and the synchronous per-space
 * commands.  A space's commands go through ioctl, or through a private
 * io_uring built with the cxl_kv_prep_*() builders after
 * cxl_kv_space_use_uring(); both transports reach the same kernel function.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <liburing.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "private.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

struct cxl_kv_space {
	struct cxl_kv_ctx *ctx;
	int fd;
	void *addr;			/* NULL until mapped */
	struct cxl_kv_layout lo;
	struct cxl_kv_space_info info;
	struct io_uring *ring;		/* NULL: ioctl transport */
};

static int do_ioctl(struct cxl_kv_ctx *ctx, int fd, unsigned long op,
		    void *arg, const char *what)
{
	if (ioctl(fd, op, arg) < 0) {
		int e = errno;

		dbg(ctx, "%s: %s\n", what, strerror(e));
		return -e;
	}
	return 0;
}

static int ctl_ioctl(struct cxl_kv_ctx *ctx, unsigned long op, void *arg,
		     const char *what)
{
	int fd;

	if (!ctx)
		return -EINVAL;
	fd = cxl_kv__ctl_fd(ctx);
	if (fd < 0)
		return fd;
	return do_ioctl(ctx, fd, op, arg, what);
}

/**
 * cxl_kv_get_features() - module version, page size and feature bits
 * @ctx: context
 * @f: receives struct cxl_kv_features
 *
 * Return: 0, -EINVAL, or the -errno of opening /dev/cxl_kv (-ENOENT when the
 * module is not loaded) or of the ioctl.
 */
int cxl_kv_get_features(struct cxl_kv_ctx *ctx, struct cxl_kv_features *f)
{
	if (!f)
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	return ctl_ioctl(ctx, CXL_KV_GET_FEATURES, f, "GET_FEATURES");
}

static int page_size_of(struct cxl_kv_ctx *ctx, uint32_t *ps)
{
	struct cxl_kv_features f;
	int rc = cxl_kv_get_features(ctx, &f);

	if (rc)
		return rc;
	*ps = f.page_size;
	return 0;
}

/**
 * cxl_kv_get_info() - the attached tier set and its occupancy
 * @ctx: context
 * @info: receives struct cxl_kv_info (attached == 0 when nothing is)
 *
 * Return: 0, -EINVAL, or the -errno of the open or the ioctl.
 */
int cxl_kv_get_info(struct cxl_kv_ctx *ctx, struct cxl_kv_info *info)
{
	if (!info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	return ctl_ioctl(ctx, CXL_KV_INFO, info, "INFO");
}

/**
 * cxl_kv_get_global_stats() - the module's counters over every space
 * @ctx: context
 * @st: receives struct cxl_kv_stats
 *
 * Return: 0, -EINVAL, or the -errno of the open or the ioctl.
 */
int cxl_kv_get_global_stats(struct cxl_kv_ctx *ctx, struct cxl_kv_stats *st)
{
	if (!st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	return ctl_ioctl(ctx, CXL_KV_GLOBAL_STATS, st, "GLOBAL_STATS");
}

/**
 * cxl_kv_attach_raw() - ATTACH with a caller-built struct
 * @ctx: context
 * @arg: struct cxl_kv_attach, reserved fields zero
 *
 * Return: 0, -EINVAL, -EPERM (no CAP_SYS_ADMIN), -EBUSY (already attached),
 * or another -errno from the module.
 */
int cxl_kv_attach_raw(struct cxl_kv_ctx *ctx, struct cxl_kv_attach *arg)
{
	int rc;

	if (!arg)
		return -EINVAL;
	rc = ctl_ioctl(ctx, CXL_KV_ATTACH, arg, "ATTACH");
	if (rc)
		err(ctx, "ATTACH: %s\n", strerror(-rc));
	else
		info(ctx, "attached: %u warm node(s), %u cold, %llu pages\n",
		     arg->nr_nodes, arg->nr_cold,
		     (unsigned long long)arg->budget_pages);
	return rc;
}

/**
 * cxl_kv_attach() - bring up the tier set (needs CAP_SYS_ADMIN)
 * @ctx: context
 * @nodes: warm NUMA node ids (CPU-less, with memory)
 * @nr_nodes: 1..CXL_KV_MAX_NODES
 * @cold: cold block device paths
 * @nr_cold: 1..CXL_KV_MAX_COLD
 * @budget_pages: warm pages the module may hold, >= 256
 * @cold_max_bytes: bytes used from the start of each cold device, 0 = all
 *
 * Watermarks are the module's defaults (95% / 90% of the budget).
 *
 * Return: 0; -EINVAL for counts, budget or paths out of range (checked here
 * before any syscall); else as cxl_kv_attach_raw().
 */
int cxl_kv_attach(struct cxl_kv_ctx *ctx, const unsigned int *nodes,
		  unsigned int nr_nodes, const char *const *cold,
		  unsigned int nr_cold, uint64_t budget_pages,
		  uint64_t cold_max_bytes)
{
	struct cxl_kv_attach a;
	unsigned int i, j;

	if (!ctx || !nodes || !cold)
		return -EINVAL;
	if (nr_nodes < 1 || nr_nodes > CXL_KV_MAX_NODES || nr_cold < 1 ||
	    nr_cold > CXL_KV_MAX_COLD || budget_pages < 256) {
		err(ctx, "attach: %u nodes, %u cold, %llu pages out of range\n",
		    nr_nodes, nr_cold, (unsigned long long)budget_pages);
		return -EINVAL;
	}
	memset(&a, 0, sizeof(a));
	a.nr_nodes = nr_nodes;
	a.nr_cold = nr_cold;
	for (i = 0; i < nr_nodes; i++) {
		for (j = 0; j < i; j++)
			if (nodes[j] == nodes[i])
				return -EINVAL;
		a.nodes[i] = nodes[i];
	}
	for (i = 0; i < nr_cold; i++) {
		if (!cold[i] || !*cold[i] || strlen(cold[i]) > 255)
			return -EINVAL;
		a.cold[i].path = (uint64_t)(uintptr_t)cold[i];
		a.cold[i].max_bytes = cold_max_bytes;
	}
	a.budget_pages = budget_pages;
	return cxl_kv_attach_raw(ctx, &a);
}

/**
 * cxl_kv_detach() - release the tier set (needs CAP_SYS_ADMIN)
 * @ctx: context
 *
 * Return: 0, -EBUSY (spaces exist), -ENODEV (nothing attached), -EPERM, or
 * the -errno of the open.
 */
int cxl_kv_detach(struct cxl_kv_ctx *ctx)
{
	struct cxl_kv_detach d;

	memset(&d, 0, sizeof(d));
	return ctl_ioctl(ctx, CXL_KV_DETACH, &d, "DETACH");
}

static int layout_from_info(struct cxl_kv_space *s)
{
	struct cxl_kv_geometry g = {
		.layers = s->info.layers,
		.kv_heads = s->info.kv_heads,
		.head_dim = s->info.head_dim,
		.dtype_bytes = s->info.dtype_bytes,
		.max_tokens = s->info.max_tokens,
	};
	uint32_t ps = s->info.tokens_per_block * s->info.token_bytes;
	int rc = cxl_kv_layout_init(&s->lo, &g, ps);

	if (rc)
		return rc;
	if (s->lo.stream_bytes != s->info.stream_bytes ||
	    s->lo.mmap_bytes != s->info.mmap_bytes ||
	    s->lo.blocks_per_stream != s->info.blocks_per_stream) {
		err(s->ctx, "module layout differs from the UAPI's: "
		    "stream %llu/%llu mmap %llu/%llu\n",
		    (unsigned long long)s->info.stream_bytes,
		    (unsigned long long)s->lo.stream_bytes,
		    (unsigned long long)s->info.mmap_bytes,
		    (unsigned long long)s->lo.mmap_bytes);
		return -EPROTO;
	}
	return 0;
}

/**
 * cxl_kv_space_from_fd() - wrap an existing space fd
 * @ctx: context (a reference is taken)
 * @fd: a space fd; owned by the new object, closed by cxl_kv_space_close()
 * @space: receives the space
 *
 * Return: 0, -EINVAL, -ENOMEM, -ENOTTY (not a space fd), -EPROTO (layout
 * mismatch).  On failure @fd is left open.
 */
int cxl_kv_space_from_fd(struct cxl_kv_ctx *ctx, int fd,
			 struct cxl_kv_space **space)
{
	struct cxl_kv_space *s;
	int rc;

	if (!ctx || fd < 0 || !space)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	s->fd = fd;
	rc = do_ioctl(ctx, fd, CXL_KV_SPACE_INFO, &s->info, "SPACE_INFO");
	if (!rc)
		rc = layout_from_info(s);
	if (rc) {
		free(s);
		return rc;
	}
	cxl_kv_ref(ctx);
	*space = s;
	return 0;
}

/**
 * cxl_kv_space_create() - create a KV space of a geometry
 * @ctx: context
 * @geo: the geometry
 * @space: receives the space (fd O_CLOEXEC, not yet mapped)
 *
 * The geometry is checked with cxl_kv_layout_init() first.
 *
 * Return: 0; -EINVAL, -E2BIG (geometry); -ENODEV (no tier set attached);
 * -ENOMEM; -EPROTO (the module's layout differs from the UAPI's); or the
 * -errno of the open or the ioctl.
 */
static int space_create(struct cxl_kv_ctx *ctx,
			const struct cxl_kv_geometry *geo, uint64_t cold_format,
			struct cxl_kv_space **space);

int cxl_kv_space_create(struct cxl_kv_ctx *ctx,
			const struct cxl_kv_geometry *geo,
			struct cxl_kv_space **space)
{
	return space_create(ctx, geo, CXL_KV_FMT_RAW, space);
}

/**
 * cxl_kv_space_create_cold() - create a KV space with a cold format
 * @ctx: context
 * @geo: the geometry
 * @cold_format: CXL_KV_FMT_* | CXL_KV_FMT_F_BF16 (see cxl_kv_cold_format_parse())
 * @space: receives the space
 *
 * As cxl_kv_space_create(); the module must have CXL_KV_F_COLD_FORMAT.
 *
 * Return: as cxl_kv_space_create(); -EINVAL also for an unknown format, a
 * lossy format with dtype_bytes other than 2, or a module without cold
 * formats.
 */
int cxl_kv_space_create_cold(struct cxl_kv_ctx *ctx,
			     const struct cxl_kv_geometry *geo,
			     uint64_t cold_format, struct cxl_kv_space **space)
{
	return space_create(ctx, geo, cold_format, space);
}

static int space_create(struct cxl_kv_ctx *ctx,
			const struct cxl_kv_geometry *geo, uint64_t cold_format,
			struct cxl_kv_space **space)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_layout lo;
	uint32_t ps;
	int rc;

	if (!ctx || !geo || !space)
		return -EINVAL;
	rc = page_size_of(ctx, &ps);
	if (rc)
		return rc;
	rc = cxl_kv_layout_init(&lo, geo, ps);
	if (rc) {
		err(ctx, "geometry %ux%ux%u dtype %u tokens %llu: %s\n",
		    geo->layers, geo->kv_heads, geo->head_dim, geo->dtype_bytes,
		    (unsigned long long)geo->max_tokens, strerror(-rc));
		return rc;
	}
	memset(&c, 0, sizeof(c));
	c.layers = geo->layers;
	c.kv_heads = geo->kv_heads;
	c.head_dim = geo->head_dim;
	c.dtype_bytes = geo->dtype_bytes;
	c.max_tokens = geo->max_tokens;
	c.flags = CXL_KV_SPACE_F_CLOEXEC;
	CXL_KV_SPACE_COLD_FORMAT(&c) = cold_format;
	rc = ctl_ioctl(ctx, CXL_KV_SPACE_CREATE, &c, "SPACE_CREATE");
	if (rc) {
		err(ctx, "SPACE_CREATE: %s\n", strerror(-rc));
		return rc;
	}
	rc = cxl_kv_space_from_fd(ctx, (int)c.fd, space);
	if (rc) {
		close((int)c.fd);
		return rc;
	}
	info(ctx, "space %llu: fd %u, %llu bytes, %u tokens/block\n",
	     (unsigned long long)(*space)->info.id, c.fd,
	     (unsigned long long)c.mmap_bytes, c.tokens_per_block);
	return 0;
}

/**
 * cxl_kv_space_open_pid() - get a space held by another process
 * @ctx: context
 * @pid: the process
 * @fd: its fd number of the space
 * @space: receives a space sharing the other process's file
 *
 * Uses pidfd_getfd(2): needs ptrace access to @pid (root, or same user with
 * a permissive yama).  Used by the CLI to read stats and set parameters of a
 * running application's space.
 *
 * Return: 0, -EINVAL, -ESRCH, -EPERM, -EBADF, -ENOTTY (not a space), ...
 */
int cxl_kv_space_open_pid(struct cxl_kv_ctx *ctx, int pid, int fd,
			  struct cxl_kv_space **space)
{
	int pidfd, nfd, rc;

	if (!ctx || pid <= 0 || fd < 0 || !space)
		return -EINVAL;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	nfd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	rc = nfd < 0 ? -errno : 0;
	close(pidfd);
	if (rc) {
		dbg(ctx, "pidfd_getfd %d:%d: %s\n", pid, fd, strerror(-rc));
		return rc;
	}
	rc = cxl_kv_space_from_fd(ctx, nfd, space);
	if (rc)
		close(nfd);
	return rc;
}

/**
 * cxl_kv_list_spaces() - find the spaces open in any process
 * @ctx: context
 * @refs: receives up to @max (pid, fd) pairs (may be NULL when @max is 0)
 * @max: size of @refs
 *
 * Scans /proc/<pid>/fd for anon-inode files named after cxl_kv; only the
 * processes the caller may inspect are seen.  A space open in two fds or
 * processes is listed once per fd.
 *
 * Return: the number found (may exceed @max), -EINVAL, or -errno of /proc.
 */
int cxl_kv_list_spaces(struct cxl_kv_ctx *ctx, struct cxl_kv_space_ref *refs,
		       unsigned int max)
{
	struct dirent *pe, *fe;
	unsigned int n = 0;
	DIR *proc;

	if (!ctx || (max && !refs))
		return -EINVAL;
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((pe = readdir(proc))) {
		char path[300], link[128];
		int pid = atoi(pe->d_name);
		DIR *fds;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			ssize_t l;
			int fd;

			if (fe->d_name[0] < '0' || fe->d_name[0] > '9')
				continue;
			fd = atoi(fe->d_name);
			snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
			l = readlink(path, link, sizeof(link) - 1);
			if (l <= 0)
				continue;
			link[l] = '\0';
			if (strncmp(link, "anon_inode:", 11) ||
			    !strstr(link, "cxl_kv"))
				continue;
			if (n < max) {
				refs[n].pid = pid;
				refs[n].fd = fd;
			}
			n++;
		}
		closedir(fds);
	}
	closedir(proc);
	return (int)(n > INT32_MAX ? INT32_MAX : n);
}

/**
 * cxl_kv_space_map() - mmap the whole space, shared, read-write
 * @space: space
 * @addr: receives the address (may be NULL); mapping again returns the
 *        existing mapping
 *
 * Return: 0, -EINVAL, or the -errno of mmap (-ENOMEM).
 */
int cxl_kv_space_map(struct cxl_kv_space *space, void **addr)
{
	void *p;

	if (!space)
		return -EINVAL;
	if (!space->addr) {
		p = mmap(NULL, space->lo.mmap_bytes, PROT_READ | PROT_WRITE,
			 MAP_SHARED, space->fd, 0);
		if (p == MAP_FAILED) {
			int e = errno;

			err(space->ctx, "mmap %llu bytes: %s\n",
			    (unsigned long long)space->lo.mmap_bytes,
			    strerror(e));
			return -e;
		}
		space->addr = p;
	}
	if (addr)
		*addr = space->addr;
	return 0;
}

/**
 * cxl_kv_space_unmap() - remove the mapping made by cxl_kv_space_map()
 * @space: space
 *
 * Return: 0 (also when not mapped), -EINVAL, or the -errno of munmap.
 */
int cxl_kv_space_unmap(struct cxl_kv_space *space)
{
	if (!space)
		return -EINVAL;
	if (space->addr && munmap(space->addr, space->lo.mmap_bytes))
		return -errno;
	space->addr = NULL;
	return 0;
}

/**
 * cxl_kv_space_close() - unmap, close the fd, free the object
 * @space: space (may be NULL)
 *
 * The kernel frees the space when no other fd or mapping holds it.
 */
void cxl_kv_space_close(struct cxl_kv_space *space)
{
	struct cxl_kv_ctx *ctx;

	if (!space)
		return;
	ctx = space->ctx;
	cxl_kv_space_unmap(space);
	if (space->ring) {
		io_uring_queue_exit(space->ring);
		free(space->ring);
	}
	close(space->fd);
	free(space);
	cxl_kv_unref(ctx);
}

/**
 * cxl_kv_space_get_fd() - the space fd (for io_uring or poll)
 * @space: space
 *
 * Return: the fd, -EINVAL for NULL.
 */
int cxl_kv_space_get_fd(struct cxl_kv_space *space)
{
	return space ? space->fd : -EINVAL;
}

/**
 * cxl_kv_space_get_addr() - the mapping
 * @space: space
 *
 * Return: the address from cxl_kv_space_map(), or NULL.
 */
void *cxl_kv_space_get_addr(struct cxl_kv_space *space)
{
	return space ? space->addr : NULL;
}

/**
 * cxl_kv_space_get_layout() - the space's layout
 * @space: space
 *
 * Return: the layout (valid while the space is), or NULL.
 */
const struct cxl_kv_layout *cxl_kv_space_get_layout(struct cxl_kv_space *space)
{
	return space ? &space->lo : NULL;
}

/**
 * cxl_kv_space_get_info() - SPACE_INFO, fresh from the module
 * @space: space
 * @info: receives struct cxl_kv_space_info
 *
 * Return: 0, -EINVAL, or the ioctl's -errno.
 */
int cxl_kv_space_get_info(struct cxl_kv_space *space,
			  struct cxl_kv_space_info *info)
{
	if (!space || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	return do_ioctl(space->ctx, space->fd, CXL_KV_SPACE_INFO, info,
			"SPACE_INFO");
}

/**
 * cxl_kv_space_get_ctx() - the context a space belongs to
 * @space: space
 *
 * Return: the context, or NULL.
 */
struct cxl_kv_ctx *cxl_kv_space_get_ctx(struct cxl_kv_space *space)
{
	return space ? space->ctx : NULL;
}

/**
 * cxl_kv_kv_ptr() - address of one token's K or V vector in the mapping
 * @space: a mapped space
 * @layer: layer
 * @head: KV head
 * @kind: CXL_KV_K or CXL_KV_V
 * @token: token position
 *
 * Return: the address (token_bytes bytes valid there), or NULL when the
 * space is not mapped or an index is out of range.
 */
void *cxl_kv_kv_ptr(struct cxl_kv_space *space, uint32_t layer, uint32_t head,
		    unsigned int kind, uint64_t token)
{
	uint64_t off;

	if (!space || !space->addr ||
	    cxl_kv_layout_offset(&space->lo, layer, head, kind, token, &off))
		return NULL;
	return (char *)space->addr + off;
}

/**
 * cxl_kv_space_use_uring() - send this space's commands through io_uring
 * @space: space
 * @entries: ring size (0 switches back to ioctl)
 *
 * After this, the synchronous per-space functions prepare an SQE with the
 * cxl_kv_prep_*() builders on a private ring, submit it and wait for its
 * completion.  The module must report CXL_KV_F_URING_CMD.
 *
 * Return: 0, -EINVAL, -EOPNOTSUPP (module without uring_cmd), or the -errno
 * of io_uring_queue_init().
 */
int cxl_kv_space_use_uring(struct cxl_kv_space *space, unsigned int entries)
{
	struct cxl_kv_features f;
	struct io_uring *ring;
	int rc;

	if (!space)
		return -EINVAL;
	if (space->ring) {
		io_uring_queue_exit(space->ring);
		free(space->ring);
		space->ring = NULL;
	}
	if (!entries)
		return 0;
	rc = cxl_kv_get_features(space->ctx, &f);
	if (rc)
		return rc;
	if (!(f.features & CXL_KV_F_URING_CMD))
		return -EOPNOTSUPP;
	ring = calloc(1, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	rc = io_uring_queue_init(entries, ring, 0);
	if (rc) {
		free(ring);
		err(space->ctx, "io_uring_queue_init: %s\n", strerror(-rc));
		return rc;
	}
	space->ring = ring;
	return 0;
}

/* One command, through the ring if the space has one, else ioctl. */
static int space_cmd(struct cxl_kv_space *s, unsigned long op, void *arg,
		     int (*prep)(struct io_uring_sqe *, int, void *),
		     const char *what)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int rc;

	if (!s->ring)
		return do_ioctl(s->ctx, s->fd, op, arg, what);
	sqe = io_uring_get_sqe(s->ring);
	if (!sqe)
		return -EBUSY;
	rc = prep(sqe, s->fd, arg);
	if (rc)
		return rc;
	io_uring_sqe_set_data64(sqe, op);
	rc = io_uring_submit_and_wait(s->ring, 1);
	if (rc < 0)
		return rc;
	rc = io_uring_wait_cqe(s->ring, &cqe);
	if (rc)
		return rc;
	rc = cqe->res;
	io_uring_cqe_seen(s->ring, cqe);
	if (rc < 0)
		dbg(s->ctx, "%s (uring): %s\n", what, strerror(-rc));
	return rc < 0 ? rc : 0;
}

static int prep_hints_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_score(q, fd, a);
}

static int prep_pf_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_prefetch(q, fd, a);
}

static int prep_res_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_residency(q, fd, a);
}

static int prep_stats_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_stats(q, fd, a);
}

static int prep_access_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_access(q, fd, a);
}

static int prep_promote_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_promote(q, fd, a);
}

static int prep_demote_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_demote(q, fd, a);
}

static int prep_pin_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_pin(q, fd, a);
}

static int prep_unpin_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_unpin(q, fd, a);
}

static int prep_params_get_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_cmd(q, fd, CXL_KV_PARAMS_GET, a,
			       sizeof(struct cxl_kv_params));
}

static int prep_params_set_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_cmd(q, fd, CXL_KV_PARAMS_SET, a,
			       sizeof(struct cxl_kv_params));
}

/**
 * cxl_kv_hints() - a batch of attention-score hints for one decode step
 * @space: space
 * @step: decode step
 * @hints: the hints (reserved fields zero)
 * @count: 1..65536
 * @done: receives the hints the module applied (hints for never-written
 *        blocks and scores above 1.0 are ignored, not counted; on -EINVAL:
 *        those applied before the first bad one); may be NULL
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_hints(struct cxl_kv_space *space, uint64_t step,
		 const struct cxl_kv_hint *hints, unsigned int count,
		 unsigned int *done)
{
	struct cxl_kv_hints h;
	int rc;

	if (!space || !hints || count < 1 || count > 65536)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.step = step;
	h.hints = (uint64_t)(uintptr_t)hints;
	h.count = count;
	rc = space_cmd(space, CXL_KV_HINTS, &h, prep_hints_v, "HINTS");
	if (done)
		*done = h.done;
	return rc;
}

static int ranges_cmd(struct cxl_kv_space *s, unsigned long op,
		      int (*prep)(struct io_uring_sqe *, int, void *),
		      uint64_t step, const struct cxl_kv_range *ranges,
		      unsigned int count, uint64_t *done, const char *what)
{
	struct cxl_kv_ranges r;
	int rc;

	if (!s || !ranges || count < 1 || count > 4096)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.step = step;
	r.ranges = (uint64_t)(uintptr_t)ranges;
	r.count = count;
	rc = space_cmd(s, op, &r, prep, what);
	if (done)
		*done = r.done;
	return rc;
}

/**
 * cxl_kv_access() - report the blocks read at a decode step
 * @space: space
 * @step: decode step
 * @ranges: block runs (reserved fields zero)
 * @count: 1..4096
 * @done: receives the blocks reported; may be NULL
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_access(struct cxl_kv_space *space, uint64_t step,
		  const struct cxl_kv_range *ranges, unsigned int count,
		  uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_ACCESS, prep_access_v, step, ranges,
			  count, done, "ACCESS");
}

/**
 * cxl_kv_promote() - make block runs resident (synchronous reads)
 * @space: space
 * @ranges: block runs
 * @count: 1..4096
 * @done: receives the pages of the ranges found or made resident (on an
 *        error too: those before it); may be NULL
 *
 * Return: 0, -EINVAL, -ENOMEM (warm budget), -EIO, or the module's -errno.
 */
int cxl_kv_promote(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
		   unsigned int count, uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_PROMOTE, prep_promote_v, 0, ranges,
			  count, done, "PROMOTE");
}

/**
 * cxl_kv_demote() - write block runs to the cold tier and free their pages
 * @space: space
 * @ranges: block runs (pinned blocks are skipped)
 * @count: 1..4096
 * @done: receives the pages written or dropped (on -ENOSPC or -EIO too:
 *        those that went before it); may be NULL
 *
 * Return: 0, -EINVAL, -ENOSPC (cold tier full), -EIO, or the module's -errno.
 */
int cxl_kv_demote(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
		  unsigned int count, uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_DEMOTE, prep_demote_v, 0, ranges,
			  count, done, "DEMOTE");
}

/**
 * cxl_kv_pin() - keep block runs warm until cxl_kv_unpin()
 * @space: space
 * @ranges: block runs (promoted first if cold)
 * @count: 1..4096
 * @done: receives the blocks whose pin count changed; may be NULL
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_pin(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
	       unsigned int count, uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_PIN, prep_pin_v, 0, ranges, count,
			  done, "PIN");
}

/**
 * cxl_kv_unpin() - drop one pin of each block of the runs
 * @space: space
 * @ranges: block runs
 * @count: 1..4096
 * @done: receives the blocks whose pin count changed; may be NULL
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_unpin(struct cxl_kv_space *space, const struct cxl_kv_range *ranges,
		 unsigned int count, uint64_t *done)
{
	return ranges_cmd(space, CXL_KV_UNPIN, prep_unpin_v, 0, ranges, count,
			  done, "UNPIN");
}

/**
 * cxl_kv_prefetch() - promote the blocks around a token position
 * @space: space
 * @layer: layer
 * @head_mask: bit h selects KV head h (not 0; no bit >= kv_heads)
 * @pos: token position P
 * @window: W in tokens: tokens [P - W, P + W]
 * @flags: CXL_KV_PREFETCH_F_WAIT to return when resident (ioctl transport;
 *         through io_uring the call always waits)
 * @issued: receives pages whose promotion this call started; may be NULL
 * @resident: receives pages already resident; may be NULL
 *
 * Return: 0, -EINVAL, -EIO (a read failed, waiting modes), or the module's
 * -errno.
 */
int cxl_kv_prefetch(struct cxl_kv_space *space, uint32_t layer,
		    uint64_t head_mask, uint64_t pos, uint64_t window,
		    unsigned int flags, uint64_t *issued, uint64_t *resident)
{
	struct cxl_kv_prefetch pf;
	int rc;

	if (!space || !head_mask || (flags & ~CXL_KV_PREFETCH_F_ALL))
		return -EINVAL;
	memset(&pf, 0, sizeof(pf));
	pf.layer = layer;
	pf.head_mask = head_mask;
	pf.pos = pos;
	pf.window = window;
	pf.flags = space->ring ? 0 : flags;
	rc = space_cmd(space, CXL_KV_PREFETCH, &pf, prep_pf_v, "PREFETCH");
	if (issued)
		*issued = pf.issued;
	if (resident)
		*resident = pf.resident;
	return rc;
}

/**
 * cxl_kv_prefetch_batch() - several prefetch windows in one go
 * @space: space
 * @pf: @count PREFETCH commands (layer, head_mask, pos, window, flags set by
 *      the caller; issued and resident are written back into each)
 * @count: number of commands, >= 1
 *
 * With io_uring (cxl_kv_space_use_uring()) every window is prepared with
 * cxl_kv_prep_prefetch(), submitted together (as many as the ring holds at a
 * time) and the call returns when all have completed, i.e. when every
 * window is resident; through ioctl the commands are issued one after the
 * other, each returning once its reads are submitted unless it has
 * CXL_KV_PREFETCH_F_WAIT.
 *
 * Return: 0; -EINVAL (NULL, @count 0, a zero head_mask or unknown flag);
 * or the first failing command's -errno (the others still ran).
 */
int cxl_kv_prefetch_batch(struct cxl_kv_space *space,
			  struct cxl_kv_prefetch *pf, unsigned int count)
{
	unsigned int i, sent = 0, reaped = 0;
	int first = 0, rc;

	if (!space || !pf || !count)
		return -EINVAL;
	for (i = 0; i < count; i++)
		if (!pf[i].head_mask || (pf[i].flags & ~CXL_KV_PREFETCH_F_ALL))
			return -EINVAL;
	if (!space->ring) {
		for (i = 0; i < count; i++) {
			pf[i].issued = pf[i].resident = 0;
			memset(pf[i].reserved, 0, sizeof(pf[i].reserved));
			rc = do_ioctl(space->ctx, space->fd, CXL_KV_PREFETCH, &pf[i],
				      "PREFETCH");
			if (rc && !first)
				first = rc;
		}
		return first;
	}
	while (reaped < count) {
		struct io_uring_cqe *cqe;
		struct io_uring_sqe *sqe;

		while (sent < count && (sqe = io_uring_get_sqe(space->ring))) {
			pf[sent].flags = 0;	/* a uring prefetch always waits */
			rc = cxl_kv_prep_prefetch(sqe, space->fd, &pf[sent]);
			if (rc)
				return rc;	/* cannot happen: checked above */
			io_uring_sqe_set_data64(sqe, sent);
			sent++;
		}
		rc = io_uring_submit_and_wait(space->ring, 1);
		if (rc < 0)
			return rc;
		/* reap everything in flight before queueing more */
		while (reaped < sent) {
			rc = io_uring_wait_cqe(space->ring, &cqe);
			if (rc)
				return rc;
			if (cqe->res < 0 && !first) {
				first = cqe->res;
				dbg(space->ctx, "PREFETCH %llu (uring): %s\n",
				    (unsigned long long)cqe->user_data,
				    strerror(-first));
			}
			io_uring_cqe_seen(space->ring, cqe);
			reaped++;
		}
	}
	return first;
}

/**
 * cxl_kv_residency() - which blocks of a run need no I/O to touch
 * @space: space
 * @layer: layer
 * @head: KV head
 * @first_block: first block
 * @nr_blocks: blocks, >= 1
 * @bitmap: receives DIV_ROUND_UP(@nr_blocks, 64) words, bit i set iff block
 *          @first_block + i has no cold page; may be NULL
 * @out: receives the whole command (counts nr_warm, nr_cold, nr_empty,
 *       nr_pinned); may be NULL
 *
 * Return: 0, -EINVAL, -ENOMEM, or the module's -errno.
 */
int cxl_kv_residency(struct cxl_kv_space *space, uint32_t layer, uint32_t head,
		     uint32_t first_block, uint32_t nr_blocks, uint64_t *bitmap,
		     struct cxl_kv_residency *out)
{
	struct cxl_kv_residency r;
	uint64_t *bm = bitmap;
	int rc;

	if (!space || nr_blocks < 1 || layer > UINT16_MAX || head > UINT16_MAX)
		return -EINVAL;
	if (!bm) {
		bm = calloc((nr_blocks + 63) / 64, sizeof(*bm));
		if (!bm)
			return -ENOMEM;
	}
	memset(&r, 0, sizeof(r));
	r.layer = (uint16_t)layer;
	r.head = (uint16_t)head;
	r.first_block = first_block;
	r.nr_blocks = nr_blocks;
	r.bitmap = (uint64_t)(uintptr_t)bm;
	rc = space_cmd(space, CXL_KV_RESIDENCY, &r, prep_res_v, "RESIDENCY");
	if (!bitmap)
		free(bm);
	if (out) {
		*out = r;
		if (!bitmap)
			out->bitmap = 0;
	}
	return rc;
}

/**
 * cxl_kv_space_stats() - a space's counters
 * @space: space
 * @st: receives struct cxl_kv_stats
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_space_stats(struct cxl_kv_space *space, struct cxl_kv_stats *st)
{
	if (!space || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	return space_cmd(space, CXL_KV_SPACE_STATS, st, prep_stats_v,
			 "SPACE_STATS");
}

/**
 * cxl_kv_params_get() - a space's policy parameters
 * @space: space
 * @p: receives struct cxl_kv_params (mask = CXL_KV_PARAM_ALL)
 *
 * Return: 0, -EINVAL, or the module's -errno.
 */
int cxl_kv_params_get(struct cxl_kv_space *space, struct cxl_kv_params *p)
{
	if (!space || !p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	return space_cmd(space, CXL_KV_PARAMS_GET, p, prep_params_get_v,
			 "PARAMS_GET");
}

/**
 * cxl_kv_params_set() - change a space's policy parameters
 * @space: space
 * @p: the fields selected by p->mask are applied, all or none; pad and
 *     reserved must be zero
 *
 * Return: 0, -EINVAL (bad mask, a value out of range), or the module's
 * -errno.
 */
int cxl_kv_params_set(struct cxl_kv_space *space, struct cxl_kv_params *p)
{
	if (!space || !p || !p->mask || (p->mask & ~CXL_KV_PARAM_ALL))
		return -EINVAL;
	return space_cmd(space, CXL_KV_PARAMS_SET, p, prep_params_set_v,
			 "PARAMS_SET");
}

static const char *const cold_names[CXL_KV_FMT_NR] = {
	"raw", "lossless", "int8", "fp8", "int4",
};

/**
 * cxl_kv_cold_format_parse() - a cold format from its name
 * @name: "raw", "lossless", "int8", "fp8" or "int4", optionally followed by
 *	"-bf16" (the lossy formats read bf16 elements, else fp16)
 * @format: receives CXL_KV_FMT_* | CXL_KV_FMT_F_BF16
 *
 * Return: 0 or -EINVAL.
 */
int cxl_kv_cold_format_parse(const char *name, uint64_t *format)
{
	size_t n;

	if (!name || !format)
		return -EINVAL;
	for (uint64_t f = 0; f < CXL_KV_FMT_NR; f++) {
		n = strlen(cold_names[f]);
		if (strncmp(name, cold_names[f], n))
			continue;
		if (!name[n]) {
			*format = f;
			return 0;
		}
		if (!strcmp(name + n, "-bf16")) {
			*format = f | CXL_KV_FMT_F_BF16;
			return 0;
		}
	}
	return -EINVAL;
}

/**
 * cxl_kv_cold_format_name() - the name of a cold format's kind
 * @format: CXL_KV_FMT_* (flags ignored)
 *
 * Return: "raw", "lossless", "int8", "fp8", "int4", or NULL if unknown.
 */
const char *cxl_kv_cold_format_name(uint64_t format)
{
	uint64_t f = format & CXL_KV_FMT_MASK;

	return f < CXL_KV_FMT_NR ? cold_names[f] : NULL;
}

/* ------------------------------------------------------------------------ */
/* The layer pipeline (LIBCXL_KV_PIPE)                                      */
/* ------------------------------------------------------------------------ */

static int prep_layer_v(struct io_uring_sqe *q, int fd, void *a)
{
	return cxl_kv_prep_layer_begin(q, fd, a);
}

static int prep_pipe_stats_v(struct io_uring_sqe *q, int fd, void *a)
{
	struct cxl_kv_pipe_stats *ps = a;

	memset(ps, 0, sizeof(*ps));
	return cxl_kv_prep_cmd(q, fd, CXL_KV_PIPE_STATS, ps, sizeof(*ps));
}

/**
 * cxl_kv_layer_begin() - tell the module a layer's reads begin (LAYER_BEGIN)
 * @space: space
 * @layer: the layer whose reads start now
 * @step: the decode step (as given to cxl_kv_access())
 * @depth: layers ahead the module promotes in the background,
 *         1..min(CXL_KV_MAX_PIPE_DEPTH, layers - 1)
 * @max_pages: the space's prefetch budget per plan, pages (0: the module's
 *             default, the warm budget / 8)
 * @flags: CXL_KV_LAYER_F_WAIT to return when the plan has been carried out
 *
 * The module promotes, while the layer computes, the cold blocks of the
 * next @depth layers its policy expects the reads to touch; a later call
 * replaces the plan.  Needs CXL_KV_F_LAYER_PIPELINE.
 *
 * Return: 0, -EINVAL, -ENOTTY (a module without the pipeline), -EINTR, or
 * the module's -errno.
 */
int cxl_kv_layer_begin(struct cxl_kv_space *space, uint32_t layer,
		       uint32_t step, uint32_t depth, uint64_t max_pages,
		       unsigned int flags)
{
	struct cxl_kv_layer_begin lb;

	if (!space || (flags & ~CXL_KV_LAYER_F_ALL))
		return -EINVAL;
	memset(&lb, 0, sizeof(lb));
	lb.layer = layer;
	lb.step = step;
	lb.depth = depth;
	lb.flags = flags;
	lb.max_pages = max_pages;
	return space_cmd(space, CXL_KV_LAYER_BEGIN, &lb, prep_layer_v,
			 "LAYER_BEGIN");
}

/**
 * cxl_kv_pipe_stats() - what the layer pipeline of a space did (PIPE_STATS)
 * @space: space
 * @ps: receives struct cxl_kv_pipe_stats
 *
 * Return: 0, -EINVAL, -ENOTTY (a module without the pipeline), or the
 * module's -errno.
 */
int cxl_kv_pipe_stats(struct cxl_kv_space *space, struct cxl_kv_pipe_stats *ps)
{
	if (!space || !ps)
		return -EINVAL;
	memset(ps, 0, sizeof(*ps));
	return space_cmd(space, CXL_KV_PIPE_STATS, ps, prep_pipe_stats_v,
			 "PIPE_STATS");
}

/* ------------------------------------------------- shared prefixes */

/**
 * cxl_kv_space_share() - create a child space sharing a parent's prefix
 * @parent: the space whose first blocks the child shares (not a child)
 * @prefix_tokens: tokens of the prefix; whole blocks below it are shared
 *	(at least one block, at most the space's max_tokens)
 * @child: receives the child (same geometry, fd O_CLOEXEC, not mapped)
 *
 * The shared blocks of every (layer, head, K|V) stream are read-only in
 * the parent and the child from now on (a write raises SIGSEGV): write the
 * prefix into @parent first.  The parent lives until its last child is
 * closed.  Needs CXL_KV_F_SHARE.
 *
 * Return: 0; -EINVAL (bad prefix, @parent a child); -ENODEV; -ENOMEM; or
 * the -errno of the ioctl.
 */
int cxl_kv_space_share(struct cxl_kv_space *parent, uint64_t prefix_tokens,
		       struct cxl_kv_space **child)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_ctx *ctx;
	int rc;

	if (!parent || !child || parent->fd < 0)
		return -EINVAL;
	ctx = parent->ctx;
	memset(&c, 0, sizeof(c));
	c.layers = parent->info.layers;
	c.kv_heads = parent->info.kv_heads;
	c.head_dim = parent->info.head_dim;
	c.dtype_bytes = parent->info.dtype_bytes;
	c.max_tokens = parent->info.max_tokens;
	c.flags = CXL_KV_SPACE_F_CLOEXEC | CXL_KV_SPACE_F_SHARE;
	c.reserved[CXL_KV_SPACE_SHARE_PARENT] = (uint64_t)parent->fd;
	c.reserved[CXL_KV_SPACE_SHARE_TOKENS] = prefix_tokens;
	rc = ctl_ioctl(ctx, CXL_KV_SPACE_CREATE, &c, "SPACE_CREATE");
	if (rc) {
		err(ctx, "SPACE_CREATE (share): %s\n", strerror(-rc));
		return rc;
	}
	rc = cxl_kv_space_from_fd(ctx, (int)c.fd, child);
	if (rc)
		close((int)c.fd);
	return rc;
}
