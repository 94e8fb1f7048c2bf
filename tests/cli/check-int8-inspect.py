#!/usr/bin/python3
"""kestrel-cli inspect --precision int8 and the calibration cache it shares
with the engine, as a user meets them.

  check-int8-inspect.py KESTREL_CLI

In a user cache of its own (XDG_CACHE_HOME in a temporary folder):
- inspect front --precision int8 --json: the plan layer by layer (layer,
  op, precision, weight bytes; SQNR and MSE against FP32 where the
  calibration measured them), INT8 layers among them, the weight bytes of
  the INT8 plan below FP32's, the calibration's goal and the layers kept
  FP32; the table is now in the cache (kestrel/calibration/<hash>-minmax.json,
  version 2, with the search's "mixed" member).
- Run again: the cached table is reused (the file is not rewritten) and
  the report is the same.
- The cache file corrupted: a warning naming it, the report all the same,
  and the file is a valid table again.
- The text report has the per-layer table and the kept layers.
- --precision int3 is a usage error (exit status 2).
No timing is asserted.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

from cli_checks import finish

cli = sys.argv[1]
problems = []
home = tempfile.mkdtemp(prefix='check-int8-inspect-')
env = dict(os.environ, XDG_CACHE_HOME=os.path.join(home, 'cache'))
cache_dir = os.path.join(home, 'cache', 'kestrel', 'calibration')


def run(*args):
    return subprocess.run([cli, *args], capture_output=True, text=True, env=env, timeout=600)


def inspect_json(where):
    proc = run('inspect', 'front', '--precision', 'int8', '--json')
    if proc.returncode != 0:
        problems.append(f'{where}: exit {proc.returncode}: {proc.stderr.strip()}')
        return None, proc.stderr
    try:
        return json.loads(proc.stdout), proc.stderr
    except ValueError as e:
        problems.append(f'{where}: not JSON: {e}')
        return None, proc.stderr


def check_report(report, where):
    p = report.get('precision')
    if p is None:
        problems.append(f'{where}: no "precision" member: {sorted(report)}')
        return
    layers = p.get('layers', [])
    int8 = [l for l in layers if l.get('precision') == 'int8']
    measured = [l for l in layers if 'sqnr_db' in l and 'mse' in l]
    if p.get('precision') != 'int8' or not int8:
        problems.append(f'{where}: no INT8 layer in {len(layers)}')
    for l in layers:
        if not {'layer', 'op', 'precision', 'weight_bytes'} <= set(l):
            problems.append(f'{where}: layer {l} lacks a member')
            break
    if len(measured) < len(int8) // 2:
        problems.append(f'{where}: only {len(measured)} layers with SQNR and MSE ({len(int8)} INT8)')
    for l in measured:
        if l['mse'] is None or l['mse'] < 0 or (l['sqnr_db'] is not None and not -50 < l['sqnr_db'] < 200):
            problems.append(f'{where}: layer {l}')
            break
    if not 0 < p.get('weight_bytes', 0) < p.get('fp32_weight_bytes', 0):
        problems.append(f'{where}: weight bytes {p.get("weight_bytes")} vs FP32 {p.get("fp32_weight_bytes")}')
    c = p.get('calibration', {})
    if c.get('method') != 'minmax' or 'goal_output_sqnr_db' not in c or not isinstance(c.get('fp32_layers'), list):
        problems.append(f'{where}: calibration {c}')
    elif c['output_sqnr_db'] is not None and c['output_sqnr_db'] < c['goal_output_sqnr_db'] \
            and len(c['fp32_layers']) < c['candidates']:
        problems.append(f'{where}: goal not reached with layers left INT8: {c}')
    names = {l['layer'] for l in layers if l['precision'] == 'fp32'}
    for kept in c.get('fp32_layers', []):
        if kept not in names:
            problems.append(f'{where}: the kept layer {kept} is not an FP32 step of the plan')


def cache_files():
    return glob.glob(os.path.join(cache_dir, '*-minmax.json'))


try:
    first, _ = inspect_json('first run')
    if first is not None:
        check_report(first, 'first run')
    files = cache_files()
    if len(files) != 1:
        problems.append(f'after the first run the cache holds {files}')
    else:
        path = files[0]
        with open(path) as f:
            table = json.load(f)
        if table.get('version') != 2 or 'mixed' not in table or table.get('method') != 'minmax':
            problems.append(f'cache file {path}: {dict((k, v) for k, v in table.items() if k != "tensors")}')
        before = os.stat(path).st_mtime_ns

        again, _ = inspect_json('second run')
        if os.stat(path).st_mtime_ns != before:
            problems.append('second run: the cached table was written again, not reused')
        if again is not None and first is not None and again.get('precision') != first.get('precision'):
            problems.append('second run: the report differs from the first')

        with open(path, 'w') as f:
            f.write('{"format": "kestrel-calibration", "version": ')
        third, err = inspect_json('corrupt cache')
        if 'corrupt' not in err or path not in err:
            problems.append(f'corrupt cache: no warning naming it: {err.strip()!r}')
        if third is not None:
            check_report(third, 'corrupt cache')
        try:
            with open(path) as f:
                json.load(f)
        except ValueError as e:
            problems.append(f'corrupt cache: not rebuilt ({e})')

    proc = run('inspect', 'front', '--precision', 'int8')
    if proc.returncode != 0 or 'SQNR' not in proc.stdout or 'weights B' not in proc.stdout \
            or 'kept FP32' not in proc.stdout:
        problems.append(f'text report: exit {proc.returncode}: {proc.stdout[-800:]!r}')
    proc = run('inspect', 'front', '--precision', 'int3')
    if proc.returncode != 2 or '--precision' not in proc.stderr:
        problems.append(f'--precision int3: exit {proc.returncode}: {proc.stderr.strip()!r}')
finally:
    shutil.rmtree(home, ignore_errors=True)
finish(problems)
