// SPDX-License-Identifier: GPL-2.0
/*
 * bench_uoffload.c - the userspace offload backend of cxl-kv-bench decode:
 * what LMCache or vLLM's CPU offloading connector do, done in C.
 *
 * A page cache of the warm budget (budget / page size slots) allocated on
 * the warm node (libnuma, --warm-node, default $CXLKV_WARM_NODE) and
 * registered with io_uring as one fixed buffer.  Page p of sequence s lives
 * at offset (s * pages_per_sequence + p) * page_size of an NVMe drive
 * (--cold-dev, default $CXLKV_NVME2), opened O_DIRECT and registered.
 *
 * At each layer the attention kernel's block table is known: every page the
 * layer will read that is not cached is read from NVMe in one batch
 * (read_fixed, up to QD 256) and waited for: these are the demand misses.
 * With --pipeline the predictor's pages of layer + depth are read the same
 * way without waiting (prefetch; a page read before its prefetch finished
 * waits for it).  Eviction is LRU, 64 slots at a time when no slot is free;
 * dirty victims are written back (write_fixed, batched) before their slot
 * is reused.  Pages never written are zero-filled, never read.
 */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include <liburing.h>

#include "bench_be.h"

#define QD		256
#define EVICT_BATCH	64
#define NIL		UINT32_MAX
#define F_DIRTY		1u
#define F_LOADING	2u
#define F_PREFETCHED	4u
#define F_WRITING	8u

struct uo_be {
	unsigned char *cache;
	size_t cache_bytes;
	int numa;
	uint32_t nslots, nfree;
	uint32_t *free_list;
	uint64_t *owner;		/* global page of each slot */
	uint32_t *prev, *next, head, tail;	/* LRU, head = most recent */
	uint8_t *flags;
	uint32_t *slot_of;		/* per global page, NIL if not cached */
	uint8_t *on_nvme;		/* per global page */
	uint64_t pages_per_seq, total_pages;
	int fd;
	struct io_uring ring;
	int ring_ok;
	uint32_t inflight, writes_pending;
	uint64_t rd_bytes, wr_bytes, misses, pf_pages, pf_used, io_errors;
};

static void lru_unlink(struct uo_be *u, uint32_t x)
{
	if (u->prev[x] != NIL)
		u->next[u->prev[x]] = u->next[x];
	else
		u->head = u->next[x];
	if (u->next[x] != NIL)
		u->prev[u->next[x]] = u->prev[x];
	else
		u->tail = u->prev[x];
	u->prev[x] = u->next[x] = NIL;
}

static void lru_front(struct uo_be *u, uint32_t x)
{
	u->prev[x] = NIL;
	u->next[x] = u->head;
	if (u->head != NIL)
		u->prev[u->head] = x;
	u->head = x;
	if (u->tail == NIL)
		u->tail = x;
}

static int uo_open(struct bench_be *be)
{
	struct uo_be *u = calloc(1, sizeof(*u));
	struct iovec iov;
	uint64_t devsz = 0;
	int rc;

	if (!u)
		return -ENOMEM;
	be->priv = u;
	u->fd = -1;
	u->head = u->tail = NIL;
	u->nslots = (uint32_t)(be->o.budget_bytes / be->page_size);
	u->pages_per_seq = be->lo.mmap_bytes / be->page_size;
	u->total_pages = u->pages_per_seq * be->o.sequences;
	if (u->nslots < 2 * EVICT_BATCH + QD)
		return -EINVAL;
	if (!be->o.cold_dev) {
		fprintf(stderr, "cxl-kv-bench: uoffload needs --cold-dev or $CXLKV_NVME2\n");
		return -EINVAL;
	}
	u->fd = open(be->o.cold_dev, O_RDWR | O_DIRECT);
	if (u->fd < 0)
		return -errno;
	if (ioctl(u->fd, BLKGETSIZE64, &devsz)) {
		struct stat sb;

		devsz = fstat(u->fd, &sb) ? 0 : (uint64_t)sb.st_size;
	}
	if (devsz < u->total_pages * be->page_size) {
		fprintf(stderr, "cxl-kv-bench: %s holds %llu bytes, %llu needed\n",
			be->o.cold_dev, (unsigned long long)devsz,
			(unsigned long long)(u->total_pages * be->page_size));
		return -ENOSPC;
	}
	u->cache_bytes = (size_t)u->nslots * be->page_size;
	if (be->o.warm_node >= 0 && numa_available() >= 0) {
		u->cache = numa_alloc_onnode(u->cache_bytes, be->o.warm_node);
		u->numa = 1;
	} else {
		u->cache = aligned_alloc(be->page_size, u->cache_bytes);
	}
	u->free_list = calloc(u->nslots, sizeof(*u->free_list));
	u->owner = calloc(u->nslots, sizeof(*u->owner));
	u->prev = calloc(u->nslots, sizeof(*u->prev));
	u->next = calloc(u->nslots, sizeof(*u->next));
	u->flags = calloc(u->nslots, 1);
	u->slot_of = malloc(u->total_pages * sizeof(*u->slot_of));
	u->on_nvme = calloc(u->total_pages, 1);
	if (!u->cache || !u->free_list || !u->owner || !u->prev || !u->next ||
	    !u->flags || !u->slot_of || !u->on_nvme)
		return -ENOMEM;
	memset(u->cache, 0, u->cache_bytes);	/* fault it in on the node */
	memset(u->slot_of, 0xff, u->total_pages * sizeof(*u->slot_of));
	for (uint32_t i = 0; i < u->nslots; i++) {
		u->free_list[u->nfree++] = u->nslots - 1 - i;
		u->prev[i] = u->next[i] = NIL;
	}
	rc = io_uring_queue_init(QD, &u->ring, 0);
	if (rc)
		return rc;
	u->ring_ok = 1;
	iov.iov_base = u->cache;
	iov.iov_len = u->cache_bytes;
	rc = io_uring_register_buffers(&u->ring, &iov, 1);
	if (!rc)
		rc = io_uring_register_files(&u->ring, &u->fd, 1);
	if (rc)
		return rc;
	printf("# uoffload: %u slots (%llu MiB) on node %d, cold %s, QD %d\n",
	       u->nslots, (unsigned long long)(u->cache_bytes >> 20),
	       u->numa ? be->o.warm_node : -1, be->o.cold_dev, QD);
	return 0;
}

