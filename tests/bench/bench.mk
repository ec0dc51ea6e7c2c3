# tests/bench: benchmarks (not timed tests; they print numbers). `make bench`
# runs them all; other fragments add their own prerequisites to `bench`.
.PHONY: bench bench-audib
bench: bench-audib

# Benchmarks are always built with -O2 whatever OPT says. bench_audib
# compiles core/audib.c itself rather than linking libpvcore.a, so it
# measures exactly that file at -O2 and does not depend on the rest of core/.
BENCH_CFLAGS = $(filter-out $(OPT),$(CFLAGS)) -O2

$(BUILD)/tests/bench/bench_audib: tests/bench/bench_audib.c core/audib.c core/audib.h core/pv.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) tests/bench/bench_audib.c core/audib.c -lm $(LDFLAGS) -o $@

bench-audib: $(BUILD)/tests/bench/bench_audib
	$(BUILD)/tests/bench/bench_audib

# bench_core drives the whole core through pv_core_step (poses applied per
# second, full 4 Hz round cost with sockets) and links libpvcore.a.
.PHONY: bench-core
bench: bench-core
$(BUILD)/tests/bench/bench_core: tests/bench/bench_core.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $< $(CORE_LIB) -lm $(LDFLAGS) -o $@
bench-core: $(BUILD)/tests/bench/bench_core
	$(BUILD)/tests/bench/bench_core
