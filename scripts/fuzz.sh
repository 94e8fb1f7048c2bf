#!/bin/sh
# Runs one libFuzzer target of tests/fuzz for a while, in a clang build
# tree with ASan and UBSan (set up here on first use, building only the
# fuzz targets and the plugins they load).
#
#   scripts/fuzz.sh TARGET SECONDS [LIBFUZZER OPTION...]
#   scripts/fuzz.sh --list           the targets
#   scripts/fuzz.sh --replay         every target over its corpus and
#                                    regressions once, in the clang tree
#
# TARGET is model, tensor, bench-result, quant-table, source-options or
# image. The
# fuzzer starts from the committed corpus (tests/fuzz/corpus/TARGET, read
# only) and the crash regressions, and keeps what it finds in
# $KESTREL_FUZZ_BUILD/corpus/TARGET (not committed: minimise what is worth
# keeping into the corpus with -merge=1). A crash leaves crash-* / oom-* /
# timeout-* files in $KESTREL_FUZZ_BUILD/artifacts/TARGET and fails; copy
# one into tests/fuzz/regressions/TARGET/ with the fix. It ends with
# libFuzzer's last status line: executions, coverage ("cov", edges) and
# features ("ft").
#
# The build tree is $KESTREL_FUZZ_BUILD (default build-fuzz).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${KESTREL_FUZZ_BUILD:-build-fuzz}
targets="model tensor bench-result quant-table source-options image"

usage() {
  echo "usage: scripts/fuzz.sh TARGET SECONDS [LIBFUZZER OPTION...] | --list | --replay" >&2
  echo "targets: $targets" >&2
  exit 2
}

[ $# -ge 1 ] || usage
if [ "$1" = "--list" ]; then
  printf '%s\n' $targets
  exit 0
fi

# clang (Debian's clang, and libclang-rt-14-dev for libFuzzer and the
# sanitizer runtimes) is installed by scripts/install-deps.sh --test.
# Runs started side by side (one per target) take turns to set up and
# build the tree (flock, util-linux): two meson runs at once in one tree
# fail. What meson says is shown only when it fails.
exec 9>"$build.lock"
flock 9
setup_log=$(mktemp)
trap 'rm -f "$setup_log"' EXIT
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" >"$setup_log" 2>&1 || { cat "$setup_log" >&2; exit 1; }
else
  CC=/usr/bin/clang meson setup "$build" -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dgui=disabled -Dopencv=disabled >"$setup_log" 2>&1 || { cat "$setup_log" >&2; exit 1; }
fi
fuzz_exes=""
for t in $targets; do
  fuzz_exes="$fuzz_exes tests/fuzz/fuzz-$t"
done
# shellcheck disable=SC2086  # the target list is split on purpose
meson compile -C "$build" $fuzz_exes plugins/sources/sources >"$setup_log" 2>&1 || { cat "$setup_log" >&2; exit 1; }
flock -u 9

# Leaks are reported (LeakSanitizer runs at the end of each input);
# UBSan stops at the first finding, so that it is a crash with an input.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp}"

if [ "$1" = "--replay" ]; then
  meson test -C "$build" --suite fuzz --print-errorlogs
  exit $?
fi

[ $# -ge 2 ] || usage
target=$1
seconds=$2
shift 2
case " $targets " in
  *" $target "*) ;;
  *) echo "scripts/fuzz.sh: unknown target '$target'" >&2; usage ;;
esac
case "$seconds" in
  ''|*[!0-9]*) echo "scripts/fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; usage ;;
esac

# -timeout: one input taking longer is a crash (a hang). The sanitizers
# and coverage make inputs about 100 times slower than an ordinary build
# (a 172-byte model with a large AveragePool: 0.4 s there, 37 s here at
# nice 19 on a loaded 2-core machine), so the limit is generous.
# The same caps as the targets' own (FUZZ_*_MAX_BYTES), so libFuzzer does
# not grow inputs the target skips.
case "$target" in
  model|tensor) max_len=1048576 ;;
  bench-result|quant-table|image) max_len=262144 ;;
  source-options) max_len=4096 ;;
esac

work="$build/corpus/$target"
artifacts="$build/artifacts/$target"
mkdir -p "$work" "$artifacts"
seeds="tests/fuzz/corpus/$target"
regressions=""
if [ -d "tests/fuzz/regressions/$target" ]; then
  regressions="tests/fuzz/regressions/$target"
fi
dict=""
if [ -f "tests/fuzz/$target.dict" ]; then
  dict="-dict=tests/fuzz/$target.dict"
fi

log="$build/fuzz-$target.log"
status=0
# shellcheck disable=SC2086  # $dict and $regressions may be empty
"$build/tests/fuzz/fuzz-$target" -max_total_time="$seconds" -max_len="$max_len" \
  -timeout=120 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" $dict "$@" \
  "$work" "$seeds" $regressions >"$log" 2>&1 || status=$?

# The last status line: "#N DONE cov: E ft: F corp: ... exec/s: ...".
# -a: the log quotes inputs, so it may hold any bytes; grep must not call it binary.
grep -a -E '^#[0-9]+' "$log" | tail -n 1 || true
grep -a -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
if [ "$status" -ne 0 ]; then
  echo "scripts/fuzz.sh: fuzz-$target failed (status $status); the end of $log:" >&2
  tail -n 40 "$log" >&2
  ls "$artifacts" >&2
fi
exit "$status"
