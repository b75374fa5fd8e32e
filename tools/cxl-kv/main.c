// SPDX-License-Identifier: GPL-2.0
/*
 * cxl-kv - administer the cxl-kv tiered KV cache.
 *
 *   cxl-kv [GLOBAL] list [--human]
 *   cxl-kv [GLOBAL] region [--memdev memN | --dax daxX.Y] [--no-online]
 *   cxl-kv [GLOBAL] attach [--node N[,N..]] --cold DEV[,DEV..]
 *                          [--budget SIZE | --budget-pages N] [--cold-max SIZE]
 *                          [--user-spaces N] [--max-spaces N]
 *                          [--user-warm-pages N] [--user-cold-slots N]
 *                          (--cold and --node default to $CXLKV_NVME and
 *                          $CXLKV_WARM_NODE when set, as in the test guest)
 *   cxl-kv [GLOBAL] detach
 *   cxl-kv [GLOBAL] stats [--space PID:FD | --id ID] [--per-head] [--watch SECS
 *                         [--count N]] [--human]
 *   cxl-kv [GLOBAL] params get [--space PID:FD] [--human] [NAME...]
 *   cxl-kv [GLOBAL] params set [--space PID:FD] NAME=VALUE...
 *   cxl-kv [GLOBAL] spaces [--human]
 *   cxl-kv [GLOBAL] apply [--config FILE] [--dry-run] [--replace]
 *   GLOBAL: --sysfs-root DIR, --device PATH
 *
 * JSON on stdout by default; --human for tables.  Exit status: 0 success,
 * 1 the operation failed, 2 bad arguments (usage on stderr).
 *
 * This file: the verb table, the global options, usage and errors; each
 * verb is in its own file (cxl-kv.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libcxl_kv.h>

#include "common.h"
#include "cxl-kv.h"

const char *sysfs_root = "/sys";

static const char usage_text[] =
"usage: cxl-kv [--sysfs-root DIR] [--device PATH] <command> [options]\n"
"       cxl-kv --version | --help | <command> --help\n"
"commands:\n"
"  list      nodes, dax/CXL origin, tiers, module, spaces\n"
"  region    CXL RAM region -> dax -> warm NUMA node\n"
"  attach    bring up the tier set (root)\n"
"  detach    release the tier set (root)\n"
"  apply     bring the host to /etc/cxl-kv.conf (root, idempotent)\n"
"  stats     module and per-space counters\n"
"  params    read or set a space's policy parameters\n"
"  spaces    the caller's own spaces and their counters (no root needed)\n"
"  help      this text ('cxl-kv help COMMAND': that command's)\n";

/* Each command's own usage: printed by 'cxl-kv CMD --help' (stdout, exit 0)
 * and with a bad argument of CMD (stderr, exit 2). */
