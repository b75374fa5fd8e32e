// SPDX-License-Identifier: GPL-2.0
/*
 * kv_fuzz_cmd.c - the fuzzer's commands: structured random arguments for
 * every cxl_kv command, sent through ioctl(2) or IORING_OP_URING_CMD on
 * every ring flavour (plain, SQE128, SQPOLL, IOPOLL, registered files), bad
 * pointers, wrong sizes and random ioctl numbers.
 *
 * Arguments are mostly valid for the space's geometry, so the commands get
 * past the checks; one field in a few takes an edge value, reserved bytes
 * and flags get random bits, and range lists are long and maximal.  With
 * --avoid known the commands that trip the known defects of issue 10 are
 * bounded (the total of blocks of one multi-range command).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kv_fuzz.h"

uint64_t fz_edge(struct fz *f, uint64_t hint)
{
	unsigned int k = (unsigned int)fz_below(f, 64);

	switch (fz_below(f, 12)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return hint ? hint - 1 : 0;
	case 3: return hint;
	case 4: return hint + 1;
	case 5: return (1ULL << k) - 1;
	case 6: return 1ULL << k;
	case 7: return (1ULL << k) + 1;
	case 8: return UINT32_MAX;
	case 9: return UINT64_MAX;
	case 10: return (uint64_t)INT32_MAX + 1;
	default: return fz_rand(f);
	}
}

long fz_sys_ioctl(struct fz *f, int fd, unsigned long cmd, void *arg)
{
	long ret = ioctl(fd, cmd, arg);

	atomic_fetch_add(&f->sh->calls, 1);
	if (_IOC_TYPE(cmd) == CXL_KV_IOC_TYPE) {
		atomic_fetch_add(&f->sh->cmds, 1);
		if (!ret)
			atomic_fetch_add(&f->sh->cmds_ok, 1);
	}
	return ret < 0 ? -errno : ret;
}

/*
 * A pointer for a user buffer of @len bytes holding @good's contents:
 * mostly @good itself, else NULL, a kernel address, an unmapped page, the
 * end of a page whose next page is PROT_NONE (the first half of the buffer
 * readable), a read-only page, or (with @s, ioctl only) a page of the
 * space's own mapping, whose oracle page then holds anything.
 */
void *fz_ptr(struct fz *f, void *good, size_t len, struct fz_space *s)
{
	size_t half = len / 2;

	if (!fz_one_in(f, 12))
		return good;
	switch (fz_below(f, 7)) {
	case 0: return NULL;
	case 1: return (void *)0xffffffff81000000UL;
	case 2: return f->hole + fz_below(f, FZ_PAGE);
	case 3:
		if (len > FZ_PAGE)
			return good;
		memcpy(f->guard + FZ_PAGE - half, good, half);
		return f->guard + FZ_PAGE - half;
	case 4: return f->ropage;
	case 5:
		if (s && s->map && s->wlen && len <= FZ_PAGE && !f->child && !f->racing) {
			uint64_t pg = s->wbase + fz_below(f, s->wlen);
			char *p = s->map + pg * FZ_PAGE;

			fz_wild(s, pg);
			if (!fz_copy(p, good, len))
				return p;
		}
		return good;
	default:
		return (char *)good + fz_below(f, 8);	/* misaligned */
	}
}

/* ---- geometry --------------------------------------------------------- */

