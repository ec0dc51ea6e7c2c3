# client/: the npm package proximity-voice-client (TypeScript on livekit-client).
# `make test-client`: npm ci when node_modules is missing, then typecheck,
# vitest unit tests, build (ESM + .d.ts), size budget (<= 12 KB min+gzip,
# livekit-client external) and the headless-Chromium audio smoke test.
# Ends with the line "client: N passed, M failed".
CLIENT_DIR := client

.PHONY: test-client client-deps client-build
client-deps:
	@if [ ! -d $(CLIENT_DIR)/node_modules ]; then \
	  cd $(CLIENT_DIR) && npm ci --no-audit --no-fund; fi

client-build: client-deps
	cd $(CLIENT_DIR) && node scripts/build.mjs

test-client: client-deps
	cd $(CLIENT_DIR) && node scripts/test-all.mjs

TEST_TARGETS += test-client
CLEAN_DIRS += $(CLIENT_DIR)/dist

# test-client-e2e: the built client in headless Chromium (10 browser contexts)
# against the REAL daemon (its own policy socket) and the REAL LiveKit server,
# MVP-SPEC 20.3 (client/test/e2e/run.mjs, ~2 min). Ends with the line
# "client-e2e: N passed, M failed"; skips itself without LiveKit or Chromium.
# In `make test` it runs phases A and C (three players: hearing by range,
# diagnostics, push-to-talk, devices, fades, network interruption and
# rejoin). Phase B, the 10-player acceptance of MVP-SPEC 20.3, is its own
# target: ten Chromium contexts with live audio take ~1.9 of this machine's 2
# cores, so its 2 s budget measures the machine as much as the product (see
# client/README.md); run it on a quiet machine with `make test-client-acceptance`.
.PHONY: test-client-e2e test-client-acceptance
test-client-e2e: $(DAEMON) client-build
	cd $(CLIENT_DIR) && PV_E2E_PHASES=AC PV_DAEMON=$(abspath $(DAEMON)) node test/e2e/run.mjs
test-client-acceptance: $(DAEMON) client-build
	cd $(CLIENT_DIR) && PV_E2E_PHASES=ABC PV_DAEMON=$(abspath $(DAEMON)) node test/e2e/run.mjs

# bench-client-latency: the same rig, phase A then phase L: the real client
# in Chromium, 10 rounds of a pair walking out of range and back; prints
# pose POST -> audible / silent p50/p90/p99 (docs/BENCHMARKS.md). Run twice:
# alone, then among 20 crowd talkers (loadbot players, tests/loadbot) of
# which the listener hears its 12 nearest.
.PHONY: bench-client-latency
bench-client-latency: $(DAEMON) client-build build/loadbot e2e-deps
	cd $(CLIENT_DIR) && PV_E2E_PHASES=AL PV_DAEMON=$(abspath $(DAEMON)) node test/e2e/run.mjs
	cd $(CLIENT_DIR) && PV_E2E_PHASES=AL PV_E2E_CROWD=20 PV_DAEMON=$(abspath $(DAEMON)) \
	  PV_LOADBOT=$(abspath build/loadbot) node test/e2e/run.mjs
bench: bench-client-latency

TEST_TARGETS += test-client-e2e
