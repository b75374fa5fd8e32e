// SPDX-License-Identifier: GPL-2.0
/*
 * lib_cli - the cxl-kv command line in the guest: list (JSON shape and
 * --human), region on the rig's dax device, attach/detach, stats (plain,
 * --per-head, --watch), params get/set on this program's own space
 * (--space PID:FD), and exit status 2 with usage for bad arguments.
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "lib_util.h"

static char out[1 << 16];

/* Run "cxl-kv ARGS", stdout into out[]; returns the exit status. */
static int cli(const char *fmt, ...)
{
	char args[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return lib_run_tool("cxl-kv", args, "2>/tmp/cli.err", out, sizeof(out));
}

static int err_has_usage(void)
{
	char buf[256];
	FILE *f = fopen("/tmp/cli.err", "r");
	int found = 0;

	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f))
		found |= !strncmp(buf, "usage: cxl-kv", 13);
	fclose(f);
	return found;
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

int main(void)
{
	static const char *const bad[] = {
		"", "bogus", "list extra", "list --frob", "attach --budget x",
		"attach --node a", "stats --watch 0", "stats --count 2",
		"stats --space abc", "params", "params frob", "params set",
		"params set nope=1", "params get pf_window=1", "region --dax x",
		"--sysfs-root", "detach now",
	};
	int warm = guest_env_int("CXLKV_WARM_NODE"), rc, ok, pid = getpid(), fd;
	struct cxl_kv_geometry g = { 2, 2, 128, 2, 64 };
	const char *why = lib_unavailable();
	struct cxl_kv_space *s = NULL;
	struct cxl_kv_params p;
	struct cxl_kv_ctx *ctx;
	char want[64];
	uint32_t v = 0;
	uint64_t bit;

	if (why)
		return ktap_skip_all(why);
	if (access(guest_env("CXLKV_BIN", "/opt/cxlkv/bin"), F_OK))
		return ktap_skip_all("CXLKV_BIN missing");
	ctx = lib_ctx();
	if (!ctx)
		return ktap_skip_all("cxl_kv_new failed");
	cxl_kv_detach(ctx);
	ktap_plan(16);

	rc = cli("list");
	snprintf(want, sizeof(want), "\"node\": %d,", warm);
	T("list_json", rc == 0 && strstr(out, "\"nodes\": [") && strstr(out, want) &&
	  strstr(out, "\"warm\": true") && strstr(out, "\"tiers\": [") &&
	  strstr(out, "\"loaded\": true") && strstr(out, "\"spaces\": [") &&
	  strstr(out, "\"origin\": \"dram\""), "rc %d out %.300s", rc, out);
	rc = cli("list --human");
	snprintf(want, sizeof(want), "warm node: %d", warm);
	T("list_human", rc == 0 && strstr(out, want), "rc %d", rc);
	rc = cli("region --dax %s", guest_env("CXLKV_DAX", "dax0.0"));
	snprintf(want, sizeof(want), "\"node\": %d", warm);
	T("region_dax_idempotent", rc == 0 && strstr(out, want), "rc %d out %s", rc, out);

	ok = 1;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = cli("%s", bad[i]);
		if (rc != 2 || !err_has_usage()) {
			ktap_diag("'cxl-kv %s' exit %d", bad[i], rc);
			ok = 0;
		}
	}
	T("bad_arguments_exit_2_with_usage", ok, "-");

	rc = cli("attach --budget 8M");
	T("attach", rc == 0 && strstr(out, "\"attached\": true") &&
	  strstr(out, "\"budget_pages\": 2048"), "rc %d out %s", rc, out);
	rc = cli("attach --budget 8M");
	T("attach_twice_fails", rc == 1, "rc %d", rc);

	rc = cxl_kv_space_create(ctx, &g, &s);
	if (!rc)
		rc = cxl_kv_space_map(s, NULL);
	if (rc) {
		T("space", 0, "rc %d", rc);
		for (int i = 0; i < 9; i++)
			ktap_skip("cli_space", "no space");
		cxl_kv_detach(ctx);
		return ktap_finish();
	}
	memset(cxl_kv_kv_ptr(s, 0, 0, 0, 0), 1, 4096);
	fd = cxl_kv_space_get_fd(s);
	T("space", 1, "-");
	rc = cli("list");
	snprintf(want, sizeof(want), "\"pid\": %d,", pid);
	T("list_shows_space", rc == 0 && strstr(out, want), "rc %d", rc);
	rc = cli("stats --space %d:%d", pid, fd);
	T("stats_json", rc == 0 && strstr(out, "\"global\": {") &&
	  strstr(out, "\"stats\": {") && strstr(out, "\"promotions\":") &&
	  strstr(out, "\"prefetch_accuracy\":") && strstr(out, "\"faults_zero\": "),
	  "rc %d out %.300s", rc, out);
	rc = cli("stats --space %d:%d --per-head", pid, fd);
	T("stats_per_head", rc == 0 && count_lines(out, "\"layer\":") == 4 &&
	  strstr(out, "\"warm\": 1"), "rc %d", rc);
	rc = cli("stats --watch 1 --count 2");
	T("stats_watch", rc == 0 && count_lines(out, "{\"module\":") == 2, "rc %d out %.200s",
	  rc, out);
	rc = cli("params set --space %d:%d pf_window=3", pid, fd);
	cxl_kv_param_lookup("pf_window", &bit);
	T("params_set", rc == 0 && !cxl_kv_params_get(s, &p) &&
	  !cxl_kv_param_get_value(&p, bit, &v) && v == 3, "rc %d v %u", rc, v);
	rc = cli("params get --space %d:%d pf_window tau_steps", pid, fd);
	T("params_get", rc == 0 && strstr(out, "\"pf_window\": 3") &&
	  strstr(out, "\"tau_steps\": 1000") && !strstr(out, "alpha_q16"),
	  "rc %d out %s", rc, out);
	rc = cli("params set --space %d:%d score_shift=99", pid, fd);
	T("params_set_refused", rc == 1, "rc %d", rc);
	rc = cli("detach");
	T("detach_busy", rc == 1, "rc %d", rc);
	cxl_kv_space_close(s);
	rc = cli("detach");
	T("detach", rc == 0 && strstr(out, "\"attached\": false"), "rc %d", rc);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
