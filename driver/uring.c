// SPDX-License-Identifier: GPL-2.0
/*
 * uring.c - io_uring IORING_OP_URING_CMD transport.
 *
 * sqe->cmd_op is the ioctl number; sqe->cmd holds struct cxl_kv_uring_cmd
 * pointing at the command struct in user memory.  The transport copies it
 * in, runs the same table entry (kv_cmd_find(), kv_cmd_call()) as the
 * ioctl, copies it out and completes.  At a non-blocking issue:
 *   - KV_CMD_INLINE commands run inline, unless their space's lock is held
 *     at that moment;
 *   - KV_CMD_TRY commands (PREFETCH, LAYER_BEGIN: a decode loop's per-step
 *     commands) run inline with kv_async.nowait set: they take no lock
 *     they would wait for, allocate without sleeping and never wait for
 *     I/O or warm room, and return -EAGAIN, having done nothing, where
 *     they would;
 *   - the others (waiting for I/O or for warm room) return -EAGAIN at once.
 * io_uring re-issues an -EAGAIN from io-wq, blocking, as ublk's control
 * commands are: correct, but a worker wakeup and a context switch per
 * command, several times the command's own work.  KV_CMD_ASYNC commands
 * (PREFETCH) go asynchronous: they return -EIOCBQUEUED and the completion
 * is posted from task context once every started promotion has finished.
 */
#include <linux/io_uring/cmd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kv.h"

/**
 * struct kv_uring_ctx - one uring command in flight
 * @async: completion hook given to the command.
 * @ioucmd: the io_uring command.
 * @uarg: user address of the command struct.
 * @sz: its size.
 * @ret: result, set by kv_uring_async_done().
 * @buf: kernel copy of the struct.
 */
struct kv_uring_ctx {
	struct kv_async async;
	struct io_uring_cmd *ioucmd;
	void __user *uarg;
	size_t sz;
	int ret;
	u8 buf[KV_CMD_MAX_SIZE];
};

struct kv_uring_pdu {
	struct kv_uring_ctx *ctx;
};

static void kv_uring_task_cb(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	struct kv_uring_ctx *ctx = io_uring_cmd_to_pdu(ioucmd, struct kv_uring_pdu)->ctx;
	int ret = ctx->ret;

	if (!(issue_flags & IO_URING_F_TASK_DEAD) &&
	    copy_to_user(ctx->uarg, ctx->buf, ctx->sz) && !ret)
		ret = -EFAULT;
	kfree(ctx);
	io_uring_cmd_done(ioucmd, ret, 0, issue_flags);
}

static void kv_uring_async_done(struct kv_async *a, int ret)
{
	struct kv_uring_ctx *ctx = container_of(a, struct kv_uring_ctx, async);

	ctx->ret = ret;
	io_uring_cmd_complete_in_task(ctx->ioucmd, kv_uring_task_cb);
}

/*
 * What runs at a non-blocking issue: KV_CMD_TRY commands (which punt
 * themselves), KV_CMD_INLINE ones of a space only while its lock is free
 * (they take it, briefly); @d is NULL for an unknown command.
 */
static bool kv_uring_inline(struct kv_space *sp, const struct kv_cmd_desc *d)
{
	if (!d)
		return false;
	if (sp && d->flags & KV_CMD_TRY)
		return true;
	return d->flags & KV_CMD_INLINE &&
	       (!sp || !mutex_is_locked(&sp->lock));
}

/**
 * kv_uring_cmd() - file_operations.uring_cmd of /dev/cxl_kv and space fds.
 * @ioucmd: the command.
 * @issue_flags: IO_URING_F_*.
 *
 * Return: the result, -EAGAIN to be re-issued from io-wq (a non-blocking
 * issue of a command that would wait), or -EIOCBQUEUED.
 */
int kv_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	const struct cxl_kv_uring_cmd *uc = io_uring_sqe_cmd(ioucmd->sqe);
	struct kv_space *sp = kv_space_from_file(ioucmd->file);
	unsigned int cmd = ioucmd->cmd_op;
	const struct kv_cmd_desc *d =
		kv_cmd_find(cmd, sp ? KV_CMD_SPACE : KV_CMD_CTL);
	size_t sz = _IOC_SIZE(cmd);
	bool nowait = issue_flags & IO_URING_F_NONBLOCK;
	struct file *newfile = NULL;
	struct kv_uring_ctx *ctx;
	u64 addr;
	u32 len, flags;
	long ret;

	if (nowait && !kv_uring_inline(sp, d))
		return -EAGAIN;
	if (!d || !(d->flags & KV_CMD_URING))
		return -ENOTTY;
	addr = READ_ONCE(uc->addr);
	len = READ_ONCE(uc->len);
	flags = READ_ONCE(uc->flags);
	if (len != sz || flags)
		return -EINVAL;
	ctx = kmalloc(sizeof(*ctx), nowait ? GFP_NOWAIT | __GFP_NOWARN :
					     GFP_KERNEL);
	if (!ctx)
		return nowait ? -EAGAIN : -ENOMEM;
	ctx->uarg = u64_to_user_ptr(addr);
	ctx->sz = sz;
	ctx->ioucmd = ioucmd;
	ctx->async.done = kv_uring_async_done;
	ctx->async.nowait = nowait;
	if (copy_from_user(ctx->buf, ctx->uarg, sz)) {
		ret = -EFAULT;
		goto out_free_ctx;
	}
	if (!sp) {
		ret = kv_cmd_call(d, NULL, ctx->buf, NULL, &newfile);
		ret = kv_ctl_copy_out(ctx->uarg, ctx->buf, sz, ret, newfile);
		goto out_free_ctx;
	}
	io_uring_cmd_to_pdu(ioucmd, struct kv_uring_pdu)->ctx = ctx;
	ret = kv_cmd_call(d, sp, ctx->buf, &ctx->async, NULL);
	if (ret == -EIOCBQUEUED)
		return ret;	/* ctx is freed by kv_uring_task_cb() */
	/* KV_CMD_TRY at a non-blocking issue: nothing done, io-wq runs it */
	if (ret == -EAGAIN && nowait)
		goto out_free_ctx;
	/* As the ioctl (KV_CMD_OUT_ERR): written back failed or not. */
	if ((!ret || d->flags & KV_CMD_OUT_ERR) &&
	    copy_to_user(ctx->uarg, ctx->buf, sz) && !ret)
		ret = -EFAULT;
out_free_ctx:
	kfree(ctx);
	return ret;
}
