// SPDX-License-Identifier: GPL-2.0
/*
 * kvcodec-quality - error of the lossy cold formats on synthetic KV (the
 * generator of kvq.h), on the host.  For each format and element type:
 * the ratio (page bytes / object bytes), max and mean relative error per
 * element of K and of V, and the relative error of the attention output
 * softmax(q K^T / sqrt(d)) V computed in double with the original and the
 * round-tripped K and V.
 *
 * Usage: kvcodec-quality [tokens [head_dim [streams]]]
 */
#include <stdio.h>
#include <stdlib.h>

#include "kvcodec.h"
#include "kvq.h"

int main(int argc, char **argv)
{
	uint32_t T = argc > 1 ? (uint32_t)atoi(argv[1]) : 2048;
	uint32_t D = argc > 2 ? (uint32_t)atoi(argv[2]) : 128;
	int S = argc > 3 ? atoi(argv[3]) : 8;
	static const int fmts[] = { KVC_INT8, KVC_FP8, KVC_INT4 };
	static const char *const names[] = { "int8", "fp8", "int4" };
	size_t n = (size_t)T * D;
	uint16_t *k = malloc(n * 2), *v = malloc(n * 2);
	uint16_t *k2 = malloc(n * 2), *v2 = malloc(n * 2);

	if (!k || !v || !k2 || !v2 || !T || !D || (n * 2) % KVC_PAGE ||
	    D > KVC_PAGE / 2) {
		fprintf(stderr, "usage: kvcodec-quality [tokens [head_dim [streams]]]\n");
		return 2;
	}
	printf("# %d streams of %u tokens, head_dim %u; generator: kvq.h\n",
	       S, T, D);
	printf("%-5s %-5s %6s %9s %9s %9s %9s %9s\n", "fmt", "dtype", "ratio",
	       "K_max", "K_mean", "V_max", "V_mean", "attn_err");
	for (int bf = 0; bf < 2; bf++)
		for (int f = 0; f < 3; f++) {
			struct kvq_err ek = { 0 }, ev = { 0 }, e;
			double attn = 0;
			uint64_t bytes = 0;

			for (int s = 0; s < S; s++) {
				kvq_gen_stream((uint64_t)s + 1, T, D, bf, k, v);
				if (kvq_roundtrip(fmts[f], bf, 0, D, k, k2, n, &bytes) ||
				    kvq_roundtrip(fmts[f], bf, 1, D, v, v2, n, &bytes))
					return 1;
				kvq_elem_err(bf, k, k2, n, &e);
				ek.max_rel = e.max_rel > ek.max_rel ? e.max_rel : ek.max_rel;
				ek.mean_rel += e.mean_rel / S;
				kvq_elem_err(bf, v, v2, n, &e);
				ev.max_rel = e.max_rel > ev.max_rel ? e.max_rel : ev.max_rel;
				ev.mean_rel += e.mean_rel / S;
				attn += kvq_attn_err(bf, T, D, k, v, k2, v2, 8,
						     (uint64_t)s) / S;
			}
			printf("%-5s %-5s %6.3f %9.4f %9.4f %9.4f %9.4f %9.4f\n",
			       names[f], bf ? "bf16" : "fp16",
			       (double)(2 * n * 2 * S) / (double)bytes,
			       ek.max_rel, ek.mean_rel, ev.max_rel, ev.mean_rel,
			       attn);
		}
	free(k);
	free(v);
	free(k2);
	free(v2);
	return 0;
}
