# deploy/demo/stack.sh: start and stop the whole local stack on 127.0.0.1:
# coturn, LiveKit (TURN credentials for that coturn, webhooks to the daemon),
# proximity-voice-control and the demo server (page + game simulator + bots).
# Sourced by deploy/demo/run.sh (`make demo`) and by the browser tests.
#
#   . deploy/demo/stack.sh
#   trap demo_stack_stop EXIT
#   demo_stack_start "$dir" || exit 1     # exports DEMO_URL, DAEMON_URL, LK_*, TURN_*
#
# Inputs (environment): DEMO_PORT (0 = free port; run.sh uses 8090),
# DEMO_SCENARIO (demo|test), DEMO_VOICE (speech|tone), DEMO_SEED,
# PV_DAEMON_BIN (default build/proximity-voice-control), DEMO_START_TIMEOUT (s, 60).
# Logs: DIR/daemon.log, DIR/demo.log, DIR/lk/livekit.log, DIR/turn/turnserver.log.
# Stops exactly the processes it started (by pid), in reverse order.

. "$(dirname "${BASH_SOURCE[0]}")/../../tests/lib/livekit.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/lib/coturn.sh"

DEMO_DIR_SRC=$PV_ROOT/deploy/demo

# demo_daemon_env DIR: writes DIR/daemon.env (mode 600) for the daemon.
demo_daemon_env() {
  local dir=$1
  (
    umask 077
    cat >"$dir/daemon.env" <<EOF
NODE_ENV=development
HOST=127.0.0.1
PORT=$DAEMON_PORT
PUBLIC_BASE_URL=$DAEMON_URL
LIVEKIT_URL=$LK_URL
LIVEKIT_PUBLIC_URL=$LK_URL
LIVEKIT_API_KEY=$LK_API_KEY
LIVEKIT_API_SECRET=$LK_API_SECRET
POLICY_SOCKET_JWT_SECRET=$(pv_random_alnum 48)
EXTERNAL_AUTH_MODE=shared_secret
EXTERNAL_SHARED_SECRET=$EXTERNAL_SHARED_SECRET
CORS_ALLOWED_ORIGINS=http://127.0.0.1:$DEMO_PORT,http://localhost:$DEMO_PORT
LIVEKIT_RECONCILE_INTERVAL_MS=5000
LOG_LEVEL=info
EOF
  )
}

# demo_wait_file FILE SECS PID: waits until FILE exists (PID must stay alive).
demo_wait_file() {
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    [ -s "$1" ] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

demo_fail() {
  echo "demo_stack_start: $1; log tail ($2):" >&2
  tail -15 "$2" >&2 2>/dev/null
  demo_stack_stop
  return 1
}

# demo_stack_start DIR: returns 0 once every bot publishes, 1 otherwise.
demo_stack_start() {
  local dir=$1 bin=${PV_DAEMON_BIN:-$PV_ROOT/build/proximity-voice-control}
  local timeout=${DEMO_START_TIMEOUT:-60}
  mkdir -p "$dir"
  [ -x "$bin" ] || { echo "demo_stack_start: $bin missing (make)" >&2; return 1; }
  [ -f "$PV_ROOT/client/dist/index.js" ] || { echo "demo_stack_start: client/dist missing (make client-build)" >&2; return 1; }
  [ -d "$DEMO_DIR_SRC/node_modules" ] || { echo "demo_stack_start: run npm ci in deploy/demo" >&2; return 1; }
  export DAEMON_PORT DEMO_PORT=${DEMO_PORT:-0}
  DAEMON_PORT=$(pv_free_port tcp)
  [ "$DEMO_PORT" != 0 ] || DEMO_PORT=$(pv_free_port tcp)
  export DAEMON_URL=http://127.0.0.1:$DAEMON_PORT
  export EXTERNAL_SHARED_SECRET
  EXTERNAL_SHARED_SECRET=$(pv_random_alnum 48)

  turn_start "$dir/turn" || { demo_stack_stop; return 1; }
  LK_TURN_HOST=$TURN_HOST LK_TURN_PORT=$TURN_PORT LK_TURN_SECRET=$TURN_SECRET \
    LK_WEBHOOK_URL=$DAEMON_URL/livekit/webhook lk_start "$dir/lk" || { demo_stack_stop; return 1; }

  demo_daemon_env "$dir"
  (set -a && . "$dir/daemon.env" && exec "$bin") >"$dir/daemon.log" 2>&1 &
  DEMO_DAEMON_PID=$!
  pv_wait_http "$DAEMON_URL/health" 20 "$DEMO_DAEMON_PID" || demo_fail "daemon did not start" "$dir/daemon.log" || return 1

  rm -f "$dir/demo.ready"
  (cd "$DEMO_DIR_SRC" && DEMO_READY_FILE=$dir/demo.ready DEMO_HOST=127.0.0.1 exec node server.mjs) \
    >"$dir/demo.log" 2>&1 &
  DEMO_SERVER_PID=$!
  demo_wait_file "$dir/demo.ready" "$timeout" "$DEMO_SERVER_PID" ||
    demo_fail "demo server did not get its bots on air" "$dir/demo.log" || return 1
  export DEMO_URL
  DEMO_URL=$(head -1 "$dir/demo.ready")
  export DEMO_DAEMON_PID DEMO_SERVER_PID DEMO_RUN_DIR=$dir
}

demo_stack_stop() {
  pv_stop_pid "${DEMO_SERVER_PID:-}"
  DEMO_SERVER_PID=
  pv_stop_pid "${DEMO_DAEMON_PID:-}"
  DEMO_DAEMON_PID=
  lk_stop
  turn_stop
}
