// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - module init/exit and the control device /dev/cxl_kv.
 *
 * The misc device's fops hold the module while an fd is open, and every
 * space file holds it too, so the module cannot go while either exists.
 * An attached tier set with no space left is detached by module exit.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "kv.h"

/*
 * kv_ctl_lock - serialises ATTACH, DETACH, INFO and SPACE_CREATE; protects
 * the kv_tiers pointer (readers that run while a space exists may use it
 * without the lock: DETACH fails while spaces live).
 */
DEFINE_MUTEX(kv_ctl_lock);

/* Completions of asynchronous promotions (see kv.h). */
struct workqueue_struct *kv_wq;

/**
 * kv_ctl_copy_out() - finish a control command: copy out, install a new fd.
 * @uarg: user address of the struct.
 * @buf: kernel copy.
 * @sz: its size.
 * @ret: what kv_cmd_call() returned.
 * @newfile: the file SPACE_CREATE made, or NULL.
 *
 * Return: the command's result for user space.
 */
long kv_ctl_copy_out(void __user *uarg, const void *buf, size_t sz, long ret,
		     struct file *newfile)
{
	if (ret < 0)
		return ret;
	if (copy_to_user(uarg, buf, sz)) {
		if (newfile) {
			put_unused_fd(ret);
			fput(newfile);
		}
		return -EFAULT;
	}
	if (newfile) {
		fd_install(ret, newfile);
		return 0;
	}
	return ret;
}

static long kv_ctl_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	const struct kv_cmd_desc *d = kv_cmd_find(cmd, KV_CMD_CTL);
	void __user *uarg = (void __user *)arg;
	size_t sz = _IOC_SIZE(cmd);
	struct file *newfile = NULL;
	u8 buf[KV_CMD_MAX_SIZE];
	long ret;

	if (!d)
		return -ENOTTY;
	if (copy_from_user(buf, uarg, sz))
		return -EFAULT;
	ret = kv_cmd_call(d, NULL, buf, NULL, &newfile);
	return kv_ctl_copy_out(uarg, buf, sz, ret, newfile);
}

static const struct file_operations kv_ctl_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.unlocked_ioctl	= kv_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= kv_uring_cmd,
	.llseek		= noop_llseek,
};

static struct miscdevice kv_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= CXL_KV_DEVICE_NAME,
	.fops		= &kv_ctl_fops,
	.groups		= kv_sysfs_groups,
	.mode		= 0660,
};

static int __init cxl_kv_init(void)
{
	int ret;

	/*
	 * Per-CPU, not WQ_UNBOUND: an unbound workqueue allocates per-node
	 * state on every node with memory, the warm node too, and those
	 * unmovable slab pages would keep its memory from going offline.
	 */
	kv_wq = alloc_workqueue("cxl_kv", 0, 0);
	if (!kv_wq)
		return -ENOMEM;
	ret = misc_register(&kv_misc);
	if (ret) {
		destroy_workqueue(kv_wq);
		return ret;
	}
	pr_info("cxl_kv: loaded, version %s, ABI version %u\n",
		CXL_KV_MOD_VERSION, CXL_KV_VERSION);
	return 0;
}

static void __exit cxl_kv_exit(void)
{
	misc_deregister(&kv_misc);
	/*
	 * No file of ours is open, but the work item of the last asynchronous
	 * promotion may still be finishing (it dropped its space's inflight
	 * count before freeing its batch): wait for it.
	 */
	destroy_workqueue(kv_wq);
	mutex_lock(&kv_ctl_lock);
	if (kv_tiers)
		WARN_ON_ONCE(kv_detach());
	mutex_unlock(&kv_ctl_lock);
}

module_init(cxl_kv_init);
module_exit(cxl_kv_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("LLM KV cache tiered between CXL memory and NVMe");
MODULE_AUTHOR("cxl-kv developers");
MODULE_VERSION(CXL_KV_MOD_VERSION);
