#!/bin/sh
# NEON on an emulated Arm CPU. Cross-builds for aarch64 with Debian's cross
# compiler (cross/aarch64-linux-gnu.ini; the arm64 -dev packages of what
# core links, through multiarch, no GUI, no OpenCV) the kernels' cross-check
# tests (tests/kernels) and the graph test, and runs them under qemu-aarch64
# at two CPU models:
#
#   max          Armv8 with the dot-product (asimddp), BF16, I8MM and FP16
#                extensions: the NEON table with the sdot int8 gemm (neondot)
#   cortex-a72   Armv8.0, NEON only: the plain NEON int8 gemm (neon)
#
# Each kernel suite compares every NEON kernel with the scalar reference
# (integer kernels bit for bit); test-cpu checks the detection against the
# CPU's ID registers and against what this script says each model has,
# and test-qgemm that the int8 gemm version checked is the one the model
# must get, so the two runs are shown to take different paths. The whole
# models: both BlazeFace models planned at every level (simd and parallel
# on the NEON kernels, full with arm64 OpenBLAS) agree with the scalar
# plan (graph's /graph/levels-agree, at max: the FP32 kernels are the same
# at both models).
#
#   scripts/check-aarch64.sh           every suite at both CPU models, and
#                                      the whole models
#   scripts/check-aarch64.sh --quick   what make check runs: every kernel
#                                      suite at max but for the two slowest
#                                      checks of the scalar reference
#                                      against its oracle (no NEON code in
#                                      them; the native tree runs them), at
#                                      cortex-a72 the suites whose kernels
#                                      the CPU model changes (qgemm) and
#                                      test-cpu, and the whole models
#
# Exits 77 (skip) naming what is missing when the cross tools are not
# installed (scripts/install-deps.sh --test installs them). The tree is
# $KESTREL_AARCH64_BUILD (default build-aarch64-cross); only what these
# tests run is built (scripts/test-targets.py). The test logs are its
# meson-logs/testlog-CPU.json, and testlog-models.json.
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
for pc in glib-2.0:libglib2.0-dev libprotobuf-c:libprotobuf-c-dev gdk-pixbuf-2.0:libgdk-pixbuf-2.0-dev \
          libgtop-2.0:libgtop2-dev json-glib-1.0:libjson-glib-dev openblas:libopenblas-dev; do
  if ! command -v aarch64-linux-gnu-pkg-config >/dev/null \
     || ! aarch64-linux-gnu-pkg-config --exists "${pc%%:*}"; then
    missing="$missing ${pc#*:}:arm64"
  fi
done
if [ -n "$missing" ]; then
  echo "check-aarch64: skipped, not installed:$missing (scripts/install-deps.sh --test installs them)"
  exit 77
fi

start=$(date +%s)
options="--cross-file cross/aarch64-linux-gnu.ini -Dkernels_only=false -Dgui=disabled -Dopencv=disabled"
# shellcheck disable=SC2086  # $options is a list of arguments
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" $options >/dev/null
else
  meson setup "$dir" $options
fi
kernel_tests="$(scripts/test-targets.py --names "$dir" suite:kernels) core-cpu"
# shellcheck disable=SC2086  # a list of names
files=$(scripts/test-targets.py "$dir" $kernel_tests graph)
# shellcheck disable=SC2086  # a list of files
ninja -C "$dir" -j "${JOBS:-2}" $files

status=0
# run CPU LOG TESTS... [--test-args ARGS]: the tests under QEMU_CPU=CPU
# (qemu-aarch64 reads it), with what that model must have, logged as
# meson-logs/LOG.json. Emulated floating point is slow, so the time limits
# are raised (never a timing assertion).
run() {
  cpu=$1; log=$2; shift 2
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
      --timeout-multiplier 4 --logbase "$log" "$@" || status=1
}

# shellcheck disable=SC2086  # lists of names
if $quick; then
  # The scalar gemm and model input against their double-precision
  # oracles: 105 s and 77 s of the about 830 s the 15 tests took at max
  # under emulation on the loaded 2-core machine.
  run max testlog-max $kernel_tests \
    --test-args "-s /kernels/gemm/scalar-vs-double -s /kernels/model-input/scalar-vs-oracle"
  run cortex-a72 testlog-cortex-a72 kernels-qgemm kernels-qgemm-s4 core-cpu
else
  run max testlog-max $kernel_tests
  run cortex-a72 testlog-cortex-a72 $kernel_tests
fi
run max testlog-models graph --test-args "-p /graph/levels-agree"

echo "check-aarch64: $(( $(date +%s) - start )) s (build and tests)"
exit $status
