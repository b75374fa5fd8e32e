// SPDX-License-Identifier: GPL-2.0
/*
 * cxl-kv apply - bring a host to the tier set its configuration describes:
 * /etc/cxl-kv.conf, then the *.conf files of /etc/cxl-kv.d in name order (a later file's
 * key replaces an earlier one's), or only the file given with --config.
 *
 *   # comment
 *   region = mem0            CXL memdevs to make a RAM region of (skipped
 *                            when the memdev already has one)
 *   dax = dax0.0             dax devices to online as node memory (ZONE_NORMAL)
 *   nodes = 1                warm nodes (default: the nodes of the dax devices)
 *   cold = /dev/nvme0n1      cold block devices (required)
 *   budget = 8G              warm budget (or budget_pages = N; default: half
 *                            the warm nodes' free memory)
 *   cold_max = 64G           the part of each cold device used (0: all)
 *   high_wmark = 95%         the tier's policy: warm pages above which the
 *   low_wmark = 90%          demotion worker starts, and down to which it
 *                            demotes, as percentages of the budget
 *   user_spaces, max_spaces, user_warm_pages, user_cold_slots = N (0: default)
 *   policy = tau_steps=500 sink_tokens=8
 *                            the policy every space created afterwards
 *                            starts from (the module parameter
 *                            default_policy): knobs as `cxl-kv params` names
 *                            them, UAPI units; a knob no policy line names
 *                            takes its built-in default; a later line's knob
 *                            replaces an earlier one's
 *
 * Lists are separated by commas or blanks.  Every key and every name is
 * checked before anything changes (the configuration, the memdevs, the dax
 * devices, the nodes, that each cold path is a block device); then regions
 * are made, dax devices onlined, kmem and cxl_kv loaded when missing, and
 * the tier set attached.  An attached tier set that matches (the same nodes
 * and cold devices; the budget and limits where the configuration gives
 * them) is left alone: apply is idempotent.  One that differs is an error
 * unless --replace (detach, which fails while spaces are open, then attach).
 * Last, with policy lines, default_policy is written unless it already
 * shows the configured set (spaces already open keep their parameters).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "cxl-kv.h"
#include "kvpolicy.h"

#define CONF_MAIN	"/etc/cxl-kv.conf"
#define CONF_DIR	"/etc/cxl-kv.d"
#define MAX_FILES	16
#define MAX_REGIONS	4
#define MAX_DAX		CXL_KV_MAX_NODES
#define NAME_LEN	64

/* user_spaces, max_spaces, user_warm_pages, user_cold_slots */
#define NR_LIMITS	4
static const char *const limit_keys[NR_LIMITS] = {
	"user_spaces", "max_spaces", "user_warm_pages", "user_cold_slots",
};

struct conf {
	char files[MAX_FILES][PATH_MAX];
	unsigned int nr_files;
	char memdev[MAX_REGIONS][NAME_LEN];
	unsigned int nr_memdev;
	char dax[MAX_DAX][NAME_LEN];
	unsigned int nr_dax;
	unsigned int nodes[CXL_KV_MAX_NODES];
	unsigned int nr_nodes;
	char cold[CXL_KV_MAX_COLD][PATH_MAX];
	unsigned int nr_cold;
	uint64_t budget, budget_pages, cold_max;
	uint64_t lim[NR_LIMITS];
	/* watermarks, percent of the budget; 0: the module's default */
	unsigned int high_pct, low_pct;
	/* policy lines over kvp_params_default(), when has_policy */
	struct kvp_params policy;
	int has_policy;
};

#define POLICY_PARAM	"module/cxl_kv/parameters/default_policy"

/* The module's watermarks when ATTACH leaves them 0 (uapi: 95 % / 90 %). */
#define DEF_HIGH_PCT	95
#define DEF_LOW_PCT	90

