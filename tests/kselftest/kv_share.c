// SPDX-License-Identifier: GPL-2.0
/*
 * kv_share - shared prefix spaces (CXL_KV_SPACE_F_SHARE, issue 15 item 1):
 * a parent written with a pattern, children sharing its first PREFIX
 * tokens.  Bytes are checked in every child, with the parent closed early,
 * in other processes (child fds and the parent fd passed with SCM_RIGHTS),
 * while the parent demotes and promotes the prefix under readers, through
 * uring_cmd; writes to shared pages raise SIGSEGV; a cold read error on a
 * shared page is seen by every reader (dm "error" over the second NVMe);
 * nothing is left behind.
 */
#include <pthread.h>
#include <sys/socket.h>

#include "kv_test.h"
#include "kv_dm.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define LAYERS	2
#define HEADS	2
#define HDIM	128			/* fp16: 16 tokens per 4 KiB block */
#define TOKENS	256			/* 16 blocks per stream */
#define PREFIX	168			/* 10 whole blocks (+8 tokens) shared */
#define SBLK	10
#define NCHILD	4
#define STREAMS	(2 * LAYERS * HEADS)
#define PSEED	7			/* the parent's pattern */
#define CSEED	100			/* child i writes CSEED + i */

#define DM_NAME	"cxlkv_share"
#define DM_SECTORS (16ULL << 11)	/* 16 MiB */

static uint64_t bph, npages;

static int shared_pg(uint64_t pg)
{
	return pg % bph < SBLK;
}

static int mk_parent(int ctl, struct cxl_kv_space_create *c)
{
	kv_geom(c, LAYERS, HEADS, HDIM, TOKENS);
	return kv_space(ctl, c);
}

static int mk_child(int ctl, int parent, uint64_t prefix)
{
	struct cxl_kv_space_create c;

	kv_geom(&c, LAYERS, HEADS, HDIM, TOKENS);
	c.flags |= CXL_KV_SPACE_F_SHARE;
	c.reserved[CXL_KV_SPACE_SHARE_PARENT] = (uint64_t)parent;
	c.reserved[CXL_KV_SPACE_SHARE_TOKENS] = prefix;
	return kv_space(ctl, &c);
}

static char *map(int fd)
{
	char *m = mmap(NULL, npages * KV_PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	return m == MAP_FAILED ? NULL : m;
}

/* Pages of @m that do not hold what they should: the parent's pattern on
 * shared pages, @seed on the others (@seed 0: shared pages only). */
static uint64_t bad_pages(const char *m, uint64_t seed, uint64_t *first)
{
	uint64_t bad = 0;

	for (uint64_t pg = 0; pg < npages; pg++) {
		const volatile uint64_t *p = (const volatile uint64_t *)(m + pg * KV_PAGE);

		if (!shared_pg(pg) && !seed)
			continue;
		if (kv_check(p, shared_pg(pg) ? PSEED : seed, pg)) {
			if (!bad++ && first)
				*first = pg;
		}
	}
	return bad;
}

static void fill_private(char *m, uint64_t seed)
{
	for (uint64_t pg = 0; pg < npages; pg++)
		if (!shared_pg(pg))
			kv_fill((volatile uint64_t *)(m + pg * KV_PAGE), seed, pg);
}

/* DEMOTE or PROMOTE blocks [0, n) of every (layer, head) of @fd. */
static int move_prefix(int fd, unsigned long cmd, uint32_t n, uint64_t *done)
{
	struct cxl_kv_range r[LAYERS * HEADS];
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)r,
				   .count = LAYERS * HEADS };
	int ret;

	memset(r, 0, sizeof(r));
	for (int i = 0; i < LAYERS * HEADS; i++) {
		r[i].layer = i / HEADS;
		r[i].head = i % HEADS;
		r[i].nr_blocks = n;
	}
	ret = kv_ioctl(fd, cmd, &q);
	if (done)
		*done = q.done;
	return ret;
}

/* Shared blocks of (0, 0) that RESIDENCY through @fd calls cold. */
static long cold_prefix(int fd)
{
	uint64_t bm[1];
	struct cxl_kv_residency q;
	int ret = kv_resident(fd, 0, 0, 0, SBLK, &q, bm);

	return ret < 0 ? ret : (long)q.nr_cold;
}

