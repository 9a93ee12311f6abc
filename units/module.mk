# units/: the systemd and D-Bus files and their tests (xensupctl is in ctl/).
SHELL_TESTS += tests/test-dbus.sh tests/test-ctl.sh tests/test-polkit.sh

# web1's disk in the examples: a sparse image, made by the build (it is no source).
EXAMPLE_DISK := units/examples/web1-disk.img
all: $(EXAMPLE_DISK)
$(EXAMPLE_DISK):
	truncate -s 64M $@

# The systemd, D-Bus, polkit and journal files; install.mk says where each goes.
UNIT_FILES := xensupd.service xensup-domains.service
install-units:
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DBUS_SYSTEMD) $(DESTDIR)$(DBUS_SERVICES) \
	  $(DESTDIR)$(DBUS_IFACES) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSUSERSDIR) \
	  $(DESTDIR)$(POLKIT_ACTIONS) $(DESTDIR)$(POLKIT_RULES) $(DESTDIR)$(CATALOGDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/default
	for f in $(UNIT_FILES); do \
	  $(INSTALL_PATHS_SED) units/$$f >$(DESTDIR)$(UNITDIR)/$$f && chmod 644 $(DESTDIR)$(UNITDIR)/$$f; \
	done
	$(INSTALL_PATHS_SED) units/org.xensup.supervisor1.service \
	  >$(DESTDIR)$(DBUS_SERVICES)/org.xensup.supervisor1.service
	chmod 644 $(DESTDIR)$(DBUS_SERVICES)/org.xensup.supervisor1.service
	install -m 644 units/org.xensup.supervisor1.conf $(DESTDIR)$(DBUS_SYSTEMD)/
	install -m 644 units/org.xensup.supervisor1.xml $(DESTDIR)$(DBUS_IFACES)/
	install -m 644 units/xensup.conf $(DESTDIR)$(TMPFILESDIR)/xensup.conf
	install -m 644 units/xensup-sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/xensup.conf
	install -m 644 units/org.xensup.supervisor1.policy $(DESTDIR)$(POLKIT_ACTIONS)/
	install -m 644 units/org.xensup.supervisor1.rules $(DESTDIR)$(POLKIT_RULES)/
	install -m 644 units/xensup.catalog $(DESTDIR)$(CATALOGDIR)/xensup.catalog
	install -m 644 units/xensupd.default $(DESTDIR)$(SYSCONFDIR)/default/xensupd

.PHONY: install-units
