# SPDX-License-Identifier: GPL-2.0
# The fuzzer (suite fuzz) and the soak (suite soak): kv_fuzz is three
# sources, so it has a rule of its own instead of the one-file pattern rule.
KV_FUZZ_SRCS := tests/kselftest/kv_fuzz.c tests/kselftest/kv_fuzz_cmd.c \
	tests/kselftest/kv_fuzz_mem.c
$(O)/ktest/kv_fuzz: $(KV_FUZZ_SRCS) tests/kselftest/kv_fuzz.h tests/kselftest/kv_test.h \
		tests/kselftest/ktap.h $(KVC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/kselftest -o $@ $(KV_FUZZ_SRCS) $(KVC_LIB) -luring -lpthread
ktest: $(O)/ktest/kv_fuzz $(O)/ktest/kv_soak
$(O)/ktest/kv_soak: tests/kselftest/kv_test.h
