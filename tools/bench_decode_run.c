// SPDX-License-Identifier: GPL-2.0
/*
 * bench_decode_run.c - one step of cxl-kv-bench decode: parse every
 * sequence's next trace step, append its tokens, then per layer tell the
 * backend (and, with --pipeline, what layer + depth will read), read and
 * verify the blocks, and wait the layer's compute time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/resource.h>

#include <libcxl_kv.h>

#include "bench.h"
#include "bench_decode.h"

static int write_tokens(struct decode *d, uint32_t s, uint32_t n)
{
	struct seq *q = &d->sq[s];
	const struct cxl_kv_layout *lo = &d->be.lo;
	uint64_t end = q->written + n;

	if (end > lo->geo.max_tokens)
		return -ERANGE;
	for (uint32_t l = 0; l < lo->geo.layers; l++)
		for (uint32_t h = 0; h < lo->geo.kv_heads; h++)
			for (unsigned int k = 0; k < 2; k++)
				for (uint64_t t = q->written; t < end; ) {
					uint32_t b = (uint32_t)(t / d->tpb);
					uint64_t bend = (uint64_t)(b + 1) * d->tpb;
					unsigned char *p;

					p = d->be.ops->page(&d->be, s, l, h, k, b, 1);
					if (!p)
						return -EIO;
					for (; t < end && t < bend; t++)
						bench_pattern(d->seed + s, l, h, k, t,
							      p + (t % d->tpb) * d->token_bytes,
							      d->token_bytes);
				}
	q->written = end;
	return 0;
}

/* Read and verify the written tokens of one block, K and V. */
static int read_block(struct decode *d, uint32_t s, uint32_t l,
		      const struct be_read *rd)
{
	struct seq *q = &d->sq[s];
	uint64_t first = (uint64_t)rd->block * d->tpb, end = first + d->tpb;

	if (end > q->written)
		end = q->written;
	if (end <= first)
		return 0;
	for (unsigned int k = 0; k < 2; k++) {
		const unsigned char *p = d->be.ops->page(&d->be, s, l, rd->head, k,
							 rd->block, 0);

		if (!p)
			return -EIO;
		for (uint64_t t = first; t < end; t++) {
			if ((d->be.o.cold_format & CXL_KV_FMT_MASK) >= CXL_KV_FMT_INT8) {
				/* lossy: read, not verifiable against the pattern */
				(void)*(volatile const unsigned char *)(p + (t - first) * d->token_bytes);
				continue;
			}
			if (bench_check(d->seed + s, l, rd->head, k, t,
					p + (t - first) * d->token_bytes,
					d->token_bytes)) {
				if (d->mismatches++ < 5)
					printf("# MISMATCH seq %u layer %u head %u %c "
					       "token %llu (block %u, step %llu)\n", s, l,
					       rd->head, k ? 'V' : 'K',
					       (unsigned long long)t, rd->block,
					       (unsigned long long)d->step);
			} else {
				d->verified_bytes += d->token_bytes;
			}
		}
	}
	d->pages_read += 2;
	return d->be.ops->note_read ? d->be.ops->note_read(&d->be, s, l, rd) : 0;
}

/*
 * Parse the next step of sequence s: its WRITE count and, per layer, its
 * reads.  Returns 1 for a step, 0 at the end of the trace, -errno.
 */
static int parse_step(struct decode *d, uint32_t s, uint64_t *step,
		      uint32_t *nwrite, int *reads)
{
	struct seq *q = &d->sq[s];
	const struct kvtrace *t = &q->t;
	int have = 0;

	*nwrite = 0;
	*reads = 0;
	for (uint32_t l = 0; l < d->layers; l++) {
		struct be_read *x = q->prev[l];

		/* this step's reads become last step's */
		q->prev[l] = q->rd[l];
		q->nprev[l] = q->nrd[l];
		q->rd[l] = x;
		q->nrd[l] = 0;
	}
	while (q->cur < t->n) {
		uint32_t w = t->w[q->cur], op = KVTRACE_OP(w);

		if (op == KVTRACE_OP_STEP) {
			if (have)
				return 1;
			have = 1;
			*step = w & 0x0fffffff;
			q->cur++;
		} else if (op == KVTRACE_OP_WRITE) {
			*nwrite += w & 0x0fffffff;
			q->cur++;
		} else if (op == KVTRACE_OP_READ) {
			uint32_t l = (w >> 18) & 0x3ff, h = (w >> 10) & 0xff;
			uint32_t n = w & 0x3ff;

			if (l >= d->layers || q->cur + n >= t->n)
				return -EINVAL;
			q->cur++;
			for (uint32_t b = 0; b < n; b++, q->cur++) {
				uint32_t e = t->w[q->cur];
				struct be_read *r;

				if (q->nrd[l] >= d->cap)
					continue;
				r = &q->rd[l][q->nrd[l]++];
				r->head = (uint16_t)h;
				r->block = e >> 16;
				r->mass = (uint16_t)(e & 0xffff);
			}
			*reads = 1;
		} else if (op == KVTRACE_OP_KIND) {
			q->cur++;
		} else {
			return -EINVAL;
		}
	}
	return have;
}

