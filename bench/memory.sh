#!/usr/bin/env bash
# Memory of idle deployed pools (issue 3). Target: ≤ 12 MB RSS of all HAProxy processes
# (master + workers) per idle pool.
#
# 1. POOLS pools deployed by lbaas (2 members, a VIP, no monitor), idle for SETTLE s: RSS
#    (VmRSS), PSS and private memory (smaps_rollup) of the master and the worker of each.
#    RSS counts the shared libraries (libcrypto, liblua, libc…) in full in every process;
#    PSS shares them out among the processes mapping them; private memory is what one
#    more pool really adds.
# 2. The same configuration (the one lbaas rendered for pool 1, bound to 127.0.0.1 in a
#    scratch namespace) started by hand in variants, INSTANCES of each, to see what would
#    bring a pool under the target: master-worker as lbaas runs it; `nbthread 1`;
#    `tune.bufsize 8192`; maxconn 1000 instead of the host's safe maximum; no master
#    (`haproxy -D`, one process); combinations.
#
#   bench/memory.sh
#   POOLS=10 INSTANCES=5 SETTLE=10 bench/memory.sh
#   LBAAS_BIN=./bin/run.js bench/memory.sh
#
# Lab subnet on CIDR (default 198.19.204.0/24), VIPs from .100. Everything is removed on
# exit; only processes this script started are signalled.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

POOLS="${POOLS:-5}"
INSTANCES="${INSTANCES:-3}"
SETTLE="${SETTLE:-5}"
CIDR="${CIDR:-198.19.204.0/24}"
((POOLS >= 1 && POOLS <= 100 && INSTANCES >= 1 && INSTANCES <= 20 && SETTLE >= 0 && SETTLE <= 120)) ||
  die "POOLS 1–100, INSTANCES 1–20, SETTLE 0–120"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/24$ ]] || die "CIDR must be a /24 inside 198.18.0.0/15"
net="${CIDR%.*}"

bench_init memory
require_free_cidr "$CIDR"
bench_lab bmem
VARIANTS_DIR="$BENCH_TMP/v"
NS="lbmem-$tag"
cleanup_variants() {
  kill_processes_naming "$VARIANTS_DIR" >/dev/null
  ip netns del "$NS" 2>/dev/null || true
}
on_exit cleanup_variants

log "lab: $LAB on $CIDR with 2 backends; $POOLS pools"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 2 >/dev/null
pools=()
for ((i = 1; i <= POOLS; i++)); do
  pool="$(lbaas pool create --name "bench-mem-$tag-$i" --subnet "$LAB" --protocol HTTP --lb-method ROUND_ROBIN -f value -c id)"
  lbaas member create "$pool" --address "$net.11" --protocol-port 8000 >/dev/null
  lbaas member create "$pool" --address "$net.12" --protocol-port 8000 >/dev/null
  lbaas vip create "$pool" --name "bench-mem-$tag-$i" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$net.$((99 + i))" >/dev/null
  pools+=("$pool")
done
sleep "$SETTLE"

# per_process LABEL MASTER_PID|- PID...: one line per process "label role rss pss private"
# (kB); the first PID is the master unless MASTER_PID is "-" (a single-process HAProxy).
per_process() {
  local label="$1" first="$2" pid role
  shift 2
  for pid in "$@"; do
    role=worker
    [ "$pid" = "$first" ] && role=master
    echo "$label $role $(mem_of "$pid")"
  done
}

