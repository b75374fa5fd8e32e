// SPDX-License-Identifier: GPL-2.0
/*
 * kv_detach_race - the tier set's end against a space's end, and a cold
 * device of 1 TiB.
 *
 * race: a space of 2^20 pages whose only data is in its last page is
 *	closed in one thread while another spins on DETACH.  The release
 *	walks 2^20 entries before it meets the page; the old release left the
 *	tier set's space list first, so DETACH succeeded at once and freed the
 *	slot map, the pools and the tier set under the walk (WARNING in
 *	kv_detach: warm pages left, then a use after free).  Now DETACH gets
 *	EBUSY until the release has given everything back: it succeeds only
 *	in the last part of close() (checked against close()'s duration),
 *	with no splat (the rig scans the kernel log).  Repeated ROUNDS times.
 * big_cold: ATTACH of a 1 TiB cold device (dm: linear over the first
 *	64 MiB of the NVMe, an error target for the rest): 2^28 slots, a
 *	32 MiB slot map.  The old kmalloc'ed bitmap failed with ENOMEM and a
 *	page-allocator WARNING.  Pages are demoted into it and read back.
 */
#include <pthread.h>

#include "kv_test.h"
#include "kv_dm.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define ROUNDS		4
#define RACE_PAGES	(1ULL << 20)

struct race {
	int ctl, fd;
	volatile int closing;
	double t_close0, t_close1;
};

static void *closer(void *arg)
{
	struct race *r = arg;

	r->closing = 1;
	r->t_close0 = kv_now();
	close(r->fd);
	r->t_close1 = kv_now();
	return NULL;
}

/* One round; returns 0 if DETACH waited for the release, else -1. */
static int race_round(int ctl, int round, int *busy_seen)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_detach d = { 0 };
	struct race r = { .ctl = ctl };
	double t_det = 0, frac;
	pthread_t th;
	char *m;
	int ret;

	ret = kv_attach(ctl, 1024, 1, 16 << 20);
	if (ret) {
		ktap_diag("round %d: attach %d", round, ret);
		return -1;
	}
	/* 1 layer x 1 head, 2^19 blocks: 2^20 pages. */
	kv_geom(&c, 1, 1, 64, (RACE_PAGES / 2) * 32);
	r.fd = kv_space(ctl, &c);
	if (r.fd < 0 || c.mmap_bytes / KV_PAGE != RACE_PAGES) {
		ktap_diag("round %d: space %d", round, r.fd);
		return -1;
	}
	m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
	if (m == MAP_FAILED)
		return -1;
	kv_fill((volatile uint64_t *)(m + (RACE_PAGES - 1) * KV_PAGE), 7,
		RACE_PAGES - 1);
	munmap(m, c.mmap_bytes);

	if (pthread_create(&th, NULL, closer, &r))
		return -1;
	while (!r.closing)
		;
	for (;;) {
		ret = kv_ioctl(ctl, CXL_KV_DETACH, &d);
		if (!ret) {
			t_det = kv_now();
			break;
		}
		if (ret != -EBUSY) {
			ktap_diag("round %d: DETACH %d", round, ret);
			break;
		}
		(*busy_seen)++;
	}
	pthread_join(th, NULL);
	if (ret)
		return -1;
	/* DETACH in the second half of close() at the earliest (the rest is freeing the entries). */
	frac = (t_det - r.t_close0) / (r.t_close1 - r.t_close0);
	ktap_diag("round %d: close %.1f ms, DETACH succeeded at %.2f of it",
		  round, (r.t_close1 - r.t_close0) * 1e3, frac);
	if (r.t_close1 - r.t_close0 < 2e-3)
		return 0;	/* too quick to tell; the log scan still counts */
	return frac >= 0.5 ? 0 : -1;
}

