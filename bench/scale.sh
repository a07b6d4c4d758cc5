#!/usr/bin/env bash
# Many deployed pools on one host (issue 3): POOLS pools, each with MEMBERS members and a
# VIP, created with the CLI one command at a time as a provisioning script would.
#   - create: total wall time, split into pool create / member create / vip create
#   - every VIP answers 200 (curl)
#   - memory: RSS, PSS and private memory of all their HAProxy processes (and per pool);
#     the host's MemAvailable is useless here (other work on the machine moves it by more)
#   - `lbaas pool list -f value -c id` at that size, next to `node -e 0` (hyperfine -N)
#   - simulated reboot: every HAProxy of these pools killed by PID (master and workers,
#     SIGKILL), every pool namespace deleted; then `lbaas sync` is timed, every VIP must
#     answer 200 again, and a second `lbaas sync` (nothing to do) is timed
#   - teardown: `vip delete` of all pools, timed
#
#   sudo bench/scale.sh                              100 pools × 2 members
#   POOLS=200 MEMBERS=5 BACKENDS=5 bench/scale.sh    200 pools, 1,000 members
#   LBAAS_BIN=./bin/run.js bench/scale.sh
#
# One lab subnet on CIDR (default 198.19.208.0/22, a /22 so that up to ~760 VIPs fit):
# BACKENDS lab backends at .11 and up (members cycle over them), VIPs from the second
# /24 of the range on. Everything is removed on exit; only processes this script started
# are signalled.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

POOLS="${POOLS:-100}"
MEMBERS="${MEMBERS:-2}"
BACKENDS="${BACKENDS:-$((MEMBERS > 2 ? MEMBERS : 2))}"
CIDR="${CIDR:-198.19.208.0/22}"
LIST_RUNS="${LIST_RUNS:-10}"
((POOLS >= 1 && POOLS <= 750 && MEMBERS >= 1 && MEMBERS <= 50 && BACKENDS >= MEMBERS && BACKENDS <= 50)) ||
  die "POOLS 1–750, MEMBERS 1–50, MEMBERS ≤ BACKENDS ≤ 50"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/(22|23|24)$ ]] || die "CIDR must be a /22–/24 inside 198.18.0.0/15"

bench_init scale
require_free_cidr "$CIDR"
tag="$(basename "$BENCH_TMP" | cut -d. -f2 | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9' | cut -c1-5)"
LAB="bscl-$tag"
BENCH_LABS="$LAB"
on_exit cleanup_state

