// SPDX-License-Identifier: GPL-2.0
/*
 * kv_tenant - the access model and the per-uid limits, with two
 * unprivileged tenants (uid 1001 and 1002, in the device's group) and one
 * outsider (uid 1003, not in it).
 *
 * access: /dev/cxl_kv is created 0660; the test gives it to group KV_GID
 *	(what the udev rule does with cxl-kv).  The outsider's open gets
 *	EACCES; a member's ATTACH and DETACH get EPERM, INFO works.
 * spaces: ATTACH user_spaces 4, max_spaces 6: uid 1001 makes 4 spaces, the
 *	5th gets EDQUOT; uid 1002 then makes 2, the 3rd gets ENFILE (the
 *	module's limit); root is not held to the per-uid limit.
 * starve: budget 1024 pages, 2048 cold slots; per uid 256 warm pages and
 *	1024 cold slots.  Tenant A writes a 4096-page space from its start
 *	and keeps writing: it never holds more than 256 warm pages (its own
 *	pages are demoted to make it room), its writes past its 256 + 1024
 *	pages fail (SIGBUS, after the usual wait) and its DEMOTE says EDQUOT.
 *	While A keeps writing, tenant B writes 512 pages (twice its warm share)
 *	and reads them back: no SIGBUS, every word exact, and the rest of its
 *	space reads zeros.  B cannot open A's space through /proc/A/fd
 *	(EACCES).  The old module (no limits) let A take the whole budget and
 *	the whole cold tier: B's faults got SIGBUS.
 * protect: budget 256: one space writes block 0 of 128 (layer, head)s,
 *	256 pages, every one a protected sink: the old worker never demoted
 *	them and the next page anywhere got SIGBUS after 10 s with 0 cold
 *	slots used.  Now a second space writes 128 pages with no SIGBUS, the
 *	worker demoted protected blocks (cold slots used), and both spaces
 *	read back exact.
 */
#include <grp.h>
#include <sys/types.h>

#include "kv_test.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define KV_GID		2000	/* plays cxl-kv */
#define UID_A		1001
#define UID_B		1002
#define UID_OUT		1003

#define BUDGET		1024
#define USER_WARM	256
#define COLD_BYTES	(8ULL << 20)	/* 2048 slots */
#define USER_COLD	1024
#define A_PAGES		4096
#define B_PAGES		1024
#define B_WRITTEN	512

/* Shared with the children (MAP_SHARED | MAP_ANONYMOUS). */
struct shm {
	volatile int stop;		/* parent -> A: stop writing */
	volatile int a_full;		/* A -> parent: A got its first SIGBUS */
	volatile int a_ready;		/* A: space made (spaces test: 4 of them) */
	volatile int a_done;
	int a_pid, a_fd;
	int a_err;			/* setup failure in A */
	long a_written, a_first_bus, a_buses;
	long a_warm_max;
	int a_demote;			/* DEMOTE of A's whole space */
	int b_err, b_bus, b_bad, b_nonzero, b_proc_errno;
	long b_warm_max;
	double b_secs;
	int sp_a[5], sp_b[3];		/* spaces test results */
	int out_open, mem_open, mem_attach, mem_detach, mem_info;
};

static struct shm *sh;

/* Become @uid with the device's group as the only supplementary one. */
static int drop_to(uid_t uid, int in_group)
{
	gid_t g = KV_GID;

	if (setgroups(in_group ? 1 : 0, &g))
		return -1;
	if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -1;
	return 0;
}

static sigjmp_buf wjmp;
static volatile sig_atomic_t wsig;

static void wsig_handler(int sig)
{
	wsig = sig;
	siglongjmp(wjmp, 1);
}

/* Fill page @pg of @m with @seed's pattern (every word); the signal or 0. */
static int write_page(char *m, uint64_t seed, uint64_t pg)
{
	struct sigaction sa = { .sa_handler = wsig_handler }, ob, os;

	sigaction(SIGBUS, &sa, &ob);
	sigaction(SIGSEGV, &sa, &os);
	wsig = 0;
	if (!sigsetjmp(wjmp, 1))
		kv_fill_stride((volatile uint64_t *)(m + pg * KV_PAGE), seed, pg, 1);
	sigaction(SIGBUS, &ob, NULL);
	sigaction(SIGSEGV, &os, NULL);
	return wsig;
}

