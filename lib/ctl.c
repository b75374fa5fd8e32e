// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctl.c - the control device: features, info, global stats, attach, detach,
 * and LIST (the caller's spaces with geometry and counters, through the
 * control device: no /proc walk, no ptrace access to their holders).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "private.h"

/* One ioctl; -errno on failure (logged at debug level as @what). */
int cxl_kv__ioctl(struct cxl_kv_ctx *ctx, int fd, unsigned long op,
		  void *arg, const char *what)
{
	if (ioctl(fd, op, arg) < 0) {
		int e = errno;

		dbg(ctx, "%s: %s\n", what, strerror(e));
		return -e;
	}
	return 0;
}

/* One ioctl on the control device, opened on first use. */
int cxl_kv__ctl_ioctl(struct cxl_kv_ctx *ctx, unsigned long op, void *arg,
		      const char *what)
{
	int fd;

	if (!ctx)
		return -EINVAL;
	fd = cxl_kv__ctl_fd(ctx);
	if (fd < 0)
		return fd;
	return cxl_kv__ioctl(ctx, fd, op, arg, what);
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
	return cxl_kv__ctl_ioctl(ctx, CXL_KV_GET_FEATURES, f, "GET_FEATURES");
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
	return cxl_kv__ctl_ioctl(ctx, CXL_KV_INFO, info, "INFO");
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
	return cxl_kv__ctl_ioctl(ctx, CXL_KV_GLOBAL_STATS, st, "GLOBAL_STATS");
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
	rc = cxl_kv__ctl_ioctl(ctx, CXL_KV_ATTACH, arg, "ATTACH");
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
	return cxl_kv__ctl_ioctl(ctx, CXL_KV_DETACH, &d, "DETACH");
}

/**
 * cxl_kv_list_owned() - the caller's live spaces (every space for root)
 * @ctx: context
 * @entries: room for @count entries (NULL when @count is 0)
 * @count: entries of room, at most CXL_KV_MAX_LIST
 * @total: receives how many spaces the caller may list (may be more than
 *	were written: call again with more room); may be NULL
 *
 * One LIST command: the spaces of the caller's effective uid (of every uid
 * with CAP_SYS_ADMIN), each with its id, owner uid, geometry (as SPACE_INFO)
 * and counters (as SPACE_STATS).  Needs only access to the control device.
 *
 * Return: entries written (0 or more), -EINVAL, -EOPNOTSUPP (a module
 * without LIST), or the -errno of the open or the ioctl.
 */
int cxl_kv_list_owned(struct cxl_kv_ctx *ctx, struct cxl_kv_list_entry *entries,
		      unsigned int count, unsigned int *total)
{
	struct cxl_kv_list l;
	int fd;

	if (!ctx || count > CXL_KV_MAX_LIST || (count && !entries))
		return -EINVAL;
	fd = cxl_kv__ctl_fd(ctx);
	if (fd < 0)
		return fd;
	memset(&l, 0, sizeof(l));
	l.count = count;
	l.entries = (uint64_t)(uintptr_t)entries;
	if (ioctl(fd, CXL_KV_LIST, &l) < 0)
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	if (total)
		*total = l.total;
	return (int)l.count;
}
