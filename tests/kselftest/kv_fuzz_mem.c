// SPDX-License-Identifier: GPL-2.0
/*
 * kv_fuzz_mem.c - the fuzzer's spaces and memory: mappings made, split,
 * moved, advised and unmapped; pages written and read through the mapping,
 * process_vm_readv/writev, /proc/self/mem, O_DIRECT I/O to and from the
 * mapping and vmsplice; forked children racing the parent, killed with
 * SIGKILL in the middle of commands and faults.
 *
 * The data oracle: a space's owner writes whole pages of a self-describing
 * pattern (word 0 = version = tag << 48 | page << 20 | seq, every other word
 * a hash of the version and its index) into a window of the space, and
 * records the seq of each page.  Every page read back must hold exactly the
 * recorded version, or zeros if it was never written; in a space with a
 * lossy cold format (int8, fp8, int4) the pattern has bit 14 of every
 * 16-bit element clear (finite values, so the pages encode) and a page may
 * instead hold, whole, what the codec (libkvcodec.a, as the module) decodes
 * from it: the exact page or the round trip, never a mix; a page whose write
 * was cut short (SIGBUS, partial GUP copy) or that served as a command
 * argument is "wild" (not checked) until it is written whole again.  A
 * forked child racing the writer (which may be in the middle of a page)
 * accepts, word by word, zeros while the page was never written or a word
 * of a version of the right tag and page at least as new as the one it saw
 * at fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kv_fuzz.h"
#include "kvcodec.h"

#define FZ_WORDS	(FZ_PAGE / 8)

static sigjmp_buf fz_jmp;
static volatile sig_atomic_t fz_guard_on, fz_sig;

static void fz_sig_handler(int sig)
{
	if (fz_guard_on) {
		fz_sig = sig;
		siglongjmp(fz_jmp, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fz_guard_install(void)
{
	static int installed;

	if (!installed) {
		struct sigaction sa = { .sa_handler = fz_sig_handler,
					.sa_flags = SA_NODEFER };

		sigaction(SIGBUS, &sa, NULL);
		sigaction(SIGSEGV, &sa, NULL);
		installed = 1;
	}
}

int fz_copy(void *dst, const void *src, size_t n)
{
	fz_guard_install();
	fz_sig = 0;
	fz_guard_on = 1;
	if (!sigsetjmp(fz_jmp, 1))
		memcpy(dst, src, n);
	fz_guard_on = 0;
	return fz_sig;
}

/* ---- the pattern ------------------------------------------------------- */

static uint64_t fz_ver(struct fz_space *s, uint64_t pg, uint32_t seq)
{
	return (uint64_t)s->tag << 48 | (pg & 0xfffffff) << 20 | (seq & 0xfffff);
}

static uint64_t fz_word(uint64_t v, uint64_t w)
{
	uint64_t x = v * 0x9E3779B97F4A7C15ULL + w;

	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ULL;
	return x ^ (x >> 29);
}

static void fz_fill(uint64_t *p, uint64_t v)
{
	p[0] = v;
	for (uint64_t w = 1; w < FZ_WORDS; w++)
		p[w] = fz_word(v, w);
}

static int fz_lossy(const struct fz_space *s)
{
	return (s->fmt & CXL_KV_FMT_MASK) >= CXL_KV_FMT_INT8;
}

/* What a write of version @v leaves in a page of @s: the pattern, masked. */
static void fz_fill_space(const struct fz_space *s, uint64_t *p, uint64_t v)
{
	fz_fill(p, v);
	if (fz_lossy(s))
		for (uint64_t w = 0; w < FZ_WORDS; w++)
			p[w] &= 0xbfffbfffbfffbfffULL;
}

/*
 * The page @img of page @pg of a lossy space after a demotion and a
 * promotion: the codec's round trip, or @img itself where the module writes
 * the page raw (it does not encode, or its object would exceed KVC_OBJ_MAX).
 */
static void fz_roundtrip(const struct fz_space *s, uint64_t pg,
			 const uint64_t *img, uint64_t *out)
{
	struct kvc_geom g = {
		.head_dim = s->geo.head_dim,
		.bf16 = !!(s->fmt & CXL_KV_FMT_F_BF16),
		.is_v = (uint8_t)((pg / s->geo.blocks_per_stream) & 1),
	};
	uint8_t obj[KVC_PAGE + KVC_HDR];

	kvc_reference((int)(s->fmt & CXL_KV_FMT_MASK), &g, img, obj, out);
}

/* First bad word + 1 of a page that should hold version @v (0: zeros). */
static uint64_t fz_bad_word(const uint64_t *p, uint64_t v)
{
	for (uint64_t w = 0; w < FZ_WORDS; w++)
		if (p[w] != (v && w ? fz_word(v, w) : v))
			return w + 1;
	return 0;
}

void fz_fail(struct fz *f, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&f->sh->mismatches, 1);
	printf("# FAIL seed %llu worker %d op %llu: %s\n",
	       (unsigned long long)f->seed, f->id, (unsigned long long)f->op, msg);
	fflush(stdout);
	if (!atomic_exchange(&f->sh->fail_taken, 1)) {
		n = snprintf(f->sh->fail, sizeof(f->sh->fail),
			     "seed %llu worker %d op %llu: %s",
			     (unsigned long long)f->seed, f->id,
			     (unsigned long long)f->op, msg);
		(void)n;
	}
}

/* ---- a space's history, for the report of a mismatch ------------------ */

/* Record an event of @s (covering nothing until fz_ev_cover()). */
struct fz_ev *fz_ev(struct fz *f, struct fz_space *s, const char *fmt, ...)
{
	struct fz_ev *e;
	va_list ap;

	if (!s->hist)
		return NULL;
	e = &s->hist[s->nhist++ % FZ_HIST];
	memset(e, 0, sizeof(*e));
	e->op = f->op;
	va_start(ap, fmt);
	vsnprintf(e->what, sizeof(e->what), fmt, ap);
	va_end(ap);
	return e;
}

/*
 * Add pages [@lo, @hi] of @s to what @e may have touched, as far as they
 * meet the oracle window.  An event with no interval covers the whole
 * space: fz_ev_cover(s, e, 1, 0) marks one that touched none of the window.
 */
