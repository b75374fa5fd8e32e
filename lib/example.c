// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * example.c - the complete example of Documentation/library.rst: one layer
 * of a toy model written into a cxl-kv space, a decode step that reads it
 * back, reports attention scores and prefetches the next window, then the
 * space's counters.  Needs an attached tier set (cxl-kv attach).
 *
 *   cc example.c $(pkg-config --cflags --libs libcxl_kv) -o example
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libcxl_kv.h>

#define LAYERS 4
#define HEADS 2
#define HEAD_DIM 128		/* fp16: 256 bytes a token, 16 tokens a page */
#define TOKENS 512

int main(void)
{
	struct cxl_kv_geometry geo = {
		.layers = LAYERS, .kv_heads = HEADS, .head_dim = HEAD_DIM,
		.dtype_bytes = 2, .max_tokens = TOKENS,
	};
	struct cxl_kv_hint hints[HEADS * 2];
	const struct cxl_kv_layout *lo;
	struct cxl_kv_space *space;
	struct cxl_kv_node *node;
	struct cxl_kv_info info;
	struct cxl_kv_stats st;
	struct cxl_kv_ctx *ctx;
	uint64_t issued, resident;
	unsigned int n = 0, done;
	int rc;

	rc = cxl_kv_new(&ctx);			/* CXL_KV_LOG=debug to trace */
	if (rc)
		return 1;

	/* 1. Where is the warm tier? */
	node = cxl_kv_get_warm_node(ctx);
	if (node)
		printf("warm node %d: %llu MiB, memory tier %d, %s via %s\n",
		       cxl_kv_node_get_id(node), cxl_kv_node_get_size(node) >> 20,
		       cxl_kv_node_get_memory_tier(node),
		       cxl_kv_origin_name(cxl_kv_node_get_origin(node)),
		       cxl_kv_node_get_dax(node) ?: "-");

	/* 2. Is the module up and attached? */
	rc = cxl_kv_get_info(ctx, &info);
	if (rc || !info.attached) {
		fprintf(stderr, "example: %s\n", rc ? strerror(-rc) :
			"no tier set: run 'cxl-kv attach --cold DEV' first");
		cxl_kv_unref(ctx);
		return 1;
	}

	/* 3. A space for the KV cache, mapped into this process. */
	rc = cxl_kv_space_create(ctx, &geo, &space);
	if (rc)
		goto out;
	rc = cxl_kv_space_map(space, NULL);
	if (rc)
		goto out_space;
	lo = cxl_kv_space_get_layout(space);

	/* 4. Prefill: write K and V of every token; plain stores. */
	for (uint32_t l = 0; l < LAYERS; l++)
		for (uint32_t h = 0; h < HEADS; h++)
			for (uint64_t t = 0; t < TOKENS; t++) {
				memset(cxl_kv_kv_ptr(space, l, h, CXL_KV_K, t),
				       (int)(t & 0xff), lo->token_bytes);
				memset(cxl_kv_kv_ptr(space, l, h, CXL_KV_V, t),
				       (int)(~t & 0xff), lo->token_bytes);
			}

	/* 5. A decode step on layer 0: read two blocks per head ... */
	for (uint32_t h = 0; h < HEADS; h++) {
		for (uint32_t b = 0; b < 2; b++) {
			uint64_t t = (uint64_t)b * lo->tokens_per_block;
			const unsigned char *k = cxl_kv_kv_ptr(space, 0, h, CXL_KV_K, t);

			if (k[0] != (t & 0xff)) {
				fprintf(stderr, "example: bad K data\n");
				rc = -EIO;
				goto out_space;
			}
			/* ... and tell the module how much attention they got */
			memset(&hints[n], 0, sizeof(hints[n]));
			hints[n].layer = 0;
			hints[n].head = (uint16_t)h;
			hints[n].block = b;
			hints[n].score = b == 0 ? 0x8000 : 0x1000;	/* 0.5, 1/16 */
			n++;
		}
	}
	rc = cxl_kv_hints(space, 1, hints, n, &done);
	if (rc)
		goto out_space;

	/* 6. Ask for layer 1's window around the newest token, all heads. */
	rc = cxl_kv_prefetch(space, 1, (1ULL << HEADS) - 1, TOKENS - 1, 64,
			     CXL_KV_PREFETCH_F_WAIT, &issued, &resident);
	if (rc)
		goto out_space;

	/* 7. What happened. */
	rc = cxl_kv_space_stats(space, &st);
	if (!rc)
		printf("hints %u, prefetch issued %llu resident %llu; warm %llu "
		       "cold %llu pages, %llu promotions, %llu demotions\n", done,
		       (unsigned long long)issued, (unsigned long long)resident,
		       (unsigned long long)st.warm_pages,
		       (unsigned long long)st.cold_pages,
		       (unsigned long long)st.promotions,
		       (unsigned long long)st.demotions);
out_space:
	cxl_kv_space_close(space);
out:
	if (rc)
		fprintf(stderr, "example: %s\n", strerror(-rc));
	cxl_kv_unref(ctx);
	return rc ? 1 : 0;
}
