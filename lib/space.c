// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * space.c - the life of a KV space: create (also with a cold format or
 * sharing a parent's prefix), adopt an fd (its own, or another process's
 * through pidfd_getfd), find the spaces open in processes, map, unmap,
 * close, the getters, and the choice of transport (ioctl or a private
 * io_uring) its commands (cmds.c) go through.
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
#include <sys/mman.h>
#include <sys/syscall.h>

#include "private.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int page_size_of(struct cxl_kv_ctx *ctx, uint32_t *ps)
{
	struct cxl_kv_features f;
	int rc = cxl_kv_get_features(ctx, &f);

	if (rc)
		return rc;
	*ps = f.page_size;
	return 0;
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
	rc = cxl_kv__ioctl(ctx, fd, CXL_KV_SPACE_INFO, &s->info, "SPACE_INFO");
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
	rc = cxl_kv__ctl_ioctl(ctx, CXL_KV_SPACE_CREATE, &c, "SPACE_CREATE");
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
	return cxl_kv__ioctl(space->ctx, space->fd, CXL_KV_SPACE_INFO, info,
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
	rc = cxl_kv__ctl_ioctl(ctx, CXL_KV_SPACE_CREATE, &c, "SPACE_CREATE");
	if (rc) {
		err(ctx, "SPACE_CREATE (share): %s\n", strerror(-rc));
		return rc;
	}
	rc = cxl_kv_space_from_fd(ctx, (int)c.fd, child);
	if (rc)
		close((int)c.fd);
	return rc;
}
