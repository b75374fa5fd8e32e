// SPDX-License-Identifier: GPL-2.0
/*
 * kvsim - replay a cxl-kv trace (or the Mooncake conversation trace) at a
 * warm capacity under several policies, linking the module's policy core.
 *
 *   kvsim -t trace.kvt [-P lru,arc,s3fifo,random,seed,h2o,cxl-kv,
 *         cxl-kv-nopf,belady,belady-pf|all] [-w 0.10,0.25,0.50]
 *         [-b warm_blocks] [-W low,high] [-D name=value] [-x param=value]
 *   kvsim -m conversation_trace.jsonl [-n max_requests] [-P ...] [-w ...]
 *   kvsim -O      per-hint / per-victim cost of the core (Llama-70B, 128K)
 *
 * -W low,high: watermarks (fractions of the capacity): evict from high down
 * to low.  -D: device model (warm_ns, cold_lat_us, cold_rd_mibs,
 * cold_wr_mibs) for the modelled time.  One line per (policy, warm size),
 * key=value.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvsim_engine.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t xs(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Core costs on a Llama-70B geometry at 128K tokens (80 x 8 x 8192 blocks). */
static int ops_bench(void)
{
	struct kvp_geom g = { 80, 8, 8192, 16 };
	struct kvp_params p;
	struct kvp_state *st;
	uint64_t sz = kvp_state_size(&g), seed = 42, n, nent;
	uint32_t *idx, out[64];
	double t0, th, ts, tv;
	uint64_t victims = 0;

	kvp_params_default(&p);
	if (kvsim_ours_params)
		p = *kvsim_ours_params;
	p.flags &= ~KVP_P_PHASE;	/* decode */
	st = aligned_alloc(64, (sz + 63) & ~63ull);
	if (!st || kvp_init(st, sz, &g, &p))
		return 1;
	nent = (uint64_t)g.layers * g.kv_heads * g.blocks_per_head;
	for (uint64_t i = 0; i < nent; i++)
		kvp_on_write(st, (kvp_u32)i, (kvp_u32)(i % 1000));
	n = 1 << 24;
	idx = malloc(n * 4);
	if (!idx)
		return 1;
	for (uint64_t i = 0; i < n; i++)
		idx[i] = (uint32_t)(xs(&seed) % nent);
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++)
		kvp_on_hint(st, idx[i], (kvp_u32)(idx[i] & 0xfff),
			    (kvp_u32)(1000 + (i >> 12)));
	th = (now_s() - t0) / n * 1e9;
	/* hints as a decode step delivers them: one head's blocks in order */
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++)
		kvp_on_hint(st, (kvp_u32)(i % nent), (kvp_u32)(i & 0xfff),
			    (kvp_u32)(2000 + (i >> 12)));
	ts = (now_s() - t0) / n * 1e9;
	/* evict half of the warm blocks, 64 per call */
	t0 = now_s();
	while (victims < nent / 2) {
		int k = kvp_pick_victims(st, 64, out, 6000);

		if (k <= 0)
			break;
		for (int j = 0; j < k; j++)
			kvp_set_cold(st, out[j]);
		victims += k;
	}
	tv = (now_s() - t0) / (victims ? victims : 1) * 1e9;
	printf("ops-bench: geom=80x8x8192 state=%.2f MiB meta_B_per_token=%.3f "
	       "entries=%llu "
	       "ns_per_hint=%.1f (in head order) %.1f (random blocks, "
	       "cache-missing) ns_per_victim=%.1f (incl. kvp_set_cold, 64 "
	       "per call) victims=%llu\n",
	       sz / 1048576.0, (double)sz / (131072.0 * 80 * 8),
	       (unsigned long long)nent, ts, th, tv,
	       (unsigned long long)victims);
	free(idx);
	free(st);
	return 0;
}

