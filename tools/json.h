/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json.h - a small streaming JSON writer for the cxl-kv tools.
 * Keys are given with every value inside objects and NULL inside arrays.
 */
#ifndef CXL_KV_TOOLS_JSON_H
#define CXL_KV_TOOLS_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 16

struct jw {
	FILE *f;
	int pretty;
	int depth;
	int count[JW_MAX_DEPTH];	/* values written at each level */
	int error;			/* nesting misuse seen */
};

void jw_init(struct jw *w, FILE *f, int pretty);
void jw_obj_begin(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *val);
void jw_u64(struct jw *w, const char *key, uint64_t val);
void jw_i64(struct jw *w, const char *key, int64_t val);
void jw_bool(struct jw *w, const char *key, int val);
void jw_null(struct jw *w, const char *key);
void jw_double(struct jw *w, const char *key, double val, int decimals);
/* 0 when every begin had its end and nothing was misused; -1 otherwise. */
int jw_finish(struct jw *w);

#endif
