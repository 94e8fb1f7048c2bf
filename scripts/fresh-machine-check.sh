#!/bin/sh
# Proves that the README's commands work on a fresh machine: debootstraps a
# minimal Debian 12 (bookworm) into build-fresh/, clones the current commit
# into it with ../shared beside it (as CI lays them out), installs make (the
# one thing the README asks a user to install by hand) and runs .ci/run
# inside with CI=true. Prints the test summary line and the minutes taken.
# Not part of `make check`: it downloads and builds everything from scratch.
#
#   sudo scripts/fresh-machine-check.sh     (root: debootstrap and chroot)
#
# Only committed work is checked (the clone is of HEAD). The chroot reaches
# the package registries the way this machine does: its apt sources and
# configuration, CA certificates, resolv.conf and npm configuration are
# copied in at run time, never written into the repository. The full log is
# build-fresh/ci.log; the chroot stays in build-fresh/root until the next
# run replaces it.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
fresh="$top/build-fresh"
root="$fresh/root"
log="$fresh/ci.log"

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-machine-check: run as root (debootstrap and chroot need it)" >&2
  exit 2
fi
commit=$(git -C "$top" rev-parse HEAD)
started=$(date +%s)

minutes() {
  awk -v s="$1" -v e="$(date +%s)" 'BEGIN { printf "%.1f", (e - s) / 60 }'
}

# Mounts under the chroot, newest first, so they come off in reverse order.
mounted=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  # Processes still running inside (a test server, Xvfb) hold the mounts.
  for proc in /proc/[0-9]*; do
    if [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ]; then
      kill -9 "${proc#/proc/}" 2>/dev/null || true
    fi
  done
  for m in $mounted; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  mounted=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_in() { # mount_in TARGET MOUNT-ARGS...
  target=$1; shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted="$target $mounted"
}

# Leftover mounts from an interrupted run would make rm -rf reach the host.
for m in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
  umount "$m" || umount -l "$m"
done

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "fresh-machine-check: installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi

# The Debian mirror this machine's apt uses for bookworm itself.
# shellcheck disable=SC2016  # $(...) is apt's format syntax, not the shell's
mirror=$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 'Identifier: Packages' \
         | awk '$1 == "bookworm" { print $2; exit }')
if [ -z "$mirror" ]; then
  echo "fresh-machine-check: this machine's apt sources have no bookworm suite to debootstrap from" >&2
  exit 1
fi

rm -rf "$root"
mkdir -p "$fresh"
echo "fresh-machine-check: debootstrap --variant=minbase bookworm into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" > "$fresh/debootstrap.log" 2>&1 || {
  tail -20 "$fresh/debootstrap.log" >&2
  exit 1
}

# apt as this machine has it: sources, configuration, credentials, keys.
rm -f "$root/etc/apt/sources.list"
for item in sources.list sources.list.d apt.conf.d auth.conf auth.conf.d preferences.d \
            trusted.gpg trusted.gpg.d keyrings; do
  if [ -e "/etc/apt/$item" ]; then
    cp -a "/etc/apt/$item" "$root/etc/apt/"
  fi
done
# Keyrings that the sources name with Signed-By and that debootstrap did
# not bring.
for key in $(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
             | grep -oi 'signed-by[:=] *[^] ]*' | sed 's/^[^:=]*[:=] *//' | sort -u); do
  if [ -f "$key" ] && [ ! -e "$root$key" ]; then
    mkdir -p "$root$(dirname "$key")"
    cp "$key" "$root$key"
  fi
done
# A chroot cannot run services: packages that start one (prometheus) must
# not try, as in a container.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# Name resolution and TLS trust as here. The certificate bundle also goes
# into /usr/local/share/ca-certificates, so that it survives the
# ca-certificates package regenerating /etc/ssl/certs inside.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/etc/ssl/certs" "$root/usr/local/share/ca-certificates"
if [ -d /etc/ssl/certs ]; then
  cp -rL /etc/ssl/certs/. "$root/etc/ssl/certs/" 2>/dev/null || true
fi
if [ -d /usr/local/share/ca-certificates ]; then
  cp -rL /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/fresh-machine-check-host.crt"
fi
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  mkdir -p "$root$(dirname "$NODE_EXTRA_CA_CERTS")"
  cp -L "$NODE_EXTRA_CA_CERTS" "$root$NODE_EXTRA_CA_CERTS"
fi

# npm as here: the user's and the global npmrc, and the registry npm uses
# (which may come from the environment rather than a file).
mkdir -p "$root/root"
: > "$root/root/.npmrc"
if command -v npm >/dev/null 2>&1; then
  global=$(npm config get globalconfig 2>/dev/null || true)
  for rc in "$global" "${HOME:-/root}/.npmrc"; do
    if [ -n "$rc" ] && [ -f "$rc" ]; then
      cat "$rc" >> "$root/root/.npmrc"
      echo >> "$root/root/.npmrc"
    fi
  done
  echo "registry=$(npm config get registry)" >> "$root/root/.npmrc"
fi
chmod 600 "$root/root/.npmrc"

# The clone, and shared/ beside it without write bits, as CI has them.
git clone -q --no-local "$top" "$root/work/kestrel"
git -C "$root/work/kestrel" checkout -q --detach "$commit"
if [ -d "$top/../shared" ]; then
  cp -a "$top/../shared" "$root/work/shared"
  chmod -R a-w "$root/work/shared"
fi

mount_in "$root/proc" -t proc proc
mount_in "$root/sys" --bind /sys
mount_in "$root/dev" --bind /dev
mount_in "$root/dev/pts" --bind /dev/pts
mount_in "$root/dev/shm" -t tmpfs -o mode=1777 shm

# What CI's environment has from this machine, besides the basics.
passed_env=""
for var in NODE_EXTRA_CA_CERTS OPENBLAS_CORETYPE OPENBLAS_L2_SIZE \
           http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  eval "value=\${$var:-}"
  if [ -n "$value" ]; then
    passed_env="$passed_env $var=$value"
  fi
done

echo "fresh-machine-check: running .ci/run of $commit in the chroot (log: $log)"
ci_started=$(date +%s)
status=0
# shellcheck disable=SC2086  # passed_env is a list of VAR=value words
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI=true \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin $passed_env \
  /bin/sh -c 'set -e
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends make
    cd /work/kestrel
    bash .ci/run' < /dev/null > "$log" 2>&1 || status=$?

summary=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)
if [ "$status" -ne 0 ]; then
  echo "fresh-machine-check: .ci/run exited $status; the end of its log:"
  tail -30 "$log"
fi
echo "fresh-machine-check: ${summary:-no summary line (see $log)}"
echo "fresh-machine-check: .ci/run took $(minutes "$ci_started") minutes, $(minutes "$started") minutes in all"
exit "$status"
