# doc/: the man pages, written in scdoc(5) and built into $(BUILD)/man; install.mk's
# install-daemon installs them through install-man.
MANPAGES := $(BUILD)/man/xensupd.8 $(BUILD)/man/xensupctl.1 $(BUILD)/man/xensup.conf.5
SHELL_TESTS += tests/test-man.sh

all: $(MANPAGES)
man: $(MANPAGES)

# The page's date is SOURCE_DATE_EPOCH's when set (as dpkg-buildpackage sets it), so builds
# are reproducible. scdoc turns hyphenation and justification off before .TH, which turns
# them on again: after it, once more, so that no option or key is ever split across lines.
$(BUILD)/man/%: doc/%.scd doc/module.mk
	@mkdir -p $(dir $@)
	scdoc <$< >$@.tmp && sed -i '/^\.TH /a .nh\n.ad l' $@.tmp && mv $@.tmp $@ || \
	  { rm -f $@.tmp; exit 1; }

# Each page into the directory of its section: man8, man1, man5.
install-man: $(MANPAGES)
	for p in $(MANPAGES); do \
	  s=$${p##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s && \
	  install -m 644 $$p $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done

.PHONY: man install-man
