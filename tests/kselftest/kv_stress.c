// SPDX-License-Identifier: GPL-2.0
/*
 * kv_stress - concurrency: threads and processes faulting, writing, hinting,
 * demoting, promoting and querying while the demotion worker runs under
 * pressure, every page verified; kill -9 of a process in the middle of its
 * I/O; then no leak (memory and slab counters before/after), unload refused
 * while a space fd is open, and the module unloads (and loads again).
 */
#include <pthread.h>

#include "kv_test.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define BUDGET	256
#define LAYERS	2
#define HEADS	4
#define BPH	64		/* 1024 pages */
#define NWRITERS 4

static char *m;
static uint64_t npages;
static int sfd;
static double secs;
static volatile int stop;
static int errors[NWRITERS + 2];

/* Writer t owns pages pg % NWRITERS == t; rewrites and verifies them. */
static void *writer(void *arg)
{
	int t = (int)(intptr_t)arg;
	uint64_t *ver = calloc(npages, sizeof(*ver));
	unsigned int rnd = t * 7919 + 1;

	while (!stop) {
		uint64_t pg = (rand_r(&rnd) % (npages / NWRITERS)) * NWRITERS + t;
		uint64_t *p = (uint64_t *)(m + pg * KV_PAGE);

		if (ver[pg] && kv_check(p, ver[pg], pg)) {
			errors[t]++;
			ktap_diag("writer %d: page %llu lost version %llu", t,
				  (unsigned long long)pg, (unsigned long long)ver[pg]);
		}
		if (rand_r(&rnd) % 2) {
			ver[pg] = ver[pg] + 1 + t * 1000000;
			kv_fill(p, ver[pg], pg);
		}
	}
	for (uint64_t pg = t; pg < npages; pg += NWRITERS)
		if (ver[pg] && kv_check((uint64_t *)(m + pg * KV_PAGE), ver[pg], pg))
			errors[t]++;
	free(ver);
	return NULL;
}

/* Hints, access reports and residency queries at random. */
static void *hinter(void *arg)
{
	struct cxl_kv_hint h[64];
	unsigned int rnd = 42;
	uint64_t step = 1, bm[1];

	(void)arg;
	while (!stop) {
		struct cxl_kv_hints q = { .step = step++, .hints = (uintptr_t)h, .count = 64 };

		for (int i = 0; i < 64; i++)
			h[i] = (struct cxl_kv_hint){ .layer = rand_r(&rnd) % LAYERS,
						     .head = rand_r(&rnd) % HEADS,
						     .block = rand_r(&rnd) % BPH,
						     .score = rand_r(&rnd) % 65536 };
		if (kv_ioctl(sfd, CXL_KV_HINTS, &q))
			errors[NWRITERS]++;
		if (kv_ranges(sfd, CXL_KV_ACCESS, rand_r(&rnd) % LAYERS, 0, 0, BPH, NULL))
			errors[NWRITERS]++;
		if (kv_resident(sfd, 0, rand_r(&rnd) % HEADS, 0, 64, NULL, bm) < 0)
			errors[NWRITERS]++;
	}
	return NULL;
}

/* Explicit demotes, promotes, prefetches and pins at random. */
static void *mover(void *arg)
{
	unsigned int rnd = 7;
	uint64_t done;

	(void)arg;
	while (!stop) {
		int l = rand_r(&rnd) % LAYERS, h = rand_r(&rnd) % HEADS;
		uint32_t b = rand_r(&rnd) % (BPH - 8);
		int ret;

		switch (rand_r(&rnd) % 4) {
		case 0:
			ret = kv_ranges(sfd, CXL_KV_DEMOTE, l, h, b, 8, &done);
			break;
		case 1:
			ret = kv_ranges(sfd, CXL_KV_PROMOTE, l, h, b, 8, &done);
			break;
		case 2: {
			struct cxl_kv_prefetch pf = { .layer = l, .head_mask = 1u << h,
						      .pos = b * 16, .window = 64 };

			ret = kv_ioctl(sfd, CXL_KV_PREFETCH, &pf);
			break;
		}
		default:
			ret = kv_ranges(sfd, CXL_KV_PIN, l, h, b, 2, &done);
			ret = ret ?: kv_ranges(sfd, CXL_KV_UNPIN, l, h, b, 2, &done);
			break;
		}
		/* ENOMEM: no warm room within the wait; acceptable under stress */
		if (ret && ret != -ENOMEM)
			errors[NWRITERS + 1]++;
	}
	return NULL;
}

