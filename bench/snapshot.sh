#!/usr/bin/env bash
# Builds a private copy of the CLI for benchmarking, so a concurrent `npm run build` in the
# working tree (which starts with `rm -rf dist`) cannot break a run half-way.
#
#   bench/snapshot.sh DIR        copies bin/, commands/, src/, package.json and the tsconfigs
#                                to DIR, links node_modules, compiles and writes the oclif
#                                manifest there; prints DIR/bin/run.js
#
# The other bench scripts call it themselves unless LBAAS_BIN is set:
#   LBAAS_BIN=./bin/run.js bench/startup.sh     measure the working tree's build instead
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:?usage: bench/snapshot.sh DIR}"
mkdir -p "$dir"
rm -rf "$dir/dist" "$dir/commands" "$dir/src" "$dir/bin"
cp -r "$root/bin" "$root/commands" "$root/src" "$dir/"
cp "$root/package.json" "$root/tsconfig.json" "$root/tsconfig.build.json" "$dir/"
ln -sfn "$root/node_modules" "$dir/node_modules"
(
  cd "$dir"
  # The same steps as `npm run build`, without npm's start-up cost.
  node node_modules/typescript/bin/tsc -p tsconfig.build.json
  node node_modules/oclif/bin/run.js manifest >/dev/null
)
echo "$dir/bin/run.js"
