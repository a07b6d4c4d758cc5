#!/usr/bin/env bash
# Issue 10's "live pool without HAProxy", reproduced: one `lbaas apply` starts POOLS pools'
# HAProxy at once (--parallel default); right after it returns, every pool's master must
# answer `show proc` on its socket. A master re-executes itself once its worker answers
# and rebinds master.sock as master.sock.<pid>.tmp; a deploy that removed that file as a
# "leftover" made the master exit 1 and take its worker with it. Counts, over ROUNDS
# rounds (apply, check, prune), the pools whose master did not answer.
#
#   LBAAS_BIN=./bin/run.js bench/experiments/parallel-starts.sh
#   POOLS=40 ROUNDS=10 LBAAS_BIN=/tmp/old/bin/run.js bench/experiments/parallel-starts.sh
#
# CIDR (default 198.19.228.0/22): lab backends in the first /24, VIPs in the second.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

POOLS="${POOLS:-40}"
ROUNDS="${ROUNDS:-10}"
CIDR="${CIDR:-198.19.228.0/22}"
[[ "$POOLS" =~ ^[0-9]+$ ]] && ((POOLS >= 2 && POOLS <= 250)) || die "POOLS must be 2–250"
[[ "$ROUNDS" =~ ^[0-9]+$ ]] && ((ROUNDS >= 1 && ROUNDS <= 100)) || die "ROUNDS must be 1–100"
[[ "$CIDR" =~ ^198\.(18|19)\.([0-9]+)\.0/22$ ]] && ((BASH_REMATCH[2] % 4 == 0 && BASH_REMATCH[2] <= 252)) || die "CIDR must be a /22 inside 198.18.0.0/15"

BENCH_REQUIRES="haproxy ip socat" bench_init parallel-starts
require_free_cidr "$CIDR"
bench_lab bpst
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 2 >/dev/null

IFS=. read -r o1 o2 o3 _ <<<"${CIDR%/*}"
base=$(((o1 << 24) | (o2 << 16) | (o3 << 8)))
address() { local n=$((base + $1)); echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"; }
prune() { printf 'apiVersion: lbaas/v1\nstack: bpst-%s\npools: []\n' "$tag" | "$LBAAS_BIN" apply -f - --prune --yes >/dev/null 2>&1 || true; }
on_exit prune

{
  printf 'apiVersion: lbaas/v1\nstack: bpst-%s\npools:\n' "$tag"
  for ((i = 1; i <= POOLS; i++)); do
    printf '  - name: bpst-%s-%d\n    subnet: %s\n    protocol: HTTP\n    lb_method: ROUND_ROBIN\n' "$tag" "$i" "$LAB"
    printf '    members: [{address: %s, protocol_port: 8000}]\n' "$(address $((11 + i % 2)))"
    printf '    vip: {name: bpst-%s-%d, protocol_port: 80, address: %s}\n' "$tag" "$i" "$(address $((256 + i)))"
  done
} >"$BENCH_TMP/pools.yaml"

# The master answers `show proc` (one retry: a master checked in the middle of its re-exec
# refuses for a moment).
answers() {
  local out try
  for try in 1 2; do
    out="$(echo 'show proc' | timeout 2 socat - "UNIX-CONNECT:$1/master.sock" 2>/dev/null || true)"
    [[ "$out" == *'# workers'* ]] && return 0
    sleep 0.2
  done
  return 1
}

shopt -s nullglob
lost=0
for ((r = 1; r <= ROUNDS; r++)); do
  lbaas apply -f "$BENCH_TMP/pools.yaml" >/dev/null || log "round $r: apply exited $?"
  silent=0
  for dir in "$LBAAS_RUN_DIR"/*-*-*-*-*; do
    if ! answers "$dir"; then
      silent=$((silent + 1))
      log "round $r: pool $(basename "$dir"): the master does not answer (processes loading its configuration: $(pgrep -f -- "$dir/haproxy.cfg" | tr '\n' ' '))"
    fi
  done
  log "round $r: $silent of $POOLS masters silent"
  lost=$((lost + silent))
  prune
done
echo "parallel starts: $lost of $((POOLS * ROUNDS)) pools without a serving master after apply ($ROUNDS rounds of $POOLS, $("$LBAAS_BIN" --version))"
