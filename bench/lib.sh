# Shared helpers of the bench/*.sh scripts (sourced, not run).
#
# bench_init NAME     private temp dir (state file, run dir), a private build of the CLI
#                     (bench/snapshot.sh) unless LBAAS_BIN is set, and an EXIT trap that
#                     runs the registered cleanups (last registered first) and removes
#                     everything this run created.
# lbaas ARGS...       the CLI under test, on this run's state file and run dir; its stderr
#                     goes to the run's lbaas.log, or to LBAAS_TRACE_TO (with LBAAS_DEBUG=1:
#                     every program it ran, with its duration).
# on_exit 'CMD'       registers a cleanup command.
# now_us              wall clock in microseconds (bash's EPOCHREALTIME: no fork).
# hf_interleaved ...  hyperfine -N in rounds, summarised by bench/hf-summary.mjs.
#
# Everything a script creates carries names unique to the run, uses 198.18.0.0/15 only,
# and is removed on exit; only processes this run started are ever signalled.

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_CLEANUPS=()

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

now_us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }

on_exit() { BENCH_CLEANUPS+=("$1"); }

bench_run_cleanups() {
  local status=$? i
  trap - EXIT INT TERM
  set +e
  if ((status != 0)) && [ -s "${BENCH_TMP:-}/lbaas.log" ]; then
    log "failed (exit $status); last lines of the CLI's stderr:"
    tail -n 8 "$BENCH_TMP/lbaas.log" >&2
  fi
  log "cleaning up"
  for ((i = ${#BENCH_CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${BENCH_CLEANUPS[i]}" >/dev/null 2>&1 </dev/null
  done
  exit "$status"
}

# Median (and more) of numbers, one per line on stdin: prints "median p25 p75 min max n".
stats() {
  sort -n | awk '{v[NR] = $1} END {
    if (NR == 0) { print "nan nan nan nan nan 0"; exit }
    printf "%s %s %s %s %s %d\n", qt(0.5), qt(0.25), qt(0.75), v[1], v[NR], NR
  }
  function qt(q,   p, lo, hi) { p = (NR - 1) * q; lo = int(p); hi = (lo == p) ? lo : lo + 1; return v[lo + 1] + (v[hi + 1] - v[lo + 1]) * (p - lo) }'
}
median() { stats | awk '{print $1}'; }

bench_init() {
  local name="$1"
  [ "$(id -u)" = 0 ] || die "run as root (namespaces, veths, HAProxy)"
  for tool in ${BENCH_REQUIRES:-hyperfine haproxy ip curl socat}; do command -v "$tool" >/dev/null || die "$tool is not installed (see scripts/setup.sh)"; done
  # ≤ 46 bytes for the run dir: HAProxy's socket paths under it must fit sun_path.
  BENCH_TMP="$(mktemp -d "/tmp/lb${name:0:4}.XXXXXX")"
  export LBAAS_STATE="$BENCH_TMP/state.db" LBAAS_RUN_DIR="$BENCH_TMP/run"
  on_exit "rm -rf '$BENCH_TMP'"
  trap bench_run_cleanups EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  trap 'exit 141' PIPE
  if [ -z "${LBAAS_BIN:-}" ]; then
    log "building a private copy of the CLI (bench/snapshot.sh; set LBAAS_BIN to skip)"
    LBAAS_BIN="$("$BENCH_ROOT/bench/snapshot.sh" "$BENCH_TMP/cli" 2>/dev/null | tail -1)"
  fi
  LBAAS_BIN="$(cd "$(dirname "$LBAAS_BIN")" && pwd)/$(basename "$LBAAS_BIN")"
  export LBAAS_BIN
  LBAAS_DIST="$(dirname "$(dirname "$LBAAS_BIN")")/dist"
  log "CLI: $LBAAS_BIN ($("$LBAAS_BIN" --version)); state: $LBAAS_STATE"
}

# bench_lab PREFIX: names this run's objects ($tag: 5 characters unique to the run; $LAB:
# the lab subnet PREFIX-$tag) and removes everything the run deployed on exit.
bench_lab() {
  tag="$(basename "$BENCH_TMP" | cut -d. -f2 | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9' | cut -c1-5)"
  LAB="$1-$tag"
  BENCH_LABS="$LAB"
  on_exit cleanup_state
}

# Progress lines go to $BENCH_TMP/lbaas.log (shown when the script fails), data to stdout.
lbaas() { "$LBAAS_BIN" "$@" 2>>"${LBAAS_TRACE_TO:-$BENCH_TMP/lbaas.log}"; }

# Refuses to run on a CIDR some interface of the host already uses (another run, a test),
# and claims its /24s in the registry the tests use (test/helpers/unique.ts: a directory
# per /24 under /tmp/lbaas-test-cidrs holding the owner's PID), so that no test picks
# them while the benchmark runs; the claims go on exit.
BENCH_CIDR_CLAIMS=/tmp/lbaas-test-cidrs
require_free_cidr() {
  local cidr="$1" o1 o2 o3 bits count i n base claim owner
  IFS=. read -r o1 o2 o3 _ <<<"${cidr%/*}"
  bits="${cidr#*/}"
  ((bits >= 16 && bits <= 24)) || die "require_free_cidr: /16–/24 only ($cidr)"
  count=$((1 << (24 - bits)))
  mkdir -p -m 0700 "$BENCH_CIDR_CLAIMS"
  for ((i = 0; i < count; i++)); do
    n=$(((o2 << 8) + o3 + i))
    base="$o1.$((n >> 8)).$((n & 255))"
    if ip -o -4 addr show | grep -qF " $base."; then
      die "addresses in $base.0/24 are already in use on this host (another run?); pick another with CIDR=…"
    fi
    claim="$BENCH_CIDR_CLAIMS/$base"
    if ! mkdir "$claim" 2>/dev/null; then
      owner="$(cat "$claim/pid" 2>/dev/null || true)"
      if [ -n "$owner" ] && [ -e "/proc/$owner" ] && [ "$(awk '{sub(/^.*\) /, ""); print $1}' "/proc/$owner/stat" 2>/dev/null)" != Z ]; then
        die "$base.0/24 is claimed by PID $owner (a test or another benchmark); pick another with CIDR=…"
      fi
      rm -rf "$claim"
      mkdir "$claim" || die "cannot claim $base.0/24"
    fi
    echo $$ >"$claim/pid"
    on_exit "rm -rf '$claim'"
  done
}

# Removes what the CLI deployed from this run's state (VIPs, pools, labs, subnets), then,
# as a fallback, ends HAProxy and lab processes that belong to this run's run dir and
# deletes the namespaces of this run's pools. Registered by scripts that deploy.
cleanup_state() {
  [ -f "$LBAAS_STATE" ] || return 0
  local id
  for id in $(timeout 60 "$LBAAS_BIN" vip list -f value -c id 2>/dev/null); do timeout 60 "$LBAAS_BIN" vip delete "$id" --yes >/dev/null 2>&1; done
  for id in $(timeout 60 "$LBAAS_BIN" pool list -f value -c id 2>/dev/null); do timeout 60 "$LBAAS_BIN" pool delete "$id" --yes >/dev/null 2>&1; done
  for id in ${BENCH_LABS:-}; do timeout 120 "$LBAAS_BIN" lab down --subnet "$id" --yes >/dev/null 2>&1; done
  for id in $(timeout 60 "$LBAAS_BIN" subnet list -f value -c id 2>/dev/null); do timeout 60 "$LBAAS_BIN" subnet delete "$id" --yes >/dev/null 2>&1; done
  kill_run_dir_processes >/dev/null
  local dir
  for dir in "$LBAAS_RUN_DIR"/*-*-*-*-*/; do
    [ -d "$dir" ] || continue
    id="$(basename "$dir")"
    ip netns del "lbaas-$id" 2>/dev/null
  done
}

# stop_by_hand DIR NAMESPACE: stops an HAProxy master started by bench/deploy-by-hand.sh
# (by the PID in DIR/haproxy.pid, checked against its command line; the master takes its
# workers down) and deletes its namespace (the veth goes with it).
stop_by_hand() {
  local dir="$1" ns="$2" pid tries=0
  pid="$(head -1 "$dir/haproxy.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && grep -q "$dir" "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    # PID 1 here reaps late: a zombie counts as gone.
    while ((tries++ < 200)) && [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do sleep 0.01; done
  fi
  ip netns del "$ns" 2>/dev/null || true
}

# deploy_by_hand MODE NAME ADDRESS VETH [node]: the configuration $HAND_TEMPLATE (with @DIR@
# and @ADDRESS@ in it) deployed by bench/deploy-by-hand.sh MODE under $HAND/NAME, in
# namespace lbhand-$HAND_TAG-NAME, at ADDRESS/$HAND_PREFIX on $HAND_BRIDGE via $HAND_GATEWAY;
# prints the milliseconds until its first 200 (with a bare `node -e 0` first when the
# fifth argument is `node`). Stop it with stop_by_hand.
deploy_by_hand() {
  local mode="$1" name="$2" address="$3" veth="$4" dir="$HAND/$2" t0
  mkdir -p "$dir"
  sed -e "s#@DIR@#$dir#g" -e "s#@ADDRESS@#$address#" "$HAND_TEMPLATE" >"$dir/haproxy.cfg"
  t0="$(now_us)"
  [ "${5:-}" = node ] && node -e 0
  "$BENCH_ROOT/bench/deploy-by-hand.sh" "$mode" "lbhand-$HAND_TAG-$name" "$veth" "$HAND_BRIDGE" "$address/$HAND_PREFIX" "$HAND_GATEWAY" \
    "$dir/haproxy.cfg" "$dir" 2>>"$BENCH_TMP/hand.log"
  wait_http "http://$address/" 500 >/dev/null || die "no 200 from the by-hand VIP $address"
  echo $((($(now_us) - t0) / 1000))
}

# by_hand_area TAG: $HAND, where a script keeps its deploy-by-hand.sh runs (one DIR each,
# with namespace lbhand-TAG-<DIR's name>); every one of them is stopped on exit.
by_hand_area() {
  HAND="$BENCH_TMP/hand" HAND_TAG="$1"
  mkdir -p "$HAND"
  on_exit stop_every_by_hand
}
stop_every_by_hand() {
  local dir
  for dir in "$HAND"/*/; do [ -d "$dir" ] && stop_by_hand "${dir%/}" "lbhand-$HAND_TAG-$(basename "$dir")"; done
  return 0
}

# kill_processes_naming DIR: SIGKILLs every process whose command line names DIR/ (a dir of
# this run: only this run can have started them); prints how many it signalled.
kill_processes_naming() {
  local dir="$1" proc cmd killed=0
  for proc in /proc/[0-9]*; do
    cmd="$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline")" || continue
    case "$cmd" in *"$dir/"*) kill -KILL "${proc#/proc/}" 2>/dev/null && killed=$((killed + 1)) ;; esac
  done
  echo "$killed"
}

# The processes of this run's run dir: HAProxy with its config there, lab backends with
# their control dir there.
kill_run_dir_processes() {
  if [ -n "${LBAAS_RUN_DIR:-}" ]; then kill_processes_naming "$LBAAS_RUN_DIR"; else echo 0; fi
}

# hf_interleaved PREFIX ROUNDS RUNS CMD...: hyperfine -N, ROUNDS rounds of RUNS runs per
# command, commands alternating between rounds; prints the Markdown summary.
hf_interleaved() {
  local prefix="$1" rounds="$2" runs="$3" round
  shift 3
  local files=()
  for ((round = 1; round <= rounds; round++)); do
    hyperfine -N --warmup 2 --runs "$runs" --export-json "$prefix.$round.json" "$@" >/dev/null 2>&1 ||
      die "hyperfine failed: $*"
    files+=("$prefix.$round.json")
  done
  node "$BENCH_ROOT/bench/hf-summary.mjs" "${files[@]}"
}

# wait_http URL [MAX_TRIES]: polls until the URL answers 200 (curl, 1 s timeout per try).
# Prints the number of tries; fails after MAX_TRIES (default 2000).
wait_http() {
  local url="$1" max="${2:-2000}" tries=0 code
  while ((tries < max)); do
    tries=$((tries + 1))
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null)"
    [ "$code" = 200 ] && { echo "$tries"; return 0; }
  done
  return 1
}

# member_at POOL ADDRESS: the id of the pool's member at ADDRESS (any port), if any.
member_at() {
  "$LBAAS_BIN" member list --pool "$1" -f value -c id -c address 2>>"$BENCH_TMP/lbaas.log" | awk -v a="$2" '$2 == a {print $1; exit}'
}

# RSS and PSS (kB) of a process: "rss pss private".
mem_of() {
  local pid="$1" rss pss priv
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)"
  read -r pss priv < <(awk '/^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {q += $2} END {print p, q}' "/proc/$pid/smaps_rollup" 2>/dev/null)
  echo "${rss:-0} ${pss:-0} ${priv:-0}"
}

# Children of a PID (field 4 of /proc/*/stat), in pure bash: processes come and go while
# it reads, and a fork per process would cost seconds with hundreds of them.
children_of() {
  local parent="$1" file line state ppid
  for file in /proc/[0-9]*/stat; do
    { read -r line <"$file"; } 2>/dev/null || continue
    read -r state ppid _ <<<"${line##*) }"
    [ "$ppid" = "$parent" ] && echo "${file//[^0-9]/}"
  done
  return 0
}

# The HAProxy processes of one deployed pool: master (pid file) and its workers.
pool_haproxy_pids() {
  local pool="$1" master
  master="$(cat "$LBAAS_RUN_DIR/$pool/haproxy.pid" 2>/dev/null | head -1)"
  [ -n "$master" ] || return 0
  echo "$master"
  children_of "$master"
}

# The master's reload counter of a deployed pool (`show proc` on its master socket);
# retries while the master re-executes itself during a reload.
master_reloads() {
  local pool="$1" tries=0 answer
  while ((tries++ < 50)); do
    answer="$(echo "show proc" | socat -t 2 - "UNIX-CONNECT:$LBAAS_RUN_DIR/$pool/master.sock" 2>/dev/null)" &&
      [ -n "$answer" ] && { awk '$2 == "master" {print $3; exit}' <<<"$answer"; return 0; }
    sleep 0.05
  done
  return 1
}

# Current (not old) worker PIDs of a deployed pool, from `show proc`.
current_workers() {
  local pool="$1"
  echo "show proc" | socat -t 2 - "UNIX-CONNECT:$LBAAS_RUN_DIR/$pool/master.sock" 2>/dev/null |
    awk '/^# workers/ {w = 1; next} /^#/ {w = 0} w && $2 == "worker" {print $1}'
}

# wrk_failures FILE: "socket_errors non2xx requests rps" from a wrk report.
wrk_failures() {
  awk '
    /Socket errors:/ { gsub(/,/, ""); s = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { n = $5 }
    /requests in/ { r = $1 }
    /Requests\/sec:/ { q = $2 }
    END { printf "%d %d %d %s\n", s, n, r, q }' "$1"
}
