// SPDX-License-Identifier: GPL-2.0
/*
 * fault.c - mmap of a space and its page faults.
 *
 * Mappings are MAP_SHARED only.  The VMA has ->page_mkwrite, so the core
 * maps every page read-only first and calls kv_page_mkwrite() on the first
 * write: that is the write tracking (KV_F_DIRTY) which lets a clean page
 * with a valid cold copy be dropped without I/O.
 *
 * kv_fault():
 *   WARM / WB  map the page (WB: mark TOUCHED so the mover keeps it warm)
 *   ABSENT     a zeroed page on the warm node (__GFP_THISNODE)
 *   COLD       RD, start the read (kv_promote_fault(): installed from
 *              kv_wq when it completes), then wait as for RD
 *   RD / ZAP   wait for the reader or the demoter (kv_fault_wait(): the
 *              mmap lock dropped and VM_FAULT_RETRY where the fault flags
 *              allow it, killable where they allow that), look again
 * Allocation happens with kv_space.lock dropped (it may wait for the
 * demotion worker, which needs that lock); the state is revalidated after.
 * Any failure is VM_FAULT_SIGBUS: never a zero page for data that exists
 * (a failed read: the faults that waited for it, see KV_F_RDERR).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "kv.h"

/* dax-style: one check for mmap and fault. */
static int kv_check_vma(struct kv_space *sp, struct vm_area_struct *vma,
			const char *func)
{
	if (!(vma->vm_flags & VM_SHARED)) {
		pr_info_ratelimited("cxl_kv: %s: %s: private mapping refused\n",
				    current->comm, func);
		return -EINVAL;
	}
	if (vma->vm_pgoff >= sp->nr_pages) {
		pr_info_ratelimited("cxl_kv: %s: %s: offset %lu pages past the end (%llu)\n",
				    current->comm, func, vma->vm_pgoff,
				    sp->nr_pages);
		return -EINVAL;
	}
	return 0;
}

/*
 * Hand @page to the core, locked: the core installs the PTE under the page
 * lock, and kv_demote_pages() takes the page lock before it zaps, so a zap
 * that follows our unlock of kv_space.lock cannot miss a PTE still being
 * installed (which would leave a user mapping of a freed page).
 * Lock order: kv_space.lock -> page lock, for pages not KV_F_ZAP: the
 * demoter holds the locks of those across its zap without kv_space.lock and
 * retakes kv_space.lock before it lets them go (see kv_fault_wait()).
 */
static vm_fault_t kv_map(struct vm_fault *vmf, struct page *page)
{
	get_page(page);
	lock_page(page);
	vmf->page = page;
	return VM_FAULT_LOCKED;
}

/* A page the fault cannot map yet: being read (KV_RD) or zapped (KV_F_ZAP). */
static bool kv_busy(const struct kv_entry *e)
{
	return READ_ONCE(e->state) == KV_RD || READ_ONCE(e->flags) & KV_F_ZAP;
}

/*
 * Wait until @e is no longer busy, the way __folio_lock_or_retry() waits
 * for a locked folio: on the first try of a fault that may retry, drop the
 * mmap (or VMA) lock, wait (killable if the fault is) and return
 * VM_FAULT_RETRY; with FAULT_FLAG_RETRY_NOWAIT return VM_FAULT_RETRY at
 * once, the lock still held.  Otherwise wait with the lock held, killable
 * if the fault is (on a fatal signal the lock is dropped and
 * VM_FAULT_RETRY returned), else uninterruptibly.  Returns 0 when the wait
 * ended with the lock held: look again.
 *
 * A KV_RD page is read by a batch that ends by I/O completion alone (the
 * fault's own read too: kv_promote_fault()); a KV_F_ZAP page by a demoter
 * that only zaps.  With the lock dropped the VMA may go: the file is held
 * across the wait (it holds the space and the module).
 */
static vm_fault_t kv_fault_wait(struct vm_fault *vmf, struct kv_space *sp,
				struct kv_entry *e)
{
	unsigned int flags = vmf->flags;
	struct file *file;

