/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cxl-kv.h - what the cxl-kv CLI's files share (cxl-kv.c: the verbs and
 * main; cxl-kv-apply.c: 'apply' and its configuration file).
 */
#ifndef CXL_KV_TOOLS_CLI_H
#define CXL_KV_TOOLS_CLI_H

#include <stddef.h>
#include <libcxl_kv.h>

#define EXIT_USAGE 2

/* --sysfs-root (default /sys) and the control device path (--device). */
extern const char *sysfs_root;
extern const char *device_path;

/* Usage of the running command on stderr (after "cxl-kv: @why"): 2. */
int cli_usage(const char *why);
/* Usage of the running command on stdout: 0. */
int cli_help(void);
/* "cxl-kv: @what: strerror": 1. */
int cli_fail(const char *what, int rc);
/* The same for a control-device command, with what to do about it: 1. */
int cli_ctl_fail(const char *what, int rc);
/* The dax device of a CXL region (e.g. region0 -> dax0.0): 0 or -ENOENT. */
int dax_of_region(const char *region, char *out, size_t len);

int cmd_apply(struct cxl_kv_ctx *ctx, int argc, char **argv);

#endif
