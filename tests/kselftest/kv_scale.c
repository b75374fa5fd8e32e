// SPDX-License-Identifier: GPL-2.0
/*
 * kv_scale - the seed's scale (issue 15, item 2).
 *
 * llama70b: one space of Llama-70B's geometry (80 layers x 8 KV heads x 128
 *	dims, fp16) at 128K tokens: 40 GiB of KV, 10 Mi pages, over the old
 *	2^22-page cap (-E2BIG before).  The module's metadata for it (driver
 *	entries + policy state) is measured as the growth of VmallocUsed + Slab
 *	across SPACE_CREATE and must be at most 0.5 % of the KV bytes; it must
 *	all go again at close.  Written sparsely (3 blocks of every one of the
 *	640 (layer, head) streams, K and V), DEMOTEd whole (one command, 640
 *	ranges, 5 Mi blocks), read back through faults, DEMOTEd again (clean:
 *	no I/O), PROMOTEd whole and read again; unwritten pages read zero.
 * scenario: the 468 GB case at reduced scale: 8 sequences of the same
 *	geometry (16K tokens each, 5 GiB, 40 GiB of address space in all)
 *	against one tier set whose warm budget (2 MiB) is a fifth of what
 *	they write (a page of K and of V per stream of every 4th layer:
 *	10 MiB in all), in turn,
 *	a layer at a time: the worker demotes across the spaces while they
 *	write.  Then each sequence in turn is PROMOTEd whole (pushing the
 *	others out) and every byte of it checked.  The metadata of the 8 is
 *	reported.
 * big_cold: ATTACH of cold devices of 16 TiB and 64 TiB (dm: linear over
 *	the whole second NVMe, an error target for the rest).  The tier set
 *	addresses 2^32 - 2 slots; the slot map must cost at most 4 MiB
 *	(a flat bitmap was 512 MiB).  Then 34816 pages, more than one slot
 *	chunk (2^15), are demoted into it and read back, rewritten in part and
 *	demoted again (freed slots reused), and close gives every slot back
 *	(read back a window at a time, PROMOTEd first: a fault per page took
 *	minutes over the fabric).
 *
 * Prints "scale-metadata: bytes_per_page=B pct=P total_mib=M" for the 40 GiB
 * space.  Arguments: the parts to run (llama70b, scenario, big_cold; default
 * all).
 */
#include "kv_test.h"
#include "kv_dm.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

#define L70_LAYERS	80
#define L70_HEADS	8
#define L70_DIM		128
#define L70_TOKENS	(128ULL * 1024)
#define L70_BPH		(L70_TOKENS / 16)	/* 16 tokens of 256 bytes a page */
#define L70_PAGES	(2ULL * L70_LAYERS * L70_HEADS * L70_BPH)
#define NSTREAMS	(L70_LAYERS * L70_HEADS)
#define SPARSE		3			/* blocks written per stream */

#define SC_SPACES	8
#define SC_TOKENS	(16ULL * 1024)
#define SC_BLOCKS	1			/* written per stream */
#define SC_LSTEP	4			/* of every 4th layer */
#define SC_BUDGET	512			/* pages: 2 MiB */

#define BIG_PAGES	34816ULL		/* > KV_SLOT_CHUNK (32768) */

/* Kernel memory that grows with module metadata: vmalloc + slab, in kB. */
static long kmem_kb(void)
{
	return kv_meminfo("/proc/meminfo", "VmallocUsed") +
	       kv_meminfo("/proc/meminfo", "Slab");
}

static uint64_t l70_pg(uint64_t bph, uint32_t layer, uint32_t head, int kv,
		       uint64_t blk)
{
	return ((uint64_t)(layer * L70_HEADS + head) * 2 + kv) * bph + blk;
}

/* The sparse blocks of stream (@layer, @head): first, one inside, last. */
static uint64_t sparse_blk(uint64_t bph, uint32_t q, int i)
{
	if (i == 0)
		return 0;
	if (i == 1)
		return bph / 2 + q % 61;
	return bph - 1;
}

