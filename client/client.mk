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
