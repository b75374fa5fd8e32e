# SPDX-License-Identifier: GPL-2.0
# Guest tests and benchmarks of the cxl_kv module (suites kernel, bench).
# Included at the end of kselftest.mk, after its 'ktest' rule was read, so
# the programs are added to 'ktest' here as well.
KV_KTESTS := kv_ctl kv_integrity kv_policy kv_uring kv_stress kv_bench kv_multi kv_ioerr kv_rank \
	kv_bounds kv_gup kv_waits kv_tenant kv_detach_race kv_scale \
	kv_leak
# e2e3: the layer pipeline
KV_KTESTS += kv_pipe
# shared prefixes (issue 15)
KV_KTESTS += kv_share kv_share_bench
# one geometry table for the module and the library (tests/geom_cases.h)
KV_KTESTS += kv_geom
# the module parameter default_policy (issue 11)
KV_KTESTS += kv_pdefs
KTEST_PROGS += $(KV_KTESTS)
$(addprefix $(O)/ktest/,$(KV_KTESTS)): tests/kselftest/kv_test.h tests/kselftest/kv_dm.h
ktest: $(addprefix $(O)/ktest/,$(KV_KTESTS))
$(O)/ktest/kv_geom: tests/geom_cases.h
