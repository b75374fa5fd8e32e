# SPDX-License-Identifier: GPL-2.0
# Guest tests of libcxl_kv and the cxl-kv CLI (suite 'lib'), linked with the
# static library.  Included at the end of kselftest.mk.
LIB_KTESTS := lib_tiers lib_control lib_space lib_cmds lib_uring lib_cli lib_bench lib_region
# kv_simmatch (suite kernel) runs cxl-kv-bench and kvsim through lib_util.h
LIB_KTESTS += kv_simmatch
KTEST_PROGS += $(LIB_KTESTS)
$(addprefix $(O)/ktest/,$(LIB_KTESTS)): tests/kselftest/lib_util.h $(LIBCXLKV_A)
ktest: $(addprefix $(O)/ktest/,$(LIB_KTESTS))
