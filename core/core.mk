# core/: the pure state machine. Built as a static library.
CORE_SRCS := $(sort $(wildcard core/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
CORE_LIB  := $(BUILD)/libpvcore.a

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

-include $(CORE_OBJS:.o=.d)

all: $(CORE_LIB)

# The core must stay pure: no IO headers, no clock, no randomness, no
# environment, no stdio. This grep-based gate runs in `make test`; the
# compile-based half (core objects link against nothing but libc math/string)
# is checked by inspecting the archive's undefined symbols that no core object
# defines.
.PHONY: check-core-purity
PURITY_BANNED_HDR := sys/socket|netinet/|arpa/|ev\.h|curl/|wslay/|unistd\.h|time\.h|sys/time\.h|stdio\.h|pthread\.h|fcntl\.h|signal\.h
PURITY_BANNED_SYM := rand|srand|random|time|clock_gettime|gettimeofday|getenv|printf|fprintf|fopen|malloc|calloc|realloc|socket|read|write|clock|abort_unused
check-core-purity: $(CORE_LIB)
	@bad=$$(grep -nE '#[[:space:]]*include[[:space:]]*<($(PURITY_BANNED_HDR))' core/*.c core/*.h); \
	if [ -n "$$bad" ]; then echo "core purity: banned header:"; echo "$$bad"; exit 1; fi
	@bad=$$(comm -23 <(nm -u $(CORE_LIB) | awk '{print $$2}' | sort -u) <(nm --defined-only $(CORE_LIB) | awk 'NF==3{print $$3}' | sort -u) | grep -vE '^(memcpy|memmove|memset|memcmp|strcmp|strncmp|strlen|sqrt|floor|ceil|fabs|__assert_fail|qsort|__stack_chk_fail|__ubsan_.*|__asan_.*|__sanitizer_.*|__tsan_.*|_GLOBAL_OFFSET_TABLE_|isfinite|__isfinite|__finite|__fpclassify|llround|lround|nan|memchr|strchr)$$' | sort -u); \
	if [ -n "$$bad" ]; then echo "core purity: core calls outside the allowed libc set:"; echo "$$bad"; exit 1; fi
	@echo "core purity: ok (no IO headers, no clock/rand/getenv/stdio/malloc symbols)"
TEST_TARGETS += check-core-purity
