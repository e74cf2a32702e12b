#!/usr/bin/env bash
# Regenerates docs/client-conformance-matrix.md: runs sioconform's built-in
# client suite against every client peer of peers/clients/ (sioconform
# playing the server), checks every verdict against
# internal/conform/testdata/client-expected-verdicts.yaml, and writes the
# matrix with the reason for every cell that is not a pass, then copies its
# summary into README.md. Nothing is written if a verdict differs from the
# expected one (the test output says which, with the case's trace).
# Usage: bench/client-matrix.sh   (also: make client-matrix)
set -euo pipefail
cd "$(dirname "$0")/.."
peers/install.sh clients >/dev/null
go test -count=1 -run '^TestClientSuite$' -v ./internal/conform/ \
	-args -conform.clientmatrix "$PWD/docs/client-conformance-matrix.md"
bench/readme-matrix.sh client
