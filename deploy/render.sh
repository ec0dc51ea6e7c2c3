#!/usr/bin/env bash
# deploy/render.sh: fills the @...@ tokens of the deploy templates.
#
#   render.sh file TEMPLATE             one template to stdout; values from
#                                       the environment (plus the defaults)
#   render.sh tree OUTDIR ENVFILE...    every config file of a host under
#                                       OUTDIR/etc/..., values from ENVFILEs
#                                       (site.env, secrets.env) and defaults
#
# A token without a value is an error (nothing half-rendered is written).
# Modes are set for a root install; deploy/install-host.sh sets the groups.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# bash >= 5.2 would expand '&' in ${x//pat/rep} replacements: keep it literal.
shopt -u patsub_replacement 2>/dev/null || true

apply_defaults() {
  : "${TURN_DOMAIN:=${DOMAIN:-}}" "${TURN_REALM:=${DOMAIN:-}}"
  : "${TURN_EXTERNAL_IP:=${PUBLIC_IP:-}}"
  : "${TLS_CERT:=/etc/letsencrypt/live/${DOMAIN:-}/fullchain.pem}"
  : "${TLS_KEY:=/etc/letsencrypt/live/${DOMAIN:-}/privkey.pem}"
  : "${TURN_TLS_CERT:=/etc/coturn/tls/fullchain.pem}" "${TURN_TLS_KEY:=/etc/coturn/tls/privkey.pem}"
  : "${PORT:=8080}" "${LIVEKIT_PORT:=7880}" "${LIVEKIT_RTC_TCP_PORT:=7881}"
  : "${LIVEKIT_RTC_PORT_RANGE_START:=50000}" "${LIVEKIT_RTC_PORT_RANGE_END:=60000}"
  : "${TURN_LISTEN_PORT:=3478}" "${TURN_TLS_LISTEN_PORT:=5349}"
  : "${TURN_RELAY_MIN_PORT:=40000}" "${TURN_RELAY_MAX_PORT:=49999}"
  : "${MAX_ROOM_SIZE:=200}" "${MAX_BODY_BYTES:=65536}"
  : "${DEMO_ROOT:=/usr/share/proximity-voice/demo}"
}

# render_file TEMPLATE: prints it with every @NAME@ replaced by $NAME.
render_file() {
  local text name missing=()
  text=$(<"$1")
  for name in $(grep -o '@[A-Z][A-Z0-9_]*@' "$1" | tr -d @ | sort -u); do
    if [ -z "${!name:-}" ]; then
      missing+=("$name")
      continue
    fi
    text=${text//"@$name@"/"${!name}"}
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "render.sh: $1: no value for ${missing[*]}" >&2
    return 1
  fi
  printf '%s\n' "$text"
}

# put MODE OUT CONTENT-COMMAND...: writes atomically with MODE.
put() {
  local mode=$1 out=$2
  shift 2
  mkdir -p "$(dirname "$out")"
  (umask 077 && "$@" >"$out.tmp")
  chmod "$mode" "$out.tmp"
  mv -f "$out.tmp" "$out"
}

render_tree() {
  local out=$1 f
  shift
  for f in "$@"; do
    set -a
    # shellcheck disable=SC1090
    . "$f"
    set +a
  done
  apply_defaults
  local e=$out/etc
  put 0644 "$e/nginx/conf.d/proximity-voice.conf" render_file "$HERE/nginx.conf"
  put 0644 "$e/livekit/livekit.yaml" render_file "$HERE/livekit.yaml"
  put 0640 "$e/livekit/turn-secret" printf '%s\n' "${TURN_STATIC_AUTH_SECRET:?secrets.env}"
  put 0640 "$e/turnserver.conf" render_file "$HERE/coturn.conf"
  put 0640 "$e/proximity-voice/control.env" render_file "$HERE/control.env.example"
  put 0640 "$e/proximity-voice/livekit.env" \
    printf 'LIVEKIT_KEYS="{%s: %s}"\n' "${LIVEKIT_API_KEY:?}" "${LIVEKIT_API_SECRET:?}"
  put 0640 "$e/proximity-voice/secrets/livekit_api_secret" printf '%s\n' "$LIVEKIT_API_SECRET"
  put 0640 "$e/proximity-voice/secrets/policy_socket_jwt_secret" \
    printf '%s\n' "${POLICY_SOCKET_JWT_SECRET:?}"
  put 0640 "$e/proximity-voice/secrets/external_shared_secret" \
    printf '%s\n' "${EXTERNAL_SHARED_SECRET:?}"
  for f in proximity-voice-control.service livekit.service; do
    put 0644 "$e/systemd/system/$f" cat "$HERE/$f"
  done
  put 0644 "$e/systemd/system/coturn.service.d/proximity-voice.conf" cat "$HERE/coturn-override.conf"
}

case "${1:-}" in
  file) apply_defaults; render_file "$2" ;;
  tree) shift; render_tree "$@" ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
