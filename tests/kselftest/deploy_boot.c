// SPDX-License-Identifier: GPL-2.0
/*
 * deploy_boot - the guest of a deploy boot (tests/vm/run.sh --suite deploy)
 * came up from the installed files alone: /etc/modules-load.d/cxl-kv.conf
 * loaded kmem and cxl_kv, cxl-kv.service's ExecStart ('cxl-kv apply') read
 * /etc/cxl-kv.conf (the rig writes it: 'region = mem0' on cxl, 'dax = dax0.0'
 * on nvdimm; the cold device by its by-id name; budget 16M; watermarks 80 %
 * and 70 % of it; two policy lines) and the tier set is attached as it says.
 * Then:
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
 *   policy_from_config  default_policy shows the two policy lines' knobs and
 *               the built-in value of every other; a space created now has
 *               them (PARAMS_GET)
 *   policy_invalid  tau_steps=0, an unknown knob, a knob twice in a line:
 *               exit 1 naming the problem (file and line for the last two),
 *               default_policy and INFO the same
 *   policy_change, policy_back  the same tier set with another policy line: exit 0,
 *               "changed": true, default_policy shows it (the knobs it does
 *               not name back to built-in); the installed configuration
 *               again: its set back, "changed": true
 * Before default_policy and the policy key (checked with a26be91's module
 * and cxl-kv) the boot's apply refused the rig's configuration ("unknown
 * key 'policy'") and the guest ran 0 of the suite's 8 programs.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "kv_test.h"
#include "lib_util.h"

#define BY_ID	"/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_kvtier0001"
#define POLICY	"/sys/module/cxl_kv/parameters/default_policy"
/* what run.sh's two policy lines make of the built-in defaults */
#define POLICY_CONF "alpha_q16=32768 tau_steps=2000 score_shift=4 " \
	"sink_tokens=8 recent_tokens=32 pf_window=1 pf_window_max=8 " \
	"pf_epoch=16 phase_window=4096 phase_enter=10 phase_exit=4 " \
	"scan_limit=64 policy_flags=15\n"
#define TIERS	"cold = " BY_ID "\ndax = dax0.0\nbudget = 16M\n" \
	"high_wmark = 80%\nlow_wmark = 70%\n"

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

static const char *policy_now(void)
{
	static char text[1024];
	FILE *f = fopen(POLICY, "r");

	text[0] = '\0';
	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
	}
	return text;
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
	ktap_plan(13);
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
		for (int i = 0; i < 12; i++)
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

	{
		struct cxl_kv_space_create c;
		struct cxl_kv_params p;
		int ctl = kv_open_ctl(), fd = -1;

		memset(&p, 0, sizeof(p));
		kv_geom(&c, 1, 1, 128, 64);
		if (ctl >= 0)
			fd = kv_space(ctl, &c);
		rc = fd < 0 ? fd : kv_ioctl(fd, CXL_KV_PARAMS_GET, &p);
		T("policy_from_config", !strcmp(policy_now(), POLICY_CONF) && !rc &&
		  p.alpha_q16 == 32768 && p.tau_steps == 2000 &&
		  p.sink_tokens == 8 && p.recent_tokens == 32 &&
		  p.scan_limit == 64 && p.pf_window_max == 8 &&
		  p.policy_flags == 15, "policy '%s' rc %d alpha %u tau %u sink %u",
		  policy_now(), rc, p.alpha_q16, p.tau_steps, p.sink_tokens);
		if (fd >= 0)
			close(fd);
		if (ctl >= 0)
			close(ctl);
	}

	{
		int ok = 1;

		put("/tmp/bad.conf", TIERS "policy = tau_steps=0\n");
		rc = cli("apply --config /tmp/bad.conf");
		ok &= rc == 1 && strstr(err, "policy: a value is out of its range") != NULL;
		if (!ok)
			ktap_diag("range: rc %d err %.300s", rc, err);
		put("/tmp/bad.conf", TIERS "policy = tau_steps=5 tau_stepz=5\n");
		rc = cli("apply --config /tmp/bad.conf");
		ok &= rc == 1 && strstr(err, "/tmp/bad.conf:6: policy") &&
		      strstr(err, "'tau_stepz=5'");
		if (!ok)
			ktap_diag("name: rc %d err %.300s", rc, err);
		put("/tmp/bad.conf", TIERS "policy = sink_tokens=1 sink_tokens=2\n");
		rc = cli("apply --config /tmp/bad.conf");
		ok &= rc == 1 && strstr(err, "'sink_tokens=2'");
		if (!ok)
			ktap_diag("twice: rc %d err %.300s", rc, err);
		T("policy_invalid", ok && !strcmp(policy_now(), POLICY_CONF) &&
		  !cxl_kv_get_info(ctx, &now) && same_info(&info, &now),
		  "policy now '%s'", policy_now());
	}

	put("/tmp/other.conf", TIERS "policy = scan_limit=100 policy_flags=0x1f\n");
	rc = cli("apply --config /tmp/other.conf");
	T("policy_change", rc == 0 && strstr(out, "\"changed\": true") &&
	  strstr(policy_now(), "alpha_q16=16384 tau_steps=1000 ") &&
	  strstr(policy_now(), " scan_limit=100 policy_flags=31\n") &&
	  !cxl_kv_get_info(ctx, &now) && same_info(&info, &now),
	  "rc %d out %.300s err %.300s policy '%s'", rc, out, err, policy_now());
	rc = cli("apply");
	T("policy_back", rc == 0 && strstr(out, "\"changed\": true") &&
	  !strcmp(policy_now(), POLICY_CONF), "rc %d out %.300s err %.300s",
	  rc, out, err);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
