#!/bin/sh
# ThreadSanitizer on the threaded parts of core: a third build tree with
# -Db_sanitize=thread (and GLib's locks made visible to TSan, see
# core/base/kestrel-tsan-glib.c), in which the tests of the pool, the
# compute thread pool, the monitor (sampler thread, metrics, Prometheus
# server), the throttle and batcher and the whole engine (pipeline,
# thresholds) run. Any report fails the run (halt_on_error).
#
#   scripts/tsan.sh [TEST ...]      (default: the tests below)
#
# The tree is $KESTREL_TSAN_BUILD (default build-tsan); only the targets
# these tests need are built (scripts/test-targets.py), and the per-ISA
# kernels are not instrumented (kernels/meson.build says why). `make check`
# runs it with the default tests (scripts/check.sh); tests/README.md gives
# the time it takes.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
dir=${KESTREL_TSAN_BUILD:-build-tsan}

tests=${*:-core-pool core-thread-pool core-histogram core-ring core-metrics core-sampler
core-prometheus core-throttle core-batcher pipeline engine-thresholds}

if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" -Db_sanitize=thread -Db_lundef=false \
    -Dopencv=disabled -Dgui=disabled >/dev/null
else
  meson setup "$dir" -Db_sanitize=thread -Db_lundef=false -Dopencv=disabled -Dgui=disabled
fi

# Only what the chosen tests run and load (their programs and the targets
# they depend on: plugins), from meson's own description of the tree.
# shellcheck disable=SC2086  # $tests is a list of names
files=$(scripts/test-targets.py "$dir" $tests)
# shellcheck disable=SC2086
ninja -C "$dir" -j "${JOBS:-2}" $files

# G_SLICE=always-malloc: GLib 2.74's slice allocator hands a block freed on
# one thread to another through its own per-thread magazines, and TSan then
# sees the old owner's writes race with the new owner's (the pipeline's
# plan builder reading a graph node in memory another builder thread had
# used for a string). halt_on_error: the first report fails the test;
# second_deadlock_stack for lock-order reports; allocator_may_return_null: the pool's test asks for
# more than TSan's allocator serves (ASan's serves it) and expects a
# failure, not a report. The suppressions name the library at fault.
# shellcheck disable=SC2086  # $tests is a list of names
G_SLICE=always-malloc \
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 allocator_may_return_null=1 suppressions=$top/tests/tsan.supp" \
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 --timeout-multiplier 5 $tests
