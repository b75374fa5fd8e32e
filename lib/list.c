// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * list.c - LIST: the caller's spaces with geometry and counters, through
 * the control device (no /proc walk, no ptrace access to their holders).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "private.h"

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
