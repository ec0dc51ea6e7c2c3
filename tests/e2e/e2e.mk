# tests/e2e: the control plane end to end on a REAL LiveKit server (v1.13.5):
# the daemon binary, its webhook endpoint, policy socket and RoomService calls,
# with rtc-node bots (tests/bots/lib) that publish tones and report what they
# really hear. Needs the LiveKit binary (deploy/paths.env or
# $LIVEKIT_SERVER_BIN) and the npm packages of tests/bots and tests/e2e.
#
#   make test-e2e-livekit    hearing, hysteresis, malicious listener, rogue
#                            speaker, forged webhooks, daemon and LiveKit
#                            restarts (~1 min); E2E_ONLY=hearing,rogue for a subset
#   make bench-livekit       >= 20 bots: enter/exit latency p50/p99; 30 talkers:
#                            downstream bitrate with the cap vs all-to-all
#                            (talkers: the Go loadbot, tests/loadbot; its
#                            modules come from the Go proxy on first build)
E2E_DIR  := tests/e2e
E2E_ONLY ?=

$(E2E_DIR)/node_modules/.package-lock.json: $(E2E_DIR)/package.json $(E2E_DIR)/package-lock.json
	cd $(E2E_DIR) && npm ci --no-audit --no-fund --loglevel=error

# the bots' packages (same rule as tests/bots/bots.mk, which may not be included)
.PHONY: e2e-deps
e2e-deps: $(E2E_DIR)/node_modules/.package-lock.json
	@[ -f tests/bots/node_modules/.package-lock.json ] && \
	  [ tests/bots/node_modules/.package-lock.json -nt tests/bots/package-lock.json ] || \
	  (cd tests/bots && npm ci --no-audit --no-fund --loglevel=error)

.PHONY: test-e2e-livekit
test-e2e-livekit: $(DAEMON) e2e-deps
	PV_DAEMON=$(DAEMON) node $(E2E_DIR)/e2e.mjs $(if $(E2E_ONLY),--only $(E2E_ONLY))
TEST_TARGETS += test-e2e-livekit

# the loadbot: server-sdk-go (pion) participants that publish an Opus tone
# and count received bytes without decoding (bench.mjs, bitrate part)
LOADBOT := build/loadbot
$(LOADBOT): tests/loadbot/main.go tests/loadbot/go.mod tests/loadbot/go.sum
	@mkdir -p $(dir $@)
	cd tests/loadbot && go build -buildvcs=false -o $(abspath $@) .

# its Ogg parser's tests (go vet, go test; go test prints no N passed line)
.PHONY: test-loadbot
test-loadbot:
	@mkdir -p $(BUILD)
	@cd tests/loadbot && { go vet . && go test -v -count=1 . ; } > $(abspath $(BUILD))/loadbot-test.log 2>&1; \
	  rc=$$?; cat $(abspath $(BUILD))/loadbot-test.log; \
	  p=$$(grep -c '^--- PASS' $(abspath $(BUILD))/loadbot-test.log); \
	  f=$$(grep -c '^--- FAIL' $(abspath $(BUILD))/loadbot-test.log); \
	  [ $$rc -eq 0 ] || [ $$f -gt 0 ] || f=1; \
	  echo "loadbot: $$p passed, $$f failed"; exit $$rc
TEST_TARGETS += test-loadbot

# test-livekit-scale: 100 loadbot players (full policy-socket behaviour) walk
# for 30 s on the real LiveKit and daemon, which is restarted 10 s in; once a
# second every listener's received RTP per speaker is checked against its
# canHear: no audio from outside it, audio from inside it (both after a 3 s
# grace). ~1.5 min; the first run also builds the loadbot (Go modules from
# the proxy).
.PHONY: test-livekit-scale
test-livekit-scale: $(DAEMON) $(LOADBOT) e2e-deps
	BENCH_SCALE_S=30 BENCH_SCALE_RESTART_AT_S=10 PV_DAEMON=$(DAEMON) PV_LOADBOT=$(abspath $(LOADBOT)) \
	  node $(E2E_DIR)/scale.mjs
TEST_TARGETS += test-livekit-scale

.PHONY: bench-livekit
bench-livekit: $(DAEMON) $(LOADBOT) test-loadbot e2e-deps
	PV_DAEMON=$(DAEMON) PV_LOADBOT=$(abspath $(LOADBOT)) node $(E2E_DIR)/bench.mjs
bench: bench-livekit
