// SPDX-License-Identifier: GPL-2.0
/*
 * pack.c - cold formats: pages encoded on demotion (driver/codec/, the
 * kernel's zstd for CXL_KV_FMT_LOSSLESS) and packed into cold slots by
 * their encoded size.
 *
 * A demotion chunk of a space with a cold format encodes each page it
 * writes, then packs the objects (16-byte aligned, at least 32 bytes) in
 * order into a stream of 4 KiB units, an object may straddle two units.
 * The stream is written to runs of consecutive slots (unit u of a run ->
 * slot first + u), each as long as the objects left need, shorter when the
 * map has no such run (halved down to one slot), so a chunk wastes only the
 * tail of each run.  An entry names its object by the slot it starts in and
 * kv_entry.obj (offset and length in 16-byte units), so a promotion reads
 * only the sectors (kv_tiers.rd_align) of its own object, from one slot or
 * two.  A page that does not encode, or whose object would be larger than
 * KV_PACK_MAX, is written raw to a slot of its own (obj 0), as are the
 * objects that find no slot in a run.
 *
 * kv_tiers.slot_refs counts per slot the objects in it plus one while the
 * chunk's write of it is in flight; the slot goes back to the map (and the
 * uid's count, which is in slots as for raw pages) when it drops to zero.
 * Every object of a slot belongs to one space, the chunk's: the run is
 * charged to that space's uid.  The in-flight reference keeps a slot whose
 * objects were all freed before its write completed (the pages were
 * written to meanwhile) from being reused under that write.
 *
 * Validity is today's: an entry's object is a valid copy while the entry
 * is clean (KV_F_DIRTY clear); the header's checksum (kvcodec.h) is checked
 * before anything is decoded into the page, so a promotion either installs
 * the whole decoded page or fails (-EIO, SIGBUS) with nothing installed.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/zstd.h>

#include "kv.h"
#include "kvcodec.h"

#define KV_PACK_MAX	KVC_OBJ_MAX	/* larger objects are written raw */
#define KV_PACK_MIN	32		/* at most 129 objects touch a slot */
/* KV_PACK_MAX and KV_PACK_MIN fit kv_entry.obj: 8 bits of 16-byte units */
#define KV_PACK_MAXU	256		/* units of a chunk (255 at most) */
#define KV_PACK_LEVEL	1		/* zstd level of CXL_KV_FMT_LOSSLESS */

/**
 * struct kv_pack - the units a demotion chunk writes
 * @nunits: units in the stream.
 * @err: 0 or the -errno of a failed unit write (then every packed page of
 *	the chunk counts as failed).
 * @slot: slot of each unit, KV_NO_SLOT for a unit not written.
 * @page: the unit pages: the objects packed from offset 0 of a run's first
 *	unit, their padding zeroed, and the tail after a run's last object
 *	zeroed, so nothing stale reaches the device.
 */
struct kv_pack {
	u32 nunits;
	int err;
	u32 slot[KV_PACK_MAXU];
	struct page *page[KV_PACK_MAXU];
};

/**
 * struct kv_packer - a demoter's encoder state (one task, no lock)
 * @objs: the chunk's objects, KV_PACK_MAX bytes apart (by zap index); the
 *	padding after each is zeroed as it is encoded.
 * @objs_cap: objects @objs holds (the largest chunk so far).
 * @planes: the byte planes of a page (lossless).
 * @cctx: zstd context in @ws (lossless), NULL until needed.
 * @ws: its workspace.
 * @zp: zstd parameters (KV_PACK_LEVEL, page-sized input).
 * @off: per zap index, the object's offset in the stream.
 * @len: its length, 0 for a page written raw or not at all.
 * @raws: zap indices of the pages written raw.
 * @slots: their slots.
 * @order: zap indices of the encoded pages, in stream order.
 */
struct kv_packer {
	u8 *objs;
	u32 objs_cap;
	u8 planes[PAGE_SIZE];
	zstd_cctx *cctx;
	void *ws;
	zstd_parameters zp;
	u32 off[256];
	u32 len[256];
	u32 raws[256];
	u32 slots[256];
	u32 order[256];
};

/**
 * kv_cold_fmt_init() - check and set the cold format of a new space.
 * @sp: the space (geometry set).
 * @fmt: SPACE_CREATE's reserved[0].
 *
 * The first space with a format allocates the slot reference counts (one
 * byte per slot) of the tier set.
 *
 * Context: kv_ctl_lock held.
 * Return: 0, -EINVAL (unknown format or flags; a lossy format or BF16 for
 * dtype_bytes other than 2) or -ENOMEM.
 */
