# SPDX-License-Identifier: GPL-2.0
# cxl-kv (admin CLI) and cxl-kv-bench (decode / serve benchmark), linked
# statically with libcxl_kv so the guest needs no library path.
TOOLS_COMMON_OBJS := $(O)/tools/common.o $(O)/tools/json.o $(O)/tools/mooncake.o
# mooncake.o reads trace lines with json-c
TOOLS_LIBS := -ljson-c
CXLKV_BIN := $(O)/cxl-kv
CXLKV_BENCH := $(O)/cxl-kv-bench

USER_TARGETS += $(CXLKV_BIN) $(CXLKV_BENCH)
UNIT_SRCS += tests/unit/test_lib_json.c
UNIT_DEPS += $(TOOLS_COMMON_OBJS)
$(O)/unit-tests: UNIT_DEPS += $(TOOLS_LIBS)
INSTALL_TARGETS += install-tools

# one file per verb (tools/cxl-kv/cxl-kv.h), as ndctl's commands
CXLKV_CLI_OBJS := $(addprefix $(O)/tools/cxl-kv/,main.o list.o region.o \
	attach.o stats.o params.o spaces.o apply.o spaceref.o)
$(CXLKV_BIN): $(CXLKV_CLI_OBJS) $(TOOLS_COMMON_OBJS) $(LIBCXLKV_A) $(KVP_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBCXLKV_LIBS) $(TOOLS_LIBS) -lm

# decode drives the policy issue's trace generator (tools/kvtrace_*.c)
CXLKV_BENCH_OBJS := $(addprefix $(O)/tools/,cxl-kv-bench.o bench_serve.o \
	bench_decode.o bench_decode_run.o bench_mem.o bench_uoffload.o bench_cxlkv.o bench_report.o \
	bench_util.o)
$(CXLKV_BENCH): $(CXLKV_BENCH_OBJS) \
		$(TOOLS_COMMON_OBJS) $(addprefix $(O)/tools/,kvtrace_gen.o \
		kvtrace_workload.o kvtrace_io.o) $(LIBCXLKV_A)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBCXLKV_LIBS) $(TOOLS_LIBS) -lm

.PHONY: install-tools
install-tools: $(CXLKV_BIN) $(CXLKV_BENCH)
	install -D -m 0755 $(CXLKV_BIN) $(DESTDIR)$(BINDIR)/cxl-kv
	install -D -m 0755 $(CXLKV_BENCH) $(DESTDIR)$(BINDIR)/cxl-kv-bench
	@for m in Documentation/man/cxl-kv*.8 Documentation/man/cxl-kv*.1; do \
		[ -f "$$m" ] || continue; s=$${m##*.}; \
		install -D -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m); \
	done

# bench-mooncake: guest program with the first MOONCAKE_REQS requests of the
# Mooncake trace embedded (the trace lives outside the project, in
# ../shared/data; without it the program is built empty and skips).
MOONCAKE_TRACE ?= ../shared/data/mooncake-fast25/conversation_trace.jsonl
MOONCAKE_REQS ?= 2000
USER_TARGETS += $(O)/bench-mooncake

$(O)/tools/mooncake-head.jsonl: tools/tools.mk $(wildcard $(MOONCAKE_TRACE))
	@mkdir -p $(dir $@)
	if [ -f "$(MOONCAKE_TRACE)" ]; then head -n $(MOONCAKE_REQS) "$(MOONCAKE_TRACE)"; fi > $@

$(O)/bench-mooncake: tools/bench-mooncake.c $(O)/tools/mooncake-head.jsonl
	$(CC) $(ALL_CFLAGS) -DMOONCAKE_FILE='"$(O)/tools/mooncake-head.jsonl"' -o $@ $<

# make bench-e2e: tests/kselftest/e2e.list in one nvdimm boot, then the table,
# the plot ($(O)/e2e.png, gnuplot on the host) and the e2e-summary line from
# the e2e-row lines the guest printed.  See Documentation/admin-guide.rst.
.PHONY: bench-e2e
bench-e2e: all ktest
	tests/vm/run.sh --topo nvdimm --suite e2e
	grep '^e2e-row:' $(O)/vm/console-nvdimm-e2e.log > $(O)/e2e-rows.txt
	$(CXLKV_BENCH) report $(O)/e2e-rows.txt --plot $(O)/e2e | tee $(O)/e2e-table.md
