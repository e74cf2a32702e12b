#!/usr/bin/env bash
# Copies the summary of docs/conformance-matrix.md into README.md, between
# the <!-- matrix:begin --> and <!-- matrix:end --> markers (headings one
# level down); the reasons per server stay in docs/conformance-matrix.md.
# Run by bench/conform-matrix.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/conformance-matrix.md
part=$(awk '
	/^## Summary/ {on = 1}
	/^## Matrix/ {on = 0}
	on { if ($0 ~ /^#/) $0 = "#" $0; print }
' "$doc")
awk -v part="$part" '
	/<!-- matrix:begin -->/ {print; print "<!-- Copied from docs/conformance-matrix.md by `make matrix`; do not edit. -->"; print ""; print part; print ""; print "Why each server does not pass a case, one line per reason: [docs/conformance-matrix.md](docs/conformance-matrix.md#why-a-server-does-not-pass-a-case)."; print ""; skip = 1; next}
	/<!-- matrix:end -->/ {skip = 0}
	!skip {print}
' README.md > README.md.new
mv README.md.new README.md
