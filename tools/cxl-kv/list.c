// SPDX-License-Identifier: GPL-2.0
/*
 * list.c - cxl-kv list: NUMA nodes, memory tiers, the module, the spaces.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "cxl-kv.h"

static const char *const feature_names[] = {
	"uring_cmd", "multi_node", "multi_cold", "cold_fd", "clean_drop",
	"prefetch_wait", NULL, NULL, "list",
};

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

int cmd_list(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	struct space_entry spaces[MAX_SPACES];
	struct cxl_kv_node *n;
	int human = 0, c, ns, rc, tiers[64], ntiers = 0;
	struct jw w;

	c = cli_human_only(argc, argv, &human);
	if (c >= 0)
		return c;
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