/* Every sparse page of a space: @fill writes the pattern, else checks it. */
static int sparse_pages(char *m, uint64_t bph, int blocks, uint64_t seed,
			int fill)
{
	int bad = 0;

	for (uint32_t l = 0; l < L70_LAYERS; l++)
		for (uint32_t h = 0; h < L70_HEADS; h++)
			for (int i = 0; i < blocks; i++)
				for (int kv = 0; kv < 2; kv++) {
					uint64_t b = sparse_blk(bph, l * L70_HEADS + h, i);
					uint64_t pg = l70_pg(bph, l, h, kv, b);
					volatile uint64_t *p =
						(volatile uint64_t *)(m + pg * KV_PAGE);

					if (fill)
						kv_fill(p, seed, pg);
					else
						bad += kv_probe((char *)p) ||
						       kv_check(p, seed, pg);
				}
	return bad;
}

/* One command over every block of a space with @bph blocks per stream. */
static int whole(int fd, unsigned long cmd, uint64_t bph, uint64_t *done)
{
	static struct cxl_kv_range rg[NSTREAMS];
	struct cxl_kv_ranges q = { .ranges = (uintptr_t)rg, .count = NSTREAMS };
	int ret;

	for (uint32_t i = 0; i < NSTREAMS; i++) {
		rg[i].layer = i / L70_HEADS;
		rg[i].head = i % L70_HEADS;
		rg[i].first_block = 0;
		rg[i].nr_blocks = bph;
	}
	ret = kv_ioctl(fd, cmd, &q);
	*done = q.done;
	return ret;
}