# address OFFSET: the address OFFSET after the network address of CIDR.
IFS=. read -r o1 o2 o3 _ <<<"${CIDR%/*}"
base=$(((o1 << 24) | (o2 << 16) | (o3 << 8)))
address() { local n=$((base + $1)); echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"; }
size=$((1 << (32 - ${CIDR#*/})))
((256 + POOLS < size - 1)) || die "$POOLS VIPs do not fit in $CIDR after its first /24"
vip_address() { address $((256 + $1)); }
: >"$BENCH_TMP/failures"
log "lab: $LAB on $CIDR with $BACKENDS backends"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends "$BACKENDS" >/dev/null

log "creating $POOLS pools × $MEMBERS members with VIPs"
t_pool=0 t_member=0 t_vip=0
pools=()
start="$(now_us)"
for ((i = 1; i <= POOLS; i++)); do
  t0="$(now_us)"
  pool="$(lbaas pool create --name "bench-scale-$tag-$i" --subnet "$LAB" --protocol HTTP --lb-method ROUND_ROBIN -f value -c id)"
  t1="$(now_us)"
  for ((m = 0; m < MEMBERS; m++)); do
    lbaas member create "$pool" --address "$(address $((11 + (i + m) % BACKENDS)))" --protocol-port 8000 >/dev/null
  done
  t2="$(now_us)"
  lbaas vip create "$pool" --name "bench-scale-$tag-$i" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$(vip_address "$i")" >/dev/null ||
    echo "vip create $i: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$BENCH_TMP/failures"
  t3="$(now_us)"
  t_pool=$((t_pool + t1 - t0)) t_member=$((t_member + t2 - t1)) t_vip=$((t_vip + t3 - t2))
  pools+=("$pool")
  ((i % 25 == 0)) && log "  $i pools"
done
create_s="$(awk -v a="$start" -v b="$(now_us)" 'BEGIN {printf "%.1f", (b - a) / 1e6}')"

# check_vips [MAX_TIME]: how many VIPs answer 200 (one try each).
check_vips() {
  local ok=0 i
  for ((i = 1; i <= POOLS; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time "${1:-2}" "http://$(vip_address "$i")/")" = 200 ] && ok=$((ok + 1))
  done
  echo "$ok"
}
answering="$(check_vips)"

log "memory"
sleep 3
rss=0 pss=0 priv=0 procs=0
for pool in "${pools[@]}"; do
  while read -r pid; do
    read -r r p v < <(mem_of "$pid")
    rss=$((rss + r)) pss=$((pss + p)) priv=$((priv + v)) procs=$((procs + 1))
  done < <(pool_haproxy_pids "$pool")
done

log "pool list at $POOLS pools"
list_table="$(hf_interleaved "$BENCH_TMP/list" 2 "$LIST_RUNS" \
  -n 'node -e 0' 'node -e 0' \
  -n "lbaas pool list -f value -c id ($POOLS pools)" "$LBAAS_BIN pool list -f value -c id")"

log "simulated reboot: killing the HAProxy processes of $POOLS pools and deleting their namespaces"
victims=()
for pool in "${pools[@]}"; do
  while read -r pid; do
    grep -q "$LBAAS_RUN_DIR/$pool/" "/proc/$pid/cmdline" 2>/dev/null && victims+=("$pid")
  done < <(pool_haproxy_pids "$pool")
done
killed=0
for pid in "${victims[@]}"; do kill -KILL "$pid" 2>/dev/null && killed=$((killed + 1)); done
for pool in "${pools[@]}"; do ip netns del "lbaas-$pool" 2>/dev/null || true; done
sleep 1
down_after_kill="$(check_vips 0.3)"
t0="$(now_us)"
lbaas sync -f value -c kind >"$BENCH_TMP/sync1.txt" || echo "sync: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$BENCH_TMP/failures"
t1="$(now_us)"
after_sync="$(check_vips)"
t2="$(now_us)"
lbaas sync -f value -c kind >"$BENCH_TMP/sync2.txt" || echo "second sync: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$BENCH_TMP/failures"
t3="$(now_us)"
sync_s="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e6}')"
sync2_s="$(awk -v a="$t2" -v b="$t3" 'BEGIN {printf "%.2f", (b - a) / 1e6}')"
sync_actions="$(sort "$BENCH_TMP/sync1.txt" | uniq -c | awk '{printf "%s%s × %s", sep, $1, $2; sep = ", "}')"
sync2_actions="$(wc -l <"$BENCH_TMP/sync2.txt")"

log "teardown: vip delete × $POOLS"
t0="$(now_us)"
for ((i = 1; i <= POOLS; i++)); do
  lbaas vip delete "bench-scale-$tag-$i" --yes >/dev/null || echo "vip delete $i: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$BENCH_TMP/failures"
done
teardown_s="$(awk -v a="$t0" -v b="$(now_us)" 'BEGIN {printf "%.1f", (b - a) / 1e6}')"

mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
per() { awk -v t="$1" -v n="$2" 'BEGIN {printf "%.0f", t / n / 1000}'; }
echo "## Scale: $POOLS deployed pools × $MEMBERS members on one host ($(date -u +%F), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| measure | value |"
echo "|---|---|"
echo "| create, total wall (pool create + $MEMBERS × member create + vip create, one CLI call each) | ${create_s} s |"
echo "| … \`pool create\` | $(per "$t_pool" "$POOLS") ms per pool |"
echo "| … \`member create\` (pool without VIP: state only) | $(per "$t_member" $((POOLS * MEMBERS))) ms per member |"
echo "| … \`vip create\` (deploy) | $(per "$t_vip" "$POOLS") ms per pool |"
echo "| VIPs answering 200 after create | $answering / $POOLS |"
echo "| HAProxy processes | $procs |"
echo "| HAProxy RSS, all pools (per pool) | $(mb "$rss") MB ($(mb $((rss / POOLS))) MB) |"
echo "| HAProxy PSS, all pools (per pool) | $(mb "$pss") MB ($(mb $((pss / POOLS))) MB) |"
echo "| HAProxy private memory, all pools (per pool) | $(mb "$priv") MB ($(mb $((priv / POOLS))) MB) |"
echo "| simulated reboot: HAProxy processes killed / VIPs answering before sync | $killed of ${#victims[@]} / $down_after_kill |"
echo "| \`lbaas sync\` after the reboot | ${sync_s} s ($(awk -v s="$sync_s" -v n="$POOLS" 'BEGIN {printf "%.0f", s * 1000 / n}') ms per pool); actions: $sync_actions |"
echo "| VIPs answering 200 after sync | $after_sync / $POOLS |"
echo "| second \`lbaas sync\` (nothing to do) | ${sync2_s} s, $sync2_actions actions |"
echo "| teardown: \`vip delete\` × $POOLS | ${teardown_s} s |"
echo
echo "\`pool list\` at $POOLS pools (hyperfine -N, 2 rounds × $LIST_RUNS runs):"
echo
echo "$list_table"
if [ -s "$BENCH_TMP/failures" ]; then
  echo
  echo "failed commands ($(wc -l <"$BENCH_TMP/failures")):"
  echo
  sed 's/^/    /' "$BENCH_TMP/failures"
fi
