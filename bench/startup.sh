#!/usr/bin/env bash
# CLI start-up (issue 2): wall time of `lbaas --version` and of
# `lbaas pool list -f value -c id` over a state file holding POOLS pools, next to a bare
# `node -e 0` in the same hyperfine runs. Target: pool list within 2.5× of `node -e 0`.
#
#   bench/startup.sh                           1,000 pools × 2 members, 5 rounds × 10 runs
#   POOLS=5000 ROUNDS=3 RUNS=10 bench/startup.sh
#   PHASES=0 bench/startup.sh                  skip the per-phase breakdown
#   LBAAS_BIN=./bin/run.js bench/startup.sh    measure the working tree's build
#
# The state file is seeded through the compiled service layer (bench/seed-state.mjs), with
# no VIPs, so nothing is deployed on the host. hyperfine -N runs in ROUNDS rounds and the
# commands alternate between rounds, so load from other work on the machine hits each
# alike; the table gives median, quartiles and min over all runs. The phase breakdown
# (bench/startup-phases.mjs) uses oclif's own performance markers.
# Needs root only for bench_init's checks; touches no network state.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

POOLS="${POOLS:-1000}"
MEMBERS="${MEMBERS:-2}"
ROUNDS="${ROUNDS:-5}"
RUNS="${RUNS:-10}"
PHASES="${PHASES:-1}"
((POOLS >= 1 && POOLS <= 100000 && ROUNDS >= 1 && ROUNDS <= 50 && RUNS >= 2 && RUNS <= 200)) || die "POOLS/ROUNDS/RUNS out of range"

bench_init startup
node "$BENCH_ROOT/bench/seed-state.mjs" "$LBAAS_STATE" "$POOLS" "$MEMBERS" "$LBAAS_DIST"
[ "$(lbaas pool list -f value -c id | wc -l)" = "$POOLS" ] || die "seeding did not leave $POOLS pools"

echo "## CLI start-up ($(date -u +%F), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "hyperfine -N, $ROUNDS rounds × $RUNS runs, state file with $POOLS pools × $MEMBERS members:"
echo
hf_interleaved "$BENCH_TMP/startup" "$ROUNDS" "$RUNS" \
  -n 'node -e 0' 'node -e 0' \
  -n 'lbaas --version' "$LBAAS_BIN --version" \
  -n "lbaas pool list -f value -c id ($POOLS pools)" "$LBAAS_BIN pool list -f value -c id" | tee "$BENCH_TMP/summary.md"
echo
ratio="$(awk -F'|' 'NR == 5 {gsub(/[ ×]/, "", $7); print $7}' "$BENCH_TMP/summary.md")"
if awk -v r="$ratio" 'BEGIN {exit !(r <= 2.5)}'; then
  echo "target (pool list ≤ 2.5× node -e 0): met (${ratio}×)"
else
  echo "target (pool list ≤ 2.5× node -e 0): missed (${ratio}×)"
fi

if [ "$PHASES" = 1 ]; then
  echo
  node "$BENCH_ROOT/bench/startup-phases.mjs" --runs 20 "$LBAAS_BIN" --version
  echo
  node "$BENCH_ROOT/bench/startup-phases.mjs" --runs 20 "$LBAAS_BIN" pool list -f value -c id
fi
