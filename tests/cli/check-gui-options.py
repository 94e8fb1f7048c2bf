#!/usr/bin/python3
"""kestrel's (the window's) command line, checked without a window: every
wrong option is exit status 2, as kestrel(1) says, before any window opens
(so no display is needed).

  check-gui-options.py KESTREL
"""
import os
import subprocess
import sys
import tempfile

from cli_checks import finish

KESTREL = sys.argv[1]


def main():
    problems = []
    env = dict(os.environ)
    env.pop('DISPLAY', None)
    env.pop('WAYLAND_DISPLAY', None)
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            (['--bogus'], '--bogus'),
            (['--run-for', 'soon', '--state-file', os.path.join(tmp, 'r.json')], 'soon'),
            (['--run-for', '-1', '--state-file', os.path.join(tmp, 'r.json')], '--run-for'),
            (['stray'], 'stray'),
            (['--run-for', '5', '--state-file', os.path.join(tmp, 'missing', 'r.json')],
             '--state-file'),
            (['--run-for', '5', '--state-file', tmp], '--state-file'),
        ]
        for args, word in cases:
            where = 'kestrel ' + ' '.join(args)
            try:
                proc = subprocess.run([KESTREL] + args, capture_output=True, text=True,
                                      timeout=60, env=env)
            except subprocess.TimeoutExpired:
                problems.append(f'{where}: still running after 60 s')
                continue
            if proc.returncode != 2:
                problems.append(f'{where}: exit status {proc.returncode}, expected 2 '
                                f'({proc.stderr.strip()!r})')
            elif word not in proc.stderr:
                problems.append(f'{where}: the message does not name {word!r}: '
                                f'{proc.stderr.strip()!r}')
            if 'CRITICAL' in proc.stderr:
                problems.append(f'{where}: {proc.stderr.strip()!r}')
    finish(problems)


if __name__ == '__main__':
    main()
