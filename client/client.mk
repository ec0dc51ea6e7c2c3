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
.PHONY: test-client-e2e
test-client-e2e: $(DAEMON) client-build
	cd $(CLIENT_DIR) && PV_DAEMON=$(abspath $(DAEMON)) node test/e2e/run.mjs

TEST_TARGETS += test-client-e2e
