// SPDX-License-Identifier: GPL-2.0
/*
 * kv_integrity - a space 4x the warm budget filled with a known pattern,
 * demoted and promoted in cycles (by pressure and by explicit commands),
 * every byte read back; clean pages drop without I/O; the same with two
 * processes sharing the fd through SCM_RIGHTS; a new space reads zeros
 * although freed pages of the first are pooled for reuse; nothing leaks;
 * a full cold tier demotes what fits and still drops clean pages.
 */
#include <sys/socket.h>

#include "kv_test.h"

#define BUDGET	256		/* warm pages */
#define LAYERS	4
#define HEADS	2
#define TOKENS	1024		/* 64 blocks per stream: 1024 pages = 4x budget */

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

static uint64_t npages;

/* Write @seed's pattern to pages [from, npages) step @step. */
static void fill(char *m, uint64_t seed, uint64_t from, uint64_t step)
{
	for (uint64_t pg = from; pg < npages; pg += step)
		kv_fill((uint64_t *)(m + pg * KV_PAGE), seed, pg);
}

/* Returns the number of bad pages (prints the first). */
static uint64_t verify(const char *m, uint64_t seed)
{
	uint64_t bad = 0;

	for (uint64_t pg = 0; pg < npages; pg++) {
		uint64_t w = kv_check((const uint64_t *)(m + pg * KV_PAGE), seed, pg);

		if (w && !bad++) {
			const uint64_t *p = (const uint64_t *)(m + pg * KV_PAGE);
			int zero = 1;

			for (int i = 0; i < 512; i++)
				zero &= !p[i];
			ktap_diag("page %llu word %llu differs (want seed %llu; zero %d)",
				  (unsigned long long)pg, (unsigned long long)w - 1,
				  (unsigned long long)seed, zero);
			for (uint64_t sd = 0; sd < 16; sd++)
				for (uint64_t q = 0; q < npages; q++)
					if (!kv_check(p, sd, q))
						ktap_diag("  it holds seed %llu page %llu",
							  (unsigned long long)sd, (unsigned long long)q);
		}
	}
	return bad;
}

/* Wait (at most 5 s) until the demotion worker has stopped writing. */
static void settle(int fd, struct cxl_kv_stats *s)
{
	struct cxl_kv_stats prev;

	kv_stats(fd, CXL_KV_SPACE_STATS, s);
	for (int i = 0; i < 50; i++) {
		prev = *s;
		usleep(100000);
		kv_stats(fd, CXL_KV_SPACE_STATS, s);
		if (s->nvme_write_bytes == prev.nvme_write_bytes &&
		    s->demotions == prev.demotions && s->clean_drops == prev.clean_drops)
			return;
	}
	ktap_diag("the demotion worker did not settle in 5 s");
}

/* DEMOTE or PROMOTE every block of the space; returns pages moved. */
static int move_all(int fd, unsigned long cmd, uint32_t bph, uint64_t *moved)
{
	struct cxl_kv_range r[LAYERS * HEADS];
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)r, .count = LAYERS * HEADS };
	int i = 0;

	for (int l = 0; l < LAYERS; l++)
		for (int h = 0; h < HEADS; h++)
			r[i++] = (struct cxl_kv_range){ .layer = l, .head = h,
							.nr_blocks = bph };
	i = kv_ioctl(fd, cmd, &q);
	*moved = q.done;
	return i;
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char b = 'x';
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Child: receive the space fd, map it, write odd pages, verify all. */
static int child(int sock, uint64_t len)
{
	int fd = recv_fd(sock);
	char *m, go;

	if (fd < 0)
		return 10;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 11;
	fill(m, 3, 1, 2);
	if (write(sock, "w", 1) != 1 || read(sock, &go, 1) != 1)
		return 12;
	return verify(m, 3) ? 13 : 0;
}

/*
 * 6: a full cold tier.  1 MiB of cold slots (256) under 512 dirty pages:
 * DEMOTE writes what fits and says -ENOSPC; the rest stays warm and intact.
 * Read back, the demoted half is clean with a valid cold copy, so a second
 * DEMOTE that meets the dirty half first (no slot: -ENOSPC) still drops the
 * clean half without I/O.
 */
