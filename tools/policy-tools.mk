# SPDX-License-Identifier: GPL-2.0
# Policy tools: kvtrace (trace generator) and kvsim (replay simulator), both
# linking the same policy core as the module ($(O)/libkvpolicy.a).
KVSIM_LIB := $(O)/libkvsim.a
KVSIM_LIB_OBJS := $(addprefix $(O)/tools/,kvtrace_gen.o kvtrace_workload.o \
	kvtrace_io.o kvsim_events.o \
	kvsim_baselines.o kvsim_engine.o)

$(KVSIM_LIB): $(KVSIM_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(O)/kvtrace: $(O)/tools/kvtrace.o $(KVSIM_LIB) $(KVP_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lm

# the Mooncake reader (tools/mooncake.c, json-c) is cxl-kv-bench's too
$(O)/kvsim: $(O)/tools/kvsim.o $(KVSIM_LIB) $(KVP_LIB) $(O)/tools/mooncake.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ -ljson-c -lm

# kvscale: the policy's metadata and CPU cost at full scale (issue 15)
$(O)/kvscale: $(O)/tools/kvscale.o $(KVP_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^

USER_TARGETS += $(O)/kvtrace $(O)/kvsim $(O)/kvscale
# tests link the engine too (belady >= online policies); order matters for
# static archives: the engine before the core
UNIT_DEPS := $(KVSIM_LIB) $(UNIT_DEPS)

# make bench-policy [MOONCAKE=path/to/conversation_trace.jsonl]
# (../shared from the main tree, ../../shared from a worktree under wt/)
MOONCAKE ?= $(firstword $(wildcard $(addsuffix /shared/data/mooncake-fast25/conversation_trace.jsonl,.. ../..)) \
	../shared/data/mooncake-fast25/conversation_trace.jsonl)
.PHONY: bench-policy scale-sim
bench-policy: $(O)/kvtrace $(O)/kvsim
	O=$(O) MOONCAKE=$(MOONCAKE) scripts/bench-policy.sh

# kvtrace and kvsim with their man pages, by 'make install'.
INSTALL_TARGETS += install-policy-tools
.PHONY: install-policy-tools
install-policy-tools: $(O)/kvtrace $(O)/kvsim
	install -D -m 0755 $(O)/kvtrace $(DESTDIR)$(BINDIR)/kvtrace
	install -D -m 0755 $(O)/kvsim $(DESTDIR)$(BINDIR)/kvsim
	install -D -m 0644 Documentation/man/kvtrace.1 $(DESTDIR)$(MANDIR)/man1/kvtrace.1
	install -D -m 0644 Documentation/man/kvsim.1 $(DESTDIR)$(MANDIR)/man1/kvsim.1

# make scale-sim: 8 x Llama-70B at 128K tokens against one tier set, on the
# host (Documentation/testing.rst, "Scale")
scale-sim: $(O)/kvscale
	$(O)/kvscale
