# SPDX-License-Identifier: GPL-2.0
# Guest tests of issue 11 (deployment, LIST): suites kernel and deploy.
DEPLOY_KTESTS := kv_list
KTEST_PROGS += $(DEPLOY_KTESTS)
$(addprefix $(O)/ktest/,$(DEPLOY_KTESTS)): tests/kselftest/kv_test.h
ktest: $(addprefix $(O)/ktest/,$(DEPLOY_KTESTS))
