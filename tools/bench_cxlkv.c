// SPDX-License-Identifier: GPL-2.0
/*
 * bench_cxlkv.c - the cxl-kv backend of cxl-kv-bench decode.
 *
 * One cxl_kv space per sequence (all on the attached tier set), mapped; the
 * loop reads and writes the mapping, cold pages fault and are promoted by
 * the module.  The reads of every step go to the module as score hints
 * (their attention mass) and ACCESS reports, over ioctl or io_uring
 * (--uring).  Without --pipeline, every layer gets one PREFETCH window
 * around the newest token at each step's end (the module's own policy).
 *
 * The layer batch (default; --no-layer-batch turns it off): when a layer
 * begins, its block table (the blocks the attention kernel is about to
 * read) is made resident in one batch, as uoffload does: one PREFETCH per
 * run of adjacent blocks of a head, all in flight at once: uring_cmds
 * waited for (--uring), or ioctls, which return once the reads are
 * submitted (a read of a page still in flight waits for it in the fault
 * handler).  Without it every cold page is read by its own fault, one at
 * a time.
 *
 * --pipeline (module with CXL_KV_F_LAYER_PIPELINE): once layer N's batch is
 * resident, LAYER_BEGIN(N, step, depth, --pf-max) tells the module; it
 * promotes in the background what its policy expects layers N + 1 ..
 * N + depth to read (the per-head hot set of the step before and the
 * prefetch windows around it).  The pipeline's counters (PIPE_STATS) are
 * printed at the end.
 *
 * --user-pipeline (and --pipeline on a module without the layer pipeline):
 * the userspace equivalent: when layer N begins, the blocks the predictor expects layer N + depth to
 * read (that layer's reads of the step before: the per-head hot set and the
 * recent windows) are sent as PREFETCHes the same way, without waiting: the module promotes them while layers
 * N .. N + depth - 1 compute, and a read that comes before its promotion
 * has finished waits for it in the fault handler.  At most --pf-max pages
 * per layer and sequence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#include "bench_be.h"

#define PF_SLOTS 256

struct cxl_seq {
	struct cxl_kv_space *space;
	unsigned char *base;
	struct cxl_kv_hint *hints;
	uint32_t nhints, hints_cap;
	struct cxl_kv_range *ranges;
	uint32_t nranges, ranges_cap;
	struct cxl_kv_prefetch *pf;	/* one per layer */
	int read_this_step;
};

struct cxl_be {
	struct cxl_seq *sq;
	uint32_t nseq;
	struct io_uring ring;
	int ring_ok;
	struct cxl_kv_prefetch slots[PF_SLOTS];
	uint8_t batch[PF_SLOTS];	/* slot carries a layer-batch PREFETCH */
	uint32_t free_slots[PF_SLOTS], nfree, inflight, batch_inflight;
	uint64_t batch_pages;		/* pages the layer batches read */
	struct cxl_kv_prefetch *runs;	/* ioctl: one call's PREFETCHes */
	struct be_read *sorted;
	uint64_t pf_errors;
	int module_pipe;		/* LAYER_BEGIN, not the bench's predictor */
	uint64_t upipe_pages;		/* pages the bench's predictor read (ioctl) */
};

static int cxl_open(struct bench_be *be)
{
	struct cxl_be *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	be->priv = c;
	c->nseq = be->o.sequences;
	c->sq = calloc(c->nseq, sizeof(*c->sq));
	c->sorted = calloc((size_t)be->lo.geo.kv_heads * 1024, sizeof(*c->sorted));
	if (!c->sq || !c->sorted)
		return -ENOMEM;
	c->runs = calloc((size_t)be->lo.geo.kv_heads * 1024, sizeof(*c->runs));
	if (!c->runs)
		return -ENOMEM;
	if (be->o.pipeline && !be->o.user_pipeline) {
		struct cxl_kv_features f;

		c->module_pipe = !cxl_kv_get_features(be->ctx, &f) &&
				 (f.features & CXL_KV_F_LAYER_PIPELINE);
		if (!c->module_pipe)
			printf("# pipeline: the module has no LAYER_BEGIN; the bench predicts\n");
	}
	if (be->o.uring && (be->o.pipeline || be->o.layer_batch)) {
		int rc = io_uring_queue_init(PF_SLOTS, &c->ring, 0);

		if (rc)
			return rc;
		c->ring_ok = 1;
		for (uint32_t i = 0; i < PF_SLOTS; i++)
			c->free_slots[c->nfree++] = i;
	}
	return 0;
}

