#!/usr/bin/env bash
# Flakiness check of sioconform's built-in suite on every implementation of
# the matrix: starts each server of internal/conform/testdata/
# expected-verdicts.yaml once and runs its suite RUNS times against it
# (TestImplementations -conform.runs, the rules of `make matrix`: a case
# whose verdict is unexpected runs again alone, up to twice). Prints per
# implementation its runs, their mean and slowest wall time, and every case
# whose verdict was not the expected one on every run: its first-pass
# verdicts (what one run shows a user), its final ones, and whether it is
# racy (the server races, expected-verdicts.yaml says so), rescued by a run
# alone (machine load), inconclusive (the heartbeat overtook it every time)
# or UNEXPECTED. Fails, with the test output, on any UNEXPECTED verdict.
# The whole output, with the first trace of every case whose first pass was
# unexpected ("flaky:" lines), stays in $STRESS_LOG.
# Usage: bench/conform-stress.sh [RUNS]   (default 20; STRESS_LOG default
# ${TMPDIR:-/tmp}/conform-stress.log)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
case $runs in '' | *[!0-9]* | 0) echo "usage: $0 [RUNS], RUNS a positive number, got '$runs'" >&2; exit 2 ;; esac
peers/install.sh >/dev/null
out=${STRESS_LOG:-${TMPDIR:-/tmp}/conform-stress.log}
status=0
go test -count=1 -run '^TestImplementations$' -v -timeout 90m ./internal/conform/ \
	-args -conform.runs "$runs" >"$out" 2>&1 || status=$?
sed -n 's/^conform-stress: //p' "$out"
echo "whole output, with the traces of the first passes: $out"
if [ "$status" -ne 0 ]; then
	echo "--- FAIL: test output:"
	grep -v '^conform-stress: ' "$out"
fi
exit "$status"