void fz_geometry(struct fz *f, struct cxl_kv_space_create *c, int valid)
{
	static const uint32_t dims[] = { 1, 2, 8, 64, 128, 256, 1024, 2048 };

	memset(c, 0, sizeof(*c));
	c->dtype_bytes = 1U << fz_below(f, 3);
	c->head_dim = dims[fz_below(f, 8)];
	if (c->head_dim * c->dtype_bytes > FZ_PAGE)
		c->head_dim = (uint32_t)(FZ_PAGE / c->dtype_bytes);
	c->flags = fz_below(f, 2) ? CXL_KV_SPACE_F_CLOEXEC : 0;
	switch (fz_below(f, 10)) {
	case 0:	/* 1 x 1, long streams (2^20 or 2^22 pages; the cap is 2^24) */
		c->layers = 1;
		c->kv_heads = 1;
		c->head_dim = (uint32_t)(FZ_PAGE / c->dtype_bytes);
		c->max_tokens = 1ULL << (fz_one_in(f, 3) ? 21 : 19);
		break;
	case 1:	/* the most streams */
		c->layers = CXL_KV_MAX_LAYERS;
		c->kv_heads = CXL_KV_MAX_KV_HEADS / (1U << fz_below(f, 4));
		c->max_tokens = 1 + fz_below(f, 16);
		break;
	default: /* ordinary, small */
		c->layers = 1 + (uint32_t)fz_below(f, 8);
		c->kv_heads = 1 + (uint32_t)fz_below(f, 8);
		c->max_tokens = 1 + fz_below(f, 4096);
		break;
	}
	if (valid)
		return;
	switch (fz_below(f, 9)) {
	case 0: c->layers = (uint32_t)fz_edge(f, CXL_KV_MAX_LAYERS); break;
	case 1: c->kv_heads = (uint32_t)fz_edge(f, CXL_KV_MAX_KV_HEADS); break;
	case 2: c->head_dim = (uint32_t)fz_edge(f, c->head_dim); break;
	case 3: c->dtype_bytes = (uint32_t)fz_edge(f, 4); break;
	case 4: c->max_tokens = fz_edge(f, c->max_tokens); break;
	case 5: c->flags = fz_rand(f); break;
	case 6: c->reserved[fz_below(f, 4)] = fz_rand(f); break;
	case 7: c->fd = (uint32_t)fz_rand(f); break;	/* out field */
	default: /* one page over the cap */
		c->layers = 1;
		c->kv_heads = 1;
		c->head_dim = (uint32_t)(FZ_PAGE / c->dtype_bytes);
		c->max_tokens = (CXL_KV_MAX_SPACE_PAGES / 2) + 1;
		break;
	}
}

/* ---- space commands --------------------------------------------------- */

static uint64_t fz_nblocks(struct fz_space *s)
{
	return s->geo.blocks_per_stream;
}

static void fz_range(struct fz *f, struct fz_space *s, struct cxl_kv_range *r,
		     int maximal)
{
	uint64_t b = fz_nblocks(s);

	memset(r, 0, sizeof(*r));
	r->layer = (uint16_t)fz_below(f, s->geo.layers);
	r->head = (uint16_t)fz_below(f, s->geo.kv_heads);
	if (maximal) {
		r->first_block = 0;
		r->nr_blocks = (uint32_t)b;
		return;
	}
	r->first_block = (uint32_t)fz_below(f, b);
	switch (fz_below(f, 4)) {
	case 0: r->nr_blocks = 1; break;
	case 1: r->nr_blocks = (uint32_t)(b - r->first_block); break;
	default:
		r->nr_blocks = 1 + (uint32_t)fz_below(f, b - r->first_block);
		r->nr_blocks = r->nr_blocks > 64 ? 1 + r->nr_blocks % 64 : r->nr_blocks;
		break;
	}
	if (fz_one_in(f, 40)) {
		switch (fz_below(f, 5)) {
		case 0: r->layer = (uint16_t)fz_edge(f, s->geo.layers); break;
		case 1: r->head = (uint16_t)fz_edge(f, s->geo.kv_heads); break;
		case 2: r->first_block = (uint32_t)fz_edge(f, b); break;
		case 3: r->nr_blocks = (uint32_t)fz_edge(f, b); break;
		default: r->reserved = (uint32_t)fz_rand(f); break;
		}
	}
}

/* Fill @q with a range list for @cmd; the ranges go to f->buf. */
static void fz_ranges(struct fz *f, struct fz_space *s, unsigned long cmd,
		      struct cxl_kv_ranges *q, struct fz_space *ptr_s)
{
	struct cxl_kv_range *r = f->buf;
	/* long streams (1 x 1 at the page cap): maximal lists more often */
	int maximal = fz_one_in(f, fz_nblocks(s) >= 1 << 19 ? 3 : 16);
	uint64_t total = 0, cap = (f->avoid & FZ_AVOID_RANGES) ? 1ULL << 18 : UINT64_MAX;
	uint32_t n;

