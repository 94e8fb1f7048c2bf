"""What the kestrel-cli check scripts of this folder share: how a check
ends, and what it does when a Debian package it needs is missing."""
import os
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
