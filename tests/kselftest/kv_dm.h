/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kv_dm.h - a device-mapper device for the guest tests, made with the DM
 * ioctls (the guest has no dmsetup): one target over the first
 * kv_dm.sectors of a device, its table switched live (load, then resume:
 * the resume suspends the old table, which lets its I/O finish, and swaps
 * the new one in).
 */
#ifndef CXL_KV_KV_DM_H
#define CXL_KV_KV_DM_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>

/**
 * struct kv_dm - one dm device
 * @ctl: /dev/mapper/control.
 * @name: the dm name.
 * @sectors: length of every table loaded.
 * @dev: its dev_t, once created.
 * @path: a block device node for it, once created.
 */
struct kv_dm {
	int ctl;
	char name[32];
	uint64_t sectors;
	uint64_t dev;
	char path[64];
};

static inline void kv_dm_hdr(const struct kv_dm *d, struct dm_ioctl *io,
			     size_t size)
{
	memset(io, 0, size);
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = size;
	io->data_start = sizeof(*io);
	snprintf(io->name, sizeof(io->name), "%s", d->name);
}

/* A DM ioctl that takes only the name (create, remove, resume, status). */
static inline int kv_dm_simple(const struct kv_dm *d, unsigned long cmd,
			       uint32_t flags, uint64_t *dev)
{
	char buf[16384];
	struct dm_ioctl *io = (struct dm_ioctl *)buf;

	kv_dm_hdr(d, io, sizeof(buf));
	io->flags = flags;
	if (ioctl(d->ctl, cmd, io) < 0)
		return -errno;
	if (dev)
		*dev = io->dev;
	return 0;
}

/* Load one target over the whole device, inactive until resumed. */
static inline int kv_dm_load(const struct kv_dm *d, const char *type,
			     const char *params)
{
	char buf[4096];
	struct dm_ioctl *io = (struct dm_ioctl *)buf;
	struct dm_target_spec *sp = (struct dm_target_spec *)(io + 1);
	char *p = (char *)(sp + 1);

	kv_dm_hdr(d, io, sizeof(buf));
	io->target_count = 1;
	sp->sector_start = 0;
	sp->length = d->sectors;
	snprintf(sp->target_type, sizeof(sp->target_type), "%s", type);
	snprintf(p, 256, "%s", params);
	sp->next = 0;
	io->data_size = (char *)p + strlen(p) + 1 - buf;
	io->data_size = (io->data_size + 7) & ~7U;
	if (ioctl(d->ctl, DM_TABLE_LOAD, io) < 0)
		return -errno;
	return 0;
}

/* Load @type and make it live (resume swaps the inactive table in). */
static inline int kv_dm_switch(const struct kv_dm *d, const char *type,
			       const char *params)
{
	int ret = kv_dm_load(d, type, params);

	return ret ? ret : kv_dm_simple(d, DM_DEV_SUSPEND, 0, NULL);
}

/* Open the control device (made by hand if devtmpfs has none); 0 or -1. */
static inline int kv_dm_open(struct kv_dm *d, const char *name,
			     uint64_t sectors)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->sectors = sectors;
	d->ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (d->ctl >= 0)
		return 0;
	/* misc major 10, MAPPER_CTRL_MINOR 236 */
	unlink("/tmp/cxlkv-dm-control");
	if (mknod("/tmp/cxlkv-dm-control", S_IFCHR | 0600, makedev(10, 236)))
		return -1;
	d->ctl = open("/tmp/cxlkv-dm-control", O_RDWR | O_CLOEXEC);
	return d->ctl < 0 ? -1 : 0;
}

/*
 * Create the device with a live @type table; fills @d->dev and @d->path
 * (/dev/dm-N, or a node made in /tmp).  Returns 0 or -errno.
 */
static inline int kv_dm_create(struct kv_dm *d, const char *type,
			       const char *params)
{
	int ret = kv_dm_simple(d, DM_DEV_CREATE, 0, NULL);

	if (!ret)
		ret = kv_dm_switch(d, type, params);
	if (!ret)
		ret = kv_dm_simple(d, DM_DEV_STATUS, 0, &d->dev);
	snprintf(d->path, sizeof(d->path), "/dev/dm-%u", minor(d->dev));
	if (!ret && access(d->path, F_OK)) {
		snprintf(d->path, sizeof(d->path), "/tmp/cxlkv-dm-%u",
			 minor(d->dev));
		unlink(d->path);
		if (mknod(d->path, S_IFBLK | 0600,
			  makedev(major(d->dev), minor(d->dev))))
			ret = -errno;
	}
	return ret;
}