int kv_cold_fmt_init(struct kv_space *sp, u64 fmt)
{
	struct kv_tiers *t = sp->tiers;
	u32 f = fmt & CXL_KV_FMT_MASK;
	u8 *refs;

	lockdep_assert_held(&kv_ctl_lock);
	if (fmt & ~CXL_KV_FMT_F_ALL || f >= CXL_KV_FMT_NR)
		return -EINVAL;
	if ((f >= CXL_KV_FMT_INT8 || fmt & CXL_KV_FMT_F_BF16) &&
	    sp->geom.dtype_bytes != 2)
		return -EINVAL;
	sp->cold_fmt = f;
	sp->cold_bf16 = fmt & CXL_KV_FMT_F_BF16;
	if (!f || t->slot_refs)
		return 0;
	refs = kvcalloc(t->nr_slots, 1, GFP_KERNEL_ACCOUNT);
	if (!refs)
		return -ENOMEM;
	spin_lock(&t->slot_lock);
	t->slot_refs = refs;
	spin_unlock(&t->slot_lock);
	return 0;
}

/* Drop one reference of slot @s; the last one frees it.  slot_lock held. */
static void kv_ref_put(struct kv_tiers *t, struct kv_user *u, u32 s)
{
	if (WARN_ON_ONCE(s >= t->nr_slots || !t->slot_refs[s]))
		return;
	if (--t->slot_refs[s])
		return;
	if (kv_slot_put_locked(t, s) && u && !WARN_ON_ONCE(!u->cold))
		u->cold--;
}

static bool kv_obj_straddles(u16 obj)
{
	return KV_OBJ_OFF(obj) + KV_OBJ_LEN(obj) > PAGE_SIZE;
}

/**
 * kv_obj_free() - give back a packed object.
 * @sp: the space that held it.
 * @slot: the slot it starts in.
 * @obj: its kv_entry.obj (not 0).
 */
void kv_obj_free(struct kv_space *sp, u32 slot, u16 obj)
{
	struct kv_tiers *t = sp->tiers;

	spin_lock(&t->slot_lock);
	kv_ref_put(t, sp->user, slot);
	if (kv_obj_straddles(obj))
		kv_ref_put(t, sp->user, slot + 1);
	spin_unlock(&t->slot_lock);
}

/**
 * kv_ent_slot_free() - give back an entry's cold copy, raw or packed.
 * @sp: space.
 * @e: its entry, with a slot; left with none.
 */
void kv_ent_slot_free(struct kv_space *sp, struct kv_entry *e)
{
	if (e->obj)
		kv_obj_free(sp, e->slot, e->obj);
	else
		kv_slot_free(sp, e->slot);
	e->slot = KV_NO_SLOT;
	e->obj = 0;
}

/*
 * Take @n consecutive free slots for @sp, each with one reference (the
 * write in flight).  Returns the first or KV_NO_SLOT with *err set.
 */
static u32 kv_slot_run(struct kv_space *sp, u32 n, int *err)
{
	struct kv_tiers *t = sp->tiers;
	struct kv_user *u = sp->user;
	void *page = NULL;
	u64 s;
	u32 i;

retry:
	spin_lock(&t->slot_lock);
	/* a page allocated for a new chunk without the lock: the spare */
	if (page && !t->chunk_spare) {
		t->chunk_spare = page;
		page = NULL;
	}
	if (u && u->limited && u->cold + n > t->user_cold) {
		spin_unlock(&t->slot_lock);
		free_page((unsigned long)page);
		*err = -EDQUOT;
		return KV_NO_SLOT;
	}
	s = kv_slot_run_locked(t, n, err);
	if (s == KV_NO_SLOT) {
		spin_unlock(&t->slot_lock);
		free_page((unsigned long)page);
		page = NULL;
		if (*err != -EAGAIN)
			return KV_NO_SLOT;
		page = (void *)get_zeroed_page(GFP_KERNEL);
		if (page)
			goto retry;
		*err = -ENOMEM;
		return KV_NO_SLOT;
	}
	for (i = 0; i < n; i++)
		t->slot_refs[s + i] = 1;
	t->slot_hint = s + n < t->nr_slots ? s + n : 0;
	if (u)
		u->cold += n;
	spin_unlock(&t->slot_lock);
	free_page((unsigned long)page);
	return (u32)s;
}

