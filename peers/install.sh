#!/usr/bin/env bash
# Installs the Node test peers (npm ci in every peers/<name> folder that has a package-lock.json).
# A folder is skipped when its node_modules is up to date, i.e. node_modules/.package-lock.json
# (written by npm) exists and is not older than package-lock.json. FORCE=1 reinstalls everything.
# Usage: peers/install.sh [name...]      (default: all peers)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "peers/install.sh: node and npm are required (Node.js 20 or newer)" >&2
  exit 1
fi

if [ "$#" -gt 0 ]; then
  names=("$@")
else
  names=()
  for lock in "$here"/*/package-lock.json; do
    [ -e "$lock" ] || continue
    names+=("$(basename "$(dirname "$lock")")")
  done
fi

for name in "${names[@]}"; do
  dir="$here/$name"
  if [ ! -f "$dir/package-lock.json" ]; then
    echo "peers/install.sh: no package-lock.json in peers/$name" >&2
    exit 1
  fi
  marker="$dir/node_modules/.package-lock.json"
  if [ "${FORCE:-0}" != "1" ] && [ -f "$marker" ] && [ ! "$dir/package-lock.json" -nt "$marker" ]; then
    echo "peers/$name: up to date"
    continue
  fi
  echo "peers/$name: npm ci"
  (cd "$dir" && npm ci --no-audit --no-fund)
done