/* -x name=value: override one cxl-kv parameter (see struct kvp_params) */
static int set_param(struct kvp_params *p, const char *kv)
{
	const char *eq = strchr(kv, '=');
	unsigned long v;

	if (!eq)
		return -EINVAL;
	v = strtoul(eq + 1, NULL, 0);
#define P(n, f) if (!strncmp(kv, n "=", sizeof(n))) { p->f = (kvp_u32)v; return 0; }
	P("alpha_q16", alpha_q16) P("tau_steps", tau_steps)
	P("score_shift", score_shift) P("sink_tokens", sink_tokens)
	P("recent_tokens", recent_tokens) P("pf_window", pf_window)
	P("pf_window_max", pf_window_max) P("pf_epoch", pf_epoch)
	P("phase_window", phase_window) P("phase_enter", phase_enter)
	P("phase_exit", phase_exit) P("scan_limit", scan_limit)
	P("flags", flags)
#undef P
	return -EINVAL;
}

/* -D name=value: the device model of the modelled time */
static int set_dev(const char *kv)
{
	const char *eq = strchr(kv, '=');
	double v;

	if (!eq)
		return -EINVAL;
	v = strtod(eq + 1, NULL);
	if (v <= 0)
		return -EINVAL;
	if (!strncmp(kv, "warm_ns=", 8))
		kvsim_dev.warm_ns = v;
	else if (!strncmp(kv, "cold_lat_us=", 12))
		kvsim_dev.cold_lat_ns = v * 1000;
	else if (!strncmp(kv, "cold_rd_mibs=", 13))
		kvsim_dev.cold_rd_bps = v * 1048576;
	else if (!strncmp(kv, "cold_wr_mibs=", 13))
		kvsim_dev.cold_wr_bps = v * 1048576;
	else
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	const char *trace = NULL, *moon = NULL, *pols = "all";
	char warms[256] = "0.10,0.25,0.50";
	uint64_t blocks = 0;
	uint32_t maxreq = 0;
	struct kvsim_events ev;
	struct kvp_params op;
	int opt, ret, ops = 0;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("%s %s (%s)\n", "kvsim", CXL_KV_PKG_VERSION,
		       CXL_KV_GIT_REV);
		return 0;
	}

	kvp_params_default(&op);
	while ((opt = getopt(argc, argv, "t:m:n:P:w:b:x:W:D:r:Oh")) != -1) {
		switch (opt) {
		case 'W':
			if (sscanf(optarg, "%lf,%lf", &kvsim_wm_low,
				   &kvsim_wm_high) != 2 || kvsim_wm_low <= 0 ||
			    kvsim_wm_low > kvsim_wm_high || kvsim_wm_high > 1) {
				fprintf(stderr, "kvsim: bad -W %s\n", optarg);
				return 2;
			}
			break;
		case 'D':
			if (set_dev(optarg)) {
				fprintf(stderr, "kvsim: bad -D %s\n", optarg);
				return 2;
			}
			break;
		case 'r': kvsim_random_seed = strtoull(optarg, NULL, 0); break;
		case 't': trace = optarg; break;
		case 'm': moon = optarg; break;
		case 'n': maxreq = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'P': pols = optarg; break;
		case 'w': snprintf(warms, sizeof(warms), "%s", optarg); break;
		case 'b': blocks = strtoull(optarg, NULL, 0); break;
		case 'O': ops = 1; break;
		case 'x':
			if (set_param(&op, optarg) || kvp_params_validate(&op)) {
				fprintf(stderr, "kvsim: bad -x %s\n", optarg);
				return 2;
			}
			kvsim_ours_params = &op;
			break;
		default:
			fprintf(stderr, "usage: kvsim -t TRACE | -m MOONCAKE.jsonl "
				"[-n N] [-P pol,..|all] [-w f,..] [-b blocks] "
				"[-W low,high] [-D dev=value] [-x param=value] "
				"[-r seed] | -O\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (ops)
		return ops_bench();
	if (trace) {
		struct kvtrace t;

		ret = kvtrace_load(trace, &t);
		if (ret) {
			fprintf(stderr, "kvsim: %s: %s\n", trace, strerror(-ret));
			return 1;
		}
		ret = kvsim_events_from_trace(&t, &ev);
		kvtrace_free(&t);
	} else if (moon) {
		ret = kvsim_events_from_mooncake(moon, &ev, maxreq);
	} else {
		fprintf(stderr, "kvsim: need -t, -m or -O\n");
		return 2;
	}
	if (ret) {
		fprintf(stderr, "kvsim: loading: %s\n", strerror(-ret));
		return 1;
	}
	for (char *ws = strtok(warms, ","); ws; ws = strtok(NULL, ",")) {
		double frac = strtod(ws, NULL);
		uint64_t cap = blocks ? blocks :
			       (uint64_t)(frac * ev.footprint + 0.5);
		char plist[256], *save = NULL;

		snprintf(plist, sizeof(plist), "%s", !strcmp(pols, "all") ?
			 "lru,arc,s3fifo,random,seed,h2o,cxl-kv,cxl-kv-nopf,"
			 "belady,belady-pf" : pols);
		for (char *ps = strtok_r(plist, ",", &save); ps;
		     ps = strtok_r(NULL, ",", &save)) {
			int pol = kvsim_policy_by_name(ps);
			struct kvsim_result r;
			double bb = ev.block_bytes / 1048576.0;

			if (pol < 0) {
				fprintf(stderr, "kvsim: unknown policy %s\n", ps);
				return 2;
			}
			ret = kvsim_run(&ev, pol, cap, &r);
			if (ret) {
				fprintf(stderr, "kvsim: %s: %s\n", ps,
					strerror(-ret));
				return 1;
			}
			printf("policy=%s warm=%.2f cap=%llu reads=%llu hit=%.4f "
			       "cold_read_MiB=%.1f cold_write_MiB=%.1f "
			       "pf_issued=%llu pf_acc=%.3f pf_cov=%.3f "
			       "meta_B_per_token=%.3f dec_per_s=%.3g "
			       "overflows=%llu bad_victims=%llu time_s=%.4f "
			       "late_pf=%llu",
			       ps, frac, (unsigned long long)cap,
			       (unsigned long long)r.reads,
			       r.reads ? (double)r.hits / r.reads : 0,
			       r.cold_read_blocks * bb, r.cold_write_blocks * bb,
			       (unsigned long long)r.pf_issued,
			       r.pf_issued ? (double)r.pf_used / r.pf_issued : 0,
			       r.pf_used ? (double)r.pf_used /
				       (r.pf_used + r.reads - r.hits) : 0,
			       r.meta_per_token, r.decisions_per_s,
			       (unsigned long long)r.overflows,
			       (unsigned long long)r.bad_victims, r.time_s,
			       (unsigned long long)r.late_pf);
			if (pol == KVSIM_OURS || pol == KVSIM_OURS_NOPF)
				printf(" phase_switches=%llu final_phase=%s",
				       (unsigned long long)r.phase_switches,
				       r.final_phase ? "decode" : "prefill");
			if (pol == KVSIM_OURS) {
				printf(" final_W=");
				for (int w = 0; w <= (int)KVP_PF_WINDOW_MAX; w++)
					if (r.w_hist[w])
						printf("%d:%u,", w, r.w_hist[w]);
				for (int k = 0; k < KVTRACE_NKINDS; k++) {
					static const char *const kn[] = {
						"local", "mixed", "retr" };

					if (!r.kind_heads[k])
						continue;
					printf(" %s_heads=%llu %s_meanW=%.2f "
					       "%s_pf=%llu %s_pf_acc=%.3f", kn[k],
					       (unsigned long long)r.kind_heads[k],
					       kn[k], (double)r.kind_w[k] /
					       r.kind_heads[k], kn[k],
					       (unsigned long long)r.kind_pf[k],
					       kn[k], r.kind_pf[k] ?
					       (double)r.kind_pf_used[k] /
					       r.kind_pf[k] : 0);
				}
			}
			printf("\n");
			fflush(stdout);
		}
	}
	kvsim_events_free(&ev);
	return 0;
}
