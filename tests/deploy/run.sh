#!/usr/bin/env bash
# tests/deploy/run.sh: smoke tests of the deployment assets in deploy/
# against the real programs, all on 127.0.0.1:
#   1. templates: render, secrets, env example in sync with io/config.c,
#      production peer rules of coturn.conf
#   2. nginx: `nginx -t` on the rendered config, then a live nginx in front
#      of a real LiveKit and a request-recording upstream: redirects, headers,
#      body limit, webhook path hidden, WebSocket upgrade, rate limit
#   3. systemd units: systemd-analyze verify + security exposure (if present)
#   4. coturn: the production config (test additions only) with a TURN
#      client: valid / wrong / expired credentials, denied peers, TLS, rotation
#   5. LiveKit: tests/lib/livekit.sh helper and the production livekit.yaml,
#      Twirp API with admin JWTs, webhook delivery to the loopback path
# Final line: "deploy: N passed, M failed" (exit 1 if any failed).
# KEEP_TMP=1 keeps the temp dir for inspection.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. tests/lib/livekit.sh
. tests/lib/coturn.sh

TMP=$(mktemp -d /tmp/pv-deploy-test.XXXXXX)
chmod 755 "$TMP"
ECHO_PID= NGINX_PID=
cleanup() {
  lk_stop
  turn_stop
  pv_stop_pid "$NGINX_PID"
  pv_stop_pid "$ECHO_PID"
  [ "${KEEP_TMP:-0}" = 1 ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASS=0 FAIL=0 SKIP=0
ok() { PASS=$((PASS + 1)); echo "  ok    $1"; }
bad() {
  FAIL=$((FAIL + 1))
  echo "  FAIL  $1"
  [ -z "${2:-}" ] || printf '%s\n' "$2" | head -15 | sed 's/^/        /'
}
skip() { SKIP=$((SKIP + 1)); echo "  skip  $1"; }
# expect NAME ACTUAL WANTED
expect() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi; }
# expect_match NAME TEXT REGEX
expect_match() {
  if grep -Eq -- "$3" <<<"$2"; then ok "$1"; else bad "$1" "no /$3/ in: $(head -c 600 <<<"$2")"; fi
}
section() { echo "== deploy: $1"; }

# ---------------------------------------------------------------------------
section "templates and secrets"
secrets1=$(bash deploy/gen-secrets.sh)
secrets2=$(bash deploy/gen-secrets.sh)
vals=$(grep -E '^[A-Z_]+=' <<<"$secrets1" | grep -v '^LIVEKIT_API_KEY=' | cut -d= -f2)
expect "gen-secrets: 4 secrets of 48 [A-Za-z0-9]" \
  "$(grep -cE '^[A-Za-z0-9]{48}$' <<<"$vals")" 4
[ "$secrets1" != "$secrets2" ] && ok "gen-secrets: two runs differ" || bad "gen-secrets: two runs equal"
printf '%s\n' "$secrets1" >"$TMP/secrets.env"
cat >"$TMP/site.env" <<EOF
DOMAIN=voice.test
PUBLIC_IP=127.0.0.1
CORS_ALLOWED_ORIGINS=https://game.test
TLS_CERT=$TMP/tls/cert.pem
TLS_KEY=$TMP/tls/key.pem
DEMO_ROOT=$TMP/demo
EOF
if out=$(bash deploy/render.sh tree "$TMP/root" "$TMP/site.env" "$TMP/secrets.env" 2>&1); then
  ok "render.sh tree succeeds"
else
  bad "render.sh tree succeeds" "$out"
fi
left=$(grep -rlE '@[A-Z][A-Z0-9_]*@' "$TMP/root" 2>/dev/null)
expect "rendered tree has no unfilled tokens" "$left" ""
modes=$(cd "$TMP/root/etc" && stat -c '%a %n' turnserver.conf livekit/turn-secret \
  proximity-voice/control.env proximity-voice/livekit.env proximity-voice/secrets/* | awk '$1 != "640"')
expect "secret-bearing files are mode 0640" "$modes" ""
mkdir -p "$TMP/tls" && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=voice.test \
  -keyout "$TMP/tls/key.pem" -out "$TMP/tls/cert.pem" >/dev/null 2>&1
if out=$(DESTDIR=$TMP/dest bash deploy/install-host.sh "$TMP/site.env" "$TMP/secrets.env" 2>&1); then
  got=$(cd "$TMP/dest" && find . -type f -printf '%m %p\n' | sort)
  want="640 ./etc/coturn/tls/privkey.pem 644 ./etc/coturn/tls/fullchain.pem
644 ./etc/livekit/livekit.yaml 640 ./etc/livekit/turn-secret
644 ./etc/nginx/conf.d/proximity-voice.conf 640 ./etc/proximity-voice/control.env
640 ./etc/proximity-voice/livekit.env 640 ./etc/proximity-voice/secrets/external_shared_secret
640 ./etc/proximity-voice/secrets/livekit_api_secret
640 ./etc/proximity-voice/secrets/policy_socket_jwt_secret
644 ./etc/systemd/system/coturn.service.d/proximity-voice.conf
644 ./etc/systemd/system/livekit.service 644 ./etc/systemd/system/proximity-voice-control.service
640 ./etc/turnserver.conf"
  [ -x build/proximity-voice-control ] && want+=" 755 ./usr/local/bin/proximity-voice-control"
  expect "install-host.sh (DESTDIR) installs every file with its mode" \
    "$(tr '\n' ' ' <<<"$got" | xargs -n2 | sort)" "$(xargs -n2 <<<"$want" | sort)"
else
  bad "install-host.sh (DESTDIR) runs" "$out"
fi
out=$(env -i bash deploy/render.sh file deploy/nginx.conf 2>&1 >/dev/null)
expect_match "render.sh refuses a template with missing values" "$out" "no value for .*DOMAIN"

if [ -f io/config.c ]; then
  missing=""
  for v in $(grep -oE '^\s*\{"[A-Z_]+",' io/config.c | grep -oE '[A-Z_]+'); do
    grep -qE "^#?$v(_FILE)?=" deploy/control.env.example || missing+=" $v"
  done
  expect "control.env.example lists every variable of io/config.c" "$missing" ""
else
  skip "control.env.example vs io/config.c (io/config.c not present)"
fi
missing=""
for v in NODE_ENV PORT PUBLIC_BASE_URL LIVEKIT_URL LIVEKIT_API_KEY LIVEKIT_API_SECRET \
  POLICY_SOCKET_JWT_SECRET EXTERNAL_AUTH_MODE EXTERNAL_SHARED_SECRET SESSION_TOKEN_TTL_SECONDS \
  POLICY_SOCKET_TOKEN_TTL_SECONDS MAX_ROOM_SIZE MAX_POLICY_BATCH_SIZE; do
  grep -qE "^#?$v(_FILE)?=" deploy/control.env.example || missing+=" $v"
done
expect "control.env.example lists every MVP-SPEC 16.1 variable" "$missing" ""

prod=$(grep -vE '^\s*(#|$)' deploy/coturn.conf)
want_denied="0.0.0.0-0.255.255.255 10.0.0.0-10.255.255.255 100.64.0.0-100.127.255.255
127.0.0.0-127.255.255.255 169.254.0.0-169.254.255.255 172.16.0.0-172.31.255.255
192.168.0.0-192.168.255.255 224.0.0.0-255.255.255.255 ::1 ::
fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff
::ffff:0.0.0.0-::ffff:255.255.255.255"
missing=""
for r in $want_denied; do grep -qxF "denied-peer-ip=$r" <<<"$prod" || missing+=" $r"; done
expect "coturn.conf denies loopback, private, CGNAT, link-local, multicast, ULA" "$missing" ""
missing=""
for k in use-auth-secret no-cli no-multicast-peers no-tlsv1 no-tlsv1_1 no-rfc5780 \
  no-stun-backward-compatibility response-origin-only-with-rfc5780 fingerprint; do
  grep -qx "$k" <<<"$prod" || missing+=" $k"
done
for k in stale-nonce user-quota total-quota static-auth-secret realm cert pkey; do
  grep -q "^$k=" <<<"$prod" || missing+=" $k"
done
expect "coturn.conf has the hardening options" "$missing" ""
expect "coturn.conf allows no loopback/extra peers" \
  "$(grep -cE '^(allow-loopback-peers|allowed-peer-ip)' <<<"$prod")" 0

# ---------------------------------------------------------------------------
section "nginx"
mkdir -p "$TMP/demo" "$TMP/nginx"
echo '<!doctype html><title>demo</title>' >"$TMP/demo/index.html"
chmod 644 "$TMP/tls/key.pem"
# A minimal main config around the rendered http-context file, with every
# path in TMP (never /etc or /var).
nginx_main() { # $1 = included file
  cat <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log $TMP/nginx/access.log;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    include /etc/nginx/mime.types;
    include $1;
}
EOF
}
nginx_main "$TMP/root/etc/nginx/conf.d/proximity-voice.conf" >"$TMP/nginx/main.conf"
if out=$("$NGINX_BIN" -t -q -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/main.conf" 2>&1); then
  ok "nginx -t accepts the rendered deploy/nginx.conf"
else
  bad "nginx -t accepts the rendered deploy/nginx.conf" "$out"
fi

# Live: LiveKit (helper) + recording upstream on the control plane's port.
CTRL_PORT=$(pv_free_port)
python3 tests/deploy/echo_upstream.py "$CTRL_PORT" "$TMP/upstream.log" &
ECHO_PID=$!
LK_WEBHOOK_URL=http://127.0.0.1:$CTRL_PORT/livekit/webhook lk_start "$TMP/lk-helper" ||
  bad "lk_start (tests/lib/livekit.sh) brings LiveKit up" "$(tail -5 "$TMP/lk-helper/livekit.log" 2>/dev/null)"
pv_wait_http "http://127.0.0.1:$CTRL_PORT/" 10 "$ECHO_PID" || bad "recording upstream starts"
HTTP_PORT=$(pv_free_port) HTTPS_PORT=$(pv_free_port)
# Same file, test-only swaps: loopback listeners on free ports, upstream ports.
sed -e "s/listen 80;/listen 127.0.0.1:$HTTP_PORT;/" \
  -e "s/listen 443 ssl http2;/listen 127.0.0.1:$HTTPS_PORT ssl http2;/" \
  -e '/listen \[::\]/d' \
  -e "s/server 127.0.0.1:8080;/server 127.0.0.1:$CTRL_PORT;/" \
  -e "s/server 127.0.0.1:7880;/server 127.0.0.1:${LK_PORT:-1};/" \
  "$TMP/root/etc/nginx/conf.d/proximity-voice.conf" >"$TMP/nginx/live.conf"
nginx_main "$TMP/nginx/live.conf" >"$TMP/nginx/live-main.conf"
"$NGINX_BIN" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/live-main.conf" &
NGINX_PID=$!
B=https://127.0.0.1:$HTTPS_PORT
C=(curl -sk --max-time 5 -H 'Host: voice.test')
if pv_wait_http "http://127.0.0.1:$HTTP_PORT/" 10 "$NGINX_PID"; then
  ok "nginx serves the rendered config on loopback"
  out=$(curl -s --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: voice.test' \
    "http://127.0.0.1:$HTTP_PORT/sessions?x=1")
  expect "http -> https redirect (301)" "$out" "301 https://voice.test/sessions?x=1"
  hdrs=$("${C[@]}" -D - -o /dev/null "$B/health" | tr -d '\r')
  for h in 'strict-transport-security: max-age=63072000' 'x-content-type-options: nosniff' \
    'referrer-policy: no-referrer' "content-security-policy: default-src 'none'"; do
    expect_match "header on /health: ${h%%:*}" "${hdrs,,}" "^$h"
  done
  expect_match "server version hidden" "${hdrs,,}" '^server: nginx$'
  body=$("${C[@]}" "$B/health")
  expect_match "/health proxied to the control plane" "$body" '"path": "/health"'
  expect_match "X-Forwarded-For is the client address" "$body" '"x-forwarded-for": "127.0.0.1"'
  expect_match "X-Forwarded-Proto https" "$body" '"x-forwarded-proto": "https"'
  body=$("${C[@]}" -H 'X-Forwarded-For: 6.6.6.6' "$B/ready")
  expect_match "a client's X-Forwarded-For is overwritten" "$body" '"x-forwarded-for": "127.0.0.1"'
  code=$("${C[@]}" -o /dev/null -w '%{http_code}' -X POST --data '{}' "$B/livekit/webhook")
  expect "/livekit/webhook is not reachable through nginx (404)" "$code" 404
  grep -q '"/livekit/webhook"' "$TMP/upstream.log" 2>/dev/null &&
    bad "webhook request leaked to the upstream" || ok "webhook request never reached the upstream"
  expect "unknown path 404" "$("${C[@]}" -o /dev/null -w '%{http_code}' "$B/admin")" 404
  head -c 70000 /dev/zero | tr '\0' a >"$TMP/big.json"
  code=$("${C[@]}" -o /dev/null -w '%{http_code}' -X POST --data-binary @"$TMP/big.json" "$B/policy/poses")
  expect "body over MAX_BODY_BYTES rejected (413)" "$code" 413
  body=$("${C[@]}" -X POST --data-binary @<(head -c 60000 "$TMP/big.json") "$B/policy/poses")
  expect_match "body under the limit reaches /policy/poses" "$body" '"body_len": 60000'
  # Browsers open WebSockets over HTTP/1.1 (nginx 1.22 has no RFC 8441).
  body=$("${C[@]}" --http1.1 -H 'Upgrade: websocket' -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$B/policy-socket")
  expect_match "/policy-socket forwards Upgrade" "$body" '"upgrade": "websocket"'
  expect_match "/policy-socket forwards Connection: upgrade" "$body" '"connection": "upgrade"'
  expect_match "/policy-socket keeps X-Forwarded-For" "$body" '"x-forwarded-for": "127.0.0.1"'
  if [ -n "${LK_PID:-}" ]; then
    tok=$(lk_jwt '{"sub":"p1","video":{"roomJoin":true,"room":"nginx-room"}}')
    out=$("${C[@]}" -w ' %{http_code}' "$B/rtc/validate?access_token=$tok")
    expect "/rtc/validate reaches LiveKit with a valid token" "$out" "success 200"
    forged=$(LK_API_SECRET=$(pv_random_alnum 48) lk_jwt '{"sub":"p1","video":{"roomJoin":true,"room":"nginx-room"}}')
    out=$("${C[@]}" -w ' %{http_code}' "$B/rtc/validate?access_token=$forged")
    expect_match "/rtc/validate rejects a forged token" "$out" ' 401$'
    adm=$(lk_jwt '{"sub":"ops","video":{"roomList":true}}')
    out=$("${C[@]}" -w ' %{http_code}' -X POST -H 'Content-Type: application/json' \
      -H "Authorization: Bearer $adm" --data '{}' "$B/twirp/livekit.RoomService/ListRooms")
    expect_match "/twirp reaches LiveKit's RoomService" "$out" '^\{"rooms":.* 200$'
  fi
  codes=$(curl -sk --no-progress-meter -Z --parallel-max 25 --max-time 10 -H "Host: voice.test" -w '%{http_code}\n' \
    $(for i in $(seq 100); do echo "-o /dev/null $B/sessions"; done) 2>/dev/null | sort | uniq -c)
  expect_match "rate limit on /sessions answers 429 beyond the burst" "$codes" ' 429$'
  expect_match "rate limit still lets the burst through" "$codes" ' 200$'
  body=$("${C[@]}" -D - "$B/demo/index.html")
  expect_match "demo page served with its own CSP" "${body,,}" "content-security-policy: default-src 'self'.*connect-src 'self' wss://voice.test"
else
  bad "nginx serves the rendered config on loopback" "$(tail -5 "$TMP/nginx/error.log" 2>/dev/null)"
fi
pv_stop_pid "$NGINX_PID"
NGINX_PID=

# ---------------------------------------------------------------------------
section "systemd units"
if command -v systemd-analyze >/dev/null; then
  U=$TMP/units
  mkdir -p "$U/coturn.service.d"
  cp deploy/proximity-voice-control.service deploy/livekit.service "$U/"
  # ExecStart binaries must exist for verify: point them at what is installed.
  daemon_bin=$ROOT/build/proximity-voice-control
  [ -x "$daemon_bin" ] || daemon_bin=/bin/true
  sed -i "s#/usr/local/bin/proximity-voice-control#$daemon_bin#" "$U/proximity-voice-control.service"
  sed -i "s#/opt/livekit/bin/livekit-server#$LIVEKIT_SERVER_BIN#" "$U/livekit.service"
  cp deploy/coturn-override.conf "$U/coturn.service.d/proximity-voice.conf"
  if [ -f /lib/systemd/system/coturn.service ]; then cp /lib/systemd/system/coturn.service "$U/"; fi
  for u in proximity-voice-control livekit coturn; do
    [ -f "$U/$u.service" ] || { skip "$u.service (Debian unit not installed)"; continue; }
    out=$(SYSTEMD_UNIT_PATH=$U: systemd-analyze verify "$U/$u.service" 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $u.service"; else
      bad "systemd-analyze verify $u.service" "$out"; fi
    out=$(SYSTEMD_UNIT_PATH=$U: systemd-analyze security --offline=yes --threshold=20 "$U/$u.service" 2>&1)
    rc=$?
    level=$(grep -o 'Overall exposure level.*' <<<"$out")
    if [ $rc -eq 0 ]; then ok "$u.service exposure <= 2.0 (${level##*: })"; else
      bad "$u.service exposure <= 2.0" "$level"; fi
  done
else
  skip "systemd units: systemd-analyze not installed"
fi

# ---------------------------------------------------------------------------
section "coturn (production config + test additions)"
PROBE=(python3 tests/lib/turn_probe.py)
OLD_SECRET=$(pv_random_alnum 48)
if TURN_TLS=1 TURN_EXTRA_CONF="static-auth-secret=$OLD_SECRET" turn_start "$TMP/turn"; then
  ok "coturn starts from deploy/coturn.conf on 127.0.0.1"
  read -r u p < <(turn_cred alice)
  for t in udp tcp; do
    out=$("${PROBE[@]}" 127.0.0.1 "$TURN_PORT" "$u" "$p" --transport $t --peer 127.0.0.1)
    expect_match "TURN/$t: valid REST credential allocates a relay" "$out" '^allocate: ok relayed 127\.0\.0\.1:'
  done
  out=$("${PROBE[@]}" 127.0.0.1 "$TURN_TLS_PORT" "$u" "$p" --transport tls --peer 127.0.0.1)
  expect_match "TURN/TLS (turns:) allocates with TLS 1.2+" "$out" '^tls: TLSv1\.[23]'
  expect_match "TURN/TLS allocation ok" "$out" '^allocate: ok'
  out=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$TURN_TLS_PORT" -tls1_1 \
    -cipher 'DEFAULT:@SECLEVEL=0' 2>&1)
  if grep -q 'Protocol *: TLSv1.1' <<<"$out"; then bad "TURN/TLS refuses TLS 1.1" "$out"; else
    ok "TURN/TLS refuses TLS 1.1"; fi
  read -r u2 p2 < <(pv_turn_rest_cred "WRONG$TURN_SECRET" alice $(($(date +%s) + 600)))
  out=$("${PROBE[@]}" 127.0.0.1 "$TURN_PORT" "$u2" "$p2")
  expect "wrong secret -> 401" "$out" "allocate: error 401 Unauthorized"
  read -r u2 p2 < <(turn_cred alice -30)
  out=$("${PROBE[@]}" 127.0.0.1 "$TURN_PORT" "$u2" "$p2")
  expect "expired credential -> 401" "$out" "allocate: error 401 Unauthorized"
  out=$("${PROBE[@]}" 127.0.0.1 "$TURN_PORT" "$u" "${p%?}A")
  expect "wrong password -> 401" "$out" "allocate: error 401 Unauthorized"
  read -r u2 p2 < <(pv_turn_rest_cred "$OLD_SECRET" bob $(($(date +%s) + 600)))
  out=$("${PROBE[@]}" 127.0.0.1 "$TURN_PORT" "$u2" "$p2")
  expect_match "rotation: a second static-auth-secret is accepted" "$out" '^allocate: ok'
  for peer in 10.1.2.3 192.168.1.1 172.16.0.1 169.254.1.1 100.64.0.1 0.1.2.3; do
    out=$("${PROBE[@]}" 127.0.0.1 "$TURN_PORT" "$u" "$p" --peer $peer)
    expect_match "relay to $peer denied (403)" "$out" 'permission: error 403'
  done
  turn_stop
else
  bad "coturn starts from deploy/coturn.conf on 127.0.0.1" "$(tail -5 "$TMP/turn/turnserver.log" 2>/dev/null)"
fi
# Without the test's loopback exception the production rules must refuse it.
if TURN_ALLOW_PEERS=none turn_start "$TMP/turn-strict"; then
  read -r u p < <(turn_cred carol)
  out=$("${PROBE[@]}" 127.0.0.1 "$TURN_PORT" "$u" "$p" --peer 127.0.0.1)
  expect "production rules: relay to 127.0.0.1 denied (403)" "$out" \
    "$(printf 'allocate: ok relayed %s\npermission: error 403 Forbidden IP' "$(head -1 <<<"$out" | cut -d' ' -f4)")"
  turn_stop
else
  bad "coturn (no peer exceptions) starts"
fi

# ---------------------------------------------------------------------------
section "LiveKit v1.13.5"
if [ -n "${LK_PID:-}" ]; then
  expect "lk_start: GET / answers OK" "$(curl -s --max-time 3 "$LK_HTTP_URL/")" "OK"
  adm=$(lk_jwt '{"sub":"ops","video":{"roomCreate":true,"roomList":true}}')
  out=$(lk_twirp CreateRoom '{"name":"deploy-r1"}' "$adm")
  expect_match "Twirp CreateRoom with an admin JWT" "$out" '"name":"deploy-r1"'
  out=$(lk_twirp ListRooms '{}' "$adm")
  expect_match "Twirp ListRooms lists it" "$(tr -d '\n' <<<"$out")" '"name":"deploy-r1".*200$'
  out=$(lk_twirp ListRooms '{}' "$(LK_API_SECRET=$(pv_random_alnum 48) lk_jwt '{"sub":"x","video":{"roomList":true}}')")
  expect "Twirp with a JWT signed by another secret -> 401" "$(tail -1 <<<"$out")" 401
  out=$(lk_twirp ListRooms '{}' "$(lk_jwt '{"sub":"x","video":{"roomJoin":true,"room":"deploy-r1"}}')")
  expect "Twirp ListRooms without roomList grant -> 401" "$(tail -1 <<<"$out")" 401
  # The room_started webhook arrives signed on the loopback path.
  for _ in $(seq 50); do grep -q '"/livekit/webhook"' "$TMP/upstream.log" 2>/dev/null && break; sleep 0.1; done
  hook=$(grep '"/livekit/webhook"' "$TMP/upstream.log" 2>/dev/null | grep -m1 'deploy-r1')
  out=$(HOOK=$hook python3 - "$LK_API_KEY" "$LK_API_SECRET" 2>&1 <<'EOF'
import base64, hashlib, hmac, json, os, sys
rec = json.loads(os.environ["HOOK"])
h = rec["headers"]
tok = h["authorization"]
head, body, sig = tok.split(".")
pad = lambda s: s + "=" * (-len(s) % 4)
want = hmac.new(sys.argv[2].encode(), (head + "." + body).encode(), hashlib.sha256).digest()
claims = json.loads(base64.urlsafe_b64decode(pad(body)))
ev = json.loads(rec["body"])
print("type=%s sig=%s iss=%s sha=%s event=%s" % (
    h.get("content-type"),
    hmac.compare_digest(base64.urlsafe_b64decode(pad(sig)), want),
    claims["iss"] == sys.argv[1],
    claims["sha256"] == base64.b64encode(hashlib.sha256(rec["body"].encode()).digest()).decode(),
    ev["event"]))
EOF
)
  expect "webhook: POST /livekit/webhook, signed, sha256 of body, room_started" "$out" \
    "type=application/webhook+json sig=True iss=True sha=True event=room_started"
  lk_stop
else
  bad "LiveKit helper server available for the API checks"
fi

# The production livekit.yaml itself (strict parsing), with test-only swaps:
# ports, TCP ICE off (it would bind every interface), a small UDP range.
L=$TMP/lk-prod
mkdir -p "$L"
set -a
. "$TMP/secrets.env"
set +a
LPORT=$(pv_free_port) LHOOK=$(pv_free_port) LUDP=$(pv_free_port_range 10)
sed -e "s#^port: 7880#port: $LPORT#" -e "s#tcp_port: 7881#tcp_port: 0#" \
  -e "s#port_range_start: 50000#port_range_start: $LUDP#" \
  -e "s#port_range_end: 60000#port_range_end: $((LUDP + 9))#" \
  -e "s#/etc/livekit/turn-secret#$L/turn-secret#" \
  -e "s#http://127.0.0.1:8080/livekit/webhook#http://127.0.0.1:$CTRL_PORT/livekit/webhook#" \
  "$TMP/root/etc/livekit/livekit.yaml" >"$L/livekit.yaml"
install -m 0600 "$TMP/root/etc/livekit/turn-secret" "$L/turn-secret"
(
  set -a
  . "$TMP/root/etc/proximity-voice/livekit.env"
  exec "$LIVEKIT_SERVER_BIN" --config "$L/livekit.yaml"
) >"$L/livekit.log" 2>&1 &
LK_PID=$!
if pv_wait_http "http://127.0.0.1:$LPORT/" 20 "$LK_PID"; then
  ok "LiveKit starts with the rendered production livekit.yaml"
  listen=$(ss -Hlntu 2>/dev/null | grep -E ":($LPORT)\b" | awk '{print $5}' | sort -u)
  expect "production signalling port binds 127.0.0.1 only" "$listen" "127.0.0.1:$LPORT"
  LK_HTTP_URL=http://127.0.0.1:$LPORT LK_API_KEY=$LIVEKIT_API_KEY LK_API_SECRET=$LIVEKIT_API_SECRET
  adm=$(lk_jwt '{"sub":"ops","video":{"roomCreate":true,"roomList":true}}')
  out=$(lk_twirp CreateRoom '{"name":"prod-r1"}' "$adm" | tr -d '\n')
  expect_match "keys from LIVEKIT_KEYS work (CreateRoom 200)" "$out" '"name":"prod-r1".*200$'
  expect_match "room limit from MAX_ROOM_SIZE applied" "$out" '"max_participants":200'
  codecs=$(grep -oE '"mime":"[^"]+"' <<<"$out" | sort | tr '\n' ' ')
  expect "voice-only codecs" "$codecs" '"mime":"audio/opus" "mime":"audio/red" '
  tok=$(lk_jwt '{"sub":"p1","video":{"roomJoin":true,"room":"prod-r1"}}')
  out=$(curl -s --max-time 5 "http://127.0.0.1:$LPORT/rtc/validate?access_token=$tok")
  expect "participant token validates" "$out" "success"
  for _ in $(seq 50); do grep -q 'prod-r1' "$TMP/upstream.log" 2>/dev/null && break; sleep 0.1; done
  grep -q '"path": "/livekit/webhook".*prod-r1' "$TMP/upstream.log" &&
    ok "production webhook URL receives room_started" || bad "production webhook URL receives room_started"
else
  bad "LiveKit starts with the rendered production livekit.yaml" "$(tail -8 "$L/livekit.log")"
fi
lk_stop

echo "deploy: $PASS passed, $FAIL failed${SKIP:+, $SKIP skipped}"
[ "$FAIL" -eq 0 ]
