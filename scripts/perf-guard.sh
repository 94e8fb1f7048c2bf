#!/bin/sh
# perf-guard.sh — the instruction-count regression guard.
#
#   scripts/perf-guard.sh [--update] [BUILD_DIR]
#
# Counts the instructions of one inference of each built-in model at each
# supported precision (tests/bench/perf-probe: level simd, one thread) with
# valgrind's callgrind, counting only inside kestrel_plan_run. KESTREL_ISA=avx2
# and OPENBLAS_CORETYPE=HASWELL pin the kernels, so the count is the same on
# any x86-64 machine valgrind runs on (valgrind has no AVX-512), unlike a
# time. Fails when a count rose more than 5% (KESTREL_PERF_GUARD_LIMIT) over
# tests/bench/perf-guard-baseline.txt, naming the model and precision, or
# when a pair has no baseline. --update rewrites the baseline: for commits
# that mean the change.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
update=0
if [ "${1:-}" = "--update" ]; then
  update=1
  shift
fi
build=${1:-$top/build}
probe=$build/tests/bench/perf-probe
baseline=$top/tests/bench/perf-guard-baseline.txt
limit=${KESTREL_PERF_GUARD_LIMIT:-5}

if [ ! -x "$probe" ]; then
  echo "perf-guard: $probe is not built (meson compile -C $build)" >&2
  exit 2
fi
if ! command -v valgrind >/dev/null 2>&1; then
  echo "perf-guard: valgrind is not installed (scripts/install-deps.sh --test installs it)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
export KESTREL_ISA=avx2 OPENBLAS_CORETYPE=HASWELL OPENBLAS_NUM_THREADS=1

"$probe" --list >"$tmp/pairs"
: >"$tmp/counts"
while read -r model precision; do
  if ! valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no --toggle-collect=kestrel_plan_run \
         --callgrind-out-file="$tmp/callgrind.out" "$probe" "$model" "$precision" \
         >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    echo "perf-guard: $model $precision: the probe failed under valgrind" >&2
    exit 1
  fi
  count=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/callgrind.out")
  if [ -z "$count" ] || [ "$count" -eq 0 ]; then
    echo "perf-guard: $model $precision: callgrind counted nothing in kestrel_plan_run" >&2
    exit 1
  fi
  echo "$model $precision $count" >>"$tmp/counts"
done <"$tmp/pairs"

if [ "$update" -eq 1 ]; then
  {
    echo "# Instructions of one inference (kestrel_plan_run), level simd, one thread,"
    echo "# KESTREL_ISA=avx2, OPENBLAS_CORETYPE=HASWELL: model precision count."
    echo "# Written by scripts/perf-guard.sh --update; checked by the perf-guard test."
    cat "$tmp/counts"
  } >"$baseline"
  echo "perf-guard: wrote $baseline:"
  cat "$tmp/counts"
  exit 0
fi

status=0
while read -r model precision count; do
  base=$(awk -v m="$model" -v p="$precision" '$1 == m && $2 == p { print $3 }' "$baseline")
  if [ -z "$base" ]; then
    echo "FAIL $model $precision: $count instructions, no baseline (scripts/perf-guard.sh --update)"
    status=1
    continue
  fi
  change=$(awk -v c="$count" -v b="$base" 'BEGIN { printf "%+.2f", 100 * (c - b) / b }')
  if awk -v c="$count" -v b="$base" -v l="$limit" 'BEGIN { exit !(c > b * (1 + l / 100)) }'; then
    echo "FAIL $model $precision: $count instructions, $change% over the baseline $base (limit +$limit%)"
    status=1
  else
    echo "ok   $model $precision: $count instructions ($change% against $base)"
  fi
done <"$tmp/counts"
exit $status
