#!/bin/sh
# Runs a UI test program with a display: the session's own if there is one,
# otherwise a private Xvfb server (xvfb-run -a) with a private D-Bus session.
#
#   run-with-display.sh XVFB_RUN PROGRAM [ARGS...]
#
# XVFB_RUN is the path meson found, or "" when xvfb-run is not installed; the
# test is then skipped (exit 77) with the reason on stdout, or fails when CI
# is set (CI has every package of scripts/install-deps.sh --test).
set -eu

xvfb_run=$1
shift

missing() {
  if [ -n "${CI:-}" ]; then
    echo "FAIL: $* (and CI must have every test package)"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$@"
fi

if [ -z "$xvfb_run" ]; then
  missing "no display (DISPLAY and WAYLAND_DISPLAY unset) and xvfb-run is not installed" \
          "(Debian: xvfb xauth dbus-x11, see scripts/install-deps.sh --test)"
fi
if ! command -v dbus-run-session >/dev/null 2>&1; then
  missing "no display and dbus-run-session is not installed (Debian: dbus-x11, see scripts/install-deps.sh --test)"
fi

exec "$xvfb_run" -a -s "-screen 0 1280x1024x24" dbus-run-session -- "$@"
