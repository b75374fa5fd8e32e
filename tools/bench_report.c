// SPDX-License-Identifier: GPL-2.0
/*
 * bench_report.c - cxl-kv-bench report ROWS [--plot PREFIX]
 *
 * Reads the "e2e-row: key=value ..." lines that decode runs append to ROWS
 * (--rows; other lines are ignored, so a console log will do) and prints
 * the markdown table (backend x ratio x compute), then
 *   e2e-summary: step_vs_dram@4x=R1 swap_vs_cxlkv@4x=R2 uoffload_vs_cxlkv@4x=R3 pipeline_gain@4x=R4
 * from the p50 step times at ratio 4 with the compute model (without it if
 * no such row): R1 = cxl-kv / dram, R2 = swap / cxl-kv, R3 = uoffload /
 * cxl-kv, R4 = cxl-kv without the pipeline / with it, where cxl-kv is the
 * ioctl transport with the pipeline (cxl-kv-ioctl+pipe; cxl-kv-uring+pipe
 * if there is no such row) and uoffload runs with its pipeline too.  A ratio whose rows are missing prints "na".
 * --plot writes PREFIX-c.csv (rows with the compute model), PREFIX-0.csv
 * (without) and, when gnuplot is there, PREFIX.png: p50 step time against
 * oversubscription, one line per backend, one panel per compute setting.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MAX_ROWS 512

struct row {
	char backend[64];
	double ratio, compute, p50, p99, tok, crd, cwr, hit, pf, us, ss, ks;
	double p99dem, p99quiet;	/* cxl-kv: steps with / without demotions */
	unsigned long long mism;
	int ok;
};

static int parse_row(const char *line, struct row *r)
{
	const char *p = strstr(line, "e2e-row:");
	char key[32], val[64];
	int n;

	if (!p)
		return -1;
	memset(r, 0, sizeof(*r));
	r->ok = -1;
	r->p99dem = r->p99quiet = -1;
	p += 8;
	while (sscanf(p, " %31[^= ]=%63s%n", key, val, &n) == 2) {
		double v = atof(val);

		p += n;
		if (!strcmp(key, "backend"))
			snprintf(r->backend, sizeof(r->backend), "%s", val);
		else if (!strcmp(key, "ratio")) r->ratio = v;
		else if (!strcmp(key, "compute_us")) r->compute = v;
		else if (!strcmp(key, "p50_ms")) r->p50 = v;
		else if (!strcmp(key, "p99_ms")) r->p99 = v;
		else if (!strcmp(key, "tok_s")) r->tok = v;
		else if (!strcmp(key, "cold_rd_mib")) r->crd = v;
		else if (!strcmp(key, "cold_wr_mib")) r->cwr = v;
		else if (!strcmp(key, "hit")) r->hit = v;
		else if (!strcmp(key, "pf_acc")) r->pf = v;
		else if (!strcmp(key, "user_s")) r->us = v;
		else if (!strcmp(key, "sys_s")) r->ss = v;
		else if (!strcmp(key, "ksys_s")) r->ks = v;
		else if (!strcmp(key, "mismatches")) r->mism = strtoull(val, NULL, 10);
		else if (!strcmp(key, "ok")) r->ok = atoi(val);
		else if (!strcmp(key, "p99_dem_ms")) r->p99dem = v;
		else if (!strcmp(key, "p99_quiet_ms")) r->p99quiet = v;
	}
	return r->backend[0] ? 0 : -1;
}

/* p50 of backend at ratio 4 and the given compute class (>0 or 0) */
static double find(const struct row *rows, int n, const char *backend, int comp)
{
	for (int i = n - 1; i >= 0; i--)
		if (!strcmp(rows[i].backend, backend) &&
		    fabs(rows[i].ratio - 4.0) < 0.3 &&
		    (rows[i].compute > 0) == comp && rows[i].ok == 1)
			return rows[i].p50;
	return 0;
}

static void ratio_str(char *buf, size_t len, double num, double den)
{
	if (num > 0 && den > 0)
		snprintf(buf, len, "%.2f", num / den);
	else
		snprintf(buf, len, "na");
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = (x->compute > 0) - (y->compute > 0);

	if (c)
		return -c;
	if (fabs(x->ratio - y->ratio) > 0.3)
		return x->ratio < y->ratio ? -1 : 1;
	return strcmp(x->backend, y->backend);
}

