// SPDX-License-Identifier: GPL-2.0
/*
 * kvtrace - generate a synthetic cxl-kv attention trace, or dump one as text.
 *
 *   kvtrace -p llama3-8b [-s seed] [-k knob=value ...] -o trace.kvt
 *   kvtrace -d trace.kvt            text dump to stdout
 *   kvtrace -l                      list presets
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvtrace_gen.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: kvtrace -p PRESET [-s SEED] [-k KNOB=VAL]... -o FILE\n"
		"       kvtrace -d FILE\n"
		"       kvtrace -l\n"
		"presets: %s\n"
		"knobs: layers kv_heads prompt decode chunk local retr budget\n"
		"       win_local win_mixed sink_local sink_mixed sink_retr pareto\n"
		"       sigma rho on off quiet needles needle_span needle_move\n"
		"       needle_return seqs turns turn_tokens turn_decode think\n",
		kvtrace_preset_names());
}

int main(int argc, char **argv)
{
	struct kvtrace_cfg c;
	struct kvtrace t;
	struct kvtrace_genstats gs;
	const char *out = NULL, *dump = NULL, *preset = "small";
	uint64_t seed = 1;
	int opt, ret, nknob = 0;
	char *knobs[64];

	if (argc == 2 &&
	    (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("%s %s (%s)\n", "kvtrace", CXL_KV_PKG_VERSION,
		       CXL_KV_GIT_REV);
		return 0;
	}

	while ((opt = getopt(argc, argv, "p:s:k:o:d:lh")) != -1) {
		switch (opt) {
		case 'p': preset = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'k':
			if (nknob < 64)
				knobs[nknob++] = optarg;
			break;
		case 'o': out = optarg; break;
		case 'd': dump = optarg; break;
		case 'l': printf("%s\n", kvtrace_preset_names()); return 0;
		default: usage(); return opt == 'h' ? 0 : 2;
		}
	}
	if (dump) {
		ret = kvtrace_load(dump, &t);
		if (ret) {
			fprintf(stderr, "kvtrace: %s: %s\n", dump, strerror(-ret));
			return 1;
		}
		ret = kvtrace_dump_text(&t, stdout);
		kvtrace_free(&t);
		return ret ? 1 : 0;
	}
	if (!out) {
		usage();
		return 2;
	}
	if (kvtrace_preset(preset, &c)) {
		fprintf(stderr, "kvtrace: unknown preset %s\n", preset);
		return 2;
	}
	c.seed = seed;
	for (int i = 0; i < nknob; i++)
		if (kvtrace_cfg_set(&c, knobs[i], 1)) {
			fprintf(stderr, "kvtrace: bad knob %s\n", knobs[i]);
			return 2;
		}
	ret = kvtrace_generate(&c, &t, &gs);
	if (ret) {
		fprintf(stderr, "kvtrace: generate: %s\n", strerror(-ret));
		return 1;
	}
	ret = kvtrace_save(&t, out);
	if (ret) {
		fprintf(stderr, "kvtrace: %s: %s\n", out, strerror(-ret));
		kvtrace_free(&t);
		return 1;
	}
	printf("kvtrace: %s preset=%s seed=%llu geom=%ux%u blocks/head=%u "
	       "steps=%llu reads=%llu heads local/mixed/retr=%u/%u/%u "
	       "reads/head/step=%.1f hh_persistence=%.3f sink_mass=%.3f "
	       "local_heads_mass_in_window=%.3f regains=%llu\n",
	       out, preset, (unsigned long long)seed, t.h.layers, c.kv_heads,
	       t.h.blocks_per_head, (unsigned long long)gs.steps,
	       (unsigned long long)gs.reads, gs.n_local, gs.n_mixed, gs.n_retr,
	       gs.reads_per_head_step, gs.hh_persistence, gs.sink_mass,
	       gs.local_mass_local, (unsigned long long)gs.regains);
	kvtrace_free(&t);
	return 0;
}