static const struct verb_help {
	const char *name;
	const char *text;
} verb_help[] = {
	{ "list",
"usage: cxl-kv list [--human]\n"
"  NUMA nodes (cpus, size, free, memory tier, origin, dax, region, warm),\n"
"  tiers, the module (version, features, tier set, limits) and the spaces\n"
"  open in processes the caller may inspect (root: all of them).\n"
"  --human   tables instead of JSON\n" },
	{ "region",
"usage: cxl-kv region [--memdev memN | --dax daxX.Y] [--no-online]\n"
"  Without --dax: create a RAM region on memN (default: the first memdev\n"
"  with volatile capacity) and wait for its dax device.  Then hand the dax\n"
"  device to kmem and online it into ZONE_NORMAL (idempotent).\n"
"  --memdev memN   the CXL memdev to make the region from\n"
"  --dax daxX.Y    an existing dax device (must exist; checked first)\n"
"  --no-online     stop after the region (no kmem, no node)\n" },
	{ "attach",
"usage: cxl-kv attach [--node N[,N..]] --cold DEV[,DEV..]\n"
"                     [--budget SIZE | --budget-pages N] [--cold-max SIZE]\n"
"                     [--user-spaces N] [--max-spaces N]\n"
"                     [--user-warm-pages N] [--user-cold-slots N]\n"
"  Bring up the tier set (CAP_SYS_ADMIN).  --node defaults to the first\n"
"  CPU-less memory node ($CXLKV_WARM_NODE when set), --cold to $CXLKV_NVME,\n"
"  the budget to half the warm nodes' free memory.  Limits: 0 = default.\n" },
	{ "detach",
"usage: cxl-kv detach\n"
"  Release the tier set (CAP_SYS_ADMIN); fails while spaces are open.\n" },
	{ "stats",
"usage: cxl-kv stats [--space PID:FD | --id ID] [--per-head]\n"
"                    [--watch SECS [--count N]] [--human]\n"
"  Module counters, then each space's (--space: only the space that is\n"
"  fd FD of process PID, which needs ptrace access to it; --id: the\n"
"  caller's space ID as 'cxl-kv spaces' lists it, read through LIST: no\n"
"  root needed).  --per-head adds residency per (layer, head);\n"
"  --watch prints one record every SECS seconds (JSON lines), --count of them.\n" },
	{ "params",
"usage: cxl-kv params get [--space PID:FD] [--human] [NAME...]\n"
"       cxl-kv params set [--space PID:FD] NAME=VALUE...\n"
"  Read or set the policy parameters of every space (or of --space).\n" },
	{ "apply",
"usage: cxl-kv apply [--config FILE] [--dry-run] [--replace]\n"
"  Bring the host to the tier set of /etc/cxl-kv.conf and /etc/cxl-kv.d/*.conf\n"
"  (or of FILE alone): RAM regions, dax devices onlined, kmem and cxl_kv\n"
"  loaded, the tier set attached.  Everything is checked first; a matching\n"
"  tier set is left alone (idempotent).  Keys: region, dax, nodes, cold,\n"
"  budget | budget_pages, cold_max, high_wmark, low_wmark, user_spaces,\n"
"  max_spaces, user_warm_pages, user_cold_slots (see cxl-kv(8)).\n"
"  --dry-run   check the configuration and the host, change nothing\n"
"  --replace   detach a different tier set first (no space may be open)\n" },
	{ "spaces",
"usage: cxl-kv spaces [--human]\n"
"  The caller's own spaces (every space for root) with their geometry and\n"
"  counters, read through the control device (LIST): no access to the\n"
"  processes holding them is needed, only to /dev/cxl_kv.\n"
"  --human   tables instead of JSON\n" },
	{ "help",
"usage: cxl-kv help [COMMAND]\n" },
};

static const char *help_of(const char *verb)
{
	for (size_t i = 0; i < sizeof(verb_help) / sizeof(verb_help[0]); i++)
		if (!strcmp(verb_help[i].name, verb))
			return verb_help[i].text;
	return NULL;
}

/* The verb being run: cli_usage() prints its usage, else the global one. */
static const char *cur_verb;

int cli_usage(const char *why)
{
	const char *h = cur_verb ? help_of(cur_verb) : NULL;

	if (why)
		fprintf(stderr, "cxl-kv: %s\n", why);
	fputs(h ?: usage_text, stderr);
	return EXIT_USAGE;
}

int cli_help(void)
{
	const char *h = cur_verb ? help_of(cur_verb) : NULL;

	fputs(h ?: usage_text, stdout);
	return 0;
}

const char *device_path = "/dev/" CXL_KV_DEVICE_NAME;

int cli_fail(const char *what, int rc)
{
	fprintf(stderr, "cxl-kv: %s: %s\n", what, strerror(-rc));
	return 1;
}

/*
 * A failed command on the control device, with what to do about it: the
 * device missing (module not loaded), not accessible (group), not allowed
 * (root), or the tier set in the wrong state.
 */