	switch (fz_below(f, 12)) {
	case 0: n = FZ_MAX_RANGES; break;
	case 1: n = 1 + (uint32_t)fz_below(f, FZ_MAX_RANGES); break;
	case 2: n = (uint32_t)fz_edge(f, FZ_MAX_RANGES); break;
	case 3: case 4: n = 1 + (uint32_t)fz_below(f, 128); break;
	default: n = 1 + (uint32_t)fz_below(f, 8); break;
	}
	memset(q, 0, sizeof(*q));
	for (uint32_t i = 0; i < n && i < 2 * FZ_MAX_RANGES; i++) {
		fz_range(f, s, &r[i], maximal);
		total += r[i].nr_blocks;
		if (total > cap) {	/* --avoid known: issue 10, 1 and 3 */
			n = i ? i : 1;
			r[0].nr_blocks = r[0].nr_blocks > cap ? 1 : r[0].nr_blocks;
			break;
		}
	}
	q->count = n;
	q->step = cmd == CXL_KV_ACCESS ? fz_rand(f) % 100000 : 0;
	q->ranges = (uintptr_t)fz_ptr(f, r, n * sizeof(*r), ptr_s);
	if (fz_one_in(f, 30))
		q->flags = (uint32_t)fz_rand(f);
	if (fz_one_in(f, 30))
		q->step = fz_rand(f);
}

static void fz_params(struct fz *f, struct cxl_kv_params *p)
{
	memset(p, 0, sizeof(*p));
	p->mask = fz_one_in(f, 10) ? fz_rand(f) : fz_rand(f) & CXL_KV_PARAM_ALL;
	p->alpha_q16 = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, 65536) : 1 + fz_below(f, 65536));
	p->tau_steps = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, 1 << 26) : 1 + fz_below(f, 5000));
	p->score_shift = (uint32_t)fz_below(f, fz_one_in(f, 4) ? 40 : 13);
	p->sink_tokens = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, 4) : fz_below(f, 64));
	p->recent_tokens = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, 64) : fz_below(f, 256));
	p->pf_window = (uint32_t)fz_below(f, 8);
	p->pf_window_max = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, 32) : 8 + fz_below(f, 25));
	p->pf_epoch = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, 65535) : 1 + fz_below(f, 64));
	p->phase_window = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, 1 << 30) : 16 + fz_below(f, 8192));
	p->phase_enter = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, 65535) : 2 + fz_below(f, 20));
	p->phase_exit = (uint32_t)(1 + fz_below(f, p->phase_enter ? p->phase_enter : 1));
	p->scan_limit = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, 65535) : 1 + fz_below(f, 128));
	p->policy_flags = (uint32_t)(fz_one_in(f, 8) ? fz_rand(f) :
				     fz_rand(f) & CXL_KV_POLICY_F_MASK);
	if (fz_one_in(f, 30))
		p->pad = (uint32_t)fz_rand(f);
	if (fz_one_in(f, 30))
		p->reserved[fz_below(f, 4)] = fz_rand(f);
}

/*
 * Build a random command for space @s into @arg (FZ_SLOT_BYTES).  @ptr_s is
 * the space whose mapping may hold an argument (NULL for uring).  Returns
 * the ioctl number.
 */
static unsigned long fz_space_cmd(struct fz *f, struct fz_space *s, void *arg,
				  struct fz_space *ptr_s)
{
	static const unsigned long cmds[] = {
		CXL_KV_HINTS, CXL_KV_ACCESS, CXL_KV_PREFETCH, CXL_KV_PROMOTE,
		CXL_KV_DEMOTE, CXL_KV_PIN, CXL_KV_UNPIN, CXL_KV_RESIDENCY,
		CXL_KV_PARAMS_GET, CXL_KV_PARAMS_SET, CXL_KV_SPACE_STATS,
		CXL_KV_SPACE_INFO, CXL_KV_LAYER_BEGIN, CXL_KV_LAYER_BEGIN,
		CXL_KV_PIPE_STATS,
	};
	unsigned long cmd = cmds[fz_below(f, sizeof(cmds) / sizeof(cmds[0]))];
	uint64_t b = fz_nblocks(s);

