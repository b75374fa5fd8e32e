# SPDX-License-Identifier: GPL-2.0
# Freestanding cold-tier codec, built for userspace into $(O)/libkvcodec.a.
# The same source is built into the module by Kbuild (driver/codec/kvcodec.o).
KVC_SRCS := driver/codec/kvcodec.c
KVC_OBJS := $(patsubst %.c,$(O)/%.o,$(KVC_SRCS))
KVC_LIB := $(O)/libkvcodec.a

# The codec must stay freestanding: no libc headers, no floats.
$(KVC_OBJS): ALL_CFLAGS += -ffreestanding -fno-builtin -mgeneral-regs-only

$(KVC_LIB): $(KVC_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# Userspace helpers around it (float conversions, the synthetic KV
# generator, error and attention metrics): tests, kvcodec-quality, benches.
KVQ_OBJ := $(O)/tools/kvq.o

USER_TARGETS += $(KVC_LIB) $(O)/kvcodec-quality
UNIT_DEPS += $(KVQ_OBJ) $(KVC_LIB)
UNIT_SRCS += tests/unit/test_codec.c tests/unit/test_lib_cold.c

$(O)/kvcodec-quality: $(O)/tools/kvcodec-quality.o $(KVQ_OBJ) $(KVC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lm

.PHONY: codec-quality
codec-quality: $(O)/kvcodec-quality
	$(O)/kvcodec-quality
