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

# formatting is checked with the other suites (clang-format from Debian 12)
TEST_TARGETS += check-format

.PHONY: all test asan ubsan format check-format clean
# `make test` works on a fresh machine: it first installs what the suites
# need (deploy/install-deps.sh, a fraction of a second when everything is
# there; PV_SKIP_INSTALL=1 skips it), builds, then runs every suite even after
# one fails, and ends with a total line.
test:
	@[ -n "$(PV_SKIP_INSTALL)" ] || bash deploy/install-deps.sh
	@$(MAKE) --no-print-directory -j2 all
	@pass=0; fail=0; failed=""; for t in $(TEST_TARGETS); do \
	  echo "== suite $$t"; \
	  if $(MAKE) --no-print-directory $$t; then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); failed="$$failed $$t"; fi; \
	done; \
	echo "suites: $$pass passed, $$fail failed$${failed:+ (failed:$$failed)}"; [ $$fail -eq 0 ]

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