static struct kvc_geom kv_pg_geom(const struct kv_space *sp, u64 pg)
{
	struct kvc_geom g = {
		.head_dim = sp->geom.head_dim,
		.bf16 = sp->cold_bf16,
		.is_v = (pg / sp->bph) & 1,
	};

	/* LOSSLESS takes any dtype: its header says only K|V and the flag. */
	if (sp->geom.dtype_bytes != 2)
		g.head_dim = PAGE_SIZE / 2;
	return g;
}

/* Encode page @pg into @out (KV_PACK_MAX bytes); 0: write it raw. */
static u32 kv_pack_encode(struct kv_space *sp, struct kv_packer *pkr, u64 pg,
			  struct page *page, u8 *out)
{
	struct kvc_geom g = kv_pg_geom(sp, pg);
	void *src = kmap_local_page(page);
	u32 len = 0;

	if (sp->cold_fmt == CXL_KV_FMT_LOSSLESS) {
		size_t r;

		kvc_planes_split(src, pkr->planes);
		r = zstd_compress_cctx(pkr->cctx, out + KVC_HDR,
				       KV_PACK_MAX - KVC_HDR, pkr->planes,
				       PAGE_SIZE, &pkr->zp);
		if (!zstd_is_error(r)) {
			kvc_header(KVC_LOSSLESS, &g, out, (u32)r);
			len = (u32)r + KVC_HDR;
		}
	} else if (kvc_lossy_size(sp->cold_fmt, &g) <= KV_PACK_MAX) {
		len = kvc_encode(sp->cold_fmt, &g, src, out);
	}
	kunmap_local(src);
	return len <= KV_PACK_MAX ? len : 0;
}

static struct kv_packer *kv_packer_alloc(struct kv_space *sp)
{
	struct kv_packer *pkr = kvzalloc(sizeof(*pkr), GFP_KERNEL);
	size_t wsz;

	if (!pkr)
		return NULL;
	if (sp->cold_fmt != CXL_KV_FMT_LOSSLESS)
		return pkr;
	pkr->zp = zstd_get_params(KV_PACK_LEVEL, PAGE_SIZE);
	wsz = zstd_cctx_workspace_bound(&pkr->zp.cParams);
	pkr->ws = kvmalloc(wsz, GFP_KERNEL);
	if (pkr->ws)
		pkr->cctx = zstd_init_cctx(pkr->ws, wsz);
	if (!pkr->cctx) {
		kv_packer_free(pkr);
		return NULL;
	}
	return pkr;
}

/**
 * kv_packer_free() - free a demoter's encoder state.
 * @pkr: from kv_pack_prepare(), or NULL.
 */
void kv_packer_free(struct kv_packer *pkr)
{
	if (!pkr)
		return;
	kvfree(pkr->ws);
	kvfree(pkr->objs);
	kvfree(pkr);
}

static void kv_pack_free(struct kv_pack *pk)
{
	u32 u;

	for (u = 0; u < pk->nunits; u++)
		if (pk->page[u])
			__free_page(pk->page[u]);
	kfree(pk);
}

/* Copy @len bytes to stream offset @off. */
static void kv_pack_copy(struct kv_pack *pk, u32 off, const u8 *src, u32 len)
{
	while (len) {
		u32 u = off / PAGE_SIZE, o = off % PAGE_SIZE;
		u32 n = min_t(u32, len, PAGE_SIZE - o);

		memcpy(page_address(pk->page[u]) + o, src, n);
		off += n;
		src += n;
		len -= n;
	}
}

/* Make the stream @end bytes long; false if a unit page is not to be had. */
static bool kv_pack_grow(struct kv_pack *pk, u32 end)
{
	u32 need = DIV_ROUND_UP(end, PAGE_SIZE);

	if (need > KV_PACK_MAXU)
		return false;
	for (; pk->nunits < need; pk->nunits++) {
		pk->page[pk->nunits] = alloc_page(GFP_KERNEL);
		if (!pk->page[pk->nunits])
			return false;
		pk->slot[pk->nunits] = KV_NO_SLOT;
	}
	return true;
}

/*
 * Place the objects of @order[*next..nobj) in a run of consecutive slots,
 * stream units [base, base + n): as many as fit, in order.  Takes the run
 * (halving its length down to one unit until one is free), copies the
 * objects in and takes a reference on each slot an object touches; units
 * left empty at the end are given back.  Returns the units used, 0 if no
 * slot was to be had.
 */
