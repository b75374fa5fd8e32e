// SPDX-License-Identifier: GPL-2.0
/*
 * spaceref.c - cxl-kv: the spaces of other processes (PID:FD, or every one
 * the caller may inspect: /proc and pidfd_getfd), for list, stats, params.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "cxl-kv.h"

/* --space PID:FD: 0 with *@ref = @arg, or -EINVAL. */
int space_opt(const char *arg, const char **ref)
{
	int pid, fd;

	if (parse_space_ref(arg, &pid, &fd))
		return -EINVAL;
	*ref = arg;
	return 0;
}

/* Spaces named by --space, or every space the caller can see. */
int open_spaces(struct cxl_kv_ctx *ctx, const char *ref,
		struct space_entry *out, int max)
{
	struct cxl_kv_space_ref refs[MAX_SPACES];
	int n, i, got = 0, rc;

	if (ref) {
		if (parse_space_ref(ref, &out[0].pid, &out[0].fd))
			return -EINVAL;
		rc = cxl_kv_space_open_pid(ctx, out[0].pid, out[0].fd,
					   &out[0].space);
		return rc ? rc : 1;
	}
	n = cxl_kv_list_spaces(ctx, refs, MAX_SPACES);
	if (n < 0)
		return n;
	for (i = 0; i < n && i < MAX_SPACES && got < max; i++) {
		if (refs[i].pid == getpid())
			continue;
		if (cxl_kv_space_open_pid(ctx, refs[i].pid, refs[i].fd,
					  &out[got].space))
			continue;
		out[got].pid = refs[i].pid;
		out[got].fd = refs[i].fd;
		got++;
	}
	return got;
}

void close_spaces(struct space_entry *s, int n)
{
	for (int i = 0; i < n; i++)
		cxl_kv_space_close(s[i].space);
}

void space_json(struct jw *w, struct space_entry *e)
{
	const struct cxl_kv_layout *lo = cxl_kv_space_get_layout(e->space);
	struct cxl_kv_space_info si;

	jw_u64(w, "pid", (uint64_t)e->pid);
	jw_u64(w, "fd", (uint64_t)e->fd);
	if (!cxl_kv_space_get_info(e->space, &si))
		jw_u64(w, "id", si.id);
	jw_u64(w, "layers", lo->geo.layers);
	jw_u64(w, "kv_heads", lo->geo.kv_heads);
	jw_u64(w, "head_dim", lo->geo.head_dim);
	jw_u64(w, "dtype_bytes", lo->geo.dtype_bytes);
	jw_u64(w, "max_tokens", lo->geo.max_tokens);
	jw_u64(w, "tokens_per_block", lo->tokens_per_block);
	jw_u64(w, "blocks_per_stream", lo->blocks_per_stream);
	jw_u64(w, "mmap_bytes", lo->mmap_bytes);
}
