#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-policy.sh - replay generated traces and the Mooncake trace under every
# policy at several warm fractions; print a table, a plot and a summary line.
#
#   O=build MOONCAKE=path/conversation_trace.jsonl scripts/bench-policy.sh
#
# Outputs under $O/bench-policy/: traces (*.kvt), raw kvsim lines (*.res, all.txt),
# table.md, hit-vs-warm.png (if gnuplot is installed).  Never committed.
set -euo pipefail

O=${O:-build}
MOONCAKE=${MOONCAKE:-../shared/data/mooncake-fast25/conversation_trace.jsonl}
SEED=${SEED:-1}
PRESETS=${PRESETS:-"llama3-8b llama3-8b-retr llama3-8b-dense"}
WARMS="0.05,0.10,0.25,0.50,0.75"
POLS="lru,seed,h2o,cxl-kv,cxl-kv-nopf,belady"
D=$O/bench-policy
mkdir -p "$D"

for p in $PRESETS; do
	"$O/kvtrace" -p "$p" -s "$SEED" -o "$D/$p.kvt" | sed 's/^/# /'
	"$O/kvsim" -t "$D/$p.kvt" -P "$POLS" -w "$WARMS" | sed "s/^/trace=$p /" \
		> "$D/$p.res"
done
if [ -r "$MOONCAKE" ]; then
	"$O/kvsim" -m "$MOONCAKE" -P lru,cxl-kv,cxl-kv-nopf,belady -w "$WARMS" |
		sed 's/^/trace=mooncake /' > "$D/mooncake.res"
	echo "# mooncake: $MOONCAKE"
else
	rm -f "$D/mooncake.res"
	echo "# mooncake: skipped: trace file '$MOONCAKE' not readable (set MOONCAKE=)"
fi
"$O/kvsim" -O | sed 's/^/# /'

cat "$D"/*.res > "$D/all.txt"

# table: one row per trace x warm in {10,25,50} %
awk -v presets="$PRESETS" '
function gib(v) { return v == "" ? "-" : sprintf("%.1f", v / 1024) }
function kv(s, k,   i, n, a, b) {
	n = split(s, a, " ");
	for (i = 1; i <= n; i++) { split(a[i], b, "="); if (b[1] == k) return b[2] }
	return ""
}
{
	t = kv($0, "trace"); w = kv($0, "warm"); p = kv($0, "policy");
	hit[t, w, p] = kv($0, "hit");
	crd[t, w, p] = kv($0, "cold_read_MiB");
	if (!(t in seen)) { seen[t] = 1; order[++nt] = t }
	if (p == "cxl-kv") meta[t] = kv($0, "meta_B_per_token");
}
END {
	printf "| trace | warm | lru | seed | h2o | cxl-kv | cxl-kv-nopf | belady | cxl-kv/belady | cold read GiB lru/seed/cxl-kv/belady |\n";
	printf "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
	split("0.10 0.25 0.50", ws, " ");
	for (i = 1; i <= nt; i++) {
		t = order[i];
		for (j = 1; j <= 3; j++) {
			w = ws[j]; line = sprintf("| %s | %d %% |", t, w * 100);
			split("lru seed h2o cxl-kv cxl-kv-nopf belady", ps, " ");
			for (k = 1; k <= 6; k++) {
				v = hit[t, w, ps[k]];
				line = line sprintf(" %s |", v == "" ? "-" : sprintf("%.3f", v));
			}
			b = hit[t, w, "belady"]; o = hit[t, w, "cxl-kv"];
			line = line sprintf(" %s |", b > 0 ? sprintf("%.3f", o / b) : "-");
			line = line sprintf(" %s / %s / %s / %s |", gib(crd[t, w, "lru"]),
				gib(crd[t, w, "seed"]), gib(crd[t, w, "cxl-kv"]),
				gib(crd[t, w, "belady"]));
			print line;
		}
	}
	# summary over the generated traces (not Mooncake)
	n = 0; r = 0; d = 0; m = 0;
	for (i = 1; i <= nt; i++) {
		t = order[i]; if (t == "mooncake") continue;
		b = hit[t, "0.25", "belady"]; o = hit[t, "0.25", "cxl-kv"];
		l = hit[t, "0.25", "lru"];
		n++; r += (b > 0 ? o / b : 0); d += (o - l) * 100; m += meta[t];
	}
	printf "\npolicy-summary: ours/belady@25%%=%.2f ours-lru@25%%=%+.1f meta_bytes_per_token=%.2f\n",
		r / n, d / n, m / n;
}' "$D/all.txt" > "$D/table.md"

# plot: hit rate against warm fraction, one panel per trace
if command -v gnuplot >/dev/null 2>&1; then
	for t in $(awk '{split($1,a,"="); print a[2]}' "$D/all.txt" | uniq); do
		for p in lru seed h2o cxl-kv cxl-kv-nopf belady; do
			{ grep "^trace=$t policy=$p " "$D/all.txt" || true; } |
				sed 's/.* warm=\([0-9.]*\) .* hit=\([0-9.]*\) .*/\1 \2/' \
				> "$D/plot-$t-$p.dat"
		done
	done
	{
		echo "set terminal png size 1400,1000"
		echo "set output '$D/hit-vs-warm.png'"
		echo "set multiplot layout 2,2"
		echo "set key bottom right"
		echo "set xlabel 'warm capacity (fraction of footprint)'"
		echo "set ylabel 'warm hit rate'"
		echo "set yrange [0:1.02]"
		for t in $(awk '{split($1,a,"="); print a[2]}' "$D/all.txt" | uniq); do
			printf "set title '%s'\nplot " "$t"
			sep=""
			lt=0
			for p in lru seed h2o cxl-kv cxl-kv-nopf belady; do
				lt=$((lt + 1))
				[ -s "$D/plot-$t-$p.dat" ] || continue
				printf "%s'%s' using 1:2 with linespoints lt %d title '%s'" \
					"$sep" "$D/plot-$t-$p.dat" "$lt" "$p"
				sep=", "
			done
			echo
		done
		echo "unset multiplot"
	} > "$D/plot.gp"
	gnuplot "$D/plot.gp" && echo "# plot: $D/hit-vs-warm.png"
else
	echo "# plot: skipped: gnuplot not installed"
fi

cat "$D/table.md" | sed '$d'
# per-head prefetch adaptivity (generator ground truth for the head kinds)
echo
echo "# cxl-kv prefetch by head kind: heads, mean final W, accuracy"
{ grep ' policy=cxl-kv ' "$D/all.txt" | grep -v '^trace=mooncake' || true; } |
	awk '{ t = $1; w = $3; s = ""; for (i = 1; i <= NF; i++)
		if ($i ~ /^(local|mixed|retr)_(heads|meanW|pf_acc)=/) s = s " " $i;
		if (w == "warm=0.10" || w == "warm=0.25") print "#", t, w, s }'
echo
tail -n 1 "$D/table.md"
