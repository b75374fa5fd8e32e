/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktap.h - minimal KTAP v1 output for cxl-kv guest tests.
 *
 * One program per feature.  A program prints "KTAP version 1", a plan, one
 * "ok N name" / "not ok N name" line per case and exits with ktap_finish():
 * 0 if every case passed or skipped, 1 if any failed, 4 (KSFT_SKIP) if the
 * whole program was skipped.  Every skip carries its reason.
 */
#ifndef CXL_KV_KTAP_H
#define CXL_KV_KTAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define KSFT_PASS 0
#define KSFT_FAIL 1
#define KSFT_SKIP 4

struct ktap_state {
	unsigned int planned;
	unsigned int n;
	unsigned int pass;
	unsigned int fail;
	unsigned int skip;
};

static struct ktap_state ktap;

static inline void ktap_plan(unsigned int count)
{
	ktap.planned = count;
	printf("KTAP version 1\n1..%u\n", count);
	fflush(stdout);
}

static inline void ktap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void ktap_result(int ok, const char *name)
{
	ktap.n++;
	if (ok)
		ktap.pass++;
	else
		ktap.fail++;
	printf("%sok %u %s\n", ok ? "" : "not ", ktap.n, name);
	fflush(stdout);
}

static inline void ktap_skip(const char *name, const char *why)
{
	ktap.n++;
	ktap.skip++;
	printf("ok %u %s # SKIP %s\n", ktap.n, name, why);
	fflush(stdout);
}

/* Skip the whole program before any case ran (plan 1..0). */
static inline int ktap_skip_all(const char *why)
{
	printf("KTAP version 1\n1..0 # SKIP %s\n", why);
	fflush(stdout);
	return KSFT_SKIP;
}

static inline int ktap_finish(void)
{
	if (ktap.n != ktap.planned) {
		printf("# planned %u cases, ran %u\n", ktap.planned, ktap.n);
		ktap.fail++;
	}
	printf("# totals: pass:%u fail:%u skip:%u\n", ktap.pass, ktap.fail,
	       ktap.skip);
	fflush(stdout);
	if (ktap.fail)
		return KSFT_FAIL;
	if (ktap.skip && ktap.skip == ktap.n)
		return KSFT_SKIP;
	return KSFT_PASS;
}

/* Check a condition; on failure print where and why, and evaluate to 0. */
#define KTAP_CHECK(cond, ...)						\
	({								\
		int __ok = !!(cond);					\
		if (!__ok) {						\
			printf("# %s:%d: check failed: %s: ", __FILE__,	\
			       __LINE__, #cond);			\
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
		__ok;							\
	})

#endif /* CXL_KV_KTAP_H */
