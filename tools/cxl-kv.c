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
 *   cxl-kv [GLOBAL] stats [--space PID:FD] [--per-head] [--watch SECS
 *                         [--count N]] [--human]
 *   cxl-kv [GLOBAL] params get [--space PID:FD] [--human] [NAME...]
 *   cxl-kv [GLOBAL] params set [--space PID:FD] NAME=VALUE...
 *   cxl-kv [GLOBAL] spaces [--human]
 *   cxl-kv [GLOBAL] apply [--config FILE] [--dry-run] [--replace]
 *   GLOBAL: --sysfs-root DIR, --device PATH
 *
 * JSON on stdout by default; --human for tables.  Exit status: 0 success,
 * 1 the operation failed, 2 bad arguments (usage on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <libcxl_kv.h>

#include "common.h"
#include "cxl-kv.h"

#define MAX_SPACES 64

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
"usage: cxl-kv stats [--space PID:FD] [--per-head] [--watch SECS [--count N]]\n"
"                    [--human]\n"
"  Module counters, then each space's (--space: only the space that is\n"
"  fd FD of process PID).  --per-head adds residency per (layer, head);\n"
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
"  budget | budget_pages, cold_max, user_spaces, max_spaces,\n"
"  user_warm_pages, user_cold_slots (see cxl-kv(8)).\n"
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

static int print_version(void)
{
	printf("cxl-kv %s (%s), ABI version %u\n", CXL_KV_PKG_VERSION,
	       CXL_KV_GIT_REV, CXL_KV_VERSION);
	return 0;
}

/* ------------------------------------------------------------------ list */

static const char *const feature_names[] = {
	"uring_cmd", "multi_node", "multi_cold", "cold_fd", "clean_drop",
	"prefetch_wait", NULL, NULL, "list",
};

struct space_entry {
	int pid, fd;
	struct cxl_kv_space *space;
};

/* Spaces named by --space, or every space the caller can see. */
static int open_spaces(struct cxl_kv_ctx *ctx, const char *ref,
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

static void close_spaces(struct space_entry *s, int n)
{
	for (int i = 0; i < n; i++)
		cxl_kv_space_close(s[i].space);
}

static void space_json(struct jw *w, struct space_entry *e)
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

static void module_json(struct jw *w, struct cxl_kv_ctx *ctx)
{
	struct cxl_kv_features f;
	struct cxl_kv_info info;

	jw_obj_begin(w, "module");
	if (cxl_kv_get_features(ctx, &f)) {
		jw_bool(w, "loaded", 0);
		jw_obj_end(w);
		return;
	}
	jw_bool(w, "loaded", 1);
	jw_u64(w, "version", f.version);
	jw_u64(w, "page_size", f.page_size);
	jw_arr_begin(w, "features");
	for (size_t i = 0; i < sizeof(feature_names) / sizeof(*feature_names); i++)
		if ((f.features & (1ULL << i)) && feature_names[i])
			jw_str(w, NULL, feature_names[i]);
	jw_arr_end(w);
	if (!cxl_kv_get_info(ctx, &info)) {
		jw_bool(w, "attached", info.attached);
		jw_arr_begin(w, "warm_nodes");
		for (unsigned int i = 0; i < info.nr_nodes && i < CXL_KV_MAX_NODES; i++)
			jw_u64(w, NULL, info.nodes[i]);
		jw_arr_end(w);
		jw_u64(w, "nr_cold", info.nr_cold);
		jw_u64(w, "nr_spaces", info.nr_spaces);
		jw_u64(w, "budget_pages", info.budget_pages);
		jw_u64(w, "high_wmark", info.high_wmark);
		jw_u64(w, "low_wmark", info.low_wmark);
		jw_u64(w, "warm_pages", info.warm_pages);
		jw_u64(w, "cold_slots", info.cold_slots);
		jw_u64(w, "cold_used", info.cold_used);
		jw_u64(w, "user_spaces", info.user_spaces);
		jw_u64(w, "max_spaces", info.max_spaces);
		jw_u64(w, "user_warm_pages", info.user_warm_pages);
		jw_u64(w, "user_cold_slots", info.user_cold_slots);
	}
	jw_obj_end(w);
}

static int cmd_list(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "human", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct space_entry spaces[MAX_SPACES];
	struct cxl_kv_node *n;
	int human = 0, c, ns, rc, tiers[64], ntiers = 0;
	struct jw w;

	while ((c = getopt_long(argc, argv, "Hh", opts, NULL)) != -1) {
		switch (c) {
		case 'H': human = 1; break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	if (optind != argc)
		return cli_usage("list takes no arguments");
	rc = cxl_kv_refresh_nodes(ctx);
	if (rc < 0)
		return cli_fail("reading NUMA nodes", rc);
	ns = open_spaces(ctx, NULL, spaces, MAX_SPACES);
	if (ns < 0)
		ns = 0;

	if (human) {
		struct cxl_kv_features f;
		struct cxl_kv_info info;

		printf("%-5s %-5s %12s %12s %5s %-8s %-8s %-8s\n", "node",
		       "cpus", "size_MiB", "free_MiB", "tier", "origin", "dax",
		       "region");
		cxl_kv_node_foreach(ctx, n)
			printf("%-5d %-5s %12llu %12llu %5d %-8s %-8s %-8s\n",
			       cxl_kv_node_get_id(n),
			       cxl_kv_node_has_cpus(n) ? "yes" : "no",
			       cxl_kv_node_get_size(n) >> 20,
			       cxl_kv_node_get_free(n) >> 20,
			       cxl_kv_node_get_memory_tier(n),
			       cxl_kv_origin_name(cxl_kv_node_get_origin(n)),
			       cxl_kv_node_get_dax(n) ?: "-",
			       cxl_kv_node_get_region(n) ?: "-");
		n = cxl_kv_get_warm_node(ctx);
		if (n)
			printf("warm node: %d\n", cxl_kv_node_get_id(n));
		else
			printf("warm node: none\n");
		if (cxl_kv_get_features(ctx, &f)) {
			printf("module: not loaded\n");
		} else if (!cxl_kv_get_info(ctx, &info) && info.attached) {
			printf("module: v%u, attached, %u warm node(s), %u cold, "
			       "budget %llu pages, warm %llu, cold %llu/%llu, "
			       "%u space(s)\n", f.version, info.nr_nodes,
			       info.nr_cold, (unsigned long long)info.budget_pages,
			       (unsigned long long)info.warm_pages,
			       (unsigned long long)info.cold_used,
			       (unsigned long long)info.cold_slots, info.nr_spaces);
		} else {
			printf("module: v%u, not attached\n", f.version);
		}
		for (int i = 0; i < ns; i++) {
			const struct cxl_kv_layout *lo =
				cxl_kv_space_get_layout(spaces[i].space);

			printf("space pid %d fd %d: %ux%ux%u dtype %u, %llu tokens, "
			       "%llu MiB\n", spaces[i].pid, spaces[i].fd,
			       lo->geo.layers, lo->geo.kv_heads, lo->geo.head_dim,
			       lo->geo.dtype_bytes,
			       (unsigned long long)lo->geo.max_tokens,
			       (unsigned long long)(lo->mmap_bytes >> 20));
		}
		close_spaces(spaces, ns);
		return 0;
	}

	jw_init(&w, stdout, 1);
	jw_obj_begin(&w, NULL);
	jw_arr_begin(&w, "nodes");
	cxl_kv_node_foreach(ctx, n) {
		int t = cxl_kv_node_get_memory_tier(n), seen = 0;

		jw_obj_begin(&w, NULL);
		jw_i64(&w, "node", cxl_kv_node_get_id(n));
		jw_bool(&w, "cpus", cxl_kv_node_has_cpus(n));
		jw_u64(&w, "size", cxl_kv_node_get_size(n));
		jw_u64(&w, "free", cxl_kv_node_get_free(n));
		jw_i64(&w, "memory_tier", t);
		jw_str(&w, "origin", cxl_kv_origin_name(cxl_kv_node_get_origin(n)));
		jw_str(&w, "dax", cxl_kv_node_get_dax(n));
		jw_str(&w, "region", cxl_kv_node_get_region(n));
		jw_bool(&w, "warm", n == cxl_kv_get_warm_node(ctx));
		jw_obj_end(&w);
		for (int i = 0; i < ntiers; i++)
			seen |= tiers[i] == t;
		if (!seen && t >= 0 && ntiers < 64)
			tiers[ntiers++] = t;
	}
	jw_arr_end(&w);
	jw_arr_begin(&w, "tiers");
	for (int i = 0; i < ntiers; i++) {
		jw_obj_begin(&w, NULL);
		jw_i64(&w, "memory_tier", tiers[i]);
		jw_arr_begin(&w, "nodes");
		cxl_kv_node_foreach(ctx, n)
			if (cxl_kv_node_get_memory_tier(n) == tiers[i])
				jw_i64(&w, NULL, cxl_kv_node_get_id(n));
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	module_json(&w, ctx);
	jw_arr_begin(&w, "spaces");
	for (int i = 0; i < ns; i++) {
		jw_obj_begin(&w, NULL);
		space_json(&w, &spaces[i]);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	close_spaces(spaces, ns);
	return jw_finish(&w) ? 1 : 0;
}

/* ---------------------------------------------------------------- region */

static int first_ram_memdev(char *out, size_t len)
{
	char path[PATH_MAX], buf[64];
	struct dirent *de;
	DIR *d;
	int found = -ENODEV;

	snprintf(path, sizeof(path), "%s/bus/cxl/devices", sysfs_root);
	d = opendir(path);
	if (!d)
		return -ENODEV;
	while ((de = readdir(d)) && found) {
		FILE *f;

		if (strncmp(de->d_name, "mem", 3))
			continue;
		snprintf(path, sizeof(path), "%s/bus/cxl/devices/%.64s/ram/size",
			 sysfs_root, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strtoull(buf, NULL, 0) > 0 &&
		    strlen(de->d_name) < len) {
			strcpy(out, de->d_name);
			found = 0;
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* The dax device the region's dax_region holds: realpath has /REGION/. */
int dax_of_region(const char *region, char *out, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX], needle[80];
	struct dirent *de;
	DIR *d;

	snprintf(needle, sizeof(needle), "/%s/", region);
	snprintf(path, sizeof(path), "%s/bus/dax/devices", sysfs_root);
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "dax", 3))
			continue;
		snprintf(path, sizeof(path), "%s/bus/dax/devices/%.64s",
			 sysfs_root, de->d_name);
		if (realpath(path, real) && strstr(real, needle) &&
		    strlen(de->d_name) < len) {
			strcpy(out, de->d_name);
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -ENOENT;
}

static int cmd_region(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "memdev", required_argument, NULL, 'm' },
		{ "dax", required_argument, NULL, 'd' },
		{ "no-online", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char memdev[64] = "", dax[64] = "", region[64] = "", path[PATH_MAX];
	int c, rc, online = 1, node = -1;
	struct jw w;

	while ((c = getopt_long(argc, argv, "m:d:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strlen(optarg) >= sizeof(memdev))
				return cli_usage("memdev name too long");
			strcpy(memdev, optarg);
			break;
		case 'd':
			if (strlen(optarg) >= sizeof(dax) || strncmp(optarg, "dax", 3))
				return cli_usage("--dax takes a name like dax0.0");
			strcpy(dax, optarg);
			break;
		case 'n': online = 0; break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	if (optind != argc)
		return cli_usage("region takes no positional arguments");
	if (memdev[0] && dax[0])
		return cli_usage("--memdev and --dax exclude each other");
	/* Every name is checked before anything changes (modprobe, sysfs). */
	if (dax[0]) {
		unsigned int a, b;
		char end;

		if (sscanf(dax, "dax%u.%u%c", &a, &b, &end) != 2)
			return cli_usage("--dax takes a name like dax0.0");
		snprintf(path, sizeof(path), "%s/bus/dax/devices/%s", sysfs_root, dax);
		if (access(path, F_OK)) {
			fprintf(stderr, "cxl-kv: region: no dax device %s (%s is "
				"missing; 'cxl-kv list' shows the nodes and their "
				"dax devices)\n", dax, path);
			return 1;
		}
	}
	if (memdev[0]) {
		snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s", sysfs_root,
			 memdev);
		if (strncmp(memdev, "mem", 3) || strchr(memdev, '/') ||
		    access(path, F_OK)) {
			fprintf(stderr, "cxl-kv: region: no CXL memdev %s (%s is "
				"missing)\n", memdev, path);
			return 1;
		}
	}
	if (!dax[0]) {
		if (!memdev[0] && first_ram_memdev(memdev, sizeof(memdev)))
			return cli_fail("no CXL memdev with volatile capacity", -ENODEV);
		rc = cxl_kv_region_create_ram(ctx, memdev, region, sizeof(region));
		if (rc)
			return cli_fail("creating the RAM region", rc);
		/* cxl_region creates dax_regionN/daxN.0 asynchronously */
		for (int i = 0; i < 50; i++) {
			if (!dax_of_region(region, dax, sizeof(dax)))
				break;
			usleep(100000);
		}
		if (!dax[0])
			return cli_fail("no dax device appeared for the region", -ENOENT);
	}
	if (online) {
		snprintf(path, sizeof(path), "%s/bus/dax/drivers/kmem", sysfs_root);
		if (access(path, F_OK) && !strcmp(sysfs_root, "/sys") &&
		    system("modprobe kmem") != 0)
			return cli_fail("modprobe kmem", -ENODEV);
		rc = cxl_kv_dax_online(ctx, dax, &node);
		if (rc)
			return cli_fail("onlining the dax device", rc);
	}
	jw_init(&w, stdout, 1);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "memdev", memdev[0] ? memdev : NULL);
	jw_str(&w, "region", region[0] ? region : NULL);
	jw_str(&w, "dax", dax);
	if (node >= 0)
		jw_i64(&w, "node", node);
	else
		jw_null(&w, "node");
	jw_obj_end(&w);
	return jw_finish(&w) ? 1 : 0;
}

/* ---------------------------------------------------------- attach/detach */

static int cmd_attach(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "cold", required_argument, NULL, 'c' },
		{ "budget", required_argument, NULL, 'b' },
		{ "budget-pages", required_argument, NULL, 'p' },
		{ "cold-max", required_argument, NULL, 'm' },
		{ "user-spaces", required_argument, NULL, 'U' },
		{ "max-spaces", required_argument, NULL, 'M' },
		{ "user-warm-pages", required_argument, NULL, 'W' },
		{ "user-cold-slots", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	/* user_spaces, max_spaces, user_warm_pages, user_cold_slots */
	uint64_t lim[4] = { 0 };
	unsigned int nodes[CXL_KV_MAX_NODES], nr_nodes = 0, nr_cold = 0;
	const char *cold[CXL_KV_MAX_COLD];
	char coldbuf[1024], *tok, *save;
	uint64_t budget = 0, pages = 0, cold_max = 0;
	struct cxl_kv_features f;
	int c, rc;

	coldbuf[0] = '\0';
	while ((c = getopt_long(argc, argv, "n:c:b:p:m:U:M:W:C:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'U': case 'M': case 'W': case 'C': {
			int k = c == 'U' ? 0 : c == 'M' ? 1 : c == 'W' ? 2 : 3;

			if (parse_u64(optarg, &lim[k]) ||
			    (k < 2 && lim[k] > UINT32_MAX))
				return cli_usage("limits take a count (0: the default)");
			break;
		}
		case 'n':
			if (parse_u32_list(optarg, nodes, CXL_KV_MAX_NODES, &nr_nodes))
				return cli_usage("--node takes N[,N...] (at most 8)");
			break;
		case 'c':
			if (strlen(optarg) >= sizeof(coldbuf))
				return cli_usage("--cold too long");
			strcpy(coldbuf, optarg);
			break;
		case 'b':
			if (parse_size(optarg, &budget) || !budget)
				return cli_usage("--budget takes a size (e.g. 64M)");
			break;
		case 'p':
			if (parse_u64(optarg, &pages) || !pages)
				return cli_usage("--budget-pages takes a page count");
			break;
		case 'm':
			if (parse_size(optarg, &cold_max))
				return cli_usage("--cold-max takes a size");
			break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	if (optind != argc)
		return cli_usage("attach takes no positional arguments");
	/* defaults from the test rig's environment */
	if (!coldbuf[0] && getenv("CXLKV_NVME") &&
	    strlen(getenv("CXLKV_NVME")) < sizeof(coldbuf))
		strcpy(coldbuf, getenv("CXLKV_NVME"));
	if (!nr_nodes && getenv("CXLKV_WARM_NODE") &&
	    parse_u32_list(getenv("CXLKV_WARM_NODE"), nodes, CXL_KV_MAX_NODES,
			   &nr_nodes))
		return cli_usage("CXLKV_WARM_NODE is not a node list");
	if (!coldbuf[0])
		return cli_usage("attach needs --cold DEV[,DEV...]");
	if (budget && pages)
		return cli_usage("--budget and --budget-pages exclude each other");
	for (tok = strtok_r(coldbuf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (nr_cold >= CXL_KV_MAX_COLD)
			return cli_usage("at most 4 cold devices");
		cold[nr_cold++] = tok;
	}
	if (!nr_nodes) {
		struct cxl_kv_node *n = cxl_kv_get_warm_node(ctx);

		if (!n)
			return cli_fail("no CPU-less memory node (use --node)", -ENODEV);
		nodes[nr_nodes++] = (unsigned int)cxl_kv_node_get_id(n);
	}
	rc = cxl_kv_get_features(ctx, &f);
	if (rc)
		return cli_ctl_fail("cxl_kv module", rc);
	if (budget)
		pages = budget / f.page_size;
	if (!pages) {
		/* default: half the warm nodes' free memory */
		for (unsigned int i = 0; i < nr_nodes; i++)
			pages += cxl_kv_node_get_free(
				cxl_kv_node_get_by_id(ctx, (int)nodes[i])) /
				 2 / f.page_size;
	}
	if (lim[0] | lim[1] | lim[2] | lim[3]) {
		/* The limits have no parameter in cxl_kv_attach(): raw. */
		struct cxl_kv_attach a;

		memset(&a, 0, sizeof(a));
		a.nr_nodes = nr_nodes;
		for (unsigned int i = 0; i < nr_nodes; i++)
			a.nodes[i] = nodes[i];
		a.nr_cold = nr_cold;
		for (unsigned int i = 0; i < nr_cold; i++) {
			a.cold[i].path = (uint64_t)(uintptr_t)cold[i];
			a.cold[i].max_bytes = cold_max;
		}
		a.budget_pages = pages;
		a.user_spaces = (uint32_t)lim[0];
		a.max_spaces = (uint32_t)lim[1];
		a.user_warm_pages = lim[2];
		a.user_cold_slots = lim[3];
		rc = cxl_kv_attach_raw(ctx, &a);
	} else {
		rc = cxl_kv_attach(ctx, nodes, nr_nodes, cold, nr_cold, pages,
				   cold_max);
	}
	if (rc)
		return cli_ctl_fail("attach", rc);
	printf("{\"attached\": true, \"nodes\": [");
	for (unsigned int i = 0; i < nr_nodes; i++)
		printf("%s%u", i ? ", " : "", nodes[i]);
	printf("], \"cold\": %u, \"budget_pages\": %llu}\n", nr_cold,
	       (unsigned long long)pages);
	return 0;
}

static int cmd_detach(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return cli_help();
	if (argc != 1)
		return cli_usage("detach takes no arguments");
	rc = cxl_kv_detach(ctx);
	if (rc)
		return cli_ctl_fail("detach", rc);
	printf("{\"attached\": false}\n");
	return 0;
}

/* ----------------------------------------------------------------- stats */

static void per_head_json(struct jw *w, struct cxl_kv_space *s)
{
	const struct cxl_kv_layout *lo = cxl_kv_space_get_layout(s);

	jw_arr_begin(w, "heads");
	for (uint32_t l = 0; l < lo->geo.layers; l++)
		for (uint32_t h = 0; h < lo->geo.kv_heads; h++) {
			struct cxl_kv_residency r;

			if (cxl_kv_residency(s, l, h, 0, lo->blocks_per_stream,
					     NULL, &r))
				continue;
			jw_obj_begin(w, NULL);
			jw_u64(w, "layer", l);
			jw_u64(w, "head", h);
			jw_u64(w, "warm", r.nr_warm);
			jw_u64(w, "cold", r.nr_cold);
			jw_u64(w, "empty", r.nr_empty);
			jw_u64(w, "pinned", r.nr_pinned);
			jw_obj_end(w);
		}
	jw_arr_end(w);
}

static void per_head_table(struct cxl_kv_space *s)
{
	const struct cxl_kv_layout *lo = cxl_kv_space_get_layout(s);

	printf("%6s %5s %8s %8s %8s %8s\n", "layer", "head", "warm", "cold",
	       "empty", "pinned");
	for (uint32_t l = 0; l < lo->geo.layers; l++)
		for (uint32_t h = 0; h < lo->geo.kv_heads; h++) {
			struct cxl_kv_residency r;

			if (cxl_kv_residency(s, l, h, 0, lo->blocks_per_stream,
					     NULL, &r))
				continue;
			printf("%6u %5u %8u %8u %8u %8u\n", l, h, r.nr_warm,
			       r.nr_cold, r.nr_empty, r.nr_pinned);
		}
}

static int stats_once(struct cxl_kv_ctx *ctx, const char *ref, int per_head,
		      int human, int pretty)
{
	struct space_entry spaces[MAX_SPACES];
	struct cxl_kv_stats st;
	struct cxl_kv_info info;
	int ns, rc;
	struct jw w;

	rc = cxl_kv_get_global_stats(ctx, &st);
	if (rc)
		return cli_ctl_fail("global stats", rc);
	rc = cxl_kv_get_info(ctx, &info);
	if (rc)
		return cli_ctl_fail("info", rc);
	ns = open_spaces(ctx, ref, spaces, MAX_SPACES);
	if (ns < 0)
		return cli_fail(ref ? ref : "listing spaces", ns);
	if (human) {
		printf("module: warm %llu/%llu pages, cold %llu/%llu slots, "
		       "%u space(s)\n", (unsigned long long)info.warm_pages,
		       (unsigned long long)info.budget_pages,
		       (unsigned long long)info.cold_used,
		       (unsigned long long)info.cold_slots, info.nr_spaces);
		stats_table(stdout, &st);
		for (int i = 0; i < ns; i++) {
			struct cxl_kv_stats ss;

			printf("\nspace pid %d fd %d\n", spaces[i].pid, spaces[i].fd);
			if (!cxl_kv_space_stats(spaces[i].space, &ss))
				stats_table(stdout, &ss);
			if (per_head)
				per_head_table(spaces[i].space);
		}
		close_spaces(spaces, ns);
		fflush(stdout);
		return 0;
	}
	jw_init(&w, stdout, pretty);
	jw_obj_begin(&w, NULL);
	jw_obj_begin(&w, "module");
	jw_bool(&w, "attached", info.attached);
	jw_u64(&w, "budget_pages", info.budget_pages);
	jw_u64(&w, "warm_pages", info.warm_pages);
	jw_u64(&w, "cold_slots", info.cold_slots);
	jw_u64(&w, "cold_used", info.cold_used);
	jw_u64(&w, "nr_spaces", info.nr_spaces);
	jw_obj_end(&w);
	stats_json(&w, "global", &st);
	jw_arr_begin(&w, "spaces");
	for (int i = 0; i < ns; i++) {
		struct cxl_kv_stats ss;

		jw_obj_begin(&w, NULL);
		space_json(&w, &spaces[i]);
		if (!cxl_kv_space_stats(spaces[i].space, &ss))
			stats_json(&w, "stats", &ss);
		if (per_head)
			per_head_json(&w, spaces[i].space);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	close_spaces(spaces, ns);
	return jw_finish(&w) ? 1 : 0;
}

static int cmd_stats(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "space", required_argument, NULL, 's' },
		{ "per-head", no_argument, NULL, 'p' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "human", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *ref = NULL;
	uint64_t watch = 0, count = 0;
	int c, per_head = 0, human = 0, pid, fd, rc = 0;

	while ((c = getopt_long(argc, argv, "s:pw:c:Hh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_space_ref(optarg, &pid, &fd))
				return cli_usage("--space takes PID:FD");
			ref = optarg;
			break;
		case 'p': per_head = 1; break;
		case 'w':
			if (parse_u64(optarg, &watch) || !watch || watch > 3600)
				return cli_usage("--watch takes seconds, 1..3600");
			break;
		case 'c':
			if (parse_u64(optarg, &count) || !count)
				return cli_usage("--count takes a positive number");
			break;
		case 'H': human = 1; break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	if (optind != argc)
		return cli_usage("stats takes no positional arguments");
	if (count && !watch)
		return cli_usage("--count needs --watch");
	if (!watch)
		return stats_once(ctx, ref, per_head, human, 1);
	/* --watch: one record per interval (JSON lines), until --count */
	for (uint64_t i = 0; !count || i < count; i++) {
		if (i)
			sleep((unsigned int)watch);
		rc = stats_once(ctx, ref, per_head, human, 0);
		if (rc)
			break;
		if (human)
			printf("\n");
		fflush(stdout);
	}
	return rc;
}

/* ---------------------------------------------------------------- params */

static int cmd_params(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "space", required_argument, NULL, 's' },
		{ "human", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct space_entry spaces[MAX_SPACES];
	struct cxl_kv_params set;
	const char *ref = NULL, *verb;
	uint64_t only = 0;
	int c, human = 0, pid, fd, ns, rc = 0, is_set;
	struct jw w;

	if (argc < 2)
		return cli_usage("params needs get or set");
	verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help"))
		return cli_help();
	if (strcmp(verb, "get") && strcmp(verb, "set"))
		return cli_usage("params needs get or set");
	is_set = !strcmp(verb, "set");
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "s:Hh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_space_ref(optarg, &pid, &fd))
				return cli_usage("--space takes PID:FD");
			ref = optarg;
			break;
		case 'H': human = 1; break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	memset(&set, 0, sizeof(set));
	for (int i = optind; i < argc; i++) {
		char name[64], *eq;
		uint64_t bit, v;

		if (strlen(argv[i]) >= sizeof(name))
			return cli_usage("parameter too long");
		strcpy(name, argv[i]);
		eq = strchr(name, '=');
		if (is_set != !!eq)
			return cli_usage(is_set ? "params set takes NAME=VALUE" :
					      "params get takes NAME");
		if (eq)
			*eq = '\0';
		if (cxl_kv_param_lookup(name, &bit)) {
			fprintf(stderr, "cxl-kv: unknown parameter '%s'\n", name);
			return cli_usage(NULL);
		}
		if (eq) {
			if (parse_u64(eq + 1, &v) || v > UINT32_MAX)
				return cli_usage("parameter values are 0..4294967295");
			cxl_kv_param_set_value(&set, bit, (uint32_t)v);
		}
		only |= bit;
	}
	if (is_set && !set.mask)
		return cli_usage("params set needs NAME=VALUE");
	ns = open_spaces(ctx, ref, spaces, MAX_SPACES);
	if (ns < 0)
		return cli_fail(ref ? ref : "listing spaces", ns);
	if (ns == 0) {
		fprintf(stderr, "cxl-kv: no cxl_kv space open in any process\n");
		return 1;
	}
	if (!only)
		only = CXL_KV_PARAM_ALL;
	jw_init(&w, stdout, 1);
	if (!human) {
		jw_obj_begin(&w, NULL);
		jw_arr_begin(&w, "spaces");
	}
	for (int i = 0; i < ns && !rc; i++) {
		struct cxl_kv_params p;

		if (is_set) {
			p = set;
			rc = cxl_kv_params_set(spaces[i].space, &p);
			if (rc) {
				cli_fail("params set", rc);
				break;
			}
		}
		rc = cxl_kv_params_get(spaces[i].space, &p);
		if (rc) {
			cli_fail("params get", rc);
			break;
		}
		if (human) {
			printf("space pid %d fd %d\n", spaces[i].pid, spaces[i].fd);
			for (uint64_t b = 1; b & CXL_KV_PARAM_ALL; b <<= 1) {
				uint32_t v;

				if ((b & only) && !cxl_kv_param_get_value(&p, b, &v))
					printf("  %-14s %u\n", cxl_kv_param_name(b), v);
			}
			continue;
		}
		jw_obj_begin(&w, NULL);
		jw_u64(&w, "pid", (uint64_t)spaces[i].pid);
		jw_u64(&w, "fd", (uint64_t)spaces[i].fd);
		p.mask = only;
		jw_obj_begin(&w, "params");
		for (uint64_t b = 1; b & CXL_KV_PARAM_ALL; b <<= 1) {
			uint32_t v;

			if ((b & only) && !cxl_kv_param_get_value(&p, b, &v))
				jw_u64(&w, cxl_kv_param_name(b), v);
		}
		jw_obj_end(&w);
		jw_obj_end(&w);
	}
	if (!human) {
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	close_spaces(spaces, ns);
	return rc ? 1 : 0;
}

/* ---------------------------------------------------------------- spaces */

static int cmd_spaces(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "human", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct cxl_kv_list_entry *e;
	unsigned int total = 0;
	int c, human = 0, n;
	struct jw w;

	while ((c = getopt_long(argc, argv, "Hh", opts, NULL)) != -1) {
		switch (c) {
		case 'H': human = 1; break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	if (optind != argc)
		return cli_usage("spaces takes no arguments");
	e = calloc(CXL_KV_MAX_LIST, sizeof(*e));
	if (!e)
		return cli_fail("spaces", -ENOMEM);
	n = cxl_kv_list_owned(ctx, e, CXL_KV_MAX_LIST, &total);
	if (n < 0) {
		free(e);
		if (n == -EOPNOTSUPP) {
			fprintf(stderr, "cxl-kv: spaces: the loaded cxl_kv has no "
				"LIST command (feature bit 8): load this release's "
				"module, or use 'cxl-kv list' as root\n");
			return 1;
		}
		return cli_ctl_fail("spaces", n);
	}
	if (human) {
		printf("%8s %6s %-16s %10s %8s %8s %10s %10s %10s\n", "id", "uid",
		       "geometry", "tokens", "MiB", "warm", "cold", "faults",
		       "promoted");
		for (int i = 0; i < n; i++) {
			char geo[32];

			snprintf(geo, sizeof(geo), "%ux%ux%u/%u", e[i].info.layers,
				 e[i].info.kv_heads, e[i].info.head_dim,
				 e[i].info.dtype_bytes);
			printf("%8llu %6u %-16s %10llu %8llu %8llu %10llu %10llu "
			       "%10llu\n", (unsigned long long)e[i].id, e[i].uid,
			       geo, (unsigned long long)e[i].info.max_tokens,
			       (unsigned long long)(e[i].info.mmap_bytes >> 20),
			       (unsigned long long)e[i].stats.warm_pages,
			       (unsigned long long)e[i].stats.cold_pages,
			       (unsigned long long)(e[i].stats.faults_zero +
						    e[i].stats.faults_warm +
						    e[i].stats.faults_cold),
			       (unsigned long long)e[i].stats.promotions);
		}
		if (total > (unsigned int)n)
			printf("(%u more not shown)\n", total - n);
		free(e);
		return 0;
	}
	jw_init(&w, stdout, 1);
	jw_obj_begin(&w, NULL);
	jw_u64(&w, "total", total);
	jw_arr_begin(&w, "spaces");
	for (int i = 0; i < n; i++) {
		jw_obj_begin(&w, NULL);
		jw_u64(&w, "id", e[i].id);
		jw_u64(&w, "uid", e[i].uid);
		jw_u64(&w, "layers", e[i].info.layers);
		jw_u64(&w, "kv_heads", e[i].info.kv_heads);
		jw_u64(&w, "head_dim", e[i].info.head_dim);
		jw_u64(&w, "dtype_bytes", e[i].info.dtype_bytes);
		jw_u64(&w, "max_tokens", e[i].info.max_tokens);
		jw_u64(&w, "tokens_per_block", e[i].info.tokens_per_block);
		jw_u64(&w, "blocks_per_stream", e[i].info.blocks_per_stream);
		jw_u64(&w, "mmap_bytes", e[i].info.mmap_bytes);
		stats_json(&w, "stats", &e[i].stats);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	free(e);
	return jw_finish(&w) ? 1 : 0;
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
