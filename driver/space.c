// SPDX-License-Identifier: GPL-2.0
/*
 * space.c - KV spaces: creation from a geometry, the anon-inode file, its
 * lifetime and teardown.
 *
 * A space is reachable only through its file: the fd SPACE_CREATE returns,
 * its dups and SCM_RIGHTS copies, and its mappings (each VMA holds the
 * file).  ->release therefore runs when the last fd is closed and the last
 * mapping is gone; it waits for I/O in flight, frees every page and slot and
 * drops the file's reference.  The demotion worker and I/O batches hold
 * their own references (kv_space.ref) so the struct outlives them.
 *
 * Each space gets its own inode (anon_inode_create_getfile()) so that
 * unmap_mapping_range() on its mapping zaps only this space's PTEs.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "kv.h"
#include "kvgeom.h"

static atomic64_t kv_space_ids = ATOMIC64_INIT(0);

static void kv_space_free(struct kref *ref)
{
	struct kv_space *sp = container_of(ref, struct kv_space, ref);

	kv_pipe_free(sp);
	kvfree(sp->pol);
	kvfree(sp->ent);
	kfree(sp);
}

/**
 * kv_space_put() - drop a reference to @sp.
 * @sp: space.
 */
void kv_space_put(struct kv_space *sp)
{
	kref_put(&sp->ref, kv_space_free);
}

/* Free every page and slot; no I/O is in flight and no mapping exists. */
static void kv_space_drain(struct kv_space *sp)
{
	struct kv_tiers *t = sp->tiers;
	u64 pg, cold = 0;

	mutex_lock(&sp->lock);
	for (pg = 0; pg < sp->nr_pages; pg++) {
		struct kv_entry *e = &sp->ent[pg];

		WARN_ON_ONCE(e->state == KV_WB || e->state == KV_RD);
		if (e->page) {
			kv_warm_free(t, sp, e->page);
			e->page = NULL;
		}
		if (e->state == KV_COLD)
			cold++;
		if (e->slot != KV_NO_SLOT)
			kv_ent_slot_free(sp, e);
		e->state = KV_ABSENT;
		if (!(pg & 1023))
			cond_resched();
	}
	kv_stat_add(sp, cold_pages, -(s64)cold);
	mutex_unlock(&sp->lock);
}

static int kv_space_release(struct inode *inode, struct file *file)
{
	struct kv_space *sp = file->private_data;
	struct kv_tiers *t = sp->tiers;
	bool last;

	mutex_lock(&sp->lock);
	sp->dead = true;
	mutex_unlock(&sp->lock);
	/* The pipeline's worker ends (its promotions see dead) and is gone. */
	kv_pipe_stop(sp);
	/* Batches in flight finish (and install or free their pages) first. */
	wait_event(sp->wq, atomic_read(&sp->inflight) == 0);

	/*
	 * The space stays counted in the tier set until everything it holds
	 * is given back: DETACH refuses while it is, so it cannot free the
	 * slot map, the pools or the tier set under this.
	 */
	kv_space_drain(sp);
	if (sp->parent) {
		/* The parent's demotions no longer zap our mapping. */
		down_write(&sp->parent->share_rwsem);
		list_del(&sp->child_node);
		up_write(&sp->parent->share_rwsem);
	}
	spin_lock(&t->spaces_lock);
	last = t->nr_spaces == 1;
	spin_unlock(&t->spaces_lock);
	/* No space left to promote into: give the pooled pages back. */
	if (last)
		kv_warm_pool_drain(t);
	pr_debug("cxl_kv: space %llu released\n", sp->id);
	/* Last use of the tier set: DETACH may free it from here on. */
	kv_user_detach(sp);
	/* A parent outlives its children: it may go from here on. */
	if (sp->parent_file)
		fput(sp->parent_file);
	kv_space_put(sp);
	return 0;
}

static long kv_space_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg);

static const struct file_operations kv_space_fops = {
	.owner		= THIS_MODULE,
	.release	= kv_space_release,
	.unlocked_ioctl	= kv_space_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= kv_mmap,
	.uring_cmd	= kv_uring_cmd,
	.llseek		= noop_llseek,
};

/**
 * kv_space_from_file() - the space behind @f, or NULL if @f is not one.
 * @f: a file.
 */
