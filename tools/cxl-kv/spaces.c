// SPDX-License-Identifier: GPL-2.0
/*
 * spaces.c - cxl-kv spaces: the caller's own spaces through LIST.
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

/* What LIST says of one space, as JSON members (spaces, stats --id). */
void list_entry_json(struct jw *w, const struct cxl_kv_list_entry *e)
{
	jw_u64(w, "id", e->id);
	jw_u64(w, "uid", e->uid);
	jw_u64(w, "layers", e->info.layers);
	jw_u64(w, "kv_heads", e->info.kv_heads);
	jw_u64(w, "head_dim", e->info.head_dim);
	jw_u64(w, "dtype_bytes", e->info.dtype_bytes);
	jw_u64(w, "max_tokens", e->info.max_tokens);
	jw_u64(w, "tokens_per_block", e->info.tokens_per_block);
	jw_u64(w, "blocks_per_stream", e->info.blocks_per_stream);
	jw_u64(w, "mmap_bytes", e->info.mmap_bytes);
	stats_json(w, "stats", &e->stats);
}

/* The caller's space @id through LIST: 0, -ENOENT (not the caller's, or
 * gone), or the -errno of LIST. */
int find_owned(struct cxl_kv_ctx *ctx, uint64_t id, struct cxl_kv_list_entry *out)
{
	struct cxl_kv_list_entry *e = calloc(CXL_KV_MAX_LIST, sizeof(*e));
	int n, rc = -ENOENT;

	if (!e)
		return -ENOMEM;
	n = cxl_kv_list_owned(ctx, e, CXL_KV_MAX_LIST, NULL);
	if (n < 0)
		rc = n;
	for (int i = 0; i < n; i++) {
		if (e[i].id == id) {
			*out = e[i];
			rc = 0;
			break;
		}
	}
	free(e);
	return rc;
}

int cmd_spaces(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	struct cxl_kv_list_entry *e;
	unsigned int total = 0;
	int c, human = 0, n;
	struct jw w;

	c = cli_human_only(argc, argv, &human);
	if (c >= 0)
		return c;
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
		list_entry_json(&w, &e[i]);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	free(e);
	return jw_finish(&w) ? 1 : 0;
}