static void test_race(int ctl)
{
	int bad = 0, busy = 0;

	for (int i = 0; i < ROUNDS; i++)
		bad += !!race_round(ctl, i, &busy);
	T("detach_waits_for_release", !bad, "%d of %d rounds", bad, ROUNDS);
	T("detach_busy_while_releasing", busy > 0, "%d EBUSY", busy);
	kv_detach_quiet(ctl);
}

/* Two targets: linear over @dev's first @lin sectors, error for the rest. */
static void test_big_cold(int ctl)
{
	const uint64_t lin = (64ULL << 20) >> 9, sectors = (1ULL << 40) >> 9;
	struct cxl_kv_space_create c;
	struct cxl_kv_attach a;
	struct cxl_kv_info in;
	struct kv_dm d;
	char devt[32];
	uint64_t done = 0;
	int ret, fd = -1, bad = 0;
	char *m = MAP_FAILED;

	if (kv_dm_open(&d, "cxlkv-tib", sectors) || kv_devt(kv_nvme(), devt,
							  sizeof(devt))) {
		T("big_cold_dm", 0, "no device mapper");
		return;
	}
	kv_dm_remove(&d);
	ret = kv_dm_simple(&d, DM_DEV_CREATE, 0, NULL);
	if (!ret)
		ret = kv_dm_load_two(&d, devt, lin);
	if (!ret)
		ret = kv_dm_simple(&d, DM_DEV_SUSPEND, 0, NULL);
	if (!ret)
		ret = kv_dm_simple(&d, DM_DEV_STATUS, 0, &d.dev);
	if (!ret) {
		snprintf(d.path, sizeof(d.path), "/tmp/cxlkv-dm-tib");
		unlink(d.path);
		if (mknod(d.path, S_IFBLK | 0600, d.dev))
			ret = -errno;
	}
	T("big_cold_dm", !ret, "dm device: %d", ret);
	if (ret)
		goto out_dm;

	kv_attach_req(&a, 1024, 1, 0);
	a.cold[0].path = (uintptr_t)d.path;
	ret = kv_ioctl(ctl, CXL_KV_ATTACH, &a);
	kv_info(ctl, &in);
	T("big_cold_attach", !ret && in.cold_slots == (1ULL << 28),
	  "attach %d, %llu slots", ret, (unsigned long long)in.cold_slots);
	if (ret)
		goto out_dm;
	kv_geom(&c, 1, 1, 64, 64 * 32);
	fd = kv_space(ctl, &c);
	if (fd >= 0)
		m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
	if (m != MAP_FAILED) {
		for (uint64_t pg = 0; pg < 128; pg++)
			kv_fill_stride((volatile uint64_t *)(m + pg * KV_PAGE), 9,
				       pg, 1);
		ret = kv_ranges(fd, CXL_KV_DEMOTE, 0, 0, 0, 64, &done);
		kv_info(ctl, &in);
		T("big_cold_demote", !ret && done == 128 && in.cold_used == 128,
		  "ret %d done %llu cold used %llu", ret,
		  (unsigned long long)done, (unsigned long long)in.cold_used);
		for (uint64_t pg = 0; pg < 128; pg++)
			bad += kv_probe(m + pg * KV_PAGE) ||
			       kv_check_stride((volatile uint64_t *)(m + pg * KV_PAGE),
					       9, pg, 1);
		T("big_cold_read_back", !bad, "%d bad pages", bad);
		munmap(m, c.mmap_bytes);
	} else {
		T("big_cold_demote", 0, "space %d", fd);
		T("big_cold_read_back", 0, "-");
	}
	if (fd >= 0)
		close(fd);
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	T("big_cold_detach", !ret, "detach %d", ret);
out_dm:
	kv_dm_remove(&d);
	unlink("/tmp/cxlkv-dm-tib");
	close(d.ctl);
}

int main(void)
{
	int ctl;

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	ktap_plan(7);
	kv_detach_quiet(ctl);
	test_race(ctl);
	test_big_cold(ctl);
	close(ctl);
	return ktap_finish();
}
