// SPDX-License-Identifier: GPL-2.0
/*
 * common.c - argument parsing and stats output shared by the cxl-kv tools.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Decimal or 0x-hex, the whole string, no sign. */
int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno)
		return -ERANGE;
	return *end ? -EINVAL : 0;
}

/* "4096", "64K", "16M", "1G" (binary units). */
int parse_size(const char *s, uint64_t *bytes)
{
	char buf[32], *end;
	uint64_t mult = 1, v;
	size_t n;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	n = strlen(buf);
	switch (toupper((unsigned char)buf[n - 1])) {
	case 'K': mult = 1ULL << 10; break;
	case 'M': mult = 1ULL << 20; break;
	case 'G': mult = 1ULL << 30; break;
	case 'T': mult = 1ULL << 40; break;
	default: break;
	}
	if (mult != 1)
		buf[--n] = '\0';
	if (!n || !isdigit((unsigned char)buf[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*bytes = v * mult;
	return 0;
}

/* "1,2,5": up to max values, each fitting an unsigned int. */
int parse_u32_list(const char *s, unsigned int *out, unsigned int max,
		   unsigned int *n)
{
	char buf[256], *tok, *save;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (*n >= max || parse_u64(tok, &v) || v > UINT32_MAX)
			return -EINVAL;
		out[(*n)++] = (unsigned int)v;
	}
	return *n ? 0 : -EINVAL;
}

/* "PID:FD" */
int parse_space_ref(const char *s, int *pid, int *fd)
{
	char buf[64], *colon;
	uint64_t p, f;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (parse_u64(buf, &p) || parse_u64(colon + 1, &f) || p == 0 ||
	    p > INT32_MAX || f > INT32_MAX)
		return -EINVAL;
	*pid = (int)p;
	*fd = (int)f;
	return 0;
}

double stats_prefetch_accuracy(const struct cxl_kv_stats *st)
{
	return st->prefetch_issued ?
		(double)st->prefetch_used / (double)st->prefetch_issued : 0.0;
}

#define STATS_FIELDS(X)							\
	X(warm_pages) X(cold_pages) X(faults_zero) X(faults_warm)	\
	X(faults_cold) X(promotions) X(demotions) X(clean_drops)	\
	X(wb_aborts) X(prefetch_issued) X(prefetch_used)		\
	X(nvme_read_bytes) X(nvme_write_bytes) X(io_errors)		\
	X(alloc_waits) X(alloc_fails) X(hints) X(gup_kept)

void stats_json(struct jw *w, const char *key, const struct cxl_kv_stats *st)
{
	jw_obj_begin(w, key);
#define X(f) jw_u64(w, #f, st->f);
	STATS_FIELDS(X)
#undef X
	jw_double(w, "prefetch_accuracy", stats_prefetch_accuracy(st), 3);
	jw_arr_begin(w, "fault_latency_us_log2");
	for (int i = 0; i < CXL_KV_STATS_HIST; i++)
		jw_u64(w, NULL, st->lat_hist[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

void stats_table(FILE *f, const struct cxl_kv_stats *st)
{
	fprintf(f, "%-20s %16s\n", "counter", "value");
#define X(n) fprintf(f, "%-20s %16llu\n", #n, (unsigned long long)st->n);
	STATS_FIELDS(X)
#undef X
	fprintf(f, "%-20s %16.3f\n", "prefetch_accuracy",
		stats_prefetch_accuracy(st));
	fprintf(f, "%-20s", "fault_latency_us");
	for (int i = 0; i < CXL_KV_STATS_HIST; i++)
		if (st->lat_hist[i])
			fprintf(f, " <%lluus:%llu", 2ULL << i,
				(unsigned long long)st->lat_hist[i]);
	fprintf(f, "\n");
}
