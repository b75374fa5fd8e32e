// SPDX-License-Identifier: GPL-2.0
/*
 * deploy_boot - the guest of a deploy boot (tests/vm/run.sh --suite deploy)
 * came up from the installed files alone: /etc/modules-load.d/cxl-kv.conf
 * loaded kmem and cxl_kv, cxl-kv.service's ExecStart ('cxl-kv apply') read
 * /etc/cxl-kv.conf (the rig writes it: 'region = mem0' on cxl, 'dax = dax0.0'
 * on nvdimm; the cold device by its by-id name; budget 16M; watermarks 80 %
 * and 70 % of it) and the tier set is attached as it says.  Then:
 *
 *   version     /sys/module/cxl_kv/version is this tree's VERSION
 *   idempotent  'cxl-kv apply' again: exit 0, "changed": false, INFO the same
 *   differs     a configuration with another budget: exit 1, names
 *               --replace, INFO the same
 *   invalid     a configuration naming dax9.9, node 77 and /dev/null: exit 1
 *               with every problem named and nothing changed (INFO the same,
 *               no new region); an unknown key: exit 1 naming file and line
 *   wmark_invalid  low_wmark not below high_wmark, or above 100 %: exit 1
 *               naming them, INFO the same
 *   dry_run     --dry-run on the installed configuration: exit 0, valid
 */
#include <dirent.h>
#include <sys/stat.h>

#include "lib_util.h"

#define BY_ID	"/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_kvtier0001"

static char out[1 << 14], err[1 << 14];

static int cli(const char *args)
{
	FILE *f;
	size_t n;
	int rc = lib_run_tool("cxl-kv", args, "2>/tmp/deploy.err", out, sizeof(out));

	err[0] = '\0';
	f = fopen("/tmp/deploy.err", "r");
	if (f) {
		n = fread(err, 1, sizeof(err) - 1, f);
		err[n] = '\0';
		fclose(f);
	}
	return rc;
}

static int put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int same_info(const struct cxl_kv_info *a, const struct cxl_kv_info *b)
{
	return a->attached == b->attached && a->nr_nodes == b->nr_nodes &&
	       a->nodes[0] == b->nodes[0] && a->nr_cold == b->nr_cold &&
	       a->cold_devs[0] == b->cold_devs[0] &&
	       a->budget_pages == b->budget_pages &&
	       a->high_wmark == b->high_wmark && a->low_wmark == b->low_wmark;
}

static int count_regions(void)
{
	int n = 0;
	DIR *d = opendir("/sys/bus/cxl/devices");
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, "region", 6);
	closedir(d);
	return n;
}

int main(void)
{
	int warm = guest_env_int("CXLKV_WARM_NODE"), rc, regions;
	struct cxl_kv_info info, now;
	struct cxl_kv_ctx *ctx;
	char ver[64] = "";
	struct stat st;
	FILE *f;

	if (access("/lib/systemd/system/cxl-kv.service", F_OK) ||
	    access("/etc/cxl-kv.conf", F_OK))
		return ktap_skip_all("not a deploy boot (run.sh --suite deploy)");
	ktap_plan(9);
	ctx = lib_ctx();
	rc = ctx ? cxl_kv_get_info(ctx, &info) : -ENOMEM;
	T("attached_from_config", !rc && info.attached && info.nr_nodes == 1 &&
	  (int)info.nodes[0] == warm && info.nr_cold == 1 &&
	  !stat(BY_ID, &st) && info.cold_devs[0] == (uint64_t)st.st_rdev &&
	  info.budget_pages == 4096 && info.high_wmark == 4096 * 80 / 100 &&
	  info.low_wmark == 4096 * 70 / 100,
	  "rc %d attached %u nodes %u/%u (warm %d) cold %u budget %llu "
	  "wmarks %llu/%llu", rc, info.attached, info.nr_nodes, info.nodes[0],
	  warm, info.nr_cold, (unsigned long long)info.budget_pages,
	  (unsigned long long)info.high_wmark,
	  (unsigned long long)info.low_wmark);
	if (rc || !info.attached) {
		for (int i = 0; i < 8; i++)
			ktap_skip("deploy", "not attached");
		return ktap_finish();
	}

	f = fopen("/sys/module/cxl_kv/version", "r");
	if (f) {
		if (fgets(ver, sizeof(ver), f))
			ver[strcspn(ver, "\n")] = '\0';
		fclose(f);
	}
	T("version", !strcmp(ver, CXL_KV_PKG_VERSION), "module '%s' tree '%s'",
	  ver, CXL_KV_PKG_VERSION);

	rc = cli("apply");
	T("idempotent", rc == 0 && strstr(out, "\"changed\": false") &&
	  !cxl_kv_get_info(ctx, &now) && same_info(&info, &now),
	  "rc %d out %.300s err %.300s", rc, out, err);

	put("/tmp/other.conf", "dax = dax0.0\ncold = " BY_ID "\nbudget = 32M\n");
	rc = cli("apply --config /tmp/other.conf");
	T("differs_refused", rc == 1 && strstr(err, "--replace") &&
	  !cxl_kv_get_info(ctx, &now) && same_info(&info, &now),
	  "rc %d err %.300s", rc, err);

	regions = count_regions();
	put("/tmp/bad.conf", "dax = dax0.0, dax9.9\nnodes = 77\n"
	    "cold = /dev/null\nbudget = 8M\n");
	rc = cli("apply --config /tmp/bad.conf");
	T("invalid_checked_first", rc == 1 && strstr(err, "dax9.9") &&
	  strstr(err, "node 77") && strstr(err, "/dev/null is not a block") &&
	  !cxl_kv_get_info(ctx, &now) && same_info(&info, &now) &&
	  count_regions() == regions, "rc %d err %.400s", rc, err);
	put("/tmp/bad.conf", "cold = " BY_ID "\ndax = dax0.0\nbugdet = 8M\n");
	rc = cli("apply --config /tmp/bad.conf");
	T("unknown_key_names_line", rc == 1 &&
	  strstr(err, "/tmp/bad.conf:3: unknown key 'bugdet'"), "rc %d err %.300s",
	  rc, err);

	put("/tmp/bad.conf", "cold = " BY_ID "\ndax = dax0.0\nbudget = 16M\n"
	    "high_wmark = 80%\nlow_wmark = 85%\n");
	rc = cli("apply --config /tmp/bad.conf --replace");
	T("wmark_invalid", rc == 1 &&
	  strstr(err, "low_wmark (85%) must be below high_wmark (80%)") &&
	  !cxl_kv_get_info(ctx, &now) && same_info(&info, &now),
	  "rc %d err %.300s", rc, err);
	put("/tmp/bad.conf", "cold = " BY_ID "\ndax = dax0.0\nhigh_wmark = 120%\n");
	rc = cli("apply --config /tmp/bad.conf --replace");
	T("wmark_out_of_range", rc == 1 && strstr(err, "/tmp/bad.conf:3: high_wmark") &&
	  !cxl_kv_get_info(ctx, &now) && same_info(&info, &now),
	  "rc %d err %.300s", rc, err);

	rc = cli("apply --dry-run");
	T("dry_run", rc == 0 && strstr(out, "\"valid\": true") &&
	  strstr(out, "/etc/cxl-kv.conf"), "rc %d out %.300s err %.300s", rc,
	  out, err);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