static int make_space(int ctl, struct cxl_kv_space_create *c)
{
	kv_geom(c, LAYERS, HEADS, 128, BPH * 16);
	return kv_space(ctl, c);
}

/* Child for the kill -9 case: its own space, I/O forever. */
static void io_forever(int ctl)
{
	struct cxl_kv_space_create c;
	int fd = make_space(ctl, &c);
	char *mm;
	uint64_t done;

	if (fd < 0)
		_exit(2);
	mm = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mm == MAP_FAILED)
		_exit(3);
	for (uint64_t seed = 1;; seed++) {
		for (uint64_t pg = 0; pg < c.mmap_bytes / KV_PAGE; pg++)
			kv_fill((uint64_t *)(mm + pg * KV_PAGE), seed, pg);
		for (int l = 0; l < LAYERS; l++)
			for (int h = 0; h < HEADS; h++)
				kv_ranges(fd, CXL_KV_DEMOTE, l, h, 0, BPH, &done);
		write(1, "", 0);
	}
}

int main(int argc, char **argv)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_stats st;
	struct cxl_kv_info info;
	pthread_t th[NWRITERS + 2];
	long busy0, busy1, slab0, slab1;
	int ctl, ret, bad;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	secs = argc > 1 ? atof(argv[1]) : (kv_is_cxl() ? 3 : 5);
	ktap_plan(13);
	kv_detach_quiet(ctl);
	busy0 = kv_node_busy_kb(kv_warm_node());
	slab0 = kv_meminfo("/proc/meminfo", "SUnreclaim");
	ret = kv_attach(ctl, BUDGET, 2, 32 << 20);
	T("attach", ret == 0, "ret %d", ret);
	sfd = make_space(ctl, &c);
	npages = c.mmap_bytes / KV_PAGE;
	m = sfd < 0 ? MAP_FAILED : mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE,
					MAP_SHARED, sfd, 0);
	if (m == MAP_FAILED)
		return ktap_finish();

	/* threads */
	for (int t = 0; t < NWRITERS; t++)
		pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t);
	pthread_create(&th[NWRITERS], NULL, hinter, NULL);
	pthread_create(&th[NWRITERS + 1], NULL, mover, NULL);
	usleep((useconds_t)(secs * 1e6));
	stop = 1;
	for (int t = 0; t < NWRITERS + 2; t++)
		pthread_join(th[t], NULL);
	bad = 0;
	for (int t = 0; t < NWRITERS; t++)
		bad += errors[t];
	kv_stats(sfd, CXL_KV_SPACE_STATS, &st);
	ktap_diag("threads %.1fs: zero %llu warm %llu cold %llu demo %llu drops %llu wb_aborts %llu waits %llu fails %llu",
		  secs, (unsigned long long)st.faults_zero, (unsigned long long)st.faults_warm,
		  (unsigned long long)st.faults_cold, (unsigned long long)st.demotions,
		  (unsigned long long)st.clean_drops, (unsigned long long)st.wb_aborts,
		  (unsigned long long)st.alloc_waits, (unsigned long long)st.alloc_fails);
	T("threads_data_intact", bad == 0, "%d lost pages", bad);
	T("threads_commands_ok", errors[NWRITERS] == 0 && errors[NWRITERS + 1] == 0,
	  "hinter %d mover %d", errors[NWRITERS], errors[NWRITERS + 1]);
	T("threads_demotion_ran", st.demotions > 0 && st.faults_cold > 0, "-");

	/* processes sharing the mapping (fork) while the parent demotes */
	stop = 0;
	{
		pid_t pids[2];
		int ok = 0, st2;
		double end = kv_now() + secs / 2;

		for (int i = 0; i < 2; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				stop = 0;
				memset(errors, 0, sizeof(errors));
				pthread_create(&th[0], NULL, writer, (void *)(intptr_t)i);
				pthread_create(&th[1], NULL, writer, (void *)(intptr_t)(i + 2));
				usleep((useconds_t)(secs / 2 * 1e6));
				stop = 1;
				pthread_join(th[0], NULL);
				pthread_join(th[1], NULL);
				_exit(errors[i] + errors[i + 2] ? 1 : 0);
			}
		}
		while (kv_now() < end) {
			uint64_t done;

			for (int l = 0; l < LAYERS; l++)
				kv_ranges(sfd, CXL_KV_DEMOTE, l, rand() % HEADS, 0, BPH, &done);
		}
		for (int i = 0; i < 2; i++) {
			waitpid(pids[i], &st2, 0);
			ok += WIFEXITED(st2) && WEXITSTATUS(st2) == 0;
		}
		T("processes_data_intact", ok == 2, "%d of 2 children ok", ok);
	}
	munmap(m, c.mmap_bytes);
	close(sfd);

	/* kill -9 in the middle of I/O */
	{
		pid_t pid = fork();
		int st2;

		if (pid == 0)
			io_forever(ctl);
		usleep(kv_is_cxl() ? 1500000 : 500000);
		kv_stats(ctl, CXL_KV_GLOBAL_STATS, &st);
		kill(pid, SIGKILL);
		waitpid(pid, &st2, 0);
		T("kill9_during_io", WIFSIGNALED(st2) && WTERMSIG(st2) == SIGKILL, "status %x", st2);
	}
	kv_info(ctl, &info);
	T("no_leak_after_kill", info.nr_spaces == 0 && info.warm_pages == 0 &&
	  info.cold_used == 0, "spaces %u warm %llu cold %llu", info.nr_spaces,
	  (unsigned long long)info.warm_pages, (unsigned long long)info.cold_used);

	/* unload: refused while a space fd is open, fine after */
	{
		struct cxl_kv_space_create c2;
		int fd = make_space(ctl, &c2);

		close(ctl);
		ret = system("rmmod cxl_kv 2>/dev/null");
		T("unload_refused_with_space_open", fd >= 0 && ret != 0 &&
		  access("/dev/cxl_kv", F_OK) == 0, "fd %d rmmod %d", fd, ret);
		close(fd);
	}
	/* attached but idle: module exit detaches */
	ret = system("rmmod cxl_kv");
	T("unload_with_tiers_attached", ret == 0 && access("/dev/cxl_kv", F_OK) != 0,
	  "rmmod %d", ret);
	busy1 = kv_node_busy_kb(kv_warm_node());
	slab1 = kv_meminfo("/proc/meminfo", "SUnreclaim");
	ktap_diag("warm node busy %ld -> %ld kB, SUnreclaim %ld -> %ld kB", busy0, busy1,
		  slab0, slab1);
	T("leak_warm_node", busy1 - busy0 < 512, "%ld kB more", busy1 - busy0);
	T("leak_slab", slab1 - slab0 < 2048, "%ld kB more", slab1 - slab0);
	ret = system("modprobe cxl_kv");
	T("reload", ret == 0 && access("/dev/cxl_kv", F_OK) == 0, "modprobe %d", ret);
	{
		int c3 = kv_open_ctl();

		ret = kv_info(c3, &info);
		T("reload_clean_state", c3 >= 0 && ret == 0 && !info.attached, "-");
		if (c3 >= 0)
			close(c3);
	}
	return ktap_finish();
}
