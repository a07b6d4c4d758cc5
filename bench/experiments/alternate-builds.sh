#!/usr/bin/env bash
# Two builds of the CLI in one alternating loop (issue 11 item 7): `vip create` (returns),
# `member create` (a reload), `member delete` and `--version` for each build, then
# `node -e 0`, ROUNDS times; medians. Each build gets its own state file, run dir and lab,
# since an older build refuses a newer state file.
#
#   NEW_BIN=./bin/run.js OLD_BIN=/tmp/old/bin/run.js bench/experiments/alternate-builds.sh
#   (an old build: git archive REV | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/
#    && /tmp/old/bench/snapshot.sh /tmp/old-cli  → OLD_BIN=/tmp/old-cli/bin/run.js)
#
# CIDR (default 198.19.236.0/23): the new build's lab on the first /24, the old one's on the second.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
ROUNDS="${ROUNDS:-9}"
CIDR="${CIDR:-198.19.236.0/23}"
[[ "$ROUNDS" =~ ^[0-9]+$ ]] && ((ROUNDS >= 1 && ROUNDS <= 50)) || die "ROUNDS must be 1–50"
[[ "$CIDR" =~ ^198\.(18|19)\.([0-9]+)\.0/23$ ]] && ((BASH_REMATCH[2] % 2 == 0 && BASH_REMATCH[2] <= 254)) || die "CIDR must be a /23 inside 198.18.0.0/15"
[ -x "${NEW_BIN:-}" ] && [ -x "${OLD_BIN:-}" ] || die "set NEW_BIN and OLD_BIN to two builds' bin/run.js"
LBAAS_BIN="$NEW_BIN" BENCH_REQUIRES="haproxy ip" bench_init alternate
require_free_cidr "$CIDR"
IFS=. read -r o1 o2 o3 _ <<<"${CIDR%/*}"
declare -A bin=([new]="$NEW_BIN" [old]="$OLD_BIN") net=([new]="$o1.$o2.$o3" [old]="$o1.$o2.$((o3 + 1))")
as() { local build="$1"; shift; LBAAS_STATE="$BENCH_TMP/$build/state.db" LBAAS_RUN_DIR="$BENCH_TMP/$build/run" "${bin[$build]}" "$@"; }
# lib.sh's cleanup_state for one build: its CLI deletes, then its run dir's processes and namespaces by name.
remove_build() { LBAAS_STATE="$BENCH_TMP/$1/state.db" LBAAS_RUN_DIR="$BENCH_TMP/$1/run" LBAAS_BIN="${bin[$1]}" BENCH_LABS="alt-$1" cleanup_state; }
for build in new old; do
  mkdir -p "$BENCH_TMP/$build"
  on_exit "remove_build $build"
  as "$build" lab up --subnet "alt-$build" --cidr "${net[$build]}.0/24" --backends 2 >/dev/null
  as "$build" pool create --name "alt-$build" --subnet "alt-$build" --protocol HTTP --lb-method ROUND_ROBIN >/dev/null
  as "$build" member create "alt-$build" --address "${net[$build]}.11" --protocol-port 8000 >/dev/null
done
ms() { local t0 t1; t0="$(now_us)"; "$@" >/dev/null 2>"$BENCH_TMP/last.err" || echo "failed: $* ($(tail -1 "$BENCH_TMP/last.err"))" >>"$BENCH_TMP/errors.log"; t1="$(now_us)"; echo $(((t1 - t0) / 1000)); }
declare -A samples=()
for ((r = 1; r <= ROUNDS; r++)); do
  for build in new old; do
    as "$build" vip delete "alt-$build" --yes >/dev/null 2>&1 || true
    samples[$build vip]+=" $(ms as "$build" vip create "alt-$build" --name "alt-$build" --subnet "alt-$build" --protocol HTTP --protocol-port 80 --address "${net[$build]}.100")"
    samples[$build member]+=" $(ms as "$build" member create "alt-$build" --address "${net[$build]}.12" --protocol-port 8000)"
    for id in $(as "$build" member list -f value -c id -c address | awk -v a="${net[$build]}.12" '$2 == a {print $1}'); do as "$build" member delete "$id" --yes >/dev/null; done
    samples[$build version]+=" $(ms "${bin[$build]}" --version)"
  done
  samples[node]+=" $(ms node -e 0)"
done
[ -s "$BENCH_TMP/errors.log" ] && log "errors: $(cat "$BENCH_TMP/errors.log")"
m() { tr ' ' '\n' <<<"$1" | grep . | median; }
echo "| command | new ($("$NEW_BIN" --version | cut -d' ' -f1)) | old | node -e 0 |"
echo "|---|---|---|---|"
echo "| vip create (returns) | $(m "${samples[new vip]}") | $(m "${samples[old vip]}") | $(m "${samples[node]}") |"
echo "| member create (reload) | $(m "${samples[new member]}") | $(m "${samples[old member]}") | |"
echo "| --version | $(m "${samples[new version]}") | $(m "${samples[old version]}") | |"
echo "(medians of $ROUNDS, ms; load average $(cut -d' ' -f1-3 /proc/loadavg))"
