#!/usr/bin/env bash
# `lbaas sync` after a simulated reboot (issue 10, SPEC §4.5 and §4.7): POOLS pools
# (default 200), each with one member and a VIP. A reboot here is: every process of this
# run's run dir killed by PID (HAProxy masters and workers, lab backends), every namespace
# of the run and the lab bridge deleted; the state file and the run dir survive. Then
# 10 % of the pools get a recycled PID: a `sleep` of this script is started and its PID
# written into the pool's haproxy.pid and haproxy.identity, as a reboot can leave them.
#
# In the same run, two reboots: the first synced with `--parallel 1` (the baseline), the
# second with the default parallelism (2 × cores). After each: every VIP must answer 200
# and every one of this script's sleeps must still be alive with its start time (never
# signalled). Then a second sync (nothing to do) is timed.
#
#   bench/sync-reboot.sh                    200 pools
#   POOLS=50 bench/sync-reboot.sh
#   LBAAS_BIN=./bin/run.js bench/sync-reboot.sh   measure the working tree's build
#
# CIDR (default 198.19.224.0/22) holds the lab backends and the VIPs (from the second /24).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

POOLS="${POOLS:-200}"
CIDR="${CIDR:-198.19.224.0/22}"
[[ "$POOLS" =~ ^[0-9]+$ ]] && ((POOLS >= 10 && POOLS <= 700)) || die "POOLS must be 10–700"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/22$ ]] || die "CIDR must be a /22 inside 198.18.0.0/15"

BENCH_TOOLS="haproxy ip curl" bench_init sync-reboot
require_free_cidr "$CIDR"
bench_lab bsyn

IFS=. read -r o1 o2 o3 _ <<<"${CIDR%/*}"
base=$(((o1 << 24) | (o2 << 16) | (o3 << 8)))
address() { local n=$((base + $1)); echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"; }
vip_address() { address $((256 + $1)); }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b - a) / 1e6}'; }

