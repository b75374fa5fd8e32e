// SPDX-License-Identifier: GPL-2.0
/*
 * mooncake.c - parse one line of a Mooncake FAST'25 trace (JSONL):
 * {"timestamp": 27482, "input_length": 6955, "output_length": 52,
 *  "hash_ids": [46, 47, ...]}.  Only timestamp and hash_ids are used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

int bench_parse_mooncake(const char *line, uint64_t *ids, int max,
			 uint64_t *timestamp)
{
	const char *p = strstr(line, "\"hash_ids\"");
	const char *ts = strstr(line, "\"timestamp\"");
	int n = 0;

	if (timestamp) {
		*timestamp = 0;
		if (ts && (ts = strchr(ts, ':')))
			*timestamp = strtoull(ts + 1, NULL, 10);
	}
	if (!p || !(p = strchr(p, '[')))
		return -EINVAL;
	p++;
	for (;;) {
		char *end;
		uint64_t v;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ']')
			return n;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = strtoull(p, &end, 10);
		if (n >= max)
			return -E2BIG;
		ids[n++] = v;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ',')
			p++;
		else if (*p != ']')
			return -EINVAL;
	}
}
