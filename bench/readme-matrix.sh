#!/usr/bin/env bash
# Copies the summary of a matrix document into README.md, between its
# markers (headings one level down); the reasons stay in the document.
#   bench/readme-matrix.sh          docs/conformance-matrix.md between
#                                   <!-- matrix:begin --> and <!-- matrix:end -->
#                                   (run by bench/conform-matrix.sh)
#   bench/readme-matrix.sh client   docs/client-conformance-matrix.md between
#                                   <!-- client-matrix:begin --> and <!-- client-matrix:end -->
#                                   (run by bench/client-matrix.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-server}" in
server) doc=docs/conformance-matrix.md marker=matrix target="make matrix" noun=server ;;
client) doc=docs/client-conformance-matrix.md marker=client-matrix target="make client-matrix" noun=client ;;
*) echo "usage: $0 [server|client]" >&2; exit 2 ;;
esac
part=$(awk '
	/^## Summary/ {on = 1}
	/^## Matrix/ {on = 0}
	on { if ($0 ~ /^#/) $0 = "#" $0; print }
' "$doc")
grep -q "<!-- $marker:begin -->" README.md || { echo "README.md has no <!-- $marker:begin --> marker" >&2; exit 1; }
awk -v part="$part" -v doc="$doc" -v marker="$marker" -v target="$target" -v noun="$noun" '
	$0 == "<!-- " marker ":begin -->" {print; print "<!-- Copied from " doc " by `" target "`; do not edit. -->"; print ""; print part; print ""; print "Why each " noun " does not pass a case, one line per reason: [" doc "](" doc "#why-a-" noun "-does-not-pass-a-case)."; print ""; skip = 1; next}
	$0 == "<!-- " marker ":end -->" {skip = 0}
	!skip {print}
' README.md > README.md.new
mv README.md.new README.md
