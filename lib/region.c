// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * region.c - make a CXL RAM region and hand a dax device to kmem, through
 * sysfs (ndctl 76.1's "cxl create-region -t ram" is not supported yet).
 *
 * The region sequence, for one memdev with interleave 1:
 *   endpoint decoder (the free one with the lowest id: the kernel hands out
 *   DPA in decoder order):  mode=ram, dpa_size=<memdev ram size>
 *   root decoder:     create_ram_region -> regionN (read, then write back)
 *   regionN:          interleave_ways=1, interleave_granularity=<root's>,
 *                     size, target0=<endpoint decoder>, commit=1
 *   cxl_region driver: bind regionN  -> dax_regionN/daxN.0
 * The dax step is libdaxctl's (daxctl reconfigure-device --mode=system-ram
 * --no-movable): disable the device, enable it in system-ram mode (kmem,
 * loaded by libdaxctl), online its memory with
 * daxctl_memory_online_no_movable() (ZONE_NORMAL: cxl_kv allocates with
 * __GFP_THISNODE and without __GFP_MOVABLE).  libdaxctl reads /sys only: a
 * context with another sysfs root (the unit tests' fake trees) takes the
 * same steps through that tree's files (unbind, kmem new_id and bind,
 * online_kernel per memory block).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <daxctl/libdaxctl.h>

#include "private.h"

static int attr_path_exists(struct cxl_kv_ctx *ctx, const char *fmt,
			    const char *name, const char *attr)
{
	char path[PATH_MAX];

	if (cxl_kv__sysfs_path(ctx, path, sizeof(path), fmt, name, attr))
		return 0;
	return access(path, F_OK) == 0;
}

static int link_basename(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	char *b;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	b = strrchr(buf, '/');
	return cxl_kv__copy_name(out, len, b ? b + 1 : buf);
}

/* A free endpoint decoder of @memdev, and the first root decoder that can
 * create RAM regions. */
static int find_decoders(struct cxl_kv_ctx *ctx, const char *memdev,
			 char *ep, char *root, size_t len)
{
	char path[PATH_MAX], buf[64];
	int best_port = 0, best_id = 0;
	struct dirent *de;
	DIR *d;

	ep[0] = root[0] = '\0';
	if (cxl_kv__sysfs_path(ctx, path, sizeof(path), "bus/cxl/devices"))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d) {
		err(ctx, "%s: %s (is cxl_acpi loaded?)\n", path, strerror(errno));
		return -ENODEV;
	}
	while ((de = readdir(d))) {
		unsigned long long sz;
		int port, id;

		if (strncmp(de->d_name, "decoder", 7))
			continue;
		if (!root[0] && attr_path_exists(ctx, "bus/cxl/devices/%s/%s",
						 de->d_name, "create_ram_region")) {
			cxl_kv__copy_name(root, len, de->d_name);
			continue;
		}
		if (!attr_path_exists(ctx, "bus/cxl/devices/%s/%s",
					       de->d_name, "dpa_size"))
			continue;
		/* the endpoint port's uport is the memdev */
		if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "bus/cxl/devices/%s/../uport", de->d_name) ||
		    link_basename(path, buf, sizeof(buf)) || strcmp(buf, memdev))
			continue;
		if (!cxl_kv__sysfs_path(ctx, path, sizeof(path),
					"bus/cxl/devices/%s/dpa_size", de->d_name) &&
		    !cxl_kv__read_ull(ctx, path, &sz) && sz != 0)
			continue;	/* already in use */
		/*
		 * The kernel allocates DPA in decoder order: take the free
		 * endpoint decoder with the lowest id (decoder2.0 before 2.3).
		 */
		if (sscanf(de->d_name, "decoder%d.%d", &port, &id) != 2 ||
		    (ep[0] && (port > best_port ||
			       (port == best_port && id > best_id))))
			continue;
		if (cxl_kv__copy_name(ep, len, de->d_name))
			continue;
		best_port = port;
		best_id = id;
	}
	closedir(d);
	if (!root[0]) {
		err(ctx, "no root decoder with create_ram_region\n");
		return -ENODEV;
	}
	if (!ep[0]) {
		err(ctx, "no free endpoint decoder for %s\n", memdev);
		return -EBUSY;
	}
	return 0;
}

