#!/usr/bin/env bash
# Reloads under load (issue 3): CHANGES member changes (`lbaas member create` and
# `member delete` in turn, each a structural change, so each an HAProxy reload) while wrk
# drives HTTP through the VIP, once with keep-alive and once with `Connection: close`.
# Target: 0 failed requests (wrk "Socket errors" and "Non-2xx or 3xx responses").
#
# Beside it, the same load and the same number of reloads at the same pace against the
# reload Neutron's haproxy driver used: `haproxy -D -p PID -f CFG -sf $(cat PID)` (no
# master-worker, no -x), in a namespace plugged by hand into the same bridge, with the
# configurations lbaas rendered for the same pool (2 and 3 members, alternating), minus
# `expose-fd listeners` (unused without -x). METHODS may add `neutron-noicor`: the same
# without `option idle-close-on-response` either, as Neutron's own template rendered it.
#
# The master's reload counter (`show proc`) is read before and after, to show that each
# change was a reload. wrk runs from the root namespace (-t THREADS -c CONNS) with a long
# -d and is stopped with SIGINT one second after the last change (wrk then prints its
# report for the real duration).
#
#   bench/reload-under-load.sh
#   CHANGES=20 CONNS=50 MODES=close METHODS=lbaas bench/reload-under-load.sh
#   METHODS="lbaas neutron neutron-noicor" bench/reload-under-load.sh
#   LBAAS_BIN=./bin/run.js bench/reload-under-load.sh
#
# Lab subnet on CIDR (default 198.19.202.0/24): backends .11–.13, lbaas VIP .100, the
# Neutron-style namespace .151 and up (one per run). Everything is removed on exit; only
# processes this script started are signalled.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CHANGES="${CHANGES:-100}"
CONNS="${CONNS:-20}"
THREADS="${THREADS:-2}"
CIDR="${CIDR:-198.19.202.0/24}"
MODES="${MODES:-keepalive close}"
METHODS="${METHODS:-lbaas neutron}"
((CHANGES >= 2 && CHANGES <= 1000 && CONNS >= 1 && CONNS <= 1000 && THREADS >= 1 && THREADS <= 8)) || die "CHANGES 2–1000, CONNS 1–1000, THREADS 1–8"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/24$ ]] || die "CIDR must be a /24 inside 198.18.0.0/15"
command -v wrk >/dev/null || die "wrk is not installed"
net="${CIDR%.*}"

bench_init reload
require_free_cidr "$CIDR"
bench_lab brel
NEUTRON="$BENCH_TMP/neutron"
NS="lbneut-$tag"
mkdir -p "$NEUTRON"
cleanup_neutron() {
  kill_processes_naming "$NEUTRON" >/dev/null
  ip netns del "$NS" 2>/dev/null || true
}
on_exit cleanup_neutron

log "lab: $LAB on $CIDR with 3 backends"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 3 >/dev/null
POOL="$(lbaas pool create --name "bench-reload-$tag" --subnet "$LAB" --protocol HTTP --lb-method ROUND_ROBIN -f value -c id)"
lbaas member create "$POOL" --address "$net.11" --protocol-port 8000 >/dev/null
lbaas member create "$POOL" --address "$net.12" --protocol-port 8000 >/dev/null
lbaas vip create "$POOL" --name "bench-reload-$tag" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$net.100" >/dev/null
wait_http "http://$net.100/" 500 >/dev/null || die "the VIP does not answer"
bridge="$(lbaas subnet show "$LAB" -f value -c bridge)"
gateway="$(lbaas subnet show "$LAB" -f value -c gateway_ip)"

# The two configurations the changes alternate between, for the Neutron-style run.
neutron_cfg() {
  sed -e "s#$LBAAS_RUN_DIR/$POOL#$NEUTRON#g" -e "s#bind $net.100:#bind @ADDRESS@:#" -e 's/ expose-fd listeners//' \
    "$LBAAS_RUN_DIR/$POOL/haproxy.cfg" >"$1"
}
neutron_cfg "$NEUTRON/cfg2.in"
member="$(lbaas member create "$POOL" --address "$net.13" --protocol-port 8000 -f value -c id)"
neutron_cfg "$NEUTRON/cfg3.in"
t0="$(now_us)"
lbaas member delete "$member" --yes >/dev/null
t_change=$((($(now_us) - t0) / 1000))
duration=$((CHANGES * t_change * 4 / 1000 + 15))
((duration > 900)) && duration=900
log "one change takes ~${t_change} ms idle; wrk -d ${duration}s at most, stopped when the $CHANGES changes are done"

results="$BENCH_TMP/results"
: >"$results"

