#!/bin/sh
# The CPU targets of the GTK application (issues 5 and 10), measured on the
# real window under a private Xvfb server, from /proc/PID/stat (utime +
# stime):
#
#   1. a fresh start, as a new user gets it: `kestrel --run-for 60` with no
#      settings at all (so the default throttle), over 50 s after 5 s;
#   2. the window open with the pipeline paused, 30 s;
#   3. the window running the back model at a CPU budget of 25 % of one
#      core, drawing included, over 60 s after a 40 s warm-up.
#
#   scripts/measure-app-cpu.sh [BUILD_DIR]     (default: build)
#
# Settings go to a throw-away keyfile backend, so the user's are untouched.
# Not a test: the numbers depend on the machine and on what else runs.
set -eu

build=$(cd "${1:-build}" && pwd)
source_root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export GSETTINGS_SCHEMA_DIR="$build/data" GSETTINGS_BACKEND=keyfile
export XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
export KESTREL_SAMPLES_DIR="$source_root/data/samples"
export GSK_RENDERER=cairo GTK_A11Y=none NO_AT_BRIDGE=1 ADW_DISABLE_PORTAL=1
hz=$(getconf CLK_TCK)

# Percent of one core used by process $1 over the next $2 seconds.
cpu_percent () {
  t0=$(awk '{print $14 + $15}' "/proc/$1/stat"); s0=$(date +%s.%N)
  sleep "$2"
  t1=$(awk '{print $14 + $15}' "/proc/$1/stat"); s1=$(date +%s.%N)
  awk -v t0="$t0" -v t1="$t1" -v s0="$s0" -v s1="$s1" -v hz="$hz" \
    'BEGIN { printf "%.2f", (t1 - t0) / hz / (s1 - s0) * 100 }'
}

# Other people's kestrel may run on the same machine: ours carries a mark
# in its environment.
export KESTREL_MEASURE_MARK="$$-$(date +%s%N)"

run_window () {
  xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- \
    "$build/app/kestrel" "$@" >"$work/log" 2>&1 &
}

kestrel_pid () {
  for _ in $(seq 50); do
    for pid in $(pgrep -x kestrel || true); do
      if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
           grep -qx "KESTREL_MEASURE_MARK=$KESTREL_MEASURE_MARK"; then
        echo "$pid"; return
      fi
    done
    sleep 0.2
  done
  echo "kestrel did not start; its log:" >&2; cat "$work/log" >&2; exit 1
}

grep -m1 'model name' /proc/cpuinfo
echo "cores: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Fresh settings: nothing set, the schema's defaults.
run_window --run-for 60 --state-file "$work/fresh.json"
sleep 5
pid=$(kestrel_pid)
echo "fresh start (defaults: $(gsettings get org.kestrel.Kestrel throttle-mode)," \
     "budget $(gsettings get org.kestrel.Kestrel cpu-budget) %," \
     "model $(gsettings get org.kestrel.Kestrel model)):" \
     "$(cpu_percent "$pid" 50) % of one core over 50 s of kestrel --run-for 60"
wait

run_window --paused --run-for 40 --state-file "$work/paused.json"
sleep 5
pid=$(kestrel_pid)
echo "paused, window open: $(cpu_percent "$pid" 30) % of one core over 30 s"
wait

gsettings set org.kestrel.Kestrel throttle-mode budget
gsettings set org.kestrel.Kestrel cpu-budget 25
gsettings set org.kestrel.Kestrel model back
run_window --run-for 110 --state-file "$work/budget.json"
sleep 40
pid=$(kestrel_pid)
echo "budget 25, back model, window drawing: $(cpu_percent "$pid" 60) % of one core over 60 s (after 40 s warm-up)"
wait
