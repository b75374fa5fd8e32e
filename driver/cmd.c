// SPDX-License-Identifier: GPL-2.0
/*
 * cmd.c - the dispatcher both transports (ioctl in space.c, uring_cmd in
 * uring.c) call with the command struct already copied into kernel memory,
 * and the control device's commands.  A space's commands on blocks are in
 * cmd_range.c, PIN and PARAMS in cmd_pin.c.
 */
#include <linux/capability.h>
#include <linux/string.h>

#include "kv.h"
#include "cmd.h"

/* The features of this build: uring_cmd needs a kernel with io_uring. */
#define KV_FEATURES	(CXL_KV_F_ALL &					\
			 ~(IS_ENABLED(CONFIG_IO_URING) ? 0 : CXL_KV_F_URING_CMD))

static int kv_stats_cmd(struct kv_stats *s, struct cxl_kv_stats *out)
{
	if (out->flags & ~CXL_KV_STATS_F_ALL || out->pad ||
	    !kv_zero(out->reserved))
		return -EINVAL;
	kv_stats_fill(s, out);
	return 0;
}

/**
 * kv_cmd_size() - size of the struct of a known command, else 0.
 * @cmd: ioctl number.
 */
size_t kv_cmd_size(unsigned int cmd)
{
	switch (cmd) {
	case CXL_KV_GET_FEATURES:
	case CXL_KV_INFO:
	case CXL_KV_ATTACH:
	case CXL_KV_DETACH:
	case CXL_KV_SPACE_CREATE:
	case CXL_KV_GLOBAL_STATS:
	case CXL_KV_HINTS:
	case CXL_KV_ACCESS:
	case CXL_KV_PREFETCH:
	case CXL_KV_PROMOTE:
	case CXL_KV_DEMOTE:
	case CXL_KV_PIN:
	case CXL_KV_UNPIN:
	case CXL_KV_RESIDENCY:
	case CXL_KV_PARAMS_GET:
	case CXL_KV_PARAMS_SET:
	case CXL_KV_SPACE_STATS:
	case CXL_KV_SPACE_INFO:
	case CXL_KV_LIST:
	case CXL_KV_LAYER_BEGIN:
	case CXL_KV_PIPE_STATS:
		return _IOC_SIZE(cmd);
	default:
		return 0;
	}
}

/**
 * kv_space_cmd() - run a space command on a kernel copy of its struct.
 * @sp: space.
 * @cmd: ioctl number.
 * @arg: the struct (in and out).
 * @async: uring completion for PREFETCH, or NULL.
 *
 * Return: 0, -EIOCBQUEUED (only with @async), or -errno.
 */
long kv_space_cmd(struct kv_space *sp, unsigned int cmd, void *arg,
		  struct kv_async *async)
{
	switch (cmd) {
	case CXL_KV_HINTS:
		return kv_cmd_hints(sp, arg);
	case CXL_KV_ACCESS:
		return kv_cmd_access(sp, arg);
	case CXL_KV_PREFETCH:
		return kv_cmd_prefetch(sp, arg, async);
	case CXL_KV_PROMOTE:
		return kv_cmd_promote(sp, arg);
	case CXL_KV_DEMOTE:
		return kv_cmd_demote(sp, arg);
	case CXL_KV_PIN:
		return kv_cmd_pin(sp, arg, true);
	case CXL_KV_UNPIN:
		return kv_cmd_pin(sp, arg, false);
	case CXL_KV_RESIDENCY:
		return kv_cmd_residency(sp, arg);
	case CXL_KV_PARAMS_GET:
		return kv_cmd_params_get(sp, arg);
	case CXL_KV_PARAMS_SET:
		return kv_cmd_params_set(sp, arg);
	case CXL_KV_SPACE_STATS:
		return kv_stats_cmd(&sp->stats, arg);
	case CXL_KV_SPACE_INFO: {
		struct cxl_kv_space_info *info = arg;

		if (info->pad || !kv_zero(info->reserved))
			return -EINVAL;
		*info = sp->geom;
		return 0;
	}
	/* e2e3: the layer pipeline (pipe.c) */
	case CXL_KV_LAYER_BEGIN:
		return kv_cmd_layer_begin(sp, arg);
	case CXL_KV_PIPE_STATS:
		return kv_cmd_pipe_stats(sp, arg);
	default:
		return -ENOTTY;
	}
}

/**
 * kv_ctl_cmd() - run a control-device command on a kernel copy of its struct.
 * @cmd: ioctl number.
 * @arg: the struct (in and out).
 * @newfile: out for SPACE_CREATE: the file to install once copied out.
 *
 * Return: 0, the reserved fd (SPACE_CREATE), or -errno.
 */
long kv_ctl_cmd(unsigned int cmd, void *arg, struct file **newfile)
{
	long ret;

	switch (cmd) {
	case CXL_KV_GET_FEATURES: {
		struct cxl_kv_features *f = arg;

		if (!kv_zero(f->reserved))
			return -EINVAL;
		f->version = CXL_KV_VERSION;
		f->page_size = PAGE_SIZE;
		f->features = KV_FEATURES;
		return 0;
	}
	case CXL_KV_INFO: {
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
	case CXL_KV_ATTACH: {
		struct cxl_kv_attach *a = arg;

		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (!kv_zero(a->reserved))
			return -EINVAL;
		mutex_lock(&kv_ctl_lock);
		ret = kv_attach(a);
		mutex_unlock(&kv_ctl_lock);
		return ret;
	}
	case CXL_KV_DETACH: {
		struct cxl_kv_detach *d = arg;

		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (d->flags || !kv_zero(d->reserved))
			return -EINVAL;
		mutex_lock(&kv_ctl_lock);
		ret = kv_detach();
		mutex_unlock(&kv_ctl_lock);
		return ret;
	}
	case CXL_KV_SPACE_CREATE: {
		struct cxl_kv_space_create *c = arg;

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
	case CXL_KV_GLOBAL_STATS:
		return kv_stats_cmd(&kv_gstats, arg);
	case CXL_KV_LIST:
		return kv_list(arg);
	default:
		return -ENOTTY;
	}
}
