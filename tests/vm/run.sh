#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's Linux 6.12 under QEMU with an emulated tier set, run one guest
# suite and bring its verdict back to the host.
#
#   tests/vm/run.sh --topo cxl|nvdimm --suite NAME    run tests/kselftest/NAME.list
#   tests/vm/run.sh --topo cxl|nvdimm --shell         interactive shell in the guest
#   --cold local|nvmeof   the cold drives as they are (default), or exported
#                         by nvmet over NVMe/TCP on 127.0.0.1 and connected
#                         with nvme-cli: CXLKV_NVME and CXLKV_NVME2 are then
#                         the fabric namespaces (default for suite nvmeof)
#
# Topologies (both with three NVMe drives whose images are made new each
# boot: two for the tiers, one for the swap baseline):
#   cxl     q35 cxl=on, a volatile CXL type-3 device; in the guest a RAM region
#           is made through sysfs, its dax device handed to kmem: a CPU-less
#           node in a lower memory tier.  Emulated CXL memory is MMIO inside
#           QEMU (~15 MiB/s): small data only.
#   nvdimm  an emulated nvdimm on a CPU-less node, devdax -> kmem: the same
#           shape at RAM speed, for bulk and timed work; a second
#           CPU-less node of plain RAM (CXLKV_WARM_NODE2) for striping.
#
# The verdict comes back over the serial console as "CXLKV-RESULT" lines; the
# host prints a KTAP-style summary and a "ktap[TOPO]: N passed, N failed,
# N skipped" line, writes it to $O/vm/results-TOPO-SUITE.txt, and exits
# non-zero if any program failed or if no program ran.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-$TOP/build}
TOPO=nvdimm
SUITE=smoke
SHELL_MODE=0
COLD=${VM_COLD:-}
TIMEOUT=${VM_TIMEOUT:-900}
TEST_TIMEOUT=${TEST_TIMEOUT:-300}

while [ $# -gt 0 ]; do
	case "$1" in
	--topo) TOPO=$2; shift 2 ;;
	--suite) SUITE=$2; shift 2 ;;
	--shell) SHELL_MODE=1; shift ;;
	--cold) COLD=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	*) echo "usage: $0 --topo cxl|nvdimm (--suite NAME | --shell)" >&2; exit 2 ;;
	esac