static void test_llama70b(int ctl)
{
	const uint64_t written = (uint64_t)NSTREAMS * SPARSE * 2;
	struct cxl_kv_space_create c;
	struct cxl_kv_stats st;
	struct cxl_kv_info in;
	long k0, k1, k2;
	uint64_t done = 0;
	double bpp = 0, pct = 100, t0;
	int fd, ret, bad;
	char *m;

	ret = kv_attach(ctl, 8192, 1, 0);
	T("l70_attach", !ret, "attach %d", ret);
	if (ret) {
		for (int i = 0; i < 8; i++)
			ktap_skip("l70_case", "no tier set");
		return;
	}
	kv_geom(&c, L70_LAYERS, L70_HEADS, L70_DIM, L70_TOKENS);
	k0 = kmem_kb();
	t0 = kv_now();
	fd = kv_space(ctl, &c);
	k1 = kmem_kb();
	T("l70_create", fd >= 0 && c.mmap_bytes == L70_PAGES * KV_PAGE &&
	  c.blocks_per_stream == L70_BPH,
	  "space %d mmap_bytes %llu (want %llu, 40 GiB)", fd,
	  (unsigned long long)c.mmap_bytes,
	  (unsigned long long)(L70_PAGES * KV_PAGE));
	if (fd < 0) {
		for (int i = 0; i < 7; i++)
			ktap_skip("l70_case", "no space");
		kv_detach_quiet(ctl);
		return;
	}
	bpp = (double)(k1 - k0) * 1024 / L70_PAGES;
	pct = bpp * 100 / KV_PAGE;
	ktap_diag("SPACE_CREATE of 40 GiB took %.2f s", kv_now() - t0);
	printf("scale-metadata: bytes_per_page=%.2f pct=%.3f total_mib=%.1f\n",
	       bpp, pct, (k1 - k0) / 1024.0);
	T("l70_metadata_le_0.5pct", pct <= 0.5 && k1 > k0,
	  "%.2f bytes/page = %.3f %% of the KV (%ld kB)", bpp, pct, k1 - k0);

	m = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		T("l70_mmap", 0, "mmap: %d", errno);
		for (int i = 0; i < 4; i++)
			ktap_skip("l70_case", "no mapping");
		goto out_close;
	}
	sparse_pages(m, L70_BPH, SPARSE, 70, 1);
	t0 = kv_now();
	ret = whole(fd, CXL_KV_DEMOTE, L70_BPH, &done);
	/*
	 * Pages the demotion worker was writing when DEMOTE came are its own
	 * (KV_WB): DEMOTE passes them and they turn cold when their writes
	 * complete, which on a slow cold device (NVMe/TCP) may be later.
	 */
	for (int i = 0; i < 300; i++) {
		kv_info(ctl, &in);
		if (in.cold_used >= written)
			break;
		/* one it passed may have stayed warm: its turn is now */
		if (i == 50)
			ret = ret ?: whole(fd, CXL_KV_DEMOTE, L70_BPH, &done);
		usleep(100000);
	}
	T("l70_demote_whole", !ret && in.cold_used == written,
	  "DEMOTE of 5 Mi blocks %d done %llu in %.2f s, cold used %llu (want %llu)",
	  ret, (unsigned long long)done, kv_now() - t0,
	  (unsigned long long)in.cold_used, (unsigned long long)written);
	t0 = kv_now();
	bad = sparse_pages(m, L70_BPH, SPARSE, 70, 0);
	ktap_diag("%llu cold pages read back by faults in %.1f s",
		  (unsigned long long)written, kv_now() - t0);
	kv_stats(fd, CXL_KV_SPACE_STATS, &st);
	T("l70_read_back", !bad && st.promotions >= written,
	  "%d bad of %llu pages, %llu promotions", bad,
	  (unsigned long long)written, (unsigned long long)st.promotions);
	/* clean pages with valid slots: dropped without I/O */
	ret = whole(fd, CXL_KV_DEMOTE, L70_BPH, &done);
	kv_stats(fd, CXL_KV_SPACE_STATS, &st);
	T("l70_demote_clean", !ret && st.cold_pages == written,
	  "DEMOTE %d, %llu cold pages, %llu clean drops", ret,
	  (unsigned long long)st.cold_pages,
	  (unsigned long long)st.clean_drops);
	t0 = kv_now();
	ret = whole(fd, CXL_KV_PROMOTE, L70_BPH, &done);
	kv_stats(fd, CXL_KV_SPACE_STATS, &st);
	T("l70_promote_whole", !ret && st.warm_pages == written &&
	  !st.cold_pages, "PROMOTE %d done %llu in %.2f s, warm %llu cold %llu",
	  ret, (unsigned long long)done, kv_now() - t0,
	  (unsigned long long)st.warm_pages, (unsigned long long)st.cold_pages);
	bad = sparse_pages(m, L70_BPH, SPARSE, 70, 0);
	/* pages never written read zero: one in the middle of each layer */
	for (uint32_t l = 0; l < L70_LAYERS; l++) {
		uint64_t pg = l70_pg(L70_BPH, l, 3, 1, L70_BPH / 4);

		bad += *(volatile uint64_t *)(m + pg * KV_PAGE) != 0;
	}
	T("l70_read_after_promote", !bad, "%d bad pages", bad);
	munmap(m, c.mmap_bytes);
out_close:
	close(fd);
	k2 = kmem_kb();
	/* the entries and the policy state go with the space */
	T("l70_metadata_freed", k2 - k0 < 4096,
	  "VmallocUsed + Slab %ld kB over the start after close", k2 - k0);
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	if (ret)
		ktap_diag("detach %d", ret);
}

