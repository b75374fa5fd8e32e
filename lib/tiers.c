// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tiers.c - tier discovery: NUMA memory nodes, whether they have CPUs, their
 * memory tier, and the dax device / CXL region their memory comes from.
 *
 * Sources: /sys/devices/system/node/node<N>/{cpulist,meminfo},
 * /sys/devices/virtual/memory_tiering/memory_tier<T>/nodelist,
 * /sys/bus/dax/devices/dax<X.Y>/{target_node,driver} and the device path the
 * dax symlink resolves to (".../decoder0.0/region0/dax_region0/dax0.0" for
 * CXL, ".../ndbus0/region0/dax0.0/dax0.0" for nvdimm, ".../hmem*" for
 * soft-reserved memory).  With the real /sys, libnuma gives sizes.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

void cxl_kv__free_nodes(struct cxl_kv_ctx *ctx)
{
	struct cxl_kv_node *n = ctx->nodes, *next;

	for (; n; n = next) {
		next = n->next;
		free(n);
	}
	ctx->nodes = NULL;
	ctx->nodes_listed = 0;
}

static int node_meminfo(struct cxl_kv_ctx *ctx, struct cxl_kv_node *node)
{
	char path[PATH_MAX], line[256];
	FILE *f;
	int rc;

	if (!strcmp(ctx->sysfs_root, "/sys") && numa_available() >= 0) {
		long long fr = 0, sz = numa_node_size64(node->id, &fr);

		if (sz >= 0) {
			node->total = (unsigned long long)sz;
			node->free = fr > 0 ? (unsigned long long)fr : 0;
			return 0;
		}
	}
	rc = cxl_kv__sysfs_path(ctx, path, sizeof(path),
				"devices/system/node/node%d/meminfo", node->id);
	if (rc)
		return rc;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;
		int id;

		if (sscanf(line, "Node %d MemTotal: %llu kB", &id, &kb) == 2)
			node->total = kb << 10;
		else if (sscanf(line, "Node %d MemFree: %llu kB", &id, &kb) == 2)
			node->free = kb << 10;
	}
	fclose(f);
	return 0;
}

static void node_tier(struct cxl_kv_ctx *ctx, struct cxl_kv_node *node)
{
	char path[PATH_MAX], list[256];
	struct dirent *de;
	DIR *d;

	node->memory_tier = -1;
	if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
			       "devices/virtual/memory_tiering"))
		return;
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		int id;

		if (sscanf(de->d_name, "memory_tier%d", &id) != 1)
			continue;
		if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "devices/virtual/memory_tiering/%s/nodelist",
				       de->d_name))
			continue;
		if (cxl_kv__read_attr(ctx, path, list, sizeof(list)))
			continue;
		if (cxl_kv__nodelist_has(list, node->id) == 1) {
			node->memory_tier = id;
			break;
		}
	}
	closedir(d);
}

/* Classify a dax device by the path its sysfs link resolves to. */
static enum cxl_kv_origin dax_origin(const char *real, char *region,
				     size_t len)
{
	enum cxl_kv_origin o = CXL_KV_ORIGIN_UNKNOWN;
	const char *p, *prev = NULL;
	char comp[64];

	region[0] = '\0';
	if (strstr(real, "/ndbus"))
		o = CXL_KV_ORIGIN_NVDIMM;
	else if (strstr(real, "/hmem"))
		o = CXL_KV_ORIGIN_HMEM;
	for (p = real; p && *p; p = strchr(p, '/')) {
		size_t n;
		int a, b;

		if (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n >= sizeof(comp))
			continue;
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (sscanf(comp, "region%d", &a) == 1 && !strchr(comp, '_')) {
			cxl_kv__copy_name(region, len, comp);
			if (prev && sscanf(prev, "decoder%d.%d", &a, &b) == 2)
				o = CXL_KV_ORIGIN_CXL;
		}
		prev = p;
		p += n;
	}
	return o;
}

