#!/usr/bin/env bash
# determinism.sh BIN SEED: runs SEED twice; the trace hashes (FNV-1a over
# every event and effect) and the reports must be identical.
set -u
bin=$1 seed=$2
a=$("$bin" --seed "$seed" 2>&1)
b=$("$bin" --seed "$seed" 2>&1)
ha=$(printf '%s\n' "$a" | grep '^trace ')
hb=$(printf '%s\n' "$b" | grep '^trace ')
if [ -n "$ha" ] && [ "$a" == "$b" ]; then
    echo "sim-determinism: seed $seed twice: $ha == $hb: ok"
    exit 0
fi
echo "sim-determinism: seed $seed differs between two runs: '$ha' vs '$hb'"
diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -20
exit 1
