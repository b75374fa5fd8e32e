// SPDX-License-Identifier: GPL-2.0
/*
 * cmd.c - the command table, its dispatcher, and the control device's
 * commands.
 *
 * kv_cmds[] has one entry per command, indexed by its nr: the whole ioctl
 * number (which fixes the size of its struct), its handler, and where and
 * how it may run (KV_CMD_* in kv.h).  Every transport looks a command up
 * with kv_cmd_find(), copies _IOC_SIZE() bytes in, runs it with
 * kv_cmd_call() and copies the struct back as the entry says: the ioctls
 * of /dev/cxl_kv (main.c) and of a space fd (space.c), and uring_cmd on
 * either (uring.c).  Each entry is checked at compile time against its
 * UAPI number (KV_CMD_CHECK).
 *
 * A space's commands on blocks are in cmd_range.c, PIN and PARAMS in
 * cmd_pin.c, the layer pipeline's in pipe.c.
 */
#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/nospec.h>
#include <linux/string.h>

#include "kv.h"
#include "cmd.h"

/* The features of this build: uring_cmd needs a kernel with io_uring. */
#define KV_FEATURES	(CXL_KV_F_ALL &					\
			 ~(IS_ENABLED(CONFIG_IO_URING) ? 0 : CXL_KV_F_URING_CMD))

static long kv_stats_cmd(struct kv_stats *s, struct cxl_kv_stats *out)
{
	if (out->flags & ~CXL_KV_STATS_F_ALL || out->pad ||
	    !kv_zero(out->reserved))
		return -EINVAL;
	kv_stats_fill(s, out);
	return 0;
}

/* ---- the control device: handlers of KV_CMD_CTL entries ---- */

static long kv_ctl_get_features(void *arg, struct file **newfile)
{
	struct cxl_kv_features *f = arg;

	if (!kv_zero(f->reserved))
		return -EINVAL;
	f->version = CXL_KV_VERSION;
	f->page_size = PAGE_SIZE;
	f->features = KV_FEATURES;
	return 0;
}

static long kv_ctl_info(void *arg, struct file **newfile)
{
	struct cxl_kv_info *info = arg;

	if (!kv_zero(info->reserved))
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	mutex_lock(&kv_ctl_lock);
	kv_info(info);
	mutex_unlock(&kv_ctl_lock);
	info->features = KV_FEATURES;
	return 0;
}

/* KV_CMD_ADMIN: kv_cmd_call() has checked CAP_SYS_ADMIN. */
static long kv_ctl_attach(void *arg, struct file **newfile)
{
	struct cxl_kv_attach *a = arg;
	long ret;

	if (!kv_zero(a->reserved))
		return -EINVAL;
	mutex_lock(&kv_ctl_lock);
	ret = kv_attach(a);
	mutex_unlock(&kv_ctl_lock);
	return ret;
}

/* KV_CMD_ADMIN: kv_cmd_call() has checked CAP_SYS_ADMIN. */
static long kv_ctl_detach(void *arg, struct file **newfile)
{
	struct cxl_kv_detach *d = arg;
	long ret;

	if (d->flags || !kv_zero(d->reserved))
		return -EINVAL;
	mutex_lock(&kv_ctl_lock);
	ret = kv_detach();
	mutex_unlock(&kv_ctl_lock);
	return ret;
}

static long kv_ctl_space_create(void *arg, struct file **newfile)
{
	struct cxl_kv_space_create *c = arg;
	long ret;

	/*
	 * reserved[0]: the cold format, checked with the geometry;
	 * reserved[1..2]: CXL_KV_SPACE_F_SHARE, checked by space.c
	 */
	if (c->reserved[3] ||
	    (!(c->flags & CXL_KV_SPACE_F_SHARE) &&
	     (c->reserved[1] || c->reserved[2])))
		return -EINVAL;
	mutex_lock(&kv_ctl_lock);
	ret = kv_space_create(c, newfile);
	mutex_unlock(&kv_ctl_lock);
	return ret;
}

static long kv_ctl_global_stats(void *arg, struct file **newfile)
{
	return kv_stats_cmd(&kv_gstats, arg);
}

static long kv_ctl_list(void *arg, struct file **newfile)
{
	return kv_list(arg);
}

/* ---- a space fd: handlers of KV_CMD_SPACE entries ---- */

static long kv_sp_hints(struct kv_space *sp, void *arg, struct kv_async *async)
{
	return kv_cmd_hints(sp, arg);
}

static long kv_sp_access(struct kv_space *sp, void *arg,
			 struct kv_async *async)
{
	return kv_cmd_access(sp, arg);
}

