// SPDX-License-Identifier: GPL-2.0
/*
 * json.c - streaming JSON writer (see json.h).  Output is RFC 8259: strings
 * are escaped, control characters as \u00XX, numbers are integers or fixed
 * decimals (NaN and infinities become null).
 */
#include <math.h>
#include <string.h>

#include "json.h"

void jw_init(struct jw *w, FILE *f, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
}

static void indent(struct jw *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

/* Separator, indentation and key before a value. */
static void pre(struct jw *w, const char *key)
{
	if (w->depth > 0 && w->count[w->depth - 1]++)
		fputc(',', w->f);
	if (w->depth > 0)
		indent(w);
	if (key) {
		put_string(w->f, key);
		fputs(w->pretty ? ": " : ":", w->f);
	}
}

static void begin(struct jw *w, const char *key, char c)
{
	pre(w, key);
	fputc(c, w->f);
	if (w->depth >= JW_MAX_DEPTH) {
		w->error = 1;
		return;
	}
	w->count[w->depth++] = 0;
}

static void end(struct jw *w, char c)
{
	int had;

	if (w->depth <= 0) {
		w->error = 1;
		return;
	}
	had = w->count[--w->depth];
	if (had)
		indent(w);
	fputc(c, w->f);
	if (w->depth == 0)
		fputc('\n', w->f);
}

void jw_obj_begin(struct jw *w, const char *key) { begin(w, key, '{'); }
void jw_obj_end(struct jw *w) { end(w, '}'); }
void jw_arr_begin(struct jw *w, const char *key) { begin(w, key, '['); }
void jw_arr_end(struct jw *w) { end(w, ']'); }

void jw_str(struct jw *w, const char *key, const char *val)
{
	pre(w, key);
	if (val)
		put_string(w->f, val);
	else
		fputs("null", w->f);
}

void jw_u64(struct jw *w, const char *key, uint64_t val)
{
	pre(w, key);
	fprintf(w->f, "%llu", (unsigned long long)val);
}

void jw_i64(struct jw *w, const char *key, int64_t val)
{
	pre(w, key);
	fprintf(w->f, "%lld", (long long)val);
}

void jw_bool(struct jw *w, const char *key, int val)
{
	pre(w, key);
	fputs(val ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	pre(w, key);
	fputs("null", w->f);
}

void jw_double(struct jw *w, const char *key, double val, int decimals)
{
	pre(w, key);
	if (isnan(val) || isinf(val))
		fputs("null", w->f);
	else
		fprintf(w->f, "%.*f", decimals, val);
}

int jw_finish(struct jw *w)
{
	fflush(w->f);
	return w->error || w->depth ? -1 : 0;
}