static int cxl_seq_open(struct bench_be *be, uint32_t s)
{
	struct cxl_be *c = be->priv;
	struct cxl_seq *q = &c->sq[s];
	void *addr;
	int rc;

	rc = be->o.cold_format ?
		cxl_kv_space_create_cold(be->ctx, &be->lo.geo, be->o.cold_format,
					 &q->space) :
		cxl_kv_space_create(be->ctx, &be->lo.geo, &q->space);
	if (rc)
		return rc;
	rc = cxl_kv_space_map(q->space, &addr);
	if (!rc && be->o.uring)
		rc = cxl_kv_space_use_uring(q->space, 64);
	if (rc)
		return rc;
	q->base = addr;
	q->hints_cap = 1u << 16;
	q->ranges_cap = 1u << 16;
	q->hints = calloc(q->hints_cap, sizeof(*q->hints));
	q->ranges = calloc(q->ranges_cap, sizeof(*q->ranges));
	q->pf = calloc(be->lo.geo.layers, sizeof(*q->pf));
	if (!q->hints || !q->ranges || !q->pf)
		return -ENOMEM;
	return 0;
}

static unsigned char *cxl_page(struct bench_be *be, uint32_t s, uint32_t layer,
			       uint32_t head, unsigned int kind, uint32_t block,
			       int write)
{
	struct cxl_be *c = be->priv;

	(void)write;
	return c->sq[s].base + be_page_off(&be->lo, layer, head, kind, block);
}

/* reap finished PREFETCH completions; wait for one if @wait */
static int reap(struct cxl_be *c, int wait)
{
	struct io_uring_cqe *cqe;
	int rc;

	while (c->inflight) {
		rc = wait ? io_uring_wait_cqe(&c->ring, &cqe) :
			    io_uring_peek_cqe(&c->ring, &cqe);
		if (rc == -EAGAIN)
			return 0;
		if (rc)
			return rc;
		if (cqe->res < 0)
			c->pf_errors++;
		if (c->batch[cqe->user_data]) {
			c->batch[cqe->user_data] = 0;
			c->batch_inflight--;
			c->batch_pages += c->slots[cqe->user_data].issued;
		}
		c->free_slots[c->nfree++] = (uint32_t)cqe->user_data;
		c->inflight--;
		io_uring_cqe_seen(&c->ring, cqe);
		wait = 0;
	}
	return 0;
}

static int cmp_read(const void *a, const void *b)
{
	const struct be_read *x = a, *y = b;

	if (x->head != y->head)
		return x->head < y->head ? -1 : 1;
	return x->block < y->block ? -1 : x->block > y->block;
}

/*
 * PREFETCH uring_cmds for the blocks of @layer in @pred, one per run of
 * adjacent blocks of a head, at most @max pages; @batch: a layer batch
 * (waited for by the caller), else a pipeline prefetch.
 */
static int submit_runs(struct bench_be *be, uint32_t s, uint32_t layer,
		       const struct be_read *pred, uint32_t npred, uint32_t max,
		       int batch)
{
	struct cxl_be *c = be->priv;
	int fd = cxl_kv_space_get_fd(c->sq[s].space), rc, queued = 0;
	uint32_t tpb = be->lo.tokens_per_block, pages = 0, nruns = 0;

	if (c->ring_ok) {
		rc = reap(c, 0);
		if (rc)
			return rc;
	}
	memcpy(c->sorted, pred, npred * sizeof(*pred));
	qsort(c->sorted, npred, sizeof(*pred), cmp_read);
	for (uint32_t i = 0; i < npred && pages < max; ) {
		uint32_t j = i + 1, len;
		struct cxl_kv_prefetch *pf;
		struct io_uring_sqe *sqe;
		uint64_t span;

		while (j < npred && c->sorted[j].head == c->sorted[i].head &&
		       c->sorted[j].block <= c->sorted[j - 1].block + 1)
			j++;
		len = c->sorted[j - 1].block - c->sorted[i].block + 1;
		span = (uint64_t)len * tpb;
		if (!c->ring_ok) {
			/* ioctl: returns once the reads are submitted */
			pf = &c->runs[nruns++];
			memset(pf, 0, sizeof(*pf));
			pf->layer = layer;
			pf->head_mask = 1ULL << c->sorted[i].head;
			pf->window = (span - 1) / 2;
			pf->pos = (uint64_t)c->sorted[i].block * tpb + pf->window;
			pages += 2 * len;
			i = j;
			continue;
		}
		if (!c->nfree) {
			if (queued && io_uring_submit(&c->ring) < 0)
				return -EIO;
			queued = 0;
			rc = reap(c, 1);
			if (rc)
				return rc;
		}
		sqe = io_uring_get_sqe(&c->ring);
		if (!sqe)
			return -EBUSY;
		pf = &c->slots[c->free_slots[--c->nfree]];
		memset(pf, 0, sizeof(*pf));
		pf->layer = layer;
		pf->head_mask = 1ULL << c->sorted[i].head;
		pf->window = (span - 1) / 2;
		pf->pos = (uint64_t)c->sorted[i].block * tpb + pf->window;
		rc = cxl_kv_prep_prefetch(sqe, fd, pf);
		if (rc)
			return rc;
		io_uring_sqe_set_data64(sqe, (uint64_t)(pf - c->slots));
		c->batch[pf - c->slots] = (uint8_t)batch;
		c->batch_inflight += batch;
		c->inflight++;
		queued++;
		pages += 2 * len;
		i = j;
	}
	if (!c->ring_ok) {
		if (!nruns)
			return 0;
		rc = cxl_kv_prefetch_batch(c->sq[s].space, c->runs, nruns);
		for (uint32_t k = 0; k < nruns; k++) {
			if (batch)
				c->batch_pages += c->runs[k].issued;
			else
				c->upipe_pages += c->runs[k].issued;
		}
		return rc;
	}
	if (queued && io_uring_submit(&c->ring) < 0)
		return -EIO;
	return 0;
}

