#!/usr/bin/env bash
# Weight and admin-state changes (issue 3): CHANGES `lbaas member update` calls on a
# deployed pool, alternating between members, cycling weights 1–10 and, every fifth
# change, switching the member's admin state. Target: 0 reloads. Counted three ways:
#   - the master's reload counter (`show proc` on the master socket) before and after;
#   - the worker PIDs (`show proc`) before and after (a reload forks a new worker);
#   - HAProxy processes in the pool's namespace (`ip netns pids`) before and after.
# It also checks that HAProxy runs the last values (`get weight`, server state through
# the master socket) and that haproxy.cfg says the same (written through), and times each
# change (median) next to `node -e 0` timed in the same loop, and shows where one update's
# time goes (bench/startup-phases.mjs; LBAAS_DEBUG=1 lists any program it runs).
#
#   bench/runtime-changes.sh
#   CHANGES=200 CIDR=198.19.223.0/24 bench/runtime-changes.sh
#   LBAAS_BIN=./bin/run.js bench/runtime-changes.sh
#
# Lab subnet on CIDR (default 198.19.203.0/24), 2 backends, VIP .100; removed on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CHANGES="${CHANGES:-50}"
CIDR="${CIDR:-198.19.203.0/24}"
((CHANGES >= 1 && CHANGES <= 2000)) || die "CHANGES must be 1–2000"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/24$ ]] || die "CIDR must be a /24 inside 198.18.0.0/15"
net="${CIDR%.*}"

bench_init runtime
require_free_cidr "$CIDR"
bench_lab brun

log "lab: $LAB on $CIDR with 2 backends"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 2 >/dev/null
POOL="$(lbaas pool create --name "bench-runtime-$tag" --subnet "$LAB" --protocol HTTP --lb-method ROUND_ROBIN -f value -c id)"
members=(
  "$(lbaas member create "$POOL" --address "$net.11" --protocol-port 8000 -f value -c id)"
  "$(lbaas member create "$POOL" --address "$net.12" --protocol-port 8000 -f value -c id)"
)
lbaas vip create "$POOL" --name "bench-runtime-$tag" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "$net.100" >/dev/null
wait_http "http://$net.100/" 500 >/dev/null || die "the VIP does not answer"

ns="lbaas-$POOL"
r0="$(master_reloads "$POOL")"
w0="$(current_workers "$POOL" | sort | tr '\n' ' ')"
p0="$(ip netns pids "$ns" | sort | tr '\n' ' ')"
: >"$BENCH_TMP/update"
: >"$BENCH_TMP/node"
: >"$BENCH_TMP/failures"
declare -A weight admin
log "$CHANGES member updates"
for ((i = 0; i < CHANGES; i++)); do
  m="${members[i % 2]}"
  ok=1
  t0="$(now_us)"
  node -e 0
  t1="$(now_us)"
  if ((i % 5 == 4)); then
    [ "${admin[$m]:-true}" = true ] && admin[$m]=false || admin[$m]=true
    lbaas member update "$m" --admin-state-up "${admin[$m]}" >/dev/null || ok=0
  else
    weight[$m]=$((i % 10 + 1))
    lbaas member update "$m" --weight "${weight[$m]}" >/dev/null || ok=0
  fi
  t2="$(now_us)"
  echo $(((t1 - t0) / 1000)) >>"$BENCH_TMP/node"
  if ((ok)); then
    echo $(((t2 - t1) / 1000)) >>"$BENCH_TMP/update"
  else
    echo "member update ($i): $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$BENCH_TMP/failures"
  fi
done
r1="$(master_reloads "$POOL")"
w1="$(current_workers "$POOL" | sort | tr '\n' ' ')"
p1="$(ip netns pids "$ns" | sort | tr '\n' ' ')"

# What HAProxy and the file say now.
checks=""
for m in "${members[@]}"; do
  live_weight="$(echo "@1 get weight $POOL/$m" | socat -t 2 - "UNIX-CONNECT:$LBAAS_RUN_DIR/$POOL/master.sock" | awk '{print $1}')"
  live_state="$(echo "@1 show servers state $POOL" | socat -t 2 - "UNIX-CONNECT:$LBAAS_RUN_DIR/$POOL/master.sock" |
    awk -v s="$m" '$4 == s {print ($7 % 2 == 1 ? "maint" : "ready")}')"
  file_line="$(grep -E "^\s*server $m " "$LBAAS_RUN_DIR/$POOL/haproxy.cfg" | sed 's/^ *//')"
  want_weight="${weight[$m]:-1}"
  want_state="$([ "${admin[$m]:-true}" = true ] && echo ready || echo maint)"
  ok=yes
  [ "$live_weight" = "$want_weight" ] || ok=no
  [ "$live_state" = "$want_state" ] || ok=no
  grep -q "weight $want_weight" <<<"$file_line" || ok=no
  [ "$want_state" = maint ] && { grep -q disabled <<<"$file_line" || ok=no; }
  checks+="| $m | $want_weight / $live_weight | $want_state / $live_state | \`$file_line\` | $ok |"$'\n'
done

echo "## Weight and admin-state changes without reloads ($(date -u +%F), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "$CHANGES \`lbaas member update MEMBER --weight W\` / \`--admin-state-up BOOL\` on a deployed pool:"
echo
echo "| counted | before | after |"
echo "|---|---|---|"
echo "| master reload counter (\`show proc\`) | $r0 | $r1 |"
echo "| current worker PIDs | $w0 | $w1 |"
echo "| processes in the namespace (\`ip netns pids\`) | $p0 | $p1 |"
echo
echo "reloads over $CHANGES changes: $((r1 - r0)) (target 0)"
echo
echo "| member | weight wanted / HAProxy | state wanted / HAProxy | haproxy.cfg line | ok |"
echo "|---|---|---|---|---|"
printf '%s' "$checks"
echo
node "$BENCH_ROOT/bench/hf-summary.mjs" --times "node -e 0=$BENCH_TMP/node" "lbaas member update … (runtime API, no reload)=$BENCH_TMP/update"
if [ -s "$BENCH_TMP/failures" ]; then
  echo
  echo "failed commands ($(wc -l <"$BENCH_TMP/failures")), not timed:"
  echo
  sed 's/^/    /' "$BENCH_TMP/failures"
fi
echo
node "$BENCH_ROOT/bench/startup-phases.mjs" --runs 10 "$LBAAS_BIN" member update "${members[0]}" --weight 7 -f value -c weight 2>>"$BENCH_TMP/lbaas.log" |
  sed "s#$BENCH_TMP#\$TMP#g"
echo
echo "programs run by one update (LBAAS_DEBUG=1): $(LBAAS_DEBUG=1 "$LBAAS_BIN" member update "${members[0]}" --weight 6 -f value -c weight 2>&1 >/dev/null | grep -c '^lbaas: ' || true)"
