#!/usr/bin/env bash
# Installs what lbaas needs on a fresh Debian/Ubuntu host (run as root), then builds it.
# Safe to run twice: packages already present are not fetched again, and `npm install` and the
# build are repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(haproxy iproute2 iputils-arping gearman-job-server gearman-tools keepalived prometheus nghttp2-client wrk socat tmux curl openssl hyperfine)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v node >/dev/null || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "setup: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# better-sqlite3 compiles from source here (about 60 s) when no prebuilt binary is reachable.
# `npm install` rather than `npm ci`: npm 11 against this registry mirror writes a lock file
# without the other platforms' optional packages (rollup's), and `npm ci` then refuses it
# as out of sync; `npm install` installs the same locked versions.
if [ ! -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install" >&2
  npm install --no-audit --no-fund --loglevel=error
fi
echo "setup: build" >&2
npm run --silent build
