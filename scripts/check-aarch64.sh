#!/bin/sh
# NEON on an emulated Arm CPU. Cross-builds kernels/ and its cross-check
# tests (tests/kernels) for aarch64 with Debian's cross compiler
# (cross/aarch64-linux-gnu.ini, -Dkernels_only=true: GLib is the one arm64
# library they need) and runs them under qemu-aarch64 at two CPU models:
#
#   max          Armv8 with the dot-product (asimddp), BF16, I8MM and FP16
#                extensions: the NEON table with the sdot int8 gemm (neondot)
#   cortex-a72   Armv8.0, NEON only: the plain NEON int8 gemm (neon)
#
# Each suite compares every NEON kernel with the scalar reference (integer
# kernels bit for bit); test-cpu checks the detection against the CPU's ID
# registers and against what this script says each model has, and
# test-qgemm that the int8 gemm version checked is the one the model must
# get, so the two runs are shown to take different paths.
#
#   scripts/check-aarch64.sh           every suite at both CPU models
#   scripts/check-aarch64.sh --quick   what make check runs: every suite at
#                                      max but for the two slowest checks of
#                                      the scalar reference against its
#                                      oracle (no NEON code in them; the
#                                      native tree runs them), and at
#                                      cortex-a72 the suites whose kernels
#                                      the CPU model changes (qgemm) and
#                                      test-cpu
#
# Exits 77 (skip) naming what is missing when the cross tools are not
# installed (scripts/install-deps.sh --test installs them). The tree is
# $KESTREL_AARCH64_BUILD (default build-aarch64-cross); the test logs are
# its meson-logs/testlog-CPU.json.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
dir=${KESTREL_AARCH64_BUILD:-build-aarch64-cross}

quick=false
case "${1:-}" in
  --quick) quick=true ;;
  "") ;;
  *) echo "usage: scripts/check-aarch64.sh [--quick]" >&2; exit 2 ;;
esac

missing=""
command -v aarch64-linux-gnu-gcc >/dev/null || missing="$missing gcc-aarch64-linux-gnu"
command -v qemu-aarch64 >/dev/null || missing="$missing qemu-user"
if ! command -v aarch64-linux-gnu-pkg-config >/dev/null \
   || ! aarch64-linux-gnu-pkg-config --exists glib-2.0; then
  missing="$missing libglib2.0-dev:arm64"
fi
if [ -n "$missing" ]; then
  echo "check-aarch64: skipped, not installed:$missing (scripts/install-deps.sh --test installs them)"
  exit 77
fi

start=$(date +%s)
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" --cross-file cross/aarch64-linux-gnu.ini \
    -Dkernels_only=true >/dev/null
else
  meson setup "$dir" --cross-file cross/aarch64-linux-gnu.ini -Dkernels_only=true
fi
meson compile -C "$dir"

status=0
# run CPU SUITE-OR-TESTS...: the tests under QEMU_CPU=CPU (qemu-aarch64
# reads it), with what that model must have. Emulated floating point is
# slow, so the time limits are raised (never a timing assertion).
run() {
  cpu=$1; shift
  case "$cpu" in
    max)
      has="neon asimddp bf16"; lacks=""; qgemm=neondot ;;
    cortex-a72)
      has="neon"; lacks="asimddp bf16 i8mm sve"; qgemm=neon ;;
    *) echo "check-aarch64: no expectations written for CPU model $cpu" >&2; exit 2 ;;
  esac
  echo "check-aarch64: qemu-aarch64 -cpu $cpu (must have: $has; must lack: ${lacks:-nothing};" \
       "int8 gemm: $qgemm)"
  QEMU_CPU=$cpu KESTREL_TEST_CPU_HAS=$has KESTREL_TEST_CPU_LACKS=$lacks \
  KESTREL_TEST_QGEMM_VERSION=$qgemm \
    meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
      --timeout-multiplier 4 --logbase "testlog-$cpu" "$@" || status=1
}

if $quick; then
  # The scalar gemm and model input against their double-precision
  # oracles: 105 s and 77 s of the about 830 s the 15 tests took at max
  # under emulation on the loaded 2-core machine.
  run max --test-args "-s /kernels/gemm/scalar-vs-double -s /kernels/model-input/scalar-vs-oracle"
  run cortex-a72 kernels-qgemm kernels-qgemm-s4 core-cpu
else
  run max
  run cortex-a72
fi

echo "check-aarch64: $(( $(date +%s) - start )) s (build and tests)"
exit $status
