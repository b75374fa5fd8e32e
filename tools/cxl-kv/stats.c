// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - cxl-kv stats: module and per-space counters.
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

/* Per (layer, head) residency of @s: a table on stdout, or with @w the
 * JSON array "heads". */
static void residency_per_head(struct cxl_kv_space *s, struct jw *w)
{
	const struct cxl_kv_layout *lo = cxl_kv_space_get_layout(s);

	if (w)
		jw_arr_begin(w, "heads");
	else
		printf("%6s %5s %8s %8s %8s %8s\n", "layer", "head", "warm",
		       "cold", "empty", "pinned");
	for (uint32_t l = 0; l < lo->geo.layers; l++)
		for (uint32_t h = 0; h < lo->geo.kv_heads; h++) {
			struct cxl_kv_residency r;

			if (cxl_kv_residency(s, l, h, 0, lo->blocks_per_stream,
					     NULL, &r))
				continue;
			if (!w) {
				printf("%6u %5u %8u %8u %8u %8u\n", l, h,
				       r.nr_warm, r.nr_cold, r.nr_empty,
				       r.nr_pinned);
				continue;
			}
			jw_obj_begin(w, NULL);
			jw_u64(w, "layer", l);
			jw_u64(w, "head", h);
			jw_u64(w, "warm", r.nr_warm);
			jw_u64(w, "cold", r.nr_cold);
			jw_u64(w, "empty", r.nr_empty);
			jw_u64(w, "pinned", r.nr_pinned);
			jw_obj_end(w);
		}
	if (w)
		jw_arr_end(w);
}

/* Module counters and those of the spaces of @ref (PID:FD, NULL: every
 * one the caller may inspect), or of the caller's space *@id (LIST). */
static int stats_once(struct cxl_kv_ctx *ctx, const char *ref,
		      const uint64_t *id, int per_head, int human, int pretty)
{
	struct space_entry spaces[MAX_SPACES];
	struct cxl_kv_list_entry le;
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
	if (id) {
		ns = 0;
		rc = find_owned(ctx, *id, &le);
		if (rc == -ENOENT) {
			fprintf(stderr, "cxl-kv: stats: no space %llu among the "
				"caller's ('cxl-kv spaces' lists them)\n",
				(unsigned long long)*id);
			return 1;
		}
		if (rc)
			return cli_ctl_fail("stats: LIST", rc);
	} else {
		ns = open_spaces(ctx, ref, spaces, MAX_SPACES);
		if (ns < 0)
			return cli_fail(ref ? ref : "listing spaces", ns);
	}
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
				residency_per_head(spaces[i].space, NULL);
		}
		if (id) {
			printf("\nspace id %llu uid %u\n",
			       (unsigned long long)le.id, le.uid);
			stats_table(stdout, &le.stats);
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
			residency_per_head(spaces[i].space, &w);
		jw_obj_end(&w);
	}
	if (id) {
		jw_obj_begin(&w, NULL);
		list_entry_json(&w, &le);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	close_spaces(spaces, ns);
	return jw_finish(&w) ? 1 : 0;
}

int cmd_stats(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "space", required_argument, NULL, 's' },
		{ "id", required_argument, NULL, 'i' },
		{ "per-head", no_argument, NULL, 'p' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "human", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *ref = NULL;
	uint64_t watch = 0, count = 0, id = 0;
	int c, per_head = 0, human = 0, rc = 0, by_id = 0;

	while ((c = getopt_long(argc, argv, "s:i:pw:c:Hh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_u64(optarg, &id))
				return cli_usage("--id takes a space id ('cxl-kv spaces')");
			by_id = 1;
			break;
		case 's':
			if (space_opt(optarg, &ref))
				return cli_usage("--space takes PID:FD");
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
	if (by_id && (ref || per_head))
		return cli_usage("--id excludes --space and --per-head");
	if (!watch)
		return stats_once(ctx, ref, by_id ? &id : NULL, per_head, human, 1);
	/* --watch: one record per interval (JSON lines), until --count */
	for (uint64_t i = 0; !count || i < count; i++) {
		if (i)
			sleep((unsigned int)watch);
		rc = stats_once(ctx, ref, by_id ? &id : NULL, per_head, human, 0);
		if (rc)
			break;
		if (human)
			printf("\n");
		fflush(stdout);
	}
	return rc;
}
