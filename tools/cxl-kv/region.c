// SPDX-License-Identifier: GPL-2.0
/*
 * region.c - cxl-kv region: CXL RAM region -> dax device -> warm NUMA node.
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

int cmd_region(struct cxl_kv_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "memdev", required_argument, NULL, 'm' },
		{ "dax", required_argument, NULL, 'd' },
		{ "no-online", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char memdev[64] = "", dax[64] = "", region[64] = "";
	int c, rc, online = 1, node = -1;
	struct jw w;

	while ((c = getopt_long(argc, argv, "m:d:nh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strlen(optarg) >= sizeof(memdev))
				return cli_usage("memdev name too long");
			strcpy(memdev, optarg);
			break;
		case 'd':
			if (strlen(optarg) >= sizeof(dax) || strncmp(optarg, "dax", 3))
				return cli_usage("--dax takes a name like dax0.0");
			strcpy(dax, optarg);
			break;
		case 'n': online = 0; break;
		case 'h': return cli_help();
		default: return cli_usage(NULL);
		}
	}
	if (optind != argc)
		return cli_usage("region takes no positional arguments");
	if (memdev[0] && dax[0])
		return cli_usage("--memdev and --dax exclude each other");
	/* Every name is checked before anything changes (modprobe, sysfs). */
	if (dax[0]) {
		unsigned int a, b;
		char end;

		if (sscanf(dax, "dax%u.%u%c", &a, &b, &end) != 2)
			return cli_usage("--dax takes a name like dax0.0");
		if (cxl_kv_dax_get_node(ctx, dax) == -ENOENT) {
			fprintf(stderr, "cxl-kv: region: no dax device %s under "
				"%s/bus/dax/devices ('cxl-kv list' shows the nodes "
				"and their dax devices)\n", dax, sysfs_root);
			return 1;
		}
	}
	if (memdev[0]) {
		unsigned long long sz;

		rc = cxl_kv_memdev_get_ram_size(ctx, memdev, &sz);
		if (rc == -EINVAL || rc == -ENODEV) {
			fprintf(stderr, "cxl-kv: region: no CXL memdev %s under "
				"%s/bus/cxl/devices\n", memdev, sysfs_root);
			return 1;
		}
	}
	if (!dax[0]) {
		if (!memdev[0] &&
		    cxl_kv_memdev_first_ram(ctx, memdev, sizeof(memdev)))
			return cli_fail("no CXL memdev with volatile capacity", -ENODEV);
		rc = cxl_kv_region_create_ram(ctx, memdev, region, sizeof(region));
		if (rc)
			return cli_fail("creating the RAM region", rc);
		/* cxl_region creates dax_regionN/daxN.0 asynchronously */
		for (int i = 0; i < 50; i++) {
			if (!cxl_kv_region_get_dax(ctx, region, dax, sizeof(dax)))
				break;
			usleep(100000);
		}
		if (!dax[0])
			return cli_fail("no dax device appeared for the region", -ENOENT);
	}
	if (online) {
		rc = cxl_kv_dax_online(ctx, dax, &node);
		/* -ENODEV: no kmem driver; load it (on this host's /sys) */
		if (rc == -ENODEV && !strcmp(sysfs_root, "/sys")) {
			if (system("modprobe kmem") != 0)
				return cli_fail("modprobe kmem", -ENODEV);
			rc = cxl_kv_dax_online(ctx, dax, &node);
		}
		if (rc)
			return cli_fail("onlining the dax device", rc);
	}
	jw_init(&w, stdout, 1);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "memdev", memdev[0] ? memdev : NULL);
	jw_str(&w, "region", region[0] ? region : NULL);
	jw_str(&w, "dax", dax);
	if (node >= 0)
		jw_i64(&w, "node", node);
	else
		jw_null(&w, "node");
	jw_obj_end(&w);
	return jw_finish(&w) ? 1 : 0;
}
