#!/usr/bin/env bash
# The test command: installs and builds what is needed, then runs every test (unit and
# integration against the real haproxy, ip, SQLite and gearmand). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec npx vitest run "$@"
