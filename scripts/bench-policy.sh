#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-policy.sh - replay generated traces and the Mooncake trace under every
# policy at 5/10/25/50/75 % warm; print the whole table (hit rate, cold MiB
# read and written, modelled time), one PNG per trace, and a summary line.
#
#   O=build MOONCAKE=path/conversation_trace.jsonl scripts/bench-policy.sh
#   O=build HELDOUT=1 MOONCAKE=path/other_trace.jsonl scripts/bench-policy.sh
#
# Outputs under $O/bench-policy/: traces (*.kvt), raw kvsim lines (*.res,
# all.txt), table.md, cells.md, <trace>.png (gnuplot).  Never committed.
# Extra kvsim options (device model, watermarks) go in KVSIM_OPTS.
# TABULATE=1 only redoes the tables, plots and summary from the *.res files.
set -euo pipefail

O=${O:-build}
MOONCAKE=${MOONCAKE:-../shared/data/mooncake-fast25/conversation_trace.jsonl}
SEED=${SEED:-1}
KVSIM_OPTS=${KVSIM_OPTS:-}
WARMS="0.05,0.10,0.25,0.50,0.75"
POLS="lru,arc,s3fifo,random,seed,h2o,cxl-kv,cxl-kv-nopf,belady,belady-pf"
BASELINES="lru arc s3fifo random seed h2o"
TABULATE=${TABULATE:-0}
D=$O/bench-policy
mkdir -p "$D"
[ "$TABULATE" = 1 ] || rm -f "$D"/*.res

# name | kvtrace arguments (a trace's own -s wins over SEED)
SUITE="
llama3-8b|-p llama3-8b
llama3-8b-retr|-p llama3-8b-retr
llama3-8b-dense|-p llama3-8b-dense
diffuse|-p llama3-8b -k pareto=3 -k budget=0.5 -k sigma=1 -k local=0.4
make-run|-p llama3-8b -k prompt=416 -k decode=96 -k win_local=2 -k win_mixed=1
serve|-p serve
"
# HELDOUT=1: the held-out traces of Documentation/policy.rst (other seeds,
# geometries and knobs; never used to choose a rule or a constant)
HELD="
qwen-like|-p llama3-8b -s 7 -k layers=28 -k kv_heads=4 -k prompt=6000 -k pareto=2 -k budget=0.3
serve-small|-p serve-small -s 5
mix|-p llama3-8b -s 11 -k local=0.5 -k retr=0.1 -k win_mixed=2 -k sigma=0.8 -k layers=16
dense-12k|-p llama3-8b-dense -s 3 -k layers=16 -k prompt=12000 -k decode=192
serve-6|-p serve -s 9 -k seqs=6 -k think=96
small-run|-p llama3-8b -s 13 -k prompt=416 -k decode=96 -k win_local=2 -k win_mixed=1 -k layers=24 -k kv_heads=4
"
if [ "${HELDOUT:-0}" = 1 ]; then
	TRACES=${TRACES:-$HELD}
else
	TRACES=${TRACES:-$SUITE}
fi

run_trace() {
	local name=$1 args=$2
	# shellcheck disable=SC2086
	"$O/kvtrace" -s "$SEED" $args -o "$D/$name.kvt" | sed 's/^/# /'
	# shellcheck disable=SC2086
	"$O/kvsim" $KVSIM_OPTS -t "$D/$name.kvt" -P "$POLS" -w "$WARMS" |
		sed "s/^/trace=$name /" > "$D/$name.res"
}

# two traces at a time (the host has two cores)
while IFS='|' read -r name args; do
	[ -n "$name" ] && [ "$TABULATE" != 1 ] || continue
	run_trace "$name" "$args" &
	[ "$(jobs -r | wc -l)" -lt 2 ] || wait -n
done <<< "$TRACES"
wait
if [ "$TABULATE" = 1 ]; then
	:
elif [ -r "$MOONCAKE" ]; then
	# shellcheck disable=SC2086
	"$O/kvsim" $KVSIM_OPTS -m "$MOONCAKE" -P "$POLS" -w "$WARMS" |
		sed 's/^/trace=mooncake /' > "$D/mooncake.res"
	echo "# mooncake: $MOONCAKE"
else
	echo "# mooncake: skipped: trace file '$MOONCAKE' not readable (set MOONCAKE=)"
fi
[ "$TABULATE" = 1 ] || "$O/kvsim" -O > "$D/ops.txt"
sed 's/^/# /' "$D/ops.txt"
# metadata per token per head: the core's state for Llama-70B at 128K tokens
META=$(sed -n 's/.* meta_B_per_token=\([0-9.]*\) .*/\1/p' "$D/ops.txt")