/* "N%" with N in 1..@max, else -EINVAL. */
static int parse_pct(const char *v, unsigned int max, unsigned int *pct)
{
	char num[16];
	uint64_t n;
	size_t len = strlen(v);

	if (len < 2 || len >= sizeof(num) || v[len - 1] != '%')
		return -EINVAL;
	memcpy(num, v, len - 1);
	num[len - 1] = '\0';
	if (parse_u64(num, &n) || n < 1 || n > max)
		return -EINVAL;
	*pct = (unsigned int)n;
	return 0;
}

/* Pages of @budget at @pct percent (0 stays 0: the module's default). */
static uint64_t wmark_pages(uint64_t budget, unsigned int pct)
{
	return pct ? budget / 100 * pct + budget % 100 * pct / 100 : 0;
}

static int conf_err(const char *file, unsigned int line, const char *msg,
		    const char *arg)
{
	fprintf(stderr, "cxl-kv: apply: %s:%u: %s%s%s%s\n", file, line, msg,
		arg ? " '" : "", arg ?: "", arg ? "'" : "");
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Split @v at commas and blanks into @out[max][len]; *@n entries. */
static int split_names(char *v, char *out, size_t len, unsigned int max,
		       unsigned int *n)
{
	char *tok, *save;

	*n = 0;
	for (tok = strtok_r(v, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (*n >= max || strlen(tok) >= len)
			return -E2BIG;
		strcpy(out + (size_t)*n * len, tok);
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

static int conf_line(struct conf *c, const char *file, unsigned int ln,
		     char *key, char *v)
{
	unsigned int n;

	if (!strcmp(key, "region")) {
		if (split_names(v, c->memdev[0], NAME_LEN, MAX_REGIONS, &n))
			return conf_err(file, ln, "region takes memN[,memN] (at most 4)", v);
		for (unsigned int i = 0; i < n; i++)
			if (strncmp(c->memdev[i], "mem", 3) || strchr(c->memdev[i], '/'))
				return conf_err(file, ln, "not a CXL memdev name", c->memdev[i]);
		c->nr_memdev = n;
	} else if (!strcmp(key, "dax")) {
		if (split_names(v, c->dax[0], NAME_LEN, MAX_DAX, &n))
			return conf_err(file, ln, "dax takes daxX.Y[,daxX.Y] (at most 8)", v);
		for (unsigned int i = 0; i < n; i++) {
			unsigned int a, b;
			char end;

			if (sscanf(c->dax[i], "dax%u.%u%c", &a, &b, &end) != 2)
				return conf_err(file, ln, "not a dax device name", c->dax[i]);
		}
		c->nr_dax = n;
	} else if (!strcmp(key, "nodes") || !strcmp(key, "node")) {
		for (char *p = v; *p; p++)
			if (*p == ' ' || *p == '\t')
				*p = ',';
		if (parse_u32_list(v, c->nodes, CXL_KV_MAX_NODES, &c->nr_nodes))
			return conf_err(file, ln, "nodes takes N[,N] (at most 8)", v);
	} else if (!strcmp(key, "cold")) {
		if (split_names(v, c->cold[0], PATH_MAX, CXL_KV_MAX_COLD, &n))
			return conf_err(file, ln, "cold takes DEV[,DEV] (at most 4)", v);
		for (unsigned int i = 0; i < n; i++)
			if (c->cold[i][0] != '/')
				return conf_err(file, ln, "cold devices are absolute paths",
						c->cold[i]);
		c->nr_cold = n;
	} else if (!strcmp(key, "budget")) {
		if (parse_size(v, &c->budget) || !c->budget)
			return conf_err(file, ln, "budget takes a size (e.g. 8G)", v);
		c->budget_pages = 0;
	} else if (!strcmp(key, "budget_pages")) {
		if (parse_u64(v, &c->budget_pages) || !c->budget_pages)
			return conf_err(file, ln, "budget_pages takes a page count", v);
		c->budget = 0;
	} else if (!strcmp(key, "high_wmark")) {
		if (parse_pct(v, 100, &c->high_pct))
			return conf_err(file, ln, "high_wmark takes a percentage of "
					"the budget, 1%..100%", v);
	} else if (!strcmp(key, "low_wmark")) {
		if (parse_pct(v, 99, &c->low_pct))
			return conf_err(file, ln, "low_wmark takes a percentage of "
					"the budget, 1%..99%", v);
	} else if (!strcmp(key, "policy")) {
		const char *bad = v;
		char tok[48];

		if (!c->has_policy)
			kvp_params_default(&c->policy);
		c->has_policy = 1;
		if (kvp_params_parse(&c->policy, v, &bad)) {
			snprintf(tok, sizeof(tok), "%.*s", (int)strcspn(bad, " \t,"),
				 bad);
			return conf_err(file, ln, "policy takes NAME=VALUE ... with "
					"the names of 'cxl-kv params' (each once), "
					"values 0..4294967295; refused", tok);
		}
	} else if (!strcmp(key, "cold_max")) {
		if (parse_size(v, &c->cold_max))
			return conf_err(file, ln, "cold_max takes a size", v);
	} else {
		for (int k = 0; k < NR_LIMITS; k++) {
			if (strcmp(key, limit_keys[k]))
				continue;
			if (parse_u64(v, &c->lim[k]) ||
			    (k < 2 && c->lim[k] > UINT32_MAX))
				return conf_err(file, ln, "limits take a count", v);
			return 0;
		}
		return conf_err(file, ln, "unknown key", key);
	}
	return 0;
}

static int conf_read(struct conf *c, const char *file)
{
	char buf[4096];
	unsigned int ln = 0;
	FILE *f;
	int rc = 0;

	if (c->nr_files >= MAX_FILES)
		return conf_err(file, 0, "too many configuration files", NULL);
	f = fopen(file, "r");
	if (!f) {
		rc = -errno;
		fprintf(stderr, "cxl-kv: apply: %s: %s\n", file, strerror(-rc));
		return rc;
	}
	snprintf(c->files[c->nr_files++], PATH_MAX, "%s", file);
	while (!rc && fgets(buf, sizeof(buf), f)) {
		char *line, *eq, *hash;

		ln++;
		if (!strchr(buf, '\n') && !feof(f)) {
			rc = conf_err(file, ln, "line too long", NULL);
			break;
		}
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		line = trim(buf);
		if (!*line)
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			rc = conf_err(file, ln, "expected KEY = VALUE", line);
			break;
		}
		*eq = '\0';
		rc = conf_line(c, file, ln, trim(line), trim(eq + 1));
	}
	fclose(f);
	return rc;
}

static int conf_filter(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return de->d_name[0] != '.' && n > 5 && !strcmp(de->d_name + n - 5, ".conf");
}

/* --config FILE, or /etc/cxl-kv.conf and the drop-ins. */
static int conf_load(struct conf *c, const char *only)
{
	struct dirent **names;
	char path[PATH_MAX];
	int n, rc = 0;

	memset(c, 0, sizeof(*c));
	if (only)
		return conf_read(c, only);
	if (!access(CONF_MAIN, F_OK))
		rc = conf_read(c, CONF_MAIN);
	n = scandir(CONF_DIR, &names, conf_filter, alphasort);
	for (int i = 0; i < n; i++) {
		if (!rc) {
			snprintf(path, sizeof(path), "%s/%s", CONF_DIR,
				 names[i]->d_name);
			rc = conf_read(c, path);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	if (!rc && !c->nr_files) {
		fprintf(stderr, "cxl-kv: apply: no configuration (%s or %s/*.conf; "
			"see cxl-kv(8))\n", CONF_MAIN, CONF_DIR);
		return -ENOENT;
	}
	return rc;
}

/* Everything the configuration names exists and has the right kind. */
static int conf_check(struct cxl_kv_ctx *ctx, const struct conf *c)
{
	char region[NAME_LEN];
	struct stat st;
	int bad = 0;

	if (!c->nr_cold) {
		fprintf(stderr, "cxl-kv: apply: no cold device ('cold = /dev/...')\n");
		bad = 1;
	}
	if (!c->nr_nodes && !c->nr_dax && !c->nr_memdev) {
		fprintf(stderr, "cxl-kv: apply: no warm tier ('region', 'dax' or "
			"'nodes')\n");
		bad = 1;
	}
	if ((c->high_pct || c->low_pct) &&
	    (c->low_pct ?: DEF_LOW_PCT) >= (c->high_pct ?: DEF_HIGH_PCT)) {
		fprintf(stderr, "cxl-kv: apply: low_wmark (%u%%) must be below "
			"high_wmark (%u%%)\n", c->low_pct ?: DEF_LOW_PCT,
			c->high_pct ?: DEF_HIGH_PCT);
		bad = 1;
	}
	if (c->has_policy && kvp_params_validate(&c->policy)) {
		fprintf(stderr, "cxl-kv: apply: policy: a value is out of its "
			"range (alpha_q16 1..65536, tau_steps 1..2^26, pf_window <= "
			"pf_window_max <= 32, phase_exit < phase_enter, ...: "
			"the ranges of PARAMS_SET, Documentation/uapi.rst)\n");
		bad = 1;
	}
	for (unsigned int i = 0; i < c->nr_memdev; i++) {
		unsigned long long sz;
		int rc = cxl_kv_memdev_get_ram_size(ctx, c->memdev[i], &sz);

		if (rc == -EINVAL || rc == -ENODEV ||
		    (rc && cxl_kv_memdev_get_region(ctx, c->memdev[i], region,
						    sizeof(region)))) {
			fprintf(stderr, "cxl-kv: apply: region: no CXL memdev %s with "
				"volatile capacity under %s/bus/cxl/devices (cxl_acpi, "
				"cxl_pci and cxl_mem loaded?)\n", c->memdev[i], sysfs_root);
			bad = 1;
		}
	}
	for (unsigned int i = 0; i < c->nr_dax; i++) {
		if (cxl_kv_dax_get_node(ctx, c->dax[i]) < 0) {
			fprintf(stderr, "cxl-kv: apply: dax: no dax device %s under "
				"%s/bus/dax/devices\n", c->dax[i], sysfs_root);
			bad = 1;
		}
	}
	for (unsigned int i = 0; i < c->nr_nodes; i++) {
		int from_dax = 0;

		for (unsigned int j = 0; j < c->nr_dax; j++)
			from_dax |= cxl_kv_dax_get_node(ctx, c->dax[j]) ==
				    (int)c->nodes[i];
		/* a node made by a region to come cannot be checked yet */
		if (!from_dax && !c->nr_memdev &&
		    !cxl_kv_node_get_by_id(ctx, (int)c->nodes[i])) {
			fprintf(stderr, "cxl-kv: apply: nodes: no NUMA node %u "
				"with memory\n", c->nodes[i]);
			bad = 1;
		}
	}
	for (unsigned int i = 0; i < c->nr_cold; i++) {
		if (stat(c->cold[i], &st)) {
			fprintf(stderr, "cxl-kv: apply: cold: %s: %s\n", c->cold[i],
				strerror(errno));
			bad = 1;
		} else if (!S_ISBLK(st.st_mode)) {
			fprintf(stderr, "cxl-kv: apply: cold: %s is not a block "
				"device\n", c->cold[i]);
			bad = 1;
		}
	}
	return bad ? -EINVAL : 0;
}

static int run_modprobe(const char *mod)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "modprobe %s", mod);
	return system(cmd) == 0 ? 0 : -ENODEV;
}

/* The attached tier set is the configured one (nodes, cold devices; budget
 * and limits where configured). */
static int info_matches(const struct conf *c, const struct cxl_kv_info *in,
			const unsigned int *nodes, unsigned int nr_nodes,
			uint64_t pages)
{
	const uint64_t got[NR_LIMITS] = { in->user_spaces, in->max_spaces,
					  in->user_warm_pages, in->user_cold_slots };

	if (in->nr_nodes != nr_nodes || in->nr_cold != c->nr_cold)
		return 0;
	for (unsigned int i = 0; i < nr_nodes; i++) {
		int found = 0;

		for (unsigned int j = 0; j < in->nr_nodes && j < CXL_KV_MAX_NODES; j++)
			found |= in->nodes[j] == nodes[i];
		if (!found)
			return 0;
	}
	for (unsigned int i = 0; i < c->nr_cold; i++) {
		struct stat st;
		int found = 0;

		if (stat(c->cold[i], &st))
			return 0;
		for (unsigned int j = 0; j < in->nr_cold && j < CXL_KV_MAX_COLD; j++)
			found |= in->cold_devs[j] == (uint64_t)st.st_rdev;
		if (!found)
			return 0;
	}
	if ((c->budget || c->budget_pages) && in->budget_pages != pages)
		return 0;
	for (int k = 0; k < NR_LIMITS; k++)
		if (c->lim[k] && got[k] != c->lim[k])
			return 0;
	/* configured watermarks, of the budget attached */
	if ((c->high_pct || c->low_pct) &&
	    (in->high_wmark != wmark_pages(in->budget_pages,
					   c->high_pct ?: DEF_HIGH_PCT) ||
	     in->low_wmark != wmark_pages(in->budget_pages,
					  c->low_pct ?: DEF_LOW_PCT)))
		return 0;
	return 1;
}

/*
 * default_policy := the configured set, unless it shows it already.
 * Return: 1 written, 0 already so, or -errno (printed).
 */
static int policy_apply(const struct conf *c)
{
	char path[PATH_MAX], text[KVP_PARAMS_TEXT_MAX];
	struct kvp_params cur;
	FILE *f;
	int rc = 0, n;

	snprintf(path, sizeof(path), "%s/%s", sysfs_root, POLICY_PARAM);
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		fprintf(stderr, "cxl-kv: apply: policy: %s: %s (the module "
			"predates default_policy?)\n", path, strerror(-rc));
		return rc;
	}
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	kvp_params_default(&cur);
	if (!kvp_params_parse(&cur, text, NULL) &&
	    !memcmp(&cur, &c->policy, sizeof(cur)))
		return 0;
	n = kvp_params_format(&c->policy, text, sizeof(text));
	f = n < 0 ? NULL : fopen(path, "w");
	if (!f || fputs(text, f) < 0)
		rc = -errno;
	if (f && fclose(f) && !rc)
		rc = -errno;
	if (rc || n < 0) {
		fprintf(stderr, "cxl-kv: apply: policy: writing %s: %s\n", path,
			strerror(rc ? -rc : EINVAL));
		return rc ?: -EINVAL;
	}
	return 1;
}

int cmd_apply(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "replace", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char regions[MAX_REGIONS][NAME_LEN];
	unsigned int nodes[CXL_KV_MAX_NODES], nr_nodes = 0;
	const char *only = NULL;
	int c, rc, dry = 0, replace = 0, changed = 0;
	struct cxl_kv_features f;
	struct cxl_kv_info info;
	struct cxl_kv_attach a;
	struct conf cf;
	uint64_t pages = 0;
	struct jw w;

	while ((c = getopt_long(argc, argv, "c:nrh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': only = optarg; break;
		case 'n': dry = 1; break;
		case 'r': replace = 1; break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	if (optind != argc)
		return cli_usage("apply takes no positional arguments");

	/* 1. validation: nothing changes before all of it passed */
	if (conf_load(&cf, only) || conf_check(ctx, &cf))
		return 1;
	if (dry) {
		jw_init(&w, stdout, 1);
		jw_obj_begin(&w, NULL);
		jw_arr_begin(&w, "config");
		for (unsigned int i = 0; i < cf.nr_files; i++)
			jw_str(&w, NULL, cf.files[i]);
		jw_arr_end(&w);
		if (cf.has_policy) {
			char text[KVP_PARAMS_TEXT_MAX];

			kvp_params_format(&cf.policy, text, sizeof(text));
			jw_str(&w, "policy", text);
		}
		jw_bool(&w, "valid", 1);
		jw_obj_end(&w);
		return jw_finish(&w) ? 1 : 0;
	}

	/* 2. regions (a memdev that has one keeps it) and their dax devices */
	for (unsigned int i = 0; i < cf.nr_memdev; i++) {
		char dax[NAME_LEN] = "";
		int k;

		if (cxl_kv_memdev_get_region(ctx, cf.memdev[i], regions[i],
					     NAME_LEN)) {
			rc = cxl_kv_region_create_ram(ctx, cf.memdev[i], regions[i],
						      NAME_LEN);
			if (rc)
				return cli_fail("apply: creating the RAM region", rc);
			changed = 1;
		}
		/* cxl_region creates dax_regionN/daxN.0 asynchronously */
		for (k = 0; k < 50 &&
		     cxl_kv_region_get_dax(ctx, regions[i], dax, sizeof(dax)); k++)
			usleep(100000);
		if (!dax[0])
			return cli_fail("apply: no dax device appeared for the region",
					-ENOENT);
		for (k = 0; k < (int)cf.nr_dax && strcmp(cf.dax[k], dax); k++)
			;
		if (k == (int)cf.nr_dax) {
			if (cf.nr_dax >= MAX_DAX)
				return cli_fail("apply: too many dax devices", -E2BIG);
			strcpy(cf.dax[cf.nr_dax++], dax);
		}
	}

	/* 3. dax devices -> node memory in ZONE_NORMAL */
	for (unsigned int i = 0; i < cf.nr_dax; i++) {
		int node = -1;
		unsigned int j;

		rc = cxl_kv_dax_online(ctx, cf.dax[i], &node);
		/* -ENODEV: no kmem driver; load it (on this host's /sys) */
		if (rc == -ENODEV && !strcmp(sysfs_root, "/sys")) {
			if (run_modprobe("kmem"))
				return cli_fail("apply: modprobe kmem", -ENODEV);
			rc = cxl_kv_dax_online(ctx, cf.dax[i], &node);
		}
		if (rc)
			return cli_fail("apply: onlining the dax device", rc);
		if (cf.nr_nodes || node < 0)
			continue;
		for (j = 0; j < nr_nodes && nodes[j] != (unsigned int)node; j++)
			;
		if (j == nr_nodes && nr_nodes < CXL_KV_MAX_NODES)
			nodes[nr_nodes++] = (unsigned int)node;
	}
	if (cf.nr_nodes) {
		memcpy(nodes, cf.nodes, sizeof(nodes));
		nr_nodes = cf.nr_nodes;
	}
	if (!nr_nodes)
		return cli_fail("apply: no warm node", -ENODEV);

	/* 4. the module */
	if (access(device_path, F_OK) && !strcmp(device_path, "/dev/cxl_kv")) {
		if (run_modprobe("cxl_kv"))
			return cli_ctl_fail("apply: modprobe cxl_kv", -ENODEV);
		for (int k = 0; k < 50 && access(device_path, F_OK); k++)
			usleep(100000);
		changed = 1;
	}
	rc = cxl_kv_get_features(ctx, &f);
	if (rc)
		return cli_ctl_fail("apply", rc);
	rc = cxl_kv_refresh_nodes(ctx);
	if (rc < 0)
		return cli_fail("apply: reading NUMA nodes", rc);
	if (cf.budget)
		pages = cf.budget / f.page_size;
	else if (cf.budget_pages)
		pages = cf.budget_pages;
	else
		for (unsigned int i = 0; i < nr_nodes; i++)
			pages += cxl_kv_node_get_free(cxl_kv_node_get_by_id(ctx,
						(int)nodes[i])) / 2 / f.page_size;

	/* 5. the tier set: left alone when it matches */
	rc = cxl_kv_get_info(ctx, &info);
	if (rc)
		return cli_ctl_fail("apply", rc);
	if (info.attached && info_matches(&cf, &info, nodes, nr_nodes, pages)) {
		pages = info.budget_pages;
		goto policy;
	}
	if (info.attached && !replace) {
		fprintf(stderr, "cxl-kv: apply: the attached tier set differs from "
			"the configuration: 'cxl-kv apply --replace' detaches it "
			"first (no space may be open)\n");
		return 1;
	}
	if (info.attached) {
		rc = cxl_kv_detach(ctx);
		if (rc)
			return cli_ctl_fail("detach", rc);
	}
	memset(&a, 0, sizeof(a));
	a.nr_nodes = nr_nodes;
	for (unsigned int i = 0; i < nr_nodes; i++)
		a.nodes[i] = nodes[i];
	a.nr_cold = cf.nr_cold;
	for (unsigned int i = 0; i < cf.nr_cold; i++) {
		a.cold[i].path = (uint64_t)(uintptr_t)cf.cold[i];
		a.cold[i].max_bytes = cf.cold_max;
	}
	a.budget_pages = pages;
	a.high_wmark = wmark_pages(pages, cf.high_pct);
	a.low_wmark = wmark_pages(pages, cf.low_pct);
	a.user_spaces = (uint32_t)cf.lim[0];
	a.max_spaces = (uint32_t)cf.lim[1];
	a.user_warm_pages = cf.lim[2];
	a.user_cold_slots = cf.lim[3];
	rc = cxl_kv_attach_raw(ctx, &a);
	if (rc)
		return cli_ctl_fail("attach", rc);
	changed = 1;
policy:
	/* 6. the policy new spaces start from */
	if (cf.has_policy) {
		rc = policy_apply(&cf);
		if (rc < 0)
			return 1;
		changed |= rc;
	}
	jw_init(&w, stdout, 1);
	jw_obj_begin(&w, NULL);
	jw_bool(&w, "changed", changed);
	jw_arr_begin(&w, "config");
	for (unsigned int i = 0; i < cf.nr_files; i++)
		jw_str(&w, NULL, cf.files[i]);
	jw_arr_end(&w);
	jw_arr_begin(&w, "regions");
	for (unsigned int i = 0; i < cf.nr_memdev; i++)
		jw_str(&w, NULL, regions[i]);
	jw_arr_end(&w);
	jw_arr_begin(&w, "dax");
	for (unsigned int i = 0; i < cf.nr_dax; i++)
		jw_str(&w, NULL, cf.dax[i]);
	jw_arr_end(&w);
	jw_arr_begin(&w, "nodes");
	for (unsigned int i = 0; i < nr_nodes; i++)
		jw_u64(&w, NULL, nodes[i]);
	jw_arr_end(&w);
	jw_arr_begin(&w, "cold");
	for (unsigned int i = 0; i < cf.nr_cold; i++)
		jw_str(&w, NULL, cf.cold[i]);
	jw_arr_end(&w);
	jw_u64(&w, "budget_pages", pages);
	if (cf.has_policy) {
		char text[KVP_PARAMS_TEXT_MAX];

		kvp_params_format(&cf.policy, text, sizeof(text));
		jw_str(&w, "policy", text);
	}
	jw_bool(&w, "attached", 1);
	jw_obj_end(&w);
	return jw_finish(&w) ? 1 : 0;
}
