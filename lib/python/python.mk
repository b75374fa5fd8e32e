# SPDX-License-Identifier: GPL-2.0
# The Python binding as a package: 'make install' puts lib/python/cxl_kv/
# into PYTHONDIR (Debian: /usr/lib/python3/dist-packages for PREFIX=/usr,
# else PREFIX/lib/python3.X/dist-packages, both on Debian's sys.path).
# python3 -m cxl_kv.example is its decode loop.  The guest test py_guest
# runs against the installed package (tests/kselftest/deploy.list).
PYTHON3 ?= /usr/bin/python3
PYTHONDIR ?= $(shell $(PYTHON3) -c 'import sys; print("$(PREFIX)/lib/python3/dist-packages" if "$(PREFIX)" == "/usr" else "$(PREFIX)/lib/python%d.%d/dist-packages" % sys.version_info[:2])' 2>/dev/null)
PY_PKG := $(wildcard lib/python/cxl_kv/*.py)
INSTALL_TARGETS += install-python
USER_TARGETS += $(O)/ktest/py_guest

$(O)/ktest/py_guest: tests/kselftest/py_guest.py
	@mkdir -p $(dir $@)
	install -m 0755 $< $@

.PHONY: install-python
install-python:
	@test -n "$(PYTHONDIR)" || { echo "no PYTHONDIR (python3 missing?)" >&2; exit 1; }
	install -d $(DESTDIR)$(PYTHONDIR)/cxl_kv
	install -m 0644 $(PY_PKG) $(DESTDIR)$(PYTHONDIR)/cxl_kv/