/* Check page @pg (every word); -1 on a signal, else kv_check_stride(). */
static long check_page(char *m, uint64_t seed, uint64_t pg)
{
	if (kv_probe(m + pg * KV_PAGE))
		return -1;
	return (long)kv_check_stride((volatile uint64_t *)(m + pg * KV_PAGE),
				     seed, pg, 1);
}

static int page_zero(const char *m, uint64_t pg)
{
	const uint64_t *p = (const uint64_t *)(m + pg * KV_PAGE);

	for (size_t w = 0; w < KV_PAGE / 8; w++)
		if (p[w])
			return 0;
	return 1;
}

static long warm_of(int fd)
{
	struct cxl_kv_stats s;

	return kv_stats(fd, CXL_KV_SPACE_STATS, &s) ? -1 : (long)s.warm_pages;
}

/* A space of @pages pages (layers x 4 heads x 64 blocks), mapped. */
static int make_space(int ctl, uint32_t pages, char **m,
		      struct cxl_kv_space_create *c)
{
	int fd;

	kv_geom(c, pages / 512, 4, 64, 64 * 32);
	fd = kv_space(ctl, c);
	if (fd < 0)
		return fd;
	*m = mmap(NULL, c->mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*m == MAP_FAILED) {
		close(fd);
		return -ENOMEM;
	}
	return fd;
}

/* ---- access ------------------------------------------------------------ */

static void child_outsider(void)
{
	int fd;

	if (drop_to(UID_OUT, 0))
		_exit(2);
	fd = open("/dev/cxl_kv", O_RDWR);
	sh->out_open = fd >= 0 ? 0 : -errno;
	_exit(0);
}

static void child_member(void)
{
	struct cxl_kv_attach a;
	struct cxl_kv_detach d = { 0 };
	struct cxl_kv_info in;
	int fd;

	kv_attach_req(&a, 256, 1, 1 << 20);
	if (drop_to(UID_A, 1))
		_exit(2);
	fd = kv_open_ctl();
	sh->mem_open = fd >= 0 ? 0 : -errno;
	if (fd < 0)
		_exit(0);
	sh->mem_attach = kv_ioctl(fd, CXL_KV_ATTACH, &a);
	sh->mem_detach = kv_ioctl(fd, CXL_KV_DETACH, &d);
	sh->mem_info = kv_info(fd, &in);
	_exit(0);
}