/*
 * KV_CMD_ASYNC | KV_CMD_TRY: @async is the uring completion, NULL for the
 * ioctl.
 */
static long kv_sp_prefetch(struct kv_space *sp, void *arg,
			   struct kv_async *async)
{
	return kv_cmd_prefetch(sp, arg, async);
}

static long kv_sp_promote(struct kv_space *sp, void *arg,
			  struct kv_async *async)
{
	return kv_cmd_promote(sp, arg);
}

static long kv_sp_demote(struct kv_space *sp, void *arg,
			 struct kv_async *async)
{
	return kv_cmd_demote(sp, arg);
}

static long kv_sp_pin(struct kv_space *sp, void *arg, struct kv_async *async)
{
	return kv_cmd_pin(sp, arg, true);
}

static long kv_sp_unpin(struct kv_space *sp, void *arg, struct kv_async *async)
{
	return kv_cmd_pin(sp, arg, false);
}

static long kv_sp_residency(struct kv_space *sp, void *arg,
			    struct kv_async *async)
{
	return kv_cmd_residency(sp, arg);
}

static long kv_sp_params_get(struct kv_space *sp, void *arg,
			     struct kv_async *async)
{
	return kv_cmd_params_get(sp, arg);
}

static long kv_sp_params_set(struct kv_space *sp, void *arg,
			     struct kv_async *async)
{
	return kv_cmd_params_set(sp, arg);
}

static long kv_sp_stats(struct kv_space *sp, void *arg, struct kv_async *async)
{
	return kv_stats_cmd(&sp->stats, arg);
}

static long kv_sp_info(struct kv_space *sp, void *arg, struct kv_async *async)
{
	struct cxl_kv_space_info *info = arg;

	if (info->pad || !kv_zero(info->reserved))
		return -EINVAL;
	*info = sp->geom;
	return 0;
}

/* e2e3: the layer pipeline (pipe.c) */
static long kv_sp_layer_begin(struct kv_space *sp, void *arg,
			      struct kv_async *async)
{
	/* KV_CMD_TRY: @async is the uring command, NULL for the ioctl. */
	return kv_cmd_layer_begin(sp, arg, async && async->nowait);
}

static long kv_sp_pipe_stats(struct kv_space *sp, void *arg,
			     struct kv_async *async)
{
	return kv_cmd_pipe_stats(sp, arg);
}

/* ---- the table ---- */

/*
 * Compile-time checks of an entry (a non-zero value breaks the build): its
 * number is _IOWR(CXL_KV_IOC_TYPE, nr, @type), so _IOC_SIZE() is the size
 * of its struct; the struct fits the transports' buffers; and its side
 * agrees with its nr (0x00-0x1f: the control device, 0x20-0x3f: a space).
 */
#define KV_CMD_CHECK(c, type, fl)					\
	BUILD_BUG_ON_ZERO(_IOC_SIZE(c) != sizeof(type) ||		\
			  sizeof(type) > KV_CMD_MAX_SIZE ||		\
			  _IOC_TYPE(c) != CXL_KV_IOC_TYPE ||		\
			  _IOC_DIR(c) != (_IOC_READ | _IOC_WRITE) ||	\
			  _IOC_NR(c) >= KV_CMD_NR ||			\
			  !((fl) & KV_CMD_CTL) != (_IOC_NR(c) >= 0x20))

#define KV_CMD_ENTRY(c, type, fl, field, fn)				\
	[_IOC_NR(c)] = {						\
		.cmd = (c) + KV_CMD_CHECK(c, type, fl),			\
		.flags = (fl),						\
		.field = (fn),						\
	}

/* Every command of either side comes over ioctl and over uring_cmd. */
#define KV_CTL(name, type, fl, fn)					\
	KV_CMD_ENTRY(CXL_KV_##name, type, KV_CMD_CTL | KV_CMD_URING | (fl),	\
		     ctl, fn)
/* A space command's struct goes back to user space failed or not. */
#define KV_SPACE(name, type, fl, fn)					\
	KV_CMD_ENTRY(CXL_KV_##name, type,				\
		     KV_CMD_SPACE | KV_CMD_URING | KV_CMD_OUT_ERR | (fl),	\
		     space, fn)

