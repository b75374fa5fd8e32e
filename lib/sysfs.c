// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sysfs.c - reading and writing sysfs attributes under the context's sysfs
 * root (cxl_kv_set_sysfs_root(), default /sys), and the parsers the node,
 * region and discovery code share.
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

int cxl_kv__sysfs_path(struct cxl_kv_ctx *ctx, char *buf, size_t len,
		       const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(buf, len, "%s/", ctx->sysfs_root);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)(n + m) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Read a sysfs attribute; trailing newline stripped.  Returns 0 or -errno. */
int cxl_kv__read_attr(struct cxl_kv_ctx *ctx, const char *path, char *buf,
		      size_t len)
{
	ssize_t n;
	int fd, e;

	if (len == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		dbg(ctx, "open %s: %s\n", path, strerror(e));
		return -e;
	}
	n = read(fd, buf, len - 1);
	e = errno;
	close(fd);
	if (n < 0) {
		dbg(ctx, "read %s: %s\n", path, strerror(e));
		return -e;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int cxl_kv__write_attr(struct cxl_kv_ctx *ctx, const char *path,
		       const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, e;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		err(ctx, "open %s: %s\n", path, strerror(e));
		return -e;
	}
	n = write(fd, val, len);
	e = errno;
	close(fd);
	if (n < 0) {
		err(ctx, "write '%s' to %s: %s\n", val, path, strerror(e));
		return -e;
	}
	if ((size_t)n != len) {
		err(ctx, "short write to %s\n", path);
		return -EIO;
	}
	dbg(ctx, "%s <- %s\n", path, val);
	return 0;
}

/* Decimal or 0x-hex, whole string. */
int cxl_kv__parse_ull(const char *s, unsigned long long *val)
{
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*val = strtoull(s, &end, 0);
	if (errno)
		return -errno;
	if (*end != '\0')
		return -EINVAL;
	return 0;
}

int cxl_kv__read_ull(struct cxl_kv_ctx *ctx, const char *path,
		     unsigned long long *val)
{
	char buf[64];
	int rc = cxl_kv__read_attr(ctx, path, buf, sizeof(buf));

	return rc ? rc : cxl_kv__parse_ull(buf, val);
}

/* Is @node in a kernel range list such as "0", "1-3,5"?  1, 0, -EINVAL. */
int cxl_kv__nodelist_has(const char *list, int node)
{
	const char *p = list;

	while (*p) {
		char *end;
		long lo, hi;

		lo = strtol(p, &end, 10);
		if (end == p)
			return -EINVAL;
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			hi = strtol(p, &end, 10);
			if (end == p || hi < lo)
				return -EINVAL;
			p = end;
		}
		if (node >= lo && node <= hi)
			return 1;
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	return 0;
}

/* Copy a name that must fit; -ENAMETOOLONG (dst emptied) when it does not. */
int cxl_kv__copy_name(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len) {
		if (len)
			dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}
