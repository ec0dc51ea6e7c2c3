# tests/bots: Node bots on a REAL LiveKit server (@livekit/rtc-node) and the
# experiments that pin down LiveKit's enforcement facts (docs/LIVEKIT-ENFORCEMENT.md).
# `make test-livekit-facts` installs the pinned npm packages if needed, starts
# its own LiveKit server on 127.0.0.1 (LIVEKIT_SERVER_BIN, default
# /opt/livekit/bin/server), runs ~35 s and prints `livekit-facts: N passed, M failed`.
# Not in TEST_TARGETS by default: it needs the LiveKit binary and npm packages.
BOTS_DIR := tests/bots
LIVEKIT_SERVER_BIN ?= /opt/livekit/bin/server

$(BOTS_DIR)/node_modules/.package-lock.json: $(BOTS_DIR)/package.json $(BOTS_DIR)/package-lock.json
	cd $(BOTS_DIR) && npm ci --no-audit --no-fund --loglevel=error

.PHONY: test-livekit-facts
test-livekit-facts: $(BOTS_DIR)/node_modules/.package-lock.json
	@if [ ! -x "$(LIVEKIT_SERVER_BIN)" ]; then \
	  echo "test-livekit-facts: LiveKit server not found at $(LIVEKIT_SERVER_BIN)"; \
	  echo "livekit-facts: 0 passed, 1 failed"; exit 1; fi
	LIVEKIT_SERVER_BIN=$(LIVEKIT_SERVER_BIN) node $(BOTS_DIR)/experiments.mjs
TEST_TARGETS += test-livekit-facts