static u32 kv_pack_run(struct kv_space *sp, struct kv_packer *pkr,
		       struct kv_pack *pk, u32 base, u32 want, u32 *next,
		       u32 nobj, u32 *pslot, u16 *pobj)
{
	struct kv_tiers *t = sp->tiers;
	u32 n = min_t(u32, want, KV_PACK_MAXU - base), first, pos = 0, used;
	u32 start = *next, i, u;
	int err;

	for (;;) {
		first = kv_slot_run(sp, n, &err);
		if (first != KV_NO_SLOT)
			break;
		if (n == 1)
			return 0;
		n /= 2;
	}
	/* the objects that fit, in order */
	while (*next < nobj) {
		i = pkr->order[*next];
		if (pos + pkr->len[i] > n * PAGE_SIZE)
			break;
		pkr->off[i] = base * PAGE_SIZE + pos;
		pos += pkr->len[i];
		(*next)++;
	}
	used = DIV_ROUND_UP(pos, PAGE_SIZE);
	if (!kv_pack_grow(pk, (base + used) * PAGE_SIZE)) {
		*next = start;
		used = 0;
	} else if (pos % PAGE_SIZE) {
		/* the objects cover [0, pos) of the run; the rest is padding */
		memset(page_address(pk->page[base + used - 1]) + pos % PAGE_SIZE,
		       0, PAGE_SIZE - pos % PAGE_SIZE);
	}
	spin_lock(&t->slot_lock);
	for (u = 0; u < n; u++) {
		if (u < used)
			pk->slot[base + u] = first + u;
		else
			kv_ref_put(t, sp->user, first + u);	/* unused */
	}
	for (; start < *next; start++) {
		u32 off;

		i = pkr->order[start];
		off = pkr->off[i];
		pslot[i] = pk->slot[off / PAGE_SIZE];
		pobj[i] = (u16)((pkr->len[i] / KV_OBJ_UNIT) << 8 |
				(off % PAGE_SIZE) / KV_OBJ_UNIT);
		t->slot_refs[pslot[i]]++;
		if (kv_obj_straddles(pobj[i]))
			t->slot_refs[pslot[i] + 1]++;
	}
	spin_unlock(&t->slot_lock);
	return used;
}

/**
 * kv_pack_prepare() - encode and place the pages a demotion chunk writes.
 * @sp: a space with a cold format.
 * @pkrp: the demoter's encoder state, allocated on first use.
 * @zap: the chunk's pages (locked, unmapped, KV_F_ZAP: unchanging).
 * @nz: how many.
 * @pslot: out, per page: its slot, KV_NO_SLOT for a page not written (clean,
 *	or nothing to be had for it).
 * @pobj: out, per page: its kv_entry.obj (0: raw in @pslot).
 * @pkp: out: the units to write (kv_pack_submit()), or NULL.
 * @err: out, set when a page got no slot: -ENOSPC, -EDQUOT or -ENOMEM.
 *
 * Encodes every page to write, then packs the objects in order into runs
 * of consecutive slots, each as long as what is left needs (shorter when
 * the map has no such run), so a chunk wastes only the tail of each run.
 *
 * Context: process, no kv_space.lock held.
 * Return: the pages that got a slot.
 */
u32 kv_pack_prepare(struct kv_space *sp, struct kv_packer **pkrp,
		    const u64 *zap, u32 nz, u32 *pslot, u16 *pobj,
		    struct kv_pack **pkp, int *err)
{
	struct kv_packer *pkr = *pkrp;
	struct kv_pack *pk;
	u32 i, k, nraw = 0, nobj = 0, got = 0, next = 0, base = 0;
	u64 left = 0;

