# SPDX-License-Identifier: GPL-2.0
# Host unit tests: every UNIT_SRCS file linked into one Criterion binary, so
# that Criterion's own synthesis line is the total.
UNIT_BIN := $(O)/unit-tests
# the layer pipeline's plan (kvp_layer_plan()); the policy's own are in policy.mk
UNIT_SRCS += tests/unit/test_layer_plan.c
UNIT_OBJS = $(patsubst %.c,$(O)/%.o,$(UNIT_SRCS))

$(UNIT_BIN): $(UNIT_OBJS) $(UNIT_DEPS)
	$(CC) $(ALL_CFLAGS) -o $@ $(UNIT_OBJS) $(UNIT_DEPS) -lcriterion -lm -lpthread

unit: $(UNIT_BIN)
	$(UNIT_BIN) --jobs 2