	if (fault_flag_allow_retry_first(flags)) {
		if (flags & FAULT_FLAG_RETRY_NOWAIT)
			return VM_FAULT_RETRY;
		file = get_file(vmf->vma->vm_file);
		release_fault_lock(vmf);
		if (flags & FAULT_FLAG_KILLABLE)
			wait_event_killable(sp->wq, !kv_busy(e));
		else
			wait_event(sp->wq, !kv_busy(e));
		fput(file);
		return VM_FAULT_RETRY;
	}
	if (flags & FAULT_FLAG_KILLABLE) {
		if (wait_event_killable(sp->wq, !kv_busy(e))) {
			release_fault_lock(vmf);
			return VM_FAULT_RETRY;
		}
		return 0;
	}
	wait_event(sp->wq, !kv_busy(e));
	return 0;
}

/* A write to a shared prefix page: refused, the task gets SIGSEGV. */
static vm_fault_t kv_shared_write(struct kv_space *sp, u64 pg)
{
	pr_info_ratelimited("cxl_kv: %s: space %llu page %llu: write to a shared prefix page\n",
			    current->comm, sp->id, pg);
	return VM_FAULT_SIGSEGV;
}

#define KV_FAULT_RA	8	/* most blocks a cold fault reads ahead */

/*
 * Readahead after a cold fault: the policy's window around the block
 * (kvp_prefetch_window(): cold neighbours of the same head, in decode phase
 * only, when CXL_KV_POLICY_F_PREFETCH is set), promoted asynchronously.
 * Skipped above the high watermark: it would only evict something else.
 */
static void kv_fault_readahead(struct kv_space *sp, const u32 *blks, int n)
{
	u64 pgs[2 * KV_FAULT_RA], issued = 0, resident = 0;
	int i;

	if (atomic64_read(&sp->tiers->warm) >= sp->tiers->high_wmark) {
		/* The policy saw the blocks as candidates; nothing was read. */
		return;
	}
	for (i = 0; i < n; i++) {
		pgs[2 * i] = kv_block_pg(sp, blks[i], 0);
		pgs[2 * i + 1] = kv_block_pg(sp, blks[i], 1);
	}
	kv_promote_pages(sp, pgs, 2 * n, KV_PROMOTE_NOWAIT, true, NULL,
			 &issued, &resident);
}