int bench_report(int argc, char **argv)
{
	static struct row rows[MAX_ROWS];
	const char *path = NULL, *plot = NULL;
	char line[1024], r1[16], r2[16], r3[16], r4[16], name[64];
	const char *tr;
	double cx, dram, sw, uo, nopipe;
	int n = 0, comp, bad = 0;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--plot") && i + 1 < argc)
			plot = argv[++i];
		else if (!path)
			path = argv[i];
		else
			return bench_usage("report ROWS [--plot PREFIX]");
	}
	if (!path)
		return bench_usage("report ROWS [--plot PREFIX]");
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	while (n < MAX_ROWS && fgets(line, sizeof(line), f))
		if (!parse_row(line, &rows[n]))
			n++;
	fclose(f);
	if (!n) {
		fprintf(stderr, "cxl-kv-bench: no e2e-row lines in %s\n", path);
		return 1;
	}
	qsort(rows, n, sizeof(*rows), cmp_row);
	printf("| backend | x | compute us/layer | p50 step ms | p99 step ms | tokens/s "
	       "| cold MiB read | cold MiB written | hit rate | prefetch acc. "
	       "| user s | sys s | kernel s (all CPUs) | verified "
	       "| p99 step ms demoting / quiet |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char pf[16], dq[48];

		if (r->pf < 0)
			snprintf(pf, sizeof(pf), "-");
		else
			snprintf(pf, sizeof(pf), "%.3f", r->pf);
		if (r->p99dem < 0 && r->p99quiet < 0)
			snprintf(dq, sizeof(dq), "-");
		else if (r->p99quiet < 0)
			snprintf(dq, sizeof(dq), "%.2f / -", r->p99dem);
		else if (r->p99dem < 0)
			snprintf(dq, sizeof(dq), "- / %.2f", r->p99quiet);
		else
			snprintf(dq, sizeof(dq), "%.2f / %.2f", r->p99dem, r->p99quiet);
		printf("| %s | %.0f | %.0f | %.2f | %.2f | %.1f | %.1f | %.1f | %.3f | %s "
		       "| %.2f | %.2f | %.2f | %s | %s |\n", r->backend, r->ratio, r->compute,
		       r->p50, r->p99, r->tok, r->crd, r->cwr, r->hit, pf, r->us,
		       r->ss, r->ks, r->ok == 1 ? "yes" : "NO", dq);
		bad |= r->ok != 1;
	}
	/* cxl-kv: the ioctl transport with the pipeline, else uring */
	comp = find(rows, n, "cxl-kv-ioctl+pipe", 1) ||
	       find(rows, n, "cxl-kv-uring+pipe", 1);
	tr = find(rows, n, "cxl-kv-ioctl+pipe", comp) ? "ioctl" : "uring";
	snprintf(name, sizeof(name), "cxl-kv-%s+pipe", tr);
	cx = find(rows, n, name, comp);
	snprintf(name, sizeof(name), "cxl-kv-%s", tr);
	nopipe = find(rows, n, name, comp);
	dram = find(rows, n, "dram", comp);
	sw = find(rows, n, "swap", comp);
	uo = find(rows, n, "uoffload+pipe", comp);
	if (!uo)
		uo = find(rows, n, "uoffload", comp);
	ratio_str(r1, sizeof(r1), cx, dram);
	ratio_str(r2, sizeof(r2), sw, cx);
	ratio_str(r3, sizeof(r3), uo, cx);
	ratio_str(r4, sizeof(r4), nopipe, cx);
	if (plot) {
		char p[512], cmd[2048];

		/* PREFIX-c.csv (compute model) and PREFIX-0.csv (none): a block per backend */
		for (int cls = 1; cls >= 0; cls--) {
			FILE *c;

			snprintf(p, sizeof(p), "%s-%c.csv", plot, cls ? 'c' : '0');
			c = fopen(p, "w");
			if (!c)
				continue;
			for (int i = 0; i < n; i++) {
				int seen = (rows[i].compute > 0) != cls;

				for (int j = 0; j < i && !seen; j++)
					seen = !strcmp(rows[j].backend, rows[i].backend) &&
					       (rows[j].compute > 0) == cls;
				if (seen)
					continue;
				fprintf(c, "\"%s\" p50_ms\n", rows[i].backend);
				for (int j = 0; j < n; j++)
					if (!strcmp(rows[j].backend, rows[i].backend) &&
					    (rows[j].compute > 0) == cls)
						fprintf(c, "%.1f %.3f\n", rows[j].ratio,
							rows[j].p50);
				fprintf(c, "\n\n");
			}
			fclose(c);
		}
		snprintf(cmd, sizeof(cmd),
			 "command -v gnuplot >/dev/null 2>&1 && gnuplot -e \"set terminal "
			 "png noenhanced size 1200,520; set output '%s.png'; "
			 "set multiplot layout 1,2; set logscale x 2; set logscale y; "
			 "set xrange [1.6:10]; set xtics (2,4,8); set key top left font ',9'; "
			 "set xlabel 'oversubscription (KV / warm budget)'; "
			 "set ylabel 'p50 step time, ms'; "
			 "set title 'with the compute model (150 us/layer)'; "
			 "stats '%s-c.csv' nooutput; plot for [i=0:STATS_blocks-1] '%s-c.csv' "
			 "index i using 1:2 with linespoints title columnheader(1); "
			 "set title 'without compute'; "
			 "stats '%s-0.csv' nooutput; plot for [i=0:STATS_blocks-1] '%s-0.csv' "
			 "index i using 1:2 with linespoints title columnheader(1); "
			 "unset multiplot\" 2>/dev/null", plot, plot, plot, plot, plot);
		printf("# plot: %s\n", system(cmd) ? "gnuplot missing or failed" : "written");
	}
	printf("e2e-summary: step_vs_dram@4x=%s swap_vs_cxlkv@4x=%s "
	       "uoffload_vs_cxlkv@4x=%s pipeline_gain@4x=%s\n", r1, r2, r3, r4);
	return bad ? 1 : 0;
}
