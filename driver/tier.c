// SPDX-License-Identifier: GPL-2.0
/*
 * tier.c - the tier set: ATTACH/DETACH/INFO, warm budget, cold slots.
 *
 * Warm tier: CPU-less NUMA nodes whose memory is in ZONE_NORMAL (the kmem
 * node of a CXL dax device).  Pages come from alloc_pages_node() with
 * __GFP_THISNODE, charged against a page budget first (kv_warm_alloc()).
 * Over the high watermark the demotion worker (reclaim.c) is kicked; at the
 * budget an allocation waits for it (bounded) or fails.  Freed pages are
 * pooled per node (inside the budget) and taken first by the next
 * allocation, so a promotion neither allocates nor zeroes a page.
 *
 * Cold tier: block devices opened exclusively (holder: the tier set).  The
 * slot allocator is a two-level bitmap over all devices; slot s is page
 * s / nr_cold of device s % nr_cold, so consecutive slots alternate devices.
 * The slots are cut into chunks of KV_SLOT_CHUNK (2^15, one page of bits,
 * 128 MiB of device); a chunk's bitmap page exists only while one of its
 * slots is in use, and a summary bitmap marks the full chunks.  The fixed
 * part is about 10 bytes per chunk: 1.3 MiB for the most slots a tier set
 * addresses (2^32 - 2, 16 TiB), where a flat bitmap took 512 MiB (and
 * 2 GiB of device per MiB of it, allocated whether used or not).
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
#define KV_ROOM_WAIT		(10 * HZ)	/* longest wait for warm room */
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

/* Slots of chunk @c (the last one may be short). */
static u32 kv_chunk_slots(const struct kv_tiers *t, u64 c)
{
	return min_t(u64, KV_SLOT_CHUNK, t->nr_slots - (c << KV_SLOT_CHUNK_SHIFT));
}

/*
 * The fixed part of the slot map: a pointer, a count and a summary bit per
 * chunk.  The chunks' bitmap pages come and go with their slots.
 */
static void kv_slot_map_free(struct kv_tiers *t)
{
	u64 c;

	/* No slot is in use at detach, so no chunk page is left but by a bug. */
	for (c = 0; t->chunk_map && c < t->nr_chunks; c++)
		if (WARN_ON_ONCE(t->chunk_map[c]))
			free_page((unsigned long)t->chunk_map[c]);
	free_page((unsigned long)t->chunk_spare);
	kvfree(t->chunk_map);
	kvfree(t->chunk_used);
	kvfree(t->chunk_full);
}

