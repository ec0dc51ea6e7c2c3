#!/usr/bin/env bash
# `make test-turn-browser`: the demo stack (deploy/demo/stack.sh) with a
# verbose coturn, then turn-relay.test.mjs in headless Chromium. Prints
# "turn-browser: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. deploy/demo/stack.sh
tmp=$(mktemp -d /tmp/pv-turn-browser.XXXXXX)
cleanup() {
  demo_stack_stop
  if [ "${rc:-1}" = 0 ]; then rm -rf "$tmp"; else echo "turn-browser: logs kept in $tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$SECONDS
# verbose: coturn logs each ALLOCATE and its outcome (the test reads them).
if ! TURN_EXTRA_CONF=verbose DEMO_PORT=0 DEMO_SCENARIO=test DEMO_VOICE=tone \
  demo_stack_start "$tmp/stack"; then
  echo "turn-browser: 0 passed, 1 failed"
  exit 1
fi
TEST_TMP=$tmp node tests/browser/turn-relay.test.mjs
rc=$?
echo "turn-browser: total $((SECONDS - t0)) s"
exit $rc
