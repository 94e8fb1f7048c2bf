"""What the kestrel-cli check scripts of this folder share: how a check
ends, and what it does when a Debian package it needs is missing."""
import os
import subprocess
import sys

SKIP = 77


def finish(problems):
    """Prints every problem and exits 1, or says all passed."""
    for p in problems:
        print('FAIL:', p)
    if problems:
        sys.exit(1)
    print('all checks passed')


def missing(program, package):
    """Skips (exit 77) naming the package; fails in CI, where
    scripts/install-deps.sh --test has installed every test package."""
    message = f'{program} is not installed (Debian package {package}'
    if os.environ.get('CI'):
        print(message + '), and CI must have every test package: add it to '
              'scripts/install-deps.sh --test')
        sys.exit(1)
    print(message + '; scripts/install-deps.sh --test installs it)')
    sys.exit(SKIP)


def interrupt(proc, what, problems, wait=60):
    """Sends SIGINT to a running kestrel-cli and waits for it: its exit
    status and stderr, or None (a problem noted) when it did not stop."""
    import signal
    import time
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        problems.append(f'{what} did not stop within {wait} s of SIGINT')
        return None
    print(f'{what} stopped {time.monotonic() - sent:.2f} s after SIGINT')
    return proc.returncode, err
