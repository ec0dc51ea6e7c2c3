#!/usr/bin/env bash
# `make demo`: starts coturn, LiveKit, proximity-voice-control and the demo
# server on 127.0.0.1, prints the page URL and runs until Ctrl-C, then stops
# everything it started. Logs and the generated configs: build/demo-run/.
#   DEMO_PORT (8090), DEMO_VOICE (speech|tone), DEMO_SCENARIO (demo|test)
set -uo pipefail
cd "$(dirname "$0")/../.."
export DEMO_PORT=${DEMO_PORT:-8090}
. deploy/demo/stack.sh
dir=${DEMO_RUN_DIR:-build/demo-run}
rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

stopping=0
stop() {
  [ "$stopping" = 1 ] && return
  stopping=1
  echo
  echo "demo: stopping..."
  demo_stack_stop
  echo "demo: stopped (logs in $dir)"
}
trap stop EXIT
# Ctrl-C reaches the whole process group: node and the daemon stop on their
# own, this trap stops the rest (and waits for all of them).
trap 'interrupted=1; exit 0' INT TERM
interrupted=0

echo "demo: starting coturn, LiveKit, proximity-voice-control and the demo server (logs: $dir)"
demo_stack_start "$dir" || exit 1
cat <<MSG

  proximity-voice demo is running:   $DEMO_URL

  Open it in Chromium/Chrome/Firefox on this machine, click "Join voice",
  walk with WASD or the arrow keys, hold Space to talk.
  Daemon $DAEMON_URL · LiveKit $LK_URL · TURN $TURN_HOST:$TURN_PORT
  Press Ctrl-C to stop everything.

MSG
# Wait for Ctrl-C, or for any of the servers to die.
while kill -0 "$DEMO_SERVER_PID" 2>/dev/null && kill -0 "$DEMO_DAEMON_PID" 2>/dev/null &&
  kill -0 "$LK_PID" 2>/dev/null && kill -0 "$TURN_PID" 2>/dev/null; do
  sleep 1 &
  wait $! # a trap runs at once during `wait`, not after a foreground sleep
done
[ "$interrupted" = 1 ] && exit 0
echo "demo: a server exited unexpectedly; see $dir/*.log"
exit 1