static inline int kv_dm_remove(const struct kv_dm *d)
{
	return kv_dm_simple(d, DM_DEV_REMOVE, 0, NULL);
}

/*
 * Load a two-target table, inactive until resumed: "linear" over the first
 * @lin sectors of @dev (major:minor), "error" for the rest of @d->sectors.
 * A device of any size whose only real part is at its start.
 */
static inline int kv_dm_load_two(const struct kv_dm *d, const char *dev,
				 uint64_t lin)
{
	char buf[4096];
	struct dm_ioctl *io = (struct dm_ioctl *)buf;
	struct dm_target_spec *s1 = (struct dm_target_spec *)(io + 1), *s2;
	char *p = (char *)(s1 + 1);
	size_t off;

	kv_dm_hdr(d, io, sizeof(buf));
	io->target_count = 2;
	s1->sector_start = 0;
	s1->length = lin;
	snprintf(s1->target_type, sizeof(s1->target_type), "linear");
	snprintf(p, 256, "%s 0", dev);
	off = (sizeof(*s1) + strlen(p) + 1 + 7) & ~7UL;
	s1->next = off;
	s2 = (struct dm_target_spec *)((char *)s1 + off);
	memset(s2, 0, sizeof(*s2));
	s2->sector_start = lin;
	s2->length = d->sectors - lin;
	snprintf(s2->target_type, sizeof(s2->target_type), "error");
	p = (char *)(s2 + 1);
	*p = '\0';
	s2->next = 0;
	io->data_size = (p + 1 - buf + 7) & ~7U;
	return ioctl(d->ctl, DM_TABLE_LOAD, io) < 0 ? -errno : 0;
}

/* "major:minor" of block device @path into @buf; 0 or -1. */
static inline int kv_devt(const char *path, char *buf, size_t len)
{
	struct stat st;

	if (stat(path, &st) || !S_ISBLK(st.st_mode))
		return -1;
	snprintf(buf, len, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

/*
 * A dm device @name of @sectors over block device @dev, live with a
 * "linear" table (leftovers of an earlier run removed first).  @linear and
 * @delay (NULL: not wanted) receive the tables that map @dev whole and that
 * delay its I/O by @delay_ms.  Returns 0, -ENODEV (no @dev or no
 * device-mapper control), or kv_dm_create()'s -errno.
 */
static inline int kv_dm_over(struct kv_dm *d, const char *name,
			     uint64_t sectors, const char *dev,
			     char *linear, size_t llen,
			     char *delay, size_t dlen, int delay_ms)
{
	char devt[32];

	if (kv_devt(dev, devt, sizeof(devt)) || kv_dm_open(d, name, sectors))
		return -ENODEV;
	snprintf(linear, llen, "%s 0", devt);
	if (delay)
		snprintf(delay, dlen, "%s 0 %d %s 0 0", devt, delay_ms, devt);
	kv_dm_remove(d);
	return kv_dm_create(d, "linear", linear);
}

/* Why a program cannot run without kv_dm_over()'s device (its @ret), or NULL. */
static inline const char *kv_dm_why(int ret)
{
	if (ret == -ENODEV)
		return "no CXLKV_NVME2 or no device-mapper control";
	return ret ? "cannot create the dm device" : NULL;
}

/*
 * The "delay" table over the device of @linear (a table that
 * kv_dm_over() made) that holds reads for @rd_ms and writes for @wr_ms.
 */
static inline void kv_dm_delay_table(char *buf, size_t len, const char *linear,
				     int rd_ms, int wr_ms)
{
	int n = (int)strcspn(linear, " ");

	snprintf(buf, len, "%.*s 0 %d %.*s 0 %d", n, linear, rd_ms, n, linear,
		 wr_ms);
}

#endif /* CXL_KV_KV_DM_H */