	*pkp = NULL;
	for (i = 0; i < nz; i++) {
		pslot[i] = KV_NO_SLOT;
		pobj[i] = 0;
	}
	if (!pkr)
		pkr = *pkrp = kv_packer_alloc(sp);
	/* scratch for the objects: as many as this chunk has pages */
	if (pkr && pkr->objs_cap < nz) {
		kvfree(pkr->objs);
		pkr->objs = kvzalloc((size_t)nz * KV_PACK_MAX, GFP_KERNEL);
		pkr->objs_cap = pkr->objs ? nz : 0;
	}
	pk = kzalloc(sizeof(*pk), GFP_KERNEL);
	if (!pkr || !pkr->objs || !pk) {
		kfree(pk);
		*err = *err ?: -ENOMEM;
		return 0;
	}
	/* 1: encode */
	for (i = 0; i < nz; i++) {
		struct kv_entry *e = &sp->ent[zap[i]];
		u32 len;

		pkr->len[i] = 0;
		if (!(e->flags & KV_F_DIRTY) && e->slot != KV_NO_SLOT)
			continue;		/* clean: dropped, no write */
		len = kv_pack_encode(sp, pkr, zap[i], e->page,
				     pkr->objs + (size_t)i * KV_PACK_MAX);
		if (!len) {
			pkr->raws[nraw++] = i;
			continue;
		}
		pkr->len[i] = round_up(max_t(u32, len, KV_PACK_MIN),
				       KV_OBJ_UNIT);
		/* the padding reaches the device: not an older object's bytes */
		memset(pkr->objs + (size_t)i * KV_PACK_MAX + len, 0,
		       pkr->len[i] - len);
		left += pkr->len[i];
		pkr->order[nobj++] = i;
	}
	/* 2: runs of slots, as long as what is left needs */
	while (next < nobj && base < KV_PACK_MAXU) {
		u32 from = next, used;

		used = kv_pack_run(sp, pkr, pk, base,
				   DIV_ROUND_UP(left, PAGE_SIZE), &next, nobj,
				   pslot, pobj);
		if (!used)
			break;
		for (; from < next; from++) {
			i = pkr->order[from];
			left -= pkr->len[i];
			kv_pack_copy(pk, pkr->off[i],
				     pkr->objs + (size_t)i * KV_PACK_MAX,
				     pkr->len[i]);
		}
		base += used;
	}
	/* objects that found no run go raw */
	for (; next < nobj; next++)
		pkr->raws[nraw++] = pkr->order[next];
	for (i = 0; i < nz; i++)
		got += pslot[i] != KV_NO_SLOT;
	/* 3: slots of their own for the raw ones */
	if (nraw) {
		u32 n = kv_slot_alloc_many(sp, pkr->slots, nraw, err);

		for (k = 0; k < n; k++)
			pslot[pkr->raws[k]] = pkr->slots[k];
		got += n;
	}
	if (!pk->nunits) {
		kv_pack_free(pk);
		return got;
	}
	*pkp = pk;
	return got;
}

static struct block_device *kv_pack_bdev(struct kv_tiers *t, u32 slot,
					 sector_t *sector)
{
	*sector = (sector_t)(slot / t->nr_cold) << (PAGE_SHIFT - SECTOR_SHIFT);
	return file_bdev(t->cold[slot % t->nr_cold].file);
}

/**
 * kv_pack_submit() - write the units of a chunk that have slots.
 * @t: the tier set.
 * @pk: from kv_pack_prepare().
 * @pending: raised once per bio before it is submitted.
 * @priv: the bios' bi_private.
 * @end: their bi_end_io (sets @pk's error through kv_pack_error()).
 *
 * Units whose slots are consecutive on one device share a bio.
 * Context: process, memalloc_noio, a plug may be held.
 */
void kv_pack_submit(struct kv_tiers *t, struct kv_pack *pk, atomic_t *pending,
		    void *priv, bio_end_io_t *end)
{
	u32 u, j;

	for (u = 0; u < pk->nunits; u = j) {
		struct block_device *bdev;
		struct bio *bio;
		sector_t sector, s2;

		j = u + 1;
		if (pk->slot[u] == KV_NO_SLOT)
			continue;
		bdev = kv_pack_bdev(t, pk->slot[u], &sector);
		bio = bio_alloc(bdev, min_t(u32, pk->nunits - u, BIO_MAX_VECS),
				REQ_OP_WRITE, GFP_NOIO);
		bio->bi_iter.bi_sector = sector;
		__bio_add_page(bio, pk->page[u], PAGE_SIZE, 0);
		for (; j < pk->nunits && j - u < BIO_MAX_VECS; j++) {
			if (pk->slot[j] == KV_NO_SLOT ||
			    kv_pack_bdev(t, pk->slot[j], &s2) != bdev ||
			    s2 != sector + (sector_t)(j - u) * (PAGE_SIZE >> SECTOR_SHIFT) ||
			    bio_add_page(bio, pk->page[j], PAGE_SIZE, 0) != PAGE_SIZE)
				break;
		}
		bio->bi_private = priv;
		bio->bi_end_io = end;
		atomic_inc(pending);
		submit_bio(bio);
	}
}