static const struct kv_cmd_desc kv_cmds[KV_CMD_NR] = {
	KV_CTL(GET_FEATURES, struct cxl_kv_features, KV_CMD_INLINE,
	       kv_ctl_get_features),
	KV_CTL(INFO, struct cxl_kv_info, 0, kv_ctl_info),
	KV_CTL(ATTACH, struct cxl_kv_attach, KV_CMD_ADMIN, kv_ctl_attach),
	KV_CTL(DETACH, struct cxl_kv_detach, KV_CMD_ADMIN, kv_ctl_detach),
	KV_CTL(SPACE_CREATE, struct cxl_kv_space_create, 0,
	       kv_ctl_space_create),
	KV_CTL(GLOBAL_STATS, struct cxl_kv_stats, KV_CMD_INLINE,
	       kv_ctl_global_stats),
	KV_CTL(LIST, struct cxl_kv_list, 0, kv_ctl_list),

	KV_SPACE(HINTS, struct cxl_kv_hints, KV_CMD_INLINE, kv_sp_hints),
	KV_SPACE(ACCESS, struct cxl_kv_ranges, KV_CMD_INLINE, kv_sp_access),
	KV_SPACE(PREFETCH, struct cxl_kv_prefetch, KV_CMD_ASYNC | KV_CMD_TRY,
		 kv_sp_prefetch),
	KV_SPACE(PROMOTE, struct cxl_kv_ranges, 0, kv_sp_promote),
	KV_SPACE(DEMOTE, struct cxl_kv_ranges, 0, kv_sp_demote),
	KV_SPACE(PIN, struct cxl_kv_ranges, 0, kv_sp_pin),
	KV_SPACE(UNPIN, struct cxl_kv_ranges, 0, kv_sp_unpin),
	KV_SPACE(RESIDENCY, struct cxl_kv_residency, KV_CMD_INLINE,
		 kv_sp_residency),
	KV_SPACE(PARAMS_GET, struct cxl_kv_params, KV_CMD_INLINE,
		 kv_sp_params_get),
	KV_SPACE(PARAMS_SET, struct cxl_kv_params, KV_CMD_INLINE,
		 kv_sp_params_set),
	KV_SPACE(SPACE_STATS, struct cxl_kv_stats, KV_CMD_INLINE, kv_sp_stats),
	KV_SPACE(SPACE_INFO, struct cxl_kv_space_info, KV_CMD_INLINE,
		 kv_sp_info),
	KV_SPACE(LAYER_BEGIN, struct cxl_kv_layer_begin, KV_CMD_TRY,
		 kv_sp_layer_begin),
	KV_SPACE(PIPE_STATS, struct cxl_kv_pipe_stats, KV_CMD_INLINE,
		 kv_sp_pipe_stats),
};

/**
 * kv_cmd_find() - the table entry of a command.
 * @cmd: the ioctl number (or uring_cmd's cmd_op) as user space gave it.
 * @where: KV_CMD_CTL (/dev/cxl_kv) or KV_CMD_SPACE (a space fd).
 *
 * The whole number must match: a known nr with another size, direction or
 * type is unknown, as is a command of the other side.
 *
 * Return: the entry, or NULL (the transport returns -ENOTTY).
 */
const struct kv_cmd_desc *kv_cmd_find(unsigned int cmd, unsigned int where)
{
	unsigned int nr = _IOC_NR(cmd);
	const struct kv_cmd_desc *d;

	if (nr >= KV_CMD_NR)
		return NULL;
	d = &kv_cmds[array_index_nospec(nr, KV_CMD_NR)];
	if (d->cmd != cmd || !(d->flags & where))
		return NULL;
	return d;
}

/**
 * kv_cmd_call() - run a command on a kernel copy of its struct.
 * @d: its entry (kv_cmd_find()).
 * @sp: the space of a KV_CMD_SPACE command, else NULL.
 * @arg: the struct (in and out), _IOC_SIZE(@d->cmd) bytes.
 * @async: the uring command, given to KV_CMD_ASYNC and KV_CMD_TRY commands
 *	only; or NULL.
 * @newfile: out for SPACE_CREATE: the file to install once copied out.
 *
 * KV_CMD_ADMIN is checked first, before the handler looks at the struct.
 *
 * Return: 0, the reserved fd (SPACE_CREATE), -EIOCBQUEUED (only with
 * @async), or -errno.
 */
long kv_cmd_call(const struct kv_cmd_desc *d, struct kv_space *sp, void *arg,
		 struct kv_async *async, struct file **newfile)
{
	if (d->flags & KV_CMD_ADMIN && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (d->flags & KV_CMD_CTL)
		return d->ctl(arg, newfile);
	return d->space(sp, arg,
			d->flags & (KV_CMD_ASYNC | KV_CMD_TRY) ? async : NULL);
}
