/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kv_fuzz.h - shared state of the cxl_kv fuzzer (kv_fuzz.c: processes and
 * report; kv_fuzz_cmd.c: commands through ioctl and uring_cmd;
 * kv_fuzz_mem.c: spaces, mappings, GUP and the data oracle).
 *
 * Every process draws its operations from its own generator, seeded from
 * the run's seed and its worker number: the operation stream of a worker is
 * a function of the seed; the interleaving of workers is not.
 */
#ifndef CXL_KV_KV_FUZZ_H
#define CXL_KV_KV_FUZZ_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <liburing.h>
#include <linux/cxl_kv.h>

#define FZ_PAGE		4096UL
#define FZ_SPACES	3	/* spaces a worker holds at most */
#define FZ_WINDOW	1024	/* pages of a space the oracle writes into */
#define FZ_RINGS	5	/* plain, SQE128, SQPOLL, IOPOLL, fixed files */
#define FZ_SLOTS	32	/* uring argument buffers per ring */
#define FZ_SLOT_BYTES	512
#define FZ_MAX_RANGES	4096
#define FZ_REQUANT_MAX	4	/* more: the page goes wild */

/* --avoid: the known crashers of issue 10 left out (default: none) */
#define FZ_AVOID_RANGES	(1 << 0)	/* range commands of > 2^18 blocks (1, 3) */
#define FZ_AVOID_DETACH	(1 << 1)	/* DETACH racing the last close (2) */
#define FZ_AVOID_PINS	(1 << 2)	/* pins kept (8) */
#define FZ_AVOID_KNOWN	(FZ_AVOID_RANGES | FZ_AVOID_DETACH | FZ_AVOID_PINS)

/* Counters shared by every process of a run (MAP_SHARED). */
struct fz_shared {
	atomic_int stop;
	atomic_int attached;		/* the admin's view: 1 while attached */
	atomic_int quiet;		/* the admin asks the workers to drop every space */
	atomic_int quiet_ack;		/* workers that did */
	int workers;
	atomic_ullong calls;		/* every syscall the fuzzer made */
	atomic_ullong cmds;		/* cxl_kv commands (ioctl + uring) */
	atomic_ullong cmds_ok;
	atomic_ullong uring_cmds;
	atomic_ullong pages_checked;
	atomic_ullong pages_decoded;	/* checked against the codec's round trip */
	atomic_ullong pages_requantized; /* of them: round trips of round trips */
	atomic_ullong populated;	/* lossy window pages MADV_POPULATE_WRITE hit */
	atomic_ullong writes_raced;	/* lossy writes a demotion may have cut */
	atomic_ullong writes_mixed;	/* of them: neither version nor round trip */
	atomic_ullong pages_written;
	atomic_ullong sigbus;
	atomic_ullong kills;		/* children killed mid-operation */
	atomic_ullong detach_ok;
	atomic_ullong mismatches;
	atomic_ullong child_fails;
	char fail[1024];		/* the first mismatch, for the report */
	atomic_int fail_taken;
};

/*
 * One event of a space's history (kept by its owner, for the report of a
 * mismatch): what was done and which pages of the oracle window it may
 * have touched, as up to FZ_EV_IV page intervals (niv 0: the whole space;
 * more than FZ_EV_IV: the last one bounds the rest).
 */
#define FZ_HIST		1024
#define FZ_EV_IV	8
struct fz_ev {
	uint64_t op;
	uint64_t lo[FZ_EV_IV], hi[FZ_EV_IV];
	uint8_t niv;
	char what[71];
};

/* One space a worker owns, with its oracle. */
struct fz_space {
	int fd;				/* -1: closed (the mapping may live on) */
	struct cxl_kv_space_create geo;
	uint64_t fmt;			/* its cold format (CXL_KV_FMT_*, flags) */
	uint64_t npages;		/* mmap_bytes / page */
	char *map;			/* whole-space mapping or NULL */
	uint16_t tag;			/* in every version written here */
	uint64_t wbase;			/* first page of the oracle window */
	uint32_t wlen;			/* pages in the window */
	uint32_t *seq;			/* per window page: 0 never written */
	uint8_t *wild;			/* per window page: contents unknown */
	uint8_t *requant;		/* per window page: round trips through
					 * the codec a write fault without a
					 * store may have added (lossy) */
	int huge;			/* > 2^20 pages */
	struct fz_ev *hist;		/* FZ_HIST events, a ring */
	uint64_t nhist;			/* events recorded */
};

