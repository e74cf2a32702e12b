#!/usr/bin/env bash
# Regenerates docs/conformance-matrix.md: starts every contract server of
# peers/ and siokit's built-in server, runs sioconform's built-in suite
# against each, checks every verdict against
# internal/conform/testdata/expected-verdicts.yaml, and writes the matrix
# with the reason for every cell that is not a pass. Nothing is written if a
# verdict differs from the expected one (the test output says which, with
# the case's trace).
# Usage: bench/conform-matrix.sh   (also: make matrix)
set -euo pipefail
cd "$(dirname "$0")/.."
peers/install.sh >/dev/null
go test -count=1 -run '^TestImplementations$' -v ./internal/conform/ \
	-args -conform.matrix "$PWD/docs/conformance-matrix.md"
bench/readme-matrix.sh
