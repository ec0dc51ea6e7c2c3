# tests/lib/common.sh: small shell helpers shared by the server helpers
# (livekit.sh, coturn.sh) and the bash test suites. Source it; it defines
# functions only (prefix pv_) and reads deploy/paths.env for binary paths.

PV_ROOT=${PV_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# deploy/paths.env gives default binary paths; variables already set win.
pv_load_paths() {
  local k v
  while IFS='=' read -r k v; do
    [[ $k =~ ^[A-Z_]+$ ]] || continue
    [ -n "${!k:-}" ] || export "$k=$v"
  done <"$PV_ROOT/deploy/paths.env"
}
pv_load_paths

# pv_free_port [tcp|udp] [host]: prints a port the kernel just gave out on
# host (default 127.0.0.1). Racy by nature (closed before use), good enough
# for tests that start one server at a time.
pv_free_port() {
  python3 - "${1:-tcp}" "${2:-127.0.0.1}" <<'EOF'
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind((sys.argv[2], 0))
print(s.getsockname()[1])
s.close()
EOF
}

# pv_free_port_range COUNT [host]: prints the first port of COUNT consecutive
# ports that are free for both UDP and TCP right now (search 20000..32000).
pv_free_port_range() {
  python3 - "$1" "${2:-127.0.0.1}" <<'EOF'
import random, socket, sys
n, host = int(sys.argv[1]), sys.argv[2]
def free(p):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((host, p))
        except OSError:
            return False
        finally:
            s.close()
    return True
for _ in range(200):
    base = random.randrange(20000, 32000 - n)
    if all(free(p) for p in range(base, base + n)):
        print(base)
        sys.exit(0)
sys.exit("no free port range")
EOF
}

# pv_random_alnum N: N random characters from [A-Za-z0-9] (from /dev/urandom).
pv_random_alnum() {
  local out=""
  while [ ${#out} -lt "$1" ]; do
    out+=$(head -c 256 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
  done
  printf '%s' "${out:0:$1}"
}

# pv_wait_http URL SECONDS [PID]: waits until URL answers any HTTP status.
# Returns 1 on timeout or if PID (when given) has exited.
pv_wait_http() {
  local url=$1 deadline=$((SECONDS + $2)) pid=${3:-}
  while [ $SECONDS -lt $deadline ]; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  return 1
}

# pv_stop_pid PID [NAME]: SIGTERM, wait up to 5 s, then SIGKILL. Only for
# processes this test started (never by name).
pv_stop_pid() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# pv_jwt_hs256 SECRET CLAIMS_JSON: prints a compact HS256 JWT.
pv_jwt_hs256() {
  python3 - "$1" "$2" <<'EOF'
import base64, hashlib, hmac, json, sys
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
body = b64(json.dumps(json.loads(sys.argv[2]), separators=(",", ":")).encode())
sig = b64(hmac.new(sys.argv[1].encode(), head + b"." + body, hashlib.sha256).digest())
print((head + b"." + body + b"." + sig).decode())
EOF
}

# pv_turn_rest_cred SECRET USER EXPIRY_UNIX: prints "username password" for
# the TURN REST scheme coturn's use-auth-secret checks (username
# "<expiry>:<user>", password base64(HMAC-SHA1(secret, username))).
pv_turn_rest_cred() {
  local u="$3:$2"
  printf '%s %s\n' "$u" "$(printf '%s' "$u" | openssl dgst -sha1 -hmac "$1" -binary | base64)"
}