static int cxl_layer_begin(struct bench_be *be, uint32_t s, uint32_t layer,
			   uint64_t step, const struct be_read *reads,
			   uint32_t nreads, uint32_t pred_layer,
			   const struct be_read *pred, uint32_t npred)
{
	struct cxl_be *c = be->priv;
	int rc;

	(void)step;
	if (be->o.layer_batch && nreads) {
		/* the layer's block table, read in one batch and waited for */
		rc = submit_runs(be, s, layer, reads, nreads, UINT32_MAX, 1);
		while (!rc && c->batch_inflight)
			rc = reap(c, 1);
		if (rc)
			return rc;
	}
	if (c->module_pipe) {
		rc = cxl_kv_layer_begin(c->sq[s].space, layer, (uint32_t)step,
					be->o.depth, be->o.pf_max_pages, 0);
		if (rc)
			fprintf(stderr, "cxl-kv-bench: LAYER_BEGIN: %s\n",
				strerror(-rc));
		return rc;
	}
	if (!be->o.pipeline || !npred)
		return 0;
	return submit_runs(be, s, pred_layer, pred, npred, be->o.pf_max_pages, 0);
}

static int cxl_note_read(struct bench_be *be, uint32_t s, uint32_t layer,
			 const struct be_read *rd)
{
	struct cxl_be *c = be->priv;
	struct cxl_seq *q = &c->sq[s];

	q->read_this_step = 1;
	if (be->o.hints && q->nhints < q->hints_cap) {
		struct cxl_kv_hint *hi = &q->hints[q->nhints++];

		memset(hi, 0, sizeof(*hi));
		hi->layer = (uint16_t)layer;
		hi->head = rd->head;
		hi->block = rd->block;
		hi->score = rd->mass;
	}
	if (be->o.access && q->nranges < q->ranges_cap) {
		struct cxl_kv_range *rg = &q->ranges[q->nranges];

		if (q->nranges && rg[-1].layer == layer && rg[-1].head == rd->head &&
		    rg[-1].first_block + rg[-1].nr_blocks == rd->block) {
			rg[-1].nr_blocks++;
		} else {
			memset(rg, 0, sizeof(*rg));
			rg->layer = (uint16_t)layer;
			rg->head = rd->head;
			rg->first_block = rd->block;
			rg->nr_blocks = 1;
			q->nranges++;
		}
	}
	return 0;
}

static int cxl_step_end(struct bench_be *be, uint32_t s, uint64_t step,
			uint64_t written)
{
	struct cxl_be *c = be->priv;
	struct cxl_seq *q = &c->sq[s];
	uint32_t off;
	int rc;

	for (off = 0; off < q->nhints; ) {
		unsigned int n = q->nhints - off, done = 0;

		rc = cxl_kv_hints(q->space, step, q->hints + off, n, &done);
		if (rc) {
			fprintf(stderr, "cxl-kv-bench: HINTS step %llu: %s\n",
				(unsigned long long)step, strerror(-rc));
			return rc;
		}
		off += n;
	}
	q->nhints = 0;
	for (off = 0; off < q->nranges; ) {
		unsigned int n = q->nranges - off;

		if (n > 4096)
			n = 4096;
		rc = cxl_kv_access(q->space, step, q->ranges + off, n, NULL);
		if (rc) {
			fprintf(stderr, "cxl-kv-bench: ACCESS step %llu: %s\n",
				(unsigned long long)step, strerror(-rc));
			return rc;
		}
		off += n;
	}
	q->nranges = 0;
	if (!be->o.pipeline && be->o.prefetch && q->read_this_step && written) {
		/* one window per layer, all heads, around the newest token */
		uint32_t heads = be->lo.geo.kv_heads, layers = be->lo.geo.layers;
		uint64_t mask = heads >= 64 ? ~0ULL : (1ULL << heads) - 1;

		memset(q->pf, 0, layers * sizeof(*q->pf));
		for (uint32_t l = 0; l < layers; l++) {
			q->pf[l].layer = l;
			q->pf[l].head_mask = mask;
			q->pf[l].pos = written - 1;
			q->pf[l].window = be->o.window;
		}
		rc = cxl_kv_prefetch_batch(q->space, q->pf, layers);
		if (rc) {
			fprintf(stderr, "cxl-kv-bench: PREFETCH: %s\n", strerror(-rc));
			return rc;
		}
	}
	q->read_this_step = 0;
	return 0;
}

