#!/usr/bin/env bash
# Copies the pinned uPlot build (package-lock.json) into assets/, which the
# HTML reports embed with go:embed: the Go build needs no npm, and the
# lock says exactly which published file the embedded one is
# (reports/html_test.go checks the version banner against the lock).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
npm ci --no-audit --no-fund
mkdir -p assets
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css assets/
cp node_modules/uplot/LICENSE assets/uPlot.LICENSE