void fz_ev_cover(struct fz_space *s, struct fz_ev *e, uint64_t lo, uint64_t hi)
{
	uint64_t wend = s->wbase + s->wlen - 1;

	if (!e)
		return;
	if (lo > hi || hi < s->wbase || lo > wend) {
		if (!e->niv) {	/* none of the window: an empty interval */
			e->lo[0] = 1;
			e->hi[0] = 0;
			e->niv = 1;
		}
		return;
	}
	lo = lo < s->wbase ? s->wbase : lo;
	hi = hi > wend ? wend : hi;
	if (e->niv == 1 && e->lo[0] > e->hi[0])
		e->niv = 0;	/* the empty marker goes */
	if (e->niv < FZ_EV_IV) {
		e->lo[e->niv] = lo;
		e->hi[e->niv++] = hi;
		return;
	}
	if (lo < e->lo[FZ_EV_IV - 1])
		e->lo[FZ_EV_IV - 1] = lo;
	if (hi > e->hi[FZ_EV_IV - 1])
		e->hi[FZ_EV_IV - 1] = hi;
}

static int fz_ev_touches(const struct fz_ev *e, uint64_t pg)
{
	if (!e->niv)
		return 1;
	for (int i = 0; i < e->niv; i++)
		if (pg >= e->lo[i] && pg <= e->hi[i])
			return 1;
	return 0;
}

/* Blocks [@first, @first + @nr) of (@layer, @head): its K and V pages. */
static void fz_ev_blocks(struct fz_space *s, struct fz_ev *e, uint64_t layer,
			 uint64_t head, uint64_t first, uint64_t nr)
{
	uint64_t bps = s->geo.blocks_per_stream;
	uint64_t st = layer * s->geo.kv_heads + head;

	if (!nr || layer >= s->geo.layers || head >= s->geo.kv_heads ||
	    first >= bps)
		return;
	if (nr > bps - first)
		nr = bps - first;
	for (uint64_t kv = 0; kv < 2; kv++)
		fz_ev_cover(s, e, (st * 2 + kv) * bps + first,
			    (st * 2 + kv) * bps + first + nr - 1);
}

/*
 * A command @cmd on @s through @via with the argument @arg as built (its
 * arrays in f->buf), and its result @ret (1: in flight).  Only commands that
 * move or map data are kept.
 */
void fz_ev_cmd(struct fz *f, struct fz_space *s, const char *via,
	       unsigned long cmd, const void *arg, long ret)
{
	static const struct { unsigned long cmd; const char *name; } names[] = {
		{ CXL_KV_ACCESS, "ACCESS" }, { CXL_KV_PREFETCH, "PREFETCH" },
		{ CXL_KV_PROMOTE, "PROMOTE" }, { CXL_KV_DEMOTE, "DEMOTE" },
		{ CXL_KV_PIN, "PIN" }, { CXL_KV_UNPIN, "UNPIN" },
		{ CXL_KV_LAYER_BEGIN, "LAYER_BEGIN" },
	};
	const char *name = NULL;
	struct fz_ev *e;

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cmd == cmd)
			name = names[i].name;
	if (!name || !s->hist)
		return;
	if (cmd == CXL_KV_PREFETCH) {
		const struct cxl_kv_prefetch *q = arg;
		uint64_t tpb = s->geo.tokens_per_block ? s->geo.tokens_per_block : 1;
		uint64_t lo = q->pos > q->window ? q->pos - q->window : 0;
		uint64_t hi = q->pos + (q->window < s->geo.max_tokens ?
					q->window : s->geo.max_tokens);

		hi = hi < s->geo.max_tokens ? hi : s->geo.max_tokens - 1;
		e = fz_ev(f, s, "%s PREFETCH L%u mask %#llx pos %llu win %llu%s -> %ld",
			  via, q->layer, (unsigned long long)q->head_mask,
			  (unsigned long long)q->pos,
			  (unsigned long long)q->window,
			  q->flags & CXL_KV_PREFETCH_F_WAIT ? " WAIT" : "", ret);
		for (uint64_t h = 0; h < s->geo.kv_heads && h < 64; h++)
			if (q->head_mask >> h & 1)
				fz_ev_blocks(s, e, q->layer, h, lo / tpb,
					     hi / tpb - lo / tpb + 1);
		fz_ev_cover(s, e, 1, 0);
		return;
	}
	if (cmd == CXL_KV_LAYER_BEGIN) {
		const struct cxl_kv_layer_begin *q = arg;

		/* the pipeline reads whatever it plans: the whole space */
		fz_ev(f, s, "%s LAYER_BEGIN L%u step %u depth %u%s -> %ld", via,
		      q->layer, q->step, q->depth,
		      q->flags & CXL_KV_LAYER_F_WAIT ? " WAIT" : "", ret);
		return;
	}
	{
		const struct cxl_kv_ranges *q = arg;
		const struct cxl_kv_range *r = f->buf;

		e = fz_ev(f, s, "%s %s %u ranges -> %ld", via, name, q->count, ret);
		for (uint32_t i = 0; i < q->count && i < 2 * FZ_MAX_RANGES; i++)
			fz_ev_blocks(s, e, r[i].layer, r[i].head, r[i].first_block,
				     r[i].nr_blocks);
		fz_ev_cover(s, e, 1, 0);
	}
}

/* The last events of @s that may have touched page @pg or its block partner. */
static void fz_ev_dump(struct fz *f, struct fz_space *s, uint64_t pg)
{
	uint64_t bps = s->geo.blocks_per_stream;
	uint64_t partner = (pg / bps) & 1 ? pg - bps : pg + bps;
	uint64_t first = s->nhist > FZ_HIST ? s->nhist - FZ_HIST : 0, n = 0, i;

	if (!s->hist)
		return;
	/* from the newest back, at most 48 of them; printed oldest first */
	for (i = s->nhist; i > first && n < 48; i--)
		n += fz_ev_touches(&s->hist[(i - 1) % FZ_HIST], pg) ||
		     fz_ev_touches(&s->hist[(i - 1) % FZ_HIST], partner);
	printf("# worker %d page %llu (block partner %llu): its last %llu events of %llu (ops %llu..%llu kept):\n",
	       f->id, (unsigned long long)pg, (unsigned long long)partner,
	       (unsigned long long)n, (unsigned long long)s->nhist,
	       (unsigned long long)s->hist[first % FZ_HIST].op,
	       (unsigned long long)f->op);
	for (; i < s->nhist; i++) {
		const struct fz_ev *e = &s->hist[i % FZ_HIST];
		int a = fz_ev_touches(e, pg), b = fz_ev_touches(e, partner);

		if (a || b)
			printf("#   op %llu: %s%s\n", (unsigned long long)e->op,
			       e->what, !e->niv ? " [space]" : a ? "" : " [partner]");
	}
	fflush(stdout);
}

