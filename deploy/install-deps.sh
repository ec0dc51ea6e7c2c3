#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian 12 machine (root).
# Idempotent: skips what is already present.
set -euo pipefail
PKGS=(build-essential libev-dev libwslay-dev libjsmn-dev libbearssl-dev
      libcurl4-openssl-dev libhttp-parser-dev clang clang-format libclang-rt-14-dev)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
