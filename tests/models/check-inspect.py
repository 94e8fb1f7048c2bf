#!/usr/bin/python3
"""kestrel-cli inspect on a model it cannot plan as it is: a rule model
whose input has a free height and width (tests/models/make-rule-models.py).

1. Without --input-shape: the description is printed, the reason it cannot
   be planned names the option to use, and the exit status is 1.
2. With --input-shape: every level plans, exit status 0.
3. --json: one JSON object, with the error in it, and still exit status 1.
"""
import json
import subprocess
import sys

CLI, MODEL = sys.argv[1], sys.argv[2]
problems = []


def run(*args):
    return subprocess.run([CLI, 'inspect', MODEL, *args], capture_output=True, text=True, timeout=120)


proc = run()
print(f'inspect: exit {proc.returncode}; {proc.stdout.strip().splitlines()[-1:]}')
if proc.returncode != 1:
    problems.append(f'inspect of a model with free input sizes: exit {proc.returncode}, expected 1')
if 'Cannot be planned' not in proc.stdout or '--input-shape' not in proc.stdout:
    problems.append(f'inspect does not say why it cannot plan: {proc.stdout[-300:]!r}')
if 'Conv' not in proc.stdout:
    problems.append('inspect printed no operators before the error')

proc = run('--input-shape', 'x=1x3x32x32')
print(f'inspect --input-shape: exit {proc.returncode}')
if proc.returncode != 0 or 'full' not in proc.stdout:
    problems.append(f'inspect --input-shape x=1x3x32x32: exit {proc.returncode}: {proc.stdout[-300:]!r}'
                    f' {proc.stderr[-300:]!r}')

proc = run('--json')
print(f'inspect --json: exit {proc.returncode}')
try:
    doc = json.loads(proc.stdout)
    if 'error' not in doc:
        problems.append('inspect --json of an unplannable model has no "error"')
except ValueError:
    problems.append(f'inspect --json is not JSON: {proc.stdout[:80]!r}')
if proc.returncode != 1:
    problems.append(f'inspect --json of an unplannable model: exit {proc.returncode}, expected 1')

for p in problems:
    print('FAIL:', p)
sys.exit(1 if problems else 0)
