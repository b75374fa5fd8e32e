# SPDX-License-Identifier: GPL-2.0
# Guest programs of the cold formats (issue 14): they link the same codec
# as the module (libkvcodec.a) and its userspace helpers (kvq.o) to compute
# the expected contents of a promoted page.
KVC_KTESTS := kv_compress kv_bench_compress
KTEST_PROGS += $(KVC_KTESTS)

$(addprefix $(O)/ktest/,$(KVC_KTESTS)): $(O)/ktest/%: tests/kselftest/%.c \
		tests/kselftest/ktap.h tests/kselftest/kv_test.h \
		tests/kselftest/kv_dm.h tests/kselftest/kv_compress.h $(KVQ_OBJ) \
		$(KVC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/kselftest -o $@ $< $(KVQ_OBJ) $(KVC_LIB) \
		-luring -lnuma -lpthread -lm

ktest: $(addprefix $(O)/ktest/,$(KVC_KTESTS))

.PHONY: bench-compress
bench-compress: all ktest
	@TEST_TIMEOUT=$${TEST_TIMEOUT:-900} tests/vm/run.sh --topo nvdimm --suite bench-compress > $(O)/vm/bench-compress.out 2>&1; \
	rc=$$?; cat $(O)/vm/bench-compress.out; \
	grep -E '^compress-(head|fmt|vs-raw):' $(O)/vm/console-nvdimm-bench-compress.log; \
	grep '^compress-summary:' $(O)/vm/console-nvdimm-bench-compress.log | tail -n 1; exit $$rc
