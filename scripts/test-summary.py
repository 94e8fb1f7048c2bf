#!/usr/bin/python3
"""Adds up meson's JSON test logs into one closing line:
"N passed, N failed, N skipped" (meson tests, as meson counts them).

Above it, what did not run and why, so that a skip is never silent: whole
tests that skipped, the parts (TAP subtests) of passing tests that skipped,
and the instruction sets the kernel tests could not run on this CPU
(in no tree: NEON counts as checked when the aarch64 tree checked it)."""
import json
import os
import re
import sys

TAP_SKIP = re.compile(r'^ok \d+ (\S+) # SKIP\s*(.*)$')
ISA_SKIP = re.compile(r'^# skipping (\S+): (this CPU does not support it)\s*$')
ISA_CHECKED = re.compile(r'^# checking (\S+) ')
REASON = re.compile(r'^(?:SKIP:|1\.\.0 # SKIP|# SKIP)\s*(.*)$')
# More skipped parts than this in one test are counted, with one example.
LIST_AT_MOST = 5


def skip_reason(output):
    """The reason a whole test gave for skipping."""
    lines = [l.strip() for l in output.splitlines() if l.strip()]
    for line in lines:
        m = REASON.match(line)
        if m:
            return m.group(1)
    return lines[-1] if lines else 'no reason given'


def main(paths):
    passed = failed = skipped = 0
    whole = {}       # test name -> reason
    parts = {}       # test name -> {subtest: reason}
    isas = {}        # (isa, reason) -> set of test names
    checked = set()  # instruction sets some tree's kernel tests did check
    for index, path in enumerate(paths):
        # The first log is the main build; others (the sanitizer build) are
        # named after their build folder.
        tree = '' if index == 0 else f' ({os.path.basename(os.path.dirname(os.path.dirname(path)))})'
        # One tree's runs logged apart (--logbase testlog-max, the aarch64
        # tree at each emulated CPU model) are named by what follows.
        stem = os.path.splitext(os.path.basename(path))[0]
        if index > 0 and stem.startswith('testlog-'):
            tree = tree[:-1] + ' ' + stem[len('testlog-'):] + ')'
        try:
            with open(path, encoding='utf-8') as log:
                entries = [json.loads(line) for line in log if line.strip()]
        except FileNotFoundError:
            print(f'missing test log: {path}', file=sys.stderr)
            failed += 1
            continue
        for entry in entries:
            name = entry.get('name', '?').split(' / ')[-1] + tree
            output = entry.get('stdout') or ''
            result = entry.get('result')
            if result in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif result == 'SKIP':
                skipped += 1
                whole[name] = skip_reason(output)
                continue
            else:
                failed += 1
            for line in output.splitlines():
                m = TAP_SKIP.match(line.strip())
                if m:
                    parts.setdefault(name, {})[m.group(1)] = m.group(2) or 'no reason given'
                m = ISA_SKIP.match(line.strip())
                if m:
                    isas.setdefault((m.group(1), m.group(2)), set()).add(name)
                m = ISA_CHECKED.match(line.strip())
                if m:
                    checked.add(m.group(1))

    # An instruction set another tree checked (NEON in the aarch64 tree
    # under emulation, x86's natively) is not one left unchecked.
    isas = {key: names for key, names in isas.items() if key[0] not in checked}

    if whole or parts or isas:
        print('Not run here, and why:')
    for name, reason in sorted(whole.items()):
        print(f'  {name} (skipped): {reason}')
    for name, subtests in sorted(parts.items()):
        if len(subtests) > LIST_AT_MOST:
            first, reason = sorted(subtests.items())[0]
            print(f'  {name}: {len(subtests)} parts skipped (its log gives each reason), '
                  f'e.g. {first}: {reason}')
            continue
        for subtest, reason in sorted(subtests.items()):
            print(f'  {name} {subtest}: {reason}')
    for (isa, reason), names in sorted(isas.items()):
        print(f'  {isa} kernels ({reason}): not cross-checked by {", ".join(sorted(names))}')

    print(f'{passed} passed, {failed} failed, {skipped} skipped')


if __name__ == '__main__':
    main(sys.argv[1:])
