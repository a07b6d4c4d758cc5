#!/usr/bin/env bash
# Deploy and member-add latency (issue 3).
#
#  1. Deploy: wall time from the start of `lbaas vip create` to the first 200 through the
#     VIP (curl from the root namespace, polled without sleeping), N times, next to the same
#     host work done by hand (bench/deploy-by-hand.sh: `ip netns add`, veth into the bridge,
#     address, route, `haproxy -c`, `haproxy -W -D -S …` on the configuration lbaas rendered
#     for the same pool) in three forms: one `ip` per step ("plain"), two `ip -batch`
#     ("batch", what lbaas does), and batch preceded by a bare `node -e 0` (the price of any
#     Node CLI). The order of the four rotates every iteration. Targets: lbaas ≤ 1.5× the
#     script, and ≤ 0.6 s.
#  2. Member add on the deployed pool: `lbaas member create` (a reload), M times, each
#     followed by `member delete`, next to `node -e 0` and `lbaas --version` timed the same
#     way in the same loop. Target: ≤ 0.35 s. A command that fails is counted and
#     reported (with its error), not timed; the loop goes on.
#  3. One traced run of each (LBAAS_DEBUG=1: every program lbaas runs, with its duration).
#
#   bench/deploy.sh                           N=12 deploys, M=12 member adds
#   N=20 M=20 CIDR=198.19.221.0/24 bench/deploy.sh
#   LBAAS_BIN=./bin/run.js bench/deploy.sh    measure the working tree's build
#   COMPARE_BIN=/tmp/other/bin/run.js bench/deploy.sh
#                                             also time another build of the CLI (e.g. with
#                                             a proposed change) in the same loops
#
# Uses a lab subnet on CIDR (default 198.19.201.0/24) with 3 backends; VIPs at .100–.150,
# hand-made namespaces at .151–.241. Everything is removed on exit (VIPs, pool, lab, the
# hand-made namespaces and the HAProxy processes this script started, by PID).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N="${N:-12}"
M="${M:-12}"
CIDR="${CIDR:-198.19.201.0/24}"
((N >= 1 && N <= 25 && M >= 1 && M <= 100)) || die "N must be 1–25, M 1–100"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/24$ ]] || die "CIDR must be a /24 inside 198.18.0.0/15"
net="${CIDR%.*}"

bench_init deploy
require_free_cidr "$CIDR"
bench_lab bdep
by_hand_area "$tag"

log "lab: $LAB on $CIDR with 3 backends"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 3 >/dev/null 2>&1
POOL="$(lbaas pool create --name "bench-deploy-$tag" --subnet "$LAB" --protocol HTTP --lb-method ROUND_ROBIN -f value -c id)"
lbaas member create "$POOL" --address "$net.11" --protocol-port 8000 >/dev/null
lbaas member create "$POOL" --address "$net.12" --protocol-port 8000 >/dev/null
HAND_BRIDGE="$(lbaas subnet show "$LAB" -f value -c bridge)"
HAND_GATEWAY="$(lbaas subnet show "$LAB" -f value -c gateway_ip)"
HAND_PREFIX="${CIDR#*/}"

out="$BENCH_TMP/times"
mkdir -p "$out"
: >"$out/failures"
HAND_TEMPLATE="$BENCH_TMP/template.cfg"

# run_lbaas I [BIN LABEL]: vip create → first 200 → vip delete, with the CLI under test or BIN.
run_lbaas() {
  local i="$1" bin="${2:-$LBAAS_BIN}" label="${3:-lbaas}" address t0 t1 t2
  address="$net.$((100 + i + ${3:+25}+0))"
  t0="$(now_us)"
  if ! "$bin" vip create "$POOL" --name "bv$i" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$address" >/dev/null 2>>"$BENCH_TMP/lbaas.log"; then
    echo "$label vip create: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$out/failures"
    lbaas vip delete "bv$i" --yes >/dev/null || true
    return 0
  fi
  t1="$(now_us)"
  wait_http "http://$address/" 500 >/dev/null || die "no 200 from lbaas VIP $address"
  t2="$(now_us)"
  echo $(((t1 - t0) / 1000)) >>"$out/$label-cli"
  echo $(((t2 - t0) / 1000)) >>"$out/$label"
  [ -f "$HAND_TEMPLATE" ] || sed -e "s#$LBAAS_RUN_DIR/$POOL#@DIR@#g" -e "s#bind $address:#bind @ADDRESS@:#" \
    "$LBAAS_RUN_DIR/$POOL/haproxy.cfg" >"$HAND_TEMPLATE"
  lbaas vip delete "bv$i" --yes >/dev/null
}

run_hand() {
  local mode="$1" i="$2" offset
  case "$mode" in plain) offset=151 ;; batch) offset=181 ;; node) offset=211 ;; esac
  deploy_by_hand "$([ "$mode" = plain ] && echo plain || echo batch)" "$mode$i" "$net.$((offset + i))" "lbh$tag${mode:0:1}$i" \
    "$([ "$mode" = node ] && echo node)" >>"$out/$mode"
  stop_by_hand "$HAND/$mode$i" "lbhand-$tag-$mode$i"
}

log "deploy: $N iterations"
run_lbaas 0 # warm-up; also captures the configuration the by-hand script runs
: >"$out/lbaas"
: >"$out/lbaas-cli"
order=(lbaas plain batch node)
[ -n "${COMPARE_BIN:-}" ] && order+=(compare)
for ((i = 1; i <= N; i++)); do
  for ((k = 0; k < ${#order[@]}; k++)); do
    what="${order[(i + k) % ${#order[@]}]}"
    case "$what" in
      lbaas) run_lbaas "$i" ;;
      compare) run_lbaas "$i" "$COMPARE_BIN" compare ;;
      *) run_hand "$what" "$i" ;;
    esac
  done