void fz_wild(struct fz_space *s, uint64_t pg)
{
	if (pg >= s->wbase && pg < s->wbase + s->wlen)
		s->wild[pg - s->wbase] = 1;
}

/* ---- spaces ------------------------------------------------------------ */

int fz_space_open(struct fz *f, struct fz_space *s)
{
	struct cxl_kv_space_create *c = &s->geo;
	int huge = 0;
	long ret;

	for (int i = 0; i < FZ_SPACES; i++)
		huge |= f->sp[i].huge;
	fz_geometry(f, c, 1);
	/*
	 * A third of the spaces keep their cold pages in a cold format:
	 * lossless (bit-exact) for any dtype; int8, fp8, int4 (fp16 or bf16)
	 * for 2-byte elements.
	 */
	if (fz_one_in(f, 3)) {
		uint64_t fmt = CXL_KV_FMT_LOSSLESS;

		if (c->dtype_bytes == 2) {
			fmt += fz_below(f, CXL_KV_FMT_NR - CXL_KV_FMT_LOSSLESS);
			if (fz_one_in(f, 3))
				fmt |= CXL_KV_FMT_F_BF16;
		}
		CXL_KV_SPACE_COLD_FORMAT(c) = fmt;
	}
	/* one space of a million pages or more per worker at a time */
	if (huge && (uint64_t)c->layers * c->kv_heads * c->max_tokens > 1 << 16)
		c->max_tokens = 1 + fz_below(f, 4096);
	ret = fz_sys_ioctl(f, f->ctl, CXL_KV_SPACE_CREATE, c);
	if (ret)
		return (int)ret;
	s->fd = (int)c->fd;
	s->fmt = CXL_KV_SPACE_COLD_FORMAT(c);
	s->npages = c->mmap_bytes / FZ_PAGE;
	s->huge = s->npages > (1 << 20);
	s->map = mmap(NULL, c->mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	atomic_fetch_add(&f->sh->calls, 2);
	if (s->map == MAP_FAILED) {
		fz_fail(f, "mmap of a new space of %llu pages: %s",
			(unsigned long long)s->npages, strerror(errno));
		s->map = NULL;
	}
	s->tag = (uint16_t)(1 + fz_below(f, 0xffff));
	s->wlen = (uint32_t)(1 + fz_below(f, s->npages < FZ_WINDOW ? s->npages : FZ_WINDOW));
	switch (fz_below(f, 3)) {
	case 0: s->wbase = 0; break;
	case 1: s->wbase = s->npages - s->wlen; break;	/* the space's end */
	default: s->wbase = fz_below(f, s->npages - s->wlen + 1); break;
	}
	s->seq = calloc(FZ_WINDOW, sizeof(*s->seq));
	s->wild = calloc(FZ_WINDOW, 1);
	s->requant = calloc(FZ_WINDOW, 1);
	s->hist = calloc(FZ_HIST, sizeof(*s->hist));
	s->nhist = 0;
	fz_ev(f, s, "SPACE_CREATE fd %d format %#llx %ux%ux%ux%u window %llu+%u",
	      s->fd, (unsigned long long)s->fmt, c->layers, c->kv_heads,
	      c->head_dim, c->dtype_bytes, (unsigned long long)s->wbase, s->wlen);
	fz_log(f, "space fd %d %ux%ux%ux%u format %#llx tokens %llu pages %llu window %llu+%u\n",
	       s->fd, c->layers, c->kv_heads, c->head_dim, c->dtype_bytes,
	       (unsigned long long)s->fmt,
	       (unsigned long long)c->max_tokens, (unsigned long long)s->npages,
	       (unsigned long long)s->wbase, s->wlen);
	return 0;
}

void fz_space_close(struct fz *f, struct fz_space *s, int unmap)
{
	if (s->fd >= 0) {
		fz_ev(f, s, "close fd %d%s", s->fd, unmap ? " and unmap" : "");
		close(s->fd);
		atomic_fetch_add(&f->sh->calls, 1);
		s->fd = -1;
	}
	if (!unmap)
		return;
	if (s->map) {
		munmap(s->map, s->npages * FZ_PAGE);
		atomic_fetch_add(&f->sh->calls, 1);
	}
	free(s->seq);
	free(s->wild);
	free(s->requant);
	free(s->hist);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* ---- writes and reads through every path ------------------------------- */

/* Copy @buf to page @pg of the mapping by one of the paths; bytes moved. */
static long fz_put(struct fz *f, struct fz_space *s, uint64_t pg, const void *buf, int how)
{
	char *p = s->map + pg * FZ_PAGE;
	struct iovec l = { (void *)buf, FZ_PAGE }, r = { p, FZ_PAGE };
	long n = -1;
	int fd;

	atomic_fetch_add(&f->sh->calls, 1);
	switch (how) {
	case 1:
		return process_vm_writev(getpid(), &l, 1, &r, 1, 0);
	case 2:
		fd = open("/proc/self/mem", O_RDWR);
		if (fd >= 0) {
			n = pwrite(fd, buf, FZ_PAGE, (off_t)(uintptr_t)p);
			close(fd);
		}
		return n;
	case 3:	/* the page DMA'd in from the scratch device (O_DIRECT read) */
		if (f->dio_fd < 0)
			break;
		memcpy(f->dio_buf, buf, FZ_PAGE);
		if (pwrite(f->dio_fd, f->dio_buf, FZ_PAGE, (off_t)f->dio_base) != FZ_PAGE)
			return -1;
		return pread(f->dio_fd, p, FZ_PAGE, (off_t)f->dio_base);
	default:
		break;
	}
	return fz_copy(p, buf, FZ_PAGE) ? -1 : (long)FZ_PAGE;
}

/* DEMOTE the block that holds page @pg of @s (its K and V pages). */
static void fz_demote_block(struct fz *f, struct fz_space *s, uint64_t pg)
{
	uint64_t bps = s->geo.blocks_per_stream;
	uint64_t st = pg / bps / 2;
	struct cxl_kv_range rg = {
		.layer = (uint16_t)(st / s->geo.kv_heads),
		.head = (uint16_t)(st % s->geo.kv_heads),
		.first_block = (uint32_t)(pg % bps),
		.nr_blocks = 1,
	};
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)&rg, .count = 1 };

	if (s->fd >= 0) {
		long ret = fz_sys_ioctl(f, s->fd, CXL_KV_DEMOTE, &q);
		struct fz_ev *e = fz_ev(f, s, "ioctl DEMOTE the block of page %llu -> %ld (done %llu)",
					(unsigned long long)pg, ret,
					(unsigned long long)q.done);

		fz_ev_cover(s, e, pg, pg);
		fz_ev_cover(s, e, (pg / bps) & 1 ? pg - bps : pg + bps,
			    (pg / bps) & 1 ? pg - bps : pg + bps);
	}
}

