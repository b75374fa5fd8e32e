#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test of cxl-kv: the host unit tests (one Criterion binary), then the
# guest suites on both topologies.  Prints each runner's totals and a final
# "total: N passed, N failed, N skipped" line; exits non-zero if anything
# failed, if a guest suite did not run, or if it ran no test.
#
#   GUEST_SUITES   suites run in each guest boot (default: smoke,kernel,lib)
#   TOPOS          topologies (default: nvdimm cxl)
#   DEPLOY_TOPOS   topologies of the deploy boot (default: TOPOS; empty: none)
#   CI_FUZZ_SECONDS  the fuzzer's budget per topology, one boot each with
#                  slub_debug and KFENCE (default 90; 0 skips it)
#   CI_FUZZ_SEED   its seed (default: new each run, printed in the totals)
#   CI_NVMEOF      1 (default): one more nvdimm boot, the nvmeof suite (the
#                  cold tier over NVMe/TCP); 0 leaves it out
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$TOP/build}
cd "$TOP" || exit 1

suites=${GUEST_SUITES:-}
if [ -z "$suites" ]; then
	for s in smoke kernel lib; do
		[ -f "tests/kselftest/$s.list" ] && suites="$suites${suites:+,}$s"
	done
fi
topos=${TOPOS:-nvdimm cxl}
pass=0 fail=0 skip=0 bad=0 crit=
t0=$(date +%s)

# guest_suite TOPO SUITE HEADING WHAT [nonempty]: one guest boot of SUITE
# (a list name, or several joined by commas) on TOPO; adds its KTAP totals.
# A failed boot, a boot without results ("WHAT produced no results") or,
# with "nonempty", one that passed nothing sets bad.  Returns 1 without
# results.  The caller's CXLKV_GUEST_ENV, TEST_TIMEOUT and VM_TIMEOUT reach
# tests/vm/run.sh.
guest_suite() {
	local topo=$1 suite=$2 heading=$3 what=$4 nonempty=${5:-} vrc line p f s

	echo
	echo "== $heading =="
	tests/vm/run.sh --topo "$topo" --suite "$suite"
	vrc=$?
	line=$(grep '^ktap\[' "$O/vm/results-$topo-${suite//,/+}.txt" 2>/dev/null | tail -n 1)
	if [ -z "$line" ]; then
		echo "$what produced no results" >&2
		bad=1
		return 1
	fi
	read -r p f s <<< "$(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p' <<< "$line")"
	if [ -n "$nonempty" ] && [ "${p:-0}" -eq 0 ]; then
		echo "$what ran no test" >&2
		bad=1
	fi
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
	[ $vrc -eq 0 ] || bad=1
	return 0
}

echo "== host unit tests (Criterion) =="
if [ -x "$O/unit-tests" ]; then
	"$O/unit-tests" --jobs 2 2>&1 | tee "$O/unit.log"
	urc=${PIPESTATUS[0]}
	syn=$(grep -a 'Synthesis:' "$O/unit.log" | tail -n 1)
	t=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<< "$syn")
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<< "$syn")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<< "$syn")
	c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<< "$syn")
	if [ -z "$t" ] || [ "$t" -eq 0 ]; then
		echo "unit tests ran no test" >&2
		bad=1
	fi
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${c:-0}))
	[ "$urc" -eq 0 ] || bad=1
	crit="criterion: ${p:-0} passed, $(( ${f:-0} + ${c:-0} )) failed"
	echo "$crit"
else
	echo "no $O/unit-tests: build it with 'make'" >&2
	bad=1
fi

echo
echo "== host Python binding tests (unittest) =="
make --no-print-directory -s test-python > "$O/python.log" 2>&1
prc=$?
cat "$O/python.log"
ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} .*/\1/p' "$O/python.log" | tail -n 1)
pskip=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' "$O/python.log" | tail -n 1)
pfail=$(sed -n 's/.*failures=\([0-9]*\).*/\1/p' "$O/python.log" | tail -n 1)
perr=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$O/python.log" | tail -n 1)
pf=$(( ${pfail:-0} + ${perr:-0} ))
if [ -z "$ran" ] || [ "$ran" -eq 0 ]; then
	echo "python tests ran no test" >&2
	bad=1