/* seconds since *@t; *@t becomes now */
static double lap(double *t)
{
	double now = bench_now(), dt = now - *t;

	*t = now;
	return dt;
}

/*
 * One step of every sequence: returns 1 to go on, 0 at the end of the
 * traces or after a failure (d->failed).
 */
int decode_step(struct decode *d)
{
	struct be_opts *bo = &d->be.o;
	struct cxl_kv_stats st, gst1;
	uint64_t step = 0;
	uint32_t nwrite, nw0 = 0;
	int reads, any = 0, all_reads = 1, rc;
	double ts, t;

	for (uint32_t s = 0; s < d->nseq; s++) {
		rc = parse_step(d, s, &step, &nwrite, &reads);
		if (rc < 0) {
			fprintf(stderr, "cxl-kv-bench: bad trace\n");
			d->failed = 1;
			break;
		}
		if (!rc)
			continue;
		any = 1;
		if (!s)
			nw0 = nwrite;
		all_reads &= reads;
	}
	if (d->failed || !any)
		return 0;
	d->step = step;
	if (all_reads && !d->decoding) {
		/* the decode phase starts: counters from here */
		d->decoding = 1;
		d->be.ops->counters(&d->be, &d->c0);
		getrusage(RUSAGE_SELF, &d->ru0);
		d->ks0 = bench_kernel_cpu_s();
		d->tdec0 = bench_now();
		d->dec_pages0 = d->pages_read;
		d->dec_misses0 = d->misses;
	}
	ts = bench_now();
	t = ts;
	if (d->be.ops == &be_cxlkv_ops && all_reads &&
	    cxl_kv_get_global_stats(d->be.ctx, &d->gst0))
		d->gst0.demotions = UINT64_MAX;
	for (uint32_t s = 0; s < d->nseq && !d->failed; s++)
		if (write_tokens(d, s, nw0)) {
			fprintf(stderr, "cxl-kv-bench: write failed\n");
			d->failed = 1;
		}
	if (all_reads)
		d->t_write += lap(&t);
	if (all_reads && !d->failed) {
		struct be_counters m0, m1;

		d->be.ops->counters(&d->be, &m0);
		t = bench_now();
		for (uint32_t l = 0; l < d->layers && !d->failed; l++) {
			for (uint32_t s = 0; s < d->nseq && !d->failed; s++) {
				struct seq *q = &d->sq[s];
				uint32_t tl = l + bo->depth, pl = tl % d->layers;
				const struct be_read *pred = NULL;
				uint32_t np = 0;

				if (bo->pipeline) {
					pred = tl < d->layers ? q->prev[pl] : q->rd[pl];
					np = tl < d->layers ? q->nprev[pl] : q->nrd[pl];
				}
				if (d->be.ops->layer_begin(&d->be, s, l, step, q->rd[l],
							   q->nrd[l], pl, pred, np))
					d->failed = 1;
			}
			d->t_begin += lap(&t);
			for (uint32_t s = 0; s < d->nseq && !d->failed; s++)
				for (uint32_t i = 0; i < d->sq[s].nrd[l]; i++)
					if (read_block(d, s, l, &d->sq[s].rd[l][i])) {
						d->failed = 1;
						break;
					}
			d->t_read += lap(&t);
			bench_compute_wait(d->compute_us, d->spin);
			d->t_compute += lap(&t);
		}
		d->be.ops->counters(&d->be, &m1);
		d->misses += m1.demand_misses - m0.demand_misses;
	}
	t = bench_now();
	for (uint32_t s = 0; s < d->nseq && !d->failed; s++)
		if (d->be.ops->step_end(&d->be, s, step, d->sq[s].written))
			d->failed = 1;
	if (all_reads)
		d->t_end += lap(&t);
	if (all_reads && d->nsteps < d->steps_cap) {
		double dt = bench_now() - ts;

		d->step_s[d->nsteps++] = dt;
		/* demotions (worker or write-back) during the step? */
		if (d->be.ops == &be_cxlkv_ops && d->gst0.demotions != UINT64_MAX &&
		    !cxl_kv_get_global_stats(d->be.ctx, &gst1)) {
			if (gst1.demotions + gst1.clean_drops !=
			    d->gst0.demotions + d->gst0.clean_drops)
				d->dem_s[d->ndem++] = dt;
			else
				d->idle_s[d->nidle++] = dt;
		}
	}
	if (d->progress > 0 && bench_now() - d->last_progress >= d->progress) {
		d->last_progress = bench_now();
		printf("# progress: step %llu tokens %llu verified %llu MiB %.0fs\n",
		       (unsigned long long)step,
		       (unsigned long long)d->sq[0].written,
		       (unsigned long long)(d->verified_bytes >> 20),
		       d->last_progress - d->t0);
		fflush(stdout);
	}
	if (d->csv && all_reads && d->be.ops->space_stats &&
	    !d->be.ops->space_stats(&d->be, 0, &st))
		bench_csv_row(d->csv, step, d->pages_read ? 1.0 - (double)d->misses /
			      (double)d->pages_read : 0.0, &st);
	return 1;
}