/* Copy page @pg of the mapping into @buf by one of the paths; bytes moved. */
static long fz_get(struct fz *f, struct fz_space *s, uint64_t pg, void *buf, int how)
{
	char *p = s->map + pg * FZ_PAGE;
	struct iovec l = { buf, FZ_PAGE }, r = { p, FZ_PAGE };
	long n = -1;
	int fd, pp[2];

	atomic_fetch_add(&f->sh->calls, 1);
	switch (how) {
	case 1:
		return process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	case 2:
		fd = open("/proc/self/mem", O_RDONLY);
		if (fd >= 0) {
			n = pread(fd, buf, FZ_PAGE, (off_t)(uintptr_t)p);
			close(fd);
		}
		return n;
	case 3:	/* DMA out of the page (O_DIRECT write), read back */
		if (f->dio_fd < 0)
			break;
		if (pwrite(f->dio_fd, p, FZ_PAGE, (off_t)f->dio_base) != FZ_PAGE)
			return -1;
		n = pread(f->dio_fd, f->dio_buf, FZ_PAGE, (off_t)f->dio_base);
		memcpy(buf, f->dio_buf, FZ_PAGE);
		return n;
	case 4:	/* the pipe holds the page itself; a DEMOTE may run meanwhile */
		if (pipe(pp))
			break;
		fcntl(pp[1], F_SETPIPE_SZ, 65536);
		n = vmsplice(pp[1], &r, 1, 0);
		if (n == FZ_PAGE) {
			if (fz_below(f, 2))
				fz_demote_block(f, s, pg);	/* the one the pipe holds */
			n = read(pp[0], buf, FZ_PAGE);
		}
		close(pp[0]);
		close(pp[1]);
		return n;
	default:
		break;
	}
	return fz_copy(buf, p, FZ_PAGE) ? -1 : (long)FZ_PAGE;
}

/*
 * The pages @s has demoted so far (SPACE_STATS), for a lossy space with an
 * fd; else 0.
 */
static uint64_t fz_demotions(struct fz *f, struct fz_space *s)
{
	struct cxl_kv_stats st;

	if (!fz_lossy(s) || s->fd < 0)
		return 0;
	memset(&st, 0, sizeof(st));
	atomic_fetch_add(&f->sh->calls, 1);
	if (ioctl(s->fd, CXL_KV_SPACE_STATS, &st))
		return 0;
	return st.demotions;
}

/* Write the next version of page @pg by path @how (see fz_put()). */
static void fz_write_page_how(struct fz *f, struct fz_space *s, uint64_t pg,
			      int how)
{
	static const char *const wpaths[] = { "store", "process_vm_writev",
		"/proc/self/mem", "O_DIRECT read" };
	uint64_t buf[FZ_WORDS], i = pg - s->wbase;
	uint32_t seq = (s->seq[i] + 1) & 0xfffff;
	uint64_t demoted;
	long n;

	if (!s->map || f->child)	/* the oracle is the parent's */
		return;
	seq = seq ? seq : 1;
	fz_fill_space(s, buf, fz_ver(s, pg, seq));
	demoted = fz_demotions(f, s);
	n = fz_put(f, s, pg, buf, how);
	/*
	 * A demotion in the middle of the copy (a child's DEMOTE, the
	 * worker) encodes the page half written; if its write-back ends
	 * before the copy's next store faults the page back, the page keeps
	 * that quantized first part: right (uapi.rst: the contents at its
	 * demotion), but no version.  In a lossy space a write during which
	 * the space's demotions counter moved is not checked.
	 */
	if (n == FZ_PAGE && fz_lossy(s) && demoted != fz_demotions(f, s)) {
		uint64_t now[FZ_WORDS], ref[FZ_WORDS];

		/* how often it happens: what the page holds now */
		atomic_fetch_add(&f->sh->writes_raced, 1);
		fz_roundtrip(s, pg, buf, ref);
		if (!fz_copy(now, s->map + pg * FZ_PAGE, FZ_PAGE) &&
		    memcmp(now, buf, FZ_PAGE) && memcmp(now, ref, FZ_PAGE))
			atomic_fetch_add(&f->sh->writes_mixed, 1);
		n = -2;
	}
	fz_ev_cover(s, fz_ev(f, s, "write seq %u by %s: %s", seq, wpaths[how],
			     n == FZ_PAGE ? "whole" : n == -2 ?
			     "a demotion meanwhile (wild)" : "cut short (wild)"),
		    pg, pg);
	if (n == FZ_PAGE) {
		s->seq[i] = seq;
		s->wild[i] = 0;
		s->requant[i] = 0;
		atomic_fetch_add(&f->sh->pages_written, 1);
	} else {
		/* cut short (SIGBUS: no warm page; EFAULT): contents unknown */
		s->wild[i] = 1;
		if (how == 0 && n != -2)
			atomic_fetch_add(&f->sh->sigbus, 1);
	}
}

void fz_write_page(struct fz *f, struct fz_space *s, uint64_t pg)
{
	fz_write_page_how(f, s, pg, fz_below(f, 3) ? 0 : 1 + (int)fz_below(f, 3));
}

/* Words of @a that differ from @b. */
static unsigned int fz_ndiff(const uint64_t *a, const uint64_t *b)
{
	unsigned int n = 0;

	for (uint64_t w = 0; w < FZ_WORDS; w++)
		n += a[w] != b[w];
	return n;
}

/*
 * What a mismatched page @buf holds, against the versions of the page (the
 * recorded one and the 7 before it, and zeros): each exact, through the
 * codec once and twice; words that differ, the best match named.
 */
