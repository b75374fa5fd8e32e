#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The committed man pages are what their sources say:
#  - section 3: lib/kdoc2man.py regenerated into a scratch directory equals
#    Documentation/man/*.3 (the .TH date aside), page for page;
#  - cxl-kv(8): every command 'cxl-kv help' lists has its entry (".B verb").
# Prints one line per failure and "check-man: ..." on success.
#
#   scripts/check-man.sh BUILD_DIR CXL_KV_BINARY
set -eu
O=$1
CLI=$2
tmp=$O/man-check
rm -rf "$tmp"
mkdir -p "$tmp"
MAN_DATE=0000-00-00 lib/kdoc2man.py "$tmp" >/dev/null
bad=0
strip() { grep -v '^\.TH ' "$1"; }
for f in "$tmp"/*.3; do
	n=$(basename "$f")
	if [ ! -f "Documentation/man/$n" ]; then
		echo "check-man: Documentation/man/$n missing (run 'make man')"
		bad=1
	else
		strip "Documentation/man/$n" > "$tmp/$n.want"
		if ! strip "$f" | cmp -s - "$tmp/$n.want"; then
			echo "check-man: Documentation/man/$n differs from its source (run 'make man'):"
			strip "$f" | diff -u "$tmp/$n.want" - | sed -n '3,12p'
			bad=1
		fi
	fi
done
for f in Documentation/man/*.3; do
	n=$(basename "$f")
	[ -f "$tmp/$n" ] || { echo "check-man: $f has no source (stale page)"; bad=1; }
done
nverbs=0
for v in $("$CLI" help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'); do
	nverbs=$((nverbs + 1))
	grep -q "^\.B $v\b" Documentation/man/cxl-kv.8 ||
		{ echo "check-man: cxl-kv(8) has no entry for '$v'"; bad=1; }
done
[ "$nverbs" -gt 0 ] || { echo "check-man: 'cxl-kv help' listed no command"; bad=1; }
[ $bad = 0 ] || exit 1
echo "check-man: $(ls "$tmp"/*.3 | wc -l) section-3 pages match their sources, $nverbs cxl-kv commands in cxl-kv(8)"
