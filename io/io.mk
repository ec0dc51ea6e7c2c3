# io/: the production shell and its pure helpers.
# Naming rule: files that touch libev, sockets, curl or signals are io/ev_*.c
# or io/main.c (the "shell"); every other io/*.c is libev-free and socket-free
# (codecs, auth, HTTP request handling on bytes) so unit tests and libFuzzer
# targets can link it without an event loop.
IO_PURE_SRCS  := $(filter-out io/ev_%.c io/main.c,$(sort $(wildcard io/*.c)))
IO_SHELL_SRCS := $(filter io/ev_%.c io/main.c,$(sort $(wildcard io/*.c)))
IO_PURE_OBJS  := $(IO_PURE_SRCS:%.c=$(BUILD)/%.o)
IO_SHELL_OBJS := $(IO_SHELL_SRCS:%.c=$(BUILD)/%.o)
IO_LIB        := $(BUILD)/libpvio.a
IO_LIBS       := -lbearssl -lhttp_parser -lwslay -lm
SHELL_LIBS    := -lev $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
DAEMON        := $(BUILD)/proximity-voice-control

$(IO_LIB): $(IO_PURE_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(DAEMON): $(IO_SHELL_OBJS) $(IO_LIB) $(CORE_LIB)
	$(CC) $(IO_SHELL_OBJS) $(IO_LIB) $(CORE_LIB) $(IO_LIBS) $(SHELL_LIBS) $(LDFLAGS) -o $@

-include $(IO_PURE_OBJS:.o=.d) $(IO_SHELL_OBJS:.o=.d)

all: $(if $(IO_SHELL_SRCS),$(DAEMON)) $(if $(IO_PURE_SRCS),$(IO_LIB))

# tests/io/test_*.c: unit suites for the pure io code (one binary each).
IOTEST_SRCS := $(sort $(wildcard tests/io/test_*.c))
IOTEST_BINS := $(IOTEST_SRCS:%.c=$(BUILD)/%)
$(BUILD)/tests/io/%: tests/io/%.c $(IO_LIB) $(CORE_LIB) tests/unit/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(IO_LIB) $(CORE_LIB) $(IO_LIBS) $(LDFLAGS) -o $@

.PHONY: test-io-unit
test-io-unit: $(IOTEST_BINS)
	@pass=0; fail=0; for t in $(IOTEST_BINS); do \
	  if $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "suite failed: $$t"; fi; \
	done; echo "io unit suites: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]
TEST_TARGETS += test-io-unit
# the sanitizer builds run these too
test-unit: test-io-unit

# libFuzzer targets: tests/fuzz/fuzz_NAME.c, corpus in tests/fuzz/corpus/NAME/.
# Linked with every pure io source and the core, built with clang and
# ASan+UBSan. `make fuzz FUZZ_SECONDS=n` runs each target for n seconds.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 15
FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SANS    := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -O1 -g $(FUZZ_SANS) \
                -Icore -Iio -Itests/unit
# The library code is compiled once (coverage-instrumented, no fuzzer main)
# and shared by every target; only the small target files differ.
FUZZ_LIB_SRCS := $(IO_PURE_SRCS) $(CORE_SRCS)
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_LIB      := $(BUILD)/fuzz/libfuzzlib.a
$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(AR) rcs $@ $^
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(IO_LIBS) -o $@
-include $(FUZZ_LIB_OBJS:.o=.d)

.PHONY: fuzz fuzz-build test-fuzz
fuzz-build: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	@pass=0; fail=0; for f in $(FUZZ_BINS); do n=$$(basename $$f); \
	  mkdir -p tests/fuzz/corpus/$$n $(BUILD)/fuzz/new-$$n; \
	  echo "fuzz $$n for $(FUZZ_SECONDS)s"; \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=2048 -print_final_stats=0 \
	       $(BUILD)/fuzz/new-$$n tests/fuzz/corpus/$$n >$(BUILD)/fuzz/$$n.log 2>&1; \
	  then pass=$$((pass+1)); else fail=$$((fail+1)); tail -40 $(BUILD)/fuzz/$$n.log; fi; \
	done; echo "fuzz: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]
# In `make test`: every target for a short bounded time (CI_FUZZ_SECONDS).
CI_FUZZ_SECONDS ?= 8
test-fuzz:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS)
TEST_TARGETS += test-fuzz

-include io/shell.mk