static void test_scenario(int ctl)
{
	const uint64_t per = (uint64_t)NSTREAMS / SC_LSTEP * SC_BLOCKS * 2;
	const uint64_t bph = SC_TOKENS / 16;
	struct cxl_kv_space_create c;
	struct cxl_kv_stats st;
	struct cxl_kv_info in;
	int fd[SC_SPACES], ret, bad = 0, made = 0;
	char *m[SC_SPACES];
	uint64_t demoted = 0, coldf = 0;
	long k0, k1;
	double t0;

	ret = kv_attach(ctl, SC_BUDGET, 1, 0);
	T("sc_attach", !ret, "attach %d", ret);
	if (ret) {
		for (int i = 0; i < 3; i++)
			ktap_skip("sc_case", "no tier set");
		return;
	}
	k0 = kmem_kb();
	for (int s = 0; s < SC_SPACES; s++) {
		kv_geom(&c, L70_LAYERS, L70_HEADS, L70_DIM, SC_TOKENS);
		fd[s] = kv_space(ctl, &c);
		m[s] = MAP_FAILED;
		if (fd[s] >= 0)
			m[s] = mmap(NULL, c.mmap_bytes, PROT_READ | PROT_WRITE,
				    MAP_SHARED, fd[s], 0);
		made += m[s] != MAP_FAILED;
	}
	k1 = kmem_kb();
	ktap_diag("8 spaces of 5 GiB: %ld kB of metadata, %.2f bytes/page",
		  k1 - k0, (double)(k1 - k0) * 1024 / (SC_SPACES * c.mmap_bytes / KV_PAGE));
	T("sc_spaces", made == SC_SPACES, "%d of %d spaces mapped", made,
	  SC_SPACES);
	t0 = kv_now();
	/* the sequences write in turn, a layer each, as decode steps would */
	for (uint32_t l = 0; l < L70_LAYERS && made == SC_SPACES; l += SC_LSTEP)
		for (int s = 0; s < SC_SPACES; s++)
			for (uint32_t h = 0; h < L70_HEADS; h++)
				for (int i = 0; i < SC_BLOCKS; i++)
					for (int kv = 0; kv < 2; kv++) {
						uint64_t b = sparse_blk(bph, l * L70_HEADS + h, i + 1);
						uint64_t pg = l70_pg(bph, l, h, kv, b);

						kv_fill((volatile uint64_t *)(m[s] + pg * KV_PAGE),
							100 + s, pg);
					}
	/*
	 * Read back a sequence at a time, each PROMOTEd whole first (batched
	 * reads; it pushes the others' pages out through the worker).
	 */
	for (int s = 0; s < SC_SPACES && made == SC_SPACES; s++) {
		uint64_t done;

		ret = whole(fd[s], CXL_KV_PROMOTE, bph, &done);
		if (ret)
			ktap_diag("PROMOTE of sequence %d: %d", s, ret);
		for (uint32_t l = 0; l < L70_LAYERS; l += SC_LSTEP)
			for (uint32_t h = 0; h < L70_HEADS; h++)
				for (int i = 0; i < SC_BLOCKS; i++)
					for (int kv = 0; kv < 2; kv++) {
						uint64_t b = sparse_blk(bph, l * L70_HEADS + h, i + 1);
						uint64_t pg = l70_pg(bph, l, h, kv, b);
						volatile uint64_t *p =
							(volatile uint64_t *)(m[s] + pg * KV_PAGE);

						bad += kv_probe((char *)p) ||
						       kv_check(p, 100 + s, pg);
					}
	}
	for (int s = 0; s < SC_SPACES; s++) {
		if (fd[s] < 0)
			continue;
		kv_stats(fd[s], CXL_KV_SPACE_STATS, &st);
		demoted += st.demotions;
		coldf += st.faults_cold;
	}
	kv_info(ctl, &in);
	ktap_diag("8 x %llu pages written and read in %.1f s: %llu demotions, %llu cold faults, warm %llu cold used %llu",
		  (unsigned long long)per, kv_now() - t0,
		  (unsigned long long)demoted, (unsigned long long)coldf,
		  (unsigned long long)in.warm_pages,
		  (unsigned long long)in.cold_used);
	/* 8 x 320 pages through a 512-page budget: most went cold */
	T("sc_every_byte", made == SC_SPACES && !bad &&
	  demoted >= SC_SPACES * per - SC_BUDGET,
	  "%d bad pages, %llu demotions", bad, (unsigned long long)demoted);
	for (int s = 0; s < SC_SPACES; s++) {
		if (m[s] != MAP_FAILED)
			munmap(m[s], c.mmap_bytes);
		if (fd[s] >= 0)
			close(fd[s]);
	}
	kv_info(ctl, &in);
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	T("sc_clean_end", !ret && !in.cold_used, "detach %d, cold used %llu",
	  ret, (unsigned long long)in.cold_used);
}