static void cold_full(int ctl)
{
	struct cxl_kv_range r[2] = {
		{ .head = 1, .nr_blocks = 128 }, { .head = 0, .nr_blocks = 128 },
	};
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)r, .count = 2 };
	struct cxl_kv_space_create c;
	struct cxl_kv_stats s0, s1;
	struct cxl_kv_info info;
	uint64_t bad = 0, n, done;
	int fd, ret;
	char *m;

	ret = kv_attach(ctl, 1024, 1, 1 << 20);
	kv_geom(&c, 1, 2, 128, 128 * 16);	/* 2 heads x K,V x 128 = 512 pages */
	fd = ret ? ret : kv_space(ctl, &c);
	m = fd < 0 ? MAP_FAILED :
	    mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		T("cold_full_demote_what_fits", 0, "attach %d fd %d", ret, fd);
		T("cold_full_data_intact", 0, "-");
		T("cold_full_clean_drop_after_enospc", 0, "-");
		T("cold_full_data_intact_again", 0, "-");
		return;
	}
	n = c.mmap_bytes / KV_PAGE;
	for (uint64_t pg = 0; pg < n; pg++)
		kv_fill((uint64_t *)(m + pg * KV_PAGE), 21, pg);
	ret = kv_ranges(fd, CXL_KV_DEMOTE, 0, 0, 0, 128, &done);
	ret = ret ?: kv_ranges(fd, CXL_KV_DEMOTE, 0, 1, 0, 128, &done);
	kv_info(ctl, &info);
	T("cold_full_demote_what_fits", ret == -ENOSPC && info.cold_used == 256 &&
	  info.warm_pages == n - 256, "ret %d cold used %llu warm %llu", ret,
	  (unsigned long long)info.cold_used, (unsigned long long)info.warm_pages);
	for (uint64_t pg = 0; pg < n; pg++)
		bad += !!kv_check((const uint64_t *)(m + pg * KV_PAGE), 21, pg);
	T("cold_full_data_intact", bad == 0, "%llu bad pages", (unsigned long long)bad);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
	q.done = ~0ULL;
	ret = kv_ioctl(fd, CXL_KV_DEMOTE, &q);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	/* done is written back on the error too: the 256 dropped pages */
	T("cold_full_clean_drop_after_enospc", ret == -ENOSPC && q.done == 256 &&
	  s1.clean_drops - s0.clean_drops == 256 && s1.warm_pages == n - 256 &&
	  s1.nvme_write_bytes == s0.nvme_write_bytes,
	  "ret %d done %llu warm %llu drops %llu wrote %llu", ret,
	  (unsigned long long)q.done, (unsigned long long)s1.warm_pages,
	  (unsigned long long)(s1.clean_drops - s0.clean_drops),
	  (unsigned long long)(s1.nvme_write_bytes - s0.nvme_write_bytes));
	bad = 0;
	for (uint64_t pg = 0; pg < n; pg++)
		bad += !!kv_check((const uint64_t *)(m + pg * KV_PAGE), 21, pg);
	T("cold_full_data_intact_again", bad == 0, "%llu bad pages", (unsigned long long)bad);
	munmap(m, c.mmap_bytes);
	close(fd);
	kv_detach_quiet(ctl);
}

