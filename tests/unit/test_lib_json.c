// SPDX-License-Identifier: GPL-2.0
/*
 * The tools' JSON writer (cxl-kv list/stats output), their argument parsers
 * and the Mooncake line parser of cxl-kv-bench serve.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/json.h"
#include "../../tools/common.h"
#include "../../tools/bench.h"
#include "../../tools/mooncake.h"

static char *buf;
static size_t len;
static FILE *mf;

static void open_buf(void)
{
	mf = open_memstream(&buf, &len);
	cr_assert_not_null(mf);
}

static const char *close_buf(void)
{
	fclose(mf);
	return buf;
}

Test(lib_json, compact_nested)
{
	struct jw w;

	open_buf();
	jw_init(&w, mf, 0);
	jw_obj_begin(&w, NULL);
	jw_arr_begin(&w, "nodes");
	jw_obj_begin(&w, NULL);
	jw_i64(&w, "node", 1);
	jw_bool(&w, "cpus", 0);
	jw_str(&w, "dax", "dax0.0");
	jw_str(&w, "region", NULL);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_arr_begin(&w, "empty");
	jw_arr_end(&w);
	jw_u64(&w, "big", UINT64_MAX);
	jw_i64(&w, "neg", -1);
	jw_double(&w, "rate", 0.12345, 3);
	jw_double(&w, "nan", NAN, 3);
	jw_null(&w, "n");
	jw_obj_end(&w);
	cr_assert_eq(jw_finish(&w), 0);
	cr_assert_str_eq(close_buf(),
		"{\"nodes\":[{\"node\":1,\"cpus\":false,\"dax\":\"dax0.0\","
		"\"region\":null}],\"empty\":[],\"big\":18446744073709551615,"
		"\"neg\":-1,\"rate\":0.123,\"nan\":null,\"n\":null}\n");
	free(buf);
}

Test(lib_json, escaping)
{
	struct jw w;

	open_buf();
	jw_init(&w, mf, 0);
	jw_arr_begin(&w, NULL);
	jw_str(&w, NULL, "a\"b\\c\n\t\x01");
	jw_arr_end(&w);
	cr_assert_eq(jw_finish(&w), 0);
	cr_assert_str_eq(close_buf(), "[\"a\\\"b\\\\c\\n\\t\\u0001\"]\n");
	free(buf);
}

Test(lib_json, pretty_and_misuse)
{
	struct jw w;

	open_buf();
	jw_init(&w, mf, 1);
	jw_obj_begin(&w, NULL);
	jw_u64(&w, "a", 1);
	jw_obj_end(&w);
	jw_obj_end(&w);			/* one end too many */
	cr_expect_eq(jw_finish(&w), -1);
	cr_expect_str_eq(close_buf(), "{\n  \"a\": 1\n}\n");
	free(buf);
	open_buf();
	jw_init(&w, mf, 0);
	jw_obj_begin(&w, NULL);		/* never closed */
	cr_expect_eq(jw_finish(&w), -1);
	close_buf();
	free(buf);
}

Test(lib_json, stats_record_has_every_counter)
{
	struct cxl_kv_stats st;
	struct jw w;
	static const char *const keys[] = {
		"warm_pages", "cold_pages", "faults_zero", "faults_warm",
		"faults_cold", "promotions", "demotions", "clean_drops",
		"wb_aborts", "prefetch_issued", "prefetch_used",
		"nvme_read_bytes", "nvme_write_bytes", "io_errors",
		"alloc_waits", "alloc_fails", "hints", "prefetch_accuracy",
		"fault_latency_us_log2",
	};

	memset(&st, 0, sizeof(st));
	st.prefetch_issued = 8;
	st.prefetch_used = 6;
	st.promotions = 77;
	open_buf();
	jw_init(&w, mf, 0);
	stats_json(&w, NULL, &st);
	cr_assert_eq(jw_finish(&w), 0);
	close_buf();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char k[64];

		snprintf(k, sizeof(k), "\"%s\":", keys[i]);
		cr_expect(strstr(buf, k), "missing %s in %s", keys[i], buf);
	}
	cr_expect(strstr(buf, "\"prefetch_accuracy\":0.750"));
	cr_expect(strstr(buf, "\"promotions\":77"));
	free(buf);
}

