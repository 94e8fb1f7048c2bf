#!/bin/sh
# The whole test suite: installs what is missing, builds, runs every meson
# test, then builds a second tree with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs the unit suites there, a third with
# ThreadSanitizer for the threaded parts of core, a fourth, with clang and
# libFuzzer, for the fuzz targets, and a fifth, cross-built for aarch64,
# whose kernel suites run under qemu-aarch64. Ends with one summary line:
# "N passed, N failed, N skipped".
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/install-deps.sh --test

build=${KESTREL_BUILD:-build}
asan=${KESTREL_ASAN_BUILD:-build-asan}

configure() {
  dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}

status=0

configure "$build"
meson compile -C "$build"
meson test -C "$build" --print-errorlogs --num-processes 2 || status=1

# Full stacks on every allocation (fast_unwind_on_malloc=0) so LeakSanitizer
# suppressions (tests/lsan.supp) can match library frames. The sanitizers
# make the model-running suites several times slower (the graph suite took
# 897 s under ASan on a loaded 2-core machine), so their time limits are
# tripled here rather than raised for the ordinary build.
configure "$asan" -Db_sanitize=address,undefined -Db_lundef=false -Dopencv=disabled
meson compile -C "$asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS=suppressions="$top/tests/lsan.supp" \
  meson test -C "$asan" --suite unit --print-errorlogs --num-processes 2 --timeout-multiplier 3 || status=1

# ThreadSanitizer (scripts/tsan.sh): a tree with -Db_sanitize=thread,
# without the GUI or OpenCV, of which only what its tests run is built
# (their programs, libkestrel and the plugins they load; the per-ISA
# kernels uninstrumented, see kernels/meson.build), then the compute
# thread pool, the buffer pool, the monitor (sampler thread, metrics,
# Prometheus server), the throttle and batcher, the whole pipeline and
# engine-thresholds; any report fails the test (tests/tsan.supp says what
# is suppressed and why).
tsan=${KESTREL_TSAN_BUILD:-build-tsan}
KESTREL_TSAN_BUILD=$tsan scripts/tsan.sh || status=1

# The fuzz targets of tests/fuzz in a clang tree with libFuzzer, ASan and
# UBSan (scripts/fuzz.sh sets it up and builds only the targets and the
# plugins they load): their corpora and crash regressions once, then each
# target fuzzed for KESTREL_FUZZ_SECONDS (20 s by default, 0 skips it), so
# a change that breaks a loader is likely caught here before it lands. A
# crash fails the check and leaves its input under $fuzz/artifacts/.
# The random seed is fixed (KESTREL_FUZZ_SEED, 1 by default) so that a
# check on a clean clone takes much the same path each time: finding new
# crashes is what scripts/fuzz.sh's long runs are for.
fuzz=${KESTREL_FUZZ_BUILD:-build-fuzz}
fuzz_seconds=${KESTREL_FUZZ_SECONDS:-20}
fuzz_seed=${KESTREL_FUZZ_SEED:-1}
KESTREL_FUZZ_BUILD=$fuzz scripts/fuzz.sh --replay || status=1
if [ "$fuzz_seconds" -gt 0 ]; then
  for target in $(scripts/fuzz.sh --list); do
    echo "fuzz-$target, $fuzz_seconds s:"
    KESTREL_FUZZ_BUILD=$fuzz scripts/fuzz.sh "$target" "$fuzz_seconds" -seed="$fuzz_seed" || status=1
  done
fi

# The NEON kernels on an emulated Arm CPU (scripts/check-aarch64.sh
# --quick): the kernel cross-check suites cross-built for aarch64 and run
# under qemu-aarch64 at a CPU model with the dot-product and BF16
# extensions (max) and, for the int8 gemm whose version that changes and
# the CPU detection, at one without them (cortex-a72); then both BlazeFace
# models at every level against their scalar plan, at max. Skipped, and
# said so, when the cross tools are missing (install-deps.sh --test
# installs them).
aarch64=${KESTREL_AARCH64_BUILD:-build-aarch64-cross}
aarch64_logs=""
aarch64_status=0
KESTREL_AARCH64_BUILD=$aarch64 scripts/check-aarch64.sh --quick || aarch64_status=$?
case $aarch64_status in
  0) ;;
  77) ;;
  *) status=1 ;;
esac
if [ "$aarch64_status" -ne 77 ]; then
  aarch64_logs="$aarch64/meson-logs/testlog-max.json $aarch64/meson-logs/testlog-cortex-a72.json
    $aarch64/meson-logs/testlog-models.json"
fi

# shellcheck disable=SC2086  # no log names when the aarch64 check was skipped
/usr/bin/python3 scripts/test-summary.py "$build/meson-logs/testlog.json" "$asan/meson-logs/testlog.json" \
  "$tsan/meson-logs/testlog.json" "$fuzz/meson-logs/testlog.json" $aarch64_logs
exit $status
