#!/usr/bin/env bash
# Many deployed pools on one host, and how each figure grows with their number (issue 6).
# Pools are added step by step (STEPS, default 10 → 50 → 100 → 200), each with one CLI call
# per object as a provisioning script would (pool create, MEMBERS × member create, vip
# create). At every step, each figure next to a baseline measured at that same step:
#
#   - create, per pool and per command, for the pools added in this step; baselines:
#     `node -e 0`, and the same host work by hand (bench/deploy-by-hand.sh plain: namespace,
#     veth into the bridge, `haproxy -c`, master-worker start, on the configuration lbaas
#     rendered for pool 1, until its first 200), SAMPLES times each
#   - memory: RSS, PSS and private memory of all the pools' HAProxy processes, per pool;
#     baseline: the last by-hand HAProxy above (same configuration, started by hand)
#   - `lbaas status` (reads live health from every deployed pool) and
#     `lbaas pool list -f value -c id`, next to `node -e 0` (hyperfine -N, 2 interleaved
#     rounds of RUNS runs)
#   - simulated reboot: every process of this run's run dir (the pools' HAProxy masters and
#     workers, the lab backends) killed by PID with SIGKILL, every namespace of this run
#     (pools and lab backends) and the subnet's bridge deleted; only the state file and the
#     run dir survive. Then `lbaas sync` timed, every VIP must answer 200 again, then a
#     second `lbaas sync` (nothing to do) timed. Baseline: the by-hand deploy per pool above.
# At the end, `vip delete` of every pool, timed.
#
#   bench/scale.sh                           10, 50, 100, 200 pools × 2 members
#   STEPS="10 50" MEMBERS=3 bench/scale.sh
#   LBAAS_BIN=./bin/run.js bench/scale.sh    measure the working tree's build
#
# One lab subnet on CIDR (default 198.19.208.0/22, a /22 so that up to ~740 VIPs fit):
# BACKENDS lab backends from .11 (members cycle over them), VIPs from the second /24 on,
# by-hand namespaces at the top of the range. Everything is removed on exit; only
# processes this script started are signalled.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

STEPS="${STEPS:-10 50 100 200}"
MEMBERS="${MEMBERS:-2}"
BACKENDS="${BACKENDS:-$((MEMBERS > 2 ? MEMBERS : 2))}"
CIDR="${CIDR:-198.19.208.0/22}"
RUNS="${RUNS:-5}"
SAMPLES="${SAMPLES:-5}"
steps=()
previous=0
for step in $STEPS; do
  [[ "$step" =~ ^[0-9]+$ ]] && ((step > previous && step <= 740)) || die "STEPS must be increasing whole numbers ≤ 740 ($STEPS)"
  steps+=("$step")
  previous="$step"