/**
 * kv_pack_error() - record a failed unit write (bio completion context).
 * @pk: the chunk's units.
 * @err: -errno.
 */
void kv_pack_error(struct kv_pack *pk, int err)
{
	WRITE_ONCE(pk->err, err);
}

/**
 * kv_pack_err() - the error of a chunk's unit writes (0 or -errno).
 * @pk: the chunk's units, written.
 */
int kv_pack_err(struct kv_pack *pk)
{
	return READ_ONCE(pk->err);
}

/**
 * kv_pack_done() - end a chunk's unit writes.
 * @sp: the space.
 * @pk: the units, written or never submitted; freed.
 * @bytes: out: bytes written.
 *
 * Drops the in-flight reference of every unit slot: a slot whose objects
 * were all given back meanwhile is free from here on.
 * Return: 0 or the error of a failed write.
 */
int kv_pack_done(struct kv_space *sp, struct kv_pack *pk, u64 *bytes)
{
	struct kv_tiers *t = sp->tiers;
	int err = READ_ONCE(pk->err);
	u32 u;

	*bytes = 0;
	spin_lock(&t->slot_lock);
	for (u = 0; u < pk->nunits; u++) {
		if (pk->slot[u] == KV_NO_SLOT)
			continue;
		kv_ref_put(t, sp->user, pk->slot[u]);
		*bytes += PAGE_SIZE;
	}
	spin_unlock(&t->slot_lock);
	kv_pack_free(pk);
	return err;
}

/**
 * kv_obj_read_span() - the bytes a promotion of an object reads.
 * @t: the tier set.
 * @obj: the entry's obj (not 0).
 * @a: out: first byte, relative to the start of its slot.
 * @bend: out: end (up to two slots: 2 * PAGE_SIZE).
 *
 * Both are aligned to kv_tiers.rd_align (the devices' logical block size).
 * Return: the object's offset in the read buffer (= its offset in the slot).
 */
u32 kv_obj_read_span(struct kv_tiers *t, u16 obj, u32 *a, u32 *bend)
{
	u32 off = KV_OBJ_OFF(obj), end = off + KV_OBJ_LEN(obj);

	*a = round_down(off, t->rd_align);
	*bend = round_up(end, t->rd_align);
	return off;
}

/**
 * kv_obj_decode() - decode a packed object into a page.
 * @sp: the space.
 * @pg: the page's index (K or V).
 * @obj: its kv_entry.obj.
 * @buf: the object (KV_OBJ_LEN(obj) bytes, padding included).
 * @page: the warm page to fill; untouched on failure.
 * @dws: a lossless decoder workspace, allocated on first use; the caller
 *	kvfree()s it.
 *
 * Context: process.
 * Return: 0, -EIO (bad header, checksum, or a frame that does not make a
 * page), -ENOMEM.
 */
int kv_obj_decode(struct kv_space *sp, u64 pg, u16 obj, const void *buf,
		  struct page *page, void **dws)
{
	struct kvc_geom g = kv_pg_geom(sp, pg);
	u32 len = KV_OBJ_LEN(obj);
	void *dst;
	int ret = 0;

	if (sp->cold_fmt == CXL_KV_FMT_LOSSLESS) {
		size_t wsz = zstd_dctx_workspace_bound(), r;
		s32 plen = kvc_check(KVC_LOSSLESS, &g, buf, len);
		zstd_dctx *dctx;
		u8 *planes;

		if (plen < 0)
			return -EIO;
		if (!*dws)
			*dws = kvmalloc(wsz + PAGE_SIZE, GFP_KERNEL);
		if (!*dws)
			return -ENOMEM;
		planes = (u8 *)*dws + wsz;
		dctx = zstd_init_dctx(*dws, wsz);
		if (!dctx)
			return -ENOMEM;
		r = zstd_decompress_dctx(dctx, planes, PAGE_SIZE,
					 (const u8 *)buf + KVC_HDR, plen);
		if (zstd_is_error(r) || r != PAGE_SIZE)
			return -EIO;
		dst = kmap_local_page(page);
		kvc_planes_join(planes, dst);
		kunmap_local(dst);
		return 0;
	}
	dst = kmap_local_page(page);
	if (kvc_decode(sp->cold_fmt, &g, buf, len, dst))
		ret = -EIO;
	kunmap_local(dst);
	return ret;
}
