/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cxl-kv.h - what the cxl-kv CLI's files share: main.c (the verb table,
 * global options, usage and errors), one file per verb (list.c, region.c,
 * attach.c (attach, detach), stats.c, params.c, spaces.c, apply.c) and
 * spaceref.c (the spaces of other processes, by PID:FD).
 */
#ifndef CXL_KV_TOOLS_CLI_H
#define CXL_KV_TOOLS_CLI_H

#include <stddef.h>
#include <libcxl_kv.h>

#include "json.h"

#define EXIT_USAGE 2
#define MAX_SPACES 64

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

/* The options of a verb that takes only --human (and --help): -1 to go
 * on, else the exit status (help printed: 0; usage: 2). */
int cli_human_only(int argc, char **argv, int *human);

/* A space of another process, adopted with pidfd_getfd (spaceref.c). */
struct space_entry {
	int pid, fd;
	struct cxl_kv_space *space;
};

/* --space PID:FD checked: 0 with *@ref = @arg, or -EINVAL. */
int space_opt(const char *arg, const char **ref);
/* The space PID:FD of @ref, or every space the caller can see (at most
 * @max): how many were opened, or -errno. */
int open_spaces(struct cxl_kv_ctx *ctx, const char *ref,
		struct space_entry *out, int max);
void close_spaces(struct space_entry *s, int n);
/* pid, fd, id and geometry of @e as JSON members. */
void space_json(struct jw *w, struct space_entry *e);

/* LIST (spaces.c): one entry as JSON members; the caller's space @id
 * (0, -ENOENT, or LIST's -errno). */
void list_entry_json(struct jw *w, const struct cxl_kv_list_entry *e);
int find_owned(struct cxl_kv_ctx *ctx, uint64_t id,
	       struct cxl_kv_list_entry *out);

/* The verbs: argv[0] is the verb; 0, 1 (failed) or 2 (usage). */
int cmd_list(struct cxl_kv_ctx *ctx, int argc, char **argv);
int cmd_region(struct cxl_kv_ctx *ctx, int argc, char **argv);
int cmd_attach(struct cxl_kv_ctx *ctx, int argc, char **argv);
int cmd_detach(struct cxl_kv_ctx *ctx, int argc, char **argv);
int cmd_stats(struct cxl_kv_ctx *ctx, int argc, char **argv);
int cmd_params(struct cxl_kv_ctx *ctx, int argc, char **argv);
int cmd_spaces(struct cxl_kv_ctx *ctx, int argc, char **argv);
int cmd_apply(struct cxl_kv_ctx *ctx, int argc, char **argv);

#endif