fi
pp=$(( ${ran:-0} - ${pskip:-0} - pf ))
[ $prc -eq 0 ] || bad=1
pass=$((pass + pp)); fail=$((fail + pf)); skip=$((skip + ${pskip:-0}))
echo "python: $pp passed, $pf failed, ${pskip:-0} skipped"

# The library's symbol map (header == .so exports) and the man pages
# (regenerated == committed; cxl-kv(8) has every command): one case each.
echo
echo "== host checks (symbol map, man pages) =="
hp=0 hf=0
for t in check-syms check-man; do
	if make --no-print-directory -s "$t"; then
		hp=$((hp + 1))
	else
		echo "$t failed" >&2
		hf=$((hf + 1))
	fi
done
pass=$((pass + hp)); fail=$((fail + hf))
hostc="host checks: $hp passed, $hf failed"
echo "$hostc"

for topo in $topos; do
	guest_suite "$topo" "$suites" "guest suites $suites on $topo" \
		"guest suite on $topo" nonempty
done

# The deploy boot (tests/kselftest/deploy.list): the tiers from the installed
# unit and /etc/cxl-kv.conf alone, then a workload, on each topology.
deploy_topos=${DEPLOY_TOPOS-$topos}
for topo in $deploy_topos; do
	[ -f tests/kselftest/deploy.list ] || break
	guest_suite "$topo" deploy "deploy boot on $topo" "deploy boot on $topo"
done

# The fuzzer (tests/kselftest/fuzz.list) for a fixed budget on each topology.
fuzz_secs=${CI_FUZZ_SECONDS:-90}
fuzz_lines=
for topo in $topos; do
	[ "$fuzz_secs" -gt 0 ] || break
	seed=${CI_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	CXLKV_GUEST_ENV="FUZZ_SEED=$seed FUZZ_SECONDS=$fuzz_secs" \
	TEST_TIMEOUT=$((fuzz_secs + 150)) VM_TIMEOUT=$((fuzz_secs + 360)) \
		guest_suite "$topo" fuzz "fuzz on $topo: seed $seed, ${fuzz_secs}s" \
		"fuzz on $topo"
	sum=$(grep -a '^fuzz-summary:' "$O/vm/console-$topo-fuzz.log" 2>/dev/null | tail -n 1)
	fuzz_lines="$fuzz_lines${fuzz_lines:+
}fuzz[$topo]: ${sum#fuzz-summary: }"
	[ -n "$sum" ] || fuzz_lines="${fuzz_lines}no summary (seed $seed): the guest died or hung"
done

# The cold tier over NVMe-over-Fabrics (tests/kselftest/nvmeof.list), one
# nvdimm boot (CI_NVMEOF=0 leaves it out).
nvmeof=${CI_NVMEOF:-1}
[ "$nvmeof" = 1 ] && guest_suite nvdimm nvmeof "nvmeof on nvdimm" nvmeof

echo
echo "== totals =="
echo "${crit:-criterion: did not run}"
echo "python: $pp passed, $pf failed, ${pskip:-0} skipped"
echo "$hostc"
for topo in $topos; do
	cat "$O/vm/results-$topo-${suites//,/+}.txt" 2>/dev/null | grep -E '^(programs|ktap)\['
done
for topo in $deploy_topos; do
	grep -E '^ktap\[' "$O/vm/results-$topo-deploy.txt" 2>/dev/null
done
if [ "$fuzz_secs" -gt 0 ]; then
	for topo in $topos; do
		grep -E '^ktap\[' "$O/vm/results-$topo-fuzz.txt" 2>/dev/null
	done
	echo "$fuzz_lines"
fi
[ "$nvmeof" = 1 ] && grep -E '^(programs|ktap)\[' "$O/vm/results-nvdimm-nvmeof.txt" 2>/dev/null
[ $bad -eq 0 ] || [ $fail -gt 0 ] || fail=$((fail + 1))	# a runner failed without a case
echo "elapsed: $(( $(date +%s) - t0 ))s"
echo "total: $pass passed, $fail failed, $skip skipped"
[ $bad -eq 0 ] && [ $fail -eq 0 ]
