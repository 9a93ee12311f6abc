# bench-xenstore: libxenstore requests/s (read, write, a 10-write transaction)
# against xensup-sim's embedded XenStore, empty and with a 1000-domain tree,
# and against a real xenstored when XENSTORED_PATH_REAL names its socket.
# Prints figures, never fails on them. Not part of `make all`.
$(BUILD)/bench/bench-xenstore: $(BUILD)/obj/bench/bench-xenstore.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-xenstore: $(BUILD)/xensup-sim $(BUILD)/bench/bench-xenstore
	XENSUP_BUILD=$(abspath $(BUILD)) $(BUILD)/bench/bench-xenstore

.PHONY: bench-xenstore
