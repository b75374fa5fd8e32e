# SPDX-License-Identifier: GPL-2.0
#
# cxl-kv top-level Makefile.
#
# The module is built by Kbuild (see ./Kbuild) against KDIR; everything else
# (policy core for userspace, libcxl_kv, tools, tests) is built here into $(O).
# Userspace parts are described by fragments (*.mk) included below; each
# fragment appends to the variables documented here.
#
#   make             module + library + tools
#   make check       host unit tests + the guest suite on both topologies
#   make run         boot the emulated CXL host and serve a real KV workload
#   make fuzz        the fuzzer in the guest (SEED= FUZZ_SECONDS= TOPO=)
#   make soak        the soak in the guest (SOAK_SECONDS=, default 30 min)
#   make deps        install what is missing (Debian packages, root)

# Kernel to build against: the running kernel's build tree when it exists,
# else the newest installed Debian 6.12 headers.  Override with KDIR=.
KERNELRELEASE ?= $(shell uname -r)
KDIR ?= $(firstword $(wildcard /lib/modules/$(KERNELRELEASE)/build) \
		    $(lastword $(sort $(wildcard /usr/src/linux-headers-6.12.*-amd64))))
KVER = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)

O ?= build
CC ?= gcc
AR ?= ar
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /etc/udev/rules.d
DESTDIR ?=

# The release version (semver) is the VERSION file; a tag v$(VERSION) marks
# it in git.  GIT_REV names the exact tree of a build (--version prints both).
VERSION := $(shell cat VERSION)
GIT_REV := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)

CFLAGS ?= -O2 -g
WFLAGS := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes
CPPFLAGS += -D_GNU_SOURCE -Iinclude/uapi -Iinclude -Idriver/policy -Idriver/codec -Ilib -Itools \
	    -DCXL_KV_PKG_VERSION='"$(VERSION)"' -DCXL_KV_GIT_REV='"$(GIT_REV)"'
ALL_CFLAGS = $(CPPFLAGS) $(WFLAGS) $(CFLAGS)

# Fragments append to:
#   USER_TARGETS   files built by 'make' (libraries, tools)
#   UNIT_SRCS      Criterion test sources linked into one $(O)/unit-tests
#   UNIT_DEPS      objects/archives those tests link with
#   KTEST_PROGS    guest test programs: tests/kselftest/<name>.c -> $(O)/ktest/<name>
#   KTEST_DEPS     objects/archives guest tests link with
#   INSTALL_TARGETS  extra install-* targets
USER_TARGETS :=
UNIT_SRCS :=
UNIT_DEPS :=
KTEST_PROGS :=
KTEST_DEPS :=
INSTALL_TARGETS :=

.PHONY: all module userspace check unit ktest ktest-run run deps vm-shell \
	install install-headers install-udev dkms-install modules_install clean help check-fail-demo \
	bench-kernel bench-share fuzz soak
all: module userspace

-include driver/policy/policy.mk
-include driver/codec/codec.mk
-include lib/lib.mk
-include tools/tools.mk
-include tools/policy-tools.mk
include tests/unit/unit.mk
include tests/kselftest/kselftest.mk
-include tests/kselftest/fuzz.mk
-include tests/kselftest/deploy.mk
-include deploy/deploy.mk
-include lib/python/python.mk

userspace: $(USER_TARGETS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(O) -name '*.d' 2>/dev/null)

module:
	@test -n "$(KDIR)" || { echo "no kernel build tree: run 'make deps'" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) modules_install
	@if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi

install-headers:
	install -D -m 0644 include/uapi/linux/cxl_kv.h $(DESTDIR)$(INCLUDEDIR)/linux/cxl_kv.h

install: modules_install install-headers install-udev $(INSTALL_TARGETS)

# /dev/cxl_kv 0660 root:cxl-kv (the module creates it 0660 root:root).  The
# group is made when missing and DESTDIR is empty; udev is told to reload.
install-udev:
	install -D -m 0644 udev/60-cxl-kv.rules $(DESTDIR)$(UDEVRULESDIR)/60-cxl-kv.rules
	@if [ -z "$(DESTDIR)" ]; then \
		getent group cxl-kv >/dev/null || groupadd --system cxl-kv; \
		if command -v udevadm >/dev/null; then \
			udevadm control --reload || true; \
			udevadm trigger --subsystem-match=misc --sysname-match=cxl_kv || true; \
		fi; \
	fi

