#!/usr/bin/python3
"""kestrel-cli calibrate as a user runs it.

  check-calibrate.py KESTREL_CLI SAMPLES_DIR ULTRAFACE_ONNX

- Each method (minmax, percentile, mse) on the bundled photos prints a
  table (JSON: format, version, model hash, method, frames, tensors with
  min <= 0 <= max after widening, scale > 0, zero point 0..255; the input
  BlazeFace's [-1, 1]; version 2 with the sensitivity search's "mixed"
  member, the layers kept FP32 on stderr) and writes the same table with -o.
- A model no plugin decodes (UltraFace, --all-int8) is fed as the engine
  feeds it: its input's range is 0..1.
- Bad options are exit status 2 naming the option (unknown method, no
  --frames, --goal not a number or out of range, a folder that does not exist, -o in a missing folder, no MODEL,
  a stray argument); failed work is exit status 1 naming what failed (a
  folder without images, an image that does not decode, a missing model).
- SIGINT during a long calibration cancels it: exit status 1, "cancelled",
  no file written.
No timing is asserted; the subprocess timeouts only keep a hang from
stalling the suite.
"""
import json
import os
import shutil
import subprocess
import sys
import time

from cli_checks import CliHome, finish, interrupt

cli, samples, ultraface = sys.argv[1], sys.argv[2], sys.argv[3]
problems = []
cli_home = CliHome(cli, 'check-calibrate-', problems, run_timeout=300, expect_timeout=120)
home, env, run, expect = cli_home.home, cli_home.env, cli_home.run, cli_home.expect


def check_methods():
    n_photos = len([n for n in os.listdir(samples) if n.lower().endswith(('.png', '.jpg', '.jpeg'))])
    for method in ['minmax', 'percentile', 'mse']:
        out = os.path.join(home, f'{method}.json')
        proc = run('calibrate', 'front', '--frames', samples, '--method', method, '-o', out)
        where = f'calibrate --method {method}'
        if proc.returncode != 0:
            problems.append(f'{where}: exit {proc.returncode}: {proc.stderr.strip()}')
            continue
        try:
            printed = json.loads(proc.stdout)
            with open(out) as f:
                written = json.load(f)
        except (ValueError, OSError) as e:
            problems.append(f'{where}: the table does not parse: {e}')
            continue
        if printed != written:
            problems.append(f'{where}: the table printed is not the one written')
        if (printed.get('format') != 'kestrel-calibration' or printed.get('version') != 2
                or printed.get('method') != method or printed.get('frames') != n_photos
                or len(printed.get('model_hash', '')) != 64):
            problems.append(f'{where}: header {dict((k, v) for k, v in printed.items() if k != "tensors")}')
        mixed = printed.get('mixed', {})
        if not isinstance(mixed.get('fp32_layers'), list) or len(mixed.get('sensitivity', [])) != mixed.get('candidates'):
            problems.append(f'{where}: the sensitivity search is not in the table: {mixed}')
        elif 'kept FP32' not in proc.stderr:
            problems.append(f'{where}: stderr does not say which layers stay FP32: {proc.stderr.strip()!r}')
        tensors = printed.get('tensors', [])
        # BlazeFace takes pixels in [-1, 1]: its input's range says so.
        if tensors and not tensors[0]['min'] < -0.5:
            problems.append(f'{where}: the input {tensors[0]} is not BlazeFace\'s [-1, 1]')
        if len(tensors) < 10:
            problems.append(f'{where}: only {len(tensors)} tensors')
        for t in tensors:
            if not (t['scale'] > 0 and 0 <= t['zero_point'] <= 255 and t['min'] <= t['max']):
                problems.append(f'{where}: tensor {t}')
                break


def check_own_input():
    """A model no plugin decodes is fed as the engine feeds it (pixels in
    0..1 into its own input size), not as BlazeFace is."""
    proc = run('calibrate', ultraface, '--frames', samples, '--all-int8')
    where = 'calibrate ultraface --all-int8'
    if proc.returncode != 0:
        problems.append(f'{where}: exit {proc.returncode}: {proc.stderr.strip()}')
        return
    table = json.loads(proc.stdout)
    first = table['tensors'][0]
    if not (0 <= first['min'] and first['max'] <= 1.001 and first['max'] > 0.5):
        problems.append(f'{where}: the input was not fed 0..1: {first}')
    if 'mixed' in table:
        problems.append(f'{where}: --all-int8 ran the search')


def check_bad():
    empty = os.path.join(home, 'empty')
    os.makedirs(empty, exist_ok=True)
    broken = os.path.join(home, 'broken')
    os.makedirs(broken, exist_ok=True)
    with open(os.path.join(broken, 'not-a-photo.png'), 'w') as f:
        f.write('hello')
    missing = os.path.join(home, 'no-such-folder')
    expect(['calibrate', 'front', '--frames', samples, '--method', 'kl'], 2, ['--method', 'kl', 'mse'])
    expect(['calibrate', 'front'], 2, ['--frames'])
    expect(['calibrate', 'front', '--frames', samples, '--goal', 'loud'], 2, ['--goal'])
    expect(['calibrate', 'front', '--frames', samples, '--goal', '1000'], 2, ['--goal'])
    expect(['calibrate', 'front', '--frames', missing], 2, ['--frames', missing])
    expect(['calibrate', 'front', '--frames', samples, '-o', os.path.join(missing, 'x.json')], 2, ['--output'])
    expect(['calibrate', '--frames', samples], 2, ['MODEL'])
    expect(['calibrate', 'front', 'extra', '--frames', samples], 2, ['extra'])
    expect(['calibrate', 'front', '--frames', empty], 1, [empty, 'no images'])
    expect(['calibrate', 'front', '--frames', broken], 1, ['not-a-photo.png'])
    expect(['calibrate', os.path.join(home, 'missing.onnx'), '--frames', samples], 1, ['missing.onnx'])


def check_cancel():
    # Many frames (links to one photo): long enough to be cancelled.
    many = os.path.join(home, 'many')
    os.makedirs(many, exist_ok=True)
    photo = os.path.join(samples, 'astronaut.png')
    for i in range(2000):
        os.symlink(photo, os.path.join(many, f'frame-{i:04d}.png'))
    out = os.path.join(home, 'cancelled.json')
    proc = subprocess.Popen([cli, 'calibrate', 'front', '--frames', many, '--method', 'mse', '-o', out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(2)
    stopped = interrupt(proc, 'calibrate', problems)
    if stopped is None:
        return
    returncode, err = stopped
    if returncode != 1 or 'cancelled' not in err or os.path.exists(out):
        problems.append(f'SIGINT: exit {returncode}, stderr {err.strip()!r}, '
                        f'file written: {os.path.exists(out)}')


try:
    check_methods()
    check_own_input()
    check_bad()
    check_cancel()
finally:
    shutil.rmtree(home, ignore_errors=True)
finish(problems)