static vm_fault_t kv_fault(struct vm_fault *vmf)
{
	struct kv_space *sp = vmf->vma->vm_file->private_data;
	struct kv_tiers *t = sp->tiers;
	struct page *fresh = NULL;
	u64 pg = vmf->pgoff;
	struct kv_entry *e;
	vm_fault_t ret;
	u32 ra[KV_FAULT_RA];
	bool read = false, zeroed = false;
	ktime_t t0 = 0;
	int nra;
	u32 slot;

	if (kv_check_vma(sp, vmf->vma, __func__) || pg >= sp->nr_pages)
		return VM_FAULT_SIGBUS;
	if (vmf->flags & FAULT_FLAG_WRITE && kv_pg_readonly(sp, pg))
		return kv_shared_write(sp, pg);
	/*
	 * A child's shared page is its parent's: everything below acts on the
	 * parent's entry, lock, policy and counters; only the PTE goes into
	 * this VMA (the parent's demotions zap it through share_rwsem).
	 */
	sp = kv_pg_owner(sp, pg);
	e = &sp->ent[pg];
again:
	/*
	 * A cold page needs a page to read into, a never-written one a zeroed
	 * page: take it before the lock (a racy peek; the state is checked
	 * again under the lock, which comes back here when it needs one).
	 */
	if (!fresh) {
		u8 state = READ_ONCE(e->state);

		if (state == KV_COLD || state == KV_ABSENT) {
			if (state == KV_COLD && !t0)
				t0 = ktime_get();
			zeroed = state == KV_ABSENT;
			fresh = kv_warm_alloc(t, sp, kv_pg_node(sp, pg), zeroed);
			if (!fresh)
				return VM_FAULT_SIGBUS;
		}
	}
	mutex_lock(&sp->lock);
	switch (e->state) {
	case KV_WB:
		e->flags |= KV_F_TOUCHED;
		fallthrough;
	case KV_WARM:
		if (e->flags & KV_F_ZAP) {
			/* A demoter holds the page lock and zaps: wait. */
			mutex_unlock(&sp->lock);
			goto wait;
		}
		kv_pipe_fault(sp, e);
		if (e->flags & KV_F_PREFETCH) {
			e->flags &= ~KV_F_PREFETCH;
			kv_stat_inc(sp, prefetch_used);
			kvp_on_access(sp->pol, kv_pg_block(sp, pg), sp->step);
		}
		/* A retried fault was counted by the read it waited for. */
		if (!read && !(vmf->flags & FAULT_FLAG_TRIED))
			kv_stat_inc(sp, faults_warm);
		ret = kv_map(vmf, e->page);
		mutex_unlock(&sp->lock);
		goto out_free_fresh;
	case KV_RD:
		kv_pipe_fault(sp, e);
		mutex_unlock(&sp->lock);
		goto wait;
	case KV_ABSENT:
		if (!fresh) {
			mutex_unlock(&sp->lock);
			goto again;
		}
		/* Taken for a cold read that is not needed: old contents. */
		if (!zeroed)
			clear_highpage(fresh);
		e->page = fresh;
		fresh = NULL;
		e->state = KV_WARM;
		e->flags = KV_F_DIRTY;	/* no cold copy */
		kv_stat_inc(sp, faults_zero);
		kv_pol_sync_block(sp, kv_pg_block(sp, pg), KVP_BY_DEMAND);
		ret = kv_map(vmf, e->page);
		mutex_unlock(&sp->lock);
		return ret;
	case KV_COLD:
		if (e->flags & KV_F_RDERR &&
		    (read || vmf->flags & FAULT_FLAG_TRIED)) {
			/* The read this fault waited for failed. */
			e->flags &= ~KV_F_RDERR;
			mutex_unlock(&sp->lock);
			pr_warn_ratelimited("cxl_kv: space %llu page %llu: cold read failed\n",
					    sp->id, pg);
			ret = VM_FAULT_SIGBUS;
			goto out_free_fresh;
		}
		if (!fresh) {
			mutex_unlock(&sp->lock);
			goto again;
		}
		break;
	default:
		WARN_ON_ONCE(1);
		mutex_unlock(&sp->lock);
		ret = VM_FAULT_SIGBUS;
		goto out_free_fresh;
	}

	/*
	 * KV_COLD with a page in hand: read it.  The block is resident for
	 * the policy from here (KV_RD counts as warm), so the access and the
	 * readahead window are taken now; a failed read settles it cold.
	 */
	if (!t0)
		t0 = ktime_get();
	e->state = KV_RD;
	e->flags = 0;
	slot = e->slot;
	kv_pol_sync_block(sp, kv_pg_block(sp, pg), KVP_BY_DEMAND);
	kvp_on_access(sp->pol, kv_pg_block(sp, pg), sp->step);
	nra = kvp_prefetch_window(sp->pol, kv_pg_block(sp, pg), ra, KV_FAULT_RA);
	mutex_unlock(&sp->lock);

	if (kv_promote_fault(sp, pg, slot, fresh, t0)) {
		mutex_lock(&sp->lock);
		e->state = KV_COLD;
		kv_pol_sync_block(sp, kv_pg_block(sp, pg), KVP_BY_ABORT);
		mutex_unlock(&sp->lock);
		wake_up_all(&sp->wq);
		ret = VM_FAULT_SIGBUS;
		goto out_free_fresh;
	}
	fresh = NULL;
	read = true;
	/*
	 * Readahead takes kv_space.lock and may wait for room: it runs with
	 * no page locked (page lock -> kv_space.lock would invert the lock
	 * order), while the demand read is in flight.
	 */
	if (nra > 0)
		kv_fault_readahead(sp, ra, nra);
wait:
	/* Nothing of the space may be touched once the wait dropped the lock. */
	if (fresh) {
		kv_warm_free(t, sp, fresh);
		fresh = NULL;
	}
	ret = kv_fault_wait(vmf, sp, e);
	if (!ret)
		goto again;

out_free_fresh:
	if (fresh)
		kv_warm_free(t, sp, fresh);
	return ret;
}