sleeps=()
stop_sleeps() { local pid; for pid in "${sleeps[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done; }
on_exit stop_sleeps

log "lab: $LAB on $CIDR"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 2 >/dev/null
bridge="$(lbaas subnet show "$LAB" -f value -c bridge)"
lab_namespaces="lab-$(lbaas subnet show "$LAB" -f value -c id | tr -d - | cut -c1-8)-"

# Setting up is not what this bench measures: the pools come from one apply file.
log "creating $POOLS pools (one lbaas apply: a member and a VIP each)"
{
  printf 'apiVersion: lbaas/v1\nstack: bench-sync-%s\npools:\n' "$tag"
  for ((i = 1; i <= POOLS; i++)); do
    printf '  - name: bench-sync-%s-%d\n    subnet: %s\n    protocol: HTTP\n    lb_method: ROUND_ROBIN\n' "$tag" "$i" "$LAB"
    printf '    members: [{address: %s, protocol_port: 8000}]\n' "$(address $((11 + i % 2)))"
    printf '    vip: {name: bench-sync-%s-%d, protocol_port: 80, address: %s}\n' "$tag" "$i" "$(vip_address "$i")"
  done
} >"$BENCH_TMP/pools.yaml"
lbaas apply -f "$BENCH_TMP/pools.yaml" >/dev/null
# Cleaning up 200 pools one `vip delete` and `pool delete` at a time outlasts the bench: one
# pruning apply of the same stack with no pools removes them all first.
prune_pools() { printf 'apiVersion: lbaas/v1\nstack: bench-sync-%s\npools: []\n' "$tag" | timeout 600 "$LBAAS_BIN" apply -f - --prune --yes >/dev/null 2>&1 || true; }
on_exit prune_pools
declare -A id_of=()
while read -r id name; do id_of[$name]=$id; done < <(lbaas pool list -f value -c id -c name)
pools=()
for ((i = 1; i <= POOLS; i++)); do pools+=("${id_of[bench-sync-$tag-$i]}"); done

# What the host has of one pool: its run-dir entry, recorded master, processes, namespace.
explain_pool() {
  local dir="$LBAAS_RUN_DIR/$1"
  log "    entry: $(ls "$dir" 2>&1 | tr '\n' ' ')"
  log "    pid file: $(cat "$dir/haproxy.pid" 2>&1); identity: $(cat "$dir/haproxy.identity" 2>&1)"
  log "    processes loading it: $(pgrep -f -- "$dir/haproxy.cfg" | tr '\n' ' ')"
  log "    namespace: $(ip netns list | grep -c "^lbaas-$1 ") ; addresses: $(ip -n "lbaas-$1" -o -4 addr show 2>&1 | awk '{print $2, $4}' | tr '\n' ' ')"
  log "    log tail: $(tail -3 "$dir/haproxy.log" 2>/dev/null | tr '\n' ' ')"
}

check_vips() {
  local ok=0 i code
  for ((i = 1; i <= POOLS; i++)); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$(vip_address "$i")/")" || true
    if [ "$code" = 200 ]; then ok=$((ok + 1)); else log "  VIP $(vip_address "$i") (pool ${pools[$((i - 1))]}) answered ${code:-nothing}"; explain_pool "${pools[$((i - 1))]}"; fi
  done
  echo "$ok"
}

start_time_of() { awk '{sub(/^.*\) /, ""); print $20}' "/proc/$1/stat" 2>/dev/null; }

# reboot: kills, deletes, then gives every 10th pool a recycled PID (a sleep of ours).
declare -A sleep_start=()
reboot() {
  local killed pool i pid
  killed="$(kill_run_dir_processes)"
  for pool in "${pools[@]}"; do ip netns del "lbaas-$pool" 2>/dev/null || true; done
  for ns in $(ip netns list | awk -v p="$lab_namespaces" 'index($1, p) == 1 {print $1}'); do ip netns del "$ns"; done
  ip link del "$bridge" 2>/dev/null || true
  sleep 1
  for ((i = 0; i < POOLS; i += 10)); do
    pool="${pools[$i]}"
    sleep 3600 &
    pid=$!
    sleeps+=("$pid")
    sleep_start[$pid]="$(start_time_of "$pid")"
    echo "$pid" >"$LBAAS_RUN_DIR/$pool/haproxy.pid"
    sed -i -E "s/\"pid\":[0-9]+/\"pid\":$pid/" "$LBAAS_RUN_DIR/$pool/haproxy.identity"
  done
  log "  reboot: $killed processes killed, $(( (POOLS + 9) / 10 )) recycled PIDs planted"
}

sleeps_intact() {
  local pid ok=0
  for pid in "${sleeps[@]}"; do [ "$(start_time_of "$pid")" = "${sleep_start[$pid]}" ] && ok=$((ok + 1)); done
  echo "$ok / ${#sleeps[@]}"
}

declare -A figure=()
for mode in 1 default; do
  log "reboot, then sync --parallel $mode"
  reboot
  flags=()
  [ "$mode" = default ] || flags=(--parallel "$mode")
  t0="$(now_us)"
  lbaas sync "${flags[@]}" -f value -c kind >"$BENCH_TMP/sync-$mode.txt" || log "  sync --parallel $mode exited $?"
  t1="$(now_us)"
  figure[wall|$mode]="$(seconds "$t0" "$t1")"
  figure[vips|$mode]="$(check_vips)"
  figure[sleeps|$mode]="$(sleeps_intact)"
  figure[actions|$mode]="$(sort "$BENCH_TMP/sync-$mode.txt" | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep = ", "}')"
done
t0="$(now_us)"
lbaas sync -f value -c kind -c target -c reason >"$BENCH_TMP/sync-second.txt"
t1="$(now_us)"
[ -s "$BENCH_TMP/sync-second.txt" ] && log "second sync acted: $(cat "$BENCH_TMP/sync-second.txt")"
second="$(seconds "$t0" "$t1") s, $(grep -c . "$BENCH_TMP/sync-second.txt" || true) actions"

cores="$(nproc)"
cat <<REPORT
## sync after a simulated reboot of $POOLS pools ($(date -u +%F), $cores cores, load average $(cut -d' ' -f1 /proc/loadavg))

| | --parallel 1 (baseline) | --parallel default ($((2 * cores))) |
|---|---|---|
| wall time | ${figure[wall|1]} s | ${figure[wall|default]} s |
| VIPs answering 200 after | ${figure[vips|1]} / $POOLS | ${figure[vips|default]} / $POOLS |
| bench's own sleeps (recycled PIDs) alive, same start time | ${figure[sleeps|1]} | ${figure[sleeps|default]} |
| actions | ${figure[actions|1]} | ${figure[actions|default]} |

speed-up: $(awk -v a="${figure[wall|1]}" -v b="${figure[wall|default]}" 'BEGIN {printf "%.2f×", a / b}')
second sync ($POOLS pools, nothing to do): $second
REPORT
