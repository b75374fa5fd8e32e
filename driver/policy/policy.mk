# SPDX-License-Identifier: GPL-2.0
# Freestanding policy core, built for userspace into $(O)/libkvpolicy.a.
# The same sources are built into the module by Kbuild (driver/policy/*.o).
KVP_SRCS := driver/policy/kvpolicy.c driver/policy/kvp_hooks.c \
	    driver/policy/kvp_victim.c driver/policy/kvp_prefetch.c \
	    driver/policy/kvp_math.c driver/policy/kvgeom.c \
	    driver/policy/kvp_text.c
KVP_OBJS := $(patsubst %.c,$(O)/%.o,$(KVP_SRCS))
KVP_LIB := $(O)/libkvpolicy.a

# The core must stay freestanding: no libc headers, no floats.
$(KVP_OBJS): ALL_CFLAGS += -ffreestanding -fno-builtin -mgeneral-regs-only

$(KVP_LIB): $(KVP_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

USER_TARGETS += $(KVP_LIB)
UNIT_DEPS += $(KVP_LIB)

UNIT_SRCS += tests/unit/test_geom.c tests/unit/test_policy_math.c tests/unit/test_policy_core.c \
	     tests/unit/test_policy_baselines.c \
	     tests/unit/test_policy_sim.c tests/unit/test_policy_text.c