/*
 * First write to a mapped page: it is dirty from now on and any cold copy
 * is stale.  While KV_WB the slot belongs to the mover; it sees DIRTY when
 * it revalidates.  Returns with the page locked (the page has no ->mapping,
 * so the core must not be left to lock it and look for truncation), locked
 * while kv_space.lock is still held (see below).
 */
static vm_fault_t kv_page_mkwrite(struct vm_fault *vmf)
{
	struct kv_space *sp = vmf->vma->vm_file->private_data;
	struct page *page = vmf->page;
	u64 pg = vmf->pgoff;
	struct kv_entry *e;

	if (pg >= sp->nr_pages)
		return VM_FAULT_SIGBUS;
	if (kv_pg_shared(sp, pg))
		return kv_shared_write(sp, pg);
	e = &sp->ent[pg];
	mutex_lock(&sp->lock);
	/* Under the lock: kv_share_freeze() sets frozen under it. */
	if (kv_pg_readonly(sp, pg)) {
		mutex_unlock(&sp->lock);
		return kv_shared_write(sp, pg);
	}
	if (e->page != page || (e->state != KV_WARM && e->state != KV_WB)) {
		/* Demoted since the read fault mapped it: retry the access. */
		mutex_unlock(&sp->lock);
		return VM_FAULT_NOPAGE;
	}
	if (e->flags & KV_F_ZAP) {
		/*
		 * Being zapped: the PTE is going; retry once it is gone (the
		 * zap is CPU work, no I/O; a fatal signal ends the wait).
		 * ->page_mkwrite cannot return VM_FAULT_RETRY.
		 */
		mutex_unlock(&sp->lock);
		wait_event_killable(sp->wq, !(READ_ONCE(e->flags) & KV_F_ZAP));
		return VM_FAULT_NOPAGE;
	}
	/*
	 * do_shared_fault() unlocks the page between ->fault and here, so a
	 * demotion may have started write-back meanwhile (its zap found no PTE
	 * yet).  The PTE the core installs after we return is a new mapping of
	 * a KV_WB page: mark it TOUCHED so the mover keeps the page.
	 */
	if (e->state == KV_WB)
		e->flags |= KV_F_TOUCHED;
	if (!(e->flags & KV_F_DIRTY)) {
		e->flags |= KV_F_DIRTY;
		if (e->state == KV_WARM && e->slot != KV_NO_SLOT)
			kv_ent_slot_free(sp, e);
	}
	kvp_on_write(sp->pol, kv_pg_block(sp, pg), sp->step);
	/*
	 * Lock the page before dropping kv_space.lock: the core makes the PTE
	 * writable under the page lock, and the demoter zaps only with it
	 * held.  Locking after the unlock would let a demotion zap, clear
	 * DIRTY and a racing read fault re-map the page between; pte_same()
	 * in the core would then pass and the write go unrecorded.
	 */
	lock_page(page);
	mutex_unlock(&sp->lock);
	return VM_FAULT_LOCKED;
}

const struct vm_operations_struct kv_vm_ops = {
	.fault		= kv_fault,
	.page_mkwrite	= kv_page_mkwrite,
};

/**
 * kv_mmap() - map a space (MAP_SHARED only).
 * @file: the space file.
 * @vma: the new mapping.
 *
 * The offset must lie inside the space; the mapping may extend past its end
 * (like a file past EOF) and touching that part raises SIGBUS.  KV data
 * is never code: PROT_EXEC is refused, and VM_MAYEXEC cleared so that no
 * later mprotect() adds it.
 *
 * Return: 0, -EINVAL, or -EPERM (PROT_EXEC).
 */
int kv_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kv_space *sp = file->private_data;
	int ret;

	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	ret = kv_check_vma(sp, vma, __func__);
	if (ret)
		return ret;
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_ops = &kv_vm_ops;
	return 0;
}
