# proximity-voice: top-level build. Each directory owns a fragment (*.mk).
# Common targets: all, test, sim, sim-swarm, bench, asan, ubsan, fuzz,
# format, check-format, check-core-purity, demo, clean.
.DEFAULT_GOAL := all
SHELL := /bin/bash

CC       ?= cc
BUILD    ?= build
OPT      ?= -O2
SAN      ?=
# Warnings are errors everywhere (CI and local): cheap to keep clean.
CWARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wvla -Wformat=2 -Wno-unused-parameter -Werror
CFLAGS   := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(OPT) -g $(CWARN) \
            -fno-omit-frame-pointer -ffp-contract=off $(if $(SAN),-fsanitize=$(SAN) -fno-sanitize-recover=all) \
            -Icore -Iio -Isim $(EXTRA_CFLAGS)
LDFLAGS  := $(if $(SAN),-fsanitize=$(SAN)) $(EXTRA_LDFLAGS)

# Suites register themselves here; `make test` runs them in order.
TEST_TARGETS :=
CLEAN_DIRS   := $(BUILD)

include core/core.mk
-include sim/sim.mk
-include io/io.mk
-include tests/tests.mk
-include client/client.mk
-include deploy/deploy.mk
-include tests/bots/bots.mk
-include tests/ws/ws.mk
-include tests/e2e/e2e.mk

.PHONY: all test asan ubsan format check-format clean
test: $(TEST_TARGETS)
	@echo "== all test suites passed: $(TEST_TARGETS)"

# Sanitizer builds run the C unit suites in their own build directory.
asan:
	$(MAKE) BUILD=build/asan SAN=address,undefined OPT=-O1 test-unit
ubsan:
	$(MAKE) BUILD=build/ubsan SAN=undefined OPT=-O1 test-unit

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(CLEAN_DIRS)