/* Find the dax device whose memory kmem put on @node. */
static void node_dax(struct cxl_kv_ctx *ctx, struct cxl_kv_node *node)
{
	char path[PATH_MAX], real[PATH_MAX], buf[64];
	struct dirent *de;
	DIR *d;

	/* without a dax device: boot memory if the node has CPUs */
	node->origin = node->has_cpus ? CXL_KV_ORIGIN_DRAM : CXL_KV_ORIGIN_UNKNOWN;
	if (cxl_kv__sysfs_path(ctx, path, sizeof(path), "bus/dax/devices"))
		return;
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		unsigned long long tn;
		char *drv;
		ssize_t n;

		if (strncmp(de->d_name, "dax", 3))
			continue;
		if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "bus/dax/devices/%s/target_node",
				       de->d_name) ||
		    cxl_kv__read_ull(ctx, path, &tn) || (int)tn != node->id)
			continue;
		/* Only kmem turns a dax device into node memory. */
		if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "bus/dax/devices/%s/driver", de->d_name))
			continue;
		n = readlink(path, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		drv = strrchr(buf, '/');
		if (strcmp(drv ? drv + 1 : buf, "kmem"))
			continue;
		if (cxl_kv__copy_name(node->dax, sizeof(node->dax), de->d_name))
			continue;
		if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "bus/dax/devices/%s", de->d_name) ||
		    !realpath(path, real))
			break;
		node->origin = dax_origin(real, node->region,
					  sizeof(node->region));
		break;
	}
	closedir(d);
}

static int node_cmp(const void *a, const void *b)
{
	const struct cxl_kv_node *x = *(struct cxl_kv_node *const *)a;
	const struct cxl_kv_node *y = *(struct cxl_kv_node *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}

/**
 * cxl_kv_refresh_nodes() - (re)read the NUMA memory nodes from sysfs
 * @ctx: context
 *
 * Node objects from before the call are freed.  Nodes without memory are
 * left out.  Called implicitly by the first cxl_kv_node_get_first().
 *
 * Return: number of memory nodes, -EINVAL, -ENOENT (no node directory),
 * -ENOMEM.
 */
int cxl_kv_refresh_nodes(struct cxl_kv_ctx *ctx)
{
	struct cxl_kv_node *list[1024], **tail;
	char path[PATH_MAX], buf[CXL_KV_SYSFS_MAX];
	struct dirent *de;
	int count = 0, rc = 0, i;
	DIR *d;

	if (!ctx)
		return -EINVAL;
	cxl_kv__free_nodes(ctx);
	rc = cxl_kv__sysfs_path(ctx, path, sizeof(path), "devices/system/node");
	if (rc)
		return rc;
	d = opendir(path);
	if (!d) {
		rc = -errno;
		err(ctx, "%s: %s\n", path, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d)) && count < (int)(sizeof(list) / sizeof(list[0]))) {
		struct cxl_kv_node *n;
		int id;
		char c;

		if (sscanf(de->d_name, "node%d%c", &id, &c) != 1 || id < 0)
			continue;
		n = calloc(1, sizeof(*n));
		if (!n) {
			rc = -ENOMEM;
			break;
		}
		n->ctx = ctx;
		n->id = id;
		if (!cxl_kv__sysfs_path(ctx, path, sizeof(path),
					"devices/system/node/node%d/cpulist", id) &&
		    !cxl_kv__read_attr(ctx, path, buf, sizeof(buf)))
			n->has_cpus = buf[0] != '\0';
		if (node_meminfo(ctx, n) || n->total == 0) {
			dbg(ctx, "node%d: no memory, skipped\n", id);
			free(n);
			continue;
		}
		node_tier(ctx, n);
		node_dax(ctx, n);
		list[count++] = n;
	}
	closedir(d);
	if (rc) {
		for (i = 0; i < count; i++)
			free(list[i]);
		return rc;
	}
	qsort(list, (size_t)count, sizeof(list[0]), node_cmp);
	tail = &ctx->nodes;
	for (i = 0; i < count; i++) {
		*tail = list[i];
		tail = &list[i]->next;
		dbg(ctx, "node%d: cpus=%d tier=%d dax=%s region=%s origin=%s\n",
		    list[i]->id, list[i]->has_cpus, list[i]->memory_tier,
		    list[i]->dax, list[i]->region,
		    cxl_kv_origin_name(list[i]->origin));
	}
	ctx->nodes_listed = 1;
	return count;
}

/**
 * cxl_kv_node_get_first() - first memory node, by id
 * @ctx: context
 *
 * Return: the node, or NULL when there is none or sysfs cannot be read.
 */
struct cxl_kv_node *cxl_kv_node_get_first(struct cxl_kv_ctx *ctx)
{
	if (!ctx)
		return NULL;
	if (!ctx->nodes_listed && cxl_kv_refresh_nodes(ctx) < 0)
		return NULL;
	return ctx->nodes;
}

/**
 * cxl_kv_node_get_next() - the memory node after @node
 * @node: a node
 *
 * Return: next node by id, or NULL.
 */