: > "$D/all.txt"
while IFS='|' read -r name args; do
	[ -n "$name" ] && cat "$D/$name.res" >> "$D/all.txt"
done <<< "$TRACES"
[ -r "$D/mooncake.res" ] && cat "$D/mooncake.res" >> "$D/all.txt"

awk -v pols="${POLS//,/ }" -v base="$BASELINES" -v tab="$D/table.md" \
    -v cells="$D/cells.md" -v meta="${META:-0}" '
function kv(s, k,   i, n, a, b) {
	n = split(s, a, " ");
	for (i = 1; i <= n; i++) { split(a[i], b, "="); if (b[1] == k) return b[2] }
	return ""
}
{
	t = kv($0, "trace"); w = kv($0, "warm"); p = kv($0, "policy");
	hit[t, w, p] = kv($0, "hit"); tim[t, w, p] = kv($0, "time_s");
	crd[t, w, p] = kv($0, "cold_read_MiB"); cwr[t, w, p] = kv($0, "cold_write_MiB");
	acc[t, w, p] = kv($0, "pf_acc"); pfi[t, w, p] = kv($0, "pf_issued");
	ovf[t, w, p] = kv($0, "overflows");
	if (!(t in seen)) { seen[t] = 1; order[++nt] = t }
	if (!((t, w) in wseen)) { wseen[t, w] = 1; ws[t, ++nw[t]] = w }
}
END {
	np = split(pols, pl, " "); nb = split(base, bl, " ");
	print "| trace | warm | policy | hit | cold MiB read | cold MiB written | modelled s | pf acc |" > tab;
	print "| --- | --- | --- | --- | --- | --- | --- | --- |" > tab;
	print "| trace | warm | best baseline (hit) | cxl-kv hit | diff pts | bound | gap closed | fastest baseline (s) | cxl-kv s | time ratio |" > cells;
	print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" > cells;
	worst_hit = 1e9; worst_time = 0; ngap = 0; sgap = 0;
	for (i = 1; i <= nt; i++) {
		t = order[i];
		for (j = 1; j <= nw[t]; j++) {
			w = ws[t, j];
			for (k = 1; k <= np; k++) {
				p = pl[k];
				if (hit[t, w, p] == "") continue;
				printf "| %s | %d %% | %s | %.4f | %.1f | %.1f | %.4g | %s |\n", t,
				       w * 100 + 0.5, p, hit[t, w, p], crd[t, w, p],
				       cwr[t, w, p], tim[t, w, p],
				       (pfi[t, w, p] + 0 > 0) ? sprintf("%.3f", acc[t, w, p]) : "-" > tab;
			}
			bh = -1; bt = 1e99; bn = ""; tn = "";
			for (k = 1; k <= nb; k++) {
				p = bl[k];
				if (hit[t, w, p] == "") continue;
				if (hit[t, w, p] + 0 > bh) { bh = hit[t, w, p] + 0; bn = p }
				if (tim[t, w, p] + 0 < bt) { bt = tim[t, w, p] + 0; tn = p }
			}
			o = hit[t, w, "cxl-kv"] + 0; ot = tim[t, w, "cxl-kv"] + 0;
			bd = hit[t, w, "belady"] + 0;
			if (hit[t, w, "belady-pf"] + 0 > bd) bd = hit[t, w, "belady-pf"] + 0;
			d = (o - bh) * 100; r = bt > 0 ? ot / bt : 1;
			if (d < worst_hit) { worst_hit = d; wh_at = t "@" w }
			if (r > worst_time) { worst_time = r; wt_at = t "@" w }
			g = "-";
			if (ovf[t, w, "cxl-kv"] + 0 > 0) {
				# protected blocks exceed the capacity: not comparable
				g = "overflow";
			} else if (bd - bh >= 0.05) {
				f = (o - bh) / (bd - bh); ngap++; sgap += f;
				g = sprintf("%.2f", f);
			}
			printf "| %s | %d %% | %s %.4f | %.4f | %+.1f | %.4f | %s | %s %.4g | %.4g | %.3f |\n",
			       t, w * 100 + 0.5, bn, bh, o, d, bd, g, tn, bt, ot, r > cells;
		}
	}
	printf "policy-summary: worst_hit_vs_best_baseline=%+.1f pts  worst_time_vs_best_baseline=%.3f  mean_gap_closed=%.2f  meta_bytes_per_token=%.2f\n",
	       worst_hit, worst_time, ngap ? sgap / ngap : 1, meta;
	printf "# worst hit cell %s, worst time cell %s, %d cells with a gap >= 5 pts (cells where cxl-kv overflows its capacity, its protected blocks exceeding it, left out)\n",
	       wh_at, wt_at, ngap > "/dev/stderr";
}' "$D/all.txt" > "$D/summary.txt" 2> "$D/worst.txt"

