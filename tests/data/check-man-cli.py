#!/usr/bin/python3
"""kestrel-cli(1) documents every command and option that exists.

Asks the built kestrel-cli for its commands (`--help`) and each command for
its long options (`COMMAND --help`), then looks for each in the man page
source: a command needs its own `.SS "COMMAND ..."` subsection, and each of
its options must appear in that subsection. Every KESTREL_* or OPENBLAS_*
environment variable read by the code under app/, core/, kernels/ and
plugins/ must appear in the ENVIRONMENT section.

  check-man-cli.py KESTREL_CLI MAN_PAGE_SOURCE SOURCE_ROOT
"""
import os
import re
import subprocess
import sys


def run_help(cli, *args):
    result = subprocess.run([cli, *args, '--help'], capture_output=True,
                            text=True, errors='replace', timeout=60)
    if result.returncode != 0:
        sys.exit(f'FAIL: {" ".join([cli, *args, "--help"])} exited with '
                 f'{result.returncode}:\n{result.stderr}')
    return result.stdout


def commands(cli):
    names = []
    in_list = False
    for line in run_help(cli).splitlines():
        if line.strip() == 'Commands:':
            in_list = True
            continue
        if in_list:
            m = re.match(r'^\s+([a-z][a-z0-9-]*)\s', line)
            if m:
                names.append(m.group(1))
            elif not line.strip():
                break
    return names


def long_options(cli, command):
    options = []
    in_group = False
    for line in run_help(cli, command).splitlines():
        if line.strip().endswith('Options:'):
            # GOption's own --help, --help-all live under "Help Options:".
            in_group = not line.strip().startswith('Help')
            continue
        if in_group:
            m = re.match(r'^\s+(?:-\w, )?--([a-z0-9][a-z0-9-]*)', line)
            if m:
                options.append(m.group(1))
            elif not line.strip():
                in_group = False
    return options


def sections(troff, macro):
    """Maps the first word of each `.SS`/`.SH` heading to its body."""
    parts = {}
    current = None
    for line in troff.splitlines():
        m = re.match(r'^\.(SS|SH)\s+"?([^"\s]+)', line)
        if m:
            current = m.group(2).replace('\\-', '-') if m.group(1) == macro else None
            if current is not None:
                parts[current] = line + '\n'
            continue
        if current is not None:
            parts[current] += line + '\n'
    return parts


def env_vars(root):
    found = {}
    pattern = re.compile(r'getenv\s*\(\s*"((?:KESTREL|OPENBLAS)_[A-Z0-9_]+)"')
    for top in ('app', 'core', 'kernels', 'plugins'):
        for folder, dirs, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith(('.c', '.h', '.cpp')):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding='utf-8', errors='replace') as f:
                    for var in pattern.findall(f.read()):
                        found.setdefault(var, os.path.relpath(path, root))
    return found


def main(cli, page, root):
    with open(page, encoding='utf-8') as f:
        troff = f.read()
    subsections = sections(troff, 'SS')
    problems = []

    names = commands(cli)
    if not names:
        problems.append('kestrel-cli --help listed no commands')
    for command in names:
        body = subsections.get(command)
        if body is None:
            problems.append(f'command "{command}" has no .SS "{command} ..." subsection')
            continue
        for option in long_options(cli, command):
            escaped = '\\-\\-' + option.replace('-', '\\-')
            if escaped not in body:
                problems.append(f'option --{option} of "{command}" is not in its subsection '
                                f'(write it as {escaped})')
        print(f'{command}: documented')

    environment = sections(troff, 'SH').get('ENVIRONMENT', '')
    for var, where in sorted(env_vars(root).items()):
        if var.replace('_', '\\_') not in environment and var not in environment:
            problems.append(f'environment variable {var} (read in {where}) is not in ENVIRONMENT')
        else:
            print(f'{var}: documented')

    if problems:
        print(f'\n{page} is out of date:')
        for problem in problems:
            print(f'FAIL: {problem}')
        return 1
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
