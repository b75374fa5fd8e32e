// SPDX-License-Identifier: GPL-2.0
/*
 * mooncake.c - parse one line of a Mooncake FAST'25 trace (JSONL):
 * {"timestamp": 27482, "input_length": 6955, "output_length": 52,
 *  "hash_ids": [46, 47, ...]}.  Only timestamp and hash_ids are used.
 * json-c does the parsing: the line must be one well-formed JSON object.
 */
#include <errno.h>
#include <json-c/json.h>

#include "bench.h"
#include "mooncake.h"

int mooncake_parse_line(const char *line, uint64_t *ids, int max,
			uint64_t *timestamp)
{
	struct json_object *obj, *arr, *ts;
	enum json_tokener_error jerr;
	int n, ret;

	if (timestamp)
		*timestamp = 0;
	obj = json_tokener_parse_verbose(line, &jerr);
	if (!obj)
		return -EINVAL;
	ret = -EINVAL;
	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "hash_ids", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		goto out_put;
	if (timestamp && json_object_object_get_ex(obj, "timestamp", &ts) &&
	    json_object_is_type(ts, json_type_int) && json_object_get_int64(ts) > 0)
		*timestamp = (uint64_t)json_object_get_int64(ts);
	n = (int)json_object_array_length(arr);
	if (n > max) {
		ret = -E2BIG;
		goto out_put;
	}
	for (int i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 0)
			goto out_put;
		ids[i] = (uint64_t)json_object_get_int64(v);
	}
	ret = n;
out_put:
	json_object_put(obj);
	return ret;
}

int bench_parse_mooncake(const char *line, uint64_t *ids, int max,
			 uint64_t *timestamp)
{
	return mooncake_parse_line(line, ids, max, timestamp);
}
