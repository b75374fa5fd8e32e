// SPDX-License-Identifier: GPL-2.0
/*
 * params.c - cxl-kv params get|set: a space's policy parameters.
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

int cmd_params(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "space", required_argument, NULL, 's' },
		{ "human", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct space_entry spaces[MAX_SPACES];
	struct cxl_kv_params set;
	const char *ref = NULL, *verb;
	uint64_t only = 0;
	int c, human = 0, ns, rc = 0, is_set;
	struct jw w;

	if (argc < 2)
		return cli_usage("params needs get or set");
	verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help"))
		return cli_help();
	if (strcmp(verb, "get") && strcmp(verb, "set"))
		return cli_usage("params needs get or set");
	is_set = !strcmp(verb, "set");
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "s:Hh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (space_opt(optarg, &ref))
				return cli_usage("--space takes PID:FD");
			break;
		case 'H': human = 1; break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	memset(&set, 0, sizeof(set));
	for (int i = optind; i < argc; i++) {
		char name[64], *eq;
		uint64_t bit, v;

		if (strlen(argv[i]) >= sizeof(name))
			return cli_usage("parameter too long");
		strcpy(name, argv[i]);
		eq = strchr(name, '=');
		if (is_set != !!eq)
			return cli_usage(is_set ? "params set takes NAME=VALUE" :
					      "params get takes NAME");
		if (eq)
			*eq = '\0';
		if (cxl_kv_param_lookup(name, &bit)) {
			fprintf(stderr, "cxl-kv: unknown parameter '%s'\n", name);
			return cli_usage(NULL);
		}
		if (eq) {
			if (parse_u64(eq + 1, &v) || v > UINT32_MAX)
				return cli_usage("parameter values are 0..4294967295");
			cxl_kv_param_set_value(&set, bit, (uint32_t)v);
		}
		only |= bit;
	}
	if (is_set && !set.mask)
		return cli_usage("params set needs NAME=VALUE");
	ns = open_spaces(ctx, ref, spaces, MAX_SPACES);
	if (ns < 0)
		return cli_fail(ref ? ref : "listing spaces", ns);
	if (ns == 0) {
		fprintf(stderr, "cxl-kv: no cxl_kv space open in any process\n");
		return 1;
	}
	if (!only)
		only = CXL_KV_PARAM_ALL;
	jw_init(&w, stdout, 1);
	if (!human) {
		jw_obj_begin(&w, NULL);
		jw_arr_begin(&w, "spaces");
	}
	for (int i = 0; i < ns && !rc; i++) {
		struct cxl_kv_params p;

		if (is_set) {
			p = set;
			rc = cxl_kv_params_set(spaces[i].space, &p);
			if (rc) {
				cli_fail("params set", rc);
				break;
			}
		}
		rc = cxl_kv_params_get(spaces[i].space, &p);
		if (rc) {
			cli_fail("params get", rc);
			break;
		}
		if (human) {
			printf("space pid %d fd %d\n", spaces[i].pid, spaces[i].fd);
			for (uint64_t b = 1; b & CXL_KV_PARAM_ALL; b <<= 1) {
				uint32_t v;

				if ((b & only) && !cxl_kv_param_get_value(&p, b, &v))
					printf("  %-14s %u\n", cxl_kv_param_name(b), v);
			}
			continue;
		}
		jw_obj_begin(&w, NULL);
		jw_u64(&w, "pid", (uint64_t)spaces[i].pid);
		jw_u64(&w, "fd", (uint64_t)spaces[i].fd);
		p.mask = only;
		jw_obj_begin(&w, "params");
		for (uint64_t b = 1; b & CXL_KV_PARAM_ALL; b <<= 1) {
			uint32_t v;

			if ((b & only) && !cxl_kv_param_get_value(&p, b, &v))
				jw_u64(&w, cxl_kv_param_name(b), v);
		}
		jw_obj_end(&w);
		jw_obj_end(&w);
	}
	if (!human) {
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	close_spaces(spaces, ns);
	return rc ? 1 : 0;
}
