/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kv.h - internal interfaces of the cxl_kv module.
 *
 * Objects
 *   struct kv_tiers  the attached tier set (one at a time): warm nodes, the
 *                    warm budget, cold devices and their slot allocator, the
 *                    demotion worker.
 *   struct kv_space  one KV cache: geometry, one kv_entry per page, the
 *                    policy state, the stats.  Lives as long as its file.
 *
 * Lock order (outer first):
 *   kv_ctl_lock (mutex, main.c)
 *     -> kv_space.lock (mutex)
 *        -> page locks (kv_fault() returns pages locked; kv_demote_pages()
 *           locks every page it zaps, several at once: nobody holding one of
 *           them waits for another or for kv_space.lock)
 *           -> mapping->i_mmap_rwsem, page table locks (unmap_mapping_range)
 *        -> kv_tiers.slot_lock (spinlock)
 *        -> kv_tiers.pool_lock (spinlock, leaf)
 *   page locks of KV_F_ZAP pages (a demoter's)
 *     -> kv_space.share_rwsem of the demoted space (read: its children)
 *        -> mapping->i_mmap_rwsem (the children's mappings)
 *   kv_tiers.spaces_lock (spinlock) is a leaf: only list walks, krefs and
 *   the per-uid space counts (struct kv_user).
 *   kv_policy_lock (spinlock, policy_glue.c) is a leaf: the default_policy
 *   parameter's set and get, and SPACE_CREATE's copy (under kv_ctl_lock).
 * No path takes kv_space.lock while holding another space's lock (the
 * demotion worker ranks victims across spaces but takes their locks one at
 * a time: collect, hand back, demote), and no path waits for warm budget
 * while holding any kv_space.lock (the demotion worker needs those locks to
 * make room).
 */
#ifndef CXL_KV_INTERNAL_H
#define CXL_KV_INTERNAL_H

#include <linux/atomic.h>
#include <linux/blk_types.h>
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/nodemask.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/cxl_kv.h>
#include "kvpolicy.h"

#define KV_NO_SLOT	U32_MAX
/* Cold slots per chunk of the two-level slot map: one page of bits. */
#define KV_SLOT_CHUNK_SHIFT	(PAGE_SHIFT + 3)
#define KV_SLOT_CHUNK		(1U << KV_SLOT_CHUNK_SHIFT)
#define KV_SLOT_CHUNK_MASK	(KV_SLOT_CHUNK - 1)

struct kv_reclaim;
struct kv_space;
struct kv_tiers;

/* ---------------------------------------------------------------------- */
/* stats (stats.c)                                                         */
/* ---------------------------------------------------------------------- */

/**
 * struct kv_stats - counters of a space or of the module (atomic64_t each).
 *
 * Field meanings are those of struct cxl_kv_stats; warm/cold are gauges.
 */
struct kv_stats {
	atomic64_t warm_pages;		/* gauge: pages held on the warm tier */
	atomic64_t cold_pages;		/* gauge: pages whose only copy is cold */
	atomic64_t faults_zero;		/* faults that got a zeroed page */
	atomic64_t faults_warm;		/* faults on resident pages */
	atomic64_t faults_cold;		/* faults that read from the cold tier */
	atomic64_t promotions;		/* pages read back */
	atomic64_t demotions;		/* pages written out */
	atomic64_t clean_drops;		/* pages dropped without I/O */
	atomic64_t wb_aborts;		/* write-backs abandoned (touched/freed) */
	atomic64_t prefetch_issued;	/* pages PREFETCH started to read */
	atomic64_t prefetch_used;	/* prefetched pages later faulted */
	atomic64_t nvme_read_bytes;	/* bytes read from cold devices */
	atomic64_t nvme_write_bytes;	/* bytes written to cold devices */
	atomic64_t io_errors;		/* failed bios */
	atomic64_t alloc_waits;		/* allocations that waited for room */
	atomic64_t alloc_fails;		/* allocations that failed */
	atomic64_t hints;		/* score hints applied */
	atomic64_t lat_hist[CXL_KV_STATS_HIST]; /* cold fault latency, log2 us */
	atomic64_t gup_kept;		/* demotions kept warm: extra references */
};

extern struct kv_stats kv_gstats;

/* Add @n to counter @f of space @sp (may be NULL) and of the module. */
#define kv_stat_add(sp, f, n)						\
	do {								\
		struct kv_space *__sp = (sp);				\
		if (__sp)						\
			atomic64_add((n), &__sp->stats.f);		\
		atomic64_add((n), &kv_gstats.f);			\
	} while (0)
#define kv_stat_inc(sp, f)	kv_stat_add(sp, f, 1)

void kv_stats_record_latency(struct kv_space *sp, u64 ns);
void kv_stats_fill(const struct kv_stats *s, struct cxl_kv_stats *out);
extern const struct attribute_group *kv_sysfs_groups[];

/* ---------------------------------------------------------------------- */
/* tiers (tier.c; warm pages: warm.c; cold slots: slot.c)                 */
/* ---------------------------------------------------------------------- */

/**
 * struct kv_cold_dev - one opened cold block device
 * @file: from bdev_file_open_by_*() with the module as exclusive holder.
 * @slots: pages usable on it.
 */
struct kv_cold_dev {
	struct file *file;
	u64 slots;
};

/**
 * struct kv_user - what the spaces of one uid hold (per tier set)
 * @node: in kv_tiers.users (under kv_tiers.spaces_lock).
 * @uid: the euid that created the spaces.
 * @limited: the per-uid limits apply (every uid but root).
 * @nr_spaces: live spaces of @uid (under spaces_lock); the struct is freed
 *	when the last one is released (after it gave back its pages).
 * @warm: warm pages held by them (charged with the budget).
 * @cold: cold slots held by them (under kv_tiers.slot_lock).
 * @reclaim: set by an allocation that found @uid at its warm limit: the
 *	demotion worker demotes @uid's pages (only) down to its target and
 *	clears it.
 */
struct kv_user {
	struct list_head node;
	kuid_t uid;
	bool limited;
	u32 nr_spaces;
	atomic64_t warm;
	u64 cold;
	bool reclaim;
};

/**
 * struct kv_tiers - the attached tier set
 * @nr_nodes: warm nodes.
 * @nodes: their ids; space streams are striped over them by (layer, head).
 * @budget: warm pages allowed in total.
 * @high_wmark: the demotion worker starts above this many warm pages.
 * @low_wmark: and demotes down to this.
 * @warm: warm pages holding data now (see kv_warm_alloc()); with @nr_pooled
 *	at most @budget.
 * @pool_lock: protects @pool, @nr_pool, @nr_pooled.
 * @pool: per warm node (index into @nodes): freed pages kept for reuse
 *	(kv_warm_alloc() takes them first: no allocation, no zeroing for a
 *	promotion that overwrites the whole page).  Each is charged to the
 *	budget while pooled.
 * @nr_pool: pages in each @pool.
 * @nr_pooled: pages in all pools (read without the lock as a hint).
 * @pool_max: most pages one @pool holds: (budget - high_wmark) / nr_nodes,
 *	headroom the demotion worker keeps free of data anyway.
 * @nr_cold: cold devices.
 * @cold: the devices.
 * @nr_slots: slots in total (nr_cold * the smallest device's slots); slot s
 *	lives on device s % nr_cold at page s / nr_cold.
 * @slot_lock: protects @chunk_map, @chunk_used, @chunk_full, @chunk_spare,
 *	@slot_hint, @slots_used.
 * @nr_chunks: slot chunks (KV_SLOT_CHUNK slots each, the last may be short).
 * @chunk_map: per chunk, its bitmap page (one bit per slot, set = in use),
 *	or NULL while none of its slots is in use.
 * @chunk_used: set bits in each chunk's bitmap.
 * @chunk_full: one bit per chunk, set = every slot of it in use.
 * @chunk_spare: a zeroed page for the next chunk that needs one (kept from
 *	a chunk that emptied, or allocated without the lock), or NULL.
 * @slot_hint: next slot to look at.
 * @slots_used: slots in use.
 * @spaces_lock: protects @spaces, @nr_spaces, @users and each user's
 *	nr_spaces (leaf lock).
 * @spaces: live spaces (kv_space.node), walked by the demotion worker
 *	(and rotated by it when there are more than one round takes).  A space
 *	leaves it only when its release has given back every page and slot,
 *	so DETACH (which needs @nr_spaces == 0) never frees what a release
 *	still uses.
 * @nr_spaces: entries in @spaces.
 * @users: struct kv_user of every uid with a live space.
 * @user_spaces: per-uid space limit (limited users).
 * @max_spaces: module-wide space limit.
 * @user_warm: per-uid warm page limit (limited users).
 * @user_cold: per-uid cold slot limit (limited users).
 * @demote_work: the demotion worker (kv_demote_work()).
 * @rc: the worker's candidate buffers (reclaim.c), used by the worker only
 *	(always queued on system_unbound_wq, so never running twice at once):
 *	no lock.
 * @room_wq: allocations waiting for warm room sleep here; woken whenever
 *	pages are uncharged and when the worker ends a pass.
 * @slot_refs: NULL until the first space with a cold format (pack.c); then
 *	one byte per slot: the packed objects in it, plus one while a write
 *	of it is in flight (an in-use slot with 0 here is a raw slot).
 *	Under @slot_lock.  Written once under kv_ctl_lock and @slot_lock.
 * @rd_align: bytes a packed object's read is aligned to: the largest
 *	logical block size of the cold devices.
 */
struct kv_tiers {
	u32 nr_nodes;
	int nodes[CXL_KV_MAX_NODES];
	u64 budget;
	u64 high_wmark;
	u64 low_wmark;
	atomic64_t warm;
	spinlock_t pool_lock;
	struct page **pool[CXL_KV_MAX_NODES];
	u32 nr_pool[CXL_KV_MAX_NODES];
	u64 nr_pooled;
	u32 pool_max;

	u32 nr_cold;
	struct kv_cold_dev cold[CXL_KV_MAX_COLD];
	u64 nr_slots;
	spinlock_t slot_lock;
	u64 nr_chunks;
	unsigned long **chunk_map;
	u16 *chunk_used;
	unsigned long *chunk_full;
	unsigned long *chunk_spare;
	u64 slot_hint;
	u64 slots_used;

	spinlock_t spaces_lock;
	struct list_head spaces;
	u32 nr_spaces;
	struct list_head users;
	u32 user_spaces;
	u32 max_spaces;
	u64 user_warm;
	u64 user_cold;

	struct work_struct demote_work;
	struct kv_reclaim *rc;
	wait_queue_head_t room_wq;

	u8 *slot_refs;
	u32 rd_align;
};

/* The attached tier set or NULL; written under kv_ctl_lock. */
extern struct kv_tiers *kv_tiers;
extern struct mutex kv_ctl_lock;

int kv_attach(const struct cxl_kv_attach *a);
int kv_detach(void);
void kv_info(struct cxl_kv_info *info);
int kv_user_attach(struct kv_space *sp);
void kv_user_detach(struct kv_space *sp);

/* warm.c */
struct page *kv_warm_alloc(struct kv_tiers *t, struct kv_space *sp,
			   int nid, bool zero);
struct page *kv_warm_try_alloc(struct kv_tiers *t, struct kv_space *sp,
			       int nid);
void kv_warm_free(struct kv_tiers *t, struct kv_space *sp, struct page *page);
void kv_warm_pool_drain(struct kv_tiers *t);
struct folio_batch;
void kv_warm_free_batch(struct kv_tiers *t, struct kv_space *sp,
			struct folio_batch *fb);

/* slot.c */
int kv_slot_map_init(struct kv_tiers *t);
void kv_slot_map_free(struct kv_tiers *t);
u32 kv_slot_alloc_many(struct kv_space *sp, u32 *slots, u32 n, int *err);
void kv_slot_free(struct kv_space *sp, u32 slot);
bool kv_slot_put_locked(struct kv_tiers *t, u32 slot);
u64 kv_slot_run_locked(struct kv_tiers *t, u32 n, int *err);

/* ---------------------------------------------------------------------- */
/* spaces (space.c, fault.c)                                               */
/* ---------------------------------------------------------------------- */

/*
 * Page states (kv_entry.state).  The transient states have one owner:
 * KV_WB belongs to the demotion path that set it (it alone may free the
 * page and the slot); KV_RD belongs to the promoter that set it (it alone
 * installs the page).  Others only wait (KV_RD) or set flags (KV_WB).
 *
 *   ABSENT --fault--> WARM --demote--> WB --written--> COLD --fault/promote--> RD --read--> WARM
 *                       ^               |touched/failed                         |failed
 *                       +---------------+                                        +--> COLD
 *   WARM (clean, valid slot) --demote--> COLD without I/O
 */
enum kv_state {
	KV_ABSENT = 0,	/* never written: no page, no slot */
	KV_WARM,	/* @page valid; @slot valid iff !KV_F_DIRTY */
	KV_COLD,	/* @slot valid, no page */
	KV_WB,		/* being written to @slot; @page valid, unmapped */
	KV_RD,		/* being read from @slot into a private page */
};

#define KV_F_DIRTY	BIT(0)	/* warm copy newer than the cold copy */
#define KV_F_TOUCHED	BIT(1)	/* faulted while KV_WB: stays warm */
#define KV_F_PREFETCH	BIT(2)	/* promoted by PREFETCH, not faulted since */
#define KV_F_ZAP	BIT(3)	/* picked by a demoter, which holds the page
				 * lock and zaps without kv_space.lock; faults
				 * wait on kv_space.wq until it is cleared */
#define KV_F_RDERR	BIT(4)	/* COLD: a fault's read of it failed; the
				 * faults that waited for it SIGBUS */
#define KV_F_PIPE	BIT(5)	/* RD or WARM: read by the layer pipeline,
				 * not faulted since (pipe.c) */

/**
 * struct kv_entry - one page of a space; protected by kv_space.lock
 * @page: the warm copy (WARM, WB) or NULL.
 * @slot: cold slot or KV_NO_SLOT.
 * @state: enum kv_state.
 * @flags: KV_F_*.
 * @obj: 0: @slot holds the page raw; else a packed object (pack.c) that
 *	starts in @slot: KV_OBJ_OFF() and KV_OBJ_LEN() bytes.
 */
struct kv_entry {
	struct page *page;
	u32 slot;
	u8 state;
	u8 flags;
	u16 obj;
};

/**
 * struct kv_pipe - the layer pipeline of a space (pipe.c)
 * @work: carries out the newest plan (on kv_wq); cancelled by release.
 * @layer: the layer the newest LAYER_BEGIN began.
 * @step: its decode step.
 * @depth: layers ahead to promote.
 * @max_pages: its prefetch budget, pages.
 * @gen: bumped by every LAYER_BEGIN: the worker drops a plan whose
 *	generation is not the newest.
 * @busy: @work is queued or running (cleared by it when no newer plan is
 *	waiting); LAYER_BEGIN with CXL_KV_LAYER_F_WAIT waits on kv_space.wq
 *	for it to clear.
 * @blks: the worker's plan buffer (CXL_KV_MAX_PIPE_PAGES / 2 blocks),
 *	allocated by the first LAYER_BEGIN, freed with the space.
 * @cap: pages a plan may read now (<= its max_pages): cut to an eighth
 *	when the pipeline's last KV_PIPE_EPOCH outcomes were mostly unread, doubled
 *	when mostly used; set to max_pages when that changes.
 * @seen: used + late + unread when @cap was last adjusted.
 * @seen_used: used + late then.
 * @probe: plans made while @cap was 0.
 * @layer_begins_seen: @cap was set once.
 * @layer_begins..@over_budget: struct cxl_kv_pipe_stats (atomic, no lock).
 *
 * @layer..@blks are protected by kv_space.lock, except that the worker
 * (the only user of @blks once set) fills @blks without it.
 */
struct kv_pipe {
	struct work_struct work;
	u32 layer;
	u32 step;
	u32 depth;
	u32 max_pages;
	u32 gen;
	bool busy;
	u32 *blks;
	u32 cap;
	u64 seen;
	u64 seen_used;
	u32 probe;
	bool layer_begins_seen;
	atomic64_t layer_begins;
	atomic64_t planned;
	atomic64_t issued;
	atomic64_t used;
	atomic64_t late;
	atomic64_t unread;
	atomic64_t cancelled;
	atomic64_t over_budget;
};

/**
 * struct kv_space - one KV cache
 * @ref: held by the file and by the demotion worker during a pass.
 * @node: in kv_tiers.spaces (under kv_tiers.spaces_lock).
 * @tiers: the tier set (pinned: DETACH fails while spaces live).
 * @user: the uid it is charged to (lives at least as long as the space is
 *	in kv_tiers.spaces).
 * @id: unique id for messages.
 * @geom: as created (SPACE_INFO).
 * @nr_pages: pages in the space.
 * @bph: blocks (pages) per stream.
 * @file: the anon-inode file; its mapping is used for unmap.
 * @lock: protects @ent, @pol, @step, @pins, @dead.
 * @ent: one entry per page (page offset order).
 * @pol: policy state (kvpolicy.h), serialised by @lock.
 * @step: newest decode step reported.
 * @pins: counts the pins PIN has taken: a demoter checks again whether its
 *	blocks are pinned only when this moved while it had the lock dropped.
 * @dead: set by release; no new I/O starts.
 * @wq: waiters for KV_RD, KV_WB and KV_F_ZAP to end (woken on every end).
 * @inflight: I/O batches in flight; release waits for zero.
 * @stats: per-space counters.
 * @cold_fmt: CXL_KV_FMT_* of the pages it demotes (set at creation).
 * @cold_bf16: its lossy formats read the elements as bf16.
 * @pipe: the layer pipeline (its own lock rules, see struct kv_pipe).
 * @parent: a child space (CXL_KV_SPACE_F_SHARE): the space that owns its
 *	shared blocks; NULL otherwise.  Set at creation, never changed.
 * @parent_file: the parent's file, held by the child until its release, so
 *	the parent (its pages, its mapping) outlives every child.
 * @share_blocks: child: blocks of every stream below which the pages are
 *	@parent's (its own entries there stay KV_ABSENT).
 * @frozen: parent: blocks of every stream that are read-only because a
 *	child shares them (only grows; written under @lock, read anywhere).
 * @share_rwsem: parent: protects @children; read by the zap of a demotion
 *	(the page locks of KV_F_ZAP pages held), written by child creation
 *	(kv_ctl_lock held) and child release (nothing held).
 * @children: parent: its live children (kv_space.child_node).
 * @child_node: child: in @parent's @children.
 */
struct kv_space {
	struct kref ref;
	struct list_head node;
	struct kv_tiers *tiers;
	struct kv_user *user;
	u64 id;
	struct cxl_kv_space_info geom;
	u64 nr_pages;
	u32 bph;
	struct file *file;

	struct mutex lock;
	struct kv_entry *ent;
	struct kvp_state *pol;
	u32 step;
	u32 pins;
	bool dead;

	wait_queue_head_t wq;
	atomic_t inflight;
	struct kv_stats stats;

	u8 cold_fmt;
	bool cold_bf16;
	struct kv_pipe pipe;
	struct kv_space *parent;
	struct file *parent_file;
	u32 share_blocks;
	u32 frozen;
	struct rw_semaphore share_rwsem;
	struct list_head children;
	struct list_head child_node;
};

/* Page @pg of child @sp is its parent's (a shared prefix page). */
static inline bool kv_pg_shared(const struct kv_space *sp, u64 pg)
{
	return sp->parent && pg % sp->bph < sp->share_blocks;
}

/* Block @blk (kv_pg_block() numbering) of child @sp is its parent's. */
static inline bool kv_blk_shared(const struct kv_space *sp, u32 blk)
{
	return sp->parent && blk % sp->bph < sp->share_blocks;
}

/* The space whose entry holds page @pg of @sp: @sp or its parent. */
static inline struct kv_space *kv_pg_owner(struct kv_space *sp, u64 pg)
{
	return kv_pg_shared(sp, pg) ? sp->parent : sp;
}

/* Page @pg of @sp may not be written: shared from a parent, or to a child. */
static inline bool kv_pg_readonly(const struct kv_space *sp, u64 pg)
{
	return kv_pg_shared(sp, pg) || pg % sp->bph < READ_ONCE(sp->frozen);
}

int kv_space_create(struct cxl_kv_space_create *c, struct file **filep);
void kv_space_put(struct kv_space *sp);
struct kv_space *kv_space_from_file(struct file *f);
int kv_space_count(void);

/* page index <-> (stream, page) <-> policy block */
static inline u32 kv_pg_block(const struct kv_space *sp, u64 pg)
{
	u64 stream = pg / sp->bph;

	return (u32)((stream / 2) * sp->bph + pg % sp->bph);
}

static inline u64 kv_block_pg(const struct kv_space *sp, u32 blk, int kv)
{
	u64 qh = blk / sp->bph;

	return (qh * 2 + kv) * sp->bph + blk % sp->bph;
}

/* The other page of @pg's block: its V page for a K page and back. */
static inline u64 kv_pg_partner(const struct kv_space *sp, u64 pg)
{
	return (pg / sp->bph) & 1 ? pg - sp->bph : pg + sp->bph;
}

static inline int kv_pg_node(const struct kv_space *sp, u64 pg)
{
	const struct kv_tiers *t = sp->tiers;

	return t->nodes[(pg / sp->bph / 2) % t->nr_nodes];
}

extern const struct vm_operations_struct kv_vm_ops;
int kv_mmap(struct file *file, struct vm_area_struct *vma);

/* ---------------------------------------------------------------------- */
/* tier moves (move.c, promote.c, demote.c, reclaim.c)                    */
/* ---------------------------------------------------------------------- */

/*
 * kv_wq (main.c) runs the completions of asynchronous promotions.  It is
 * the module's own so that module exit can wait for them: a completion
 * lets its space go (inflight reaches zero, release finishes, the last
 * file reference and with it the module reference drop) while it still
 * has module code to run.
 */
extern struct workqueue_struct *kv_wq;

int kv_promote_fault(struct kv_space *sp, u64 pg, u32 slot, struct page *page,
		     ktime_t t0);
#define KV_PROMOTE_WAIT		0
#define KV_PROMOTE_NOWAIT	1
#define KV_PROMOTE_PIPE		2	/* or'ed in: read by the layer pipeline */
#define KV_PROMOTE_TRY		4	/* or'ed in with NOWAIT or @async: never
					 * sleep, -EAGAIN (nothing done) instead */
struct kv_async;
int kv_promote_pages(struct kv_space *sp, const u64 *pgs, u32 n, int mode,
		     bool prefetch, struct kv_async *async, u64 *issued,
		     u64 *resident);
int kv_demote_pages(struct kv_space *sp, const u64 *pgs, u32 n, u64 *done);
struct kv_demoter;
struct kv_demoter *kv_demote_begin(struct kv_space *sp);
int kv_demote_add(struct kv_demoter *d, const u64 *pgs, u32 n);
int kv_demote_end(struct kv_demoter *d, u64 *done);
void kv_demote_work(struct work_struct *work);
void kv_kick_demotion(struct kv_tiers *t);
int kv_reclaim_init(struct kv_tiers *t);
void kv_reclaim_exit(struct kv_tiers *t);

/* cold formats and packed objects (pack.c) */
#define KV_OBJ_UNIT		16	/* bytes: object offsets and lengths */
#define KV_OBJ_OFF(obj)		(((obj) & 0xff) * KV_OBJ_UNIT)
#define KV_OBJ_LEN(obj)		(((obj) >> 8) * KV_OBJ_UNIT)
int kv_cold_fmt_init(struct kv_space *sp, u64 fmt);
void kv_ent_slot_free(struct kv_space *sp, struct kv_entry *e);
void kv_obj_free(struct kv_space *sp, u32 slot, u16 obj);
struct kv_packer;
struct kv_pack;
u32 kv_pack_prepare(struct kv_space *sp, struct kv_packer **pkrp,
		    const u64 *zap, u32 nz, u32 *pslot, u16 *pobj,
		    struct kv_pack **pkp, int *err);
void kv_packer_free(struct kv_packer *pkr);
void kv_pack_submit(struct kv_tiers *t, struct kv_pack *pk, atomic_t *pending,
		    void *priv, bio_end_io_t *end);
void kv_pack_error(struct kv_pack *pk, int err);
int kv_pack_err(struct kv_pack *pk);
int kv_pack_done(struct kv_space *sp, struct kv_pack *pk, u64 *bytes);
u32 kv_obj_read_span(struct kv_tiers *t, u16 obj, u32 *a, u32 *bend);
int kv_obj_decode(struct kv_space *sp, u64 pg, u16 obj, const void *buf,
		  struct page *page, void **dws);

/* policy glue (policy_glue.c) */
void kv_pol_sync_block(struct kv_space *sp, u32 blk, int how);
void kv_policy_defaults_get(struct kvp_params *p);

/* ---------------------------------------------------------------------- */
/* commands: the table and dispatch (cmd.c), one kv_cmd_<verb>() each       */
/* (cmd_range.c, cmd_pin.c, pipe.c); transports copy only                   */
/* ---------------------------------------------------------------------- */

/**
 * struct kv_async - a uring command (KV_CMD_ASYNC, KV_CMD_TRY)
 * @done: KV_CMD_ASYNC: called once with the result when every page is
 *	resident or failed (after the handler returned -EIOCBQUEUED).
 * @nowait: KV_CMD_TRY: a non-blocking issue: the handler must not sleep
 *	(no wait for a lock, I/O or warm room, no direct reclaim) and returns
 *	-EAGAIN, having changed nothing, where it would; the transport then
 *	re-issues the command from io-wq with @nowait false.
 */
struct kv_async {
	void (*done)(struct kv_async *a, int ret);
	bool nowait;
};

/* struct kv_cmd_desc.flags */
#define KV_CMD_CTL	BIT(0)	/* a command of /dev/cxl_kv (nr 0x00-0x1f) */
#define KV_CMD_SPACE	BIT(1)	/* a command of a space fd (nr 0x20-0x3f) */
#define KV_CMD_ADMIN	BIT(2)	/* needs CAP_SYS_ADMIN, checked first */
#define KV_CMD_OUT_ERR	BIT(3)	/* space: struct copied back on failure too */
#define KV_CMD_URING	BIT(4)	/* may come over uring_cmd */
#define KV_CMD_INLINE	BIT(5)	/* uring: may run at a non-blocking issue */
#define KV_CMD_ASYNC	BIT(6)	/* uring: gets a kv_async, may -EIOCBQUEUED */
#define KV_CMD_TRY	BIT(7)	/* uring: tried at a non-blocking issue with
				 * kv_async.nowait, -EAGAIN punts it */

#define KV_CMD_NR	0x40	/* command nrs: 0x00-0x3f */
#define KV_CMD_MAX_SIZE	512	/* largest struct: the transports' buffers */

/**
 * struct kv_cmd_desc - one command: an entry of kv_cmds[] (cmd.c)
 * @cmd: its ioctl number; _IOC_SIZE() is the size of its struct.
 * @flags: KV_CMD_*.  KV_CMD_INLINE: never waits for I/O, for warm room or
 *	for another space's work (only takes kv_space.lock briefly and copies
 *	from and to user memory).
 * @ctl: the handler of a KV_CMD_CTL command; @newfile: SPACE_CREATE's new
 *	file.  Returns 0, a reserved fd, or -errno.
 * @space: the handler of a KV_CMD_SPACE command; @async: the uring
 *	command of a KV_CMD_ASYNC or KV_CMD_TRY command, else NULL.  Returns 0,
 *	-EIOCBQUEUED (only with @async), or -errno.
 */
struct kv_cmd_desc {
	unsigned int cmd;
	unsigned int flags;
	long (*ctl)(void *arg, struct file **newfile);
	long (*space)(struct kv_space *sp, void *arg, struct kv_async *async);
};

const struct kv_cmd_desc *kv_cmd_find(unsigned int cmd, unsigned int where);
long kv_cmd_call(const struct kv_cmd_desc *d, struct kv_space *sp, void *arg,
		 struct kv_async *async, struct file **newfile);
long kv_ctl_copy_out(void __user *uarg, const void *buf, size_t sz, long ret,
		     struct file *newfile);

int kv_cmd_hints(struct kv_space *sp, struct cxl_kv_hints *h);
int kv_cmd_access(struct kv_space *sp, struct cxl_kv_ranges *r);
int kv_cmd_prefetch(struct kv_space *sp, struct cxl_kv_prefetch *p,
		    struct kv_async *async);
int kv_cmd_promote(struct kv_space *sp, struct cxl_kv_ranges *r);
int kv_cmd_demote(struct kv_space *sp, struct cxl_kv_ranges *r);
int kv_cmd_pin(struct kv_space *sp, struct cxl_kv_ranges *r, bool pin);
int kv_cmd_residency(struct kv_space *sp, struct cxl_kv_residency *q);
int kv_cmd_params_get(struct kv_space *sp, struct cxl_kv_params *p);
int kv_cmd_params_set(struct kv_space *sp, struct cxl_kv_params *p);

/* LIST (list.c) */
int kv_list(struct cxl_kv_list *l);
/* the layer pipeline (pipe.c) */
void kv_pipe_init(struct kv_space *sp);
void kv_pipe_stop(struct kv_space *sp);
void kv_pipe_free(struct kv_space *sp);
void kv_pipe_fault(struct kv_space *sp, struct kv_entry *e);
void kv_pipe_leave(struct kv_space *sp, struct kv_entry *e);
int kv_cmd_layer_begin(struct kv_space *sp, struct cxl_kv_layer_begin *lb,
		       bool nowait);
int kv_cmd_pipe_stats(struct kv_space *sp, struct cxl_kv_pipe_stats *ps);

struct io_uring_cmd;
int kv_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);

#endif /* CXL_KV_INTERNAL_H */
