#!/usr/bin/env bash
# `make test-demo`: starts the whole stack on 127.0.0.1 with random free ports
# and tone bots (scenario "test"), runs demo.test.mjs in headless Chromium,
# stops everything. Prints "demo: N passed, M failed". Screenshot:
# $DEMO_SCREENSHOT (default build/demo-screenshot.png).
set -uo pipefail
cd "$(dirname "$0")/../../.."
. deploy/demo/stack.sh
export DEMO_SCREENSHOT=${DEMO_SCREENSHOT:-$PWD/build/demo-screenshot.png}
mkdir -p "$(dirname "$DEMO_SCREENSHOT")"
tmp=$(mktemp -d /tmp/pv-demo-test.XXXXXX)
cleanup() {
  demo_stack_stop
  if [ "${rc:-1}" = 0 ]; then rm -rf "$tmp"; else echo "demo: logs kept in $tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$SECONDS
if ! DEMO_PORT=0 DEMO_SCENARIO=test DEMO_VOICE=tone demo_stack_start "$tmp/stack"; then
  echo "demo: 0 passed, 1 failed"
  exit 1
fi
echo "demo: stack up in $((SECONDS - t0)) s at $DEMO_URL"
DEMO_TMP=$tmp node deploy/demo/test/demo.test.mjs
rc=$?
echo "demo: total $((SECONDS - t0)) s"
exit $rc
