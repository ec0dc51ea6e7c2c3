# tests/bots: Node bots on a REAL LiveKit server (@livekit/rtc-node) and the
# experiments that pin down LiveKit's enforcement facts (docs/LIVEKIT-ENFORCEMENT.md).
# `make test-livekit-facts` installs the pinned npm packages if needed, starts
# its own LiveKit server on 127.0.0.1 (binary: $LIVEKIT_SERVER_BIN, else the
# one deploy/paths.env names, else /opt/livekit/bin/server), runs ~40 s and
# prints `livekit-facts: N passed, M failed` (a missing binary is a failure).
BOTS_DIR := tests/bots

$(BOTS_DIR)/node_modules/.package-lock.json: $(BOTS_DIR)/package.json $(BOTS_DIR)/package-lock.json
	cd $(BOTS_DIR) && npm ci --no-audit --no-fund --loglevel=error

.PHONY: test-livekit-facts
test-livekit-facts: $(BOTS_DIR)/node_modules/.package-lock.json
	node $(BOTS_DIR)/experiments.mjs

TEST_TARGETS += test-livekit-facts
