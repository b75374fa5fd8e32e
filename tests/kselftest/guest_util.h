/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest_util.h - small helpers shared by the cxl-kv guest test programs:
 * the rig's environment, sysfs reads, and a kernel-log scan.
 */
#ifndef CXL_KV_GUEST_UTIL_H
#define CXL_KV_GUEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>

/* Integer from the rig's environment, or -1 when unset. */
static inline int guest_env_int(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : -1;
}

static inline const char *guest_env(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

/* Read the first line of a file into buf; returns 0 or -1. */
static inline int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		buf[0] = '\0';
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static const char *const kernel_splats[] = {
	"BUG:", "WARNING:", "Oops", "general protection",
	"possible recursive locking", "suspicious RCU", "hung task", NULL,
};

/*
 * Count kernel-log lines that look like a splat.  Returns the count, or -1
 * if the log cannot be read.
 */
static inline int kernel_log_splats(void)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *line, *save;
	int n = 0;

	if (len <= 0)
		return -1;
	buf = calloc(1, (size_t)len + 1);
	if (!buf)
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len < 0) {
		free(buf);
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		for (int i = 0; kernel_splats[i]; i++) {
			if (strstr(line, kernel_splats[i])) {
				printf("# kernel: %s\n", line);
				n++;
				break;
			}
		}
	}
	free(buf);
	return n;
}

#endif /* CXL_KV_GUEST_UTIL_H */
