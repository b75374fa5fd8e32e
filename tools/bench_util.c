// SPDX-License-Identifier: GPL-2.0
/*
 * bench_util.c - helpers of cxl-kv-bench decode and serve: the compute
 * wait, percentiles, CPU time, the --plot CSV.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

void bench_compute_wait(double us, int spin)
{
	struct timespec ts;
	double end;

	if (us <= 0)
		return;
	if (spin) {
		end = bench_now() + us * 1e-6;
		while (bench_now() < end)
			;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += (long)(us * 1000);
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_nsec -= 1000000000L;
		ts.tv_sec++;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* the p-quantile of v[0..n), sorted here */
double bench_pct(double *v, uint32_t n, double p)
{
	uint32_t i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (uint32_t)(p * (n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/*
 * kernel CPU seconds of the whole system (system + irq + softirq of every
 * CPU, /proc/stat): the serving process's own system time and the kernel
 * threads working for it (the demotion worker, kswapd, I/O completion)
 */
double bench_kernel_cpu_s(void)
{
	unsigned long long u, ni, sy, id, io, irq, sirq;
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &u, &ni, &sy,
		   &id, &io, &irq, &sirq);
	fclose(f);
	if (n != 7)
		return 0;
	return (double)(sy + irq + sirq) / (double)sysconf(_SC_CLK_TCK);
}

double bench_tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

FILE *bench_csv_open(const char *prefix, const char *x)
{
	char path[512];
	FILE *csv;

	if (!prefix)
		return NULL;
	snprintf(path, sizeof(path), "%s.csv", prefix);
	csv = fopen(path, "w");
	if (csv)
		fprintf(csv, "%s,hit_rate,warm_pages,cold_pages\n", x);
	return csv;
}

void bench_csv_row(FILE *csv, uint64_t x, double hit,
		   const struct cxl_kv_stats *st)
{
	fprintf(csv, "%llu,%.4f,%llu,%llu\n", (unsigned long long)x, hit,
		(unsigned long long)st->warm_pages,
		(unsigned long long)st->cold_pages);
}

void bench_csv_close(FILE *csv, const char *prefix, const char *x,
		     const char *what)
{
	if (!csv)
		return;
	fclose(csv);
	bench_plot(prefix, x, what);
}