	memset(arg, 0, FZ_SLOT_BYTES);
	switch (cmd) {
	case CXL_KV_HINTS: {
		struct cxl_kv_hints *q = arg;
		struct cxl_kv_hint *h = f->buf;
		uint32_t n = fz_one_in(f, 8) ? (uint32_t)fz_edge(f, 65536) :
			     1 + (uint32_t)fz_below(f, 256);

		for (uint32_t i = 0; i < n && i < 65536; i++) {
			h[i].layer = (uint16_t)fz_below(f, s->geo.layers);
			h[i].head = (uint16_t)fz_below(f, s->geo.kv_heads);
			h[i].block = (uint32_t)fz_below(f, b);
			h[i].score = (uint32_t)fz_rand(f);
			h[i].reserved = 0;
			if (fz_one_in(f, 500))
				h[i].block = (uint32_t)fz_edge(f, b);
		}
		q->step = fz_below(f, 100000);
		q->count = n;
		q->hints = (uintptr_t)fz_ptr(f, h, 16, ptr_s);
		if (fz_one_in(f, 30))
			q->flags = (uint32_t)fz_rand(f);
		if (fz_one_in(f, 30))
			q->pad = (uint32_t)fz_rand(f);
		break;
	}
	case CXL_KV_PREFETCH: {
		struct cxl_kv_prefetch *q = arg;
		uint64_t all = s->geo.kv_heads >= 64 ? UINT64_MAX :
			       (1ULL << s->geo.kv_heads) - 1;

		q->layer = (uint32_t)fz_below(f, s->geo.layers);
		q->head_mask = fz_rand(f) & all;
		q->head_mask = q->head_mask ? q->head_mask : 1;
		q->pos = fz_below(f, s->geo.max_tokens + 1);
		q->window = fz_one_in(f, 4) ? fz_edge(f, s->geo.max_tokens) : fz_below(f, 256);
		q->flags = fz_below(f, 2) ? CXL_KV_PREFETCH_F_WAIT : 0;
		switch (fz_below(f, 12)) {
		case 0: q->layer = (uint32_t)fz_edge(f, s->geo.layers); break;
		case 1: q->head_mask = fz_rand(f); break;
		case 2: q->pos = fz_edge(f, s->geo.max_tokens); break;
		case 3: q->flags = (uint32_t)fz_rand(f); break;
		case 4: q->reserved[fz_below(f, 2)] = fz_rand(f); break;
		default: break;
		}
		break;
	}
	case CXL_KV_RESIDENCY: {
		struct cxl_kv_residency *q = arg;

		q->layer = (uint16_t)fz_below(f, s->geo.layers);
		q->head = (uint16_t)fz_below(f, s->geo.kv_heads);
		q->first_block = (uint32_t)fz_below(f, b);
		q->nr_blocks = (uint32_t)(fz_below(f, 2) ? b - q->first_block :
					  1 + fz_below(f, b - q->first_block));
		switch (fz_below(f, 10)) {
		case 0: q->nr_blocks = (uint32_t)fz_edge(f, b); break;
		case 1: q->first_block = (uint32_t)fz_edge(f, b); break;
		case 2: q->flags = (uint32_t)fz_rand(f); break;
		case 3: q->layer = (uint16_t)fz_edge(f, s->geo.layers); break;
		default: break;
		}
		/* sized for the final nr_blocks: in the KV it must fit one page */
		q->bitmap = (uintptr_t)fz_ptr(f, f->buf, ((uint64_t)q->nr_blocks + 63) / 64 * 8,
					      ptr_s);
		break;
	}
	case CXL_KV_LAYER_BEGIN: {
		struct cxl_kv_layer_begin *q = arg;
		uint32_t dmax = s->geo.layers > 1 ? s->geo.layers - 1 : 1;

		dmax = dmax < CXL_KV_MAX_PIPE_DEPTH ? dmax : CXL_KV_MAX_PIPE_DEPTH;
		q->layer = (uint32_t)fz_below(f, s->geo.layers);
		q->step = (uint32_t)fz_below(f, 100000);
		q->depth = 1 + (uint32_t)fz_below(f, dmax);
		q->flags = fz_one_in(f, 4) ? CXL_KV_LAYER_F_WAIT : 0;
		q->max_pages = fz_one_in(f, 3) ? fz_edge(f, CXL_KV_MAX_PIPE_PAGES) : 0;
		switch (fz_below(f, 12)) {
		case 0: q->layer = (uint32_t)fz_edge(f, s->geo.layers); break;
		case 1: q->depth = (uint32_t)fz_edge(f, dmax); break;
		case 2: q->flags = (uint32_t)fz_rand(f); break;
		case 3: q->reserved[fz_below(f, 4)] = fz_rand(f); break;
		case 4: q->max_pages = fz_rand(f); break;
		default: break;
		}
		break;
	}
	case CXL_KV_PARAMS_SET:
		fz_params(f, arg);
		break;
	case CXL_KV_PIPE_STATS:
	case CXL_KV_PARAMS_GET:
	case CXL_KV_SPACE_STATS:
	case CXL_KV_SPACE_INFO:
		if (fz_one_in(f, 10))
			((uint8_t *)arg)[fz_below(f, _IOC_SIZE(cmd))] = (uint8_t)fz_rand(f);
		break;
	default:
		fz_ranges(f, s, cmd, arg, ptr_s);
		break;
	}
	return cmd;
}