static void fz_holds(struct fz *f, struct fz_space *s, uint64_t pg,
		     const uint64_t *buf)
{
	static const char *const how[] = { "exact", "codec once", "codec twice" };
	uint64_t img[3][FZ_WORDS];
	uint32_t seq = 0;
	unsigned int best = FZ_WORDS + 1, bk = 0, bseq = 0, d;
	char line[600];
	int len;

	if (pg >= s->wbase && pg < s->wbase + s->wlen)
		seq = s->seq[pg - s->wbase];
	len = snprintf(line, sizeof(line), "# worker %d page %llu (format %#llx, %s page, head_dim %u, seq %u) holds, words differing from:",
		       f->id, (unsigned long long)pg, (unsigned long long)s->fmt,
		       (pg / s->geo.blocks_per_stream) & 1 ? "V" : "K",
		       s->geo.head_dim, seq);
	for (int back = 0; back <= 8; back++) {
		uint32_t sq = back == 8 ? 0 : seq - (uint32_t)back;

		if (back < 8 && (!seq || back >= (int)seq))
			continue;
		memset(img[0], 0, FZ_PAGE);
		if (sq)
			fz_fill_space(s, img[0], fz_ver(s, pg, sq));
		fz_roundtrip(s, pg, img[0], img[1]);
		fz_roundtrip(s, pg, img[1], img[2]);
		for (int k = 0; k < (fz_lossy(s) ? 3 : 1); k++) {
			d = fz_ndiff(buf, img[k]);
			if (d < best) {
				best = d;
				bk = (unsigned int)k;
				bseq = sq;
			}
			if (len < (int)sizeof(line) - 40)
				len += snprintf(line + len, sizeof(line) - (size_t)len,
						" seq %u %s %u;", sq, how[k], d);
		}
	}
	printf("%s best: seq %u %s (%u words)\n", line, bseq, how[bk], best);
	fflush(stdout);
}

/*
 * Read page @pg by path @how (see fz_get()), after a DEMOTE of its block
 * if @demote, and check it against the oracle.
 */
static void fz_check_page_how(struct fz *f, struct fz_space *s, uint64_t pg,
			      int how, int demote)
{
	static const char *const paths[] = { "load", "process_vm_readv",
		"/proc/self/mem", "O_DIRECT write", "vmsplice" };
	uint64_t buf[FZ_WORDS], img[FZ_WORDS], ref[FZ_WORDS], want = 0, bad;
	int in = pg >= s->wbase && pg < s->wbase + s->wlen;
	struct fz_ev *e;
	long n;

	if (!s->map)
		return;
	if (in) {
		if (s->wild[pg - s->wbase])
			return;
		if (s->seq[pg - s->wbase])
			want = fz_ver(s, pg, s->seq[pg - s->wbase]);
	}
	if (demote)
		fz_demote_block(f, s, pg);
	n = fz_get(f, s, pg, buf, how);
	e = fz_ev(f, s, "read by %s", paths[how]);
	fz_ev_cover(s, e, pg, pg);
	if (n != FZ_PAGE) {
		if (e)
			snprintf(e->what, sizeof(e->what), "read by %s: failed (%ld)",
				 paths[how], n);
		if (how == 0)
			atomic_fetch_add(&f->sh->sigbus, 1);
		return;
	}
	atomic_fetch_add(&f->sh->pages_checked, 1);
	if (fz_lossy(s)) {
		/* the exact page or, whole, the codec's round trip of it */
		memset(img, 0, sizeof(img));
		if (want)
			fz_fill_space(s, img, want);
		if (!memcmp(buf, img, FZ_PAGE)) {
			if (e)
				snprintf(e->what, sizeof(e->what),
					 "read by %s: exact", paths[how]);
			return;
		}
		/*
		 * The round trip, or after k write faults without a store
		 * (MADV_POPULATE_WRITE) up to k + 1 of them: such a fault
		 * makes the page dirty with its decoded values, which its
		 * next demotion encodes again (uapi.rst).
		 */
		for (int k = 0; k <= (in ? s->requant[pg - s->wbase] : 0); k++) {
			fz_roundtrip(s, pg, k ? ref : img, k ? img : ref);
			if (k)
				memcpy(ref, img, FZ_PAGE);
			if (memcmp(buf, ref, FZ_PAGE))
				continue;
			if (e)
				snprintf(e->what, sizeof(e->what),
					 "read by %s: decoded (%d round trips)",
					 paths[how], k + 1);
			atomic_fetch_add(&f->sh->pages_decoded, 1);
			if (k)
				atomic_fetch_add(&f->sh->pages_requantized, 1);
			return;
		}
		/* the report compares with the version and its round trip */
		memset(img, 0, sizeof(img));
		if (want)
			fz_fill_space(s, img, want);
		fz_roundtrip(s, pg, img, ref);
		if (e)
			snprintf(e->what, sizeof(e->what), "read by %s: MISMATCH",
				 paths[how]);
		for (bad = 0; bad < FZ_WORDS && buf[bad] == ref[bad]; bad++)
			;
		fz_fail(f, "data mismatch: lossy space tag %#x (format %#llx, %ux%ux%u, %llu tokens, fd %d) page %llu read by %s: neither the version %#llx%s written nor its round trip through the codec: word %llu is %#llx, exact %#llx, decoded %#llx",
			s->tag, (unsigned long long)s->fmt, s->geo.layers,
			s->geo.kv_heads, s->geo.head_dim,
			(unsigned long long)s->geo.max_tokens, s->fd,
			(unsigned long long)pg, paths[how],
			(unsigned long long)want, want ? "" : " (zeros)",
			(unsigned long long)bad, (unsigned long long)buf[bad],
			(unsigned long long)img[bad], (unsigned long long)ref[bad]);
		fz_holds(f, s, pg, buf);
		fz_ev_dump(f, s, pg);
		return;
	}
	bad = fz_bad_word(buf, want);
	if (e)
		snprintf(e->what, sizeof(e->what), "read by %s: %s", paths[how],
			 bad ? "MISMATCH" : "exact");
	if (bad) {
		fz_fail(f, "data mismatch: space tag %#x (%ux%ux%ux%u, %llu tokens, fd %d) page %llu read by %s: word %llu is %#llx, want %#llx (version %#llx%s)",
			s->tag, s->geo.layers, s->geo.kv_heads, s->geo.head_dim,
			s->geo.dtype_bytes, (unsigned long long)s->geo.max_tokens,
			s->fd, (unsigned long long)pg, paths[how],
			(unsigned long long)(bad - 1),
			(unsigned long long)buf[bad - 1],
			(unsigned long long)(want && bad > 1 ? fz_word(want, bad - 1) : want),
			(unsigned long long)want, want ? "" : ", never written: zeros");
		fz_holds(f, s, pg, buf);
		fz_ev_dump(f, s, pg);
	}
}

void fz_check_page(struct fz *f, struct fz_space *s, uint64_t pg)
{
	int how = fz_below(f, 2) ? 0 : 1 + (int)fz_below(f, 4);

	/* a space with a cold format: often through the codec and back */
	fz_check_page_how(f, s, pg, how, s->fmt && fz_below(f, 2));
}