struct kv_space *kv_space_from_file(struct file *f)
{
	return f->f_op == &kv_space_fops ? f->private_data : NULL;
}

/* ioctl transport of the space fd: copy in, kv_cmd_call(), copy out. */
static long kv_space_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	const struct kv_cmd_desc *d = kv_cmd_find(cmd, KV_CMD_SPACE);
	struct kv_space *sp = file->private_data;
	void __user *uarg = (void __user *)arg;
	size_t sz = _IOC_SIZE(cmd);
	u8 buf[KV_CMD_MAX_SIZE];
	long ret;

	if (!d)
		return -ENOTTY;
	if (copy_from_user(buf, uarg, sz))
		return -EFAULT;
	ret = kv_cmd_call(d, sp, buf, NULL, NULL);
	/* KV_CMD_OUT_ERR: failed or not, the out fields say how far it got. */
	if ((!ret || d->flags & KV_CMD_OUT_ERR) &&
	    copy_to_user(uarg, buf, sz) && !ret)
		return -EFAULT;
	return ret;
}

#define kv_geom_reject(fmt, ...) \
	pr_warn_ratelimited("cxl_kv: space rejected (%s): " fmt, current->comm, \
			    ##__VA_ARGS__)

/*
 * The geometry, checked and laid out by kvgeom (the library's
 * cxl_kv_layout_init() runs the same code): one errno per failure.
 */
static int kv_space_geometry(const struct cxl_kv_space_create *c,
			     struct cxl_kv_space_info *g, u64 *nr_pages)
{
	struct kvg_space s = {
		.layers = c->layers,
		.kv_heads = c->kv_heads,
		.head_dim = c->head_dim,
		.dtype_bytes = c->dtype_bytes,
		.max_tokens = c->max_tokens,
	};
	struct kvg_layout lo;
	enum kvg_why why;
	int ret;

	BUILD_BUG_ON(KVG_EINVAL != EINVAL || KVG_E2BIG != E2BIG);
	BUILD_BUG_ON(KVG_MAX_LAYERS != CXL_KV_MAX_LAYERS ||
		     KVG_MAX_KV_HEADS != CXL_KV_MAX_KV_HEADS ||
		     KVG_MAX_SPACE_PAGES != CXL_KV_MAX_SPACE_PAGES);
	if (c->flags & ~CXL_KV_SPACE_F_ALL)
		return -EINVAL;
	ret = kvg_layout(&s, PAGE_SIZE, &lo, &why);
	if (ret) {
		kv_geom_reject("%s (layers %u kv_heads %u head_dim %u dtype_bytes %u max_tokens %llu)\n",
			       kvg_why_str(why), c->layers, c->kv_heads,
			       c->head_dim, c->dtype_bytes, c->max_tokens);
		return ret;
	}
	g->layers = c->layers;
	g->kv_heads = c->kv_heads;
	g->head_dim = c->head_dim;
	g->dtype_bytes = c->dtype_bytes;
	g->max_tokens = c->max_tokens;
	g->flags = c->flags;
	g->token_bytes = lo.token_bytes;
	g->tokens_per_block = lo.tokens_per_block;
	g->blocks_per_stream = lo.blocks_per_stream;
	g->stream_bytes = lo.stream_bytes;
	g->mmap_bytes = lo.mmap_bytes;
	*nr_pages = lo.pages;
	return 0;
}

/*
 * Make blocks [0, @blocks) of every stream of @sp read-only (a child is
 * about to share them).  Once @sp->frozen says so, kv_page_mkwrite()
 * refuses them; a write that passed it before holds its page's lock until
 * the core has made the PTE writable, so each such page is locked and
 * unlocked once (waiting those out), and then every PTE of the range is
 * zapped: later writes fault and are refused.  KV_F_ZAP pages are being
 * zapped by a demoter that took their lock after any such write.
 */
static int kv_share_freeze(struct kv_space *sp, u32 blocks)
{
	u64 streams = sp->nr_pages / sp->bph, s, pg;
	u32 b, since = 0, old;

	mutex_lock(&sp->lock);
	old = sp->frozen;
	if (blocks <= old) {
		mutex_unlock(&sp->lock);
		return 0;
	}
	WRITE_ONCE(sp->frozen, blocks);
	for (s = 0; s < streams; s++) {
		for (b = old; b < blocks; b++) {
			struct kv_entry *e;

			pg = s * sp->bph + b;
			e = &sp->ent[pg];
			if (e->page && !(e->flags & KV_F_ZAP)) {
				lock_page(e->page);
				unlock_page(e->page);
			}
			if (++since == 1024) {
				since = 0;
				mutex_unlock(&sp->lock);
				cond_resched();
				mutex_lock(&sp->lock);
			}
		}
	}
	mutex_unlock(&sp->lock);
	for (s = 0; s < streams; s++)
		unmap_mapping_range(sp->file->f_mapping,
				    (loff_t)(s * sp->bph + old) << PAGE_SHIFT,
				    (loff_t)(blocks - old) << PAGE_SHIFT, 1);
	return 0;
}

/*
 * CXL_KV_SPACE_F_SHARE: find the parent in @c->reserved[1], check it and
 * the prefix, and hold its file in @sp->parent_file.  The parent is made
 * read-only over the prefix only once everything else has succeeded
 * (kv_space_share_commit()).
 */
static int kv_space_share_get(struct kv_space *sp,
			      const struct cxl_kv_space_create *c)
{
	u64 fd = c->reserved[CXL_KV_SPACE_SHARE_PARENT];
	u64 tokens = c->reserved[CXL_KV_SPACE_SHARE_TOKENS];
	const struct cxl_kv_space_info *pg;
	struct kv_space *parent;
	struct file *pf;

	if (fd > INT_MAX)
		return -EBADF;
	pf = fget(fd);
	if (!pf)
		return -EBADF;
	parent = kv_space_from_file(pf);
	if (!parent || parent->parent) {
		kv_geom_reject("share parent fd %llu is not a space, or a child\n",
			       fd);
		goto out_put_file;
	}
	pg = &parent->geom;
	if (pg->layers != sp->geom.layers || pg->kv_heads != sp->geom.kv_heads ||
	    pg->head_dim != sp->geom.head_dim ||
	    pg->dtype_bytes != sp->geom.dtype_bytes ||
	    pg->max_tokens != sp->geom.max_tokens) {
		kv_geom_reject("share: geometry differs from parent %llu\n",
			       parent->id);
		goto out_put_file;
	}
	if (tokens < sp->geom.tokens_per_block || tokens > sp->geom.max_tokens) {
		kv_geom_reject("share: prefix of %llu tokens not in [%u, %llu]\n",
			       tokens, sp->geom.tokens_per_block,
			       sp->geom.max_tokens);
		goto out_put_file;
	}
	sp->parent = parent;
	sp->parent_file = pf;
	sp->share_blocks = tokens / sp->geom.tokens_per_block;
	return 0;

out_put_file:
	fput(pf);
	return -EINVAL;
}

/* The child is complete: freeze the parent's prefix, join its children. */
static void kv_space_share_commit(struct kv_space *sp)
{
	struct kv_space *parent = sp->parent;

	kv_share_freeze(parent, sp->share_blocks);
	down_write(&parent->share_rwsem);
	list_add_tail(&sp->child_node, &parent->children);
	up_write(&parent->share_rwsem);
}

/**
 * kv_space_create() - SPACE_CREATE.
 * @c: the request; its out fields are filled in.
 * @filep: out: the new file, to fd_install() once @c is copied out.
 *
 * Context: process, kv_ctl_lock held.
 * Return: the reserved fd number (>= 0) or -errno.
 */
int kv_space_create(struct cxl_kv_space_create *c, struct file **filep)
{
	struct kv_tiers *t = kv_tiers;
	struct kvp_params params;
	struct kvp_geom pg;
	struct kv_space *sp;
	struct file *file;
	u64 nr_pages, i, psize;
	int fd, ret;

	/*
	 * 16 bytes per page here and 4 in the policy: 0.49 % of the KV, under
	 * the 0.5 % budget (issue 15; tools/kvscale.c counts 16 too).
	 */
	BUILD_BUG_ON(sizeof(struct kv_entry) != 16);
	lockdep_assert_held(&kv_ctl_lock);
	if (!t)
		return -ENODEV;
	/* Metadata proportional to the space: charged to the caller's memcg. */
	sp = kzalloc(sizeof(*sp), GFP_KERNEL_ACCOUNT);
	if (!sp)
		return -ENOMEM;
	ret = kv_space_geometry(c, &sp->geom, &nr_pages);
	if (ret)
		goto out_free_space;
	sp->tiers = t;
	ret = kv_cold_fmt_init(sp, CXL_KV_SPACE_COLD_FORMAT(c));
	if (ret) {
		kv_geom_reject("cold format %#llx refused: %d\n",
			       CXL_KV_SPACE_COLD_FORMAT(c), ret);
		goto out_free_space;
	}

	/* Every kvgeom layout is a valid policy geometry (kvgeom.h). */
	pg.layers = c->layers;
	pg.kv_heads = c->kv_heads;
	pg.blocks_per_head = sp->geom.blocks_per_stream;
	pg.tokens_per_block = sp->geom.tokens_per_block;

	if (c->flags & CXL_KV_SPACE_F_SHARE) {
		ret = kv_space_share_get(sp, c);
		if (ret)
			goto out_free_space;
	}

	kref_init(&sp->ref);
	INIT_LIST_HEAD(&sp->node);
	init_rwsem(&sp->share_rwsem);
	INIT_LIST_HEAD(&sp->children);
	INIT_LIST_HEAD(&sp->child_node);
	mutex_init(&sp->lock);
	init_waitqueue_head(&sp->wq);
	atomic_set(&sp->inflight, 0);
	kv_pipe_init(sp);
	sp->tiers = t;
	sp->nr_pages = nr_pages;
	sp->bph = sp->geom.blocks_per_stream;
	sp->id = atomic64_inc_return(&kv_space_ids);
	sp->geom.id = sp->id;

	ret = -ENOMEM;
	sp->ent = kvcalloc(nr_pages, sizeof(*sp->ent), GFP_KERNEL_ACCOUNT);
	if (!sp->ent)
		goto out_free_space;
	/* Up to 2^24 entries (256 MiB): let others run on the way. */
	for (i = 0; i < nr_pages; i++) {
		sp->ent[i].slot = KV_NO_SLOT;
		if (!(i & 0xffff))
			cond_resched();
	}
	psize = kvp_state_size(&pg);
	sp->pol = kvzalloc(psize, GFP_KERNEL_ACCOUNT);
	if (!sp->pol)
		goto out_free_ent;
	/* the module parameter default_policy (policy_glue.c) */
	kv_policy_defaults_get(&params);
	ret = kvp_init(sp->pol, psize, &pg, &params);
	if (WARN_ON_ONCE(ret))
		goto out_free_pol;

	fd = get_unused_fd_flags(O_RDWR |
				 (c->flags & CXL_KV_SPACE_F_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0) {
		ret = fd;
		goto out_free_pol;
	}
	/* Charged to the caller's uid and live (the worker may see it). */
	ret = kv_user_attach(sp);
	if (ret)
		goto out_put_fd;
	file = anon_inode_create_getfile("[cxl_kv]", &kv_space_fops, sp,
					 O_RDWR, NULL);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_user_detach;
	}
	/*
	 * The pages are not on the LRU and the policy keeps its own recency:
	 * the core need not age them when it zaps a young PTE.
	 */
	file->f_mode |= FMODE_NOREUSE;
	sp->file = file;
	if (sp->parent)
		kv_space_share_commit(sp);

	c->fd = fd;
	c->tokens_per_block = sp->geom.tokens_per_block;
	c->token_bytes = sp->geom.token_bytes;
	c->blocks_per_stream = sp->geom.blocks_per_stream;
	c->stream_bytes = sp->geom.stream_bytes;
	c->mmap_bytes = sp->geom.mmap_bytes;
	*filep = file;
	return fd;

out_user_detach:
	kv_user_detach(sp);
	put_unused_fd(fd);
	if (sp->parent_file)
		fput(sp->parent_file);
	/* The demotion worker may hold a reference: the last put frees. */
	kv_space_put(sp);
	return ret;
out_put_fd:
	put_unused_fd(fd);
out_free_pol:
	kvfree(sp->pol);
out_free_ent:
	kvfree(sp->ent);
out_free_space:
	if (sp->parent_file)
		fput(sp->parent_file);
	kfree(sp);
	return ret;
}
