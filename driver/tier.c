// SPDX-License-Identifier: GPL-2.0
/*
 * tier.c - the tier set: ATTACH/DETACH/INFO and the tenants; its warm pages
 * are handed out by warm.c, its cold slots by slot.c.
 *
 * Warm tier: CPU-less NUMA nodes whose memory is in ZONE_NORMAL (the kmem
 * node of a CXL dax device); its pages and budget are warm.c's.
 *
 * Cold tier: block devices opened exclusively (holder: the tier set); the
 * slot allocator over them is slot.c's.
 *
 * Tenants: every space is charged to the euid that created it (struct
 * kv_user): its spaces, warm pages and cold slots, each against a per-uid
 * limit set with the tier set (every uid but root is limited).  A uid at its
 * warm limit waits while the demotion worker demotes that uid's own pages
 * (kv_user.reclaim): the tenant over its share pays, not the others.
 */
#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagevec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "kv.h"

struct kv_tiers *kv_tiers;

#define KV_MIN_BUDGET		256
#define KV_DEF_USER_SHARE	2		/* default per-uid limits: 1/2 */
#define KV_MIN_COLD_BYTES	(1ULL << 20)
#define KV_POOL_MAX		4096		/* most pooled pages per node */

#define kv_reject(fmt, ...) \
	pr_warn_ratelimited("cxl_kv: attach rejected: " fmt, ##__VA_ARGS__)

static int kv_check_node(u32 nid, const struct cxl_kv_attach *a, u32 i)
{
	u32 j;

	if (nid >= MAX_NUMNODES || !node_online(nid)) {
		kv_reject("node %u is not online\n", nid);
		return -ENODEV;
	}
	if (!node_state(nid, N_MEMORY)) {
		kv_reject("node %u has no memory\n", nid);
		return -EINVAL;
	}
	if (node_state(nid, N_CPU)) {
		kv_reject("node %u has CPUs; the warm tier must be a CPU-less node\n", nid);
		return -EINVAL;
	}
	if (!node_state(nid, N_NORMAL_MEMORY)) {
		kv_reject("node %u has only ZONE_MOVABLE memory; online it as ZONE_NORMAL\n",
			  nid);
		return -EINVAL;
	}
	for (j = 0; j < i; j++) {
		if (a->nodes[j] == nid) {
			kv_reject("node %u given twice\n", nid);
			return -EINVAL;
		}
	}
	return 0;
}

static int kv_open_cold(struct kv_tiers *t, const struct cxl_kv_cold_dev *c,
			struct kv_cold_dev *d)
{
	const blk_mode_t mode = BLK_OPEN_READ | BLK_OPEN_WRITE | BLK_OPEN_EXCL;
	struct file *f;
	u64 bytes;

	if (c->flags & ~CXL_KV_COLD_F_ALL || c->reserved)
		return -EINVAL;
	if (c->flags & CXL_KV_COLD_F_FD) {
		struct file *user = fget(c->fd);
		struct block_device *bdev;

		if (!user) {
			kv_reject("cold fd %u is not open\n", c->fd);
			return -EBADF;
		}
		if (!S_ISBLK(file_inode(user)->i_mode)) {
			fput(user);
			kv_reject("cold fd %u is not a block device\n", c->fd);
			return -ENOTBLK;
		}
		bdev = I_BDEV(user->f_mapping->host);
		f = bdev_file_open_by_dev(bdev->bd_dev, mode, t, NULL);
		fput(user);
	} else {
		char *path = strndup_user(u64_to_user_ptr(c->path), 256);

		if (IS_ERR(path))
			return PTR_ERR(path);
		f = bdev_file_open_by_path(path, mode, t, NULL);
		if (IS_ERR(f))
			kv_reject("cannot open cold device %s exclusively: %ld\n",
				  path, PTR_ERR(f));
		kfree(path);
	}
	if (IS_ERR(f))
		return PTR_ERR(f);

	bytes = bdev_nr_bytes(file_bdev(f));
	if (c->max_bytes && c->max_bytes < bytes)
		bytes = c->max_bytes;
	if (bytes < KV_MIN_COLD_BYTES) {
		kv_reject("cold device smaller than 1 MiB (%llu bytes)\n", bytes);
		fput(f);
		return -ENOSPC;
	}
	d->file = f;
	d->slots = bytes >> PAGE_SHIFT;
	return 0;
}

static void kv_close_cold(struct kv_tiers *t)
{
	u32 i;

	for (i = 0; i < t->nr_cold; i++)
		fput(t->cold[i].file);
	t->nr_cold = 0;
}

/**
 * kv_attach() - bring up the tier set described by @a.
 * @a: validated for reserved fields by the caller; everything else here.
 *
 * Context: process, kv_ctl_lock held.
 * Return: 0, -EBUSY if a tier set exists, or the -errno of the first bad
 * input (each with one ratelimited line in the kernel log).
 */
int kv_attach(const struct cxl_kv_attach *a)
{
	unsigned long present = 0;
	struct kv_tiers *t;
	u64 min_slots = U64_MAX;
	u32 i;
	int ret;

	lockdep_assert_held(&kv_ctl_lock);
	if (kv_tiers) {
		kv_reject("a tier set is already attached\n");
		return -EBUSY;
	}
	if (a->flags)
		return -EINVAL;
	if (!a->nr_nodes || a->nr_nodes > CXL_KV_MAX_NODES) {
		kv_reject("nr_nodes %u out of range 1..%u\n", a->nr_nodes,
			  CXL_KV_MAX_NODES);
		return -EINVAL;
	}
	if (!a->nr_cold || a->nr_cold > CXL_KV_MAX_COLD) {
		kv_reject("nr_cold %u out of range 1..%u\n", a->nr_cold,
			  CXL_KV_MAX_COLD);
		return -EINVAL;
	}
	for (i = a->nr_nodes; i < CXL_KV_MAX_NODES; i++)
		if (a->nodes[i])
			return -EINVAL;
	for (i = a->nr_cold; i < CXL_KV_MAX_COLD; i++)
		if (memchr_inv(&a->cold[i], 0, sizeof(a->cold[i])))
			return -EINVAL;
	for (i = 0; i < a->nr_nodes; i++) {
		ret = kv_check_node(a->nodes[i], a, i);
		if (ret)
			return ret;
		present += node_present_pages(a->nodes[i]);
	}
	if (a->budget_pages < KV_MIN_BUDGET || a->budget_pages > present) {
		kv_reject("budget %llu pages out of range %u..%lu\n",
			  a->budget_pages, KV_MIN_BUDGET, present);
		return -ERANGE;
	}

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->nr_nodes = a->nr_nodes;
	for (i = 0; i < a->nr_nodes; i++)
		t->nodes[i] = a->nodes[i];
	t->budget = a->budget_pages;
	t->high_wmark = a->high_wmark ?: a->budget_pages * 95 / 100;
	t->low_wmark = a->low_wmark ?: a->budget_pages * 90 / 100;
	if (t->high_wmark > t->budget || t->low_wmark >= t->high_wmark) {
		kv_reject("watermarks low %llu high %llu budget %llu: need low < high <= budget\n",
			  t->low_wmark, t->high_wmark, t->budget);
		ret = -ERANGE;
		goto out_free_tiers;
	}
	if (a->user_warm_pages > t->budget) {
		kv_reject("user_warm_pages %llu more than the budget %llu\n",
			  a->user_warm_pages, t->budget);
		ret = -ERANGE;
		goto out_free_tiers;
	}
	t->user_warm = a->user_warm_pages ?: t->budget / KV_DEF_USER_SHARE;
	t->user_spaces = a->user_spaces ?: CXL_KV_DEF_USER_SPACES;
	t->max_spaces = a->max_spaces ?: CXL_KV_DEF_MAX_SPACES;
	atomic64_set(&t->warm, 0);
	spin_lock_init(&t->pool_lock);
	t->pool_max = min_t(u64, (t->budget - t->high_wmark) / t->nr_nodes,
			    KV_POOL_MAX);
	for (i = 0; i < t->nr_nodes && t->pool_max; i++) {
		t->pool[i] = kvmalloc_array(t->pool_max, sizeof(struct page *),
					    GFP_KERNEL);
		if (!t->pool[i]) {
			ret = -ENOMEM;
			goto out_free_pools;
		}
	}
	spin_lock_init(&t->slot_lock);
	spin_lock_init(&t->spaces_lock);
	INIT_LIST_HEAD(&t->spaces);
	INIT_LIST_HEAD(&t->users);
	INIT_WORK(&t->demote_work, kv_demote_work);
	init_waitqueue_head(&t->room_wq);
	ret = kv_reclaim_init(t);
	if (ret)
		goto out_free_pools;

	for (i = 0; i < a->nr_cold; i++) {
		u32 j;

		ret = kv_open_cold(t, &a->cold[i], &t->cold[i]);
		if (ret)
			goto out_close_cold;
		t->nr_cold++;
		for (j = 0; j < i; j++) {
			if (file_bdev(t->cold[j].file) ==
			    file_bdev(t->cold[i].file)) {
				kv_reject("cold device given twice\n");
				ret = -EBUSY;
				goto out_close_cold;
			}
		}
		min_slots = min(min_slots, t->cold[i].slots);
		/* packed objects are read in the devices' logical blocks */
		t->rd_align = max_t(u32, t->rd_align, bdev_logical_block_size(
					    file_bdev(t->cold[i].file)));
	}
	t->rd_align = clamp_t(u32, t->rd_align, SECTOR_SIZE, PAGE_SIZE);
	t->nr_slots = min_slots * t->nr_cold;
	if (t->nr_slots >= KV_NO_SLOT)
		t->nr_slots = KV_NO_SLOT - 1;
	if (a->user_cold_slots > t->nr_slots) {
		kv_reject("user_cold_slots %llu more than the %llu cold slots\n",
			  a->user_cold_slots, t->nr_slots);
		ret = -ERANGE;
		goto out_close_cold;
	}
	t->user_cold = a->user_cold_slots ?: t->nr_slots / KV_DEF_USER_SHARE;
	ret = kv_slot_map_init(t);
	if (ret)
		goto out_close_cold;

	kv_tiers = t;
	pr_info("cxl_kv: attached %u warm node(s) (budget %llu pages, wmarks %llu/%llu), %u cold device(s), %llu slots; per uid %u spaces %llu warm %llu cold, %u spaces in all\n",
		t->nr_nodes, t->budget, t->high_wmark, t->low_wmark,
		t->nr_cold, t->nr_slots, t->user_spaces, t->user_warm,
		t->user_cold, t->max_spaces);
	return 0;

out_close_cold:
	kv_close_cold(t);
	kv_reclaim_exit(t);
out_free_pools:
	for (i = 0; i < t->nr_nodes; i++)
		kvfree(t->pool[i]);
out_free_tiers:
	kfree(t);
	return ret;
}

/**
 * kv_detach() - release the tier set.
 *
 * Context: process, kv_ctl_lock held.
 * Return: 0, -ENODEV if none is attached, -EBUSY while spaces live.
 */
int kv_detach(void)
{
	struct kv_tiers *t = kv_tiers;
	u32 i;

	lockdep_assert_held(&kv_ctl_lock);
	if (!t)
		return -ENODEV;
	spin_lock(&t->spaces_lock);
	if (t->nr_spaces) {
		spin_unlock(&t->spaces_lock);
		pr_warn_ratelimited("cxl_kv: detach refused: %u space(s) live\n",
				    t->nr_spaces);
		return -EBUSY;
	}
	spin_unlock(&t->spaces_lock);
	/* The worker holds space refs only; no space, no new work. */
	cancel_work_sync(&t->demote_work);
	kv_reclaim_exit(t);
	kv_warm_pool_drain(t);
	WARN_ON_ONCE(atomic64_read(&t->warm));
	WARN_ON_ONCE(t->slots_used);
	WARN_ON_ONCE(!list_empty(&t->users));
	kv_tiers = NULL;
	kv_close_cold(t);
	kv_slot_map_free(t);
	kvfree(t->slot_refs);
	for (i = 0; i < t->nr_nodes; i++)
		kvfree(t->pool[i]);
	kfree(t);
	pr_info("cxl_kv: detached\n");
	return 0;
}

/**
 * kv_info() - fill INFO.
 * @info: zeroed by the caller.
 *
 * Context: kv_ctl_lock held.
 */
void kv_info(struct cxl_kv_info *info)
{
	struct kv_tiers *t = kv_tiers;
	u32 i;

	lockdep_assert_held(&kv_ctl_lock);
	if (!t)
		return;
	info->attached = 1;
	info->nr_nodes = t->nr_nodes;
	for (i = 0; i < t->nr_nodes; i++)
		info->nodes[i] = t->nodes[i];
	info->nr_cold = t->nr_cold;
	for (i = 0; i < t->nr_cold; i++)
		info->cold_devs[i] =
			huge_encode_dev(file_bdev(t->cold[i].file)->bd_dev);
	spin_lock(&t->spaces_lock);
	info->nr_spaces = t->nr_spaces;
	spin_unlock(&t->spaces_lock);
	info->budget_pages = t->budget;
	info->high_wmark = t->high_wmark;
	info->low_wmark = t->low_wmark;
	info->warm_pages = atomic64_read(&t->warm);
	info->cold_slots = t->nr_slots;
	spin_lock(&t->slot_lock);
	info->cold_used = t->slots_used;
	spin_unlock(&t->slot_lock);
	info->user_spaces = t->user_spaces;
	info->max_spaces = t->max_spaces;
	info->user_warm_pages = t->user_warm;
	info->user_cold_slots = t->user_cold;
}

/* The kv_user of @uid in @t, or NULL.  Context: spaces_lock held. */
static struct kv_user *kv_user_find(struct kv_tiers *t, kuid_t uid)
{
	struct kv_user *u;

	lockdep_assert_held(&t->spaces_lock);
	list_for_each_entry(u, &t->users, node)
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/**
 * kv_user_attach() - charge a new space to the caller's euid, make it live.
 * @sp: the space, fully set up but for its file; not yet in any list.
 *
 * Puts @sp on kv_tiers.spaces (the demotion worker may look at it from
 * here on; it holds no page yet).
 *
 * Context: process, kv_ctl_lock held.
 * Return: 0, -EDQUOT (the uid's space limit), -ENFILE (the module's),
 * -ENOMEM.
 */
int kv_user_attach(struct kv_space *sp)
{
	struct kv_tiers *t = sp->tiers;
	kuid_t uid = current_euid();
	struct kv_user *u, *fresh;
	int ret = 0;

	lockdep_assert_held(&kv_ctl_lock);
	/* Allocated up front (a spinlock is held below), freed if unused. */
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return -ENOMEM;
	spin_lock(&t->spaces_lock);
	u = kv_user_find(t, uid);
	if (t->nr_spaces >= t->max_spaces) {
		ret = -ENFILE;
	} else if (u && u->limited && u->nr_spaces >= t->user_spaces) {
		ret = -EDQUOT;
	} else {
		if (!u) {
			u = fresh;
			fresh = NULL;
			u->uid = uid;
			u->limited = !uid_eq(uid, GLOBAL_ROOT_UID);
			atomic64_set(&u->warm, 0);
			list_add_tail(&u->node, &t->users);
		}
		u->nr_spaces++;
		sp->user = u;
		list_add_tail(&sp->node, &t->spaces);
		t->nr_spaces++;
	}
	spin_unlock(&t->spaces_lock);
	kfree(fresh);
	if (ret)
		pr_warn_ratelimited("cxl_kv: space refused (%s, uid %u): %s\n",
				    current->comm, from_kuid(&init_user_ns, uid),
				    ret == -ENFILE ? "module space limit" :
				    "uid space limit");
	return ret;
}

/**
 * kv_user_detach() - the last step of a space's end: unlink and uncharge it.
 * @sp: the space; every page and slot of it given back, no I/O in flight.
 *
 * After this, DETACH may free the tier set: the caller must not touch it.
 */
void kv_user_detach(struct kv_space *sp)
{
	struct kv_tiers *t = sp->tiers;
	struct kv_user *u = sp->user;

	spin_lock(&t->spaces_lock);
	list_del_init(&sp->node);
	t->nr_spaces--;
	if (!--u->nr_spaces) {
		WARN_ON_ONCE(atomic64_read(&u->warm) || READ_ONCE(u->cold));
		list_del(&u->node);
	} else {
		u = NULL;
	}
	sp->user = NULL;
	spin_unlock(&t->spaces_lock);
	kfree(u);
}
