# install.mk: where `make install` puts each file. Everything follows PREFIX and
# DESTDIR, except the few places whose readers look nowhere else (said below).
#   make install [PREFIX=/usr/local] [DESTDIR=...]   all of it
#   make install-daemon / install-sim                what the xensup and xensup-sim packages hold
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
# xensup-sim and the demo: run by xensupd and by people trying it, never from PATH.
LIBEXECDIR  ?= $(PREFIX)/libexec/xensup
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/xensup
# xensupd reads /etc/xensup/domains.d and the unit /etc/default/xensupd, whatever PREFIX is.
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
CATALOGDIR  ?= $(PREFIX)/lib/systemd/catalog
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
DBUS_SERVICES ?= $(DATADIR)/dbus-1/system-services
DBUS_IFACES   ?= $(DATADIR)/dbus-1/interfaces
# dbus-daemon reads bus policies from /usr/share/dbus-1/system.d and /etc only, polkit
# its actions and rules from /usr/share/polkit-1 only (supervisor/polkit.h names the rules).
DBUS_SYSTEMD   ?= /usr/share/dbus-1/system.d
POLKIT_ACTIONS ?= /usr/share/polkit-1/actions
POLKIT_RULES   ?= /usr/share/polkit-1/rules.d

# The units, the D-Bus service and the demo name Debian's paths (so each works as it is in
# the tree); installed, they name the paths they were installed to.
INSTALL_PATHS_SED = sed -e 's|/usr/sbin/xensupd|$(SBINDIR)/xensupd|g' \
	-e 's|/usr/bin/xensupctl|$(BINDIR)/xensupctl|g' \
	-e 's|/usr/share/xensup-sim|$(DATADIR)/xensup-sim|g' \
	-e 's|/etc/default/xensupd|$(SYSCONFDIR)/default/xensupd|g'

install: install-daemon install-sim

install-daemon: all install-units install-man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BUILD)/xensupd $(DESTDIR)$(SBINDIR)/xensupd
	install -m 755 $(BUILD)/xensupctl $(DESTDIR)$(BINDIR)/xensupctl
	install -m 644 ctl/xensupctl.bash $(DESTDIR)$(BASHCOMPDIR)/xensupctl
	install -d $(DESTDIR)$(SYSCONFDIR)/xensup/domains.d
	# To read, not to run: on a Xen host they would start as real domains.
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 644 units/examples/*.conf $(DESTDIR)$(DOCDIR)/examples/

install-sim: all
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 755 $(BUILD)/xensup-sim $(DESTDIR)$(LIBEXECDIR)/xensup-sim
	$(INSTALL_PATHS_SED) tests/demo.sh >$(DESTDIR)$(LIBEXECDIR)/xensup-demo
	# The demo's own copy: a system may leave /usr/share/doc out (dpkg path-exclude).
	install -d $(DESTDIR)$(DATADIR)/xensup-sim/examples
	install -m 644 units/examples/*.conf units/examples/kernel-sim $(DESTDIR)$(DATADIR)/xensup-sim/examples/
	chmod 755 $(DESTDIR)$(LIBEXECDIR)/xensup-demo

.PHONY: install install-daemon install-sim
