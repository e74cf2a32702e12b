#!/usr/bin/env bash
# Client cost against the Node reference, with the baseline measured in the
# same invocation: a bare fasthttp/websocket connection for memory, and
# the round-trip benchmarks for allocations and time.
# Usage: bench/client.sh   (prints the benchmark lines, then the ratios)
set -euo pipefail
cd "$(dirname "$0")/.."
peers/install.sh node4 >/dev/null
out=$(go test -run '^$' -bench 'BenchmarkIdleClients' -benchtime 1x -count 1 ./protocol/client/;
      go test -run '^$' -bench 'Benchmark(Echo|Ack)RoundTrip' -benchtime 3s -count 1 ./protocol/client/)
printf '%s\n' "$out" | grep '^Benchmark'
printf '%s\n' "$out" | awk '
/^BenchmarkIdleClients\/bare-websocket/ { for (i = 1; i < NF; i++) if ($(i+1) == "B/client") bare = $i }
/^BenchmarkIdleClients\/(websocket|polling)/ {
	for (i = 1; i < NF; i++) { if ($(i+1) == "B/client") b = $i; if ($(i+1) == "goroutines/client") g = $i }
	split($1, n, "/"); sub(/-[0-9]+$/, "", n[2])
	printf "%-10s %8.0f B/client = %.2fx bare (target <= 2x), %.2f goroutines/client (target <= 2)\n", n[2], b, b / bare, g
}
/^Benchmark(Echo|Ack)RoundTrip/ {
	for (i = 1; i < NF; i++) { if ($(i+1) == "allocs/op") a = $i; if ($(i+1) == "ns/op") t = $i }
	printf "%-32s %6.1f us/round trip, %s allocs (WebSocket target <= 2)\n", $1, t / 1000, a
}'
