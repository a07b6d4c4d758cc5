#!/usr/bin/env bash
# The main job on a fresh machine: installs and builds what lbaas needs (scripts/setup.sh),
# then runs `lbaas demo` — lab up → pool → members → HTTP monitor → associate → VIP →
# traffic → failover → recovery → the commands it ran → cleanup. Run as root.
#
# It uses the state file every later `lbaas` command uses (LBAAS_STATE, default
# /var/lib/lbaas/state.db), so what it prints can be pasted as is. It refuses to touch a
# lab subnet your own pools use, removes only what it created, and leaves the host as it
# found it, so it is safe to run twice. Extra arguments go to `lbaas demo` (e.g. --keep,
# --subnet NAME --cidr CIDR).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (network namespaces, bridges, HAProxy): sudo $0 $*" >&2
  exit 2
fi
./scripts/setup.sh
exec ./bin/run.js demo "$@"