static int run_child(void (*fn)(void))
{
	int st;
	pid_t p = fork();

	if (p < 0)
		return -1;
	if (!p)
		fn();
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void test_access(int ctl)
{
	struct stat st;
	int ra, rb;

	T("devnode_0660", !stat("/dev/cxl_kv", &st) && (st.st_mode & 0777) == 0660,
	  "mode %o", st.st_mode & 0777);
	T("devnode_to_group", !chown("/dev/cxl_kv", 0, KV_GID) &&
	  !chmod("/dev/cxl_kv", 0660), "errno %d", errno);
	kv_detach_quiet(ctl);
	ra = run_child(child_outsider);
	T("outsider_open_eacces", ra == 0 && sh->out_open == -EACCES,
	  "child %d open %d", ra, sh->out_open);
	rb = run_child(child_member);
	T("member_open", rb == 0 && sh->mem_open == 0, "child %d open %d", rb,
	  sh->mem_open);
	T("member_attach_eperm", sh->mem_attach == -EPERM, "attach %d",
	  sh->mem_attach);
	T("member_detach_eperm", sh->mem_detach == -EPERM, "detach %d",
	  sh->mem_detach);
	T("member_info", sh->mem_info == 0, "info %d", sh->mem_info);
}

/* ---- spaces ------------------------------------------------------------ */

static void child_spaces_a(void)
{
	struct cxl_kv_space_create c;
	int ctl, i;

	if (drop_to(UID_A, 1) || (ctl = kv_open_ctl()) < 0)
		_exit(2);
	for (i = 0; i < 5; i++) {
		kv_geom(&c, 1, 1, 64, 64);
		sh->sp_a[i] = kv_space(ctl, &c);
	}
	sh->a_ready = 1;
	while (!sh->stop)
		usleep(1000);
	_exit(0);
}

static void child_spaces_b(void)
{
	struct cxl_kv_space_create c;
	int ctl, i;

	if (drop_to(UID_B, 1) || (ctl = kv_open_ctl()) < 0)
		_exit(2);
	for (i = 0; i < 3; i++) {
		kv_geom(&c, 1, 1, 64, 64);
		sh->sp_b[i] = kv_space(ctl, &c);
	}
	_exit(0);
}

static void test_spaces(int ctl)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_attach a;
	struct cxl_kv_info in;
	int fds[6], i, ret, ok = 1, st;
	pid_t pa;

	kv_attach_req(&a, 256, 1, 1 << 20);
	a.user_spaces = 4;
	a.max_spaces = 6;
	ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	T("attach_space_limits", ret == 0, "ret %d", ret);
	if (ret)
		return;
	ret = kv_info(ctl, &in);
	T("info_reports_limits", !ret && in.user_spaces == 4 && in.max_spaces == 6 &&
	  in.user_warm_pages == 128 && in.user_cold_slots == 128,
	  "spaces %u/%u warm %llu cold %llu", in.user_spaces, in.max_spaces,
	  (unsigned long long)in.user_warm_pages,
	  (unsigned long long)in.user_cold_slots);
	/* Root: no per-uid limit, the module's applies. */
	for (i = 0; i < 6; i++) {
		kv_geom(&c, 1, 1, 64, 64);
		fds[i] = kv_space(ctl, &c);
		ok &= fds[i] >= 0;
	}
	kv_geom(&c, 1, 1, 64, 64);
	ret = kv_space(ctl, &c);
	T("root_beyond_user_limit_module_limit_enfile", ok && ret == -ENFILE,
	  "6 spaces %s, 7th: %d", ok ? "made" : "not made", ret);
	if (ret >= 0)
		close(ret);
	for (i = 0; i < 6; i++)
		if (fds[i] >= 0)
			close(fds[i]);

	memset(sh, 0, sizeof(*sh));
	pa = fork();
	if (!pa)
		child_spaces_a();
	while (pa > 0 && !sh->a_ready)
		usleep(1000);
	T("uid_4_spaces_then_edquot", sh->sp_a[0] >= 0 && sh->sp_a[1] >= 0 &&
	  sh->sp_a[2] >= 0 && sh->sp_a[3] >= 0 && sh->sp_a[4] == -EDQUOT,
	  "%d %d %d %d %d", sh->sp_a[0], sh->sp_a[1], sh->sp_a[2],
	  sh->sp_a[3], sh->sp_a[4]);
	ret = run_child(child_spaces_b);
	T("other_uid_2_spaces_then_enfile", !ret && sh->sp_b[0] >= 0 &&
	  sh->sp_b[1] >= 0 && sh->sp_b[2] == -ENFILE, "child %d: %d %d %d",
	  ret, sh->sp_b[0], sh->sp_b[1], sh->sp_b[2]);
	sh->stop = 1;
	if (pa > 0)
		waitpid(pa, &st, 0);
	kv_info(ctl, &in);
	T("spaces_gone", in.nr_spaces == 0, "%u", in.nr_spaces);
	kv_detach_quiet(ctl);
}

/* ---- starve ------------------------------------------------------------ */

static void child_tenant_a(void)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_range r[A_PAGES / 128];
	struct cxl_kv_ranges q = { 0 };
	char *m;
	int ctl, fd;
	long w;

	if (drop_to(UID_A, 1) || (ctl = kv_open_ctl()) < 0)
		_exit(2);
	fd = make_space(ctl, A_PAGES, &m, &c);
	if (fd < 0) {
		sh->a_err = fd;
		sh->a_ready = 1;
		_exit(0);
	}
	sh->a_pid = getpid();
	sh->a_fd = fd;
	sh->a_first_bus = -1;
	sh->a_ready = 1;
	for (uint64_t pg = 0; pg < A_PAGES && !sh->stop; pg++) {
		if (write_page(m, 0xA, pg)) {
			if (sh->a_first_bus < 0)
				sh->a_first_bus = pg;
			sh->a_buses++;
			sh->a_full = 1;
		} else {
			sh->a_written++;
		}
		w = warm_of(fd);
		if (w > sh->a_warm_max)
			sh->a_warm_max = w;
	}
	sh->a_full = 1;
	while (!sh->stop)
		usleep(1000);
	/* Every block: the dirty warm ones need slots A has no right to. */
	memset(r, 0, sizeof(r));
	for (uint32_t i = 0; i < c.layers * c.kv_heads; i++) {
		r[i].layer = i / c.kv_heads;
		r[i].head = i % c.kv_heads;
		r[i].nr_blocks = c.blocks_per_stream;
	}
	q.ranges = (uintptr_t)r;
	q.count = c.layers * c.kv_heads;
	sh->a_demote = kv_ioctl(fd, CXL_KV_DEMOTE, &q);
	sh->a_done = 1;
	_exit(0);
}