static int uo_seq_open(struct bench_be *be, uint32_t s)
{
	(void)be; (void)s;
	return 0;
}

static unsigned char *slot_addr(struct bench_be *be, uint32_t slot)
{
	struct uo_be *u = be->priv;

	return u->cache + (size_t)slot * be->page_size;
}

/* one completion: a read ends LOADING, a write ends WRITING */
static int complete_one(struct bench_be *be, int wait)
{
	struct uo_be *u = be->priv;
	struct io_uring_cqe *cqe;
	uint32_t slot;
	int rc;

	if (!u->inflight)
		return -EAGAIN;
	rc = wait ? io_uring_wait_cqe(&u->ring, &cqe) :
		    io_uring_peek_cqe(&u->ring, &cqe);
	if (rc)
		return rc;
	slot = (uint32_t)cqe->user_data;
	if (cqe->res != (int)be->page_size) {
		u->io_errors++;
		fprintf(stderr, "cxl-kv-bench: uoffload I/O on slot %u: %d\n",
			slot, cqe->res);
	}
	if (u->flags[slot] & F_WRITING) {
		u->flags[slot] &= ~F_WRITING;
		u->writes_pending--;
	} else {
		u->flags[slot] &= ~F_LOADING;
	}
	u->inflight--;
	io_uring_cqe_seen(&u->ring, cqe);
	return 0;
}

static struct io_uring_sqe *get_sqe(struct bench_be *be)
{
	struct uo_be *u = be->priv;
	struct io_uring_sqe *sqe;

