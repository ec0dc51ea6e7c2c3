#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian 12 machine (root):
# Debian packages, the LiveKit server (built from its Go module at a pinned
# tag) and the npm dependencies of every package-lock.json in the tree.
#
# Idempotent and fast when everything is present: each step checks first and
# prints one line with its duration. Services that Debian's postinst scripts
# would start (coturn, nginx) are kept stopped: tests start their own
# instances on 127.0.0.1.
#
# Environment: LIVEKIT_SERVER_BIN, LIVEKIT_VERSION override deploy/paths.env.
#              INSTALL_DEPS_SKIP="apt go npm" skips steps by name.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# paths.env gives defaults; the environment wins.
while IFS='=' read -r k v; do
  [[ $k =~ ^[A-Z_]+$ ]] || continue
  [ -n "${!k:-}" ] || export "$k=$v"
done <deploy/paths.env

APT_PKGS=(build-essential pkg-config libev-dev libwslay-dev libjsmn-dev libbearssl-dev
  libcurl4-openssl-dev libhttp-parser-dev clang clang-format libclang-rt-14-dev
  coturn nginx chromium iproute2 openssl curl python3 ca-certificates procps espeak-ng
  opus-tools)
# Services that package postinst scripts start and that must stay down here.
QUIET_SERVICES=(coturn nginx)

log() { printf '[install-deps] %s\n' "$*"; }
now_ms() { date +%s%3N; }
skip() { [[ " ${INSTALL_DEPS_SKIP:-} " == *" $1 "* ]]; }

# step NAME FUNC: runs FUNC, prints its duration, keeps the totals.
STEP_SUMMARY=()
step() {
  local name=$1 t0 dt
  shift
  if skip "$name"; then log "$name: skipped (INSTALL_DEPS_SKIP)"; return 0; fi
  t0=$(now_ms)
  "$@"
  dt=$(($(now_ms) - t0))
  STEP_SUMMARY+=("$name=$((dt / 1000)).$(printf '%03d' $((dt % 1000)))s")
  log "$name: done in $((dt / 1000)).$(printf '%03d' $((dt % 1000)))s"
}

# ---- Debian packages ------------------------------------------------------
POLICY_RC=/usr/sbin/policy-rc.d
remove_policy_rc() { [ "${POLICY_RC_OURS:-0}" = 1 ] && rm -f "$POLICY_RC"; POLICY_RC_OURS=0; }

install_apt() {
  local missing=() p
  for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "apt: all ${#APT_PKGS[@]} packages present"
    return 0
  fi
  log "apt: installing ${missing[*]}"
  # policy-rc.d exit 101 = "action forbidden": postinst scripts do not start
  # services (works with and without systemd as PID 1).
  if [ ! -e "$POLICY_RC" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC" && chmod 755 "$POLICY_RC"
    POLICY_RC_OURS=1
    trap remove_policy_rc EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  local aptlog
  aptlog=$(mktemp /tmp/install-deps-apt.XXXXXX)
  if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } \
    >"$aptlog" 2>&1; then
    tail -40 "$aptlog"
    log "apt: FAILED (full log: $aptlog)"
    return 1
  fi
  rm -f "$aptlog"
  remove_policy_rc
}

# Stops and disables services a package may have started. Handles machines
# where systemd is PID 1 and containers where it is not.
quiet_services() {
  local s
  for s in "${QUIET_SERVICES[@]}"; do
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
      if systemctl is-enabled --quiet "$s" 2>/dev/null || systemctl is-active --quiet "$s" 2>/dev/null; then
        systemctl disable --now --quiet "$s" 2>/dev/null || true
        log "services: stopped and disabled $s (systemd)"
      fi
    elif [ -x "/etc/init.d/$s" ] && "/etc/init.d/$s" status >/dev/null 2>&1; then
      "/etc/init.d/$s" stop >/dev/null 2>&1 || true
      log "services: stopped $s (init.d)"
    fi
  done
  return 0
}

# ---- LiveKit server ----------------------------------------------------------
# Prints the module version baked into a Go binary ("" if none).
go_binary_version() {
  [ -x "$1" ] || return 0
  "$GO" version -m "$1" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/livekit/livekit-server" {print $3}'
}