static int cxl_space_stats(struct bench_be *be, uint32_t s,
			   struct cxl_kv_stats *st)
{
	struct cxl_be *c = be->priv;

	return cxl_kv_space_stats(c->sq[s].space, st);
}

static void cxl_counters(struct bench_be *be, struct be_counters *out)
{
	struct cxl_be *c = be->priv;
	struct cxl_kv_stats st;

	memset(out, 0, sizeof(*out));
	out->has_pf = 1;
	for (uint32_t s = 0; s < c->nseq; s++) {
		if (!c->sq[s].space || cxl_kv_space_stats(c->sq[s].space, &st))
			continue;
		out->cold_read_bytes += st.nvme_read_bytes;
		out->cold_write_bytes += st.nvme_write_bytes;
		out->demand_misses += st.faults_cold;
		out->pf_pages += st.prefetch_issued;
		out->pf_used += st.prefetch_used;
	}
	/*
	 * The layer batches read through PREFETCH (uring) count as prefetched
	 * and, when touched, used: they are demand reads, not predictions.
	 */
	out->demand_misses += c->batch_pages;
	{
		out->pf_pages -= c->batch_pages < out->pf_pages ? c->batch_pages :
				 out->pf_pages;
		out->pf_used -= c->batch_pages < out->pf_used ? c->batch_pages :
				out->pf_used;
	}
}

static void cxl_close(struct bench_be *be)
{
	struct cxl_be *c = be->priv;

	if (!c)
		return;
	if (c->ring_ok) {
		while (c->inflight && !reap(c, 1))
			;
		io_uring_queue_exit(&c->ring);
		if (c->pf_errors)
			printf("# pipeline: %llu PREFETCH completions failed\n",
			       (unsigned long long)c->pf_errors);
	}
	if (be->o.pipeline && !c->module_pipe && !c->ring_ok)
		printf("# pipe (bench predictor): issued=%llu\n",
		       (unsigned long long)c->upipe_pages);
	if (c->module_pipe) {
		struct cxl_kv_pipe_stats ps, sum;

		memset(&sum, 0, sizeof(sum));
		for (uint32_t s = 0; c->sq && s < c->nseq; s++) {
			if (!c->sq[s].space || cxl_kv_pipe_stats(c->sq[s].space, &ps))
				continue;
			sum.layer_begins += ps.layer_begins;
			sum.planned += ps.planned;
			sum.issued += ps.issued;
			sum.used += ps.used;
			sum.late += ps.late;
			sum.unread += ps.unread;
			sum.cancelled += ps.cancelled;
			sum.over_budget += ps.over_budget;
		}
		printf("# pipe: layer_begins=%llu planned=%llu issued=%llu used=%llu late=%llu unread=%llu cancelled=%llu over_budget=%llu\n",
		       (unsigned long long)sum.layer_begins,
		       (unsigned long long)sum.planned,
		       (unsigned long long)sum.issued,
		       (unsigned long long)sum.used,
		       (unsigned long long)sum.late,
		       (unsigned long long)sum.unread,
		       (unsigned long long)sum.cancelled,
		       (unsigned long long)sum.over_budget);
	}
	for (uint32_t s = 0; c->sq && s < c->nseq; s++) {
		struct cxl_seq *q = &c->sq[s];

		free(q->hints);
		free(q->ranges);
		free(q->pf);
		cxl_kv_space_close(q->space);
	}
	free(c->sq);
	free(c->sorted);
	free(c->runs);
	free(c);
	be->priv = NULL;
}

const struct be_ops be_cxlkv_ops = {
	.name = "cxl-kv",
	.open = cxl_open,
	.seq_open = cxl_seq_open,
	.page = cxl_page,
	.layer_begin = cxl_layer_begin,
	.note_read = cxl_note_read,
	.step_end = cxl_step_end,
	.counters = cxl_counters,
	.space_stats = cxl_space_stats,
	.close = cxl_close,
};