struct cxl_kv_node *cxl_kv_node_get_next(struct cxl_kv_node *node)
{
	return node ? node->next : NULL;
}

/**
 * cxl_kv_node_get_by_id() - memory node with NUMA id @id
 * @ctx: context
 * @id: NUMA node id
 *
 * Return: the node, or NULL.
 */
struct cxl_kv_node *cxl_kv_node_get_by_id(struct cxl_kv_ctx *ctx, int id)
{
	struct cxl_kv_node *n;

	cxl_kv_node_foreach(ctx, n)
		if (n->id == id)
			return n;
	return NULL;
}

/**
 * cxl_kv_get_warm_node() - the node cxl-kv would use as its warm tier
 * @ctx: context
 *
 * The first CPU-less memory node whose memory comes from a CXL region; else
 * the first CPU-less memory node with a dax device; else the first CPU-less
 * memory node.
 *
 * Return: the node, or NULL.
 */
struct cxl_kv_node *cxl_kv_get_warm_node(struct cxl_kv_ctx *ctx)
{
	struct cxl_kv_node *n, *dax = NULL, *any = NULL;

	cxl_kv_node_foreach(ctx, n) {
		if (n->has_cpus)
			continue;
		if (n->origin == CXL_KV_ORIGIN_CXL)
			return n;
		if (!dax && n->dax[0])
			dax = n;
		if (!any)
			any = n;
	}
	return dax ? dax : any;
}

/**
 * cxl_kv_node_get_id() - NUMA id of a node
 * @node: node
 *
 * Return: the id, -EINVAL for NULL.
 */
int cxl_kv_node_get_id(struct cxl_kv_node *node)
{
	return node ? node->id : -EINVAL;
}

/**
 * cxl_kv_node_has_cpus() - whether a node has CPUs
 * @node: node
 *
 * Return: true if its cpulist is not empty.
 */
bool cxl_kv_node_has_cpus(struct cxl_kv_node *node)
{
	return node && node->has_cpus;
}

/**
 * cxl_kv_node_get_size() - memory of a node
 * @node: node
 *
 * Return: total bytes when the node list was read, 0 for NULL.
 */
unsigned long long cxl_kv_node_get_size(struct cxl_kv_node *node)
{
	return node ? node->total : 0;
}

/**
 * cxl_kv_node_get_free() - free memory of a node
 * @node: node
 *
 * Return: free bytes when the node list was read, 0 for NULL.
 */
unsigned long long cxl_kv_node_get_free(struct cxl_kv_node *node)
{
	return node ? node->free : 0;
}

/**
 * cxl_kv_node_get_memory_tier() - the kernel memory tier holding a node
 * @node: node
 *
 * Return: the N of memory_tier<N> (higher is slower), -1 when the kernel
 * has no memory tiering, -EINVAL for NULL.
 */
int cxl_kv_node_get_memory_tier(struct cxl_kv_node *node)
{
	return node ? node->memory_tier : -EINVAL;
}

/**
 * cxl_kv_node_get_origin() - where a node's memory comes from
 * @node: node
 *
 * Return: an enum cxl_kv_origin value.
 */
enum cxl_kv_origin cxl_kv_node_get_origin(struct cxl_kv_node *node)
{
	return node ? node->origin : CXL_KV_ORIGIN_UNKNOWN;
}

/**
 * cxl_kv_node_get_dax() - dax device whose memory kmem onlined on a node
 * @node: node
 *
 * Return: "dax<X>.<Y>", or NULL when none.
 */
const char *cxl_kv_node_get_dax(struct cxl_kv_node *node)
{
	return node && node->dax[0] ? node->dax : NULL;
}

/**
 * cxl_kv_node_get_region() - CXL (or nvdimm) region behind a node's dax device
 * @node: node
 *
 * Return: "region<N>", or NULL when none.
 */
const char *cxl_kv_node_get_region(struct cxl_kv_node *node)
{
	return node && node->region[0] ? node->region : NULL;
}

/**
 * cxl_kv_origin_name() - short name of an origin
 * @origin: value
 *
 * Return: "dram", "cxl", "nvdimm", "hmem" or "unknown".
 */
const char *cxl_kv_origin_name(enum cxl_kv_origin origin)
{
	switch (origin) {
	case CXL_KV_ORIGIN_DRAM:
		return "dram";
	case CXL_KV_ORIGIN_CXL:
		return "cxl";
	case CXL_KV_ORIGIN_NVDIMM:
		return "nvdimm";
	case CXL_KV_ORIGIN_HMEM:
		return "hmem";
	default:
		return "unknown";
	}
}
