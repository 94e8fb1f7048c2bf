#!/usr/bin/python3
"""What a few meson tests of a build tree need built, from meson's own
description of the tree (meson introspect), so that a tree made for a few
tests (scripts/tsan.sh's, scripts/check-aarch64.sh's) builds only those.

  test-targets.py BUILD_DIR TEST...          the files to build: each test's
                                             program and the targets it
                                             depends on (plugins), for ninja
  test-targets.py --names BUILD_DIR TEST...  the test names themselves

A TEST of the form suite:NAME stands for every test of that suite. A name
that matches no test is an error (a typo would otherwise test nothing)."""
import json
import os
import subprocess
import sys


def introspect(build, what):
    out = subprocess.run(['meson', 'introspect', what], cwd=build, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv):
    names_only = argv[:1] == ['--names']
    if names_only:
        argv = argv[1:]
    if len(argv) < 2:
        sys.exit(__doc__)
    build, wanted = argv[0], argv[1:]
    tests = introspect(build, '--tests')
    chosen, unmatched = [], []
    for want in wanted:
        if want.startswith('suite:'):
            suite = want[len('suite:'):]
            hits = [t for t in tests if any(s == suite or s.endswith(':' + suite) for s in t['suite'])]
        else:
            hits = [t for t in tests if t['name'] == want]
        if not hits:
            unmatched.append(want)
        chosen += [t for t in hits if t not in chosen]
    if unmatched:
        sys.exit('test-targets.py: no such test in ' + build + ': ' + ' '.join(unmatched))
    if names_only:
        print(' '.join(t['name'] for t in chosen))
        return
    by_id = {t['id']: t for t in introspect(build, '--targets')}
    files = set()
    for t in chosen:
        for path in [t['cmd'][0]] + [f for d in t['depends'] for f in by_id[d]['filename']]:
            files.add(os.path.relpath(path, build))
    print(' '.join(sorted(files)))


if __name__ == '__main__':
    main(sys.argv[1:])
