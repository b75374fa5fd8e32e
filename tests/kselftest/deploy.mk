# SPDX-License-Identifier: GPL-2.0
# Guest tests of issue 11 (deployment, LIST): suites kernel and deploy.
DEPLOY_KTESTS := kv_list deploy_boot
KTEST_PROGS += $(DEPLOY_KTESTS)
$(addprefix $(O)/ktest/,$(DEPLOY_KTESTS)): tests/kselftest/kv_test.h \
	tests/kselftest/lib_util.h
ktest: $(addprefix $(O)/ktest/,$(DEPLOY_KTESTS))
