# tests/browser: browser tests of the whole stack (deploy/demo/stack.sh:
# coturn + LiveKit + proximity-voice-control + demo server) in headless
# Chromium. `make test-turn-browser`: relay-only through coturn works, wrong
# or expired TURN credentials fail cleanly (~25 s); prints
# "turn-browser: N passed, M failed". Uses deploy/demo's npm packages.
.PHONY: test-turn-browser
test-turn-browser: $(BUILD)/proximity-voice-control client-build demo-deps
	bash tests/browser/run.sh

TEST_TARGETS += test-turn-browser
