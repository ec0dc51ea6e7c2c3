# tests/lib/coturn.sh: start and stop a REAL coturn (Debian's turnserver)
# on loopback, configured from the production template deploy/coturn.conf.
#
#   . tests/lib/coturn.sh
#   turn_start "$tmpdir" || exit 1
#   ... TURN at $TURN_HOST:$TURN_PORT, secret $TURN_SECRET ...
#   read -r user pass < <(turn_cred alice)      # valid TURN REST credential
#   turn_stop
#
# The test config is the production file with test-only changes ADDED or
# swapped, never a different file: listening/relay address and ports,
# pidfile/userdb/log in DIR, no external-ip, and either no TLS or (with
# TURN_TLS=1) a self-signed certificate. Production denies loopback and
# private peers; TURN_ALLOW_PEERS (default "loopback") adds exceptions:
#   loopback  allow-loopback-peers + allowed-peer-ip for 127.0.0.1 and ::1
#   none      keep production's peer rules exactly (loopback peers get 403)
#   CIDR-less "A-B" or "A" ranges, space separated: allowed-peer-ip for each
#
# turn_start exports: TURN_HOST, TURN_PORT (UDP+TCP), TURN_TLS_PORT (0 unless
# TURN_TLS=1), TURN_SECRET, TURN_REALM, TURN_PID, TURN_DIR, TURN_LOG,
# TURN_CONF. Inputs: TURN_BIND_IP (default 127.0.0.1), TURN_SECRET (default
# random), TURN_TLS, TURN_ALLOW_PEERS, TURN_EXTRA_CONF (raw lines appended).

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# turn_write_config OUT: renders deploy/coturn.conf for the test.
turn_write_config() {
  local out=$1 tls_cert=/nonexistent tls_key=/nonexistent
  if [ "$TURN_TLS_PORT" != 0 ]; then
    tls_cert=$TURN_DIR/cert.pem tls_key=$TURN_DIR/key.pem
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=$TURN_HOST" -keyout "$tls_key" -out "$tls_cert" >/dev/null 2>&1 || return 1
  fi
  TURN_LISTEN_PORT=$TURN_PORT TURN_TLS_LISTEN_PORT=$TURN_TLS_PORT \
    TURN_EXTERNAL_IP=$TURN_HOST TURN_RELAY_MIN_PORT=$TURN_RELAY_MIN \
    TURN_RELAY_MAX_PORT=$TURN_RELAY_MAX TURN_STATIC_AUTH_SECRET=$TURN_SECRET \
    TURN_REALM=$TURN_REALM TURN_TLS_CERT=$tls_cert TURN_TLS_KEY=$tls_key \
    DOMAIN=$TURN_REALM PUBLIC_IP=$TURN_HOST \
    bash "$PV_ROOT/deploy/render.sh" file "$PV_ROOT/deploy/coturn.conf" |
    grep -vE '^(external-ip|userdb|log-file)=' >"$out.tmp" || return 1
  if [ "$TURN_TLS_PORT" = 0 ]; then
    grep -vE '^(tls-listening-port|cert|pkey)=' "$out.tmp" >"$out"
    echo "no-tls" >>"$out"
  else
    cp "$out.tmp" "$out"
  fi
  rm -f "$out.tmp"
  {
    echo "# ---- test-only additions (tests/lib/coturn.sh) ----"
    echo "listening-ip=$TURN_HOST"
    echo "relay-ip=$TURN_HOST"
    echo "pidfile=$TURN_DIR/turnserver.pid"
    echo "userdb=$TURN_DIR/turndb"
    echo "log-file=$TURN_LOG"
    case "${TURN_ALLOW_PEERS:-loopback}" in
      none) ;;
      loopback) printf '%s\n' allow-loopback-peers allowed-peer-ip=127.0.0.1 allowed-peer-ip=::1 ;;
      *) for r in $TURN_ALLOW_PEERS; do echo "allowed-peer-ip=$r"; done ;;
    esac
    [ -z "${TURN_EXTRA_CONF:-}" ] || printf '%s\n' "$TURN_EXTRA_CONF"
  } >>"$out"
}

# turn_start DIR: returns 0 once coturn listens on TURN_PORT, else 1.
turn_start() {
  local dir=$1 i
  command -v "$TURNSERVER_BIN" >/dev/null || {
    echo "turn_start: $TURNSERVER_BIN missing (apt-get install coturn)" >&2
    return 1
  }
  mkdir -p "$dir"
  export TURN_DIR=$dir TURN_LOG=$dir/turnserver.log TURN_CONF=$dir/turnserver.conf
  export TURN_HOST=${TURN_BIND_IP:-127.0.0.1}
  export TURN_PORT TURN_TLS_PORT=0 TURN_RELAY_MIN TURN_RELAY_MAX
  TURN_PORT=$(pv_free_port udp "$TURN_HOST")
  [ "${TURN_TLS:-0}" != 1 ] || TURN_TLS_PORT=$(pv_free_port tcp "$TURN_HOST")
  TURN_RELAY_MIN=$(pv_free_port_range 40 "$TURN_HOST") || return 1
  TURN_RELAY_MAX=$((TURN_RELAY_MIN + 39))
  export TURN_SECRET=${TURN_SECRET:-$(pv_random_alnum 48)}
  export TURN_REALM=${TURN_REALM:-turn.test}
  turn_write_config "$TURN_CONF" || { echo "turn_start: config failed" >&2; return 1; }
  "$TURNSERVER_BIN" -c "$TURN_CONF" >"$dir/turnserver.stdout" 2>&1 &
  export TURN_PID=$!
  for i in $(seq 100); do
    if ! kill -0 "$TURN_PID" 2>/dev/null; then break; fi
    if ss -Hlnu "src $TURN_HOST:$TURN_PORT" 2>/dev/null | grep -q . &&
      ss -Hlnt "src $TURN_HOST:$TURN_PORT" 2>/dev/null | grep -q .; then
      return 0
    fi
    sleep 0.1
  done
  echo "turn_start: coturn did not come up on $TURN_HOST:$TURN_PORT; log tail:" >&2
  tail -20 "$TURN_LOG" "$dir/turnserver.stdout" >&2 2>/dev/null
  turn_stop
  return 1
}

turn_stop() {
  pv_stop_pid "${TURN_PID:-}"
  TURN_PID=
}

# turn_cred USER [TTL_S]: prints "username password" valid for TTL_S (600)
# seconds; a negative TTL_S gives an already expired credential.
turn_cred() {
  pv_turn_rest_cred "$TURN_SECRET" "$1" $(($(date +%s) + ${2:-600}))
}