static uint64_t fz_pick(struct fz *f, struct fz_space *s)
{
	if (fz_one_in(f, 8))	/* outside the window: zeros */
		return fz_one_in(f, 3) ? s->npages - 1 : fz_below(f, s->npages);
	return s->wbase + fz_below(f, s->wlen);
}

/* ---- mapping games ----------------------------------------------------- */

static void fz_remap(struct fz *f, struct fz_space *s)
{
	size_t len = s->npages * FZ_PAGE;
	void *m;

	if (s->fd < 0)
		return;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	atomic_fetch_add(&f->sh->calls, 1);
	s->map = m == MAP_FAILED ? NULL : m;
}

/* madvise(@adv) of pages [@pg, @pg + @n) of @s's mapping. */
static int fz_madvise(struct fz *f, struct fz_space *s, uint64_t pg,
		      uint64_t n, int adv)
{
	int ret;

	/*
	 * MADV_POPULATE_WRITE write-faults the pages without storing: the
	 * module takes it for a write (it cannot tell), so a decoded page of
	 * a lossy space is encoded again at its next demotion.  The parent
	 * counts that per page; a child, whose oracle is a copy, populates
	 * for reading instead.
	 */
	if (adv == 23 && fz_lossy(s)) {
		if (f->child)
			adv = 22;	/* MADV_POPULATE_READ */
		for (uint64_t i = pg; !f->child && i < pg + n; i++) {
			if (i < s->wbase || i >= s->wbase + s->wlen)
				continue;
			atomic_fetch_add(&f->sh->populated, 1);
			if (s->requant[i - s->wbase] < FZ_REQUANT_MAX)
				s->requant[i - s->wbase]++;
			else
				s->wild[i - s->wbase] = 1;
		}
	}
	ret = madvise(s->map + pg * FZ_PAGE, n * FZ_PAGE, adv);

	fz_ev_cover(s, fz_ev(f, s, "madvise %d of %llu pages -> %d", adv,
			     (unsigned long long)n, ret ? -errno : 0),
		    pg, pg + n - 1);
	return ret;
}

static void fz_map_op(struct fz *f, struct fz_space *s)
{
	static const int advice[] = { MADV_DONTNEED, MADV_WILLNEED, MADV_COLD,
		MADV_PAGEOUT, MADV_RANDOM, MADV_SEQUENTIAL, MADV_NORMAL,
		MADV_DONTFORK, MADV_DOFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
		MADV_REMOVE, MADV_FREE, MADV_DONTDUMP, MADV_MERGEABLE,
		22 /* POPULATE_READ */, 23 /* POPULATE_WRITE */, 25 /* COLLAPSE */ };
	size_t len = s->npages * FZ_PAGE;
	uint64_t pg = fz_pick(f, s), n = 1 + fz_below(f, 64);
	char *p;

	if (!s->map) {
		fz_remap(f, s);
		return;
	}
	if (pg + n > s->npages)
		n = s->npages - pg;
	p = s->map + pg * FZ_PAGE;
	atomic_fetch_add(&f->sh->calls, 1);
	switch (fz_below(f, 10)) {
	case 0:
		munmap(s->map, len);
		s->map = NULL;
		if (fz_below(f, 2))
			fz_remap(f, s);
		fz_ev(f, s, "munmap%s", s->map ? ", mmap again" : "");
		break;
	case 1: {	/* move it (growing fails: VM_DONTEXPAND) */
		void *m = mremap(s->map, len, len + FZ_PAGE, MREMAP_MAYMOVE);

		if (m != MAP_FAILED) {
			fz_fail(f, "mremap grew a space mapping");
			munmap(m, len + FZ_PAGE);
			s->map = NULL;
			break;
		}
		m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			break;
		m = mremap(s->map, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, m);
		if (m != MAP_FAILED)
			s->map = m;
		fz_ev(f, s, "mremap (moved)");
		break;
	}
	case 2: case 3:
		fz_madvise(f, s, pg, n,
			   advice[fz_below(f, sizeof(advice) / sizeof(advice[0]))]);
		break;
	case 4:	/* split the vma and put the piece back */
		munmap(p, n * FZ_PAGE);
		if (s->fd < 0 || mmap(p, n * FZ_PAGE, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_FIXED, s->fd,
				      (off_t)(pg * FZ_PAGE)) == MAP_FAILED) {
			munmap(s->map, len);	/* drop the rest, hole and all */
			s->map = NULL;
		}
		fz_ev_cover(s, fz_ev(f, s, "split the vma: %llu pages unmapped, mapped %s",
				     (unsigned long long)n, s->map ? "back" : "no more"),
			    pg, pg + n - 1);
		break;
	case 5:	/* read-only for a while: writes fault */
		mprotect(p, n * FZ_PAGE, PROT_READ);
		fz_ev_cover(s, fz_ev(f, s, "mprotect read-only %llu pages, a write, back",
				     (unsigned long long)n), pg, pg + n - 1);
		fz_write_page(f, s, s->wbase + fz_below(f, s->wlen));
		mprotect(p, n * FZ_PAGE, PROT_READ | PROT_WRITE);
		break;
	case 6: {	/* a second mapping of part of the space */
		int flags = fz_one_in(f, 4) ? MAP_PRIVATE : MAP_SHARED;
		uint64_t off = fz_one_in(f, 6) ? fz_edge(f, s->npages) : pg;
		int prot = PROT_READ | (fz_one_in(f, 6) ? PROT_EXEC : 0);
		char *m;
		uint64_t w;

		if (s->fd < 0)
			break;
		m = mmap(NULL, n * FZ_PAGE, prot, flags, s->fd, (off_t)(off * FZ_PAGE));
		if (m == MAP_FAILED)
			break;
		if (flags == MAP_PRIVATE)
			fz_fail(f, "mmap accepted MAP_PRIVATE at offset %llu of %llu pages",
				(unsigned long long)off, (unsigned long long)s->npages);
		if (prot & PROT_EXEC)
			fz_fail(f, "mmap(PROT_EXEC) of a space succeeded");
		/* (a child races the writer: it cannot expect one version) */
		if (!f->child && !fz_lossy(s) && !fz_copy(&w, m, 8) && w &&
		    off >= s->wbase &&
		    off < s->wbase + s->wlen &&
		    !s->wild[off - s->wbase] &&
		    w != fz_ver(s, off, s->seq[off - s->wbase]) &&
		    s->seq[off - s->wbase])
			fz_fail(f, "second mapping: page %llu word 0 %#llx, want %#llx",
				(unsigned long long)off, (unsigned long long)w,
				(unsigned long long)fz_ver(s, off, s->seq[off - s->wbase]));
		munmap(m, n * FZ_PAGE);
		fz_ev_cover(s, fz_ev(f, s, "second mapping of %llu pages at %llu, read",
				     (unsigned long long)n, (unsigned long long)off),
			    off, off + n - 1);
		break;
	}
	case 7:
		if (!mlock(p, n * FZ_PAGE))
			munlock(p, n * FZ_PAGE);
		fz_ev_cover(s, fz_ev(f, s, "mlock, munlock %llu pages", (unsigned long long)n),
			    pg, pg + n - 1);
		break;
	case 8:
		msync(p, n * FZ_PAGE, fz_below(f, 2) ? MS_SYNC : MS_ASYNC | MS_INVALIDATE);
		fz_ev_cover(s, fz_ev(f, s, "msync %llu pages", (unsigned long long)n),
			    pg, pg + n - 1);
		break;
	default: {	/* a GUP with a fault in the middle: half of it past the end */
		struct iovec l = { f->dio_buf, 2 * FZ_PAGE };
		struct iovec r = { s->map + len - FZ_PAGE, 2 * FZ_PAGE };

		process_vm_readv(getpid(), &l, 1, &r, 1, 0);
		break;
	}
	}
}

