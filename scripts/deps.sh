#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install what cxl-kv needs to build and to run its guest tests, from Debian
# packages only. Idempotent: prints and installs only what is missing.
#
#   scripts/deps.sh            install everything
#   scripts/deps.sh --check    exit 1 if anything is missing, install nothing
#
# The guest kernel is Debian's newest linux-image-6.12.*+deb12-amd64-unsigned,
# resolved at install time; QEMU comes from bookworm-backports (7.2 cannot
# emulate a volatile CXL type-3 device for 6.12).  The backports source is
# derived from the machine's own Debian sources file, naming no host here.
set -eu

CHECK_ONLY=0
[ "${1:-}" = "--check" ] && CHECK_ONLY=1

PKGS="busybox-static cpio kmod xz-utils numactl ndctl daxctl liburing-dev \
libnuma-dev libcriterion-dev pkg-config sparse gnuplot-nox bc e2fsprogs python3 python3-numpy \
libdaxctl-dev libjson-c-dev nvme-cli"

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0

log() { printf 'deps: %s\n' "$*"; }

need_root() {
	if [ "$(id -u)" != 0 ]; then
		log "missing packages and not root: run 'sudo make deps'"
		exit 1
	fi
}

apt_update() {
	[ "$APT_UPDATED" = 1 ] && return 0
	log "apt-get update"
	apt-get update -qq >/dev/null
	APT_UPDATED=1
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed'
}

missing=""
for p in $PKGS; do
	installed "$p" || missing="$missing $p"
done

# Guest kernel: any installed 6.12 image with its headers will do.
have_kernel=0
for img in /boot/vmlinuz-6.12.*-amd64; do
	[ -e "$img" ] || continue
	kver=${img#/boot/vmlinuz-}
	[ -d "/usr/src/linux-headers-$kver" ] && have_kernel=1
done

qemu_ok=0
if command -v qemu-system-x86_64 >/dev/null 2>&1; then
	qv=$(qemu-system-x86_64 --version | sed -n 's/.*version \([0-9]*\)\..*/\1/p')
	[ "${qv:-0}" -ge 8 ] && qemu_ok=1
fi

if [ -z "$missing" ] && [ $have_kernel = 1 ] && [ $qemu_ok = 1 ]; then
	[ $CHECK_ONLY = 1 ] || log "all dependencies present"
	exit 0
fi
if [ $CHECK_ONLY = 1 ]; then
	log "missing:${missing}$( [ $have_kernel = 1 ] || echo ' linux-6.12')$( [ $qemu_ok = 1 ] || echo ' qemu>=8')"
	exit 1
fi
need_root

if [ -n "$missing" ]; then
	apt_update
	log "installing:$missing"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ $have_kernel = 0 ]; then
	apt_update
	# Newest 6.12 point release still in the archive.
	kver=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9.]*\+deb12-amd64-unsigned$' |
	       sed -n 's/^linux-image-\(6\.12\.[^ ]*-amd64\)-unsigned .*/\1/p' |
	       sort -V | tail -n 1)
	if [ -z "$kver" ]; then
		log "no linux-image-6.12.*+deb12-amd64-unsigned in the archive"
		exit 1
	fi
	log "installing guest kernel $kver (image + headers, no initrd)"
	INITRD=No apt-get install -y -qq --no-install-recommends \
		"linux-image-$kver-unsigned" "linux-headers-$kver" >/dev/null
fi

if [ $qemu_ok = 0 ]; then
	src=/etc/apt/sources.list.d/debian-backports.sources
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		log "adding bookworm-backports (derived from debian.sources)"
		awk 'BEGIN { RS = ""; ORS = "\n" } NR == 1 { print; exit }' \
			/etc/apt/sources.list.d/debian.sources |
			sed 's/^Suites:.*/Suites: bookworm-backports/' > "$src"
		APT_UPDATED=0
	fi
	apt_update
	log "installing qemu-system-x86 from bookworm-backports"
	apt-get install -y -qq --no-install-recommends -t bookworm-backports \
		qemu-system-x86 >/dev/null
fi
log "done"