done
POOLS="$previous"
((${#steps[@]} >= 1 && MEMBERS >= 1 && MEMBERS <= 50 && BACKENDS >= MEMBERS && BACKENDS <= 50 && RUNS >= 2 && RUNS <= 50 && SAMPLES >= 1 && SAMPLES <= 10)) ||
  die "MEMBERS 1–50, MEMBERS ≤ BACKENDS ≤ 50, RUNS 2–50, SAMPLES 1–10"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/(22|23)$ ]] || die "CIDR must be a /22 or /23 inside 198.18.0.0/15"

bench_init scale
require_free_cidr "$CIDR"
bench_lab bscl
by_hand_area "$tag"

# address OFFSET: the address OFFSET after the network address of CIDR.
IFS=. read -r o1 o2 o3 _ <<<"${CIDR%/*}"
base=$(((o1 << 24) | (o2 << 16) | (o3 << 8)))
address() { local n=$((base + $1)); echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"; }
prefix="${CIDR#*/}"
size=$((1 << (32 - prefix)))
((256 + POOLS < size - 2 - ${#steps[@]} * SAMPLES)) || die "$POOLS VIPs and the by-hand addresses do not fit in $CIDR"
vip_address() { address $((256 + $1)); }
hand_address() { address $((size - 2 - $1)); }

: >"$BENCH_TMP/failures"
fail() { echo "$1: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$BENCH_TMP/failures"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", (b - a) / 1000}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

log "lab: $LAB on $CIDR with $BACKENDS backends"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends "$BACKENDS" >/dev/null
bridge="$(lbaas subnet show "$LAB" -f value -c bridge)"
gateway="$(lbaas subnet show "$LAB" -f value -c gateway_ip)"
lab_namespaces="lab-$(lbaas subnet show "$LAB" -f value -c id | tr -d - | cut -c1-8)-"

pools=()
# create_pools FROM TO: pools FROM..TO, one CLI call per object; sets t_pool t_member t_vip (µs).
create_pools() {
  local i m pool t0 t1 t2 t3
  t_pool=0 t_member=0 t_vip=0
  for ((i = $1; i <= $2; i++)); do
    t0="$(now_us)"
    pool="$(lbaas pool create --name "bench-scale-$tag-$i" --subnet "$LAB" --protocol HTTP --lb-method ROUND_ROBIN -f value -c id)"
    t1="$(now_us)"
    for ((m = 0; m < MEMBERS; m++)); do
      lbaas member create "$pool" --address "$(address $((11 + (i + m) % BACKENDS)))" --protocol-port 8000 >/dev/null || fail "member create $i.$m"
    done
    t2="$(now_us)"
    lbaas vip create "$pool" --name "bench-scale-$tag-$i" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$(vip_address "$i")" >/dev/null ||
      fail "vip create $i"
    t3="$(now_us)"
    t_pool=$((t_pool + t1 - t0)) t_member=$((t_member + t2 - t1)) t_vip=$((t_vip + t3 - t2))
    pools+=("$pool")
    ((i % 25 == 0)) && log "  $i pools"
  done
  return 0
}

# check_vips [MAX_TIME]: how many VIPs answer 200 (one try each).
check_vips() {
  local ok=0 i
  for ((i = 1; i <= ${#pools[@]}; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time "${1:-2}" "http://$(vip_address "$i")/")" = 200 ] && ok=$((ok + 1))
  done
  echo "$ok"
}

# The HAProxy processes (master and workers) of every pool, in one pass over /proc: with
# hundreds of pools, a pass per pool would take minutes.
pools_haproxy_pids() {
  local -A children=()
  local file line ppid pool master
  for file in /proc/[0-9]*/stat; do
    { read -r line <"$file"; } 2>/dev/null || continue
    read -r _ ppid _ <<<"${line##*) }"
    children[$ppid]+="${file//[^0-9]/} "
  done
  for pool in "${pools[@]}"; do
    { read -r master <"$LBAAS_RUN_DIR/$pool/haproxy.pid"; } 2>/dev/null || continue
    [ -n "$master" ] || continue
    echo "$master"
    printf '%s\n' ${children[$master]:-}
  done
}

# memory_of PID...: "rss pss private processes" (kB) summed over the PIDs.
memory_of() {
  local rss=0 pss=0 priv=0 procs=0 pid r p v
  for pid in "$@"; do
    read -r r p v < <(mem_of "$pid")
    rss=$((rss + r)) pss=$((pss + p)) priv=$((priv + v)) procs=$((procs + 1))
  done
  echo "$rss $pss $priv $procs"
}

# by_hand STEP SAMPLE: pool 1's configuration deployed by hand (deploy_by_hand plain); prints
# the milliseconds. The last sample of a step stays up for the memory baseline.
HAND_TEMPLATE="$BENCH_TMP/template.cfg" HAND_BRIDGE="$bridge" HAND_GATEWAY="$gateway" HAND_PREFIX="$prefix"
by_hand() {
  deploy_by_hand plain "s$1-$2" "$(hand_address $(($1 * SAMPLES + $2)))" "lbh$tag$1$2"
}

declare -A figure=()
done_pools=0
for ((s = 0; s < ${#steps[@]}; s++)); do
  step="${steps[s]}"
  log "step $((s + 1))/${#steps[@]}: pools $((done_pools + 1))–$step"
  create_pools $((done_pools + 1)) "$step"
  added=$((step - done_pools))
  figure[create|$step]="$(awk -v a="$t_pool" -v b="$t_member" -v c="$t_vip" -v n="$added" 'BEGIN {printf "%.0f", (a + b + c) / n / 1000}')"
  figure[pool|$step]="$(awk -v t="$t_pool" -v n="$added" 'BEGIN {printf "%.0f", t / n / 1000}')"
  figure[member|$step]="$(awk -v t="$t_member" -v n="$((added * MEMBERS))" 'BEGIN {printf "%.0f", t / n / 1000}')"
  figure[vip|$step]="$(awk -v t="$t_vip" -v n="$added" 'BEGIN {printf "%.0f", t / n / 1000}')"
  done_pools="$step"

  [ -f "$HAND_TEMPLATE" ] || sed -e "s#$LBAAS_RUN_DIR/${pools[0]}#@DIR@#g" -e "s#bind $(vip_address 1):#bind @ADDRESS@:#" \
    "$LBAAS_RUN_DIR/${pools[0]}/haproxy.cfg" >"$HAND_TEMPLATE"
  : >"$BENCH_TMP/node-times" && : >"$BENCH_TMP/hand-times"
  for ((k = 0; k < SAMPLES; k++)); do
    t0="$(now_us)"; node -e 0; echo "$(ms "$t0" "$(now_us)")" >>"$BENCH_TMP/node-times"
    by_hand "$s" "$k" >>"$BENCH_TMP/hand-times"
    ((k == SAMPLES - 1)) || stop_by_hand "$HAND/s$s-$k" "lbhand-$tag-s$s-$k"
  done
  figure[node|$step]="$(median <"$BENCH_TMP/node-times")"
  figure[hand|$step]="$(median <"$BENCH_TMP/hand-times")"
  figure[answering|$step]="$(check_vips) / $step"

  sleep 2
  read -r rss pss priv procs < <(memory_of $(pools_haproxy_pids))
  figure[procs|$step]="$procs"
  figure[memory|$step]="$(mb $((rss / step))) / $(mb $((pss / step))) / $(mb $((priv / step)))"
  hand_master="$(head -1 "$HAND/s$s-$((SAMPLES - 1))/haproxy.pid")"
  read -r rss pss priv _ < <(memory_of "$hand_master" $(children_of "$hand_master"))
  figure[hand_memory|$step]="$(mb "$rss") / $(mb "$pss") / $(mb "$priv")"
  stop_by_hand "$HAND/s$s-$((SAMPLES - 1))" "lbhand-$tag-s$s-$((SAMPLES - 1))"

  log "  status and pool list at $step pools"
  hf_interleaved "$BENCH_TMP/hf-$step" 2 "$RUNS" \
    -n 'node -e 0' 'node -e 0' \
    -n 'lbaas status' "$LBAAS_BIN status" \
    -n 'lbaas pool list -f value -c id' "$LBAAS_BIN pool list -f value -c id" >"$BENCH_TMP/hf-$step.md"
  # The summary's rows (| command | median | p25–p75 | min | runs | median / first | …), in
  # command order: "median ms (ratio to node -e 0)".
  mapfile -t medians < <(awk -F'|' 'NR > 2 && NF > 3 {gsub(/ /, "", $3); gsub(/ /, "", $7); print $3 " ms (" $7 ")"}' "$BENCH_TMP/hf-$step.md")
  figure[hf_node|$step]="${medians[0]%% (*}"
  figure[status|$step]="${medians[1]:-?}"
  figure[list|$step]="${medians[2]:-?}"

  log "  simulated reboot of $step pools"
  killed="$(kill_run_dir_processes)"
  for pool in "${pools[@]}"; do ip netns del "lbaas-$pool" 2>/dev/null || true; done
  for ns in $(ip netns list | awk -v p="$lab_namespaces" 'index($1, p) == 1 {print $1}'); do ip netns del "$ns"; done
  ip link del "$bridge"
  sleep 1
  figure[killed|$step]="$killed, $(check_vips 0.3) answering"
  t0="$(now_us)"
  lbaas sync -f value -c kind >"$BENCH_TMP/sync1.txt" || fail "sync at $step pools"
  t1="$(now_us)"
  figure[after_sync|$step]="$(check_vips) / $step"
  t2="$(now_us)"
  lbaas sync -f value -c kind >"$BENCH_TMP/sync2.txt" || fail "second sync at $step pools"
  t3="$(now_us)"
  figure[sync|$step]="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e6}') s"
  figure[sync_per_pool|$step]="$(awk -v a="$t0" -v b="$t1" -v n="$step" 'BEGIN {printf "%.0f", (b - a) / n / 1000}')"
  figure[sync_actions|$step]="$(sort "$BENCH_TMP/sync1.txt" | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep = ", "}')"
  figure[sync2|$step]="$(awk -v a="$t2" -v b="$t3" 'BEGIN {printf "%.2f", (b - a) / 1e6}') s, $(wc -l <"$BENCH_TMP/sync2.txt") actions"
done

log "teardown: vip delete × $POOLS"
t0="$(now_us)"
for ((i = 1; i <= POOLS; i++)); do
  lbaas vip delete "bench-scale-$tag-$i" --yes >/dev/null || fail "vip delete $i"
done
teardown_s="$(awk -v a="$t0" -v b="$(now_us)" 'BEGIN {printf "%.1f", (b - a) / 1e6}')"

row() {
  local label="$1" key="$2" step line="| $1 |"
  for step in "${steps[@]}"; do line+=" ${figure[$key|$step]:-–} |"; done
  echo "$line"
}
echo "## Scale: ${steps[0]} → $POOLS deployed pools × $MEMBERS members on one host ($(date -u +%F), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
header="| pools |" rule="|---|"
for step in "${steps[@]}"; do header+=" $step |" rule+="---|"; done
echo "$header"
echo "$rule"
row "create, per pool (pool + $MEMBERS members + VIP), ms" create
row "… \`pool create\`, ms" pool
row "… \`member create\` (no VIP yet: state only), ms" member
row "… \`vip create\` (deploy), ms" vip
row "baseline: \`node -e 0\`, ms" node
row "baseline: one pool deployed by hand until its first 200, ms" hand
row "VIPs answering 200" answering
row "HAProxy processes" procs
row "memory per pool, RSS / PSS / private, MB" memory
row "baseline: the by-hand HAProxy, RSS / PSS / private, MB" hand_memory
row "\`lbaas status\` (live health of every pool)" status
row "\`lbaas pool list -f value -c id\`" list
row "baseline: \`node -e 0\` (same hyperfine rounds)" hf_node
row "reboot: processes SIGKILLed (HAProxy workers whose master died first exit by themselves), VIPs answering" killed
row "\`lbaas sync\` after the reboot" sync
row "… per pool, ms (baseline: by hand, above)" sync_per_pool
row "… its actions" sync_actions
row "VIPs answering 200 after sync" after_sync
row "second \`lbaas sync\` (nothing to do)" sync2
echo
echo "Teardown, \`vip delete\` × $POOLS: ${teardown_s} s. hyperfine: 2 interleaved rounds × $RUNS runs (median);"
echo "baselines: median of $SAMPLES at each step."
if [ -s "$BENCH_TMP/failures" ]; then
  echo
  echo "failed commands ($(wc -l <"$BENCH_TMP/failures")):"
  echo
  sed 's/^/    /' "$BENCH_TMP/failures"
fi
