#!/usr/bin/python3
"""kestrel-cli benchmark and compare as a user runs them.

  check-benchmark.py KESTREL_CLI SCHEMA

- A one-cell suite (fp32, simd, batch 1) writes a result that validates
  against data/kestrel-benchmark.schema.json, a CSV that parses with one row
  per cell, and without -o saves into $XDG_DATA_HOME/kestrel/benchmarks/.
- compare of a result with itself: every cell "no significant difference",
  in text, markdown and CSV.
- Bad options are exit status 2 naming the option; files that are not
  results are exit status 1 naming the file.
- SIGINT during a suite cancels it: exit status 1, "cancelled", no file.
No timing is asserted (the machine is shared); the subprocess timeouts only
keep a hang from stalling the suite.
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time

from cli_checks import finish, interrupt

try:
    import jsonschema
except ImportError:
    sys.exit('FAIL: python3-jsonschema is not installed (scripts/install-deps.sh --test installs it)')

cli, schema_path = sys.argv[1], sys.argv[2]
problems = []
home = tempfile.mkdtemp(prefix='check-benchmark-')
env = dict(os.environ, XDG_DATA_HOME=home)
ONE_CELL = ['--precision', 'fp32', '--level', 'simd', '--batch', '1',
            '--time-per-cell', '0.3', '--rounds', '2', '--seed', '5']


def run(*args, timeout=300):
    return subprocess.run([cli, *args], capture_output=True, text=True, env=env, timeout=timeout)


def check_one_cell():
    out = os.path.join(home, 'one.json')
    table = os.path.join(home, 'one.csv')
    proc = run('benchmark', *ONE_CELL, '-o', out, '--csv', table)
    if proc.returncode != 0:
        problems.append(f'one-cell benchmark: exit {proc.returncode}: {proc.stderr.strip()}')
        return None
    with open(schema_path) as f:
        schema = json.load(f)
    with open(out) as f:
        result = json.load(f)
    try:
        jsonschema.validate(result, schema)
    except jsonschema.ValidationError as e:
        problems.append(f'one-cell result does not validate: {e.message} at {list(e.path)}')
    cells = result.get('cells', [])
    if len(cells) != 1 or cells[0].get('level') != 'simd' or cells[0].get('threads') != 1:
        problems.append(f'one-cell result has cells {[(c.get("level"), c.get("threads")) for c in cells]}')
    elif len(cells[0]['samples_ms']) != cells[0]['runs'] or cells[0]['runs'] < 10:
        problems.append(f'one-cell result: {cells[0]["runs"]} runs, {len(cells[0]["samples_ms"])} samples')
    if result.get('settings', {}).get('photos') != 5:
        problems.append(f'accuracy on {result.get("settings", {}).get("photos")} photos, expected the 5 bundled')
    if result.get('settings', {}).get('seed') != 5:
        problems.append('--seed 5 not recorded')
    with open(table, newline='') as f:
        rows = list(csv.DictReader(f))
    if len(rows) != 1 or rows[0]['level'] != 'simd' or float(rows[0]['median_ms']) <= 0:
        problems.append(f'CSV rows: {rows}')
    if 'fp32 simd t1 b1' not in proc.stdout:
        problems.append(f'the table does not name the cell: {proc.stdout[:200]!r}')
    return out


def check_default_folder():
    proc = run('benchmark', *ONE_CELL)
    folder = os.path.join(home, 'kestrel', 'benchmarks')
    saved = os.listdir(folder) if os.path.isdir(folder) else []
    if proc.returncode != 0 or len(saved) != 1 or not saved[0].endswith('-front.json'):
        problems.append(f'benchmark without -o: exit {proc.returncode}, saved {saved}: {proc.stderr.strip()}')
    elif os.path.join(folder, saved[0]) not in proc.stdout:
        problems.append('benchmark without -o does not say where it saved the result')


def check_compare(path):
    for fmt in ('text', 'markdown', 'csv'):
        proc = run('compare', '--format', fmt, path, path)
        if proc.returncode != 0:
            problems.append(f'compare --format {fmt}: exit {proc.returncode}: {proc.stderr.strip()}')
            continue
        if 'no significant difference' not in proc.stdout:
            problems.append(f'compare of a result with itself, {fmt}: {proc.stdout!r}')
        if fmt == 'csv':
            rows = list(csv.DictReader(io.StringIO(proc.stdout)))
            if len(rows) != 1 or abs(float(rows[0]['ratio']) - 1) > 1e-9:
                problems.append(f'compare --format csv rows: {rows}')
        if fmt == 'markdown' and '| fp32 simd t1 b1 |' not in proc.stdout:
            problems.append(f'compare --format markdown: {proc.stdout!r}')


def expect(args, status, words):
    proc = run(*args)
    if proc.returncode != status or any(w not in proc.stderr for w in words):
        problems.append(f'{" ".join(args)}: exit {proc.returncode} (expected {status}), '
                        f'stderr {proc.stderr.strip()!r} should name {words}')


def check_bad(path):
    missing_dir = os.path.join(home, 'no', 'such', 'folder', 'x.json')
    for args, word in [
            (['--precision', 'fp64'], '--precision'),
            (['--precision', ''], '--precision'),
            (['--level', 'turbo'], '--level'),
            (['--threads', '0'], '--threads'),
            (['--threads', '1,x'], '--threads'),
            (['--batch', '17'], '--batch'),
            (['--time-per-cell', '0'], '--time-per-cell'),
            (['--rounds', '0'], '--rounds'),
            (['--peer', 'tflite'], '--peer'),
            (['-o', missing_dir], '--output'),
            (['extra'], 'extra')]:
        expect(['benchmark', *args], 2, [word])
    expect(['compare', path], 2, ['A.json B.json'])
    expect(['compare', '--format', 'yaml', path, path], 2, ['--format'])
    not_result = os.path.join(home, 'not-a-result.json')
    with open(not_result, 'w') as f:
        json.dump({'hello': 1}, f)
    expect(['compare', path, not_result], 1, [not_result])
    expect(['compare', path, os.path.join(home, 'missing.json')], 1, ['missing.json'])
    expect(['benchmark', '--model', os.path.join(home, 'missing.onnx')], 1, ['missing.onnx'])


def check_cancel():
    out = os.path.join(home, 'cancelled.json')
    folder = os.path.join(home, 'kestrel', 'benchmarks')
    before = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    proc = subprocess.Popen([cli, 'benchmark', '--level', 'scalar', '--time-per-cell', '60', '-o', out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(2)
    stopped = interrupt(proc, 'benchmark', problems)
    if stopped is None:
        return
    returncode, err = stopped
    after = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    if returncode != 1 or 'cancelled' not in err or os.path.exists(out) or after != before:
        problems.append(f'SIGINT: exit {returncode}, stderr {err.strip()!r}, '
                        f'file written: {os.path.exists(out)}, results folder {before} -> {after}')


result = check_one_cell()
check_default_folder()
if result is not None:
    check_compare(result)
    check_bad(result)
check_cancel()
finish(problems)
