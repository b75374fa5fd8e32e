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

	if (s->fd >= 0)
		fz_sys_ioctl(f, s->fd, CXL_KV_DEMOTE, &q);
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

void fz_write_page(struct fz *f, struct fz_space *s, uint64_t pg)
{
	uint64_t buf[FZ_WORDS], i = pg - s->wbase;
	uint32_t seq = (s->seq[i] + 1) & 0xfffff;
	int how = fz_below(f, 3) ? 0 : 1 + (int)fz_below(f, 3);
	long n;

	if (!s->map || f->child)	/* the oracle is the parent's */
		return;
	seq = seq ? seq : 1;
	fz_fill_space(s, buf, fz_ver(s, pg, seq));
	n = fz_put(f, s, pg, buf, how);
	if (n == FZ_PAGE) {
		s->seq[i] = seq;
		s->wild[i] = 0;
		atomic_fetch_add(&f->sh->pages_written, 1);
	} else {
		/* cut short (SIGBUS: no warm page; EFAULT): contents unknown */
		s->wild[i] = 1;
		if (how == 0)
			atomic_fetch_add(&f->sh->sigbus, 1);
	}
}

void fz_check_page(struct fz *f, struct fz_space *s, uint64_t pg)
{
	static const char *const paths[] = { "load", "process_vm_readv",
		"/proc/self/mem", "O_DIRECT write", "vmsplice" };
	uint64_t buf[FZ_WORDS], img[FZ_WORDS], ref[FZ_WORDS], want = 0, bad;
	int how = fz_below(f, 2) ? 0 : 1 + (int)fz_below(f, 4);
	int in = pg >= s->wbase && pg < s->wbase + s->wlen;
	long n;

	if (!s->map)
		return;
	if (in) {
		if (s->wild[pg - s->wbase])
			return;
		if (s->seq[pg - s->wbase])
			want = fz_ver(s, pg, s->seq[pg - s->wbase]);
	}
	/* a space with a cold format: often through the codec and back */
	if (s->fmt && fz_below(f, 2))
		fz_demote_block(f, s, pg);
	n = fz_get(f, s, pg, buf, how);
	if (n != FZ_PAGE) {
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
		if (!memcmp(buf, img, FZ_PAGE))
			return;
		fz_roundtrip(s, pg, img, ref);
		if (!memcmp(buf, ref, FZ_PAGE)) {
			atomic_fetch_add(&f->sh->pages_decoded, 1);
			return;
		}
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
		return;
	}
	bad = fz_bad_word(buf, want);
	if (bad)
		fz_fail(f, "data mismatch: space tag %#x (%ux%ux%ux%u, %llu tokens, fd %d) page %llu read by %s: word %llu is %#llx, want %#llx (version %#llx%s)",
			s->tag, s->geo.layers, s->geo.kv_heads, s->geo.head_dim,
			s->geo.dtype_bytes, (unsigned long long)s->geo.max_tokens,
			s->fd, (unsigned long long)pg, paths[how],
			(unsigned long long)(bad - 1),
			(unsigned long long)buf[bad - 1],
			(unsigned long long)(want && bad > 1 ? fz_word(want, bad - 1) : want),
			(unsigned long long)want, want ? "" : ", never written: zeros");
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
		break;
	}
	case 2: case 3:
		madvise(p, n * FZ_PAGE, advice[fz_below(f, sizeof(advice) / sizeof(advice[0]))]);
		break;
	case 4:	/* split the vma and put the piece back */
		munmap(p, n * FZ_PAGE);
		if (s->fd < 0 || mmap(p, n * FZ_PAGE, PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_FIXED, s->fd,
				      (off_t)(pg * FZ_PAGE)) == MAP_FAILED) {
			munmap(s->map, len);	/* drop the rest, hole and all */
			s->map = NULL;
		}
		break;
	case 5:	/* read-only for a while: writes fault */
		mprotect(p, n * FZ_PAGE, PROT_READ);
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
		break;
	}
	case 7:
		if (!mlock(p, n * FZ_PAGE))
			munlock(p, n * FZ_PAGE);
		break;
	case 8:
		msync(p, n * FZ_PAGE, fz_below(f, 2) ? MS_SYNC : MS_ASYNC | MS_INVALIDATE);
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
	atomic_fetch_add(&f->sh->calls, 2);
	if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) {
		atomic_fetch_add(&f->sh->child_fails, 1);
		fz_fail(f, "child (op kind %d) died of signal %d", what, WTERMSIG(st));
	}
}
