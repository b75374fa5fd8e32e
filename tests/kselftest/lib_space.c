// SPDX-License-Identifier: GPL-2.0
/*
 * lib_space - libcxl_kv spaces: create (and geometry refusals), layout equal
 * to the module's, map/unmap, cxl_kv_kv_ptr() addressing every (layer,
 * head, K|V) stream, accessors, from_fd, open_pid, list_spaces, a child
 * sharing a prefix (cxl_kv_space_share), close.
 */
#include <fcntl.h>
#include <stdlib.h>

#include "lib_util.h"

int main(void)
{
	struct cxl_kv_geometry g = { 4, 2, 128, 2, 100 }, bad = { 4, 2, 96, 2, 100 };
	struct cxl_kv_space *s = NULL, *s2 = NULL, *s3 = NULL;
	struct cxl_kv_space_ref refs[16];
	const struct cxl_kv_layout *lo;
	struct cxl_kv_space_info si;
	struct cxl_kv_layout mine;
	struct cxl_kv_ctx *ctx;
	const char *why = lib_unavailable();
	unsigned char *base = NULL;
	void *addr = NULL;
	int rc, n, found = 0, ok;

	if (why)
		return ktap_skip_all(why);
	ctx = lib_ctx();
	if (!ctx)
		return ktap_skip_all("cxl_kv_new failed");
	if (lib_attach(ctx, 1024, 32ULL << 20))
		return ktap_skip_all("attach failed");
	ktap_plan(17);

	rc = cxl_kv_space_create(ctx, &bad, &s);
	T("create_bad_geometry", rc == -EINVAL && !s, "rc %d", rc);
	rc = cxl_kv_space_create(ctx, &g, &s);
	T("create", rc == 0 && s, "rc %d", rc);
	if (rc) {
		cxl_kv_detach(ctx);
		cxl_kv_unref(ctx);
		return ktap_finish();
	}
	lo = cxl_kv_space_get_layout(s);
	cxl_kv_layout_init(&mine, &g, 4096);
	T("layout_matches_module", lo && !memcmp(lo, &mine, sizeof(mine)) &&
	  lo->tokens_per_block == 16 && lo->blocks_per_stream == 7,
	  "mmap %llu", lo ? (unsigned long long)lo->mmap_bytes : 0);
	rc = cxl_kv_space_get_info(s, &si);
	T("get_info", !rc && si.layers == 4 && si.kv_heads == 2 &&
	  si.mmap_bytes == lo->mmap_bytes && si.id, "rc %d", rc);
	T("accessors", cxl_kv_space_get_fd(s) >= 0 && cxl_kv_space_get_ctx(s) == ctx &&
	  !cxl_kv_space_get_addr(s) && !cxl_kv_kv_ptr(s, 0, 0, 0, 0), "-");
	rc = cxl_kv_space_map(s, &addr);
	base = addr;
	T("map", !rc && addr && cxl_kv_space_get_addr(s) == addr, "rc %d", rc);

	/* write every token vector through kv_ptr, check the UAPI offsets */
	ok = !rc;
	for (uint32_t l = 0; ok && l < g.layers; l++)
		for (uint32_t h = 0; h < g.kv_heads; h++)
			for (unsigned int k = 0; k < 2; k++)
				for (uint64_t t = 0; t < g.max_tokens; t++) {
					unsigned char *p = cxl_kv_kv_ptr(s, l, h, k, t);
					uint64_t sidx = ((uint64_t)l * g.kv_heads + h) * 2 + k;

					if (p != base + sidx * lo->stream_bytes +
						 t * lo->token_bytes) {
						ok = 0;
						break;
					}
					memset(p, (int)(l * 31 + h * 7 + k * 3 + t), 256);
				}
	T("kv_ptr_offsets", ok, "-");
	ok = 1;
	for (uint32_t l = 0; l < g.layers; l++)
		for (uint32_t h = 0; h < g.kv_heads; h++)
			for (unsigned int k = 0; k < 2; k++)
				for (uint64_t t = 0; t < g.max_tokens; t++) {
					unsigned char *p = cxl_kv_kv_ptr(s, l, h, k, t);
					unsigned char want = (unsigned char)(l * 31 + h * 7 + k * 3 + t);

					for (int b = 0; b < 256; b++)
						ok &= p[b] == want;
				}
	T("kv_ptr_data", ok && !cxl_kv_kv_ptr(s, 4, 0, 0, 0) &&
	  !cxl_kv_kv_ptr(s, 0, 0, 0, 100), "-");

	{
		uint64_t off = 0, first = 0, cnt = 0;
		uint32_t blk = 0;

		T("layout_helpers", !cxl_kv_layout_offset(lo, 3, 1, 1, 99, &off) &&
		  base + off == (unsigned char *)cxl_kv_kv_ptr(s, 3, 1, 1, 99) &&
		  !cxl_kv_layout_block(lo, 99, &blk) && blk == 6 &&
		  !cxl_kv_layout_block_tokens(lo, 6, &first, &cnt) && first == 96 &&
		  cnt == 4, "off %llu blk %u first %llu cnt %llu",
		  (unsigned long long)off, blk, (unsigned long long)first,
		  (unsigned long long)cnt);
	}
	n = cxl_kv_list_spaces(ctx, refs, 16);
	for (int i = 0; i < n && i < 16; i++)
		found |= refs[i].pid == getpid() &&
			 refs[i].fd == cxl_kv_space_get_fd(s);
	T("list_spaces", n >= 1 && found, "n %d", n);

	rc = cxl_kv_space_open_pid(ctx, getpid(), cxl_kv_space_get_fd(s), &s2);
	T("open_pid", !rc && s2 && cxl_kv_space_get_layout(s2)->mmap_bytes ==
	  lo->mmap_bytes, "rc %d", rc);
	if (s2 && !cxl_kv_space_map(s2, &addr))
		T("shared_data", ((unsigned char *)addr)[lo->stream_bytes] ==
		  base[lo->stream_bytes], "-");
	else
		T("shared_data", 0, "map of the second handle failed");
	rc = cxl_kv_space_from_fd(ctx, dup(cxl_kv_space_get_fd(s)), &s3);
	T("from_fd", !rc && s3, "rc %d", rc);
	cxl_kv_space_close(s3);
	cxl_kv_space_close(s2);

	/* a child sharing the first 32 tokens (2 blocks of every stream) */
	{
		struct cxl_kv_space *c = NULL, *gc = NULL;
		void *caddr = NULL;
		int rc2 = -1, rc3;

		rc = cxl_kv_space_share(s, 32, &c);
		if (!rc)
			rc2 = cxl_kv_space_share(c, 32, &gc);
		rc3 = cxl_kv_space_share(s, 15, &gc);
		ok = !rc && c && !cxl_kv_space_map(c, &caddr) &&
		     !memcmp(caddr, base, 8192) &&
		     !memcmp((char *)caddr + lo->stream_bytes,
			     base + lo->stream_bytes, 8192);
		T("share_child", ok && rc2 == -EINVAL && rc3 == -EINVAL && !gc,
		  "rc %d, grandchild %d, 15 tokens %d", rc, rc2, rc3);
		cxl_kv_space_close(c);
	}

	rc = cxl_kv_space_unmap(s);
	T("unmap", !rc && !cxl_kv_space_get_addr(s), "rc %d", rc);
	cxl_kv_space_close(s);
	/* the space is gone once every handle is closed: detach succeeds */
	rc = cxl_kv_detach(ctx);
	T("close_releases_space", rc == 0, "detach rc %d", rc);
	rc = cxl_kv_space_create(ctx, &g, &s);
	T("create_detached_enodev", rc == -ENODEV, "rc %d", rc);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