static void child_tenant_b(void)
{
	struct cxl_kv_space_create c;
	char path[64];
	double t0;
	char *m;
	int ctl, fd, pfd;
	long w;

	if (drop_to(UID_B, 1) || (ctl = kv_open_ctl()) < 0)
		_exit(2);
	t0 = kv_now();
	fd = make_space(ctl, B_PAGES, &m, &c);
	if (fd < 0) {
		sh->b_err = fd;
		_exit(0);
	}
	for (uint64_t pg = 0; pg < B_WRITTEN; pg++) {
		if (write_page(m, 0xB, pg))
			sh->b_bus++;
		w = warm_of(fd);
		if (w > sh->b_warm_max)
			sh->b_warm_max = w;
	}
	for (uint64_t pg = 0; pg < B_WRITTEN; pg++) {
		long r = check_page(m, 0xB, pg);

		if (r < 0)
			sh->b_bus++;
		else if (r)
			sh->b_bad++;
	}
	for (uint64_t pg = B_WRITTEN; pg < B_PAGES; pg++) {
		if (kv_probe(m + pg * KV_PAGE))
			sh->b_bus++;
		else if (!page_zero(m, pg))
			sh->b_nonzero++;
	}
	sh->b_secs = kv_now() - t0;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", sh->a_pid, sh->a_fd);
	pfd = open(path, O_RDWR);
	sh->b_proc_errno = pfd >= 0 ? 0 : errno;
	_exit(0);
}

static void test_starve(int ctl)
{
	struct cxl_kv_attach a;
	struct cxl_kv_info in;
	int ret, rb, st;
	pid_t pa;

	kv_attach_req(&a, BUDGET, 1, COLD_BYTES);
	a.user_warm_pages = USER_WARM;
	a.user_cold_slots = USER_COLD;
	ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	T("attach_tenant_limits", ret == 0, "ret %d", ret);
	if (ret)
		return;
	memset(sh, 0, sizeof(*sh));
	pa = fork();
	if (!pa)
		child_tenant_a();
	while (pa > 0 && !sh->a_ready)
		usleep(1000);
	/* A hits its wall and keeps writing (each write waits, then SIGBUS). */
	for (int i = 0; i < 600000 && !sh->a_full && !sh->a_err; i++)
		usleep(1000);
	rb = run_child(child_tenant_b);
	sh->stop = 1;
	if (pa > 0)
		waitpid(pa, &st, 0);

	ktap_diag("A: wrote %ld pages, first SIGBUS at page %ld (%ld SIGBUS), at most %ld warm; B: %.2f s, at most %ld warm",
		  sh->a_written, sh->a_first_bus, sh->a_buses, sh->a_warm_max,
		  sh->b_secs, sh->b_warm_max);
	T("tenant_a_space", !sh->a_err, "A's space: %d", sh->a_err);
	T("tenant_a_warm_within_limit", sh->a_warm_max <= USER_WARM &&
	  sh->a_warm_max >= USER_WARM / 2, "A held %ld warm pages", sh->a_warm_max);
	T("tenant_a_pays_at_its_limit", sh->a_first_bus >= USER_COLD &&
	  sh->a_written <= USER_WARM + USER_COLD + 8,
	  "A: first SIGBUS at %ld, %ld pages written", sh->a_first_bus,
	  sh->a_written);
	T("tenant_a_demote_edquot", sh->a_demote == -EDQUOT, "DEMOTE %d",
	  sh->a_demote);
	T("tenant_b_ran", rb == 0 && !sh->b_err, "child %d err %d", rb, sh->b_err);
	T("tenant_b_not_starved", !sh->b_bus, "%d SIGBUS in B", sh->b_bus);
	T("tenant_b_data_exact", !sh->b_bad, "%d bad pages", sh->b_bad);
	T("tenant_b_warm_within_limit", sh->b_warm_max <= USER_WARM,
	  "B held %ld", sh->b_warm_max);
	T("tenant_b_new_pages_zero", !sh->b_nonzero, "%d non-zero pages",
	  sh->b_nonzero);
	T("tenant_b_cannot_open_a_space", sh->b_proc_errno == EACCES,
	  "errno %d", sh->b_proc_errno);
	ret = kv_info(ctl, &in);
	T("tenants_leave_nothing", !ret && !in.nr_spaces && !in.warm_pages &&
	  !in.cold_used, "spaces %u warm %llu cold %llu", in.nr_spaces,
	  (unsigned long long)in.warm_pages, (unsigned long long)in.cold_used);
	kv_detach_quiet(ctl);
}

