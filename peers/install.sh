#!/usr/bin/env bash
# Installs the test peers. Every kind is idempotent and fast when already installed:
#   * npm peers (every peers/<name> folder with a package-lock.json: node4, node2, deno, bun):
#     `npm ci`; skipped when node_modules/.package-lock.json (written by npm) exists and is not older
#     than package-lock.json.
#   * Go peers (every peers/<name> folder with a go.mod: go-zishang-v3, go-zishang-v2,
#     go-googollee; nested modules, not part of the siokit module): `go build -o bin/<name> .`;
#     skipped when bin/<name> is newer than go.mod, go.sum and every *.go file.
#   * python: Debian's python3-socketio, python3-engineio and python3-aiohttp via apt-get
#     (apt-get update first); skipped when dpkg has them installed.
#   * chromium: Debian's headless-capable chromium via apt-get, for the tests that open the HTML
#     reports in a real browser (internal/testpeer.OpenPage); skipped when installed.
#   * cluster: Debian's nginx, haproxy and redis-server the same way (the proxies and the adapter's
#     Redis in front of / behind the cluster nodes), then `npm ci` like the other npm peers.
#   * clients: the client peers of peers/clients/ (sioconform's client contract): `npm ci` in
#     clients/js (socket.io-client 4.8.4 and 2.5.0, Deno, Bun), `go build` of the nested module
#     clients/go-zishang-v3, `go build` of clients/siokit from this module (always: it follows
#     the tree's protocol/client, and the build cache makes it cheap), and the Debian packages
#     of the python client (the same as the python server peer's).
# FORCE=1 reinstalls the npm peers and rebuilds the Go peers.
# Usage: peers/install.sh [name...]      (default: all peers)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

PY_PACKAGES=(python3-socketio python3-engineio python3-aiohttp)
CLUSTER_PACKAGES=(nginx haproxy redis-server)

if [ "$#" -gt 0 ]; then
  names=("$@")
else
  names=()
  for lock in "$here"/*/package-lock.json "$here"/*/go.mod; do
    [ -e "$lock" ] || continue
    names+=("$(basename "$(dirname "$lock")")")
  done
  names+=(python chromium clients)
fi

install_npm() {
  local name=$1 dir="$here/$1"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "peers/install.sh: node and npm are required (Node.js 20 or newer)" >&2
    exit 1
  fi
  local marker="$dir/node_modules/.package-lock.json"
  if [ "${FORCE:-0}" != "1" ] && [ -f "$marker" ] && [ ! "$dir/package-lock.json" -nt "$marker" ]; then
    echo "peers/$name: up to date"
    return
  fi
  echo "peers/$name: npm ci"
  (cd "$dir" && npm ci --no-audit --no-fund)
}

# install_go NAME [BINARY]: builds the nested module peers/NAME into bin/BINARY (default: NAME).
install_go() {
  local name=$1 dir="$here/$1"
  local bin="$dir/bin/${2:-$1}"
  if ! command -v go >/dev/null 2>&1; then
    echo "peers/install.sh: go is required to build peers/$name" >&2
    exit 1
  fi
  if [ "${FORCE:-0}" != "1" ] && [ -x "$bin" ]; then
    local stale=0 f
    for f in "$dir"/go.mod "$dir"/go.sum "$dir"/*.go; do
      if [ "$f" -nt "$bin" ]; then stale=1; fi
    done
    if [ "$stale" = 0 ]; then
      echo "peers/$name: up to date"
      return
    fi
  fi
  echo "peers/$name: go build"
  (cd "$dir" && GOWORK=off GOFLAGS=-mod=readonly go build -o "$bin" .)
}

install_clients() {
  install_npm clients/js
  install_go clients/go-zishang-v3 go-zishang-v3-client
  if ! command -v go >/dev/null 2>&1; then
    echo "peers/install.sh: go is required to build peers/clients/siokit" >&2
    exit 1
  fi
  echo "peers/clients/siokit: go build"
  (cd "$here/.." && go build -o peers/clients/siokit/bin/siokit-client ./peers/clients/siokit)
  install_debs clients "${PY_PACKAGES[@]}"
}

# install_debs PEER PACKAGE...: apt-get install -y the Debian packages dpkg lacks.
install_debs() {
  local peer=$1 missing=() p
  shift
  for p in "$@"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != "installed" ]; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "peers/$peer: Debian packages up to date"
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "peers/install.sh: peers/$peer needs Debian's $* (apt-get not found)" >&2
    exit 1
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  echo "peers/$peer: apt-get install ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_python() {
  local missing=() p
  for p in "${PY_PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != "installed" ]; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ] && [ -x /usr/bin/python3 ]; then
    echo "peers/python: up to date"
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "peers/install.sh: peers/python needs Debian's ${PY_PACKAGES[*]} (apt-get not found)" >&2
    exit 1
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  echo "peers/python: apt-get install ${PY_PACKAGES[*]}"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${PY_PACKAGES[@]}"
}

install_chromium() {
  if [ "$(dpkg-query -W -f='${db:Status-Status}' chromium 2>/dev/null || true)" = "installed" ]; then
    echo "peers/chromium: up to date"
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "peers/install.sh: the HTML report tests need Debian's chromium (apt-get not found)" >&2
    exit 1
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  echo "peers/chromium: apt-get install chromium"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium
}

for name in "${names[@]}"; do
  dir="$here/$name"
  start=$SECONDS
  if [ "$name" = python ]; then
    install_python
  elif [ "$name" = chromium ]; then
    install_chromium
  elif [ "$name" = clients ]; then
    install_clients
  elif [ "$name" = cluster ]; then
    install_debs cluster "${CLUSTER_PACKAGES[@]}"
    install_npm cluster
  elif [ -f "$dir/package-lock.json" ]; then
    install_npm "$name"
  elif [ -f "$dir/go.mod" ]; then
    install_go "$name"
  else
    echo "peers/install.sh: unknown peer peers/$name (no package-lock.json or go.mod)" >&2
    exit 1
  fi
  if [ $((SECONDS - start)) -gt 0 ]; then echo "peers/$name: $((SECONDS - start)) s"; fi
done