Test(lib_json, parsers)
{
	uint64_t v;
	unsigned int list[8], n;
	int pid, fd;

	cr_expect_eq(parse_size("64M", &v), 0);
	cr_expect_eq(v, 64ULL << 20);
	cr_expect_eq(parse_size("4096", &v), 0);
	cr_expect_eq(v, 4096);
	cr_expect_eq(parse_size("1g", &v), 0);
	cr_expect_eq(v, 1ULL << 30);
	cr_expect_eq(parse_size("M", &v), -EINVAL);
	cr_expect_eq(parse_size("-1M", &v), -EINVAL);
	cr_expect_eq(parse_size("12X", &v), -EINVAL);
	cr_expect_eq(parse_size("99999999999999999T", &v), -ERANGE);
	cr_expect_eq(parse_u64("0x10", &v), 0);
	cr_expect_eq(v, 16);
	cr_expect_eq(parse_u64("10 ", &v), -EINVAL);
	cr_expect_eq(parse_u64("-3", &v), -EINVAL);
	cr_expect_eq(parse_u32_list("1,2,5", list, 8, &n), 0);
	cr_expect_eq(n, 3);
	cr_expect_eq(list[2], 5);
	cr_expect_eq(parse_u32_list("1,,", list, 8, &n), 0);
	cr_expect_eq(n, 1);
	cr_expect_eq(parse_u32_list("1,2", list, 1, &n), -EINVAL);
	cr_expect_eq(parse_u32_list("a", list, 8, &n), -EINVAL);
	cr_expect_eq(parse_u32_list("4294967296", list, 8, &n), -EINVAL);
	cr_expect_eq(parse_space_ref("123:4", &pid, &fd), 0);
	cr_expect_eq(pid, 123);
	cr_expect_eq(fd, 4);
	cr_expect_eq(parse_space_ref("0:4", &pid, &fd), -EINVAL);
	cr_expect_eq(parse_space_ref("12", &pid, &fd), -EINVAL);
	cr_expect_eq(parse_space_ref("12:x", &pid, &fd), -EINVAL);
}

Test(lib_json, mooncake_lines)
{
	uint64_t ids[8], ts;

	cr_assert_eq(bench_parse_mooncake("{\"timestamp\": 27482, \"input_length\": 6955, "
					  "\"output_length\": 52, \"hash_ids\": [46, 47, 2]}",
					  ids, 8, &ts), 3);
	cr_expect_eq(ts, 27482);
	cr_expect_eq(ids[0], 46);
	cr_expect_eq(ids[2], 2);
	cr_expect_eq(bench_parse_mooncake("{\"hash_ids\": []}", ids, 8, NULL), 0);
	cr_expect_eq(bench_parse_mooncake("{\"hash_ids\": [1,2,3]}", ids, 2, NULL), -E2BIG);
	cr_expect_eq(bench_parse_mooncake("{\"x\": 1}", ids, 8, NULL), -EINVAL);
	cr_expect_eq(bench_parse_mooncake("{\"hash_ids\": [1,a]}", ids, 8, NULL), -EINVAL);
	cr_expect_eq(bench_parse_mooncake("{\"hash_ids\": [1", ids, 8, NULL), -EINVAL);
}

/*
 * What the two strstr readers got wrong: a nested "hash_ids" before the
 * top-level one (they took the first occurrence), a line that is not a JSON
 * object, and garbage after the array; negative, fractional and quoted ids
 * are refused as before.
 */
Test(lib_json, mooncake_one_real_parser)
{
	uint64_t ids[8], ts;

	cr_assert_eq(mooncake_parse_line("{\"meta\": {\"hash_ids\": [9, 9]}, "
					 "\"hash_ids\": [1]}", ids, 8, NULL), 1);
	cr_expect_eq(ids[0], 1);
	cr_expect_eq(mooncake_parse_line("\"hash_ids\": [1, 2]", ids, 8, NULL), -EINVAL);
	cr_expect_eq(mooncake_parse_line("{\"hash_ids\": [1, -2]}", ids, 8, NULL), -EINVAL);
	cr_expect_eq(mooncake_parse_line("{\"hash_ids\": [1.5]}", ids, 8, NULL), -EINVAL);
	cr_expect_eq(mooncake_parse_line("{\"hash_ids\": [\"3\"]}", ids, 8, NULL), -EINVAL);
	cr_expect_eq(mooncake_parse_line("{\"hash_ids\": [1], \"x\": }", ids, 8, NULL), -EINVAL);
	cr_expect_eq(mooncake_parse_line("{\"hash_ids\": 5}", ids, 8, NULL), -EINVAL);
	cr_expect_eq(mooncake_parse_line("[1, 2]", ids, 8, NULL), -EINVAL);
	cr_expect_eq(mooncake_parse_line("{\"timestamp\": 5, \"hash_ids\": [7]}\n", ids, 8,
					 &ts), 1);
	cr_expect_eq(ts, 5);
}

/* The first line of the real trace, when the shared data is present. */
Test(lib_json, mooncake_real_trace_first_line)
{
	FILE *f = fopen("../shared/data/mooncake-fast25/conversation_trace.jsonl", "r");
	char *line = NULL;
	size_t cap = 0;
	uint64_t ids[4096];
	int n, lines = 0, bad = 0;

	if (!f)
		cr_skip_test("../shared/data not present");
	while (getline(&line, &cap, f) > 0 && lines < 2000) {
		n = bench_parse_mooncake(line, ids, 4096, NULL);
		lines++;
		bad += n <= 0;
	}
	free(line);
	fclose(f);
	cr_expect_eq(bad, 0, "%d of %d lines unparsed", bad, lines);
}