/* ---- SCM_RIGHTS ------------------------------------------------------ */

static int send_fd(int sock, int fd)
{
	char byte = 0, buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = buf,
			      .msg_controllen = sizeof(buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(buf, 0, sizeof(buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char byte, buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = buf,
			      .msg_controllen = sizeof(buf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * Another process: receives a space fd, maps it, checks the shared bytes
 * (and its private ones with @seed), writes its private pages when
 * @write_seed, tries a write to a shared page (must SIGSEGV).  Exit code:
 * 0 ok, 1-5 which check failed.
 */
static int remote_reader(int sock, uint64_t seed, uint64_t write_seed)
{
	int fd = recv_fd(sock);
	char *m;

	if (fd < 0)
		return 1;
	m = map(fd);
	if (!m)
		return 2;
	if (bad_pages(m, seed, NULL))
		return 3;
	if (write_seed) {
		fill_private(m, write_seed);
		if (bad_pages(m, write_seed, NULL))
			return 4;
	}
	if (kv_probe_write((volatile uint64_t *)m) != SIGSEGV)
		return 5;
	return 0;
}

/* ---- readers while the parent moves the prefix ----------------------- */

struct reader {
	pthread_t th;
	char *m;
	volatile int *stop;
	uint64_t rounds, bad, sig;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	while (!*r->stop) {
		for (uint64_t pg = 0; pg < npages; pg++) {
			if (!shared_pg(pg))
				continue;
			if (kv_check((const volatile uint64_t *)(r->m + pg * KV_PAGE),
				     PSEED, pg))
				r->bad++;
		}
		r->rounds++;
	}
	return NULL;
}

/* ---- the cases -------------------------------------------------------- */

static int bad_creates(int ctl, int parent)
{
	struct cxl_kv_space_create c;
	int child, ret, ok = 1;

	/* geometry differs */
	kv_geom(&c, LAYERS, HEADS, HDIM, TOKENS * 2);
	c.flags |= CXL_KV_SPACE_F_SHARE;
	c.reserved[1] = (uint64_t)parent;
	c.reserved[2] = PREFIX;
	ret = kv_space(ctl, &c);
	ok &= KTAP_CHECK(ret == -EINVAL, "other max_tokens: %d", ret);
	/* prefix below one block, above max_tokens */
	ret = mk_child(ctl, parent, 15);
	ok &= KTAP_CHECK(ret == -EINVAL, "15 tokens: %d", ret);
	ret = mk_child(ctl, parent, TOKENS + 1);
	ok &= KTAP_CHECK(ret == -EINVAL, "TOKENS + 1: %d", ret);
	/* not a space, not an fd, not an int */
	ret = mk_child(ctl, ctl, PREFIX);
	ok &= KTAP_CHECK(ret == -EINVAL, "parent = control fd: %d", ret);
	ret = mk_child(ctl, 1000, PREFIX);
	ok &= KTAP_CHECK(ret == -EBADF, "parent = closed fd: %d", ret);
	ret = mk_child(ctl, -1, PREFIX);
	ok &= KTAP_CHECK(ret == -EBADF, "parent = -1: %d", ret);
	/* the share fields without the flag */
	kv_geom(&c, LAYERS, HEADS, HDIM, TOKENS);
	c.reserved[1] = (uint64_t)parent;
	ret = kv_space(ctl, &c);
	ok &= KTAP_CHECK(ret == -EINVAL, "reserved[1] without the flag: %d", ret);
	/* a child cannot be a parent */
	child = mk_child(ctl, parent, PREFIX);
	ok &= KTAP_CHECK(child >= 0, "child: %d", child);
	if (child >= 0) {
		ret = mk_child(ctl, child, PREFIX);
		ok &= KTAP_CHECK(ret == -EINVAL, "grandchild: %d", ret);
		close(child);
	}
	return ok;
}

struct closer {
	int fd;
	unsigned int delay_us;
};

static void *closer_main(void *arg)
{
	struct closer *c = arg;

	usleep(c->delay_us);
	close(c->fd);
	return NULL;
}

/*
 * The parent's fd closed by another thread while SPACE_CREATE of a child
 * from it runs: the create gets -EBADF or a child that reads the prefix;
 * afterwards every space is gone again.
 */
static int close_mid_create(int ctl, int *odd)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_info i0, i1;
	int ok = 1;

	kv_info(ctl, &i0);
	for (int k = 0; k < 100 && ok; k++) {
		struct closer cl = { .delay_us = (unsigned int)(k % 10) * 20 };
		pthread_t th;
		int child;

		cl.fd = mk_parent(ctl, &c);
		if (cl.fd < 0)
			return 0;
		pthread_create(&th, NULL, closer_main, &cl);
		child = mk_child(ctl, cl.fd, PREFIX);
		pthread_join(th, NULL);
		if (child >= 0) {
			char *m = map(child);

			/* the parent read zeros: a child of zeros */
			ok &= m && !kv_probe(m + 3 * KV_PAGE) &&
			      !*(volatile uint64_t *)(m + 3 * KV_PAGE);
			if (m)
				munmap(m, npages * KV_PAGE);
			close(child);
		} else {
			ok &= child == -EBADF || child == -EINVAL;
			*odd += child == -EINVAL;	/* fd reused by another file */
		}
	}
	kv_info(ctl, &i1);
	return ok && i1.nr_spaces == i0.nr_spaces;
}

/* A reader killed while it faults shared pages in: nothing breaks. */
static int killed_reader(int ctl, int parent)
{
	pid_t pid;
	int st, child = mk_child(ctl, parent, PREFIX);

	if (child < 0)
		return 0;
	pid = fork();
	if (!pid) {
		char *m = map(child);

		for (;;)
			if (m)
				bad_pages(m, 0, NULL);
	}
	close(child);
	usleep(50000);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

static int ioerr_case(int ctl)
{
	struct kv_dm dm;
	char params[64];
	struct cxl_kv_space_create c;
	int parent, kids[2] = { -1, -1 }, ret, ok = 0, sig[3] = { 0 };
	char *pm = NULL, *km[2] = { NULL, NULL };
	uint64_t done = 0, good = 0;

	ret = kv_dm_over(&dm, DM_NAME, DM_SECTORS, kv_nvme2(),
			 params, sizeof(params), NULL, 0, 0);
	if (ret == -ENODEV) {
		ktap_diag("no CXLKV_NVME2 or no device-mapper");
		return -1;
	}
	if (ret)
		goto out_close;
	if (kv_attach_path(ctl, 512, dm.path))
		goto out_remove;
	parent = mk_parent(ctl, &c);
	pm = parent >= 0 ? map(parent) : NULL;
	if (!pm)
		goto out_detach;
	for (uint64_t pg = 0; pg < npages; pg++)
		kv_fill((volatile uint64_t *)(pm + pg * KV_PAGE), PSEED, pg);
	for (int i = 0; i < 2; i++) {
		kids[i] = mk_child(ctl, parent, PREFIX);
		km[i] = kids[i] >= 0 ? map(kids[i]) : NULL;
	}
	if (!km[0] || !km[1])
		goto out_spaces;
	bad_pages(km[0], 0, NULL);	/* both map the prefix */
	bad_pages(km[1], 0, NULL);
	ret = move_prefix(parent, CXL_KV_DEMOTE, SBLK, &done);
	if (ret || kv_dm_switch(&dm, "error", ""))
		goto out_spaces;
	/* page 3 of stream 1: every reader, and the parent, get SIGBUS */
	sig[0] = kv_probe(km[0] + (bph + 3) * KV_PAGE);
	sig[1] = kv_probe(km[1] + (bph + 3) * KV_PAGE);
	sig[2] = kv_probe(pm + (bph + 3) * KV_PAGE);
	kv_dm_switch(&dm, "linear", params);
	good = !kv_check((volatile uint64_t *)(km[1] + (bph + 3) * KV_PAGE),
			 PSEED, bph + 3) + !bad_pages(km[0], 0, NULL);
	ok = KTAP_CHECK(done == (uint64_t)STREAMS * SBLK && sig[0] == SIGBUS &&
			sig[1] == SIGBUS && sig[2] == SIGBUS && good == 2,
			"demoted %llu, signals %d %d %d, good after repair %llu",
			(unsigned long long)done, sig[0], sig[1], sig[2],
			(unsigned long long)good);
out_spaces:
	for (int i = 0; i < 2; i++) {
		if (km[i])
			munmap(km[i], npages * KV_PAGE);
		if (kids[i] >= 0)
			close(kids[i]);
	}
	if (pm)
		munmap(pm, npages * KV_PAGE);
	if (parent >= 0)
		close(parent);
out_detach:
	kv_detach_quiet(ctl);
out_remove:
	kv_dm_remove(&dm);
out_close:
	close(dm.ctl);
	return ok;
}

int main(void)
{
	struct cxl_kv_features f = { 0 };
	struct cxl_kv_space_create c;
	struct cxl_kv_stats ps, cs, g;
	struct cxl_kv_info info;
	struct io_uring ring;
	int ctl, parent, kids[NCHILD], ret, sv[2], st;
	char *pm, *km[NCHILD];
	uint64_t bad = 0, first = 0, done = 0;
	volatile int stop = 0;
	struct reader rd[NCHILD];
	pid_t pid;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no warm node");
	ktap_plan(21);
	kv_ioctl(ctl, CXL_KV_GET_FEATURES, &f);
	T("feature_bit", f.features & CXL_KV_F_SHARE, "features %#llx",
	  (unsigned long long)f.features);

	kv_detach_quiet(ctl);
	ret = kv_attach(ctl, 1024, 1, 16 << 20);
	parent = ret ? ret : mk_parent(ctl, &c);
	bph = c.blocks_per_stream;
	npages = c.mmap_bytes / KV_PAGE;
	pm = parent >= 0 ? map(parent) : NULL;
	if (!pm) {
		T("setup", 0, "attach %d, parent %d", ret, parent);
		goto skip_rest;
	}
	for (uint64_t pg = 0; pg < npages; pg++)
		kv_fill((volatile uint64_t *)(pm + pg * KV_PAGE), PSEED, pg);
	T("bad_creates", bad_creates(ctl, parent), "-");

	/* NCHILD children: shared bytes, their own suffixes */
	for (int i = 0; i < NCHILD; i++) {
		kids[i] = mk_child(ctl, parent, PREFIX);
		km[i] = kids[i] >= 0 ? map(kids[i]) : NULL;
		if (km[i]) {
			bad += bad_pages(km[i], 0, &first);
			fill_private(km[i], CSEED + i);
		}
	}
	for (int i = 0; i < NCHILD; i++)
		bad += km[i] ? bad_pages(km[i], CSEED + i, &first) : 1;
	T("bytes_in_every_child", !bad, "%llu bad pages, first %llu",
	  (unsigned long long)bad, (unsigned long long)first);

	/* one copy: the children hold only their private pages */
	kv_stats(kids[0], CXL_KV_SPACE_STATS, &cs);
	kv_stats(parent, CXL_KV_SPACE_STATS, &ps);
	T("one_copy", cs.warm_pages == npages - STREAMS * SBLK &&
	  ps.warm_pages == npages,
	  "child warm %llu (want %llu), parent warm %llu (want %llu)",
	  (unsigned long long)cs.warm_pages,
	  (unsigned long long)(npages - STREAMS * SBLK),
	  (unsigned long long)ps.warm_pages, (unsigned long long)npages);

	/* writes: shared pages refused in child and parent, the rest not */
	{
		int s1 = kv_probe_write((volatile uint64_t *)(km[0] + (bph + 2) * KV_PAGE));
		int s2 = kv_probe_write((volatile uint64_t *)(pm + 2 * KV_PAGE));
		int s3 = kv_probe_write((volatile uint64_t *)(pm + (SBLK + 1) * KV_PAGE));
		int s4 = kv_probe_write((volatile uint64_t *)(km[1] + SBLK * KV_PAGE));

		/* restore what s3/s4 wrote */
		kv_fill((volatile uint64_t *)(pm + (SBLK + 1) * KV_PAGE), PSEED, SBLK + 1);
		kv_fill((volatile uint64_t *)(km[1] + SBLK * KV_PAGE), CSEED + 1, SBLK);
		T("write_shared_sigsegv", s1 == SIGSEGV && s2 == SIGSEGV &&
		  !s3 && !s4 && !bad_pages(km[0], 0, NULL),
		  "child shared %d, parent prefix %d, parent suffix %d, child suffix %d",
		  s1, s2, s3, s4);
	}

	/* parent demotes/promotes the prefix while every child reads */
	for (int i = 0; i < NCHILD; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].m = km[i];
		rd[i].stop = &stop;
		pthread_create(&rd[i].th, NULL, reader_main, &rd[i]);
	}
	{
		uint64_t dem = 0, pro = 0, d;
		int err = 0;

		for (int round = 0; round < 20 && !err; round++) {
			err = move_prefix(parent, CXL_KV_DEMOTE, SBLK, &d);
			dem += d;
			if (!err)
				err = move_prefix(parent, CXL_KV_PROMOTE, SBLK, &d);
			pro += d;
		}
		stop = 1;
		bad = 0;
		for (int i = 0; i < NCHILD; i++) {
			pthread_join(rd[i].th, NULL);
			bad += rd[i].bad;
		}
		ktap_diag("20 rounds: demoted %llu, promoted %llu pages; readers' rounds %llu %llu %llu %llu",
			  (unsigned long long)dem, (unsigned long long)pro,
			  (unsigned long long)rd[0].rounds, (unsigned long long)rd[1].rounds,
			  (unsigned long long)rd[2].rounds, (unsigned long long)rd[3].rounds);
		T("move_under_readers", !err && dem > 0 && !bad,
		  "err %d, demoted %llu, promoted %llu, bad reads %llu, rounds %llu",
		  err, (unsigned long long)dem, (unsigned long long)pro,
		  (unsigned long long)bad, (unsigned long long)rd[0].rounds);
	}

	/* a demotion leaves no sharer's mapping behind: all of it goes cold */
	kv_stats(parent, CXL_KV_SPACE_STATS, &ps);
	bad_pages(km[2], 0, NULL);
	ret = move_prefix(parent, CXL_KV_DEMOTE, SBLK, &done);
	kv_stats(parent, CXL_KV_SPACE_STATS, &cs);
	T("demote_zaps_sharers", !ret && done == (uint64_t)STREAMS * SBLK &&
	  cold_prefix(kids[2]) == SBLK && cs.gup_kept == ps.gup_kept,
	  "DEMOTE %d done %llu, child sees %ld cold, gup_kept %llu -> %llu",
	  ret, (unsigned long long)done, cold_prefix(kids[2]),
	  (unsigned long long)ps.gup_kept, (unsigned long long)cs.gup_kept);

	/* a child's DEMOTE/PIN skip shared blocks; its PROMOTE reads them once */
	{
		uint64_t d1 = 0, d2 = 0, d3 = 0;
		int r1 = move_prefix(kids[1], CXL_KV_PROMOTE, SBLK, &d1);
		long c1 = cold_prefix(kids[3]);
		int r2 = move_prefix(kids[1], CXL_KV_DEMOTE, SBLK, &d2);
		int r3 = move_prefix(kids[1], CXL_KV_PIN, SBLK, &d3);

		T("child_commands", !r1 && d1 == (uint64_t)STREAMS * SBLK &&
		  c1 == 0 && !r2 && !d2 && !r3 && !d3 && cold_prefix(kids[1]) == 0,
		  "PROMOTE %d/%llu, cold seen by another child %ld, DEMOTE %d/%llu, PIN %d/%llu",
		  r1, (unsigned long long)d1, c1, r2, (unsigned long long)d2,
		  r3, (unsigned long long)d3);
	}

	/* hints from a child feed the parent's policy */
	{
		struct cxl_kv_hint h[SBLK + 2];
		struct cxl_kv_hints q = { .hints = (uintptr_t)h, .count = SBLK + 2,
					  .step = 5 };

		memset(h, 0, sizeof(h));
		for (int i = 0; i < SBLK + 2; i++) {
			h[i].layer = 1;
			h[i].head = 1;
			h[i].block = i;
			h[i].score = 0x8000;
		}
		kv_stats(parent, CXL_KV_SPACE_STATS, &ps);
		ret = kv_ioctl(kids[0], CXL_KV_HINTS, &q);
		kv_stats(parent, CXL_KV_SPACE_STATS, &cs);
		T("hints_to_parent", !ret && q.done == SBLK + 2 &&
		  cs.hints - ps.hints == SBLK,
		  "HINTS %d done %u, parent's hints +%llu", ret, q.done,
		  (unsigned long long)(cs.hints - ps.hints));
	}

	/* uring_cmd: PREFETCH of the shared window through a child */
	ret = move_prefix(parent, CXL_KV_DEMOTE, SBLK, NULL);
	if (!ret)
		ret = io_uring_queue_init(8, &ring, 0);
	if (!ret) {
		struct cxl_kv_prefetch p = { .layer = 0, .head_mask = 1,
					     .pos = 0, .window = 8 * 16 };

		ret = kv_uring_one(&ring, kids[3], CXL_KV_PREFETCH, &p, sizeof(p));
		io_uring_queue_exit(&ring);
		T("uring_prefetch_shared", ret == 0 && cold_prefix(kids[0]) <= SBLK - 9 &&
		  !bad_pages(km[3], CSEED + 3, NULL),
		  "uring PREFETCH %d issued %llu, cold prefix blocks after %ld",
		  ret, (unsigned long long)p.issued, cold_prefix(kids[0]));
	} else {
		T("uring_prefetch_shared", 0, "demote/ring %d", ret);
	}

	/* uring_cmd: SPACE_CREATE of a child on the control device */
	ret = io_uring_queue_init(8, &ring, 0);
	if (!ret) {
		struct cxl_kv_space_create uc;
		char *um = NULL;
		int ufd;

		kv_geom(&uc, LAYERS, HEADS, HDIM, TOKENS);
		uc.flags |= CXL_KV_SPACE_F_SHARE;
		uc.reserved[CXL_KV_SPACE_SHARE_PARENT] = (uint64_t)parent;
		uc.reserved[CXL_KV_SPACE_SHARE_TOKENS] = PREFIX;
		/* cqe->res is the ioctl's 0 or -errno; the fd is in uc.fd */
		ret = kv_uring_one(&ring, ctl, CXL_KV_SPACE_CREATE, &uc, sizeof(uc));
		io_uring_queue_exit(&ring);
		ufd = ret < 0 ? ret : (int)uc.fd;
		if (ufd >= 0)
			um = map(ufd);
		bad = um ? bad_pages(um, 0, &first) : 1;
		T("uring_space_create_child", ufd >= 0 && !bad,
		  "uring SPACE_CREATE %d (fd %u), %llu bad shared pages", ret, uc.fd,
		  (unsigned long long)bad);
		if (um)
			munmap(um, npages * KV_PAGE);
		if (ufd >= 0)
			close(ufd);
	} else {
		T("uring_space_create_child", 0, "ring %d", ret);
	}

	/* other processes: a child fd passed with SCM_RIGHTS */
	ret = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = ret ? -1 : fork();
	if (!pid) {
		close(sv[0]);
		_exit(remote_reader(sv[1], CSEED + 2, 0));
	}
	if (pid > 0) {
		close(sv[1]);
		send_fd(sv[0], kids[2]);
		waitpid(pid, &st, 0);
		close(sv[0]);
	}
	T("scm_rights_child", pid > 0 && WIFEXITED(st) && !WEXITSTATUS(st),
	  "status %#x", pid > 0 ? st : ret);

	/* ... and the parent fd: the other process makes its own child */
	ret = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = ret ? -1 : fork();
	if (!pid) {
		int pfd, cfd, sk[2];
		pid_t gp;

		close(sv[0]);
		pfd = recv_fd(sv[1]);
		cfd = pfd < 0 ? -1 : mk_child(ctl, pfd, PREFIX);
		close(pfd);
		if (cfd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sk))
			_exit(10);
		gp = fork();
		if (!gp)
			_exit(remote_reader(sk[1], 0, 77));
		send_fd(sk[0], cfd);
		close(cfd);
		waitpid(gp, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 11);
	}
	if (pid > 0) {
		close(sv[1]);
		send_fd(sv[0], parent);
		waitpid(pid, &st, 0);
		close(sv[0]);
	}
	T("scm_rights_parent", pid > 0 && WIFEXITED(st) && !WEXITSTATUS(st),
	  "status %#x", pid > 0 ? st : ret);

	T("killed_reader", killed_reader(ctl, parent), "-");
	{
		int odd = 0;

		T("close_parent_mid_create", close_mid_create(ctl, &odd),
		  "%d creates saw another file at the fd", odd);
	}

	/* the parent closed early: the children still read its prefix */
	munmap(pm, npages * KV_PAGE);
	close(parent);
	parent = -1;
	bad = 0;
	for (int i = 0; i < NCHILD; i++)
		bad += bad_pages(km[i], CSEED + i, &first);
	kv_info(ctl, &info);
	T("parent_closed_early", !bad && info.nr_spaces == NCHILD + 1,
	  "%llu bad pages (first %llu), %u spaces (the parent lives on)",
	  (unsigned long long)bad, (unsigned long long)first, info.nr_spaces);

	/* the worker's pressure reaches shared pages too; bytes stay exact */
	{
		struct cxl_kv_space_create bc;
		int big;
		char *bm = NULL;

		/* 2048 pages on a budget of 1024 */
		kv_geom(&bc, 8, 8, HDIM, TOKENS);
		big = kv_space(ctl, &bc);
		if (big >= 0)
			bm = mmap(NULL, bc.mmap_bytes, PROT_READ | PROT_WRITE,
				  MAP_SHARED, big, 0);
		if (bm == MAP_FAILED)
			bm = NULL;
		for (uint64_t pg = 0; bm && pg < bc.mmap_bytes / KV_PAGE; pg++)
			kv_fill((volatile uint64_t *)(bm + pg * KV_PAGE), 9, pg);
		bad = 0;
		for (int i = 0; i < NCHILD; i++)
			bad += bad_pages(km[i], CSEED + i, &first);
		kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g);
		ktap_diag("pressure: global demotions %llu, clean drops %llu, faults_cold %llu",
			  (unsigned long long)g.demotions,
			  (unsigned long long)g.clean_drops,
			  (unsigned long long)g.faults_cold);
		T("bytes_after_pressure", bm && !bad, "%llu bad pages", (unsigned long long)bad);
		if (bm)
			munmap(bm, bc.mmap_bytes);
		if (big >= 0)
			close(big);
	}

	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	T("detach_busy", ret == -EBUSY, "DETACH with children: %d", ret);

	for (int i = 0; i < NCHILD; i++) {
		if (km[i])
			munmap(km[i], npages * KV_PAGE);
		if (kids[i] >= 0)
			close(kids[i]);
	}
	/* the last child took the parent with it */
	kv_info(ctl, &info);
	kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g);
	T("no_leak", info.nr_spaces == 0 && info.warm_pages == 0 &&
	  info.cold_used == 0 && g.warm_pages == 0 && g.cold_pages == 0,
	  "spaces %u, warm %llu, cold slots %llu; gauges warm %llu cold %llu",
	  info.nr_spaces, (unsigned long long)info.warm_pages,
	  (unsigned long long)info.cold_used, (unsigned long long)g.warm_pages,
	  (unsigned long long)g.cold_pages);
	kv_detach_quiet(ctl);

	ret = ioerr_case(ctl);
	if (ret < 0)
		ktap_skip("ioerr_seen_by_all", "no second NVMe or no dm");
	else
		T("ioerr_seen_by_all", ret, "-");
	kv_info(ctl, &info);
	T("no_leak_after_ioerr", info.nr_spaces == 0, "spaces %u", info.nr_spaces);
	close(ctl);
	return ktap_finish();

skip_rest:
	kv_detach_quiet(ctl);
	while (ktap.n < 21)
		ktap_result(0, "not_reached");
	return ktap_finish();
}
