"""What the kestrel-cli check scripts of this folder share: how a check
ends, what it does when a Debian package it needs is missing, and a
kestrel-cli run with a user cache of its own."""
import os
import subprocess
import sys
import tempfile

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


class CliHome:
    """kestrel-cli run with its user cache (XDG_CACHE_HOME) in a fresh
    temporary folder, home, so that a check never reads or replaces the
    user's calibration cache and starts from an empty one; the check
    removes home at its end. Problems found go to the list given."""

    def __init__(self, cli, prefix, problems, run_timeout, expect_timeout):
        self.cli = cli
        self.problems = problems
        self.run_timeout = run_timeout
        self.expect_timeout = expect_timeout
        self.home = tempfile.mkdtemp(prefix=prefix)
        self.env = dict(os.environ, XDG_CACHE_HOME=os.path.join(self.home, 'cache'))

    def run(self, *args, timeout=None):
        """Runs kestrel-cli ARGS to its end: the CompletedProcess."""
        return subprocess.run([self.cli, *args], capture_output=True, text=True, env=self.env,
                              timeout=timeout or self.run_timeout)

    def expect(self, args, status, words):
        """kestrel-cli ARGS must exit with status and say each of words on
        stderr, without a GLib critical."""
        where = 'kestrel-cli ' + ' '.join(args)
        proc = self.run(*args, timeout=self.expect_timeout)
        if proc.returncode != status:
            self.problems.append(f'{where}: exit status {proc.returncode}, expected {status} '
                                 f'(stderr: {proc.stderr.strip()!r})')
            return
        for word in words:
            if word not in proc.stderr:
                self.problems.append(f'{where}: the message does not say {word!r}: '
                                     f'{proc.stderr.strip()!r}')
        if 'CRITICAL' in proc.stderr:
            self.problems.append(f'{where}: GLib complained: {proc.stderr.strip()!r}')
