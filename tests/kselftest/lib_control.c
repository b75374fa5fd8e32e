// SPDX-License-Identifier: GPL-2.0
/*
 * lib_control - libcxl_kv on the control device: features, info, attach
 * (library-side validation, module refusals, success, -EBUSY twice),
 * attach_raw, global stats, detach (-ENODEV twice), device path setter.
 */
#include "lib_util.h"

int main(void)
{
	unsigned int warm = (unsigned int)guest_env_int("CXLKV_WARM_NODE");
	const char *nvme = guest_env("CXLKV_NVME", "/dev/nvme0n1");
	const char *cold[1] = { nvme }, *nocold[1] = { "/dev/nonexistent" };
	unsigned int node0 = 0;
	struct cxl_kv_features f;
	struct cxl_kv_info info;
	struct cxl_kv_stats st;
	struct cxl_kv_attach a;
	struct cxl_kv_ctx *ctx;
	const char *why = lib_unavailable();
	int rc;

	if (why)
		return ktap_skip_all(why);
	ctx = lib_ctx();
	if (!ctx)
		return ktap_skip_all("cxl_kv_new failed");
	ktap_plan(14);

	rc = cxl_kv_get_features(ctx, &f);
	T("get_features", !rc && f.version == CXL_KV_VERSION && f.page_size == 4096 &&
	  !(f.features & ~CXL_KV_F_ALL), "rc %d version %u features %#llx", rc,
	  f.version, (unsigned long long)f.features);
	rc = cxl_kv_get_info(ctx, &info);
	if (!rc && info.attached) {
		cxl_kv_detach(ctx);
		rc = cxl_kv_get_info(ctx, &info);
	}
	T("get_info_detached", !rc && !info.attached, "rc %d", rc);
	rc = cxl_kv_attach(ctx, &warm, 1, cold, 1, 100, 0);
	T("attach_small_budget_einval", rc == -EINVAL, "rc %d", rc);
	rc = cxl_kv_attach(ctx, &node0, 1, cold, 1, 1024, 0);
	T("attach_cpu_node_refused", rc < 0, "rc %d", rc);
	rc = cxl_kv_attach(ctx, &warm, 1, nocold, 1, 1024, 0);
	T("attach_missing_cold_refused", rc < 0, "rc %d", rc);
	rc = cxl_kv_attach(ctx, &warm, 1, cold, 1, 2048, 64ULL << 20);
	T("attach", rc == 0, "rc %d", rc);
	rc = cxl_kv_attach(ctx, &warm, 1, cold, 1, 2048, 0);
	T("attach_twice_ebusy", rc == -EBUSY, "rc %d", rc);
	rc = cxl_kv_get_info(ctx, &info);
	T("get_info_attached", !rc && info.attached && info.nr_nodes == 1 &&
	  info.nodes[0] == warm && info.nr_cold == 1 && info.budget_pages == 2048 &&
	  info.cold_slots > 0 && info.cold_slots <= (64ULL << 20) / 4096,
	  "rc %d budget %llu slots %llu",
	  rc, (unsigned long long)info.budget_pages,
	  (unsigned long long)info.cold_slots);
	rc = cxl_kv_get_global_stats(ctx, &st);
	T("get_global_stats", rc == 0, "rc %d", rc);
	rc = cxl_kv_detach(ctx);
	T("detach", rc == 0, "rc %d", rc);
	rc = cxl_kv_detach(ctx);
	T("detach_twice_enodev", rc == -ENODEV, "rc %d", rc);

	memset(&a, 0, sizeof(a));
	a.nr_nodes = 1;
	a.nodes[0] = warm;
	a.nr_cold = 1;
	a.cold[0].path = (uintptr_t)nvme;
	a.budget_pages = 1024;
	a.reserved[0] = 1;
	rc = cxl_kv_attach_raw(ctx, &a);
	T("attach_raw_reserved_einval", rc == -EINVAL, "rc %d", rc);
	a.reserved[0] = 0;
	rc = cxl_kv_attach_raw(ctx, &a);
	T("attach_raw", rc == 0 && cxl_kv_detach(ctx) == 0, "rc %d", rc);

	rc = cxl_kv_set_device_path(ctx, "/dev/nonexistent_cxl_kv");
	T("device_path", !rc && cxl_kv_get_features(ctx, &f) == -ENOENT, "rc %d", rc);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
