# units/: the systemd and D-Bus files and their tests (xensupctl is in ctl/).
SHELL_TESTS += tests/test-dbus.sh tests/test-ctl.sh tests/test-polkit.sh

# web1's disk in the examples: a sparse image, made by the build (it is no source).
EXAMPLE_DISK := units/examples/web1-disk.img
all: $(EXAMPLE_DISK)
$(EXAMPLE_DISK):
	truncate -s 64M $@

# Where Debian puts each file. systemd and D-Bus look only in these places,
# whatever PREFIX is, so they do not follow it; tmpfiles.d too.
UNITDIR        ?= /lib/systemd/system
DBUS_SYSTEMD   ?= /usr/share/dbus-1/system.d
DBUS_SERVICES  ?= /usr/share/dbus-1/system-services
DBUS_IFACES    ?= /usr/share/dbus-1/interfaces
TMPFILESDIR    ?= /usr/lib/tmpfiles.d
SYSUSERSDIR    ?= /usr/lib/sysusers.d
# polkit reads its actions and rules here only (supervisor/polkit.h names the rules file).
POLKIT_ACTIONS ?= /usr/share/polkit-1/actions
POLKIT_RULES   ?= /usr/share/polkit-1/rules.d

define INSTALL_EXTRA
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DBUS_SYSTEMD) $(DESTDIR)$(DBUS_SERVICES) \
	  $(DESTDIR)$(DBUS_IFACES) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSUSERSDIR) \
	  $(DESTDIR)$(POLKIT_ACTIONS) $(DESTDIR)$(POLKIT_RULES)
	sed 's|/usr/sbin/xensupd|$(PREFIX)/sbin/xensupd|g' units/xensupd.service \
	  >$(DESTDIR)$(UNITDIR)/xensupd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/xensupd.service
	sed 's|/usr/bin/xensupctl|$(PREFIX)/bin/xensupctl|g' units/xensup-domains.service \
	  >$(DESTDIR)$(UNITDIR)/xensup-domains.service
	chmod 644 $(DESTDIR)$(UNITDIR)/xensup-domains.service
	install -m 644 units/org.xensup.supervisor1.conf $(DESTDIR)$(DBUS_SYSTEMD)/
	sed 's|/usr/sbin/xensupd|$(PREFIX)/sbin/xensupd|g' units/org.xensup.supervisor1.service \
	  >$(DESTDIR)$(DBUS_SERVICES)/org.xensup.supervisor1.service
	chmod 644 $(DESTDIR)$(DBUS_SERVICES)/org.xensup.supervisor1.service
	install -m 644 units/org.xensup.supervisor1.xml $(DESTDIR)$(DBUS_IFACES)/
	install -m 644 units/xensup.conf $(DESTDIR)$(TMPFILESDIR)/xensup.conf
	install -m 644 units/xensup-sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/xensup.conf
	install -m 644 units/org.xensup.supervisor1.policy $(DESTDIR)$(POLKIT_ACTIONS)/
	install -m 644 units/org.xensup.supervisor1.rules $(DESTDIR)$(POLKIT_RULES)/
endef