/* A dm device of @tib TiB whose first 256 MiB are the second NVMe. */
static int big_dev(struct kv_dm *d, const char *name, uint64_t tib)
{
	char devt[32];
	int ret;

	if (kv_dm_open(d, name, (tib << 40) >> 9) ||
	    kv_devt(kv_nvme2(), devt, sizeof(devt)))
		return -ENODEV;
	kv_dm_remove(d);
	ret = kv_dm_simple(d, DM_DEV_CREATE, 0, NULL);
	if (!ret)
		ret = kv_dm_load_two(d, devt, (256ULL << 20) >> 9);
	if (!ret)
		ret = kv_dm_simple(d, DM_DEV_SUSPEND, 0, NULL);
	if (!ret)
		ret = kv_dm_simple(d, DM_DEV_STATUS, 0, &d->dev);
	if (!ret) {
		snprintf(d->path, sizeof(d->path), "/tmp/%s", name);
		unlink(d->path);
		if (mknod(d->path, S_IFBLK | 0600, d->dev))
			ret = -errno;
	}
	return ret;
}

static void big_dev_put(struct kv_dm *d)
{
	kv_dm_remove(d);
	unlink(d->path);
	if (d->ctl >= 0)
		close(d->ctl);
	d->ctl = -1;
}

static int attach_dev(int ctl, const char *path, uint64_t budget)
{
	struct cxl_kv_attach a;

	kv_attach_req(&a, budget, 1, 0);
	a.cold[0].path = (uintptr_t)path;
	return kv_ioctl(ctl, CXL_KV_ATTACH, &a);
}

#define BIG_WIN		2048ULL		/* blocks: 4096 pages, half the budget */

/*
 * Every page of the big space (1 x 1, @bph blocks), a window of BIG_WIN
 * blocks at a time PROMOTEd first (batched reads, not a fault each):
 * @rewrite writes seed 17 to the even pages, else each page is checked
 * against seed 16, or 17 for the even ones once @phase is 1.
 */
static int big_pass(int fd, char *m, uint64_t bph, int phase, int rewrite)
{
	int bad = 0, ret;

	for (uint64_t w = 0; w < bph; w += BIG_WIN) {
		uint32_t n = (uint32_t)(bph - w < BIG_WIN ? bph - w : BIG_WIN);

		ret = kv_ranges(fd, CXL_KV_PROMOTE, 0, 0, (uint32_t)w, n, NULL);
		if (ret)
			ktap_diag("PROMOTE of blocks %llu+%u: %d (faults read them)",
				  (unsigned long long)w, n, ret);
		for (int kv = 0; kv < 2; kv++)
			for (uint64_t b = w; b < w + n; b++) {
				uint64_t pg = kv * bph + b;
				volatile uint64_t *p =
					(volatile uint64_t *)(m + pg * KV_PAGE);

				if (rewrite) {
					if (!(pg & 1))
						kv_fill(p, 17, pg);
					continue;
				}
				bad += kv_probe((char *)p) ||
				       kv_check(p, phase && !(pg & 1) ? 17 : 16, pg);
			}
	}
	return bad;
}