/* A size or direction other than the command's own, sometimes. */
static unsigned long fz_mangle(struct fz *f, unsigned long cmd)
{
	if (!fz_one_in(f, 25))
		return cmd;
	return _IOC(fz_below(f, 4), CXL_KV_IOC_TYPE, _IOC_NR(cmd),
		    fz_below(f, 2) ? _IOC_SIZE(cmd) + 8 - fz_below(f, 16) :
				     fz_below(f, FZ_SLOT_BYTES));
}

void fz_cmd_space(struct fz *f, struct fz_space *s)
{
	char arg[FZ_SLOT_BYTES] __attribute__((aligned(16)));
	unsigned long cmd = fz_space_cmd(f, s, arg, s);
	struct cxl_kv_ranges *q = (void *)arg;
	long ret;

	cmd = fz_mangle(f, cmd);
	fz_log(f, "ioctl space %d cmd %#lx\n", s->fd, cmd);
	ret = fz_sys_ioctl(f, s->fd, cmd, fz_ptr(f, arg, _IOC_SIZE(cmd), NULL));
	fz_ev_cmd(f, s, "ioctl", cmd, arg, ret);
	/* --avoid known: give back the pins this PIN took (issue 10, 8). */
	if ((f->avoid & FZ_AVOID_PINS) && cmd == CXL_KV_PIN && !ret)
		fz_sys_ioctl(f, s->fd, CXL_KV_UNPIN, q);
}

/* ---- control device --------------------------------------------------- */