int cli_ctl_fail(const char *what, int rc)
{
	const char *hint = NULL;

	switch (rc) {
	case -ENOENT: case -ENODEV: case -ENXIO:
		if (access(device_path, F_OK)) {
			hint = "the cxl_kv module is not loaded (run 'modprobe "
			       "cxl_kv' as root, or 'cxl-kv apply')";
			break;
		}
		if (rc == -ENODEV)
			hint = "no tier set is attached (run 'cxl-kv attach' "
			       "or 'cxl-kv apply')";
		break;
	case -EBUSY:
		if (!strcmp(what, "attach"))
			hint = "a tier set is already attached ('cxl-kv detach' "
			       "first; 'cxl-kv apply' leaves a matching one alone)";
		else if (!strcmp(what, "detach"))
			hint = "spaces are still open (see 'cxl-kv list')";
		break;
	case -EACCES:
		hint = "no access to the control device: add the user to group "
		       "cxl-kv (see 60-cxl-kv.rules), or run as root";
		break;
	case -EPERM:
		hint = "needs CAP_SYS_ADMIN: run as root";
		break;
	}
	if (!hint) {
		fprintf(stderr, "cxl-kv: %s: %s\n", what, strerror(-rc));
		return 1;
	}
	fprintf(stderr, "cxl-kv: %s: %s: %s: %s\n", what, device_path,
		strerror(-rc), hint);
	return 1;
}

int cli_human_only(int argc, char **argv, int *human)
{
	static const struct option opts[] = {
		{ "human", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "Hh", opts, NULL)) != -1) {
		switch (c) {
		case 'H': *human = 1; break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	if (optind != argc) {
		char why[64];

		snprintf(why, sizeof(why), "%s takes no arguments", argv[0]);
		return cli_usage(why);
	}
	return -1;
}

static int print_version(void)
{
	printf("cxl-kv %s (%s), ABI version %u\n", CXL_KV_PKG_VERSION,
	       CXL_KV_GIT_REV, CXL_KV_VERSION);
	return 0;
}

/* ------------------------------------------------------------------ main */

static const struct {
	const char *name;
	int (*fn)(struct cxl_kv_ctx *ctx, int argc, char **argv);
} commands[] = {
	{ "list", cmd_list },
	{ "region", cmd_region },
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "stats", cmd_stats },
	{ "params", cmd_params },
	{ "spaces", cmd_spaces },
	{ "apply", cmd_apply },
};

int main(int argc, char **argv)
{
	const char *device = NULL;
	struct cxl_kv_ctx *ctx;
	int i, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--sysfs-root") && i + 1 < argc) {
			sysfs_root = argv[++i];
		} else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
			device = argv[++i];
			device_path = device;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			return print_version();
		} else {
			fprintf(stderr, "cxl-kv: unknown option '%s'\n", argv[i]);
			return cli_usage(NULL);
		}
	}
	if (i >= argc)
		return cli_usage("no command");
	if (!strcmp(argv[i], "help")) {
		if (i + 2 < argc)
			return cli_usage("help takes at most one command");
		if (i + 1 < argc && (!strcmp(argv[i + 1], "-h") ||
				     !strcmp(argv[i + 1], "--help"))) {
			cur_verb = "help";
		} else if (i + 1 < argc) {
			if (!help_of(argv[i + 1])) {
				fprintf(stderr, "cxl-kv: unknown command '%s'\n",
					argv[i + 1]);
				return cli_usage(NULL);
			}
			cur_verb = argv[i + 1];
		}
		return cli_help();
	}
	if (!strcmp(argv[i], "version"))
		return print_version();
	rc = cxl_kv_new(&ctx);
	if (rc)
		return cli_fail("cxl_kv_new", rc);
	if ((strcmp(sysfs_root, "/sys") &&
	     (rc = cxl_kv_set_sysfs_root(ctx, sysfs_root))) ||
	    (device && (rc = cxl_kv_set_device_path(ctx, device)))) {
		cxl_kv_unref(ctx);
		return cli_usage(strerror(-rc));
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name))
			continue;
		optind = 1;
		cur_verb = commands[c].name;
		rc = commands[c].fn(ctx, argc - i, argv + i);
		cxl_kv_unref(ctx);
		return rc;
	}
	cxl_kv_unref(ctx);
	fprintf(stderr, "cxl-kv: unknown command '%s'\n", argv[i]);
	return cli_usage(NULL);
}
