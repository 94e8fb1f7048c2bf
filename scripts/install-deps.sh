#!/bin/sh
# Installs the Debian 12 packages Kestrel needs to build, run and test,
# non-interactively, and only those that are missing (so a second run does
# nothing and needs no network).
#
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also what the test suite needs
set -eu

packages="
  gcc g++ pkg-config meson ninja-build
  libglib2.0-dev libjson-glib-dev
  libopenblas-dev
"
# Used by the test suite and benchmarks only: OpenCV is the peer in
# kestrel-cli bench-kernels; the system python3 checks JSON output.
test_packages="
  python3
  libopencv-dev
"

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

if [ -z "$missing" ]; then
  exit 0
fi

echo "Installing missing Debian packages:$missing"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086  # word splitting of the package list is intended
$sudo apt-get install -y -qq --no-install-recommends $missing
