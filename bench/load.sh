#!/usr/bin/env bash
# sioload cost on the echo scenario (scenarios/echo.yaml) against the
# built-in target, next to a baseline measured in the same invocation:
# protocol/server's BenchmarkEcho/client-websocket-sequential (siokit's Go
# client and Go server in one process, one round trip at a time).
#
# Prints messages per second, CPU per message (process user+sys time /
# messages sent+received) and heap+stack per connected client, for
#   1. sioload with the built-in target in the same process (CPU covers
#      both sides, like the baseline), and
#   2. sioload against `sioload serve` in another process (CPU and memory
#      are the generator's alone).
# Usage: bench/load.sh [clients] [hold] [transport]   (default 500 clients,
# 8s, the scenario's websocket). The scale internal/load's TestManyClients
# holds without measuring it: bench/load.sh 2000, bench/load.sh 500 8s polling.
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-500}
hold=${2:-8s}
transport=()
if [ -n "${3:-}" ]; then transport=(--transport "$3"); fi
tmp=$(mktemp -d)
serve_pid=""
cleanup() {
	if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/sioload" ./cmd/sioload
go test -c -o "$tmp/server.test" ./protocol/server

# CPU seconds (user+sys) of one command, from bash's time keyword.
cputime() {
	local TIMEFORMAT='%U %S'
	{ time "$@" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time"
	awk '{ print $1 + $2 }' "$tmp/time"
}

echo "== baseline: protocol/server BenchmarkEcho/client-websocket-sequential (3s)"
cpu=$(cputime "$tmp/server.test" -test.run '^$' -test.bench 'BenchmarkEcho/client-websocket-sequential$' -test.benchtime 3s -test.benchmem)
grep '^BenchmarkEcho' "$tmp/out"
awk -v cpu="$cpu" '/^BenchmarkEcho/ {
	n = $2; nsop = $3
	wall = n * nsop / 1e9
	printf "baseline            %9.0f msgs/s   %6.2f us cpu/msg (both sides, %d round trips, %.2f s cpu incl. setup)\n", 2 * n / wall, cpu * 1e6 / (2 * n), n, cpu
}' "$tmp/out"

report() { # label json
	python3 - "$1" "$2" <<'PY'
import json, sys
label, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
c = r["counters"]; h = r.get("health") or {}
msgs = c.get("messages_sent", 0) + c.get("messages_received", 0)
el = r["elapsed"]
def dur(s):
    import re
    tot = 0.0
    for v, u in re.findall(r"([\d.]+)(h|ms|us|µs|ns|m|s)", s):
        tot += float(v) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}[u]
    return tot
secs = dur(el)
peak = r.get("peak_clients", 0)
mem = (h.get("peak_mem_bytes", 0) - h.get("base_mem_bytes", 0)) / peak if peak else 0
cpu = h.get("cpu_seconds", 0)
print(f"{label:<19} {msgs / secs:9.0f} msgs/s   {cpu * 1e6 / max(msgs, 1):6.2f} us cpu/msg   "
      f"{mem / 1024:7.1f} KiB heap+stack/client   ({msgs} msgs, {peak} clients, {secs:.1f} s, "
      f"{cpu:.2f} s cpu, cpu peak {100 * h.get('cpu', 0):.0f}% of {h.get('cores', 0)} cores, errors {sum(r.get('errors', {}).values())})")
PY
}

echo "== sioload run scenarios/echo.yaml --clients $clients --duration $hold ${transport[*]}"
"$tmp/sioload" run scenarios/echo.yaml --clients "$clients" --duration "$hold" "${transport[@]}" --quiet --out "$tmp/inproc.json" >/dev/null || true
report "sioload in-process" "$tmp/inproc.json"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$tmp/sioload" serve --addr "127.0.0.1:$port" 2>/dev/null &
serve_pid=$!
for _ in $(seq 50); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
	sleep 0.1
done
"$tmp/sioload" run scenarios/echo.yaml --target "http://127.0.0.1:$port" --clients "$clients" --duration "$hold" "${transport[@]}" --quiet --out "$tmp/sep.json" >/dev/null || true
report "sioload generator" "$tmp/sep.json"
