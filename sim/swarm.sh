#!/usr/bin/env bash
# swarm.sh BIN FIRST_SEED COUNT OUTDIR [pv-sim args...]
# Runs COUNT seeds starting at FIRST_SEED on two processes (this machine has
# two cores), prints every failure with its reproduce line, the merged
# latency percentiles, the wall time and a total line. Exit 1 on a failure.
set -u
bin=$1 first=$2 count=$3 out=$4
shift 4
mkdir -p "$out"
half=$((count / 2))
rest=$((count - half))
start=$(date +%s)
echo "sim-swarm: $count seeds from $first on 2 processes"
"$bin" --swarm --first-seed "$first" --count "$half" --hist-out "$out/swarm-a.hist" "$@" >"$out/swarm-a.log" 2>&1 &
pa=$!
"$bin" --swarm --first-seed $((first + half)) --count "$rest" --hist-out "$out/swarm-b.hist" "$@" >"$out/swarm-b.log" 2>&1
rb=$?
wait $pa
ra=$?
grep -h -E '^(FAILED|reproduce)' "$out/swarm-a.log" "$out/swarm-b.log"
"$bin" --merge-hist "$out/swarm-a.hist" "$out/swarm-b.hist"
p=$(grep -h '^sim-swarm:' "$out/swarm-a.log" "$out/swarm-b.log" | awk '{p += $2; f += $4} END {print p+0, f+0}')
set -- $p
echo "sim-swarm: wall time $(($(date +%s) - start)) s"
echo "sim-swarm: $1 passed, $2 failed"
[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ]