# plots: hit rate and modelled time against warm fraction, one PNG per trace

# One gnuplot 'plot' line: column $2 of every policy's data file of trace $1
# against the warm fraction (the policy's index in POLS is its line type).
plot_column() {
	local sep="" lt=0 p
	printf "plot "
	for p in ${POLS//,/ }; do
		lt=$((lt + 1))
		[ -s "$D/plot-$1-$p.dat" ] || continue
		printf "%s'%s' using 1:%d with linespoints lt %d title '%s'" \
			"$sep" "$D/plot-$1-$p.dat" "$2" "$lt" "$p"
		sep=", "
	done
	echo
}

if command -v gnuplot >/dev/null 2>&1; then
	for t in $(awk '{split($1,a,"="); print a[2]}' "$D/all.txt" | uniq); do
		gp="$D/plot-$t.gp"
		{
			echo "set terminal png size 1400,600"
			echo "set output '$D/$t.png'"
			echo "set multiplot layout 1,2 title '$t'"
			echo "set key bottom right"
			echo "set xlabel 'warm capacity (fraction of footprint)'"
			echo "set ylabel 'demand hit rate'"
			echo "set yrange [0:1.02]"
			for p in ${POLS//,/ }; do
				{ grep "^trace=$t policy=$p " "$D/all.txt" || true; } |
					sed 's/.* warm=\([0-9.]*\) .* hit=\([0-9.]*\) .* time_s=\([0-9.e+-]*\) .*/\1 \2 \3/' \
					> "$D/plot-$t-$p.dat"
			done
			plot_column "$t" 2
			echo "set ylabel 'modelled replay time (s)'"
			echo "set logscale y"
			echo "set autoscale y"
			echo "set key top right"
			plot_column "$t" 3
			echo "unset multiplot"
		} > "$gp"
		gnuplot "$gp" && echo "# plot: $D/$t.png"
	done
else
	echo "# plot: skipped: gnuplot not installed"
fi

echo
echo "## Every trace x warm x policy"
echo
cat "$D/table.md"
echo
echo "## Per cell: cxl-kv against the best baseline ($BASELINES) and the bound"
echo
cat "$D/cells.md"
echo
echo "## cxl-kv prefetch by head kind (generator ground truth): heads, mean final W, accuracy"
echo
{ grep ' policy=cxl-kv ' "$D/all.txt" | grep -v '^trace=mooncake' || true; } |
	awk '{ t = $1; w = $3; s = ""; for (i = 1; i <= NF; i++)
		if ($i ~ /^(local|mixed|retr)_(heads|meanW|pf_acc)=/) s = s " " $i;
		if (w == "warm=0.10" || w == "warm=0.25") print "#", t, w, s }'
echo
cat "$D/worst.txt"
cat "$D/summary.txt"
