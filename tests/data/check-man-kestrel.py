#!/usr/bin/python3
"""kestrel(1) documents every option the built `kestrel` has and every
KESTREL_* variable the code under ui/ reads.

Asks `kestrel --help` for its long options (those under "Application
Options:", not GOption's and GApplication's own help options) and looks
for each, written as troff `\\-\\-name`, in the OPTIONS section; then looks
for each KESTREL_* name read with getenv() in ui/ in the ENVIRONMENT
section (kestrel-cli's variables are checked against kestrel-cli(1)).

  check-man-kestrel.py KESTREL MAN_PAGE_SOURCE SOURCE_ROOT
"""
import os
import re
import subprocess
import sys


def sections(troff):
    parts, current = {}, None
    for line in troff.splitlines():
        m = re.match(r'^\.SH\s+"?([^"]+?)"?\s*$', line)
        if m:
            current = m.group(1)
            parts[current] = ''
            continue
        if current is not None:
            parts[current] += line + '\n'
    return parts


def main(kestrel, page, root):
    result = subprocess.run([kestrel, '--help'], capture_output=True, text=True,
                            errors='replace', timeout=60,
                            env=dict(os.environ, LC_ALL='C.UTF-8', LANGUAGE=''))
    if result.returncode != 0:
        sys.exit(f'FAIL: {kestrel} --help exited with {result.returncode}:\n{result.stderr}')
    options, in_group = [], False
    for line in result.stdout.splitlines():
        if line.strip().endswith('Options:'):
            in_group = line.strip() == 'Application Options:'
            continue
        m = re.match(r'^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)', line)
        if in_group and m:
            options.append(m.group(1))

    with open(page, encoding='utf-8') as f:
        parts = sections(f.read())
    problems = []
    if not options:
        problems.append('kestrel --help listed no application options')
    for option in options:
        escaped = '\\-\\-' + option.replace('-', '\\-')
        if escaped not in parts.get('OPTIONS', ''):
            problems.append(f'option --{option} is not in OPTIONS (write it as {escaped})')
        else:
            print(f'--{option}: documented')

    pattern = re.compile(r'getenv\s*\(\s*"(KESTREL_[A-Z0-9_]+)"')
    for folder, _, files in os.walk(os.path.join(root, 'ui')):
        for name in files:
            if name.endswith(('.c', '.h')):
                with open(os.path.join(folder, name), encoding='utf-8', errors='replace') as f:
                    for var in pattern.findall(f.read()):
                        if var not in parts.get('ENVIRONMENT', ''):
                            problems.append(f'{var} (read in ui/{name}) is not in ENVIRONMENT')
                        else:
                            print(f'{var}: documented')

    for problem in problems:
        print(f'FAIL: {problem}')
    return 1 if problems else 0


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
