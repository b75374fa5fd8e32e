// SPDX-License-Identifier: GPL-2.0
/*
 * slot.c - the cold tier's slot allocator.
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

/* Slots of chunk @c (the last one may be short). */
static u32 kv_chunk_slots(const struct kv_tiers *t, u64 c)
{
	return min_t(u64, KV_SLOT_CHUNK, t->nr_slots - (c << KV_SLOT_CHUNK_SHIFT));
}

/*
 * The fixed part of the slot map: a pointer, a count and a summary bit per
 * chunk.  The chunks' bitmap pages come and go with their slots.
 */
void kv_slot_map_free(struct kv_tiers *t)
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

int kv_slot_map_init(struct kv_tiers *t)
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
