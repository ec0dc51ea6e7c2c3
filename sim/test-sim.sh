#!/usr/bin/env bash
# test-sim.sh BIN "UNIT..." SEEDS DET_SEED SEEDS_FILE OUTDIR
# The simulator's part of `make test`: its unit tests, seeds 1..SEEDS on two
# processes, the determinism check and every seed of SEEDS_FILE. Prints the
# failures and a final line "sim: N passed, M failed".
set -u
bin=$1 unit=$2 seeds=$3 det=$4 file=$5 out=$6
pass=0 fail=0
count() { if [ "$1" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi; }
for u in $unit; do
    "$u"
    count $?
done
start=$(date +%s)
sim/swarm.sh "$bin" 1 "$seeds" "$out" >"$out/test-seeds.log" 2>&1
grep -E '^(FAILED|reproduce|sim-swarm: wall)' "$out/test-seeds.log"
set -- $(grep '^sim-swarm: [0-9]* passed' "$out/test-seeds.log" | awk '{print $2, $4}')
pass=$((pass + ${1:-0})) fail=$((fail + ${2:-1}))
echo "sim: $seeds seeds took $(($(date +%s) - start)) s"
sim/determinism.sh "$bin" "$det"
count $?
# Checker self-test: deliberately broken fakes must be caught.
selftest() {
    res=$("$bin" --seed 1 --quiet --break "$1" 2>&1)
    if [ $? -ne 0 ] && printf '%s' "$res" | grep -q "$2"; then
        echo "sim: --break $1 caught ($2)"
        return 0
    fi
    echo "sim: --break $1 NOT caught (expected '$2'): $res"
    return 1
}
selftest lk-forward-all "safety: LiveKit forwards"
count $?
selftest skip-deltas "applied=0\|applied canHear"
count $?
if grep -qE '^[[:space:]]*[0-9]' "$file"; then
    "$bin" --swarm --seeds-file "$file" >"$out/test-seeds-file.log" 2>&1
    grep -E '^(FAILED|reproduce)' "$out/test-seeds-file.log"
    set -- $(grep '^sim-swarm:' "$out/test-seeds-file.log" | awk '{print $2, $4}')
    pass=$((pass + ${1:-0})) fail=$((fail + ${2:-1}))
fi
echo "sim: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