#define W(rel, ...)							\
	do {								\
		rc = cxl_kv__sysfs_path(ctx, path, sizeof(path), rel,	\
					__VA_ARGS__);			\
		if (!rc)						\
			rc = cxl_kv__write_attr(ctx, path, val);	\
		if (rc)							\
			return rc;					\
	} while (0)

/**
 * cxl_kv_region_create_ram() - make a CXL RAM region of a whole memdev
 * @ctx: context
 * @memdev: CXL memory device name, e.g. "mem0"
 * @region: receives the region name ("region0")
 * @len: size of @region
 *
 * Programs a free endpoint decoder of @memdev in ram mode over the memdev's
 * whole volatile capacity, creates a region on the first root decoder that
 * can hold RAM, with interleave 1, commits it and binds it to cxl_region,
 * which creates its dax region and dax device.  Needs root and the cxl_acpi,
 * cxl_pci, cxl_mem modules.
 *
 * Return: 0, -EINVAL, -ENODEV (no CXL bus, no root decoder, no volatile
 * capacity), -EBUSY (no free endpoint decoder), or the -errno of the sysfs
 * write that failed.
 */
int cxl_kv_region_create_ram(struct cxl_kv_ctx *ctx, const char *memdev,
			     char *region, size_t len)
{
	char ep[64], root[64], path[PATH_MAX], val[64], gran[32];
	unsigned long long size;
	int rc;

	if (!ctx || !memdev || !*memdev || strchr(memdev, '/') || !region ||
	    len == 0)
		return -EINVAL;
	rc = cxl_kv__sysfs_path(ctx, path, sizeof(path),
				"bus/cxl/devices/%s/ram/size", memdev);
	if (rc)
		return rc;
	rc = cxl_kv__read_ull(ctx, path, &size);
	if (rc || size == 0) {
		err(ctx, "%s has no volatile capacity\n", memdev);
		return -ENODEV;
	}
	rc = find_decoders(ctx, memdev, ep, root, sizeof(ep));
	if (rc)
		return rc;
	info(ctx, "%s: %llu bytes, endpoint %s, root %s\n", memdev, size, ep,
	     root);

	snprintf(val, sizeof(val), "ram");
	W("bus/cxl/devices/%s/mode", ep);
	snprintf(val, sizeof(val), "%llu", size);
	W("bus/cxl/devices/%s/dpa_size", ep);

	rc = cxl_kv__sysfs_path(ctx, path, sizeof(path),
				"bus/cxl/devices/%s/create_ram_region", root);
	if (!rc)
		rc = cxl_kv__read_attr(ctx, path, val, sizeof(val));
	if (rc)
		return rc;
	if (strncmp(val, "region", 6)) {
		err(ctx, "%s/create_ram_region gave '%s'\n", root, val);
		return -EIO;
	}
	snprintf(region, len, "%s", val);
	W("bus/cxl/devices/%s/create_ram_region", root);

	rc = cxl_kv__sysfs_path(ctx, path, sizeof(path),
				"bus/cxl/devices/%s/interleave_granularity", root);
	if (!rc)
		rc = cxl_kv__read_attr(ctx, path, gran, sizeof(gran));
	if (rc)
		return rc;
	snprintf(val, sizeof(val), "1");
	W("bus/cxl/devices/%s/interleave_ways", region);
	snprintf(val, sizeof(val), "%s", gran);
	W("bus/cxl/devices/%s/interleave_granularity", region);
	snprintf(val, sizeof(val), "%llu", size);
	W("bus/cxl/devices/%s/size", region);
	snprintf(val, sizeof(val), "%s", ep);
	W("bus/cxl/devices/%s/target0", region);
	snprintf(val, sizeof(val), "1");
	W("bus/cxl/devices/%s/commit", region);
	snprintf(val, sizeof(val), "%s", region);
	W("bus/cxl/drivers/cxl_region/bind%s", "");
	info(ctx, "%s committed and bound\n", region);
	return 0;
}

