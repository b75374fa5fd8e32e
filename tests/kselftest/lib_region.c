// SPDX-License-Identifier: GPL-2.0
/*
 * lib_region - cxl topology only, and last in its suite: take the warm node
 * the rig made apart (offline its memory, unbind kmem, unbind, decommit and
 * delete the CXL region, free the endpoint decoder's DPA), then make it again
 * with `cxl-kv region` (libcxl_kv's own sysfs sequence) and check that the
 * node is back as CXL memory in ZONE_NORMAL that cxl_kv can attach and use.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "lib_util.h"

#define B "/sys/bus/cxl/devices"

static int wr(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f) && !rc)
		rc = -errno;
	if (rc)
		ktap_diag("write %s to %s: %d", val, path, rc);
	return rc;
}

/* Offline every online memory block of @node; returns blocks offlined. */
static int offline_node(int node)
{
	DIR *d = opendir("/sys/devices/system/memory");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char p[512], st[32];

		if (strncmp(de->d_name, "memory", 6) || de->d_name[6] < '0' ||
		    de->d_name[6] > '9')
			continue;
		snprintf(p, sizeof(p), "/sys/devices/system/memory/%s/node%d",
			 de->d_name, node);
		if (access(p, F_OK))
			continue;
		snprintf(p, sizeof(p), "/sys/devices/system/memory/%s/state",
			 de->d_name);
		if (read_line(p, st, sizeof(st)) || strcmp(st, "online"))
			continue;
		if (wr(p, "offline")) {
			closedir(d);
			return -1;
		}
		n++;
	}
	closedir(d);
	return n;
}

int main(void)
{
	int warm = guest_env_int("CXLKV_WARM_NODE"), n, rc, st;
	const char *dax = guest_env("CXLKV_DAX", "dax0.0");
	const char *region = guest_env("CXLKV_REGION", "region0");
	struct cxl_kv_geometry g = { 2, 2, 128, 2, 256 };
	struct cxl_kv_space *s;
	struct cxl_kv_node *w;
	struct cxl_kv_ctx *ctx;
	char p[256], cmd[512], out[4096] = "";
	FILE *pp;

	if (strcmp(guest_env("CXLKV_TOPO", ""), "cxl"))
		return ktap_skip_all("cxl topology only");
	if (warm < 0)
		return ktap_skip_all("CXLKV_WARM_NODE not set (not in the rig)");
	ctx = lib_ctx();
	if (!ctx)
		return ktap_skip_all("cxl_kv_new failed");
	cxl_kv_detach(ctx);
	ktap_plan(6);

	/* tear down what the rig built */
	n = offline_node(warm);
	snprintf(p, sizeof(p), "/sys/bus/cxl/devices/%s/commit", region);
	rc = n > 0 ? 0 : -1;
	rc = rc ?: wr("/sys/bus/dax/drivers/kmem/unbind", dax);
	rc = rc ?: wr("/sys/bus/cxl/drivers/cxl_region/unbind", region);
	rc = rc ?: wr(p, "0");
	rc = rc ?: wr(B "/decoder0.0/delete_region", region);
	rc = rc ?: wr(B "/decoder2.0/dpa_size", "0");
	cxl_kv_refresh_nodes(ctx);
	w = cxl_kv_node_get_by_id(ctx, warm);
	T("teardown", rc == 0 && (!w || !cxl_kv_node_get_size(w)),
	  "rc %d, %d blocks offlined, node %d still %llu bytes", rc, n, warm,
	  w ? cxl_kv_node_get_size(w) : 0);
	if (rc) {
		for (int i = 0; i < 5; i++)
			ktap_skip("rebuild", "teardown failed");
		return ktap_finish();
	}

	/* make it again with the CLI */
	snprintf(cmd, sizeof(cmd), "CXL_KV_LOG=debug %s/cxl-kv region 2>&1",
		 guest_env("CXLKV_BIN", "/opt/cxlkv/bin"));
	pp = popen(cmd, "r");
	n = pp ? (int)fread(out, 1, sizeof(out) - 1, pp) : 0;
	out[n > 0 ? n : 0] = '\0';
	st = pp ? pclose(pp) : -1;
	snprintf(p, sizeof(p), "\"node\": %d", warm);
	T("cxl_kv_region", WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(out, p) &&
	  strstr(out, "\"memdev\": \"mem0\""), "status %d out %s", st, out);
	ktap_diag("%s", out);

	cxl_kv_refresh_nodes(ctx);
	w = cxl_kv_get_warm_node(ctx);
	T("node_back_as_cxl", w && cxl_kv_node_get_id(w) == warm &&
	  cxl_kv_node_get_origin(w) == CXL_KV_ORIGIN_CXL &&
	  cxl_kv_node_get_size(w) >= (256ULL << 20) && !cxl_kv_node_has_cpus(w),
	  "node %d origin %s size %llu", w ? cxl_kv_node_get_id(w) : -1,
	  w ? cxl_kv_origin_name(cxl_kv_node_get_origin(w)) : "-",
	  w ? cxl_kv_node_get_size(w) : 0);
	rc = lib_attach(ctx, 1024, 32ULL << 20);
	T("attach_rebuilt_node", rc == 0, "rc %d", rc);
	rc = rc ?: cxl_kv_space_create(ctx, &g, &s);
	if (!rc)
		rc = cxl_kv_space_map(s, NULL);
	if (!rc) {
		int bad = 0;
		struct cxl_kv_stats sst;

		for (uint64_t t = 0; t < 256; t++)
			memset(cxl_kv_kv_ptr(s, 1, 1, 1, t), (int)t, 256);
		for (uint64_t t = 0; t < 256; t++)
			bad += ((unsigned char *)cxl_kv_kv_ptr(s, 1, 1, 1, t))[255] !=
			       (unsigned char)t;
		T("space_on_rebuilt_node", bad == 0 && !cxl_kv_space_stats(s, &sst) &&
		  sst.warm_pages >= 16, "bad %d warm %llu", bad,
		  (unsigned long long)sst.warm_pages);
		cxl_kv_space_close(s);
	} else {
		T("space_on_rebuilt_node", 0, "rc %d", rc);
	}
	rc = cxl_kv_detach(ctx);
	T("detach", rc == 0, "rc %d", rc);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
