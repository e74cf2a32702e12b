#!/usr/bin/env bash
# Copies the summary and the reasons of docs/conformance-matrix.md into
# README.md, between the <!-- matrix:begin --> and <!-- matrix:end -->
# markers (headings one level down). Run by bench/conform-matrix.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/conformance-matrix.md
part=$(awk '
	/^## Summary/ {on = 1}
	/^## Matrix/ {on = 0}
	/^## Why a server does not pass a case/ {on = 1}
	on { if ($0 ~ /^#/) $0 = "#" $0; print }
' "$doc")
awk -v part="$part" '
	/<!-- matrix:begin -->/ {print; print "<!-- Copied from docs/conformance-matrix.md by `make matrix`; do not edit. -->"; print ""; print part; skip = 1; next}
	/<!-- matrix:end -->/ {skip = 0}
	!skip {print}
' README.md > README.md.new
mv README.md.new README.md