struct fz_ring {
	int up;
	struct io_uring ring;
	unsigned int flags;
	int fixed;			/* registered files in use */
	int nfixed;
	unsigned int inflight;
	uint64_t busy;			/* slot bitmap */
	struct fz_space *slot_sp[FZ_SLOTS];	/* whose command a slot holds */
	unsigned long slot_cmd[FZ_SLOTS];
	char slot[FZ_SLOTS][FZ_SLOT_BYTES];
};

struct fz {
	uint64_t rng;
	uint64_t seed;
	int id;				/* worker number, 0 = admin */
	int avoid;			/* FZ_AVOID_* */
	int verbose;
	int ctl;
	int dio_fd;			/* O_DIRECT scratch block device or -1 */
	uint64_t dio_base;		/* this worker's byte offset on it */
	struct fz_shared *sh;
	struct fz_space sp[FZ_SPACES];
	struct fz_ring rings[FZ_RINGS];
	char *guard;			/* two pages: rw, then PROT_NONE */
	char *ropage;			/* a read-only page */
	char *hole;			/* an unmapped page */
	void *buf;			/* FZ_MAX_RANGES ranges / hints */
	void *dio_buf;			/* page-aligned bounce buffer */
	uint64_t op;			/* operations done by this worker */
	int child;			/* a forked child: never writes the KV */
	int racing;			/* a child is reading: no arguments in the KV */
	double t_kind[8];		/* seconds per kind of operation */
	unsigned long n_kind[8];
};

static inline uint64_t fz_rand(struct fz *f)
{
	uint64_t z = (f->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n = 0 gives 0. */
static inline uint64_t fz_below(struct fz *f, uint64_t n)
{
	return n ? fz_rand(f) % n : 0;
}

/* True with probability 1/n. */
static inline int fz_one_in(struct fz *f, uint64_t n)
{
	return fz_below(f, n) == 0;
}

/* A "interesting" 64-bit value: boundaries around @hint and powers of two. */
uint64_t fz_edge(struct fz *f, uint64_t hint);

#define fz_log(f, ...)							\
	do {								\
		if ((f)->verbose)					\
			fprintf(stderr, "[w%d op%llu] ", (f)->id,	\
				(unsigned long long)(f)->op),		\
			fprintf(stderr, __VA_ARGS__);			\
	} while (0)

/* A failure (data mismatch, unexpected result): kept and counted. */
void fz_fail(struct fz *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* kv_fuzz_cmd.c */
long fz_sys_ioctl(struct fz *f, int fd, unsigned long cmd, void *arg);
void fz_cmd_space(struct fz *f, struct fz_space *s);
void fz_cmd_ctl(struct fz *f);
void fz_cmd_random_ioctl(struct fz *f);
void fz_uring_op(struct fz *f, struct fz_space *s);
void fz_rings_down(struct fz *f);
void fz_geometry(struct fz *f, struct cxl_kv_space_create *c, int valid);
void *fz_ptr(struct fz *f, void *good, size_t len, struct fz_space *s);

/* kv_fuzz_mem.c */
struct fz_ev *fz_ev(struct fz *f, struct fz_space *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fz_ev_cover(struct fz_space *s, struct fz_ev *e, uint64_t lo, uint64_t hi);
void fz_ev_cmd(struct fz *f, struct fz_space *s, const char *via,
	       unsigned long cmd, const void *arg, long ret);
int fz_space_open(struct fz *f, struct fz_space *s);
void fz_space_close(struct fz *f, struct fz_space *s, int unmap);
void fz_mem_op(struct fz *f, struct fz_space *s);
void fz_write_page(struct fz *f, struct fz_space *s, uint64_t pg);
void fz_check_page(struct fz *f, struct fz_space *s, uint64_t pg);
void fz_wild(struct fz_space *s, uint64_t pg);
void fz_child_op(struct fz *f, struct fz_space *s);
int fz_oracle_selftest(struct fz *f, char *why, size_t len);
/* memcpy that survives SIGBUS/SIGSEGV: 0, or the signal taken */
int fz_copy(void *dst, const void *src, size_t n);

#endif /* CXL_KV_KV_FUZZ_H */