done

echo "## Deploy: \`vip create\` → first 200 ($(date -u +%F), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
node "$BENCH_ROOT/bench/hf-summary.mjs" --times \
  "script by hand, plain ip (deploy-by-hand.sh plain)=$out/plain" \
  "script by hand, ip -batch (deploy-by-hand.sh batch)=$out/batch" \
  "node -e 0 + script by hand, ip -batch=$out/node" \
  "lbaas vip create … then curl until 200=$out/lbaas" \
  "lbaas vip create alone (returns)=$out/lbaas-cli" \
  ${COMPARE_BIN:+"COMPARE_BIN vip create … then curl until 200=$out/compare"}
lbaas_ms="$(median <"$out/lbaas")"
echo
for base in plain batch node; do
  case "$base" in plain) what="script, plain ip" ;; batch) what="script, ip -batch" ;; node) what="node -e 0 + script, ip -batch" ;; esac
  echo "- lbaas / ($what): $(awk -v a="$lbaas_ms" -v b="$(median <"$out/$base")" 'BEGIN {printf "%.2f", a / b}')×"
done
echo
echo "targets: ≤ 1.5× the script, ≤ 600 ms; lbaas median ${lbaas_ms} ms"
if [ -s "$out/failures" ]; then
  echo
  echo "failed commands ($(wc -l <"$out/failures")), not timed:"
  echo
  sed 's/^/    /' "$out/failures"
fi

# 2. member add on the deployed pool
lbaas vip create "$POOL" --name "bench-vip-$tag" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$net.100" >/dev/null
wait_http "http://$net.100/" 500 >/dev/null || die "no 200 from $net.100"
: >"$out/m-node"
: >"$out/m-version"
: >"$out/m-create"
: >"$out/m-delete"
: >"$out/m-compare"
: >"$out/m-failures"
log "member add: $M iterations"
for ((i = 0; i <= M; i++)); do
  t0="$(now_us)"; node -e 0; t1="$(now_us)"
  "$LBAAS_BIN" --version >/dev/null; t2="$(now_us)"
  created=1 deleted=1
  member="$(lbaas member create "$POOL" --address "$net.13" --protocol-port 8000 -f value -c id)" || created=0
  t3="$(now_us)"
  if ((!created)); then
    echo "member create: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$out/m-failures"
    member="$(member_at "$POOL" "$net.13")"
  fi
  t3b="$(now_us)"
  if [ -n "$member" ]; then
    lbaas member delete "$member" --yes >/dev/null || deleted=0
  fi
  t4="$(now_us)"
  ((deleted)) || echo "member delete: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$out/m-failures"
  # A failed delete leaves the member (ERROR): remove it before the next round.
  ((deleted)) || { member="$(member_at "$POOL" "$net.13")"; [ -z "$member" ] || lbaas member delete "$member" --yes >/dev/null || true; }
  if [ -n "${COMPARE_BIN:-}" ]; then
    t5="$(now_us)"
    if member="$("$COMPARE_BIN" member create "$POOL" --address "$net.13" --protocol-port 8000 -f value -c id 2>>"$BENCH_TMP/lbaas.log")"; then
      t6="$(now_us)"
      ((i > 0)) && echo $(((t6 - t5) / 1000)) >>"$out/m-compare"
    else
      echo "COMPARE_BIN member create: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$out/m-failures"
    fi
    member="$(member_at "$POOL" "$net.13")"
    [ -z "$member" ] || lbaas member delete "$member" --yes >/dev/null || true
  fi
  ((i == 0)) && continue # warm-up
  echo $(((t1 - t0) / 1000)) >>"$out/m-node"
  echo $(((t2 - t1) / 1000)) >>"$out/m-version"
  ((created)) && echo $(((t3 - t2) / 1000)) >>"$out/m-create"
  ((deleted)) && [ -n "$member" ] && echo $(((t4 - t3b) / 1000)) >>"$out/m-delete"
done
echo
echo "## Member add on a deployed pool (2 members + 1 added and removed each time)"
echo
node "$BENCH_ROOT/bench/hf-summary.mjs" --times \
  "node -e 0=$out/m-node" \
  "lbaas --version=$out/m-version" \
  "lbaas member create POOL --address A --protocol-port 8000 (reload)=$out/m-create" \
  "lbaas member delete MEMBER --yes (reload)=$out/m-delete" \
  ${COMPARE_BIN:+"COMPARE_BIN member create … (reload)=$out/m-compare"}
echo
echo "target: member create ≤ 350 ms; median $(median <"$out/m-create") ms"
if [ -s "$out/m-failures" ]; then
  echo
  echo "failed commands ($(wc -l <"$out/m-failures")), not timed:"
  echo
  sed 's/^/    /' "$out/m-failures"
fi

# 3. where the time goes, one traced run each
echo
echo "## Traced (LBAAS_DEBUG=1): programs run by one vip create and one member create"
echo
echo '```'
lbaas vip delete "bench-vip-$tag" --yes >/dev/null
t0="$(now_us)"
LBAAS_DEBUG=1 "$LBAAS_BIN" vip create "$POOL" --name "bench-vip-$tag" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$net.100" -f value -c id 2>&1 >/dev/null |
  grep -v '^    <' | sed "s#$BENCH_TMP#\$TMP#g"
echo "vip create total: $((($(now_us) - t0) / 1000)) ms"
t0="$(now_us)"
LBAAS_DEBUG=1 "$LBAAS_BIN" member create "$POOL" --address "$net.13" --protocol-port 8000 -f value -c id 2>&1 >/dev/null |
  grep -v '^    <' | sed "s#$BENCH_TMP#\$TMP#g"
echo "member create total: $((($(now_us) - t0) / 1000)) ms"
echo '```'
