/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib_util.h - helpers for the libcxl_kv guest tests: a context whose log
 * goes to KTAP diagnostics, attach from the rig's environment.
 */
#ifndef CXL_KV_LIB_UTIL_H
#define CXL_KV_LIB_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libcxl_kv.h>

#include "ktap.h"
#include "guest_util.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

static void lib_log(struct cxl_kv_ctx *ctx, int prio, const char *file,
		    int line, const char *fn, const char *fmt, va_list ap)
{
	printf("# libcxl_kv %s: ", fn);
	vprintf(fmt, ap);
}

/* A context logging errors as KTAP diagnostics; NULL (and a skip) if not. */
static inline struct cxl_kv_ctx *lib_ctx(void)
{
	struct cxl_kv_ctx *ctx;

	if (cxl_kv_new(&ctx))
		return NULL;
	cxl_kv_set_log_fn(ctx, lib_log);
	if (cxl_kv_get_log_priority(ctx) < LOG_ERR)
		cxl_kv_set_log_priority(ctx, LOG_ERR);
	return ctx;
}

/* Why the module tests cannot run, or NULL. */
static inline const char *lib_unavailable(void)
{
	if (access("/dev/cxl_kv", F_OK))
		return "cxl_kv not loaded (/dev/cxl_kv missing)";
	if (guest_env_int("CXLKV_WARM_NODE") < 0)
		return "CXLKV_WARM_NODE not set (not in the rig)";
	return NULL;
}

/* Attach the rig's warm node and NVMe; detaches a leftover tier set first. */
static inline int lib_attach(struct cxl_kv_ctx *ctx, uint64_t pages,
			     uint64_t cold_bytes)
{
	unsigned int node = (unsigned int)guest_env_int("CXLKV_WARM_NODE");
	const char *cold[1] = { guest_env("CXLKV_NVME", "/dev/nvme0n1") };
	struct cxl_kv_info info;

	if (!cxl_kv_get_info(ctx, &info) && info.attached)
		cxl_kv_detach(ctx);
	return cxl_kv_attach(ctx, &node, 1, cold, 1, pages, cold_bytes);
}

/*
 * Run "$CXLKV_BIN/TOOL ARGS REDIRECT" through the shell, its stdout into
 * @out (NUL-terminated, truncated to @len - 1).  Returns the exit status,
 * or -1 if it could not run or died on a signal.
 */
static inline int lib_run_tool(const char *tool, const char *args,
			       const char *redirect, char *out, size_t len)
{
	char cmd[1024];
	size_t n;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s/%s %s %s",
		 guest_env("CXLKV_BIN", "/opt/cxlkv/bin"), tool, args, redirect);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
