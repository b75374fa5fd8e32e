# SPDX-License-Identifier: GPL-2.0
# Deployment: cxl-kv.service (runs 'cxl-kv apply' at boot when
# /etc/cxl-kv.conf exists), the modules-load.d entry (kmem, cxl_kv) and an
# example configuration; 'make install' installs them (DESTDIR-safe) and,
# on a live system, enables the unit.
SYSTEMDUNITDIR ?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
MODULESLOADDIR ?= /etc/modules-load.d
SYSCONFDIR ?= /etc
DOCDIR ?= $(PREFIX)/share/doc/cxl-kv
INSTALL_TARGETS += install-deploy

.PHONY: install-deploy
install-deploy:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' deploy/cxl-kv.service.in > \
		$(DESTDIR)$(SYSTEMDUNITDIR)/cxl-kv.service
	install -D -m 0644 deploy/modules-load.conf $(DESTDIR)$(MODULESLOADDIR)/cxl-kv.conf
	install -D -m 0644 deploy/cxl-kv.conf.example $(DESTDIR)$(DOCDIR)/cxl-kv.conf.example
	install -d $(DESTDIR)$(SYSCONFDIR)/cxl-kv.d
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null && \
	    [ -d /run/systemd/system ]; then \
		systemctl daemon-reload && systemctl enable cxl-kv.service || true; \
	fi