# DKMS: the module sources and dkms.conf (version from VERSION) into
# /usr/src/cxl_kv-<version>; `dkms add/build/install` when dkms is present.
DKMS_SRC = $(DESTDIR)/usr/src/cxl_kv-$(VERSION)
dkms-install: install-udev
	install -d $(DKMS_SRC)/driver/policy $(DKMS_SRC)/driver/codec $(DKMS_SRC)/include/uapi/linux
	install -m 0644 Kbuild VERSION $(DKMS_SRC)/
	install -m 0644 driver/*.c driver/*.h $(DKMS_SRC)/driver/
	install -m 0644 driver/policy/*.c driver/policy/*.h $(DKMS_SRC)/driver/policy/
	install -m 0644 driver/codec/*.c driver/codec/*.h $(DKMS_SRC)/driver/codec/
	install -m 0644 include/uapi/linux/cxl_kv.h $(DKMS_SRC)/include/uapi/linux/
	sed 's/@VERSION@/$(VERSION)/' dkms.conf > $(DKMS_SRC)/dkms.conf
	@if [ -z "$(DESTDIR)" ] && command -v dkms >/dev/null; then \
		dkms add -m cxl_kv -v $(VERSION) && dkms install -m cxl_kv -v $(VERSION); \
	fi

deps:
	scripts/deps.sh

# The committed man pages match their sources (section 3 regenerated from the
# kernel-doc; a cxl-kv(8) entry for every command).  In make check.
.PHONY: check-man
check-man: $(O)/cxl-kv
	@scripts/check-man.sh $(O) $(O)/cxl-kv

# Everything: host unit tests, then the guest suite on both topologies.
check:
	@scripts/deps.sh --check >/dev/null || scripts/deps.sh
	@$(MAKE) --no-print-directory all ktest $(UNIT_BIN)
	@tests/run-all.sh

# TOPO=cxl|nvdimm SUITE=<list name> for one guest run.
TOPO ?= nvdimm
SUITE ?= smoke
ktest-run: all ktest
	tests/vm/run.sh --topo $(TOPO) --suite $(SUITE)

# The deliberate failures, on demand: proves the rig reports a failing case
# and a kernel WARNING.
check-fail-demo: all ktest
	tests/run-fail-demo.sh

bench-kernel: all ktest
	tests/vm/run.sh --topo nvdimm --suite bench

# Shared prefixes (issue 15): N = 1, 4, 16 sequences, shared vs unshared.
bench-share: all ktest
	tests/vm/run.sh --topo nvdimm --suite bench-share

# The fuzzer in the guest: SEED= (default: new each run, printed),
# FUZZ_SECONDS= (default 300), FUZZ_AVOID=known (steer clear of issue 10's
# known crashers), TOPO=.
FUZZ_SECONDS ?= 300
fuzz: all ktest
	CXLKV_GUEST_ENV="FUZZ_SEED=$(SEED) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_AVOID=$(FUZZ_AVOID)" \
	TEST_TIMEOUT=$$(( $(FUZZ_SECONDS) + 240 )) VM_TIMEOUT=$$(( $(FUZZ_SECONDS) + 900 )) \
		tests/vm/run.sh --topo $(TOPO) --suite fuzz

# The soak (not in make check): SOAK_SECONDS= (default 1800), TOPO=.
SOAK_SECONDS ?= 1800
soak: all ktest
	CXLKV_GUEST_ENV="SOAK_SECONDS=$(SOAK_SECONDS)" \
	TEST_TIMEOUT=$$(( $(SOAK_SECONDS) + 600 )) VM_TIMEOUT=$$(( $(SOAK_SECONDS) + 1500 )) \
		tests/vm/run.sh --topo $(TOPO) --suite soak

vm-shell: all ktest
	tests/vm/run.sh --topo $(TOPO) --shell

run:
	@scripts/deps.sh --check >/dev/null || scripts/deps.sh
	@$(MAKE) --no-print-directory all ktest $(UNIT_BIN)
	tests/vm/run.sh --topo $(TOPO) --suite run

clean:
	@if [ -n "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf $(O)

help:
	@sed -n 's/^#   //p' Makefile | head -7
