#!/usr/bin/env bash
# Declarative provisioning at scale (issue 12, SPEC §8.2): POOLS pools × (2 members, an
# HTTP monitor, a VIP) from one apply file, each figure beside its baseline in the same run:
#
#   - first apply (from nothing, every pool deployed), wall time and the apply process's
#     peak RSS (GNU time); baseline: the same objects made one CLI command per object
#     (pool create, 2 × member create, monitor create, monitor associate, vip create) for
#     BASELINE_POOLS pools, scaled to POOLS (say so in BENCHMARKS.md when they differ)
#   - second apply of the same file: wall time, and the reloads it caused (sum of every
#     pool's master reload counter before and after: must be 0)
#   - `lbaas plan` and `lbaas export --stack` of the POOLS-pool state (median of RUNS);
#     baseline `node -e 0`
#   - one member changed in pool POOLS/2: apply wall time and how many pools reloaded (1)
#
#   bench/apply.sh                          200 pools, baseline measured on 20
#   POOLS=50 BASELINE_POOLS=50 bench/apply.sh
#   LBAAS_BIN=./bin/run.js bench/apply.sh   measure the working tree's build
#
# One lab subnet on CIDR (default 198.19.196.0/22): 2 lab backends at .11 and .12, VIPs
# from the second /24 on. Everything is removed on exit.
set -euo pipefail
BENCH_REQUIRES="haproxy ip curl socat /usr/bin/time"
source "$(dirname "$0")/lib.sh"

POOLS="${POOLS:-200}"
BASELINE_POOLS="${BASELINE_POOLS:-20}"
RUNS="${RUNS:-5}"
CIDR="${CIDR:-198.19.196.0/22}"
((POOLS >= 2 && POOLS <= 700 && BASELINE_POOLS >= 1 && BASELINE_POOLS <= POOLS && RUNS >= 1 && RUNS <= 50)) ||
  die "POOLS 2–700, BASELINE_POOLS 1–POOLS, RUNS 1–50"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/22$ ]] || die "CIDR must be a /22 inside 198.18.0.0/15"

bench_init apply
require_free_cidr "$CIDR"
bench_lab bapl

IFS=. read -r o1 o2 o3 _ <<<"${CIDR%/*}"
base=$(((o1 << 24) | (o2 << 16) | (o3 << 8)))
address() { local n=$((base + $1)); echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", (b - a) / 1000}'; }

log "lab: $LAB on $CIDR"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 2 >/dev/null
STACK="bench-$tag"
FILE="$BENCH_TMP/stack.yaml"

# write_file CHANGED_POOL: the apply file; pool CHANGED_POOL (0: none) has its second member on port 8001.
write_file() {
  {
    printf 'apiVersion: lbaas/v1\nstack: %s\nmonitors:\n' "$STACK"
    for ((i = 1; i <= POOLS; i++)); do
      printf '  - {name: hc-%s-%d, type: HTTP, delay: 5, timeout: 3, max_retries: 3, url_path: /healthz}\n' "$tag" "$i"
    done
    printf 'pools:\n'
    for ((i = 1; i <= POOLS; i++)); do
      port2=8000
      [ "$i" = "$1" ] && port2=8001
      printf '  - name: ba-%s-%d\n    subnet: %s\n    protocol: HTTP\n    lb_method: ROUND_ROBIN\n    monitors: [hc-%s-%d]\n' "$tag" "$i" "$LAB" "$tag" "$i"
      printf '    members:\n      - {address: %s, protocol_port: 8000}\n      - {address: %s, protocol_port: %d}\n' "$(address 11)" "$(address 12)" "$port2"
      printf '    vip: {name: ba-%s-%d-vip, protocol_port: 80, address: %s}\n' "$tag" "$i" "$(address $((256 + i)))"
    done
  } >"$FILE"
}

pool_ids() { lbaas pool list -f value -c id -c name | awk -v p="ba-$tag-" 'index($2, p) == 1 {print $1}'; }
total_reloads() {
  local sum=0 id n
  for id in $(pool_ids); do n="$(master_reloads "$id")" || n=0; sum=$((sum + n)); done
  echo "$sum"
}
reloads_by_pool() { local id; for id in $(pool_ids); do echo "$id $(master_reloads "$id" || echo 0)"; done; }

# One pruning apply of the stack with nothing in it removes the 200 pools before the usual
# clean-up (one `vip delete`/`pool delete` per object takes minutes).
prune_stack() { printf 'apiVersion: lbaas/v1\nstack: %s\n' "$STACK" | timeout 600 "$LBAAS_BIN" apply -f - --prune --yes >/dev/null 2>&1 || true; }
on_exit prune_stack
write_file 0
log "first apply: $POOLS pools"
t0="$(now_us)"
/usr/bin/time -f '%M' -o "$BENCH_TMP/rss" "$LBAAS_BIN" apply -f "$FILE" >/dev/null 2>>"$BENCH_TMP/lbaas.log" || die "first apply failed (see $BENCH_TMP/lbaas.log)"
t1="$(now_us)"
first_ms="$(ms "$t0" "$t1")"
first_rss_kb="$(cat "$BENCH_TMP/rss")"
answering=0
for ((i = 1; i <= POOLS; i++)); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$(address $((256 + i)))/")" = 200 ] && answering=$((answering + 1))
done

