#!/usr/bin/env bash
# What start-up changes would buy (issue 2): `lbaas pool list -f value -c id` on POOLS
# pools with variants of one private build, next to `node -e 0`, in the same interleaved
# hyperfine runs.
#   as built       the working tree as it is (bin/run.js skips oclif's semver engine check)
#   old bin        bin/run.js as it was before (static import; oclif loads all of semver)
#   bundled cmd    every dist/commands/**/*.js bundled by esbuild with its src/ imports
#                  (node_modules left external): one file instead of ~40–60 ESM modules
#   full bundle    also @oclif/core bundled into one CommonJS file (dist/vendor/oclif-core.cjs)
#                  that bin/run.js and the bundled command files import instead of the
#                  package (~110 files → 1); the plugins still load the package for help
#   no host layer  PROTOTYPE, only valid for read-only commands: dist/src/service/wiring.js
#                  replaced by one that opens the state file and imports nothing from
#                  host/, haproxy/ or the agent code (what a lazily built executor saves)
# Nothing is deployed; no network state is touched.
#
#   bench/experiments/startup-experiments.sh
#   POOLS=1000 ROUNDS=5 RUNS=10 bench/experiments/startup-experiments.sh
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

POOLS="${POOLS:-1000}"
ROUNDS="${ROUNDS:-5}"
RUNS="${RUNS:-10}"
((POOLS >= 1 && POOLS <= 100000 && ROUNDS >= 1 && ROUNDS <= 50 && RUNS >= 2 && RUNS <= 200)) || die "POOLS/ROUNDS/RUNS out of range"
[ -z "${LBAAS_BIN:-}" ] || die "this script builds its own variants; unset LBAAS_BIN"
[ -x "$BENCH_ROOT/node_modules/.bin/esbuild" ] || die "esbuild is not in node_modules (it comes with vitest)"

bench_init startx
cli="$(dirname "$(dirname "$LBAAS_BIN")")"
node "$BENCH_ROOT/bench/seed-state.mjs" "$LBAAS_STATE" "$POOLS" 2 "$cli/dist"

variant() { # variant NAME: a copy of the private build
  local dir="$BENCH_TMP/$1"
  mkdir -p "$dir"
  cp -r "$cli/bin" "$cli/dist" "$cli/package.json" "$cli/oclif.manifest.json" "$dir/"
  ln -s "$BENCH_ROOT/node_modules" "$dir/node_modules"
  echo "$dir"
}

old="$(variant old)"
cat >"$old/bin/run.js" <<'EOF'
#!/usr/bin/env node
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
EOF

# bundle_commands DIR: every command file of DIR bundled with what it imports from src/.
bundle_commands() {
  (
    cd "$1/dist/commands" || exit 1
    find . -name '*.js' | while read -r file; do
      "$BENCH_ROOT/node_modules/.bin/esbuild" "$file" --bundle --platform=node --format=esm --packages=external \
        --log-level=error --outfile="$file.bundle" && mv "$file.bundle" "$file"
    done
  )
}
bundled="$(variant bundled)"
bundle_commands "$bundled"

full="$(variant full)"
mkdir -p "$full/dist/vendor"
"$BENCH_ROOT/node_modules/.bin/esbuild" "$BENCH_ROOT/node_modules/@oclif/core/lib/index.js" --bundle --platform=node \
  --format=cjs --external:typescript --external:ts-node --log-level=error --outfile="$full/dist/vendor/oclif-core.cjs"
cat >"$full/bin/run.js" <<'RUNJS'
#!/usr/bin/env node
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const {execute} = await import('../dist/vendor/oclif-core.cjs')
await execute({dir: import.meta.url})
RUNJS
bundle_commands "$full"
(
  cd "$full/dist/commands" || exit 1
  find . -name '*.js' | while read -r file; do
    depth="$(tr -cd '/' <<<"$file" | wc -c)"
    up="$(printf '../%.0s' $(seq 1 "$depth"))"
    sed -i -e "s#from \"@oclif/core\"#from \"${up}vendor/oclif-core.cjs\"#g" \
      -e "s#import(\"@oclif/core\")#import(\"${up}vendor/oclif-core.cjs\")#g" "$file"
  done
)

nohost="$(variant nohost)"
cat >"$nohost/dist/src/service/wiring.js" <<'EOF'
// PROTOTYPE for bench/experiments/startup-experiments.sh: read-only commands only.
import { resolve } from 'node:path';
import { openStore } from '../store/db.js';
import { defaultRunDir, defaultStatePath } from './context.js';
export function openAppContext(options) {
    const statePath = resolve(options.state ?? defaultStatePath());
    const runDir = resolve(options.runDir ?? defaultRunDir(statePath));
    const store = openStore(statePath);
    const missing = () => { throw new Error('prototype: no executor'); };
    return { store, statePath, runDir, executorFor: missing, get localExecutor() { return missing(); },
        withPoolLock: missing, safeConnectionLimit: () => 0, notify: options.notify };
}
EOF

for dir in "$old" "$bundled" "$full" "$nohost"; do
  [ "$("$dir/bin/run.js" pool list -f value -c id | wc -l)" = "$POOLS" ] || die "variant $dir does not list $POOLS pools"
done

echo "## Start-up experiments ($(date -u +%F), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "\`pool list -f value -c id\` on $POOLS pools; hyperfine -N, $ROUNDS rounds × $RUNS runs:"
echo
hf_interleaved "$BENCH_TMP/x" "$ROUNDS" "$RUNS" \
  -n 'node -e 0' 'node -e 0' \
  -n 'as built' "$LBAAS_BIN pool list -f value -c id" \
  -n 'old bin/run.js (semver engine check)' "$old/bin/run.js pool list -f value -c id" \
  -n 'bundled command files' "$bundled/bin/run.js pool list -f value -c id" \
  -n 'full bundle (oclif core + command files)' "$full/bin/run.js pool list -f value -c id" \
  -n 'prototype: no host layer in wiring' "$nohost/bin/run.js pool list -f value -c id" \
  -n 'as built: --version' "$LBAAS_BIN --version" \
  -n 'old bin/run.js: --version' "$old/bin/run.js --version" \
  -n 'full bundle: --version' "$full/bin/run.js --version"