void fz_mem_op(struct fz *f, struct fz_space *s)
{
	uint64_t n = 1 + fz_below(f, fz_one_in(f, 4) ? 64 : 4);
	uint64_t pg = s->wbase + fz_below(f, s->wlen);

	switch (fz_below(f, 5)) {
	case 0: case 1:
		for (uint64_t i = 0; i < n; i++)
			fz_write_page(f, s, fz_below(f, 2) && pg + i < s->wbase + s->wlen ?
					 pg + i : s->wbase + fz_below(f, s->wlen));
		break;
	case 2: case 3:
		for (uint64_t i = 0; i < n; i++)
			fz_check_page(f, s, fz_pick(f, s));
		break;
	default:
		fz_map_op(f, s);
		break;
	}
}

/* ---- children ---------------------------------------------------------- */

/*
 * Racing the writer, which may be in the middle of a page: every word must
 * come from a version of this tag and page at least as new as the one seen
 * at fork (meanwhile the parent writes at most 8 operations x 64 pages, so
 * fewer than FZ_RACE_SEQS versions of a page), or be zero while the page
 * was never written.
 *
 * The child loads whole aligned words, but the writer's copy need not store
 * them whole: glibc's memcpy and the kernel's copy_to_user use "rep movsb",
 * which TCG carries out a byte at a time, so the word the writer is in the
 * middle of holds its low bytes from one version and its high bytes from
 * the one before (seen: seed 2026, word 434 = 0xe825c40000000000, the top
 * three bytes of version 1's 0xe825c4146b503766 over zeros).  Such a word
 * is accepted only as that: two acceptable values split at a byte boundary.
 */
#define FZ_RACE_SEQS	1024

static uint64_t fz_race_want(struct fz_space *s, uint64_t pg, uint32_t seq0,
			     uint32_t k, uint64_t w)
{
	uint64_t v;

	if (!seq0 && !k)
		return 0;		/* never written at fork: zeros */
	v = fz_ver(s, pg, (seq0 ? seq0 : 1) + k - !seq0);
	return w ? fz_word(v, w) : v;
}

/* Is @x one acceptable value of word @w, or two of them torn at a byte? */
static int fz_race_ok(struct fz_space *s, uint64_t pg, uint32_t seq0,
		      uint64_t w, uint64_t x)
{
	uint32_t n = FZ_RACE_SEQS + !seq0, lo = 0, hi = 0;

	for (uint32_t k = 0; k < n; k++)
		if (fz_race_want(s, pg, seq0, k, w) == x)
			return 1;
	/* torn: bytes below the split from one value, above from another */
	for (int b = 1; b < 8; b++) {
		uint64_t mask = (1ULL << (8 * b)) - 1;

		lo = hi = 0;
		for (uint32_t k = 0; k < n && !(lo && hi); k++) {
			uint64_t v = fz_race_want(s, pg, seq0, k, w);

			lo |= (v & mask) == (x & mask);
			hi |= (v & ~mask) == (x & ~mask);
		}
		if (lo && hi)
			return 1;
	}
	return 0;
}

/* Load a page a whole aligned word at a time; 0, or the signal it took. */
static int fz_load_words(uint64_t *dst, const volatile uint64_t *src)
{
	fz_guard_install();
	fz_sig = 0;
	fz_guard_on = 1;
	if (!sigsetjmp(fz_jmp, 1))
		for (uint64_t w = 0; w < FZ_WORDS; w++)
			dst[w] = src[w];
	fz_guard_on = 0;
	return fz_sig;
}

static void fz_child_check(struct fz *f, struct fz_space *s, uint64_t pg)
{
	uint64_t buf[FZ_WORDS], i = pg - s->wbase;
	uint32_t seq0 = s->seq[i];

	/* (a lossy page holds no version word by word: the parent checks it) */
	if (!s->map || s->wild[i] || fz_lossy(s) ||
	    fz_load_words(buf, (const volatile uint64_t *)(s->map + pg * FZ_PAGE)))
		return;
	atomic_fetch_add(&f->sh->pages_checked, 1);
	for (uint64_t w = 0; w < FZ_WORDS; w++) {
		if (fz_race_ok(s, pg, seq0, w, buf[w]))
			continue;
		fz_fail(f, "child read space tag %#x page %llu: word %llu is %#llx, from no version since seq %u (word 0 %#llx)",
			s->tag, (unsigned long long)pg, (unsigned long long)w,
			(unsigned long long)buf[w], seq0, (unsigned long long)buf[0]);
		return;
	}
}

static void fz_child(struct fz *f, struct fz_space *s, int what)
{
	/* the parent's rings are not ours to use */
	for (int i = 0; i < FZ_RINGS; i++)
		f->rings[i].up = 0;
	f->rng ^= (uint64_t)getpid() << 32;
	f->child = 1;
	for (int k = (int)fz_below(f, 24); k >= 0 && !atomic_load(&f->sh->stop); k--) {
		switch (what) {
		case 0:
			fz_child_check(f, s, s->wbase + fz_below(f, s->wlen));
			break;
		case 1:
			if (s->fd >= 0)
				fz_cmd_space(f, s);
			break;
		case 2:
			if (s->fd >= 0)
				fz_uring_op(f, s);
			break;
		default:	/* the child's own mm: unmap, advise, then exit */
			fz_map_op(f, s);
			if (s->fd >= 0 && fz_one_in(f, 4)) {
				close(s->fd);
				s->fd = -1;
			}
			break;
		}
	}
	_exit(0);
}