/* Online every offline memory block of @node into ZONE_NORMAL. */
static int online_node_blocks(struct cxl_kv_ctx *ctx, int node)
{
	char path[PATH_MAX], state[32], val[32];
	struct dirent *de;
	int rc = 0, onlined = 0;
	DIR *d;

	if (cxl_kv__sysfs_path(ctx, path, sizeof(path), "devices/system/memory"))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "memory", 6) ||
		    de->d_name[6] < '0' || de->d_name[6] > '9')
			continue;
		if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "devices/system/memory/%s/node%d",
				       de->d_name, node) || access(path, F_OK))
			continue;
		if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "devices/system/memory/%s/state",
				       de->d_name) ||
		    cxl_kv__read_attr(ctx, path, state, sizeof(state)))
			continue;
		if (strcmp(state, "offline"))
			continue;
		snprintf(val, sizeof(val), "online_kernel");
		rc = cxl_kv__write_attr(ctx, path, val);
		if (rc)
			break;
		onlined++;
	}
	closedir(d);
	info(ctx, "node%d: %d memory blocks onlined\n", node, onlined);
	return rc;
}

/* The dax device named @dax, or NULL. */
static struct daxctl_dev *daxctl_find(struct daxctl_ctx *dctx, const char *dax)
{
	struct daxctl_region *region;
	struct daxctl_dev *dev;

	daxctl_region_foreach(dctx, region)
		daxctl_dev_foreach(region, dev)
			if (!strcmp(daxctl_dev_get_devname(dev), dax))
				return dev;
	return NULL;
}

/* cxl_kv_dax_online() on the live /sys: libdaxctl's system-ram sequence. */
static int dax_online_daxctl(struct cxl_kv_ctx *ctx, const char *dax, int *node)
{
	struct daxctl_memory *mem;
	struct daxctl_ctx *dctx;
	struct daxctl_dev *dev;
	int rc, tn;

	rc = daxctl_new(&dctx);
	if (rc)
		return rc < 0 ? rc : -ENOMEM;
	dev = daxctl_find(dctx, dax);
	if (!dev) {
		err(ctx, "%s: no such dax device\n", dax);
		rc = -ENOENT;
		goto out_unref;
	}
	tn = daxctl_dev_get_target_node(dev);
	mem = daxctl_dev_get_memory(dev);
	if (!mem) {
		/* devdax (or unbound): reconfigure into system-ram */
		if (daxctl_dev_is_enabled(dev)) {
			rc = daxctl_dev_disable(dev);
			if (rc) {
				err(ctx, "%s: disable: %s\n", dax, strerror(-rc));
				goto out_unref;
			}
		}
		rc = daxctl_dev_enable_ram(dev);
		if (rc) {
			err(ctx, "%s: system-ram: %s (kmem?)\n", dax, strerror(-rc));
			goto out_unref;
		}
		mem = daxctl_dev_get_memory(dev);
		if (!mem) {
			rc = -ENXIO;
			goto out_unref;
		}
	}
	rc = daxctl_memory_online_no_movable(mem);
	if (rc < 0) {
		err(ctx, "%s: online: %s\n", dax, strerror(-rc));
		goto out_unref;
	}
	info(ctx, "%s: node%d: %d memory sections onlined\n", dax, tn, rc);
	rc = 0;
	if (node)
		*node = tn;
	cxl_kv__free_nodes(ctx);
out_unref:
	daxctl_unref(dctx);
	return rc;
}

/**
 * cxl_kv_dax_online() - turn a dax device into node memory (ZONE_NORMAL)
 * @ctx: context
 * @dax: dax device name, e.g. "dax0.0"
 * @node: receives the NUMA node the memory is on (may be NULL)
 *
 * If the device is not in system-ram mode (bound to kmem) it is reconfigured
 * into it; then its offline memory is onlined into ZONE_NORMAL.  On /sys
 * through libdaxctl (as daxctl reconfigure-device --mode=system-ram
 * --no-movable), on another sysfs root through that tree's files.
 * Already-online memory is left as it is.  Needs root and the kmem module.
 *
 * Return: 0, -EINVAL, -ENOENT (no such dax device), -ENODEV (kmem not
 * loaded), or the -errno of the sysfs write that failed.
 */
