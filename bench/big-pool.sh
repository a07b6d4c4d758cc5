#!/usr/bin/env bash
# A pool of 1,000 members (issue 6): render, validate and reload, each next to the same
# figure for a 2-member pool measured in the same run.
#
#  1. Two pools on one lab subnet: "small" with 2 members at the lab backends, "big" with
#     MEMBERS members, 5 of them at the lab backends and the rest at unused addresses of
#     the subnet (bench/add-members.mjs: the service layer with nothing deployed, as the
#     pool has no VIP yet; `member create` × 1,000 would only time start-ups).
#  2. Render: bench/render-time.mjs, in a fresh process per pool: state read + view + text,
#     the first (cold) round and the median of 50 warm ones.
#  3. First deploy: `lbaas vip create` of each pool; HAProxy's own view checked (`show
#     servers state` on the stats socket lists every member).
#  4. Validate: `haproxy -c -q` on each deployed configuration in its namespace
#     (hyperfine -N, 2 interleaved rounds of RUNS runs).
#  5. Reload: `lbaas member create` then `member delete` on each pool, REPS times, in turn
#     (each is render + `haproxy -c` + master-worker reload until the new worker answers);
#     the command's wall time and its own step timings (validate, reload). The master's
#     reload counter must grow by 2 per repetition.
#  6. Runtime change: `lbaas member update --weight` (no reload), REPS times each.
#  7. Memory of each pool's HAProxy (RSS / PSS / private).
#
#   bench/big-pool.sh                           1,000 members, REPS=8, RUNS=10
#   MEMBERS=500 REPS=4 bench/big-pool.sh
#   LBAAS_BIN=./bin/run.js bench/big-pool.sh    measure the working tree's build
#
# Lab subnet on CIDR (default 198.19.212.0/22): backends .11–.15, VIPs .16 and .17, the
# big pool's other members from .20 on. Everything is removed on exit; only processes
# this script started are signalled.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

MEMBERS="${MEMBERS:-1000}"
REPS="${REPS:-8}"
RUNS="${RUNS:-10}"
CIDR="${CIDR:-198.19.212.0/22}"
((MEMBERS >= 5 && MEMBERS <= 1000 && REPS >= 1 && REPS <= 50 && RUNS >= 2 && RUNS <= 50)) || die "MEMBERS 5–1000, REPS 1–50, RUNS 2–50"
[[ "$CIDR" =~ ^198\.(18|19)\.[0-9]+\.0/22$ ]] || die "CIDR must be a /22 inside 198.18.0.0/15"

bench_init bigp
require_free_cidr "$CIDR"
bench_lab bbig

IFS=. read -r o1 o2 o3 _ <<<"${CIDR%/*}"
net="$o1.$o2.$o3"
: >"$BENCH_TMP/failures"
fail() { echo "$1: $(grep '^error:' "$BENCH_TMP/lbaas.log" | tail -1)" >>"$BENCH_TMP/failures"; }

log "lab: $LAB on $CIDR with 5 backends"
lbaas lab up --subnet "$LAB" --cidr "$CIDR" --backends 5 >/dev/null
declare -A pool=() vip=()
for size in small big; do
  pool[$size]="$(lbaas pool create --name "bench-$size-$tag" --subnet "$LAB" --protocol HTTP --lb-method ROUND_ROBIN -f value -c id)"
done
vip[small]="$net.16" vip[big]="$net.17"
lbaas member create "${pool[small]}" --address "$net.11" --protocol-port 8000 >/dev/null
lbaas member create "${pool[small]}" --address "$net.12" --protocol-port 8000 >/dev/null
for ((b = 11; b <= 15; b++)); do lbaas member create "${pool[big]}" --address "$net.$b" --protocol-port 8000 >/dev/null; done
log "adding $((MEMBERS - 5)) more members to the big pool (bench/add-members.mjs)"
node "$BENCH_ROOT/bench/add-members.mjs" "$LBAAS_STATE" "${pool[big]}" $((MEMBERS - 5)) "$net.20" 8000 "$LBAAS_DIST" 2>>"$BENCH_TMP/lbaas.log"
declare -A members=()
for size in small big; do members[$size]="$(lbaas member list --pool "${pool[$size]}" -f value -c id | wc -l)"; done
[ "${members[big]}" = "$MEMBERS" ] || die "the big pool has ${members[big]} members, not $MEMBERS"

declare -A figure=()
log "render"
for size in small big; do
  read -r _ cold warm bytes < <(node "$BENCH_ROOT/bench/render-time.mjs" "$LBAAS_STATE" "${pool[$size]}" --runs 50 --dist "$LBAAS_DIST")
  figure[render|$size]="$cold / $warm"
  figure[bytes|$size]="$bytes"
done

log "first deploy"
for size in small big; do
  t0="$(now_us)"
  lbaas vip create "${pool[$size]}" --name "bench-$size-$tag" --protocol HTTP --protocol-port 80 --subnet "$LAB" --address "${vip[$size]}" >/dev/null ||
    die "vip create $size failed: $(tail -3 "$BENCH_TMP/lbaas.log")"
  figure[deploy|$size]="$((($(now_us) - t0) / 1000))"
  servers="$(echo "show servers state" | socat -t 5 - "UNIX-CONNECT:$LBAAS_RUN_DIR/${pool[$size]}/stats.sock" | awk 'NR > 2 && NF > 5' | wc -l)"
  figure[servers|$size]="$servers"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://${vip[small]}/")" = 200 ] || die "the small pool's VIP does not answer 200"