int main(void)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_stats s0, s1, g;
	struct cxl_kv_info info;
	long used0, used1;
	uint64_t moved, bm[2];
	int ctl, fd, ret, sv[2];
	double t0;
	char *m;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	ktap_plan(28);
	kv_detach_quiet(ctl);
	used0 = kv_node_busy_kb(kv_warm_node());
	ret = kv_attach(ctl, BUDGET, 2, 32 << 20);
	T("attach", ret == 0, "ret %d", ret);
	kv_geom(&c, LAYERS, HEADS, 128, TOKENS);
	fd = kv_space(ctl, &c);
	T("space_4x_budget", fd >= 0 && c.mmap_bytes / KV_PAGE == 4 * BUDGET,
	  "fd %d pages %llu", fd, (unsigned long long)c.mmap_bytes / KV_PAGE);
	if (fd < 0)
		return ktap_finish();
	npages = c.mmap_bytes / KV_PAGE;
	m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return ktap_finish();

	/* 1: pressure */
	t0 = kv_now();
	fill(m, 1, 0, 1);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s0);
	ktap_diag("filled %llu pages in %.2fs: warm %llu demotions %llu waits %llu",
		  (unsigned long long)npages, kv_now() - t0,
		  (unsigned long long)s0.warm_pages, (unsigned long long)s0.demotions,
		  (unsigned long long)s0.alloc_waits);
	T("pressure_demotes", s0.demotions >= npages - BUDGET && s0.warm_pages <= BUDGET &&
	  s0.faults_zero == npages, "demotions %llu warm %llu zero %llu",
	  (unsigned long long)s0.demotions, (unsigned long long)s0.warm_pages,
	  (unsigned long long)s0.faults_zero);
	T("pressure_readback", verify(m, 1) == 0, "-");
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	T("readback_promoted", s1.faults_cold > 0 && s1.promotions >= s1.faults_cold &&
	  s1.warm_pages <= BUDGET, "cold faults %llu warm %llu",
	  (unsigned long long)s1.faults_cold, (unsigned long long)s1.warm_pages);
	T("pressure_readback_again", verify(m, 1) == 0, "-");

	/*
	 * 2: explicit demote of everything; clean pages drop without I/O.
	 * The worker may still be bringing the readback's pages down to the
	 * low watermark: let it finish, or its writes count here too.
	 */
	settle(fd, &s0);
	ret = move_all(fd, CXL_KV_DEMOTE, c.blocks_per_stream, &moved);
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	T("demote_all", ret == 0 && s1.warm_pages == 0 && s1.cold_pages == npages,
	  "ret %d moved %llu warm %llu cold %llu", ret, (unsigned long long)moved,
	  (unsigned long long)s1.warm_pages, (unsigned long long)s1.cold_pages);
	T("clean_drop_no_io", s1.clean_drops > s0.clean_drops &&
	  s1.clean_drops - s0.clean_drops +
	  (s1.nvme_write_bytes - s0.nvme_write_bytes) / KV_PAGE == moved, "drops %llu moved %llu wrote %llu",
	  (unsigned long long)(s1.clean_drops - s0.clean_drops), (unsigned long long)moved,
	  (unsigned long long)(s1.nvme_write_bytes - s0.nvme_write_bytes));
	ret = kv_resident(fd, 1, 1, 0, c.blocks_per_stream, NULL, bm);
	T("residency_all_cold", ret == 0, "resident bits %d", ret);
	T("demoted_readback", verify(m, 1) == 0, "-");

	/* 3: cycles: rewrite (dirty), demote explicitly, promote explicitly */
	for (int cyc = 0; cyc < 3; cyc++) {
		uint64_t seed = 10 + cyc;

		fill(m, seed, 0, 1);
		move_all(fd, CXL_KV_DEMOTE, c.blocks_per_stream, &moved);
		move_all(fd, CXL_KV_PROMOTE, c.blocks_per_stream, &moved);
		if (verify(m, seed)) {
			ktap_diag("cycle %d failed", cyc);
			break;
		}
		if (cyc == 2)
			T("cycles_rewrite_demote_promote", 1, "-");
	}
	if (ktap.n != 11)
		T("cycles_rewrite_demote_promote", 0, "-");
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	T("promote_explicit_counted", s1.promotions > s0.promotions && s1.io_errors == 0,
	  "io errors %llu", (unsigned long long)s1.io_errors);

	/* 4: two processes through SCM_RIGHTS */
	T("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "-");
	{
		pid_t pid = fork();
		int st = -1;
		char b;

		if (pid == 0)
			_exit(child(sv[1], c.mmap_bytes));
		send_fd(sv[0], fd);
		fill(m, 3, 0, 2);
		ret = read(sv[0], &b, 1);
		T("shared_fd_child_wrote", ret == 1, "-");
		T("shared_fd_parent_sees_all", verify(m, 3) == 0, "-");
		ret = write(sv[0], "g", 1);
		waitpid(pid, &st, 0);
		T("shared_fd_child_sees_all", WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "child status %d", WEXITSTATUS(st));
	}
	kv_stats(fd, CXL_KV_SPACE_STATS, &s1);
	ktap_diag("space: zero %llu warm %llu cold %llu promo %llu demo %llu drops %llu wb_abort %llu waits %llu fails %llu",
		  (unsigned long long)s1.faults_zero, (unsigned long long)s1.faults_warm,
		  (unsigned long long)s1.faults_cold, (unsigned long long)s1.promotions,
		  (unsigned long long)s1.demotions, (unsigned long long)s1.clean_drops,
		  (unsigned long long)s1.wb_aborts, (unsigned long long)s1.alloc_waits,
		  (unsigned long long)s1.alloc_fails);
	T("no_alloc_failures", s1.alloc_fails == 0 && s1.io_errors == 0, "-");
	kv_info(ctl, &info);
	T("budget_respected", info.warm_pages <= BUDGET, "warm %llu",
	  (unsigned long long)info.warm_pages);

	/*
	 * 5: freed pages are pooled for reuse: after a demotion of everything
	 * the pool holds pages with this space's data.  A second space's
	 * never-written pages must read as zeros all the same, and its writes
	 * must not show through in the first.
	 */
	move_all(fd, CXL_KV_DEMOTE, c.blocks_per_stream, &moved);
	{
		struct cxl_kv_space_create c2;
		int fd2;
		char *m2;
		uint64_t nz = 0, n2;

		kv_geom(&c2, 1, 1, 128, 64 * 16);	/* 128 pages */
		fd2 = kv_space(ctl, &c2);
		n2 = c2.mmap_bytes / KV_PAGE;
		m2 = fd2 < 0 ? MAP_FAILED :
		     mmap(NULL, c2.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
		for (uint64_t o = 0; m2 != MAP_FAILED && o < c2.mmap_bytes; o += 8)
			nz += *(volatile uint64_t *)(m2 + o) != 0;
		T("new_space_reads_zero_after_reuse", m2 != MAP_FAILED && nz == 0,
		  "fd %d, %llu non-zero words in %llu pages", fd2, (unsigned long long)nz,
		  (unsigned long long)n2);
		for (uint64_t pg = 0; m2 != MAP_FAILED && pg < n2; pg++)
			kv_fill((uint64_t *)(m2 + pg * KV_PAGE), 7, pg);
		T("first_space_intact_after_reuse", verify(m, 3) == 0, "-");
		if (m2 != MAP_FAILED)
			munmap(m2, c2.mmap_bytes);
		if (fd2 >= 0)
			close(fd2);
	}

	/* leak check */
	munmap(m, c.mmap_bytes);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	kv_info(ctl, &info);
	T("close_frees_pages_and_slots", info.nr_spaces == 0 && info.warm_pages == 0 &&
	  info.cold_used == 0, "spaces %u warm %llu cold %llu", info.nr_spaces,
	  (unsigned long long)info.warm_pages, (unsigned long long)info.cold_used);
	kv_stats(ctl, CXL_KV_GLOBAL_STATS, &g);
	T("global_gauges_zero", g.warm_pages == 0 && g.cold_pages == 0,
	  "warm %llu cold %llu", (unsigned long long)g.warm_pages,
	  (unsigned long long)g.cold_pages);
	used1 = kv_node_busy_kb(kv_warm_node());
	T("warm_node_memory_back", used1 - used0 < 512, "before %ld kB after %ld kB",
	  used0, used1);
	T("detach", kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 }) == 0, "-");
	cold_full(ctl);
	close(ctl);
	return ktap_finish();
}
