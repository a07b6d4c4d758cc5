#!/usr/bin/env bash
# HA failover figures (issue 15): see bench/ha.mjs for what is measured and how.
#   bench/ha.sh [REPS]      (default 20; needs `npm run build` first; run as root)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
for tool in haproxy keepalived ip socat; do command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }; done
[ -f dist/src/host/ha-peer.js ] || { echo "build first: npm run build" >&2; exit 1; }
exec node bench/ha.mjs "${1:-20}"
