// SPDX-License-Identifier: GPL-2.0
/*
 * list.c - LIST: the caller's live spaces with their geometry and counters,
 * for owners that have no ptrace access to the processes holding them.
 */
#include <linux/cred.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>

#include "kv.h"

/**
 * kv_list() - fill LIST from the attached tier set.
 * @l: the command (in and out).
 *
 * The entries are gathered under kv_tiers.spaces_lock into a kernel buffer
 * sized by the caller's room and the live spaces (both bounded), then copied
 * out with no lock held.  kv_ctl_lock keeps the tier set from going away.
 *
 * Return: 0, -EINVAL, -EINTR (killed while waiting), -ENOMEM or -EFAULT.
 */
int kv_list(struct cxl_kv_list *l)
{
	struct cxl_kv_list_entry *buf = NULL;
	bool all = capable(CAP_SYS_ADMIN);
	kuid_t me = current_euid();
	u32 room, n = 0, total = 0;
	struct kv_space *sp;
	struct kv_tiers *t;
	int ret = 0;

	if (l->flags || l->pad || memchr_inv(l->reserved, 0, sizeof(l->reserved)))
		return -EINVAL;
	if (l->count > CXL_KV_MAX_LIST || (l->count && !l->entries))
		return -EINVAL;

	if (mutex_lock_killable(&kv_ctl_lock))
		return -EINTR;
	t = kv_tiers;
	if (!t)
		goto out_unlock;
	/* nr_spaces only grows under kv_ctl_lock: room for every one now */
	spin_lock(&t->spaces_lock);
	room = min(l->count, t->nr_spaces);
	spin_unlock(&t->spaces_lock);
	if (room) {
		buf = kvcalloc(room, sizeof(*buf), GFP_KERNEL_ACCOUNT);
		if (!buf) {
			ret = -ENOMEM;
			goto out_unlock;
		}
	}
	spin_lock(&t->spaces_lock);
	list_for_each_entry(sp, &t->spaces, node) {
		struct cxl_kv_list_entry *e;

		if (!all && !uid_eq(sp->user->uid, me))
			continue;
		total++;
		if (n >= room)
			continue;
		e = &buf[n++];
		e->id = sp->id;
		e->uid = from_kuid_munged(current_user_ns(), sp->user->uid);
		e->info = sp->geom;
		kv_stats_fill(&sp->stats, &e->stats);
	}
	spin_unlock(&t->spaces_lock);
out_unlock:
	mutex_unlock(&kv_ctl_lock);
	if (!ret && n &&
	    copy_to_user(u64_to_user_ptr(l->entries), buf, array_size(n, sizeof(*buf))))
		ret = -EFAULT;
	kvfree(buf);
	if (ret)
		return ret;
	l->count = n;
	l->total = total;
	return 0;
}