# run_load METHOD MODE URL: wrk in the background, CHANGES changes, then the report row.
run_load() {
  local method="$1" mode="$2" url="$3" report="$BENCH_TMP/wrk-$1-$2.txt"
  local header=() wrk_pid changes=0 failed=0 r0 r1 start end interval
  [ "$mode" = close ] && header=(-H 'Connection: close')
  r0="$([ "$method" = lbaas ] && master_reloads "$POOL" || echo 0)"
  start="$(now_us)"
  wrk -t "$THREADS" -c "$CONNS" -d "${duration}s" "${header[@]}" "$url" >"$report" 2>&1 &
  wrk_pid=$!
  sleep 1
  while ((changes < CHANGES)) && kill -0 "$wrk_pid" 2>/dev/null; do
    if [ "$method" = lbaas ]; then
      if ((changes % 2 == 0)); then
        if ! member="$(lbaas member create "$POOL" --address "$net.13" --protocol-port 8000 -f value -c id)"; then
          failed=$((failed + 1))
          member="$(member_at "$POOL" "$net.13")" # a failed create may leave the member (ERROR)
        fi
      else
        if [ -n "$member" ] && ! lbaas member delete "$member" --yes >/dev/null; then
          failed=$((failed + 1))
          member="$(member_at "$POOL" "$net.13")"
          [ -z "$member" ] || lbaas member delete "$member" --yes >/dev/null || true
        fi
        member=""
      fi
    else
      local t_start
      t_start="$(now_us)"
      cp "$NEUTRON/cfg$((changes % 2 == 0 ? 3 : 2))" "$NEUTRON/haproxy.cfg"
      ip netns exec "$NS" haproxy -D -p "$NEUTRON/haproxy.pid" -f "$NEUTRON/haproxy.cfg" -sf $(cat "$NEUTRON/haproxy.pid") \
        2>>"$BENCH_TMP/neutron.log" || failed=$((failed + 1))
      # Same pace as the lbaas run: one reload per lbaas change interval.
      local rest=$((pace_us - ($(now_us) - t_start)))
      ((rest > 0)) && sleep "$(awk -v u="$rest" 'BEGIN {printf "%.3f", u / 1e6}')"
    fi
    changes=$((changes + 1))
  done
  end="$(now_us)"
  sleep 1
  kill -INT "$wrk_pid" 2>/dev/null || true # wrk reports on SIGINT
  wait "$wrk_pid" || true
  r1="$([ "$method" = lbaas ] && master_reloads "$POOL" || echo "$changes")"
  [ "$method" = lbaas ] && pace_us=$(((end - start - 1000000) / (changes > 0 ? changes : 1)))
  read -r errors non2xx requests rps < <(wrk_failures "$report")
  local seconds
  seconds="$(awk -v a="$start" -v b="$(now_us)" 'BEGIN {printf "%.1f", (b - a) / 1e6}')"
  grep -q 'Socket errors' "$report" && grep 'Socket errors' "$report" | sed 's/^ */    /' >>"$BENCH_TMP/socket-errors"
  printf '| %s | %s | %d (%d failed) | %d | %d | %s | %s | %d | %d |\n' "$method" "$mode" "$changes" "$failed" "$((r1 - r0))" \
    "$requests" "$seconds" "$rps" "$errors" "$non2xx" >>"$results"
  log "$method/$mode: $changes changes, $((r1 - r0)) reloads, $requests requests, $errors socket errors, $non2xx non-2xx (${seconds}s)"
}

# A fresh address and veth per run: a deleted namespace can linger (and keep its veth and
# the address on the bridge) while its TIME_WAIT sockets drain.
start_neutron() {
  local index="$1" address="$net.$((150 + $1))" n
  printf '%s\n' "netns add $NS" "link add lbn$tag$index up master $bridge type veth peer name vip0 netns $NS" | ip -batch -
  printf '%s\n' "link set lo up" "addr add $address/${CIDR#*/} dev vip0" "link set vip0 up" "route add default via $gateway dev vip0" |
    ip -n "$NS" -batch -
  echo 1 >"$NEUTRON/server-state"
  for n in 2 3; do
    sed -e "s#@ADDRESS@#$address#" -e "${2:+/option idle-close-on-response/d}" "$NEUTRON/cfg$n.in" >"$NEUTRON/cfg$n"
  done
  cp "$NEUTRON/cfg2" "$NEUTRON/haproxy.cfg"
  ip netns exec "$NS" haproxy -D -p "$NEUTRON/haproxy.pid" -f "$NEUTRON/haproxy.cfg" 2>>"$BENCH_TMP/neutron.log"
  wait_http "http://$address/" 500 >/dev/null || die "the Neutron-style VIP does not answer"
  NEUTRON_URL="http://$address/"
}

pace_us=$((t_change * 1000))
neutron_runs=0
for mode in $MODES; do
  for method in $METHODS; do
    case "$method" in
      lbaas) run_load lbaas "$mode" "http://$net.100/" ;;
      neutron | neutron-noicor)
        cleanup_neutron
        neutron_runs=$((neutron_runs + 1))
        start_neutron "$neutron_runs" "$([ "$method" = neutron-noicor ] && echo noicor)"
        run_load "$method" "$mode" "$NEUTRON_URL"
        cleanup_neutron
        ;;
      *) die "unknown method $method" ;;
    esac
  done
done

echo "## Reloads under load ($(date -u +%F), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "wrk -t$THREADS -c$CONNS through the VIP from the root namespace; $CHANGES member changes (lbaas: member create/delete; neutron: \`haproxy -D -p pid -f cfg -sf \$(cat pid)\` alternating 2/3-member configs at the same pace)"
echo
echo '| reload method | client | changes done under load | HAProxy reloads | requests | seconds | req/s | socket errors | non-2xx |'
echo '|---|---|---|---|---|---|---|---|---|'
cat "$results"
if [ -s "$BENCH_TMP/socket-errors" ]; then
  echo
  echo "wrk socket error lines, in run order:"
  cat "$BENCH_TMP/socket-errors"
fi
