#!/usr/bin/python3
"""Run a validator and fail on anything it reports.

Validators such as desktop-file-validate and appstreamcli exit 0 on hints
and infos; these tests hold the files to "nothing to say".

  run-tool.py [--quiet] [--stderr-only] [--fail-pattern REGEX]... -- CMD ARG...
  run-tool.py --missing NAME [PACKAGE]

--quiet          any output fails (after --stderr-only, only stderr counts)
--stderr-only    stdout is discarded (e.g. the page man renders)
--fail-pattern   a line matching REGEX fails
--missing        the tool is not installed: skip (exit 77), naming the
                 Debian package that provides it; fail instead when the
                 environment variable CI is set, where every package of
                 scripts/install-deps.sh --test must be there
"""
import os
import re
import subprocess
import sys

SKIP = 77


def main(argv):
    quiet = False
    stderr_only = False
    patterns = []
    i = 0
    while i < len(argv) and argv[i] != '--':
        arg = argv[i]
        if arg == '--quiet':
            quiet = True
        elif arg == '--stderr-only':
            stderr_only = True
        elif arg == '--fail-pattern':
            i += 1
            patterns.append(re.compile(argv[i]))
        elif arg == '--missing':
            name = argv[i + 1]
            package = argv[i + 2] if i + 2 < len(argv) else name
            if os.environ.get('CI'):
                print(f'{name} is not installed (Debian package {package}), and CI '
                      'must have every test package: add it to scripts/install-deps.sh --test')
                return 1
            print(f'{name} is not installed (Debian package {package}; '
                  'scripts/install-deps.sh --test installs it)')
            return SKIP
        else:
            print(f'run-tool.py: unknown option {arg}', file=sys.stderr)
            return 2
        i += 1
    command = argv[i + 1:]
    if not command:
        print('run-tool.py: no command given', file=sys.stderr)
        return 2

    print('$ ' + ' '.join(command))
    result = subprocess.run(command, capture_output=True, text=True,
                            errors='replace')
    output = result.stderr if stderr_only else result.stdout + result.stderr
    if output:
        print(output, end='' if output.endswith('\n') else '\n')

    failures = []
    if result.returncode != 0:
        failures.append(f'exit status {result.returncode}')
    if quiet and output.strip():
        failures.append('it reported something (see above); expected no output')
    for line in output.splitlines():
        for pattern in patterns:
            if pattern.search(line):
                failures.append(f'reported: {line.strip()}')
    if failures:
        for failure in failures:
            print(f'FAIL: {failure}')
        return 1
    print('OK')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