: >"$BENCH_TMP/lbaas.mem"
for pool in "${pools[@]}"; do
  mapfile -t pids < <(pool_haproxy_pids "$pool")
  ((${#pids[@]} >= 2)) || die "pool $pool: expected a master and a worker, found: ${pids[*]}"
  per_process "$pool" "${pids[0]}" "${pids[@]}" >>"$BENCH_TMP/lbaas.mem"
done

# summary FILE TITLE: per-role medians and the per-pool total (sum over processes of one instance).
summary() {
  local file="$1" title="$2"
  awk -v title="$title" '
    { n[$2]++; rss[$2, n[$2]] = $3; pss[$2, n[$2]] = $4; prv[$2, n[$2]] = $5
      trss[$1] += $3; tpss[$1] += $4; tprv[$1] += $5; procs[$1]++ }
    function med(a, role, count,   i, j, t, v) {
      for (i = 1; i <= count; i++) v[i] = a[role, i]
      for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return (count % 2) ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
    }
    function medt(a,   i, j, t, v, count, k) {
      count = 0; for (k in a) v[++count] = a[k]
      for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return (count % 2) ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
    }
    END {
      line = sprintf("| %s |", title)
      for (role in n) roles = roles role " "
      m = ("master" in n) ? sprintf("%.1f / %.1f / %.1f", med(rss, "master", n["master"]) / 1024, med(pss, "master", n["master"]) / 1024, med(prv, "master", n["master"]) / 1024) : "–"
      w = ("worker" in n) ? sprintf("%.1f / %.1f / %.1f", med(rss, "worker", n["worker"]) / 1024, med(pss, "worker", n["worker"]) / 1024, med(prv, "worker", n["worker"]) / 1024) : "–"
      for (k in procs) { count++ ; pc = procs[k] }
      printf "%s %s | %s | **%.1f** | %.1f | %.1f | %d |\n", line, m, w, medt(trss) / 1024, medt(tpss) / 1024, medt(tprv) / 1024, count
    }' "$file"
}

# Variants of pool 1's configuration, started by hand in a scratch namespace.
ip netns add "$NS"
ip -n "$NS" link set lo up
mkdir -p "$VARIANTS_DIR"
base_cfg="$LBAAS_RUN_DIR/${pools[0]}/haproxy.cfg"
port=10000
start_variant() {
  local name="$1" mode="$2" edit="$3" k dir
  : >"$BENCH_TMP/$name.mem"
  for ((k = 1; k <= INSTANCES; k++)); do
    port=$((port + 1))
    dir="$VARIANTS_DIR/$name-$k"
    mkdir -p "$dir"
    echo 1 >"$dir/server-state"
    sed -e "s#$LBAAS_RUN_DIR/${pools[0]}#$dir#g" -e "s#bind [0-9.]*:80#bind 127.0.0.1:$port#" -e "$edit" "$base_cfg" >"$dir/haproxy.cfg"
    if [ "$mode" = mw ]; then
      ip netns exec "$NS" haproxy -W -D -S "$dir/master.sock,mode,600" -p "$dir/haproxy.pid" -f "$dir/haproxy.cfg" 2>>"$BENCH_TMP/variants.log"
    else
      ip netns exec "$NS" haproxy -D -p "$dir/haproxy.pid" -f "$dir/haproxy.cfg" 2>>"$BENCH_TMP/variants.log"
    fi
  done
}
measure_variant() {
  local name="$1" mode="$2" k dir master pids
  for ((k = 1; k <= INSTANCES; k++)); do
    dir="$VARIANTS_DIR/$name-$k"
    master="$(head -1 "$dir/haproxy.pid")"
    mapfile -t pids < <(echo "$master"; children_of "$master")
    per_process "$name-$k" "$([ "$mode" = mw ] && echo "$master" || echo -)" "${pids[@]}" >>"$BENCH_TMP/$name.mem"
  done
}

# name|mode|sed script applied to the configuration (mw: master-worker as lbaas; daemon: -D)
variants=(
  "as-lbaas|mw|"
  "nbthread-1|mw|s/^global\$/global\n    nbthread 1/"
  "bufsize-8k|mw|s/^global\$/global\n    tune.bufsize 8192/"
  "maxconn-1000|mw|s/maxconn [0-9]*/maxconn 1000/"
  "nbthread-1+maxconn-1000|mw|s/^global\$/global\n    nbthread 1/;s/maxconn [0-9]*/maxconn 1000/"
  "no-master|daemon|"
  "no-master+nbthread-1|daemon|s/^global\$/global\n    nbthread 1/"
)
log "variants: ${#variants[@]} × $INSTANCES instances"
for variant in "${variants[@]}"; do
  IFS='|' read -r name mode edit <<<"$variant"
  start_variant "$name" "$mode" "$edit"
done
sleep "$SETTLE"
for variant in "${variants[@]}"; do
  IFS='|' read -r name mode _ <<<"$variant"
  measure_variant "$name" "$mode"
done

echo "## Memory per idle pool ($(date -u +%F), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg), HAProxy $(haproxy -v | awk 'NR == 1 {print $3}'), idle ${SETTLE}s)"
echo
echo "MB; master and worker columns are RSS / PSS / private of one process (median); the totals are per pool (all its HAProxy processes), median over pools or instances."
echo
echo "| what | master RSS / PSS / private | worker RSS / PSS / private | total RSS | total PSS | total private | pools or instances |"
echo "|---|---|---|---|---|---|---|"
summary "$BENCH_TMP/lbaas.mem" "lbaas-deployed pools"
for variant in "${variants[@]}"; do
  IFS='|' read -r name mode edit <<<"$variant"
  summary "$BENCH_TMP/$name.mem" "by hand: $name ($([ "$mode" = mw ] && echo '-W -D -S' || echo '-D'))"
done
echo
echo "target: ≤ 12 MB RSS per idle pool (all HAProxy processes)"
