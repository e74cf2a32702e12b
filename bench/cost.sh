#!/usr/bin/env bash
# CPU per acked round trip of sioload next to a raw client (bench/rawclient:
# hand-framed packets on fasthttp/websocket, or a bare fasthttp.Client for
# long-polling), both measured in this invocation against one Node target
# (peers/node4), alternating raw and sioload REPS times per transport so
# that a busy machine's noise lands on both. The load is the same for both:
# CLIENTS clients ramped over 3 s, each emitting "echo-ack" (the same
# 64-byte string + {seq}) RATE times a second, waiting for each ack, for HOLD.
#
# CPU is the generator process's user+sys time (bash's time keyword) over
# its whole run, connects and closes included, divided by acks received.
# With taskset available each generator runs on core 0 alone (the issue's
# "each generator given one core"); the target gets the others.
#
# "idle" as a transport measures memory per idle WebSocket client instead
# (env IDLE clients, default 5000; the issue's goal: at most 20 KiB).
#
# Usage: bench/cost.sh [transport...] (default: websocket polling)
#   env CLIENTS (100), RATE (10), HOLD (10s), REPS (3); SIOLOAD=path runs
#   that sioload binary instead of building this tree's (an older build, to
#   compare before and after)
# Prints one line per run and, per transport, the ratios sioload/raw with
# their spread (the issue's goal: at most 1.10).
set -euo pipefail
cd "$(dirname "$0")/.."
transports="${*:-websocket polling}"
clients=${CLIENTS:-100}
rate=${RATE:-10}
hold=${HOLD:-10s}
reps=${REPS:-3}
tmp=$(mktemp -d)
node_pid=""
cleanup() {
	if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

peers/install.sh node4 >/dev/null
if [ -n "${SIOLOAD:-}" ]; then cp "$SIOLOAD" "$tmp/sioload"; else go build -o "$tmp/sioload" ./cmd/sioload; fi
go build -o "$tmp/rawclient" ./bench/rawclient

# The target runs on the cores the generator does not (core 0 is the
# generator's): unpinned, Node shared core 0 with it, and each run's
# cache misses then depended on where Node had last run.
tpin=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then tpin=(taskset -c "1-$(($(nproc) - 1))"); fi
# IGNORE_STDIN: the peer runs in the background; cleanup stops it by pid.
(cd peers/node4 && IGNORE_STDIN=1 exec "${tpin[@]}" node server.mjs 0 >"$tmp/node.log" 2>&1) &
node_pid=$!
for _ in $(seq 100); do
	port=$(awk '/^LISTENING/ { print $2 }' "$tmp/node.log" 2>/dev/null || true)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "node4 did not start:"; cat "$tmp/node.log"; exit 1; }
target="http://127.0.0.1:$port"

pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

cputime() { # command... -> prints user+sys seconds; output in $tmp/out
	local TIMEFORMAT='%U %S'
	{ time "${pin[@]}" "$@" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time"
	awk '{ print $1 + $2 }' "$tmp/time"
}

for tr in $transports; do
	if [ "$tr" = idle ]; then
		# Memory per idle WebSocket client: IDLE clients connect over 10 s
		# and stay connected 15 s; sioload's own figure, heap+stack at its
		# peak less the base before the first client, per client.
		cat >"$tmp/idle.yaml" <<EOF
name: idle
transport: websocket
load: {model: closed, clients: ${IDLE:-5000}, ramp: 10s, hold: 15s, grace: 5s}
flow:
  - connect: {}
EOF
		for rep in $(seq "$reps"); do
			"$tmp/sioload" run "$tmp/idle.yaml" --target "$target" --quiet --out "$tmp/idle.json" >/dev/null || true
			python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); h = r["health"]; n = r["peak_clients"]
print("idle      rep %s  sioload  %d clients  %.1f KiB heap+stack per client at peak (base %.1f MiB, peak %.1f MiB, rss %.1f MiB), %d errors" % (sys.argv[2], n,
    (h["peak_mem_bytes"] - h["base_mem_bytes"]) / max(n, 1) / 1024, h["base_mem_bytes"] / 2**20, h["peak_mem_bytes"] / 2**20, h["rss_bytes"] / 2**20, sum(r.get("errors", {}).values())))' "$tmp/idle.json" "$rep"
		done
		continue
	fi
	# The same 64 x's the raw client sends: a random {{.Payload 64}} would
	# charge sioload 2-6% for rendering work the raw client never does.
	pad=$(printf 'x%.0s' $(seq 64))
	cat >"$tmp/cost.yaml" <<EOF
name: cost
transport: $tr
load: {model: closed, clients: $clients, ramp: 3s, hold: $hold, grace: 5s}
flow:
  - connect: {}
  - loop:
      rate: $rate
      steps:
        - emit_ack: {event: echo-ack, args: ["$pad", {seq: "{{.Seq}}"}], timeout: 10s}
  - disconnect: {}
EOF
	ratios=()
	for rep in $(seq "$reps"); do
		cpu=$(cputime "$tmp/rawclient" -target "$target" -transport "$tr" -clients "$clients" -rate "$rate" -ramp 3s -hold "$hold" -grace 5s)
		read -r acks _ timeouts _ errors _ conn < <(sed 's/^acks //' "$tmp/out")
		raw=$(awk -v c="$cpu" -v a="$acks" 'BEGIN { printf "%.3f", a ? c * 1e4 / a : 0 }')
		printf '%-9s rep %d  raw      %6.2f s cpu  %7d acks  %3d timeouts  %2d errors  %8.3f s cpu per 10k acks\n' "$tr" "$rep" "$cpu" "$acks" "$timeouts" "$errors" "$raw"
		cpu=$(cputime "$tmp/sioload" run "$tmp/cost.yaml" --target "$target" --quiet --out "$tmp/run.json" || true)
		read -r sacks stimeouts serrors < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
print(c.get("acks", 0), c.get("ack_timeouts", 0), sum(json.load(open(sys.argv[1])).get("errors", {}).values()))' "$tmp/run.json")
		sio=$(awk -v c="$cpu" -v a="$sacks" 'BEGIN { printf "%.3f", a ? c * 1e4 / a : 0 }')
		printf '%-9s rep %d  sioload  %6.2f s cpu  %7d acks  %3d timeouts  %2d errors  %8.3f s cpu per 10k acks  = %.2fx raw\n' "$tr" "$rep" "$cpu" "$sacks" "$stimeouts" "$serrors" "$sio" "$(awk -v s="$sio" -v r="$raw" 'BEGIN { print r ? s / r : 0 }')"
		ratios+=("$(awk -v s="$sio" -v r="$raw" 'BEGIN { print r ? s / r : 0 }')")
	done
	printf '%s\n' "${ratios[@]}" | sort -n | awk -v tr="$tr" -v n="$clients" '
		{ v[NR] = $1; s += $1 }
		END { printf "%-9s %d clients: sioload/raw CPU per acked round trip median %.2fx (min %.2fx, max %.2fx, %d runs; goal <= 1.10x)\n", tr, n, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
done