log "second apply"
before="$(total_reloads)"
t0="$(now_us)"
"$LBAAS_BIN" apply -f "$FILE" >"$BENCH_TMP/second.out" 2>>"$BENCH_TMP/lbaas.log"
t1="$(now_us)"
second_ms="$(ms "$t0" "$t1")"
second_reloads=$(($(total_reloads) - before))

timed_median() {
  local runs=() t0 t1 r
  for ((r = 0; r < RUNS; r++)); do
    t0="$(now_us)"
    "$@" >/dev/null 2>>"$BENCH_TMP/lbaas.log"
    t1="$(now_us)"
    runs+=("$(ms "$t0" "$t1")")
  done
  printf '%s\n' "${runs[@]}" | median
}
log "plan, export, node -e 0 ($RUNS runs each)"
plan_ms="$(timed_median "$LBAAS_BIN" plan -f "$FILE")"
export_ms="$(timed_median "$LBAAS_BIN" export --stack "$STACK")"
node_ms="$(timed_median node -e 0)"

log "one member changed"
reloads_by_pool | sort >"$BENCH_TMP/reloads.before"
write_file $((POOLS / 2))
t0="$(now_us)"
"$LBAAS_BIN" apply -f "$FILE" >/dev/null 2>>"$BENCH_TMP/lbaas.log"
t1="$(now_us)"
change_ms="$(ms "$t0" "$t1")"
reloads_by_pool | sort >"$BENCH_TMP/reloads.after"
pools_reloaded="$(diff "$BENCH_TMP/reloads.before" "$BENCH_TMP/reloads.after" | grep -c '^>' || true)"

log "baseline: $BASELINE_POOLS pools, one CLI command per object"
t0="$(now_us)"
for ((i = 1; i <= BASELINE_POOLS; i++)); do
  pool="$(lbaas pool create --name "bc-$tag-$i" --subnet "$LAB" --protocol HTTP --lb-method ROUND_ROBIN -f value -c id)"
  lbaas member create "$pool" --address "$(address 11)" --protocol-port 8000 >/dev/null
  lbaas member create "$pool" --address "$(address 12)" --protocol-port 8000 >/dev/null
  monitor="$(lbaas monitor create --type HTTP --delay 5 --timeout 3 --max-retries 3 --url-path /healthz -f value -c id)"
  lbaas monitor associate "$monitor" "$pool" >/dev/null
  lbaas vip create "$pool" --name "bc-$tag-$i-vip" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$(address $((256 + POOLS + i)))" >/dev/null
done
t1="$(now_us)"
baseline_ms="$(ms "$t0" "$t1")"
baseline_scaled_ms=$((baseline_ms * POOLS / BASELINE_POOLS))

cat <<REPORT
| figure ($POOLS pools × 2 members, a monitor, a VIP) | value | baseline (same run) |
|---|---|---|
| first apply (from nothing; $answering/$POOLS VIPs answer 200 after it) | $first_ms ms | one CLI command per object: $baseline_ms ms for $BASELINE_POOLS pools → $baseline_scaled_ms ms for $POOLS (ratio $(awk -v a="$first_ms" -v b="$baseline_scaled_ms" 'BEGIN {printf "1/%.1f", b / a}')) |
| apply process peak RSS | $((first_rss_kb / 1024)) MB | |
| second apply (same file) | $second_ms ms, $second_reloads reloads, "$(head -1 "$BENCH_TMP/second.out")" | |
| lbaas plan (median of $RUNS) | $plan_ms ms | node -e 0: $node_ms ms |
| lbaas export --stack (median of $RUNS) | $export_ms ms | node -e 0: $node_ms ms |
| one member changed in one pool | $change_ms ms, $pools_reloaded pool(s) reloaded | |
REPORT
