#!/usr/bin/env bash
# deploy/gen-secrets.sh: prints a fresh secrets.env (every secret of one
# host) on stdout, or writes it to FILE with mode 0600:
#
#   deploy/gen-secrets.sh [FILE]
#   deploy/gen-secrets.sh --one [LENGTH]   one secret, e.g. for a rotation
#
# Secrets are [A-Za-z0-9] from /dev/urandom (48 characters = 285 bits by
# default): safe inside YAML, env files and coturn's config without quoting.
# LiveKit and the daemon require at least 32 characters.
set -euo pipefail

# secret N: N random characters from [A-Za-z0-9]. Unbiased: tr keeps only
# the random bytes that are in the set, each of them uniform over its 62 values.
secret() {
  local out=""
  while [ ${#out} -lt "$1" ]; do
    out+=$(head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
  done
  printf '%s' "${out:0:$1}"
}

emit() {
  cat <<EOF
# secrets.env generated $(date -u +%Y-%m-%dT%H:%M:%SZ) by deploy/gen-secrets.sh.
# Keep it root-only (0600); deploy/render.sh copies each value where needed.
LIVEKIT_API_KEY=API$(secret 12)
LIVEKIT_API_SECRET=$(secret 48)
POLICY_SOCKET_JWT_SECRET=$(secret 48)
EXTERNAL_SHARED_SECRET=$(secret 48)
TURN_STATIC_AUTH_SECRET=$(secret 48)
EOF
}

case "${1:-}" in
  --one) secret "${2:-48}"; echo ;;
  -h | --help) sed -n '2,10p' "$0" ;;
  "") emit ;;
  *)
    [ ! -e "$1" ] || { echo "gen-secrets.sh: $1 exists; not overwriting" >&2; exit 1; }
    (umask 077 && emit >"$1")
    echo "wrote $1" >&2
    ;;
esac