done
case "$TOPO" in cxl|nvdimm) ;; *) echo "unknown topology '$TOPO'" >&2; exit 2 ;; esac
case ",$SUITE," in *,nvmeof,*) COLD=${COLD:-nvmeof} ;; esac
COLD=${COLD:-local}
case "$COLD" in local|nvmeof) ;; *) echo "unknown cold tier '$COLD'" >&2; exit 2 ;; esac
# --suite a,b,c runs several lists in one boot; cxl_kv is loaded before the
# first suite other than "smoke" (which loads and unloads it itself).
if [ $SHELL_MODE = 0 ]; then
	for s in ${SUITE//,/ }; do
		if [ ! -f "$TOP/tests/kselftest/$s.list" ]; then
			echo "no suite '$s' (tests/kselftest/$s.list)" >&2
			exit 2
		fi
	done
fi
SUITE_TAG=${SUITE//,/+}

# The guest kernel: newest installed Debian 6.12 image with its modules.
KVER=${GUEST_KVER:-}
if [ -z "$KVER" ]; then
	for img in /boot/vmlinuz-6.12.*-amd64; do
		[ -e "$img" ] || continue
		k=${img#/boot/vmlinuz-}
		[ -d "/lib/modules/$k/kernel" ] && KVER=$k
	done
fi
if [ -z "$KVER" ]; then
	echo "no Linux 6.12 image in /boot: run 'make deps'" >&2
	exit 1
fi
KO=${KO:-$TOP/cxl_kv.ko}
if [ ! -f "$KO" ]; then
	echo "cxl_kv.ko not built: run 'make'" >&2
	exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cxlkv-vm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,tmp,run,mnt,usr/lib,lib64,lib/x86_64-linux-gnu}
mkdir -p "$ROOT/opt/cxlkv/bin" "$ROOT/lib/modules/$KVER/extra"

# copy_bin FILE DEST: a binary and every shared library it needs.
copy_bin() {
	install -m 0755 "$1" "$2"
	# Not every executable is ELF (scripts have no libraries to copy).
	{ ldd "$1" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | while read -r lib; do
		[ -e "$ROOT$lib" ] || { mkdir -p "$ROOT$(dirname "$lib")"; cp -L "$lib" "$ROOT$lib"; }
	done
}

cp /bin/busybox "$ROOT/bin/busybox"
for b in kmod ndctl daxctl numactl; do
	copy_bin "$(command -v $b)" "$ROOT/bin/$b"
done
# nvme-cli: connects the NVMe/TCP cold tier (--cold nvmeof).
if command -v nvme >/dev/null; then
	copy_bin "$(command -v nvme)" "$ROOT/bin/nvme"
elif [ "$COLD" = nvmeof ]; then
	echo "no nvme-cli for --cold nvmeof: run 'make deps'" >&2
	exit 1
fi
for l in modprobe insmod rmmod lsmod modinfo; do ln -sf kmod "$ROOT/sbin/$l"; done

# Kernel modules the tiers need, with their dependency chains.
MODS="cxl_acpi cxl_pci cxl_mem cxl_pmem dax_cxl device_dax kmem nvme nfit libnvdimm
      nd_pmem dax_pmem dm_mod dm_flakey dm_delay configfs nvmet nvmet_tcp nvme_tcp"
for m in $MODS; do
	modprobe -S "$KVER" --show-depends --ignore-install "$m" 2>/dev/null |
		awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r f; do
	mkdir -p "$ROOT$(dirname "$f")"
	# Debian ships .ko.xz; kmod in the guest loads plain ELF.
	case "$f" in
	*.xz) xz -dc "$f" > "$ROOT${f%.xz}" ;;
	*) cp "$f" "$ROOT$f" ;;
	esac
done
cp /lib/modules/"$KVER"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$KVER/"
cp "$KO" "$ROOT/lib/modules/$KVER/extra/"
depmod -b "$ROOT" "$KVER"

# Our programs: guest tests and every executable the build made.
for f in "$O"/ktest/* "$O"/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	case "$f" in *.so|*.so.*|*.a) continue ;; esac
	copy_bin "$f" "$ROOT/opt/cxlkv/bin/$(basename "$f")"
done
for f in "$O"/*.so.*; do
	[ -f "$f" ] && cp -P "$f" "$ROOT/usr/lib/"
done
# Suite lists: "@TOPO prog args" lines run only on that topology; "%load"
# tells the guest to load cxl_kv.
: > "$ROOT/etc/suite.list"
if [ $SHELL_MODE = 0 ]; then
	loaded=0
	for s in ${SUITE//,/ }; do
		if [ "$s" != smoke ] && [ $loaded = 0 ]; then
			echo "%load" >> "$ROOT/etc/suite.list"
			loaded=1
		fi
		grep -v '^[[:space:]]*\(#\|$\)' "$TOP/tests/kselftest/$s.list" |
			sed -e "s/^@$TOPO[[:space:]]\{1,\}//" | grep -v '^@' >> "$ROOT/etc/suite.list" || true
	done
fi
# A suite list "deploy": the guest boots from the installed deployment files
# (make install-deploy: cxl-kv.service, modules-load.d) and a configuration
# for the topology, and brings its tiers up with them alone (cxlkv.deploy=1).
DEPLOY=0
case ",$SUITE," in *,deploy,*) DEPLOY=1 ;; esac
if [ $DEPLOY = 1 ]; then
	make --no-print-directory -s -C "$TOP" install-deploy DESTDIR="$ROOT" \
		BINDIR=/opt/cxlkv/bin SYSTEMDUNITDIR=/lib/systemd/system O="$O" >/dev/null
	{
		echo "# the rig's tier set (tests/vm/run.sh, topology $TOPO)"
		if [ "$TOPO" = cxl ]; then
			echo "region = mem0"
		else
			echo "dax = dax0.0"
		fi
		echo "cold = /dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_kvtier0001"
		echo "budget = 16M"
		echo "high_wmark = 80%"
		echo "low_wmark = 70%"
		echo "# site-wide policy defaults: two lines, one set"
		echo "policy = alpha_q16=32768 tau_steps=2000"
		echo "policy = sink_tokens=8, recent_tokens=32"
	} > "$ROOT/etc/cxl-kv.conf"
fi
# Python 3 with numpy, only for suites that run it (a "python3 ..." or
# "py_..." line): Debian's interpreter with its standard library (no tests,
# no Tk/IDLE), numpy and every library they load, and the binding installed
# as 'make install-python' installs it (PREFIX=/usr).
if grep -q '^\(python3\|py_\)' "$ROOT/etc/suite.list"; then
	PY=$(readlink -f /usr/bin/python3)
	mkdir -p "$ROOT/usr/bin"
	copy_bin "$PY" "$ROOT$PY"
	ln -sf "$(basename "$PY")" "$ROOT/usr/bin/python3"
	ln -sf /usr/bin/python3 "$ROOT/opt/cxlkv/bin/python3"
	pylib=usr/lib/$(basename "$PY")
	(cd / && tar cf - --exclude=test --exclude=tests --exclude=idlelib \
		--exclude=tkinter --exclude=turtledemo --exclude=ensurepip \
		--exclude=lib2to3 --exclude=config-\* "$pylib" \
		usr/lib/python3/dist-packages/numpy) | tar xf - -C "$ROOT"
	find "$ROOT/$pylib/lib-dynload" "$ROOT/usr/lib/python3/dist-packages/numpy" \
		-name '*.so' | while read -r so; do
		{ ldd "$so" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } |
		while read -r lib; do
			[ -e "$ROOT$lib" ] || { mkdir -p "$ROOT$(dirname "$lib")"; cp -L "$lib" "$ROOT$lib"; }
		done
	done
	make --no-print-directory -s -C "$TOP" install-python DESTDIR="$ROOT" \
		PREFIX=/usr O="$O" >/dev/null
fi
install -m 0755 "$TOP/tests/vm/init" "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc --quiet) > "$WORK/initramfs.cpio"

# Backing files, new each boot.
truncate -s 256M "$WORK/nvme0.img" "$WORK/nvme1.img" "$WORK/nvme2.img"
# nvme2 (serial kvtier0003): the swap baseline of cxl-kv-bench (CXLKV_SWAP).
DRIVES=(-drive file="$WORK/nvme0.img",if=none,id=nvm0,format=raw,cache=none
	-device nvme,bus=pcie.0,serial=kvtier0001,drive=nvm0
	-drive file="$WORK/nvme1.img",if=none,id=nvm1,format=raw,cache=none
	-device nvme,bus=pcie.0,serial=kvtier0002,drive=nvm1
	-drive file="$WORK/nvme2.img",if=none,id=nvm2,format=raw,cache=none
	-device nvme,bus=pcie.0,serial=kvtier0003,drive=nvm2)
if [ "$TOPO" = cxl ]; then
	truncate -s 512M "$WORK/cxl.raw"
	MACHINE=(-machine q35,cxl=on -m 2G,maxmem=8G,slots=4
		-object memory-backend-file,id=cxl-mem1,share=on,mem-path="$WORK/cxl.raw",size=512M
		-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
		-device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2
		-device cxl-type3,bus=root_port13,volatile-memdev=cxl-mem1,id=cxl-vmem0
		-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G)
else
	# The warm tier: an nvdimm handed to kmem (a lower memory tier).  A
	# second CPU-less node (256 MiB of plain RAM) for multi-node striping;
	# a second nvdimm would misalign the first one's memory blocks and
	# cost it two thirds of its usable size.  Linux numbers the nodes.
	truncate -s 512M "$WORK/nv.raw"
	MACHINE=(-machine q35,nvdimm=on -m 2304M,slots=2,maxmem=4G
		-object memory-backend-ram,id=m0,size=2G
		-object memory-backend-ram,id=m2,size=256M
		-numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1
		-numa node,nodeid=2,memdev=m2
		-object memory-backend-memfd,id=nv1,share=on,prealloc=on,size=512M
		-device nvdimm,id=nvdimm1,memdev=nv1,node=1)
fi
ACCEL=(-accel tcg -cpu max,hypervisor=off)
if [ "${VM_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
	ACCEL=(-accel kvm -cpu host,hypervisor=off)	# only where it really works
fi
APPEND="console=ttyS0 panic=-1 loglevel=2 cxlkv.topo=$TOPO cxlkv.suite=$SUITE_TAG"
APPEND="$APPEND cxlkv.shell=$SHELL_MODE cxlkv.timeout=$TEST_TIMEOUT cxlkv.cold=$COLD"
[ $DEPLOY = 0 ] || APPEND="$APPEND cxlkv.deploy=1"
# The fuzz and soak suites (or VM_HEAP_DEBUG=1) boot with KFENCE (in
# Debian's kernel, off by default: sample_interval 0; a sampled guard-page
# allocator), SLUB red zones, poisoning and free-pointer checks on every
# cache, so heap corruption is caught where it happens, and a hung task is
# reported after 30 s instead of 120 s.
case ",$SUITE," in *,fuzz,*|*,soak,*) VM_HEAP_DEBUG=${VM_HEAP_DEBUG:-1} ;; esac
if [ "${VM_HEAP_DEBUG:-0}" = 1 ]; then
	APPEND="$APPEND kfence.sample_interval=${VM_KFENCE_MS:-100}"
	APPEND="$APPEND slub_debug=FZPU sysctl.kernel.hung_task_timeout_secs=30"
	# the whole report of a splat on the console, also when it panics
	APPEND=${APPEND/loglevel=2/loglevel=5}
fi
# CXLKV_GUEST_ENV="NAME=value ...": exported to every guest program (values
# without spaces or commas), e.g. FUZZ_SEED and FUZZ_SECONDS for make fuzz.
genv=
for kv in ${CXLKV_GUEST_ENV:-}; do
	case "$kv" in
	[A-Z]*=?*) genv="$genv${genv:+,}$kv" ;;
	esac
done
[ -z "$genv" ] || APPEND="$APPEND cxlkv.env=$genv"
QEMU=(qemu-system-x86_64 "${MACHINE[@]}" "${ACCEL[@]}" -smp 2 -nographic -no-reboot
      -kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initramfs.cpio"
      -append "$APPEND" "${DRIVES[@]}")

if [ $SHELL_MODE = 1 ]; then
	"${QEMU[@]}"
	exit $?
fi

mkdir -p "$O/vm"
LOG=$O/vm/console-$TOPO-$SUITE_TAG.log
RES=$O/vm/results-$TOPO-$SUITE_TAG.txt
# A guest that does not reach init in BOOT_TIMEOUT seconds (seen once in
# many hundred TCG boots, before any of our code ran) is killed and booted
# again, once; the console says so.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-120}
start=$(date +%s)
for attempt in 1 2; do
	: > "$LOG"
	set +e
	timeout -s KILL "$TIMEOUT" "${QEMU[@]}" </dev/null 2>&1 |
		sed -u -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\r//g' | tee "$LOG" |
		grep --line-buffered -v '^CXLKV-RESULT' &
	qpipe=$!
	t=0
	while kill -0 $qpipe 2>/dev/null && ! grep -q 'CXLKV-INIT' "$LOG" &&
	      [ $t -lt "$BOOT_TIMEOUT" ]; do
		sleep 1; t=$((t + 1))
	done
	booted=1
	if ! grep -q 'CXLKV-INIT' "$LOG"; then
		booted=0
		pkill -KILL -f -- "-initrd $WORK/initramfs.cpio" 2>/dev/null
	fi
	wait $qpipe
	qrc=$?
	set -e
	[ $booted = 1 ] && break
	echo "guest did not reach init in ${BOOT_TIMEOUT}s (attempt $attempt)" >&2
done
elapsed=$(( $(date +%s) - start ))

grep '^CXLKV-RESULT' "$LOG" > "$WORK/results" || true
awk -v topo="$TOPO" -v suite="$SUITE_TAG" -v secs="$elapsed" '
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	  if (f["verdict"] == "pass") p++; else if (f["verdict"] == "skip") s++; else x++
	  cp += f["cases_pass"]; cf += f["cases_fail"]; cs += f["cases_skip"]
	  # A failed program with no failed case (crash, timeout, kernel splat)
	  # counts as one failed case.
	  if (f["verdict"] == "fail" && f["cases_fail"] == 0) cf++
	  printf "  %-28s %-4s rc=%s cases %s/%s/%s%s\n", f["name"], f["verdict"], f["rc"],
		f["cases_pass"], f["cases_fail"], f["cases_skip"],
		f["dmesg"] == "splat" ? "  (kernel splat in dmesg)" : "" }
	END { printf "programs[%s/%s]: %d passed, %d failed, %d skipped\n", topo, suite, p, x, s
	      printf "ktap[%s/%s]: %d passed, %d failed, %d skipped (boot to verdict %ds)\n",
		topo, suite, cp, cf, cs, secs }' "$WORK/results" > "$RES"
echo "== guest suites '$SUITE' on topology '$TOPO' =="
cat "$RES"

ran=$(wc -l < "$WORK/results")
want=$(grep -vc '^%' "$ROOT/etc/suite.list" || true)
if ! grep -q '^CXLKV-DONE' "$LOG"; then
	echo "guest did not finish (qemu rc=$qrc, timeout ${TIMEOUT}s)" >&2
	exit 1
fi
if [ "$ran" -eq 0 ] || [ "$ran" -ne "$want" ]; then
	echo "guest ran $ran of $want programs" >&2
	exit 1
fi
if grep -q '^CXLKV-SETUP-FAILED' "$LOG"; then
	echo "guest tier set-up failed" >&2
	exit 1
fi
if awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^verdict=/ && $i != "verdict=pass") bad = 1 }
	END { exit !bad }' "$WORK/results"; then
	# A skipped program is not a pass: the suite fails unless it is allowed.
	if grep -q 'verdict=fail' "$WORK/results" || [ "${ALLOW_SKIP:-0}" != 1 ]; then
		exit 1
	fi
fi
# make run and make bench-kernel end on the workload's own summary line.
case "$SUITE" in
run) want_line=run-summary ;;
bench) want_line=kernel-summary ;;
e2e) want_line=e2e-summary ;;
bench-compress) want_line=compress-summary ;;
bench-share) want_line=share-summary ;;
*) want_line= ;;
esac
if [ "$SUITE" = run ]; then
	grep "^e2e-summary:" "$LOG" | tail -n 1 || true
fi
if [ -n "$want_line" ]; then
	line=$(grep "^$want_line:" "$LOG" | tail -n 1)
	[ -n "$line" ] || { echo "the workload printed no $want_line line" >&2; exit 1; }
	echo "$line"
fi
exit 0
