#!/usr/bin/env bash
# Flakiness check of sioconform's built-in suite: the whole Engine.IO v4 /
# Socket.IO v5 suite 20 times in a row against one Node reference server
# (BenchmarkBuiltinSuiteNode, outside the default test run). Prints the wall
# time of each run; fails, listing each unexpected verdict with its trace,
# if any run gave a verdict other than the expected one.
# Usage: bench/conform-stress.sh [RUNS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
peers/install.sh node4 >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
# The testing package runs a benchmark once with N=1 before the N=RUNS run
# that counts; both report, the summary below counts the N=RUNS runs only.
go test -run '^$' -bench '^BenchmarkBuiltinSuiteNode$' -benchtime "${runs}x" -count 1 -timeout 30m \
	./internal/conform/ >"$out" 2>&1 || status=$?
sed -n 's/.*conform-stress: //p' "$out" | grep -v 'unexpected verdict:' || true
sed -n 's/.*conform-stress: //p' "$out" | awk -v want="$runs" '
	$2 ~ ("/" want ":$") && / cases in / {
		n++; t = $6; sub(/s,$/, "", t); sum += t; if (t > worst) worst = t
		if ($7 != "0") bad++
	}
	END { if (n) printf "%d runs: mean %.2fs, slowest %.2fs, %d with unexpected verdicts\n", n, sum / n, worst, bad }'
if [ "$status" -ne 0 ]; then
	echo "--- FAIL: unexpected verdicts and test output:"
	grep -v -E 'conform-stress: run [0-9]+/[0-9]+: [0-9]+ cases in' "$out"
fi
exit "$status"
