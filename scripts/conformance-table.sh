#!/bin/sh
# Regenerates docs/conformance.md: every case of Debian's libonnx-testdata
# at every optimisation level, counted per operator. Needs a built tree.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KESTREL_BUILD:-$top/build}
KESTREL_CONFORMANCE_TABLE="$top/docs/conformance.md" \
  "$build/tests/conformance/test-onnx-conformance" > /dev/null || true
echo "wrote $top/docs/conformance.md"
