// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libcxl_kv.c - the library context and its log function.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

#define CXL_KV_DEFAULT_DEV "/dev/cxl_kv"

static void log_stderr(struct cxl_kv_ctx *ctx, int priority, const char *file,
		       int line, const char *fn, const char *format,
		       va_list args)
{
	fprintf(stderr, "libcxl_kv: %s: ", fn);
	vfprintf(stderr, format, args);
}

void cxl_kv__log(struct cxl_kv_ctx *ctx, int priority, const char *file,
		 int line, const char *fn, const char *fmt, ...)
{
	va_list args;

	if (!ctx->log_fn)
		return;
	va_start(args, fmt);
	ctx->log_fn(ctx, priority, file, line, fn, fmt, args);
	va_end(args);
}

/*
 * CXL_KV_LOG: "err", "info", "debug" or a syslog priority number.  Unset or
 * unparsable: -1, nothing is logged.
 */
static int log_priority_from_env(void)
{
	const char *env = getenv("CXL_KV_LOG");
	char *end;
	long prio;

	if (!env || !*env)
		return -1;
	prio = strtol(env, &end, 10);
	if (end != env && *end == '\0' && prio >= 0 && prio <= LOG_DEBUG)
		return (int)prio;
	if (!strcmp(env, "err") || !strcmp(env, "error"))
		return LOG_ERR;
	if (!strcmp(env, "warn") || !strcmp(env, "warning"))
		return LOG_WARNING;
	if (!strcmp(env, "info"))
		return LOG_INFO;
	if (!strcmp(env, "debug"))
		return LOG_DEBUG;
	return -1;
}

/**
 * cxl_kv_new() - create a library context
 * @ctx: where the new context is stored
 *
 * The context starts with one reference, the log function writing to stderr
 * and the log priority from $CXL_KV_LOG (unset: nothing is logged).
 *
 * Return: 0, -EINVAL for a NULL @ctx, -ENOMEM.
 */
int cxl_kv_new(struct cxl_kv_ctx **ctx)
{
	struct cxl_kv_ctx *c;

	if (!ctx)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->refcount = 1;
	c->fd = -1;
	c->log_fn = log_stderr;
	c->log_priority = log_priority_from_env();
	strcpy(c->sysfs_root, "/sys");
	strcpy(c->dev_path, CXL_KV_DEFAULT_DEV);
	info(c, "ctx %p created, log priority %d\n", (void *)c, c->log_priority);
	*ctx = c;
	return 0;
}

/**
 * cxl_kv_ref() - take a reference on a context
 * @ctx: context (may be NULL)
 *
 * Return: @ctx.
 */
struct cxl_kv_ctx *cxl_kv_ref(struct cxl_kv_ctx *ctx)
{
	if (ctx)
		ctx->refcount++;
	return ctx;
}

/**
 * cxl_kv_unref() - drop a reference; the last one frees the context
 * @ctx: context (may be NULL)
 */
void cxl_kv_unref(struct cxl_kv_ctx *ctx)
{
	if (!ctx || --ctx->refcount > 0)
		return;
	info(ctx, "ctx %p released\n", (void *)ctx);
	cxl_kv__free_nodes(ctx);
	if (ctx->fd >= 0)
		close(ctx->fd);
	free(ctx);
}

/**
 * cxl_kv_set_log_fn() - route the library's diagnostics
 * @ctx: context
 * @log_fn: function called for every message at or above the priority; NULL
 *          discards everything
 */
void cxl_kv_set_log_fn(struct cxl_kv_ctx *ctx, cxl_kv_log_fn log_fn)
{
	if (ctx)
		ctx->log_fn = log_fn;
}

/**
 * cxl_kv_get_log_priority() - the current log priority
 * @ctx: context
 *
 * Return: a syslog priority (LOG_ERR..LOG_DEBUG), -1 when silent, -EINVAL
 * for a NULL @ctx.
 */
int cxl_kv_get_log_priority(struct cxl_kv_ctx *ctx)
{
	return ctx ? ctx->log_priority : -EINVAL;
}

/**
 * cxl_kv_set_log_priority() - set the log priority
 * @ctx: context
 * @priority: syslog priority; messages above it are dropped; -1 silences
 */
void cxl_kv_set_log_priority(struct cxl_kv_ctx *ctx, int priority)
{
	if (ctx)
		ctx->log_priority = priority;
}

/**
 * cxl_kv_set_userdata() - attach caller data to a context
 * @ctx: context
 * @userdata: any pointer, returned by cxl_kv_get_userdata()
 */
void cxl_kv_set_userdata(struct cxl_kv_ctx *ctx, void *userdata)
{
	if (ctx)
		ctx->userdata = userdata;
}

/**
 * cxl_kv_get_userdata() - caller data attached to a context
 * @ctx: context
 *
 * Return: the pointer given to cxl_kv_set_userdata(), or NULL.
 */
void *cxl_kv_get_userdata(struct cxl_kv_ctx *ctx)
{
	return ctx ? ctx->userdata : NULL;
}

/**
 * cxl_kv_set_sysfs_root() - read sysfs from another directory
 * @ctx: context
 * @path: absolute directory standing for /sys (tests use a fake tree)
 *
 * Drops the cached node list.
 *
 * Return: 0, -EINVAL (NULL, relative), -ENAMETOOLONG.
 */
int cxl_kv_set_sysfs_root(struct cxl_kv_ctx *ctx, const char *path)
{
	size_t n;

	if (!ctx || !path || path[0] != '/')
		return -EINVAL;
	n = strlen(path);
	if (n >= sizeof(ctx->sysfs_root))
		return -ENAMETOOLONG;
	memcpy(ctx->sysfs_root, path, n + 1);
	while (n > 1 && ctx->sysfs_root[n - 1] == '/')
		ctx->sysfs_root[--n] = '\0';
	cxl_kv__free_nodes(ctx);
	return 0;
}

/**
 * cxl_kv_set_device_path() - use another control device than /dev/cxl_kv
 * @ctx: context
 * @path: absolute path of the cxl_kv control device
 *
 * Closes the control device if it was open.
 *
 * Return: 0, -EINVAL, -ENAMETOOLONG.
 */
int cxl_kv_set_device_path(struct cxl_kv_ctx *ctx, const char *path)
{
	size_t n;

	if (!ctx || !path || path[0] != '/')
		return -EINVAL;
	n = strlen(path);
	if (n >= sizeof(ctx->dev_path))
		return -ENAMETOOLONG;
	memcpy(ctx->dev_path, path, n + 1);
	if (ctx->fd >= 0) {
		close(ctx->fd);
		ctx->fd = -1;
	}
	return 0;
}

/* Open the control device once; returns the fd or -errno. */
int cxl_kv__ctl_fd(struct cxl_kv_ctx *ctx)
{
	int fd;

	if (ctx->fd >= 0)
		return ctx->fd;
	fd = open(ctx->dev_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		err(ctx, "open %s: %s\n", ctx->dev_path, strerror(e));
		return -e;
	}
	ctx->fd = fd;
	return fd;
}