void fz_cmd_ctl(struct fz *f)
{
	char arg[FZ_SLOT_BYTES] __attribute__((aligned(16)));
	unsigned long cmd;
	long ret;

	memset(arg, 0, sizeof(arg));
	switch (fz_below(f, 9)) {
	case 0: cmd = CXL_KV_GET_FEATURES; break;
	case 1: cmd = CXL_KV_INFO; break;
	case 8: {	/* the caller's spaces, into the big buffer */
		struct cxl_kv_list *l = (void *)arg;

		cmd = CXL_KV_LIST;
		l->count = (uint32_t)(fz_one_in(f, 4) ? fz_edge(f, CXL_KV_MAX_LIST) :
				      fz_below(f, 64));
		l->entries = (uintptr_t)fz_ptr(f, f->buf,
					       (size_t)l->count * sizeof(struct cxl_kv_list_entry),
					       NULL);
		if (fz_one_in(f, 20))
			l->flags = (uint32_t)fz_rand(f);
		break;
	}
	case 2: cmd = CXL_KV_GLOBAL_STATS; break;
	case 3: {	/* unprivileged: -EPERM; root: -EBUSY or a bad request */
		struct cxl_kv_attach *a = (void *)arg;

		cmd = CXL_KV_ATTACH;
		a->nr_nodes = (uint32_t)fz_edge(f, 1);
		a->nr_cold = (uint32_t)fz_edge(f, 1);
		a->nodes[0] = (uint32_t)fz_below(f, 4);
		a->budget_pages = fz_edge(f, 256);
		a->cold[0].path = (uintptr_t)fz_ptr(f, "/dev/nvme0n1", 13, NULL);
		break;
	}
	case 4:	/* --avoid known: no DETACH racing the workers' closes */
		cmd = (f->avoid & FZ_AVOID_DETACH) && !f->id ? CXL_KV_INFO : CXL_KV_DETACH;
		break;
	default: {
		struct cxl_kv_space_create *c = (void *)arg;

		cmd = CXL_KV_SPACE_CREATE;
		fz_geometry(f, c, !fz_one_in(f, 3));
		if (c->max_tokens > 4096 && f->id)	/* a big one is made elsewhere */
			c->max_tokens = 4096;
		/* any cold format (nothing reads these spaces' data back) */
		if (fz_one_in(f, 2))
			CXL_KV_SPACE_COLD_FORMAT(c) = fz_below(f, CXL_KV_FMT_NR + 1) |
				(fz_one_in(f, 4) ? CXL_KV_FMT_F_BF16 : 0);
		/*
		 * Now and then a child sharing a worker space's prefix: from
		 * then on that prefix is read-only, so the worker's writes
		 * there are cut short and leave its pages unchecked, and the
		 * child is not checked (its data are the parent's).
		 */
		if (fz_one_in(f, 40)) {
			struct fz_space *p = &f->sp[fz_below(f, FZ_SPACES)];

			c->flags |= CXL_KV_SPACE_F_SHARE;
			c->reserved[1] = p->fd >= 0 && fz_below(f, 4) ? (uint64_t)p->fd :
					 fz_rand(f);
			c->reserved[2] = fz_one_in(f, 3) ? fz_edge(f, c->max_tokens) :
					 1 + fz_below(f, c->max_tokens);
			if (p->fd >= 0 && !fz_one_in(f, 4)) {	/* a valid child */
				*c = p->geo;
				c->flags = CXL_KV_SPACE_F_SHARE;
				c->fd = c->tokens_per_block = c->token_bytes = 0;
				c->blocks_per_stream = 0;
				c->stream_bytes = c->mmap_bytes = 0;
				c->reserved[0] = 0;
				c->reserved[1] = (uint64_t)p->fd;
				c->reserved[2] = 1 + fz_below(f, p->geo.max_tokens);
			}
		}
		break;
	}
	}
	if (fz_one_in(f, 10))
		arg[fz_below(f, _IOC_SIZE(cmd))] ^= (char)(1 << fz_below(f, 8));
	cmd = fz_mangle(f, cmd);
	ret = fz_sys_ioctl(f, f->ctl, cmd, fz_ptr(f, arg, _IOC_SIZE(cmd), NULL));
	if (cmd == CXL_KV_SPACE_CREATE && !ret) {
		int fd = (int)((struct cxl_kv_space_create *)arg)->fd;

		/* a space made and dropped at once (maybe mapped first) */
		if (fz_one_in(f, 2)) {
			void *m = mmap(NULL, FZ_PAGE, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, 0);
			if (m != MAP_FAILED) {
				fz_copy(m, arg, 8);
				munmap(m, FZ_PAGE);
			}
		}
		close(fd);
	}
}

/* Any ioctl number on either kind of fd. */
void fz_cmd_random_ioctl(struct fz *f)
{
	char arg[FZ_SLOT_BYTES] __attribute__((aligned(16)));
	unsigned long cmd;
	int fd = f->ctl;

	for (size_t i = 0; i < sizeof(arg); i++)
		arg[i] = fz_one_in(f, 4) ? (char)fz_rand(f) : 0;
	for (int i = 0; i < FZ_SPACES; i++)
		if (f->sp[i].fd >= 0 && fz_one_in(f, 2))
			fd = f->sp[i].fd;
	switch (fz_below(f, 3)) {
	case 0: cmd = (unsigned long)(uint32_t)fz_rand(f); break;
	case 1: cmd = _IOC(fz_below(f, 4), CXL_KV_IOC_TYPE, fz_below(f, 256),
			   fz_below(f, 1 << 14)); break;
	default: cmd = _IOWR(CXL_KV_IOC_TYPE, fz_below(f, 0x40), struct cxl_kv_stats); break;
	}
	/* a size beyond the stack buffer: point at the big one */
	fz_sys_ioctl(f, fd, cmd, _IOC_SIZE(cmd) > sizeof(arg) ? f->buf : (void *)arg);
}