int cxl_kv_dax_online(struct cxl_kv_ctx *ctx, const char *dax, int *node)
{
	char path[PATH_MAX], drv[64], val[64];
	unsigned long long tn;
	int rc;

	if (!ctx || !dax || strncmp(dax, "dax", 3) || strchr(dax, '/'))
		return -EINVAL;
	if (!strcmp(ctx->sysfs_root, "/sys"))
		return dax_online_daxctl(ctx, dax, node);
	rc = cxl_kv__sysfs_path(ctx, path, sizeof(path),
				"bus/dax/devices/%s/target_node", dax);
	if (rc)
		return rc;
	rc = cxl_kv__read_ull(ctx, path, &tn);
	if (rc) {
		err(ctx, "%s: no such dax device\n", dax);
		return -ENOENT;
	}
	if (cxl_kv__sysfs_path(ctx, path, sizeof(path), "bus/dax/drivers/kmem") ||
	    access(path, F_OK)) {
		err(ctx, "no kmem driver: modprobe kmem\n");
		return -ENODEV;
	}
	snprintf(val, sizeof(val), "%s", dax);
	rc = cxl_kv__sysfs_path(ctx, path, sizeof(path),
				"bus/dax/devices/%s/driver", dax);
	if (rc)
		return rc;
	if (link_basename(path, drv, sizeof(drv)))
		drv[0] = '\0';
	if (strcmp(drv, "kmem")) {
		if (drv[0])
			W("bus/dax/drivers/%s/unbind", drv);
		/* new_id makes kmem match; harmless if it already does */
		if (!cxl_kv__sysfs_path(ctx, path, sizeof(path),
					"bus/dax/drivers/kmem/new_id"))
			cxl_kv__write_attr(ctx, path, val);
		if (!cxl_kv__sysfs_path(ctx, path, sizeof(path),
					"bus/dax/devices/%s/driver", dax) &&
		    (link_basename(path, drv, sizeof(drv)) || strcmp(drv, "kmem")))
			W("bus/dax/drivers/kmem/bind%s", "");
	}
	rc = online_node_blocks(ctx, (int)tn);
	if (rc)
		return rc;
	if (node)
		*node = (int)tn;
	cxl_kv__free_nodes(ctx);
	return 0;
}

/* ------------------------------------------------ discovery (read-only) */

/**
 * cxl_kv_memdev_get_ram_size() - a CXL memdev's volatile capacity
 * @ctx: context (its sysfs root is read)
 * @memdev: CXL memory device name, e.g. "mem0"
 * @size: receives the bytes of its ram partition (0 when it has none)
 *
 * Return: 0; -EINVAL (NULL, not a memdev name); -ENODEV (no such memdev
 * under bus/cxl/devices); -ENOENT (the memdev has no ram partition).
 */
int cxl_kv_memdev_get_ram_size(struct cxl_kv_ctx *ctx, const char *memdev,
			       unsigned long long *size)
{
	char path[PATH_MAX];

	if (!ctx || !memdev || !size || strncmp(memdev, "mem", 3) ||
	    strchr(memdev, '/'))
		return -EINVAL;
	*size = 0;
	if (!attr_path_exists(ctx, "bus/cxl/devices/%s%s", memdev, ""))
		return -ENODEV;
	if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
			       "bus/cxl/devices/%s/ram/size", memdev) ||
	    cxl_kv__read_ull(ctx, path, size))
		return -ENOENT;
	return 0;
}

/**
 * cxl_kv_memdev_first_ram() - the first CXL memdev with volatile capacity
 * @ctx: context (its sysfs root is read)
 * @memdev: receives its name ("mem0")
 * @len: size of @memdev
 *
 * Return: 0, -EINVAL, -ENODEV (no CXL bus, or no memdev with a non-empty
 * ram partition whose name fits @len).
 */
int cxl_kv_memdev_first_ram(struct cxl_kv_ctx *ctx, char *memdev, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int found = -ENODEV;
	DIR *d;

	if (!ctx || !memdev || !len)
		return -EINVAL;
	if (cxl_kv__sysfs_path(ctx, path, sizeof(path), "bus/cxl/devices"))
		return -ENODEV;
	d = opendir(path);
	if (!d)
		return -ENODEV;
	while ((de = readdir(d)) && found) {
		unsigned long long sz;

		if (strncmp(de->d_name, "mem", 3) ||
		    cxl_kv_memdev_get_ram_size(ctx, de->d_name, &sz) || !sz)
			continue;
		if (!cxl_kv__copy_name(memdev, len, de->d_name))
			found = 0;
	}
	closedir(d);
	return found;
}

