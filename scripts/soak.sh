#!/bin/sh
# The soak: Kestrel left running for hours while its settings keep changing.
#
#   scripts/soak.sh --hours H [--every SECONDS] [--seed N] [--budget PCT]
#                   [--asan] [--build DIR] [--out DIR]
#                   [--video FILE] [--photos DIR] [--sample-every SECONDS]
#                   [--checkpoint-every SECONDS]
#   scripts/soak.sh --seconds S ...      (a short run: the smoke test's)
#
# Runs `kestrel-cli run` on a video (opencv-doc's vtest.avi) under a CPU
# budget, with the canary on, and a live reconfiguration every --every seconds (3) drawn at
# random by `run --reconfigure-every` (app/cli-run-storm.c): precision,
# level, threads, batch, budget, model (front, back) or source (the video or
# the folder of photos, data/samples). The same engine call the window's
# controls make, kestrel_engine_reconfigure(), in the process a user runs.
# Meanwhile this script samples the process's resident memory (VmRSS) every
# --sample-every seconds (10). Every --checkpoint-every seconds (60) the
# storm goes back to the starting settings for a few seconds and the run
# prints its resident size there (a checkpoint): the samples every 10 s
# scatter by tens of MB with the settings in effect (the back model at
# batch 8 needs more than the front one at batch 1), the checkpoints only
# by what the run has kept, so their slope is the one that measures growth.
#
# At the end scripts/soak-report.py prints frames, errors,
# reconfigurations, rollbacks, the RSS slope in MB/hour at the checkpoints
# and over all the samples (each by least squares over the last two thirds:
# the first third is the warm-up, plans and caches filling), the frame
# pool's buffers still out, and with --asan (build-asan, or
# $KESTREL_ASAN_BUILD: an -Db_sanitize=address,undefined tree as `make
# check` builds it) the LeakSanitizer report.
#
# Exit status 0 when the run had no errors, no lost frames, no leaks,
# nothing left in the pool and (over an hour or more, in an ordinary build)
# a slope at the checkpoints under 1 MB/hour; 1 otherwise. Not part of
# `make check` (it runs for hours); tests/cli/check-soak.py runs it for
# 20 s there.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)

seconds=
every=3
seed=1
budget=100
asan=0
build=${KESTREL_BUILD:-$top/build}
out=
video=/usr/share/doc/opencv-doc/examples/data/vtest.avi
photos=$top/data/samples
sample_every=10
checkpoint_every=60

usage() {
  echo "usage: scripts/soak.sh --hours H | --seconds S [--every SECONDS] [--seed N] [--budget PCT]" >&2
  echo "       [--asan] [--build DIR] [--out DIR] [--video FILE] [--photos DIR] [--sample-every SECONDS]" >&2
  echo "       [--checkpoint-every SECONDS]" >&2
  exit 2
}

need_value() {
  [ $# -ge 2 ] || { echo "scripts/soak.sh: $1 needs a value" >&2; usage; }
}

while [ $# -gt 0 ]; do
  case $1 in
    --hours) need_value "$@"; seconds=$(awk -v h="$2" 'BEGIN { if (h + 0 <= 0) exit 1; printf "%d", h * 3600 }') \
               || { echo "scripts/soak.sh: --hours must be a number above 0, not '$2'" >&2; exit 2; }; shift 2 ;;
    --seconds) need_value "$@"; seconds=$2; shift 2 ;;
    --every) need_value "$@"; every=$2; shift 2 ;;
    --seed) need_value "$@"; seed=$2; shift 2 ;;
    --budget) need_value "$@"; budget=$2; shift 2 ;;
    --asan) asan=1; build=${KESTREL_ASAN_BUILD:-$top/build-asan}; shift ;;
    --build) need_value "$@"; build=$2; shift 2 ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    --video) need_value "$@"; video=$2; shift 2 ;;
    --photos) need_value "$@"; photos=$2; shift 2 ;;
    --sample-every) need_value "$@"; sample_every=$2; shift 2 ;;
    --checkpoint-every) need_value "$@"; checkpoint_every=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "scripts/soak.sh: unknown option '$1'" >&2; usage ;;
  esac
done
[ -n "$seconds" ] || { echo "scripts/soak.sh: --hours or --seconds is needed" >&2; usage; }
case $seconds$sample_every in
  *[!0-9]*) echo "scripts/soak.sh: --seconds and --sample-every are whole seconds" >&2; exit 2 ;;
esac

cli=$build/app/kestrel-cli
[ -x "$cli" ] || { echo "scripts/soak.sh: no $cli: build it first (meson compile -C $build)" >&2; exit 1; }
[ -f "$video" ] || { echo "scripts/soak.sh: no video $video (Debian's opencv-doc has it: scripts/install-deps.sh)" >&2; exit 1; }
[ -d "$photos" ] || { echo "scripts/soak.sh: no folder of photos $photos" >&2; exit 1; }

if [ -z "$out" ]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/kestrel-soak-XXXXXX")
fi
mkdir -p "$out"
: >"$out/rss.txt"

if [ $asan = 1 ]; then
  # As `make check` runs the ASan tree: full stacks so that the library
  # suppressions of tests/lsan.supp can match.
  ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0
  LSAN_OPTIONS=suppressions=$top/tests/lsan.supp
  UBSAN_OPTIONS=print_stacktrace=1
  export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
fi

echo "soak: $seconds s, a reconfiguration every $every s (seed $seed), budget $budget %, $cli"
echo "soak: logs in $out"
"$cli" info 2>/dev/null | grep -i -m 2 -e 'cpu' -e 'model name' || true

# The photos' folder loops with no hold: frames as fast as the budget lets.
# The canary checks every 100th frame against the scalar reference (the
# window checks every 300th), so a reconfiguration that breaks the
# results is a rollback in the report.
"$cli" run --json --duration "$seconds" --budget "$budget" --canary 100 \
  --source "file:$video" --reconfigure-every "$every" --seed "$seed" \
  --reconfigure-source "images:$photos" --checkpoint-every "$checkpoint_every" \
  >"$out/run.jsonl" 2>"$out/stderr.txt" &
pid=$!

# Ctrl-C stops the run cleanly (it prints its summary) and the report follows.
trap 'kill -INT $pid 2>/dev/null || true' INT TERM

start=$(date +%s)
while kill -0 $pid 2>/dev/null; do
  rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  if [ -n "$rss_kb" ]; then
    echo "$(( $(date +%s) - start )) $rss_kb" >>"$out/rss.txt"
  fi
  # Sleep in steps of one second so that the end of the run is seen soon.
  i=0
  while [ $i -lt "$sample_every" ] && kill -0 $pid 2>/dev/null; do
    sleep 1
    i=$((i + 1))
  done
done
status=0
wait $pid || status=$?
trap - INT TERM

/usr/bin/python3 "$top/scripts/soak-report.py" --exit-status "$status" --asan "$asan" \
  "$out/run.jsonl" "$out/rss.txt" "$out/stderr.txt"
