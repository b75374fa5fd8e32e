// SPDX-License-Identifier: GPL-2.0
/*
 * lib_bench - cxl-kv-bench in the guest beyond make run: decode through the
 * io_uring transport on a small model, and serve on a Mooncake-format trace
 * written here (the real trace lives outside the project: ../shared/data).
 * The synthetic trace has 3 conversations whose prompts grow by one block
 * per turn, so every turn after the first hits on its whole prefix.
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "lib_util.h"

static char out[1 << 16];

static int run(const char *args)
{
	return lib_run_tool("cxl-kv-bench", args, "2>&1", out, sizeof(out));
}

static double field(const char *key)
{
	const char *p = strstr(out, key);

	return p ? atof(p + strlen(key)) : -1;
}

int main(void)
{
	const char *why = lib_unavailable();
	struct cxl_kv_ctx *ctx;
	FILE *f;
	int rc;

	if (why)
		return ktap_skip_all(why);
	ctx = lib_ctx();
	if (!ctx || lib_attach(ctx, 1024, 64ULL << 20))
		return ktap_skip_all("attach failed");
	ktap_plan(7);

	rc = run("decode --preset tiny --head-dim 128 --ratio 3 --steps 24 --uring "
		 "--plot /tmp/decode");
	T("decode_uring", rc == 0 && strstr(out, "transport io_uring") &&
	  strstr(out, "\nrun-summary: hit_rate=") && field("mismatches ") == 0,
	  "rc %d out %.400s", rc, out);
	T("decode_verified", field("verified_bytes=") > 0, "%.0f", field("verified_bytes="));
	f = fopen("/tmp/decode.csv", "r");
	{
		char line[256];
		int lines = 0;

		while (f && fgets(line, sizeof(line), f))
			lines++;
		if (f)
			fclose(f);
		T("decode_plot_data", lines >= 20 && strstr(out, "# plot: "),
		  "%d csv lines", lines);
	}

	f = fopen("/tmp/mooncake.jsonl", "w");
	if (!f)
		return ktap_finish();
	/* 3 conversations x 8 turns: turn i sends blocks c*100 + 0..i */
	for (int turn = 0; turn < 8; turn++)
		for (int c = 0; c < 3; c++) {
			fprintf(f, "{\"timestamp\": %d, \"input_length\": %d, "
				"\"output_length\": 10, \"hash_ids\": [", turn * 30 + c,
				(turn + 1) * 512);
			for (int b = 0; b <= turn; b++)
				fprintf(f, "%s%d", b ? ", " : "", c * 100 + b);
			fprintf(f, "]}\n");
		}
	fclose(f);
	rc = run("serve /tmp/mooncake.jsonl --layers 4 --kv-heads 2 --slots 64");
	/* 108 blocks, 24 first-sight misses + nothing evicted: 84 hits */
	T("serve", rc == 0 && strstr(out, "ok 1 serve") &&
	  field("requests=") == 24, "rc %d out %.600s", rc, out);
	T("serve_hit_rate", field("hit_rate=") > 0.77 && field("hit_rate=") < 0.78,
	  "hit_rate %.3f", field("hit_rate="));
	rc = run("serve /tmp/mooncake.jsonl --layers 4 --kv-heads 2 --slots 8");
	T("serve_small_cache_evicts", rc == 0 && field("slot_evictions ") > 0 &&
	  field("hit_rate=") < 0.78, "rc %d evictions %.0f", rc,
	  field("slot_evictions "));
	rc = run("serve /nonexistent.jsonl");
	T("serve_missing_trace", rc == 1, "rc %d", rc);
	cxl_kv_detach(ctx);
	cxl_kv_unref(ctx);
	return ktap_finish();
}