	while (u->inflight >= QD)
		if (complete_one(be, 1))
			return NULL;
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* free EVICT_BATCH slots from the LRU tail, writing dirty ones back */
static int evict_batch(struct bench_be *be)
{
	struct uo_be *u = be->priv;
	uint32_t x = u->tail, victims[EVICT_BATCH], nv = 0;

	while (x != NIL && nv < EVICT_BATCH) {
		uint32_t p = u->prev[x];

		if (!(u->flags[x] & (F_LOADING | F_WRITING))) {
			victims[nv++] = x;
			if (u->flags[x] & F_DIRTY) {
				struct io_uring_sqe *sqe = get_sqe(be);

				if (!sqe)
					return -EIO;
				io_uring_prep_write_fixed(sqe, 0, slot_addr(be, x),
							  be->page_size,
							  u->owner[x] * be->page_size, 0);
				sqe->flags |= IOSQE_FIXED_FILE;
				io_uring_sqe_set_data64(sqe, x);
				u->flags[x] |= F_WRITING;
				u->inflight++;
				u->writes_pending++;
				u->wr_bytes += be->page_size;
			}
		}
		x = p;
	}
	if (!nv)
		return -ENOSPC;
	io_uring_submit(&u->ring);
	while (u->writes_pending)
		if (complete_one(be, 1))
			return -EIO;
	for (uint32_t i = 0; i < nv; i++) {
		x = victims[i];
		if (u->flags[x] & F_DIRTY)
			u->on_nvme[u->owner[x]] = 1;
		u->slot_of[u->owner[x]] = NIL;
		u->flags[x] = 0;
		lru_unlink(u, x);
		u->free_list[u->nfree++] = x;
	}
	return 0;
}

/* give global page g a slot; queue its read if NVMe holds it */
static int load(struct bench_be *be, uint64_t g, int prefetch, uint32_t *out)
{
	struct uo_be *u = be->priv;
	uint32_t x;
	int rc;

	if (!u->nfree) {
		rc = evict_batch(be);
		if (rc)
			return rc;
	}
	x = u->free_list[--u->nfree];
	u->owner[x] = g;
	u->slot_of[g] = x;
	u->flags[x] = prefetch ? F_PREFETCHED : 0;
	lru_front(u, x);
	if (u->on_nvme[g]) {
		struct io_uring_sqe *sqe = get_sqe(be);

		if (!sqe)
			return -EIO;
		io_uring_prep_read_fixed(sqe, 0, slot_addr(be, x), be->page_size,
					 g * be->page_size, 0);
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data64(sqe, x);
		u->flags[x] |= F_LOADING;
		u->inflight++;
		u->rd_bytes += be->page_size;
	} else {
		memset(slot_addr(be, x), 0, be->page_size);
	}
	*out = x;
	return 0;
}

static uint64_t gpage(struct bench_be *be, uint32_t s, uint32_t layer,
		      uint32_t head, unsigned int kind, uint32_t block)
{
	struct uo_be *u = be->priv;

	return s * u->pages_per_seq +
	       be_page_off(&be->lo, layer, head, kind, block) / be->page_size;
}

static unsigned char *uo_page(struct bench_be *be, uint32_t s, uint32_t layer,
			      uint32_t head, unsigned int kind, uint32_t block,
			      int write)
{
	struct uo_be *u = be->priv;
	uint64_t g = gpage(be, s, layer, head, kind, block);
	uint32_t x = u->slot_of[g];

	if (x == NIL) {
		if (load(be, g, 0, &x))
			return NULL;
		io_uring_submit(&u->ring);
	} else {
		lru_unlink(u, x);
		lru_front(u, x);
	}
	while (u->flags[x] & F_LOADING)
		if (complete_one(be, 1))
			return NULL;
	if (u->flags[x] & F_PREFETCHED) {
		u->flags[x] &= ~F_PREFETCHED;
		u->pf_used++;
	}
	if (write)
		u->flags[x] |= F_DIRTY;
	return slot_addr(be, x);
}

static int uo_layer_begin(struct bench_be *be, uint32_t s, uint32_t layer,
			  uint64_t step, const struct be_read *reads,
			  uint32_t nreads, uint32_t pred_layer,
			  const struct be_read *pred, uint32_t npred)
{
	struct uo_be *u = be->priv;
	uint32_t x, pages = 0;
	int rc;

	(void)step;
	/* the layer's block table: read every missing page in one batch */
	for (uint32_t i = 0; i < nreads; i++)
		for (unsigned int k = 0; k < 2; k++) {
			uint64_t g = gpage(be, s, layer, reads[i].head, k,
					   reads[i].block);

			if (u->slot_of[g] != NIL)
				continue;
			rc = load(be, g, 0, &x);
			if (rc)
				return rc;
			u->misses++;
		}
	io_uring_submit(&u->ring);
	for (uint32_t i = 0; i < nreads; i++)
		for (unsigned int k = 0; k < 2; k++) {
			x = u->slot_of[gpage(be, s, layer, reads[i].head, k,
					     reads[i].block)];
			while (x != NIL && (u->flags[x] & F_LOADING))
				if (complete_one(be, 1))
					return -EIO;
		}
	/* the pipeline: layer + depth's expected pages, not waited for */
	for (uint32_t i = 0; i < npred && pages < be->o.pf_max_pages; i++)
		for (unsigned int k = 0; k < 2; k++) {
			uint64_t g = gpage(be, s, pred_layer, pred[i].head, k,
					   pred[i].block);

			if (u->slot_of[g] != NIL || !u->on_nvme[g])
				continue;
			rc = load(be, g, 1, &x);
			if (rc)
				return rc;
			u->pf_pages++;
			pages++;
		}
	if (pages)
		io_uring_submit(&u->ring);
	while (!complete_one(be, 0))
		;
	return u->io_errors ? -EIO : 0;
}

static int uo_step_end(struct bench_be *be, uint32_t s, uint64_t step,
		       uint64_t written)
{
	(void)be; (void)s; (void)step; (void)written;
	return 0;
}

static void uo_counters(struct bench_be *be, struct be_counters *c)
{
	struct uo_be *u = be->priv;

	memset(c, 0, sizeof(*c));
	c->cold_read_bytes = u->rd_bytes;
	c->cold_write_bytes = u->wr_bytes;
	c->demand_misses = u->misses;
	c->pf_pages = u->pf_pages;
	c->pf_used = u->pf_used;
	c->has_pf = be->o.pipeline;
}

static void uo_close(struct bench_be *be)
{
	struct uo_be *u = be->priv;

	if (!u)
		return;
	if (u->ring_ok) {
		while (u->inflight && !complete_one(be, 1))
			;
		io_uring_queue_exit(&u->ring);
	}
	if (u->fd >= 0)
		close(u->fd);
	if (u->cache) {
		if (u->numa)
			numa_free(u->cache, u->cache_bytes);
		else
			free(u->cache);
	}
	free(u->free_list);
	free(u->owner);
	free(u->prev);
	free(u->next);
	free(u->flags);
	free(u->slot_of);
	free(u->on_nvme);
	free(u);
	be->priv = NULL;
}

const struct be_ops be_uoffload_ops = {
	.name = "uoffload",
	.open = uo_open,
	.seq_open = uo_seq_open,
	.page = uo_page,
	.layer_begin = uo_layer_begin,
	.step_end = uo_step_end,
	.counters = uo_counters,
	.close = uo_close,
};
