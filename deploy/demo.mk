# deploy/demo.mk: the local demo stack (deploy/demo/) and its browser test.
#   make demo       install what is missing (deploy/install-deps.sh), build the
#                   daemon and the client package, start coturn + LiveKit +
#                   proximity-voice-control + the demo page on 127.0.0.1,
#                   print the URL; Ctrl-C stops everything.
#   make test-demo  the same stack with tone bots on random ports, the page in
#                   headless Chromium (~20 s); prints "demo: N passed, M failed"
#                   and saves $(BUILD)/demo-screenshot.png.
DEMO_SRC := deploy/demo

$(DEMO_SRC)/node_modules/.package-lock.json: $(DEMO_SRC)/package.json $(DEMO_SRC)/package-lock.json
	cd $(DEMO_SRC) && npm ci --no-audit --no-fund --loglevel=error

# The bots are tests/e2e players on tests/bots' rtc-node (rules in their .mk files).
.PHONY: demo demo-deps test-demo
demo-deps: $(DEMO_SRC)/node_modules/.package-lock.json tests/bots/node_modules/.package-lock.json \
  tests/e2e/node_modules/.package-lock.json

demo:
	bash deploy/install-deps.sh
	$(MAKE) --no-print-directory $(BUILD)/proximity-voice-control client-build demo-deps
	bash $(DEMO_SRC)/run.sh

test-demo: $(BUILD)/proximity-voice-control client-build demo-deps
	DEMO_SCREENSHOT=$(abspath $(BUILD))/demo-screenshot.png bash $(DEMO_SRC)/test/run.sh

TEST_TARGETS += test-demo

# The TURN browser test shares the stack and the npm packages of the demo.
-include tests/browser/browser.mk