log "haproxy -c"
config_of() { echo "$LBAAS_RUN_DIR/${pool[$1]}/haproxy.cfg"; }
hf_interleaved "$BENCH_TMP/check" 2 "$RUNS" \
  -n "haproxy -c, $MEMBERS members" "ip netns exec lbaas-${pool[big]} haproxy -c -q -f $(config_of big)" \
  -n 'haproxy -c, 2 members' "ip netns exec lbaas-${pool[small]} haproxy -c -q -f $(config_of small)" >"$BENCH_TMP/check.md"
mapfile -t medians < <(awk -F'|' 'NR > 2 && NF > 3 {gsub(/ /, "", $3); print $3}' "$BENCH_TMP/check.md")
figure[check|big]="${medians[0]}" figure[check|small]="${medians[1]}"

# step_ms TITLE LOG: the duration the CLI printed for one of its steps ("ok   TITLE (N ms)").
step_ms() { grep -F "ok   $1 (" "$2" | tail -1 | sed -E 's/.*\(([0-9.]+) ms\)$/\1/'; }

log "reload: member create + member delete × $REPS on each pool"
for size in small big; do
  : >"$BENCH_TMP/$size-create" && : >"$BENCH_TMP/$size-delete" && : >"$BENCH_TMP/$size-validate" && : >"$BENCH_TMP/$size-reload" && : >"$BENCH_TMP/$size-weight"
  figure[reloads_before|$size]="$(master_reloads "${pool[$size]}")"
done
declare -A reweighted=()
for size in small big; do reweighted[$size]="$(lbaas member list --pool "${pool[$size]}" -f value -c id | head -1)"; done
for ((r = 0; r < REPS; r++)); do
  for size in $( ((r % 2)) && echo "big small" || echo "small big"); do
    t0="$(now_us)"
    if member="$("$LBAAS_BIN" member create "${pool[$size]}" --address "$net.11" --protocol-port 8001 -f value -c id 2>"$BENCH_TMP/step.log")"; then
      echo $((($(now_us) - t0) / 1000)) >>"$BENCH_TMP/$size-create"
      step_ms 'validate the configuration (haproxy -c)' "$BENCH_TMP/step.log" >>"$BENCH_TMP/$size-validate"
      step_ms 'reload HAProxy without dropping connections' "$BENCH_TMP/step.log" >>"$BENCH_TMP/$size-reload"
    else
      cat "$BENCH_TMP/step.log" >>"$BENCH_TMP/lbaas.log"
      fail "member create ($size)"
      member="$(member_at "${pool[$size]}" "$net.11" | head -1)"
    fi
    t0="$(now_us)"
    lbaas member delete "$member" --yes >/dev/null && echo $((($(now_us) - t0) / 1000)) >>"$BENCH_TMP/$size-delete" || fail "member delete ($size)"
    t0="$(now_us)"
    lbaas member update "${reweighted[$size]}" --weight $((2 + r % 5)) >/dev/null &&
      echo $((($(now_us) - t0) / 1000)) >>"$BENCH_TMP/$size-weight" || fail "member update ($size)"
  done
done
for size in small big; do
  figure[reloads|$size]="$(($(master_reloads "${pool[$size]}") - figure[reloads_before|$size])) (expected $((2 * REPS)))"
  for what in create delete validate reload weight; do figure[$what|$size]="$(median <"$BENCH_TMP/$size-$what")"; done
done

log "memory"
sleep 2
for size in small big; do
  rss=0 pss=0 priv=0
  while read -r pid; do
    read -r r p v < <(mem_of "$pid")
    rss=$((rss + r)) pss=$((pss + p)) priv=$((priv + v))
  done < <(pool_haproxy_pids "${pool[$size]}")
  figure[memory|$size]="$(awk -v a="$rss" -v b="$pss" -v c="$priv" 'BEGIN {printf "%.1f / %.1f / %.1f", a / 1024, b / 1024, c / 1024}')"
done

row() { echo "| $1 | ${figure[$2|big]} | ${figure[$2|small]} |"; }
echo "## A pool of $MEMBERS members ($(date -u +%F), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| | $MEMBERS members | 2 members (baseline) |"
echo "|---|---|---|"
row "configuration size, bytes" bytes
row "render in process (state read + view + text): cold / warm median, ms" render
row "first deploy, \`vip create\` wall, ms" deploy
row "servers in HAProxy after it (\`show servers state\`)" servers
row "\`haproxy -c\` in the namespace (hyperfine median), ms" check
row "\`member create\` (render + \`haproxy -c\` + reload), wall median, ms" create
row "… its \`haproxy -c\` step, median ms" validate
row "… its reload step (until the new worker answers), median ms" reload
row "\`member delete\` (also a reload), wall median, ms" delete
row "\`member update --weight\` (runtime API, no reload), wall median, ms" weight
row "master's reload counter, growth over the run" reloads
row "HAProxy memory, RSS / PSS / private, MB" memory
echo
echo "$REPS repetitions each, the two pools in turn; \`haproxy -c\`: 2 interleaved rounds × $RUNS runs."
if [ -s "$BENCH_TMP/failures" ]; then
  echo
  echo "failed commands ($(wc -l <"$BENCH_TMP/failures")):"
  echo
  sed 's/^/    /' "$BENCH_TMP/failures"
fi
