#!/usr/bin/env bash
# Refreshes the vendored uPlot (https://github.com/leeoniya/uPlot, MIT) from
# the npm registry: its minified browser build, style sheet and licence.
# Usage: web/ui/vendor/refresh.sh [VERSION]   (make vendor-uplot)
set -euo pipefail
version="${1:-1.6.32}"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@$version" >/dev/null && tar xzf "uplot-$version.tgz")
cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" "$here/"
cp "$tmp/package/LICENSE" "$here/uPlot.LICENSE"
head -c 60 "$here/uPlot.iife.min.js"; echo
wc -c "$here/uPlot.iife.min.js" "$here/uPlot.min.css"
