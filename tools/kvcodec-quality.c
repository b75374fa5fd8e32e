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
 *        kvcodec-quality speed [rounds]
 * The second form prints the codec's encode and decode MiB/s (one core,
 * best of three, 32 K and V pages of the same generator, head_dim 128).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvcodec.h"
#include "kvq.h"

static double kvq_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int speed(int rounds)
{
	enum { T = 256, D = 128, P = T * D * 2 / KVC_PAGE };
	static uint16_t k[T * D], v[T * D], out[KVC_PAGE / 2];
	static uint8_t obj[P][KVC_PAGE];
	static const int fmts[] = { KVC_INT8, KVC_FP8, KVC_INT4 };
	static const char *const names[] = { "int8", "fp8", "int4" };
	uint32_t len[P];
	unsigned int sink = 0;

	kvq_gen_stream(1, T, D, 0, k, v);
	printf("%-5s %12s %12s\n", "fmt", "encode_MiB/s", "decode_MiB/s");
	for (int f = 0; f < 3; f++) {
		double enc = 0, dec = 0, mib = (double)rounds * P * KVC_PAGE / 1048576.0;

		for (int best = 0; best < 3; best++) {
			double t0 = kvq_now(), t1, t2;

			for (int r = 0; r < rounds; r++)
				for (int p = 0; p < P; p++) {
					struct kvc_geom g = { D, 0, (uint8_t)(p & 1) };

					len[p] = kvc_encode(fmts[f], &g, (p & 1 ? v : k) +
							    (size_t)(p / 2) * (KVC_PAGE / 2),
							    obj[p]);
				}
			t1 = kvq_now();
			for (int r = 0; r < rounds; r++)
				for (int p = 0; p < P; p++) {
					struct kvc_geom g = { D, 0, (uint8_t)(p & 1) };

					if (kvc_decode(fmts[f], &g, obj[p], len[p], out))
						return 1;
					sink += out[r & 1023];
				}
			t2 = kvq_now();
			enc = mib / (t1 - t0) > enc ? mib / (t1 - t0) : enc;
			dec = mib / (t2 - t1) > dec ? mib / (t2 - t1) : dec;
		}
		printf("%-5s %12.1f %12.1f\n", names[f], enc, dec);
	}
	return sink == 1u;	/* keeps the decodes */
}

int main(int argc, char **argv)
{
	uint32_t T;

	if (argc > 1 && !strcmp(argv[1], "speed"))
		return speed(argc > 2 ? atoi(argv[2]) : 100);
	T = argc > 1 ? (uint32_t)atoi(argv[1]) : 2048;
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
