#!/usr/bin/env bash
# Observability figures (issue 14, SPEC §10), each beside a baseline measured in the same run:
#
#   - `lbaas metrics` (one pass over every deployed pool, text exposition on stdout) at each
#     step of STEPS pools deployed by `lbaas apply` (default 10 → 50; add 200 with STEPS="10 50 200"): wall
#     time (median of RUNS) and bytes; baseline `lbaas pool list -f value -c id` (same CLI
#     start-up, no HAProxy read)
#   - one scrape of `lbaas metrics serve` (curl, median of RUNS scrapes) and the server's
#     RSS after them (VmRSS and VmHWM); target: ≤ 300 ms at 200 pools, RSS ≤ 80 MB
#   - throughput of one VIP with and without access logging (wrk, WRK_SECONDS × ROUNDS
#     each, interleaved): two HAProxy started by hand in the first pool's namespace from
#     the configuration lbaas rendered for it, on ports 8081 (as rendered: logs into the
#     ring) and 8082 (every `log` and `option httplog` line removed). Target: ≤ 5 % fewer
#     requests/s with logging.
#
#   bench/metrics.sh
#   STEPS="10 50 200" RUNS=5 bench/metrics.sh
#   LBAAS_BIN=./bin/run.js bench/metrics.sh      measure the working tree's build
#   ROUNDS=0 STEPS=50 bench/metrics.sh            the metrics figures only (no throughput runs)
#   OLD_BIN=/copy/of/an/older/build/bin/run.js …  also times that build's `metrics` and one scrape
#                                                 of its `metrics serve` on the same pools, same run
#
# Every step also times `node -e 0` (the bare runtime) and prints its RSS, as a floor.
#
# One lab subnet on CIDR (default 198.19.212.0/22). Everything is removed on exit; only
# processes this script started are signalled.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

STEPS="${STEPS:-10 50}"
RUNS="${RUNS:-5}"
ROUNDS="${ROUNDS:-4}"
WRK_SECONDS="${WRK_SECONDS:-5}"
CIDR="${CIDR:-198.19.212.0/22}"
PORT="${PORT:-19120}"
previous=0
for step in $STEPS; do
  [[ "$step" =~ ^[0-9]+$ ]] && ((step > previous && step <= 700)) || die "STEPS must be increasing whole numbers ≤ 700 ($STEPS)"
  previous="$step"
done
((RUNS >= 1 && RUNS <= 50 && ROUNDS >= 0 && ROUNDS <= 10 && WRK_SECONDS >= 1 && WRK_SECONDS <= 60)) || die "RUNS 1–50, ROUNDS 0–10, WRK_SECONDS 1–60"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/22$ ]] || die "CIDR must be a /22 inside 198.18.0.0/15"
command -v wrk >/dev/null || die "wrk is not installed"

BENCH_REQUIRES="haproxy ip curl socat wrk" bench_init metr
require_free_cidr "$CIDR"
bench_lab bmet