find_go() {
  GO=$(command -v go || true)
  [ -n "$GO" ] || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; }
  [ -n "$GO" ] || { log "go: not found (need Go >= 1.26 for LiveKit $LIVEKIT_VERSION)"; return 1; }
  local minor
  minor=$("$GO" env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
  # Go >= 1.21 can fetch a newer toolchain from the module proxy by itself.
  if [ "$minor" -lt 26 ]; then
    [ "$minor" -ge 21 ] || { log "go: $("$GO" env GOVERSION) is too old"; return 1; }
    export GOTOOLCHAIN=go1.26.8
  fi
}

install_livekit() {
  find_go
  local have
  have=$(go_binary_version "$LIVEKIT_SERVER_BIN")
  if [ "$have" = "$LIVEKIT_VERSION" ]; then
    log "livekit: $LIVEKIT_SERVER_BIN is $have"
    return 0
  fi
  local dir gobin
  dir=$(dirname "$LIVEKIT_SERVER_BIN")
  mkdir -p "$dir"
  # An earlier manual build into the same directory (binary "server") is reused.
  if [ "$(go_binary_version "$dir/server")" = "$LIVEKIT_VERSION" ]; then
    install -m 0755 "$dir/server" "$LIVEKIT_SERVER_BIN"
    log "livekit: reused $dir/server ($LIVEKIT_VERSION)"
    return 0
  fi
  log "livekit: go install $LIVEKIT_MODULE@$LIVEKIT_VERSION (have: ${have:-none}; takes ~2 min)"
  gobin=$(mktemp -d /tmp/install-deps-gobin.XXXXXX)
  export HOME=${HOME:-/root}
  if ! GOBIN=$gobin CGO_ENABLED=0 "$GO" install "$LIVEKIT_MODULE@$LIVEKIT_VERSION" \
    >"$gobin.log" 2>&1; then
    tail -30 "$gobin.log"
    log "livekit: go install FAILED (log: $gobin.log)"
    return 1
  fi
  install -m 0755 "$gobin/server" "$LIVEKIT_SERVER_BIN.new"
  mv -f "$LIVEKIT_SERVER_BIN.new" "$LIVEKIT_SERVER_BIN"
  rm -rf "$gobin" "$gobin.log"
  log "livekit: installed $("$LIVEKIT_SERVER_BIN" --version)"
}

# ---- npm ----------------------------------------------------------------------
# `npm ci` for every package-lock.json outside node_modules, skipped when the
# lock file has not changed since the last successful install (stamp file).
npm_in() {
  local dir=$1
  shift
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 \
    npm "$@" --no-audit --no-fund --loglevel=error) >/tmp/install-deps-npm.log 2>&1
}

install_npm() {
  local lock dir stamp sum n=0
  while IFS= read -r lock; do
    dir=$(dirname "$lock")
    stamp=$dir/node_modules/.pv-install-stamp
    sum=$( (sha256sum "$lock" "$dir/package.json" 2>/dev/null; node --version) | sha256sum | cut -c1-64)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
      log "npm: $dir up to date"
      continue
    fi
    command -v npm >/dev/null || { log "npm: not found (need Node.js >= 20)"; return 1; }
    log "npm: npm ci in $dir"
    if ! npm_in "$dir" ci; then
      # npm ci refuses a lock that lacks other platforms' optional packages
      # (e.g. @rollup/rollup-android-*), which is what npm itself writes when
      # omit-lockfile-registry-resolved is set, as on these machines. npm
      # install --no-save still installs the locked versions and writes nothing.
      if grep -q 'EUSAGE' /tmp/install-deps-npm.log; then
        log "npm: lock not accepted by npm ci ($(grep -m1 'Missing:' /tmp/install-deps-npm.log | sed 's/npm error //')); using npm install --no-save"
        npm_in "$dir" install --no-save || { tail -30 /tmp/install-deps-npm.log; log "npm: FAILED in $dir"; return 1; }
      else
        tail -30 /tmp/install-deps-npm.log
        log "npm: npm ci FAILED in $dir"
        return 1
      fi
    fi
    echo "$sum" >"$stamp"
    n=$((n + 1))
  done < <(find . -maxdepth 3 -name package-lock.json -not -path '*/node_modules/*' | sort)
  [ $n -eq 0 ] || log "npm: installed $n package trees"
}

T0=$(now_ms)
[ "$(id -u)" = 0 ] || log "warning: not root; apt and /opt installs will fail"
step apt install_apt
step services quiet_services
step go install_livekit
step npm install_npm
T=$(($(now_ms) - T0))
log "all done in $((T / 1000)).$(printf '%03d' $((T % 1000)))s (${STEP_SUMMARY[*]})"
log "LIVEKIT_SERVER_BIN=$LIVEKIT_SERVER_BIN"