/* ---- io_uring --------------------------------------------------------- */

static int fz_ring_up(struct fz *f, int kind)
{
	struct fz_ring *r = &f->rings[kind];
	struct io_uring_params p;
	int ret;

	if (r->up)
		return 0;
	memset(&p, 0, sizeof(p));
	switch (kind) {
	case 1: p.flags = IORING_SETUP_SQE128; break;
	case 2: p.flags = IORING_SETUP_SQPOLL; p.sq_thread_idle = 20; break;
	case 3: p.flags = IORING_SETUP_IOPOLL; break;
	default: break;
	}
	ret = io_uring_queue_init_params(64, &r->ring, &p);
	atomic_fetch_add(&f->sh->calls, 1);
	if (ret < 0)
		return ret;
	r->flags = p.flags;
	r->up = 1;
	r->inflight = 0;
	r->busy = 0;
	r->fixed = 0;
	if (kind == 4 && !io_uring_register_files_sparse(&r->ring, 8))
		r->fixed = 1;
	return 0;
}

static void fz_ring_down(struct fz *f, struct fz_ring *r)
{
	if (!r->up)
		return;
	for (int k = 0; k < FZ_SLOTS; k++)
		if (r->busy >> k & 1 && r->slot_sp[k] && r->slot_sp[k]->hist)
			fz_ev(f, r->slot_sp[k], "uring%d/%d: ring closed in flight: cmd %#lx",
			      (int)(r - f->rings), k, r->slot_cmd[k]);
	memset(r->slot_sp, 0, sizeof(r->slot_sp));
	/* commands may still be in flight: the ring goes with them */
	io_uring_queue_exit(&r->ring);
	atomic_fetch_add(&f->sh->calls, 1);
	r->up = 0;
}

void fz_rings_down(struct fz *f)
{
	for (int i = 0; i < FZ_RINGS; i++)
		fz_ring_down(f, &f->rings[i]);
}

/* The completion of a uring command on a space: in that space's history. */
static void fz_ev_done(struct fz *f, struct fz_ring *r, int slot, int res)
{
	struct fz_space *s = r->slot_sp[slot];

	r->slot_sp[slot] = NULL;
	if (!s || !s->hist || (_IOC_NR(r->slot_cmd[slot]) != _IOC_NR(CXL_KV_PREFETCH) &&
			       _IOC_NR(r->slot_cmd[slot]) != _IOC_NR(CXL_KV_LAYER_BEGIN) &&
			       (_IOC_NR(r->slot_cmd[slot]) < _IOC_NR(CXL_KV_ACCESS) ||
				_IOC_NR(r->slot_cmd[slot]) > _IOC_NR(CXL_KV_UNPIN))))
		return;
	fz_ev(f, s, "uring%d/%d done: cmd %#lx -> %d", (int)(r - f->rings), slot,
	      r->slot_cmd[slot], res);
}

static void fz_reap(struct fz *f, struct fz_ring *r, int wait_ms)
{
	struct __kernel_timespec ts = { .tv_nsec = wait_ms * 1000000L };
	struct io_uring_cqe *cqe;

	while (r->inflight) {
		int ret = wait_ms ? io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts) :
				    io_uring_peek_cqe(&r->ring, &cqe);

		atomic_fetch_add(&f->sh->calls, 1);
		if (ret < 0)
			break;
		if (cqe->user_data && cqe->user_data <= FZ_SLOTS) {
			int slot = (int)cqe->user_data - 1;

			fz_ev_done(f, r, slot, cqe->res);
			r->busy &= ~(1ULL << (cqe->user_data - 1));
			r->inflight--;
			if (cqe->res == 0)
				atomic_fetch_add(&f->sh->cmds_ok, 1);
		}
		io_uring_cqe_seen(&r->ring, cqe);
		wait_ms = 0;
	}
}