IFS=. read -r o1 o2 o3 _ <<<"${CIDR%/*}"
base=$(((o1 << 24) | (o2 << 16) | (o3 << 8)))
address() { local n=$((base + $1)); echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"; }
vip_address() { address $((256 + $1)); }
ms() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", (b - a) / 1000}'; }

log "lab: $LAB on $CIDR with 2 backends"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 2 >/dev/null
# create_pools FIRST LAST: pools 1..LAST (2 members, a VIP each) in one apply file of stack
# bench-met-TAG; `lbaas apply` creates FIRST..LAST (the earlier ones are unchanged).
STACK="bench-met-$tag"
create_pools() {
  local i file="$BENCH_TMP/pools.yaml"
  {
    printf 'apiVersion: lbaas/v1\nstack: %s\npools:\n' "$STACK"
    for ((i = 1; i <= $2; i++)); do
      printf '  - name: bench-met-%s-%d\n    subnet: %s\n    protocol: HTTP\n    lb_method: ROUND_ROBIN\n' "$tag" "$i" "$LAB"
      printf '    members:\n      - {address: %s, protocol_port: 8000}\n      - {address: %s, protocol_port: 8000}\n' "$(address 11)" "$(address 12)"
      printf '    vip: {name: bench-met-%s-%d, protocol: HTTP, protocol_port: 80, address: %s}\n' "$tag" "$i" "$(vip_address "$i")"
    done
  } >"$file"
  lbaas apply -f "$file" >/dev/null
}

# time_cmd N CMD...: median wall ms of N runs of CMD (stdout discarded).
time_cmd() {
  local n="$1" i t0 t1
  shift
  for ((i = 0; i < n; i++)); do
    t0="$(now_us)"
    "$@" >/dev/null 2>>"$BENCH_TMP/lbaas.log"
    t1="$(now_us)"
    ms "$t0" "$t1"
    echo
  done | median
}

serve_pid=""
stop_serve() { [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null; serve_pid=""; }
on_exit stop_serve

# measure_serve BIN: sets served_ms (median of RUNS scrapes after a warm one) and served_rss
# ("RSS / peak" MB) of BIN's `metrics serve`.
measure_serve() {
  "$1" metrics serve --listen "127.0.0.1:$PORT" 2>>"$BENCH_TMP/lbaas.log" &
  serve_pid=$!
  for ((i = 0; i < 100; i++)); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
  curl -s -o /dev/null "http://127.0.0.1:$PORT/metrics" # warm
  served_ms="$(for ((i = 0; i < RUNS; i++)); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/metrics"; done | awk '{printf "%.0f\n", $1 * 1000}' | median)"
  served_rss="$(awk '/^VmRSS/ {r = $2} /^VmHWM/ {h = $2} END {printf "%.0f / %.0f", r / 1024, h / 1024}' "/proc/$serve_pid/status")"
  stop_serve
}

printf '\n| pools | `lbaas metrics` ms | baseline `pool list` ms | baseline `node -e 0` ms | bytes | one scrape of `metrics serve` ms | serve RSS / peak MB | `node -e 0` RSS MB |\n|---|---|---|---|---|---|---|---|\n' >"$BENCH_TMP/table"
done_pools=0
for step in $STEPS; do
  log "creating pools $((done_pools + 1))–$step"
  create_pools $((done_pools + 1)) "$step"
  done_pools="$step"
  "$LBAAS_BIN" metrics >"$BENCH_TMP/metrics.txt" 2>>"$BENCH_TMP/lbaas.log"
  bytes="$(wc -c <"$BENCH_TMP/metrics.txt")"
  up="$(grep -c '^lbaas_pool_up{.*} 1$' "$BENCH_TMP/metrics.txt" || true)"
  ((up == step)) || log "warning: $up of $step pools up in the exposition"
  t_metrics="$(time_cmd "$RUNS" "$LBAAS_BIN" metrics)"
  t_list="$(time_cmd "$RUNS" "$LBAAS_BIN" pool list -f value -c id)"
  t_node="$(time_cmd "$RUNS" node -e 0)"
  node_rss="$(node -e 'console.log((process.memoryUsage().rss / 1048576).toFixed(0))')"
  measure_serve "$LBAAS_BIN"
  t_scrape="$served_ms" rss="$served_rss"
  if [ -n "${OLD_BIN:-}" ]; then
    t_old="$(time_cmd "$RUNS" "$OLD_BIN" metrics)"
    measure_serve "$OLD_BIN"
    t_old_scrape="$served_ms" old_rss="$served_rss"
    printf '| %s (OLD_BIN) | %s | | | | %s | %s | |\n' "$step" "$t_old" "$t_old_scrape" "$old_rss" >>"$BENCH_TMP/table"
    log "  $step pools, OLD_BIN: metrics ${t_old} ms, scrape ${t_old_scrape} ms, serve RSS/peak ${old_rss} MB"
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$step" "$t_metrics" "$t_list" "$t_node" "$bytes" "$t_scrape" "$rss" "$node_rss" >>"$BENCH_TMP/table"
  log "  $step pools: metrics ${t_metrics} ms (pool list ${t_list} ms, node -e 0 ${t_node} ms), ${bytes} bytes, scrape ${t_scrape} ms, serve RSS/peak ${rss} MB; load $(cut -d' ' -f1-3 /proc/loadavg)"
done

if ((ROUNDS == 0)); then
  cat "$BENCH_TMP/table"
  echo "(throughput runs skipped: ROUNDS=0; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  exit 0
fi

# Access logging on and off, same process model, same namespace, same backends.
pool="$(lbaas pool show "bench-met-$tag-1" -f value -c id)"
ns="lbaas-$pool"
vip="$(vip_address 1)"
cfg="$LBAAS_RUN_DIR/$pool/haproxy.cfg"
variant() { # variant NAME PORT [strip]: a by-hand copy of the pool's configuration
  local out="$BENCH_TMP/$1.cfg"
  sed -e "s#^\(\s*bind [^ ]*\):80\b#\1:$2#" -e "s#stats socket [^ ]*#stats socket $BENCH_TMP/$1.sock#" \
    -e '/server-state-file/d' -e '/load-server-state-from-file/d' "$cfg" >"$out"
  [ "${3:-}" = strip ] && sed -i -e '/^\s*log /d' -e '/option httplog/d' "$out"
  ip netns exec "$ns" haproxy -c -q -f "$out" || die "haproxy -c refused the $1 variant"
  ip netns exec "$ns" haproxy -D -p "$BENCH_TMP/$1.pid" -f "$out"
  on_exit "kill \$(cat '$BENCH_TMP/$1.pid' 2>/dev/null) 2>/dev/null || true"
  wait_http "http://$vip:$2/" 50 >/dev/null || die "the $1 variant does not answer"
}
variant logged 8081
variant unlogged 8082 strip
grep -q 'log ring@' "$BENCH_TMP/logged.cfg" || die "the rendered configuration does not log into the ring"
for ((r = 1; r <= ROUNDS; r++)); do
  # Alternate which goes first: under load the first run of a pair is often the slower.
  order="logged:8081 unlogged:8082"
  ((r % 2 == 0)) && order="unlogged:8082 logged:8081"
  for v in $order; do
    wrk -t2 -c32 -d"${WRK_SECONDS}s" --timeout 5s "http://$vip:${v#*:}/" >"$BENCH_TMP/wrk.$r.${v%:*}" 2>&1
    read -r sock non2xx total rps < <(wrk_failures "$BENCH_TMP/wrk.$r.${v%:*}")
    echo "$rps" >>"$BENCH_TMP/rps.${v%:*}"
    log "  round $r ${v%:*}: $rps req/s ($total requests, $sock socket errors, $non2xx non-2xx)"
  done
done
logged="$(median <"$BENCH_TMP/rps.logged")"
unlogged="$(median <"$BENCH_TMP/rps.unlogged")"
ring_lines="$(echo "show events lbaas-log" | ip netns exec "$ns" socat - "UNIX-CONNECT:$BENCH_TMP/logged.sock" | grep -c . || true)"

cat "$BENCH_TMP/table"
printf '\n| VIP | requests/s (median of %s × %s s, wrk -t2 -c32) |\n|---|---|\n| access log off (baseline) | %s |\n| access log into the ring (as rendered) | %s |\n| difference | %s %% |\n' \
  "$ROUNDS" "$WRK_SECONDS" "$unlogged" "$logged" "$(awk -v a="$unlogged" -v b="$logged" 'BEGIN {printf "%+.1f", (b - a) / a * 100}')"
echo "(ring of the logged variant holds $ring_lines lines at the end; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
