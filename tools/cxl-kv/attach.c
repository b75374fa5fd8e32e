// SPDX-License-Identifier: GPL-2.0
/*
 * attach.c - cxl-kv attach and detach: the tier set.
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

int cmd_attach(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "node", required_argument, NULL, 'n' },
		{ "cold", required_argument, NULL, 'c' },
		{ "budget", required_argument, NULL, 'b' },
		{ "budget-pages", required_argument, NULL, 'p' },
		{ "cold-max", required_argument, NULL, 'm' },
		{ "user-spaces", required_argument, NULL, 'U' },
		{ "max-spaces", required_argument, NULL, 'M' },
		{ "user-warm-pages", required_argument, NULL, 'W' },
		{ "user-cold-slots", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	/* user_spaces, max_spaces, user_warm_pages, user_cold_slots */
	uint64_t lim[4] = { 0 };
	unsigned int nodes[CXL_KV_MAX_NODES], nr_nodes = 0, nr_cold = 0;
	const char *cold[CXL_KV_MAX_COLD];
	char coldbuf[1024], *tok, *save;
	uint64_t budget = 0, pages = 0, cold_max = 0;
	struct cxl_kv_features f;
	int c, rc;

	coldbuf[0] = '\0';
	while ((c = getopt_long(argc, argv, "n:c:b:p:m:U:M:W:C:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 'U': case 'M': case 'W': case 'C': {
			int k = c == 'U' ? 0 : c == 'M' ? 1 : c == 'W' ? 2 : 3;

			if (parse_u64(optarg, &lim[k]) ||
			    (k < 2 && lim[k] > UINT32_MAX))
				return cli_usage("limits take a count (0: the default)");
			break;
		}
		case 'n':
			if (parse_u32_list(optarg, nodes, CXL_KV_MAX_NODES, &nr_nodes))
				return cli_usage("--node takes N[,N...] (at most 8)");
			break;
		case 'c':
			if (strlen(optarg) >= sizeof(coldbuf))
				return cli_usage("--cold too long");
			strcpy(coldbuf, optarg);
			break;
		case 'b':
			if (parse_size(optarg, &budget) || !budget)
				return cli_usage("--budget takes a size (e.g. 64M)");
			break;
		case 'p':
			if (parse_u64(optarg, &pages) || !pages)
				return cli_usage("--budget-pages takes a page count");
			break;
		case 'm':
			if (parse_size(optarg, &cold_max))
				return cli_usage("--cold-max takes a size");
			break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	if (optind != argc)
		return cli_usage("attach takes no positional arguments");
	/* defaults from the test rig's environment */
	if (!coldbuf[0] && getenv("CXLKV_NVME") &&
	    strlen(getenv("CXLKV_NVME")) < sizeof(coldbuf))
		strcpy(coldbuf, getenv("CXLKV_NVME"));
	if (!nr_nodes && getenv("CXLKV_WARM_NODE") &&
	    parse_u32_list(getenv("CXLKV_WARM_NODE"), nodes, CXL_KV_MAX_NODES,
			   &nr_nodes))
		return cli_usage("CXLKV_WARM_NODE is not a node list");
	if (!coldbuf[0])
		return cli_usage("attach needs --cold DEV[,DEV...]");
	if (budget && pages)
		return cli_usage("--budget and --budget-pages exclude each other");
	for (tok = strtok_r(coldbuf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (nr_cold >= CXL_KV_MAX_COLD)
			return cli_usage("at most 4 cold devices");
		cold[nr_cold++] = tok;
	}
	if (!nr_nodes) {
		struct cxl_kv_node *n = cxl_kv_get_warm_node(ctx);

		if (!n)
			return cli_fail("no CPU-less memory node (use --node)", -ENODEV);
		nodes[nr_nodes++] = (unsigned int)cxl_kv_node_get_id(n);
	}
	rc = cxl_kv_get_features(ctx, &f);
	if (rc)
		return cli_ctl_fail("cxl_kv module", rc);
	if (budget)
		pages = budget / f.page_size;
	if (!pages) {
		/* default: half the warm nodes' free memory */
		for (unsigned int i = 0; i < nr_nodes; i++)
			pages += cxl_kv_node_get_free(
				cxl_kv_node_get_by_id(ctx, (int)nodes[i])) /
				 2 / f.page_size;
	}
	if (lim[0] | lim[1] | lim[2] | lim[3]) {
		/* The limits have no parameter in cxl_kv_attach(): raw. */
		struct cxl_kv_attach a;

		memset(&a, 0, sizeof(a));
		a.nr_nodes = nr_nodes;
		for (unsigned int i = 0; i < nr_nodes; i++)
			a.nodes[i] = nodes[i];
		a.nr_cold = nr_cold;
		for (unsigned int i = 0; i < nr_cold; i++) {
			a.cold[i].path = (uint64_t)(uintptr_t)cold[i];
			a.cold[i].max_bytes = cold_max;
		}
		a.budget_pages = pages;
		a.user_spaces = (uint32_t)lim[0];
		a.max_spaces = (uint32_t)lim[1];
		a.user_warm_pages = lim[2];
		a.user_cold_slots = lim[3];
		rc = cxl_kv_attach_raw(ctx, &a);
	} else {
		rc = cxl_kv_attach(ctx, nodes, nr_nodes, cold, nr_cold, pages,
				   cold_max);
	}
	if (rc)
		return cli_ctl_fail("attach", rc);
	printf("{\"attached\": true, \"nodes\": [");
	for (unsigned int i = 0; i < nr_nodes; i++)
		printf("%s%u", i ? ", " : "", nodes[i]);
	printf("], \"cold\": %u, \"budget_pages\": %llu}\n", nr_cold,
	       (unsigned long long)pages);
	return 0;
}

int cmd_detach(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return cli_help();
	if (argc != 1)
		return cli_usage("detach takes no arguments");
	rc = cxl_kv_detach(ctx);
	if (rc)
		return cli_ctl_fail("detach", rc);
	printf("{\"attached\": false}\n");
	return 0;
}