/*
 * A batch of 1-8 random commands on one ring: space commands for @s (or
 * control commands), odd SQE fields, sometimes a registered file; reap what
 * completes in a few milliseconds; sometimes close the space or the ring
 * with commands still in flight.
 */
void fz_uring_op(struct fz *f, struct fz_space *s)
{
	int kind = (int)fz_below(f, FZ_RINGS);
	struct fz_ring *r = &f->rings[kind];
	int n = 1 + (int)fz_below(f, 8), queued = 0;

	if (fz_ring_up(f, kind))
		return;
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe;
		struct cxl_kv_uring_cmd *uc;
		unsigned long cmd;
		int slot = -1, fd;
		void *arg;

		for (int k = 0; k < FZ_SLOTS; k++)
			if (!(r->busy & (1ULL << k))) {
				slot = k;
				break;
			}
		if (slot < 0)
			break;
		sqe = io_uring_get_sqe(&r->ring);
		if (!sqe)
			break;
		arg = r->slot[slot];
		if (s->fd >= 0 && !fz_one_in(f, 8)) {
			cmd = fz_space_cmd(f, s, arg, NULL);
			fd = s->fd;
		} else {
			memset(arg, 0, FZ_SLOT_BYTES);
			cmd = fz_below(f, 2) ? CXL_KV_INFO : CXL_KV_SPACE_STATS;
			fd = f->ctl;
		}
		cmd = fz_mangle(f, cmd);
		memset(sqe, 0, (r->flags & IORING_SETUP_SQE128) ? 128 : 64);
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = fd;
		sqe->cmd_op = (uint32_t)cmd;
		sqe->user_data = (uint64_t)slot + 1;
		uc = (struct cxl_kv_uring_cmd *)sqe->cmd;
		uc->addr = (uintptr_t)fz_ptr(f, arg, _IOC_SIZE(cmd), NULL);
		uc->len = (uint32_t)_IOC_SIZE(cmd);
		if (fz_one_in(f, 30))
			uc->len = (uint32_t)fz_rand(f);
		if (fz_one_in(f, 30))
			uc->flags = (uint32_t)fz_rand(f);
		if (fz_one_in(f, 30))
			sqe->len = (uint32_t)fz_rand(f);
		if (fz_one_in(f, 20))
			sqe->flags |= IOSQE_ASYNC;
		if (r->fixed && fz_below(f, 2)) {
			int idx = (int)fz_below(f, 8);

			io_uring_register_files_update(&r->ring, (unsigned int)idx, &fd, 1);
			atomic_fetch_add(&f->sh->calls, 1);
			sqe->fd = idx;
			sqe->flags |= IOSQE_FIXED_FILE;
		}
		r->busy |= 1ULL << slot;
		r->slot_sp[slot] = fd == s->fd ? s : NULL;
		r->slot_cmd[slot] = cmd;
		if (fd == s->fd) {
			char via[16];

			snprintf(via, sizeof(via), "uring%d/%d", kind, slot);
			fz_ev_cmd(f, s, via, cmd, arg, 1);
		}
		r->inflight++;
		queued++;
		atomic_fetch_add(&f->sh->cmds, 1);
		atomic_fetch_add(&f->sh->uring_cmds, 1);
	}
	if (queued) {
		int ret = io_uring_submit(&r->ring);

		atomic_fetch_add(&f->sh->calls, 1);
		if (ret < 0) {	/* nothing went in: start the ring over */
			fz_ring_down(f, r);
			return;
		}
	}
	/* the space's fd closed with its commands in flight (the mapping stays) */
	if (queued && s->fd >= 0 && fz_one_in(f, 20)) {
		fz_ev(f, s, "close fd %d, uring commands in flight", s->fd);
		close(s->fd);
		atomic_fetch_add(&f->sh->calls, 1);
		s->fd = -1;
	}
	fz_reap(f, r, 1 + (int)fz_below(f, 20));
	if (r->inflight && (r->inflight > FZ_SLOTS / 2 || fz_one_in(f, 30)))
		fz_ring_down(f, r);	/* close with commands in flight */
}
