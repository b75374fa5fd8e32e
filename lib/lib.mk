# SPDX-License-Identifier: GPL-2.0
# libcxl_kv: $(O)/libcxl_kv.a, $(O)/libcxl_kv.so.1.0.0 (soname libcxl_kv.so.1,
# exports exactly lib/libcxl_kv.sym), $(O)/libcxl_kv.pc; 'make install-lib'.
LIBCXLKV_SRCS := lib/libcxl_kv.c lib/sysfs.c lib/tiers.c lib/region.c \
		 lib/layout.c lib/ctl.c lib/space.c lib/cmds.c lib/uring.c \
		 lib/params.c
# the geometry module is the policy core's (driver/policy/kvgeom.c)
LIBCXLKV_OBJS := $(patsubst %.c,$(O)/%.o,$(LIBCXLKV_SRCS)) \
		 $(O)/driver/policy/kvgeom.o
LIBCXLKV_A := $(O)/libcxl_kv.a
LIBCXLKV_SONAME := libcxl_kv.so.1
LIBCXLKV_SO := $(O)/libcxl_kv.so.1.0.0
LIBCXLKV_PC := $(O)/libcxl_kv.pc
LIBCXLKV_LIBS := -luring -lnuma -ldaxctl

USER_TARGETS += $(LIBCXLKV_A) $(LIBCXLKV_SO) $(LIBCXLKV_PC) $(O)/cxl-kv-example
UNIT_SRCS += tests/unit/test_lib_ctx.c tests/unit/test_lib_tiers.c \
	     tests/unit/test_lib_layout.c tests/unit/test_lib_uring.c \
	     tests/unit/test_lib_args.c
UNIT_DEPS += $(LIBCXLKV_A)
# guest programs link the archive too (kselftest.mk reads KTEST_DEPS after
# this fragment, so it is also a prerequisite of every one of them)
KTEST_DEPS += $(LIBCXLKV_A)
INSTALL_TARGETS += install-lib

# One object set serves both libraries.
$(LIBCXLKV_OBJS): ALL_CFLAGS += -fPIC

# The unit binary and guest programs link the archive: add its libraries.
$(O)/unit-tests: UNIT_DEPS += $(LIBCXLKV_LIBS)

$(LIBCXLKV_A): $(LIBCXLKV_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBCXLKV_SO): $(LIBCXLKV_OBJS) lib/libcxl_kv.sym
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,$(LIBCXLKV_SONAME) \
		-Wl,--version-script=lib/libcxl_kv.sym -Wl,--no-undefined \
		-o $@ $(LIBCXLKV_OBJS) $(LIBCXLKV_LIBS)
	ln -sf $(notdir $@) $(O)/$(LIBCXLKV_SONAME)
	ln -sf $(LIBCXLKV_SONAME) $(O)/libcxl_kv.so

# The library guide's complete example (Documentation/library.rst), built
# and run in the guest (tests/kselftest/lib.list) so the guide stays true.
$(O)/cxl-kv-example: $(O)/lib/example.o $(LIBCXLKV_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBCXLKV_LIBS)

$(LIBCXLKV_PC): lib/libcxl_kv.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    $< > $@

# Every function declared in lib/libcxl_kv.h is in the map and exported by the
# .so, and nothing else is.
.PHONY: check-syms install-lib test-python
check-syms: $(LIBCXLKV_SO)
	@grep -ohE '^[a-z].*[ *]cxl_kv_[a-z_0-9]+\(' lib/libcxl_kv.h | \
		grep -oE 'cxl_kv_[a-z_0-9]+\($$' | tr -d '(' | sort > $(O)/syms.header
	@nm -D --defined-only $(LIBCXLKV_SO) | awk '$$2 == "T" { print $$3 }' | \
		sed 's/@.*//' | sort > $(O)/syms.so
	@diff -u $(O)/syms.header $(O)/syms.so && \
		echo "check-syms: $$(wc -l < $(O)/syms.so) symbols, header == .so"

install-lib: $(LIBCXLKV_A) $(LIBCXLKV_SO) $(LIBCXLKV_PC)
	install -D -m 0644 lib/libcxl_kv.h $(DESTDIR)$(INCLUDEDIR)/libcxl_kv.h
	install -D -m 0644 include/uapi/linux/cxl_kv.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/cxl_kv.h
	install -D -m 0644 $(LIBCXLKV_A) $(DESTDIR)$(LIBDIR)/libcxl_kv.a
	install -D -m 0755 $(LIBCXLKV_SO) $(DESTDIR)$(LIBDIR)/$(notdir $(LIBCXLKV_SO))
	ln -sf $(notdir $(LIBCXLKV_SO)) $(DESTDIR)$(LIBDIR)/$(LIBCXLKV_SONAME)
	ln -sf $(LIBCXLKV_SONAME) $(DESTDIR)$(LIBDIR)/libcxl_kv.so
	@mkdir -p $(DESTDIR)$(LIBDIR)/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    lib/libcxl_kv.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libcxl_kv.pc
	@for m in Documentation/man/*.3; do \
		[ -f "$$m" ] || continue; \
		install -D -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man3/$$(basename $$m); \
	done

# Host-side tests, no module needed: the Python binding's marshalling and
# the cxl-kv CLI (JSON schema on fake sysfs trees, exit codes).
# Debian's python3 (with python3-numpy from scripts/deps.sh) when present.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
test-python: $(LIBCXLKV_SO) $(O)/cxl-kv
	CXL_KV_LIB=$(abspath $(O))/libcxl_kv.so.1 CXLKV_CLI=$(abspath $(O))/cxl-kv \
		$(PYTHON) -m unittest discover -s lib/python -p 'test_*.py' -v

# Section-3 pages from the kernel-doc comments (fails on an undocumented
# export); the generated pages are committed in Documentation/man/.
.PHONY: man
man:
	MAN_DATE=$$(git log -1 --format=%cs 2>/dev/null) lib/kdoc2man.py Documentation/man
