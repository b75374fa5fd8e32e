/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.h - helpers shared by cxl-kv and cxl-kv-bench: argument parsing
 * and the stats record (JSON and table).
 */
#ifndef CXL_KV_TOOLS_COMMON_H
#define CXL_KV_TOOLS_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <libcxl_kv.h>

#include "json.h"

int parse_u64(const char *s, uint64_t *v);
int parse_size(const char *s, uint64_t *bytes);
int parse_u32_list(const char *s, unsigned int *out, unsigned int max,
		   unsigned int *n);
int parse_space_ref(const char *s, int *pid, int *fd);

void stats_json(struct jw *w, const char *key, const struct cxl_kv_stats *st);
void stats_table(FILE *f, const struct cxl_kv_stats *st);
double stats_prefetch_accuracy(const struct cxl_kv_stats *st);

#endif