static void test_big_cold(int ctl)
{
	const uint64_t most = (1ULL << 32) - 2;
	struct cxl_kv_space_create c;
	struct cxl_kv_info in;
	struct kv_dm d;
	uint64_t done = 0;
	long k0, k1;
	int ret, fd, bad;
	double t0;
	char *m;

	/* 64 TiB: attached, the slots capped; then 16 TiB, kept */
	for (int i = 0; i < 2; i++) {
		uint64_t tib = i ? 16 : 64;
		char name[32];

		snprintf(name, sizeof(name), "cxlkv-%llutib",
			 (unsigned long long)tib);
		ret = big_dev(&d, name, tib);
		if (ret) {
			T(i ? "attach_16tib" : "attach_64tib", 0,
			  "dm device of %llu TiB: %d", (unsigned long long)tib,
			  ret);
			big_dev_put(&d);
			continue;
		}
		k0 = kmem_kb();
		ret = attach_dev(ctl, d.path, 8192);
		k1 = kmem_kb();
		kv_info(ctl, &in);
		T(i ? "attach_16tib" : "attach_64tib",
		  !ret && in.cold_slots == most && k1 - k0 < 4096,
		  "%llu TiB: attach %d, %llu slots (want %llu), slot map %ld kB",
		  (unsigned long long)tib, ret,
		  (unsigned long long)in.cold_slots, (unsigned long long)most,
		  k1 - k0);
		ktap_diag("ATTACH of %llu TiB: %llu slots, +%ld kB of vmalloc + slab",
			  (unsigned long long)tib,
			  (unsigned long long)in.cold_slots, k1 - k0);
		if (i == 1)
			break;
		if (!ret)
			kv_detach_quiet(ctl);
		big_dev_put(&d);
	}
	if (ret) {
		for (int i = 0; i < 4; i++)
			ktap_skip("big_cold_case", "no big device attached");
		big_dev_put(&d);
		return;
	}
	/* the 16 TiB tier set: more than one slot chunk used */
	kv_geom(&c, 1, 1, 2048, BIG_PAGES / 2);
	fd = kv_space(ctl, &c);
	m = fd < 0 ? MAP_FAILED : mmap(NULL, c.mmap_bytes,
				       PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		T("big_cold_space", 0, "space %d", fd);
		for (int i = 0; i < 3; i++)
			ktap_skip("big_cold_case", "no space");
		goto out;
	}
	t0 = kv_now();
	for (uint64_t pg = 0; pg < BIG_PAGES; pg++)
		kv_fill((volatile uint64_t *)(m + pg * KV_PAGE), 16, pg);
	ret = kv_ranges(fd, CXL_KV_DEMOTE, 0, 0, 0, BIG_PAGES / 2, &done);
	kv_info(ctl, &in);
	T("big_cold_space", !ret && in.cold_used == BIG_PAGES,
	  "DEMOTE %d done %llu, cold used %llu", ret,
	  (unsigned long long)done, (unsigned long long)in.cold_used);
	ktap_diag("%llu pages written and demoted in %.1f s",
		  (unsigned long long)BIG_PAGES, kv_now() - t0);
	t0 = kv_now();
	bad = big_pass(fd, m, BIG_PAGES / 2, 0, 0);
	T("big_cold_read_back", !bad, "%d bad pages of %llu", bad,
	  (unsigned long long)BIG_PAGES);
	ktap_diag("read back in %.1f s", kv_now() - t0);
	/* every other page rewritten (its slot freed), all demoted again */
	t0 = kv_now();
	big_pass(fd, m, BIG_PAGES / 2, 0, 1);
	ret = kv_ranges(fd, CXL_KV_DEMOTE, 0, 0, 0, BIG_PAGES / 2, &done);
	bad = big_pass(fd, m, BIG_PAGES / 2, 1, 0);
	kv_info(ctl, &in);
	T("big_cold_rewrite", !ret && !bad, "DEMOTE %d, %d bad pages, cold used %llu",
	  ret, bad, (unsigned long long)in.cold_used);
	ktap_diag("rewritten, demoted and read back in %.1f s", kv_now() - t0);
	munmap(m, c.mmap_bytes);
out:
	if (fd >= 0)
		close(fd);
	kv_info(ctl, &in);
	ret = kv_ioctl(ctl, CXL_KV_DETACH, &(struct cxl_kv_detach){ 0 });
	T("big_cold_detach", !ret && !in.cold_used, "detach %d, cold used %llu",
	  ret, (unsigned long long)in.cold_used);
	big_dev_put(&d);
}

static int want(int argc, char **argv, const char *part)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], part))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int ctl, l70 = want(argc, argv, "llama70b"),
	    sc = want(argc, argv, "scenario"), big = want(argc, argv, "big_cold");

	if (kv_preamble(&ctl))
		return ktap_skip_all("no /dev/cxl_kv or no CXLKV_WARM_NODE");
	if (!l70 && !sc && !big)
		return ktap_skip_all("usage: kv_scale [llama70b] [scenario] [big_cold]");
	ktap_plan(9 * l70 + 4 * sc + 6 * big);
	kv_detach_quiet(ctl);
	if (l70)
		test_llama70b(ctl);
	if (sc)
		test_scenario(ctl);
	if (big)
		test_big_cold(ctl);
	close(ctl);
	return ktap_finish();
}
