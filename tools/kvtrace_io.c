// SPDX-License-Identifier: GPL-2.0
/*
 * kvtrace_io.c - the .kvt file: save, load, dump as text, free
 * (format in kvtrace_gen.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvtrace_gen.h"

int kvtrace_save(const struct kvtrace *t, const char *path)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -errno;
	ok = fwrite(&t->h, sizeof(t->h), 1, f) == 1 &&
	     fwrite(t->w, 4, t->n, f) == t->n;
	if (fclose(f))
		ok = 0;
	return ok ? 0 : -EIO;
}

int kvtrace_load(const char *path, struct kvtrace *t)
{
	FILE *f = fopen(path, "rb");
	int ret = -EINVAL;

	memset(t, 0, sizeof(*t));
	if (!f)
		return -errno;
	if (fread(&t->h, sizeof(t->h), 1, f) != 1 ||
	    memcmp(t->h.magic, KVTRACE_MAGIC, 8) || t->h.version != 1 ||
	    !t->h.layers || !t->h.kv_heads || !t->h.blocks_per_head ||
	    t->h.nwords > (1ull << 32))
		goto out;
	t->w = malloc(t->h.nwords * 4 + 4);
	if (!t->w) {
		ret = -ENOMEM;
		goto out;
	}
	if (fread(t->w, 4, t->h.nwords, f) != t->h.nwords)
		goto out;
	t->n = t->cap = t->h.nwords;
	ret = 0;
out:
	fclose(f);
	if (ret)
		kvtrace_free(t);
	return ret;
}

int kvtrace_dump_text(const struct kvtrace *t, void *file)
{
	FILE *f = file;
	uint64_t i = 0;

	fprintf(f, "# kvtrace v1 layers=%u kv_heads=%u blocks_per_head=%u "
		"tokens_per_block=%u prompt=%u decode=%u seed=%llu\n",
		t->h.layers, t->h.kv_heads, t->h.blocks_per_head,
		t->h.tokens_per_block, t->h.prompt_tokens, t->h.decode_steps,
		(unsigned long long)t->h.seed);
	while (i < t->n) {
		uint32_t w = t->w[i++], n, j;

		switch (KVTRACE_OP(w)) {
		case KVTRACE_OP_STEP:
			fprintf(f, "S %u\n", w & 0x0fffffff);
			break;
		case KVTRACE_OP_WRITE:
			fprintf(f, "W %u\n", w & 0x0fffffff);
			break;
		case KVTRACE_OP_SWRITE:
			fprintf(f, "w %u %u\n", (w >> 16) & 0xfff, w & 0xffff);
			break;
		case KVTRACE_OP_KIND:
			fprintf(f, "K %u %u %s\n", (w >> 18) & 1023,
				(w >> 10) & 255, (w & 1023) == 0 ? "local" :
				(w & 1023) == 1 ? "mixed" : "retrieval");
			break;
		case KVTRACE_OP_READ:
			n = w & 1023;
			fprintf(f, "R %u %u", (w >> 18) & 1023, (w >> 10) & 255);
			for (j = 0; j < n && i < t->n; j++, i++)
				fprintf(f, " %u:%.4f", t->w[i] >> 16,
					(t->w[i] & 0xffff) / 65536.0);
			fputc('\n', f);
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

void kvtrace_free(struct kvtrace *t)
{
	free(t->w);
	t->w = NULL;
	t->n = t->cap = 0;
}