static int kv_slot_map_init(struct kv_tiers *t)
{
	BUILD_BUG_ON(KV_SLOT_CHUNK != PAGE_SIZE * BITS_PER_BYTE);
	BUILD_BUG_ON(KV_SLOT_CHUNK > U16_MAX);
	t->nr_chunks = DIV_ROUND_UP(t->nr_slots, KV_SLOT_CHUNK);
	t->chunk_map = kvcalloc(t->nr_chunks, sizeof(*t->chunk_map), GFP_KERNEL);
	t->chunk_used = kvcalloc(t->nr_chunks, sizeof(*t->chunk_used),
				 GFP_KERNEL);
	t->chunk_full = kvcalloc(BITS_TO_LONGS(t->nr_chunks), sizeof(long),
				 GFP_KERNEL);
	if (!t->chunk_map || !t->chunk_used || !t->chunk_full) {
		kv_slot_map_free(t);
		return -ENOMEM;
	}
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

/* Index of warm node @nid in @t->nodes (striping only names those). */
static u32 kv_node_idx(const struct kv_tiers *t, int nid)
{
	u32 i;

	for (i = 1; i < t->nr_nodes; i++)
		if (t->nodes[i] == nid)
			return i;
	return 0;
}

/*
 * The pool.  Invariant: warm + nr_pooled <= budget.  A page moves between
 * data (@warm) and the pool with its charge: into the pool nr_pooled rises
 * before warm falls, out of it warm rises before nr_pooled falls, so a
 * racing charge may wait once too often but never overshoots.
 */
static struct page *kv_pool_take(struct kv_tiers *t, int nid)
{
	u32 i = kv_node_idx(t, nid);
	struct page *page = NULL;

	if (!READ_ONCE(t->nr_pool[i]))
		return NULL;
	spin_lock(&t->pool_lock);
	if (t->nr_pool[i]) {
		page = t->pool[i][--t->nr_pool[i]];
		atomic64_inc(&t->warm);
		WRITE_ONCE(t->nr_pooled, t->nr_pooled - 1);
	}
	spin_unlock(&t->pool_lock);
	return page;
}

/*
 * Keep @page for reuse if its pool has room and nobody else holds a
 * reference (a GUP pin taken through the user mapping would see the next
 * user's data).  Returns false if the caller must free it.
 */
static bool kv_pool_put(struct kv_tiers *t, struct page *page)
{
	u32 i = kv_node_idx(t, page_to_nid(page));
	bool kept = false;

	if (READ_ONCE(t->nr_pool[i]) >= t->pool_max || page_count(page) != 1)
		return false;
	spin_lock(&t->pool_lock);
	if (t->nr_pool[i] < t->pool_max) {
		ClearPageDirty(page);
		t->pool[i][t->nr_pool[i]++] = page;
		WRITE_ONCE(t->nr_pooled, t->nr_pooled + 1);
		atomic64_dec(&t->warm);
		kept = true;
	}
	spin_unlock(&t->pool_lock);
	return kept;
}

/**
 * kv_warm_pool_drain() - free every pooled page (last space gone, detach).
 * @t: tier set.
 */
void kv_warm_pool_drain(struct kv_tiers *t)
{
	struct page *page;
	u32 i;

	for (i = 0; i < t->nr_nodes; i++) {
		for (;;) {
			spin_lock(&t->pool_lock);
			page = t->nr_pool[i] ? t->pool[i][--t->nr_pool[i]] : NULL;
			if (page)
				WRITE_ONCE(t->nr_pooled, t->nr_pooled - 1);
			spin_unlock(&t->pool_lock);
			if (!page)
				break;
			put_page(page);
		}
	}
	if (wq_has_sleeper(&t->room_wq))
		wake_up_all(&t->room_wq);
}

static bool kv_room(struct kv_tiers *t)
{
	return atomic64_read(&t->warm) + READ_ONCE(t->nr_pooled) < t->budget ||
	       READ_ONCE(t->nr_pooled);
}

static bool kv_user_room(struct kv_tiers *t, struct kv_user *u)
{
	return atomic64_read(&u->warm) < t->user_warm;
}

/* Uncharge @n warm pages of @sp from its uid (none once it is detached). */
static void kv_user_uncharge(struct kv_space *sp, u32 n)
{
	if (sp && sp->user)
		atomic64_sub(n, &sp->user->warm);
}

/*
 * Charge one warm page to @sp's uid, waiting (killable, until @deadline)
 * while the uid is at its limit: the demotion worker demotes that uid's own
 * pages meanwhile.  Returns false (nothing charged) on timeout or a fatal
 * signal.
 */
static bool kv_user_charge(struct kv_tiers *t, struct kv_space *sp,
			   unsigned long deadline, bool *waited)
{
	struct kv_user *u = sp ? sp->user : NULL;

	if (!u)
		return true;
	if (!u->limited) {
		atomic64_inc(&u->warm);
		return true;
	}
	for (;;) {
		if (atomic64_inc_return(&u->warm) <= t->user_warm)
			return true;
		atomic64_dec(&u->warm);
		if (!*waited) {
			kv_stat_inc(sp, alloc_waits);
			*waited = true;
		}
		WRITE_ONCE(u->reclaim, true);
		kv_kick_demotion(t);
		if (wait_event_killable_timeout(t->room_wq,
						kv_user_room(t, u), HZ / 10) < 0 ||
		    time_after(jiffies, deadline))
			return false;
	}
}

/**
 * kv_warm_alloc() - a page on warm node @nid, charged to the budget.
 * @t: tier set.
 * @sp: space to account to.
 * @nid: node.
 * @zero: zero the page (else its old contents remain: only for pages the
 *	caller overwrites whole before anyone sees them).
 *
 * A pooled page of @nid is taken first.  Else waits (killable, at most
 * KV_ROOM_WAIT) for the demotion worker when the budget or @sp's uid's warm
 * limit is used up.  Never invokes the OOM killer (__GFP_THISNODE |
 * __GFP_NORETRY).
 *
 * Context: process; must not hold any kv_space.lock.
 * Return: the page (refcount 1) or NULL: timed out, no free page on @nid,
 * or a fatal signal is pending (returned at once).
 */
struct page *kv_warm_alloc(struct kv_tiers *t, struct kv_space *sp, int nid,
			   bool zero)
{
	gfp_t gfp = GFP_HIGHUSER | __GFP_THISNODE | __GFP_NOWARN |
		    __GFP_NORETRY | (zero ? __GFP_ZERO : 0);
	unsigned long deadline = jiffies + KV_ROOM_WAIT;
	bool waited = false;
	struct page *page;

	might_sleep();
	if (fatal_signal_pending(current) ||
	    !kv_user_charge(t, sp, deadline, &waited))
		goto out_fail;
	for (;;) {
		page = kv_pool_take(t, nid);
		if (page) {
			if (zero)
				clear_highpage(page);
			goto out_charged;
		}
		if (atomic64_inc_return(&t->warm) + READ_ONCE(t->nr_pooled) <=
		    t->budget)
			break;
		atomic64_dec(&t->warm);
		/* Full: pooled pages of other nodes are of no use to @nid. */
		if (READ_ONCE(t->nr_pooled))
			kv_warm_pool_drain(t);
		if (!waited) {
			kv_stat_inc(sp, alloc_waits);
			waited = true;
		}
		kv_kick_demotion(t);
		if (wait_event_killable_timeout(t->room_wq, kv_room(t), HZ / 10) < 0 ||
		    time_after(jiffies, deadline))
			goto out_uncharge_user;
	}

	page = alloc_pages_node(nid, gfp, 0);
	if (!page) {
		atomic64_dec(&t->warm);
		wake_up_all(&t->room_wq);
		pr_warn_ratelimited("cxl_kv: no free page on warm node %d\n", nid);
		goto out_uncharge_user;
	}
out_charged:
	if (atomic64_read(&t->warm) > t->high_wmark)
		kv_kick_demotion(t);
	kv_stat_inc(sp, warm_pages);
	return page;

out_uncharge_user:
	kv_user_uncharge(sp, 1);
out_fail:
	kv_stat_inc(sp, alloc_fails);
	return NULL;
}

/* Uncharge @n pages freed from @sp; wake allocations waiting for room. */
static void kv_warm_uncharge(struct kv_tiers *t, struct kv_space *sp, u32 n)
{
	kv_stat_add(sp, warm_pages, -(s64)n);
	kv_user_uncharge(sp, n);
	atomic64_sub(n, &t->warm);
	if (wq_has_sleeper(&t->room_wq))
		wake_up_all(&t->room_wq);
}

/**
 * kv_warm_free() - drop the module's reference to a warm page, uncharge it.
 * @t: tier set.
 * @sp: space it was accounted to.
 * @page: the page; already unmapped from user space.
 *
 * The page may be kept in the pool for the next kv_warm_alloc().
 */
void kv_warm_free(struct kv_tiers *t, struct kv_space *sp, struct page *page)
{
	if (kv_pool_put(t, page)) {
		kv_stat_add(sp, warm_pages, -1);
		kv_user_uncharge(sp, 1);
		if (wq_has_sleeper(&t->room_wq))
			wake_up_all(&t->room_wq);
		return;
	}
	ClearPageDirty(page);
	put_page(page);
	kv_warm_uncharge(t, sp, 1);
}

/**
 * kv_warm_free_batch() - kv_warm_free() of the pages in @fb, released at once.
 * @t: tier set.
 * @sp: space they were accounted to.
 * @fb: folios (order 0) already unmapped from user space; emptied.
 */
void kv_warm_free_batch(struct kv_tiers *t, struct kv_space *sp,
			struct folio_batch *fb)
{
	u32 i, j = 0, n = folio_batch_count(fb);

	if (!n)
		return;
	for (i = 0; i < n; i++) {
		struct folio *f = fb->folios[i];

		if (kv_pool_put(t, &f->page))
			continue;
		folio_clear_dirty(f);
		fb->folios[j++] = f;
	}
	fb->nr = j;
	folios_put(fb);
	kv_stat_add(sp, warm_pages, -(s64)(n - j));
	kv_user_uncharge(sp, n - j);
	kv_warm_uncharge(t, sp, j);
}

/*
 * Take the first free slot at or after @s (wrapping), with slot_lock held
 * and a free slot known to exist.  Returns it, or KV_NO_SLOT when it lies in
 * a chunk without a bitmap page and no spare page is at hand (the caller
 * allocates one without the lock and calls again).  O(chunks / BITS_PER_LONG
 * + KV_SLOT_CHUNK / BITS_PER_LONG) at worst: one scan of the summary, one of
 * a chunk.
 */
static u64 kv_slot_find(struct kv_tiers *t, u64 s)
{
	u64 c = s >> KV_SLOT_CHUNK_SHIFT, i;
	u32 off = s & KV_SLOT_CHUNK_MASK, lim, b;
	unsigned long *map;

	lockdep_assert_held(&t->slot_lock);
	for (i = 0; i <= t->nr_chunks; i++, off = 0, c++) {
		c = find_next_zero_bit(t->chunk_full, t->nr_chunks, c);
		if (c >= t->nr_chunks) {
			c = find_first_zero_bit(t->chunk_full, t->nr_chunks);
			off = 0;
			if (WARN_ON_ONCE(c >= t->nr_chunks))
				return KV_NO_SLOT;
		}
		if (c != s >> KV_SLOT_CHUNK_SHIFT)
			off = 0;
		lim = kv_chunk_slots(t, c);
		map = t->chunk_map[c];
		if (!map) {
			if (!t->chunk_spare)
				return KV_NO_SLOT;
			map = t->chunk_spare;
			t->chunk_spare = NULL;
			t->chunk_map[c] = map;
		}
		b = find_next_zero_bit(map, lim, off);
		if (b >= lim)
			continue;	/* free slots only before @off */
		__set_bit(b, map);
		if (++t->chunk_used[c] == lim)
			__set_bit(c, t->chunk_full);
		t->slots_used++;
		return (c << KV_SLOT_CHUNK_SHIFT) + b;
	}
	WARN_ON_ONCE(1);
	return KV_NO_SLOT;
}

/**
 * kv_slot_alloc_many() - take up to @n free cold slots under one lock hold.
 * @sp: the space they are for (charged to its uid).
 * @slots: out: the slots, ascending from the allocation hint where the map
 *	allows (so consecutive pages get consecutive slots and share a bio).
 * @n: how many are wanted.
 * @err: out, set only when fewer than @n were taken: -ENOSPC (the cold tier
 *	is full) or -EDQUOT (@sp's uid holds its cold slot limit).
 *
 * Return: how many were taken.
 */
u32 kv_slot_alloc_many(struct kv_space *sp, u32 *slots, u32 n, int *err)
{
	struct kv_tiers *t = sp->tiers;
	struct kv_user *u = sp->user;
	u64 room = U64_MAX, s;
	u32 k = 0, want = n;
	void *page = NULL;

retry:
	spin_lock(&t->slot_lock);
	/* A page allocated for a new chunk without the lock: the spare. */
	if (page && !t->chunk_spare) {
		t->chunk_spare = page;
		page = NULL;
	}
	if (u && u->limited)
		room = t->user_cold > u->cold ? t->user_cold - u->cold : 0;
	/* room counts from the @k already taken (they are in u->cold) */
	n = room < want - k ? k + room : want;
	s = t->slot_hint;
	for (; k < n && t->slots_used < t->nr_slots; k++) {
		s = kv_slot_find(t, s);
		if (s == KV_NO_SLOT) {
			/* The free slot is in a chunk without a page yet. */
			spin_unlock(&t->slot_lock);
			free_page((unsigned long)page);
			page = (void *)get_zeroed_page(GFP_KERNEL);
			if (page)
				goto retry;
			spin_lock(&t->slot_lock);
			break;
		}
		slots[k] = s++;
		if (u)
			u->cold++;
	}
	t->slot_hint = s < t->nr_slots ? s : 0;
	spin_unlock(&t->slot_lock);
	free_page((unsigned long)page);
	if (k < want)
		*err = k < n ? -ENOSPC : -EDQUOT;
	return k;
}

/**
 * kv_slot_put_locked() - clear one in-use slot in the map.
 * @t: tier set, slot_lock held.
 * @slot: the slot.
 *
 * An empty chunk gives its bitmap page back (kept as the spare if there is
 * none).  The caller uncharges the slot's user.
 *
 * Return: true, or false (and a warning) if @slot was not in use.
 */
bool kv_slot_put_locked(struct kv_tiers *t, u32 slot)
{
	u64 c = (u64)slot >> KV_SLOT_CHUNK_SHIFT;
	unsigned long *map;

	lockdep_assert_held(&t->slot_lock);
	if (WARN_ON_ONCE(slot >= t->nr_slots || !t->chunk_map[c] ||
			 !test_bit(slot & KV_SLOT_CHUNK_MASK, t->chunk_map[c])))
		return false;
	__clear_bit(slot & KV_SLOT_CHUNK_MASK, t->chunk_map[c]);
	__clear_bit(c, t->chunk_full);
	if (!--t->chunk_used[c]) {
		map = t->chunk_map[c];	/* all bits clear */
		t->chunk_map[c] = NULL;
		if (!t->chunk_spare)
			t->chunk_spare = map;
		else
			free_page((unsigned long)map);
	}
	t->slots_used--;
	return true;
}

/*
 * Chunks with a bitmap page searched for a run before a chunk without one
 * is taken (which always fits a run: the run is at most a few slots).
 */
#define KV_RUN_SEARCH	8

/**
 * kv_slot_run_locked() - take @n consecutive free slots inside one chunk.
 * @t: tier set, slot_lock held.
 * @n: slots wanted, 1..KV_SLOT_CHUNK.
 * @err: out, set when KV_NO_SLOT is returned: -ENOSPC (no chunk has such
 *	a run), or -EAGAIN (the run needs a chunk page and no spare is at
 *	hand: allocate one without the lock, make it the spare, call again).
 *
 * Return: the first slot of the run, or KV_NO_SLOT.
 */
u64 kv_slot_run_locked(struct kv_tiers *t, u32 n, int *err)
{
	u64 c = (u64)t->slot_hint >> KV_SLOT_CHUNK_SHIFT, i, bare = U64_MAX;
	u32 lim, b, tried = 0;
	unsigned long *map;

	lockdep_assert_held(&t->slot_lock);
	for (i = 0; i < t->nr_chunks; i++, c++) {
		if (c >= t->nr_chunks)
			c = 0;
		lim = kv_chunk_slots(t, c);
		if (test_bit(c, t->chunk_full) || lim < n)
			continue;
		if (!t->chunk_map[c]) {
			if (bare == U64_MAX)
				bare = c;
			if (tried >= KV_RUN_SEARCH)
				break;
			continue;
		}
		b = bitmap_find_next_zero_area(t->chunk_map[c], lim, 0, n, 0);
		if (b < lim)
			goto take;
		if (++tried >= KV_RUN_SEARCH && bare != U64_MAX)
			break;
	}
	if (bare == U64_MAX) {
		*err = -ENOSPC;
		return KV_NO_SLOT;
	}
	if (!t->chunk_spare) {
		*err = -EAGAIN;
		return KV_NO_SLOT;
	}
	c = bare;
	t->chunk_map[c] = t->chunk_spare;
	t->chunk_spare = NULL;
	lim = kv_chunk_slots(t, c);
	b = 0;
take:
	map = t->chunk_map[c];
	bitmap_set(map, b, n);
	t->chunk_used[c] += n;
	if (t->chunk_used[c] == lim)
		__set_bit(c, t->chunk_full);
	t->slots_used += n;
	return (c << KV_SLOT_CHUNK_SHIFT) + b;
}

/**
 * kv_slot_free() - return a cold slot.
 * @sp: the space that held it.
 * @slot: a slot from kv_slot_alloc_many().
 */
void kv_slot_free(struct kv_space *sp, u32 slot)
{
	struct kv_tiers *t = sp->tiers;
	struct kv_user *u = sp->user;

	spin_lock(&t->slot_lock);
	if (kv_slot_put_locked(t, slot) && u && !WARN_ON_ONCE(!u->cold))
		u->cold--;
	spin_unlock(&t->slot_lock);
}
