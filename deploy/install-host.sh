#!/usr/bin/env bash
# deploy/install-host.sh: installs proximity-voice on a Debian 12 VPS (root).
#
#   deploy/install-host.sh SITE_ENV SECRETS_ENV [DAEMON_BIN]
#
# Renders every config (deploy/render.sh), installs it under /etc with owners
# and modes, creates the system users, installs the daemon binary (default
# build/proximity-voice-control) and, unless present, Debian's coturn and
# nginx. LiveKit must already be at /opt/livekit/bin/livekit-server (run
# `INSTALL_DEPS_SKIP="apt npm" deploy/install-deps.sh` on a host with Go, or
# copy the binary). Then enables and (re)starts the services.
#
# DESTDIR=/some/dir installs the files there instead and skips users, owners,
# packages and services (used by tests/deploy/run.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SITE=${1:?site.env}
SECRETS=${2:?secrets.env}
DAEMON_BIN=${3:-$HERE/../build/proximity-voice-control}
D=${DESTDIR:-}
log() { printf '[install-host] %s\n' "$*"; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
bash "$HERE/render.sh" tree "$stage" "$SITE" "$SECRETS"

if [ -z "$D" ]; then
  [ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
  missing=()
  for p in coturn nginx; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] || { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; }
  for u in pvoice livekit; do
    id "$u" >/dev/null 2>&1 || adduser --system --group --no-create-home --home /nonexistent "$u" >/dev/null
  done
  [ -x /opt/livekit/bin/livekit-server ] || { log "missing /opt/livekit/bin/livekit-server"; exit 1; }
fi

# inst MODE OWNER:GROUP SRC DST
inst() {
  if [ -n "$D" ]; then
    install -D -m "$1" "$3" "$D$4"
  else
    install -D -m "$1" -o "${2%%:*}" -g "${2##*:}" "$3" "$4"
  fi
}
S=$stage/etc
inst 0644 root:root "$S/nginx/conf.d/proximity-voice.conf" /etc/nginx/conf.d/proximity-voice.conf
inst 0644 root:root "$S/livekit/livekit.yaml" /etc/livekit/livekit.yaml
inst 0640 root:livekit "$S/livekit/turn-secret" /etc/livekit/turn-secret
inst 0640 root:turnserver "$S/turnserver.conf" /etc/turnserver.conf
inst 0640 root:pvoice "$S/proximity-voice/control.env" /etc/proximity-voice/control.env
inst 0640 root:livekit "$S/proximity-voice/livekit.env" /etc/proximity-voice/livekit.env
for f in livekit_api_secret policy_socket_jwt_secret external_shared_secret; do
  inst 0640 root:pvoice "$S/proximity-voice/secrets/$f" "/etc/proximity-voice/secrets/$f"
done
for f in proximity-voice-control.service livekit.service; do
  inst 0644 root:root "$S/systemd/system/$f" "/etc/systemd/system/$f"
done
inst 0644 root:root "$S/systemd/system/coturn.service.d/proximity-voice.conf" \
  /etc/systemd/system/coturn.service.d/proximity-voice.conf
if [ -x "$DAEMON_BIN" ]; then
  inst 0755 root:root "$DAEMON_BIN" /usr/local/bin/proximity-voice-control
else
  log "warning: $DAEMON_BIN not built; daemon binary not installed"
fi
# coturn runs as turnserver and cannot read Let's Encrypt's private keys:
# give it copies (re-run this script or the renewal hook in DEPLOY.md).
set -a
. "$SITE"
set +a
: "${TLS_CERT:=/etc/letsencrypt/live/$DOMAIN/fullchain.pem}" "${TLS_KEY:=/etc/letsencrypt/live/$DOMAIN/privkey.pem}"
if [ -r "$TLS_CERT" ] && [ -r "$TLS_KEY" ]; then
  inst 0644 root:turnserver "$TLS_CERT" /etc/coturn/tls/fullchain.pem
  inst 0640 root:turnserver "$TLS_KEY" /etc/coturn/tls/privkey.pem
else
  log "warning: $TLS_CERT not readable yet: get a certificate, then re-run (DEPLOY.md)"
fi

if [ -n "$D" ]; then
  log "installed into $D (no users, owners or services)"
  exit 0
fi
nginx -t -q
systemctl daemon-reload
systemctl enable --now livekit.service coturn.service proximity-voice-control.service
systemctl restart livekit.service coturn.service proximity-voice-control.service
systemctl reload nginx.service || systemctl restart nginx.service
log "done: check https://$DOMAIN/health and /ready"