/* ---- protect ----------------------------------------------------------- */

static void test_protect(int ctl)
{
	struct cxl_kv_space_create cx, cy;
	struct cxl_kv_info in;
	char *mx = MAP_FAILED, *my = MAP_FAILED;
	int fx, fy, ret, bus = 0, bad = 0;
	uint64_t heads = 128, ny = 0;
	double t0, dt;

	ret = kv_attach(ctl, 256, 1, 32 << 20);
	T("attach_protect", ret == 0, "ret %d", ret);
	if (ret)
		return;
	/* X: 2 layers x 64 heads x 4 blocks; block 0 of each is a sink. */
	kv_geom(&cx, 2, 64, 64, 4 * 32);
	fx = kv_space(ctl, &cx);
	if (fx >= 0)
		mx = mmap(NULL, cx.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fx, 0);
	kv_geom(&cy, 1, 1, 64, 64 * 32);
	fy = kv_space(ctl, &cy);
	if (fy >= 0)
		my = mmap(NULL, cy.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fy, 0);
	T("protect_spaces", mx != MAP_FAILED && my != MAP_FAILED, "%d %d", fx, fy);
	if (mx == MAP_FAILED || my == MAP_FAILED)
		goto out;
	t0 = kv_now();
	/* Block 0 of every (layer, head): its K page and its V page. */
	for (uint64_t s = 0; s < 2 * heads; s++)
		bus += !!write_page(mx, 0x5, s * cx.blocks_per_stream);
	/* Then anyone's next page needs room (the old module: 10 s, SIGBUS). */
	for (ny = 0; ny < 128 && !bus; ny++)
		bus += !!write_page(my, 0x6, ny);
	dt = kv_now() - t0;
	kv_info(ctl, &in);
	ktap_diag("384 pages in %.2f s, %llu cold slots used", dt,
		  (unsigned long long)in.cold_used);
	T("protected_blocks_yield_no_sigbus", !bus, "%d SIGBUS", bus);
	T("protected_blocks_demoted", in.cold_used > 0, "cold used %llu",
	  (unsigned long long)in.cold_used);
	for (uint64_t s = 0; s < 2 * heads; s++) {
		long r = check_page(mx, 0x5, s * cx.blocks_per_stream);

		bad += r != 0;
	}
	/* (Only those written: a page that got SIGBUS would wait 10 s again.) */
	for (uint64_t pg = 0; pg < ny - !!bus; pg++)
		bad += check_page(my, 0x6, pg) != 0;
	T("protected_data_exact", !bad, "%d bad pages", bad);
out:
	if (mx != MAP_FAILED)
		munmap(mx, cx.mmap_bytes);
	if (my != MAP_FAILED)
		munmap(my, cy.mmap_bytes);
	if (fx >= 0)
		close(fx);
	if (fy >= 0)
		close(fy);
	kv_detach_quiet(ctl);
}

int main(void)
{
	int ctl;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return ktap_skip_all("no shared memory");
	memset(sh, 0, sizeof(*sh));
	ktap_plan(30);
	test_access(ctl);
	test_spaces(ctl);
	test_starve(ctl);
	test_protect(ctl);
	/* Give the node back as the rig made it. */
	chown("/dev/cxl_kv", 0, 0);
	close(ctl);
	return ktap_finish();
}