void fz_child_op(struct fz *f, struct fz_space *s)
{
	int what = (int)fz_below(f, 4), st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	atomic_fetch_add(&f->sh->calls, 1);
	if (pid < 0)
		return;
	if (!pid)
		fz_child(f, s, what);
	fz_ev(f, s, "fork: child %d (%s) runs", pid,
	      (const char *[]){ "reads", "ioctls", "uring", "mapping games" }[what]);
	/* the parent races it: writes, checks, demotes (but puts no command
	 * argument in the KV, which the child could not tell from data) */
	f->racing = 1;
	for (int i = (int)fz_below(f, 8); i > 0; i--) {
		if (fz_below(f, 2))
			fz_mem_op(f, s);
		else if (s->fd >= 0)
			fz_cmd_space(f, s);
	}
	if (fz_below(f, 3)) {
		struct timespec ts = { 0, (long)fz_below(f, 20000000) };

		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		atomic_fetch_add(&f->sh->kills, 1);
	}
	waitpid(pid, &st, 0);
	f->racing = 0;
	fz_ev(f, s, "child %d %s", pid, WIFSIGNALED(st) ? "killed" : "exited");
	atomic_fetch_add(&f->sh->calls, 2);
	if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) {
		atomic_fetch_add(&f->sh->child_fails, 1);
		fz_fail(f, "child (op kind %d) died of signal %d", what, WTERMSIG(st));
	}
}

/* ---- the oracle's own check --------------------------------------------- */

/*
 * Before the run (ktap case fuzz_oracle_populate_write): page 0 of an int8
 * space written, demoted, read back decoded, then MADV_POPULATE_WRITE (a
 * write fault without a store: the module cannot tell it from a write, so
 * the page is dirty and its cold copy gone) and demoted again: it reads the
 * codec's round trip of its decoded values (uapi.rst: what kvc_encode()
 * then kvc_decode() give for the page's contents at its demotion), and the
 * oracle must take that for what it is (before it did not: a mismatch,
 * "quantized twice").  The version written is one the codec does not map
 * to itself in two round trips, so the case sees the difference.  Returns
 * 0, or -1 with @why set.
 */
int fz_oracle_selftest(struct fz *f, char *why, size_t len)
{
	struct fz_space sp = { .fd = -1 }, *s = &sp;
	struct cxl_kv_space_create *c = &s->geo;
	uint64_t img[FZ_WORDS], once[FZ_WORDS], twice[FZ_WORDS], buf[FZ_WORDS];
	unsigned long long m0 = atomic_load(&f->sh->mismatches), m1;
	int ret = -1, adv;
	long r;

	memset(c, 0, sizeof(*c));
	c->layers = 1;
	c->kv_heads = 1;
	c->head_dim = 128;
	c->dtype_bytes = 2;
	c->max_tokens = 64;
	CXL_KV_SPACE_COLD_FORMAT(c) = CXL_KV_FMT_INT8;
	r = fz_sys_ioctl(f, f->ctl, CXL_KV_SPACE_CREATE, c);
	if (r) {
		snprintf(why, len, "SPACE_CREATE int8: %ld", r);
		return -1;
	}
	s->fd = (int)c->fd;
	s->fmt = CXL_KV_FMT_INT8;
	s->npages = c->mmap_bytes / FZ_PAGE;
	s->map = mmap(NULL, c->mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		      s->fd, 0);
	s->tag = 0x5e1f;
	s->wbase = 0;
	s->wlen = (uint32_t)s->npages;
	s->seq = calloc(FZ_WINDOW, sizeof(*s->seq));
	s->wild = calloc(FZ_WINDOW, 1);
	s->requant = calloc(FZ_WINDOW, 1);
	s->hist = calloc(FZ_HIST, sizeof(*s->hist));
	if (s->map == MAP_FAILED || !s->seq || !s->wild || !s->requant ||
	    !s->hist) {
		s->map = s->map == MAP_FAILED ? NULL : s->map;
		snprintf(why, len, "mmap or memory");
		goto out;
	}
	/* a version the codec does not map to itself in two round trips */
	for (int k = 0; k < 64; k++, s->seq[0]++) {
		fz_fill_space(s, img, fz_ver(s, 0, s->seq[0] + 1));
		fz_roundtrip(s, 0, img, once);
		fz_roundtrip(s, 0, once, twice);
		if (memcmp(once, twice, FZ_PAGE))
			break;
	}
	fz_write_page_how(f, s, 0, 0);
	fz_check_page_how(f, s, 0, 0, 1);	/* demoted: decoded */
	adv = fz_madvise(f, s, 0, 1, 23 /* MADV_POPULATE_WRITE */);
	fz_check_page_how(f, s, 0, 0, 1);	/* demoted again */
	m1 = atomic_load(&f->sh->mismatches);
	/* what the module did: the round trip of the round trip */
	fz_fill_space(s, img, fz_ver(s, 0, s->seq[0]));
	fz_roundtrip(s, 0, img, once);
	fz_roundtrip(s, 0, once, twice);
	if (fz_copy(buf, s->map, FZ_PAGE)) {
		snprintf(why, len, "page 0 cannot be read");
		goto out;
	}
	if (adv || memcmp(buf, twice, FZ_PAGE) || !memcmp(once, twice, FZ_PAGE)) {
		snprintf(why, len, "MADV_POPULATE_WRITE %d; page 0 holds %s, not the codec's output of its decoded values",
			 adv, !memcmp(buf, once, FZ_PAGE) ? "the round trip" :
			 !memcmp(buf, img, FZ_PAGE) ? "the version written" : "something else");
		fz_ev_dump(f, s, 0);
		goto out;
	}
	if (m1 != m0) {
		snprintf(why, len, "the oracle took the page re-encoded after MADV_POPULATE_WRITE for a mismatch");
		goto out;
	}
	ret = 0;
out:
	if (s->map)
		munmap(s->map, s->npages * FZ_PAGE);
	close(s->fd);
	free(s->seq);
	free(s->wild);
	free(s->requant);
	free(s->hist);
	/* the selftest's own mismatches are not the run's */
	atomic_store(&f->sh->mismatches, m0);
	atomic_store(&f->sh->fail_taken, 0);
	return ret;
}
