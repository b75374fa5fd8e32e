/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mooncake.h - the one reader of Mooncake FAST'25 trace lines (JSONL), used
 * by cxl-kv-bench serve and kvsim.
 */
#ifndef CXL_KV_TOOLS_MOONCAKE_H
#define CXL_KV_TOOLS_MOONCAKE_H

#include <stdint.h>

/*
 * One line: a JSON object whose "hash_ids" is an array of non-negative
 * integers (block hashes) and whose optional "timestamp" is an integer.
 * Returns the number of ids stored in @ids[@max], -EINVAL (not a JSON
 * object, no or a malformed "hash_ids", an entry that is not a non-negative
 * integer) or -E2BIG (more than @max ids).  @timestamp (may be NULL)
 * receives "timestamp" or 0.
 */
int mooncake_parse_line(const char *line, uint64_t *ids, int max,
			uint64_t *timestamp);

#endif
