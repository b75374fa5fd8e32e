// SPDX-License-Identifier: GPL-2.0
/*
 * lib_tiers - libcxl_kv context and tier discovery against the guest's real
 * sysfs: the warm node the rig made is found, CPU-less, in a lower memory
 * tier than node 0, with the rig's dax device and (cxl topology) its CXL
 * region; the region/dax sequences refuse or no-op on what is already set up.
 */
#include <stdlib.h>
#include <syslog.h>

#include "lib_util.h"

int main(void)
{
	int warm = guest_env_int("CXLKV_WARM_NODE"), cxl, count, rc, nid = -1;
	const char *dax = guest_env("CXLKV_DAX", "dax0.0");
	struct cxl_kv_node *n, *w, *n0;
	struct cxl_kv_ctx *ctx;
	char region[32];

	if (warm < 0)
		return ktap_skip_all("CXLKV_WARM_NODE not set (not in the rig)");
	cxl = !strcmp(guest_env("CXLKV_TOPO", "nvdimm"), "cxl");
	ktap_plan(12);

	setenv("CXL_KV_LOG", "debug", 1);
	rc = cxl_kv_new(&ctx);
	T("new_log_from_env", !rc && cxl_kv_get_log_priority(ctx) == LOG_DEBUG,
	  "rc %d", rc);
	cxl_kv_set_log_fn(ctx, lib_log);
	cxl_kv_set_log_priority(ctx, LOG_ERR);
	T("ref_unref", cxl_kv_ref(ctx) == ctx, "-");
	cxl_kv_unref(ctx);
	cxl_kv_set_userdata(ctx, &warm);
	T("userdata", cxl_kv_get_userdata(ctx) == &warm, "-");

	count = cxl_kv_refresh_nodes(ctx);
	T("refresh_nodes", count >= 2 && !cxl_kv_set_sysfs_root(ctx, "/sys/") &&
	  cxl_kv_refresh_nodes(ctx) == count, "count %d", count);
	n0 = cxl_kv_node_get_by_id(ctx, 0);
	w = cxl_kv_get_warm_node(ctx);
	T("warm_node_is_rigs", w && cxl_kv_node_get_id(w) == warm,
	  "found %d, rig %d", w ? cxl_kv_node_get_id(w) : -1, warm);
	T("warm_node_cpuless", w && !cxl_kv_node_has_cpus(w) && n0 &&
	  cxl_kv_node_has_cpus(n0), "-");
	T("warm_node_size", w && cxl_kv_node_get_size(w) >= (256ULL << 20) &&
	  cxl_kv_node_get_free(w) <= cxl_kv_node_get_size(w),
	  "size %llu", w ? cxl_kv_node_get_size(w) : 0);
	T("warm_node_lower_tier", w && n0 && cxl_kv_node_get_memory_tier(w) >
	  cxl_kv_node_get_memory_tier(n0), "tiers %d vs %d",
	  w ? cxl_kv_node_get_memory_tier(w) : -9,
	  n0 ? cxl_kv_node_get_memory_tier(n0) : -9);
	T("warm_node_dax", w && cxl_kv_node_get_dax(w) &&
	  !strcmp(cxl_kv_node_get_dax(w), dax), "dax %s",
	  w && cxl_kv_node_get_dax(w) ? cxl_kv_node_get_dax(w) : "(none)");
	T("warm_node_origin", w && cxl_kv_node_get_origin(w) ==
	  (cxl ? CXL_KV_ORIGIN_CXL : CXL_KV_ORIGIN_NVDIMM) &&
	  cxl_kv_node_get_region(w) != NULL, "origin %s region %s",
	  w ? cxl_kv_origin_name(cxl_kv_node_get_origin(w)) : "-",
	  w && cxl_kv_node_get_region(w) ? cxl_kv_node_get_region(w) : "(none)");
	for (n = cxl_kv_node_get_first(ctx); n; n = cxl_kv_node_get_next(n))
		ktap_diag("node%d cpus=%d size=%lluM tier=%d origin=%s dax=%s region=%s",
			  cxl_kv_node_get_id(n), cxl_kv_node_has_cpus(n),
			  cxl_kv_node_get_size(n) >> 20,
			  cxl_kv_node_get_memory_tier(n),
			  cxl_kv_origin_name(cxl_kv_node_get_origin(n)),
			  cxl_kv_node_get_dax(n) ?: "-", cxl_kv_node_get_region(n) ?: "-");

	/* already kmem and online: a no-op that reports the node */
	rc = cxl_kv_dax_online(ctx, dax, &nid);
	T("dax_online_idempotent", !rc && nid == warm, "rc %d node %d", rc, nid);
	/* the rig used the memdev's only endpoint decoder (cxl) / no CXL bus */
	rc = cxl_kv_region_create_ram(ctx, "mem0", region, sizeof(region));
	T("region_create_refuses", cxl ? rc < 0 : rc == -ENODEV, "rc %d", rc);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
