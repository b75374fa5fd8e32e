// SPDX-License-Identifier: GPL-2.0
/*
 * kv_geom - the geometry table of tests/geom_cases.h (the host test's) fed
 * to the module and the library: SPACE_CREATE through the ioctl, the
 * library's cxl_kv_space_create() and cxl_kv_layout_init() each give the
 * row's errno, and for a valid row the same layout (the module's out
 * fields equal the library's, and the page count is the table's).
 * Rows with a page size other than the machine's go to
 * cxl_kv_layout_init() only.
 */
#include "kv_test.h"
#include "libcxl_kv.h"
#include "../geom_cases.h"

#define T(name, cond, ...) ktap_result(KTAP_CHECK(cond, __VA_ARGS__), name)

static void geom_of(const struct geom_case *gc, struct cxl_kv_geometry *g)
{
	g->layers = gc->layers;
	g->kv_heads = gc->kv_heads;
	g->head_dim = gc->head_dim;
	g->dtype_bytes = gc->dtype_bytes;
	g->max_tokens = gc->max_tokens;
}

/* SPACE_CREATE through the ioctl: errno, and the layout of a valid row. */
static void by_ioctl(int ctl, const struct geom_case *gc, uint32_t page)
{
	struct cxl_kv_space_create c;
	struct cxl_kv_geometry g;
	struct cxl_kv_layout lo;
	char name[96];
	int ret, same = 1;

	memset(&c, 0, sizeof(c));
	c.layers = gc->layers;
	c.kv_heads = gc->kv_heads;
	c.head_dim = gc->head_dim;
	c.dtype_bytes = gc->dtype_bytes;
	c.max_tokens = gc->max_tokens;
	c.flags = CXL_KV_SPACE_F_CLOEXEC;
	ret = kv_space(ctl, &c);
	if (ret >= 0) {
		close(ret);
		ret = 0;
		geom_of(gc, &g);
		same = !cxl_kv_layout_init(&lo, &g, page) &&
		       lo.token_bytes == c.token_bytes &&
		       lo.tokens_per_block == c.tokens_per_block &&
		       lo.blocks_per_stream == c.blocks_per_stream &&
		       lo.stream_bytes == c.stream_bytes &&
		       lo.mmap_bytes == c.mmap_bytes &&
		       c.mmap_bytes / page == gc->pages;
	}
	snprintf(name, sizeof(name), "ioctl_%s", gc->name);
	T(name, ret == gc->err && same,
	  "SPACE_CREATE %d, expected %d; layout %s (%llu pages, table %llu)",
	  ret, gc->err, same ? "same" : "differs",
	  (unsigned long long)(c.mmap_bytes / page),
	  (unsigned long long)gc->pages);
}

/* The library's create: cxl_kv_layout_init(), then SPACE_CREATE. */
static void by_lib_create(struct cxl_kv_ctx *ctx, const struct geom_case *gc)
{
	struct cxl_kv_geometry g;
	struct cxl_kv_space *s = NULL;
	char name[96];
	int rc;

	geom_of(gc, &g);
	rc = cxl_kv_space_create(ctx, &g, &s);
	if (!rc)
		cxl_kv_space_close(s);
	snprintf(name, sizeof(name), "lib_create_%s", gc->name);
	T(name, rc == gc->err, "cxl_kv_space_create %d, expected %d", rc,
	  gc->err);
}

static void by_layout_init(const struct geom_case *gc, uint32_t page)
{
	struct cxl_kv_geometry g;
	struct cxl_kv_layout lo;
	char name[96];
	int rc;

	geom_of(gc, &g);
	rc = cxl_kv_layout_init(&lo, &g, gc->page ? gc->page : page);
	snprintf(name, sizeof(name), "layout_init_%s", gc->name);
	T(name, rc == gc->err && (rc || lo.mmap_bytes / lo.page_size == gc->pages),
	  "cxl_kv_layout_init %d, expected %d", rc, gc->err);
}

int main(void)
{
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	unsigned int nr_ioctl = 0;
	struct cxl_kv_ctx *ctx;
	size_t i;
	int ctl, ret;

	ctl = kv_open_ctl();
	if (ctl < 0)
		return ktap_skip_all("no /dev/cxl_kv");
	if (cxl_kv_new(&ctx))
		return ktap_skip_all("cxl_kv_new failed");
	for (i = 0; i < GEOM_NR_CASES; i++)
		nr_ioctl += !geom_cases[i].page;
	ktap_plan(1 + 2 * nr_ioctl + GEOM_NR_CASES);
	kv_detach_quiet(ctl);
	ret = kv_attach(ctl, 1024, 1, 64 << 20);
	T("attach", ret == 0, "ATTACH %d", ret);
	ktap_diag("page size %u, %zu geometries, %u sent to the module", page,
		  GEOM_NR_CASES, nr_ioctl);
	for (i = 0; i < GEOM_NR_CASES; i++) {
		if (geom_cases[i].page)
			continue;
		by_ioctl(ctl, &geom_cases[i], page);
		by_lib_create(ctx, &geom_cases[i]);
	}
	for (i = 0; i < GEOM_NR_CASES; i++)
		by_layout_init(&geom_cases[i], page);
	kv_detach_quiet(ctl);
	cxl_kv_unref(ctx);
	close(ctl);
	return ktap_finish();
}
