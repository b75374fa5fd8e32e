# SPDX-License-Identifier: GPL-2.0
# Guest test programs.  Each tests/kselftest/<name>.c is one program; the
# suites that run them are tests/kselftest/<suite>.list (one name per line).
KTEST_PROGS += smoke_module smoke_tiers ksft_fail_demo
KTEST_BINS = $(addprefix $(O)/ktest/,$(KTEST_PROGS))

$(O)/ktest/%: tests/kselftest/%.c tests/kselftest/ktap.h $(KTEST_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/kselftest -o $@ $< $(KTEST_DEPS) \
		-luring -lnuma -ldaxctl -lpthread -lm

ktest: $(KTEST_BINS)
-include tests/kselftest/kernel.mk
-include tests/kselftest/lib.mk
-include tests/kselftest/compress.mk
