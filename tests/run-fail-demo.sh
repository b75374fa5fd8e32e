#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prove that the rig reports failures: runs the "fail" suite (a failing case,
# and a passing program that leaves a kernel WARNING in the log) and checks
# that the rig fails the suite and marks both programs failed.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$TOP/build}
topo=${TOPO:-nvdimm}

"$TOP/tests/vm/run.sh" --topo "$topo" --suite fail
rc=$?
res=$O/vm/console-$topo-fail.log
ok=1
[ $rc -ne 0 ] || { echo "FAIL: the rig passed a failing suite"; ok=0; }
grep -q '^CXLKV-RESULT name=ksft_fail_demo verdict=fail rc=1 ' "$res" ||
	{ echo "FAIL: the failing case was not reported"; ok=0; }
grep -q '^CXLKV-RESULT name=ksft_fail_demo verdict=fail rc=0 .*dmesg=splat' "$res" ||
	{ echo "FAIL: the kernel WARNING was not reported"; ok=0; }
if [ $ok = 1 ]; then
	echo "fail-demo: both deliberate failures were reported (suite rc=$rc)"
	echo "1 passed, 0 failed"
	exit 0
fi
echo "0 passed, 1 failed"
exit 1
