#!/usr/bin/env bash
# Import cost of execa (issue 11 item 7): `await import()` of the package and of the build's
# esbuild bundle (dist/vendor/execa.js), each in a fresh `node`, next to `node -e 0`,
# alternating, R times; prints medians in ms (import: inside the process; wall: whole process).
#   R=9 bench/experiments/execa-import.sh      (run `npm run build` first)
set -euo pipefail
cd "$(dirname "$0")/../.."
R=${R:-9}
probe() { node --input-type=module -e "const t = performance.now(); await import('$1'); process.stdout.write((performance.now() - t).toFixed(1))"; }
wall() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
declare -a pkg bundle pkgw bundlew zero
for ((i = 0; i < R; i++)); do
  pkg+=("$(probe execa)"); bundle+=("$(probe ./dist/vendor/execa.js)")
  pkgw+=("$(wall probe execa)"); bundlew+=("$(wall probe ./dist/vendor/execa.js)"); zero+=("$(wall node -e 0)")
done
echo "R=$R  load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "import('execa')                  import $(printf '%s\n' "${pkg[@]}" | median) ms   wall $(printf '%s\n' "${pkgw[@]}" | median) ms"
echo "import('./dist/vendor/execa.js') import $(printf '%s\n' "${bundle[@]}" | median) ms   wall $(printf '%s\n' "${bundlew[@]}" | median) ms"
echo "node -e 0                                      wall $(printf '%s\n' "${zero[@]}" | median) ms"