/**
 * cxl_kv_memdev_get_region() - the region already made of a CXL memdev
 * @ctx: context (its sysfs root is read)
 * @memdev: CXL memory device name, e.g. "mem0"
 * @region: receives the region's name ("region0")
 * @len: size of @region
 *
 * The region whose target0 is an endpoint decoder of @memdev (its port's
 * uport is the memdev), as cxl_kv_region_create_ram() makes them.
 *
 * Return: 0, -EINVAL, -ENOENT (no region of @memdev).
 */
int cxl_kv_memdev_get_region(struct cxl_kv_ctx *ctx, const char *memdev,
			     char *region, size_t len)
{
	char path[PATH_MAX], dec[64], up[64];
	struct dirent *de;
	DIR *d;

	if (!ctx || !memdev || !region || !len)
		return -EINVAL;
	if (cxl_kv__sysfs_path(ctx, path, sizeof(path), "bus/cxl/devices"))
		return -ENOENT;
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "region", 6))
			continue;
		if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "bus/cxl/devices/%s/target0", de->d_name) ||
		    cxl_kv__read_attr(ctx, path, dec, sizeof(dec)) || !dec[0] ||
		    strchr(dec, '/'))
			continue;
		/* the endpoint port's uport is the memdev */
		if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "bus/cxl/devices/%s/../uport", dec) ||
		    link_basename(path, up, sizeof(up)) || strcmp(up, memdev) ||
		    cxl_kv__copy_name(region, len, de->d_name))
			continue;
		closedir(d);
		return 0;
	}
	closedir(d);
	return -ENOENT;
}

/**
 * cxl_kv_region_get_dax() - the dax device of a CXL or nvdimm region
 * @ctx: context (its sysfs root is read)
 * @region: the region's name, e.g. "region0"
 * @dax: receives the dax device's name ("dax0.0")
 * @len: size of @dax
 *
 * The dax device under bus/dax/devices whose sysfs path runs through the
 * region.  cxl_region creates it asynchronously after the region is bound:
 * poll for it.
 *
 * Return: 0, -EINVAL, -ENOENT (none, yet).
 */
int cxl_kv_region_get_dax(struct cxl_kv_ctx *ctx, const char *region,
			  char *dax, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX], needle[80];
	struct dirent *de;
	DIR *d;

	if (!ctx || !region || !dax || !len || strchr(region, '/') ||
	    strlen(region) > 64)
		return -EINVAL;
	snprintf(needle, sizeof(needle), "/%s/", region);
	if (cxl_kv__sysfs_path(ctx, path, sizeof(path), "bus/dax/devices"))
		return -ENOENT;
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "dax", 3) ||
		    cxl_kv__sysfs_path(ctx, path, sizeof(path),
				       "bus/dax/devices/%s", de->d_name))
			continue;
		if (realpath(path, real) && strstr(real, needle) &&
		    !cxl_kv__copy_name(dax, len, de->d_name)) {
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -ENOENT;
}

/**
 * cxl_kv_dax_get_node() - the NUMA node a dax device's memory belongs to
 * @ctx: context (its sysfs root is read)
 * @dax: dax device name, e.g. "dax0.0"
 *
 * Return: the node id (its target_node); -EINVAL (not a dax device name, or
 * a device without a node); -ENOENT (no such dax device).
 */
int cxl_kv_dax_get_node(struct cxl_kv_ctx *ctx, const char *dax)
{
	char path[PATH_MAX], buf[32];
	char *end;
	long v;

	if (!ctx || !dax || strncmp(dax, "dax", 3) || strchr(dax, '/'))
		return -EINVAL;
	if (cxl_kv__sysfs_path(ctx, path, sizeof(path),
			       "bus/dax/devices/%s/target_node", dax) ||
	    cxl_kv__read_attr(ctx, path, buf, sizeof(buf)))
		return -ENOENT;
	v = strtol(buf, &end, 10);
	return end == buf || v < 0 || v > INT_MAX ? -EINVAL : (int)v;
}
