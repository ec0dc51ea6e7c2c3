# tests/unit: C unit and property suites for core/ (one binary per file).
# A file tests/unit/test_NAME.c becomes $(BUILD)/tests/unit/test_NAME, linked
# with libpvcore.a. `make test-unit` runs them all and prints a total line.
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)

$(BUILD)/tests/unit/%: tests/unit/%.c $(CORE_LIB) tests/unit/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(CORE_LIB) -lm $(LDFLAGS) -o $@

.PHONY: test-unit
test-unit: $(UNIT_BINS)
	@pass=0; fail=0; for t in $(UNIT_BINS); do \
	  if $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "suite failed: $$t"; fi; \
	done; echo "unit suites: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]
TEST_TARGETS := test-unit $(TEST_TARGETS)
-include tests/bench/bench.mk
