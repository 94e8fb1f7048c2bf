#!/usr/bin/python3
"""kestrel-cli calibrate as a user runs it.

  check-calibrate.py KESTREL_CLI SAMPLES_DIR

- Each method (minmax, percentile, mse) on the bundled photos prints a
  table (JSON: format, version, model hash, method, frames, tensors with
  min <= 0 <= max after widening, scale > 0, zero point 0..255) and writes
  the same table with -o.
- Bad options are exit status 2 naming the option (unknown method, no
  --frames, a folder that does not exist, -o in a missing folder, no MODEL,
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
import tempfile
import time

from cli_checks import finish, interrupt

cli, samples = sys.argv[1], sys.argv[2]
problems = []
home = tempfile.mkdtemp(prefix='check-calibrate-')
env = dict(os.environ, XDG_CACHE_HOME=os.path.join(home, 'cache'))


def run(*args, timeout=300):
    return subprocess.run([cli, *args], capture_output=True, text=True, env=env, timeout=timeout)


def expect(args, status, words):
    where = 'kestrel-cli ' + ' '.join(args)
    proc = run(*args, timeout=120)
    if proc.returncode != status:
        problems.append(f'{where}: exit status {proc.returncode}, expected {status} '
                        f'(stderr: {proc.stderr.strip()!r})')
        return
    for word in words:
        if word not in proc.stderr:
            problems.append(f'{where}: the message does not say {word!r}: {proc.stderr.strip()!r}')
    if 'CRITICAL' in proc.stderr:
        problems.append(f'{where}: GLib complained: {proc.stderr.strip()!r}')


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
        if (printed.get('format') != 'kestrel-calibration' or printed.get('version') != 1
                or printed.get('method') != method or printed.get('frames') != n_photos
                or len(printed.get('model_hash', '')) != 64):
            problems.append(f'{where}: header {dict((k, v) for k, v in printed.items() if k != "tensors")}')
        tensors = printed.get('tensors', [])
        if len(tensors) < 10:
            problems.append(f'{where}: only {len(tensors)} tensors')
        for t in tensors:
            if not (t['scale'] > 0 and 0 <= t['zero_point'] <= 255 and t['min'] <= t['max']):
                problems.append(f'{where}: tensor {t}')
                break


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
    check_bad()
    check_cancel()
finally:
    shutil.rmtree(home, ignore_errors=True)
finish(problems)
