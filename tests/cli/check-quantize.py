#!/usr/bin/python3
"""kestrel-cli quantize as a user runs it.

  check-quantize.py KESTREL_CLI SAMPLES_DIR

- quantize front --precision int8 -o OUT.onnx writes a QDQ ONNX file
  (at least 10 kB, no temporary file left beside it) and
  says how many layers stay FP32; the file then runs at --precision int8
  without calibrating: `detect --precision int8` finds the face on
  astronaut.png, and `inspect --precision int8 --json` reports the file's
  table (method "qdq") with INT8 steps; with --frames the photos of a folder
  are used, and --method mse calibrates another way.
- Bad options are exit status 2 naming the option (no -o, no --precision,
  --precision fp16, an unknown method, --frames not a folder, -o in a
  missing folder, no MODEL); failed work is exit status 1 naming what
  failed (a model that is not there, a file that is not a model), and a
  file already at OUT.onnx is left as it was.
No timing is asserted; the subprocess timeouts only keep a hang from
stalling the suite.
"""
import json
import os
import shutil
import sys

from cli_checks import CliHome, finish

cli, samples = sys.argv[1], sys.argv[2]
problems = []
cli_home = CliHome(cli, 'check-quantize-', problems, run_timeout=600, expect_timeout=600)
home, run, expect = cli_home.home, cli_home.run, cli_home.expect


def check_written():
    out = os.path.join(home, 'front-int8.onnx')
    proc = run('quantize', 'front', '--precision', 'int8', '-o', out)
    if proc.returncode != 0:
        problems.append(f'quantize front: exit status {proc.returncode}: {proc.stderr.strip()!r}')
        return None
    if 'kept FP32' not in proc.stderr or out not in proc.stderr:
        problems.append(f'quantize front: stderr does not say what was written: {proc.stderr.strip()!r}')
    if not os.path.isfile(out) or os.path.getsize(out) < 10000:
        problems.append(f'quantize front: {out} missing or too small')
        return None
    leftovers = [n for n in os.listdir(home) if n.startswith('front-int8.onnx') and n != 'front-int8.onnx']
    if leftovers:
        problems.append(f'quantize front: temporary files left beside the output: {leftovers}')

    detect = run('detect', '--model', out, '--precision', 'int8', '--json',
                 os.path.join(samples, 'astronaut.png'))
    if detect.returncode != 0:
        problems.append(f'detect --model QDQ file --precision int8: exit {detect.returncode}: {detect.stderr.strip()!r}')
    else:
        faces = json.loads(detect.stdout.splitlines()[0])['faces']
        if len(faces) != 1:
            problems.append(f'detect on the QDQ file at int8: {len(faces)} faces on astronaut.png, expected 1')
    if os.path.isdir(os.path.join(home, 'cache', 'kestrel', 'calibration')) and any(
            'qdq' in n for n in os.listdir(os.path.join(home, 'cache', 'kestrel', 'calibration'))):
        problems.append('detect on the QDQ file calibrated it into the cache')

    inspect = run('inspect', '--precision', 'int8', '--json', out)
    if inspect.returncode != 0:
        problems.append(f'inspect --precision int8 QDQ file: exit {inspect.returncode}: {inspect.stderr.strip()!r}')
    elif '"qdq"' not in inspect.stdout or '"int8"' not in inspect.stdout.lower():
        problems.append('inspect --precision int8 on the QDQ file does not report its own table (method qdq)')
    return out


def check_frames_and_method():
    frames = os.path.join(home, 'frames')
    os.makedirs(frames)
    for name in ['astronaut.png', 'camera.png']:
        shutil.copy(os.path.join(samples, name), frames)
    for extra in [['--frames', frames], ['--frames', frames, '--method', 'mse']]:
        out = os.path.join(home, 'frames.onnx')
        proc = run('quantize', 'front', '--precision', 'int8', *extra, '-o', out)
        if proc.returncode != 0 or not os.path.isfile(out):
            problems.append(f'quantize front {" ".join(extra)}: exit {proc.returncode}: {proc.stderr.strip()!r}')
        elif os.path.isfile(out):
            os.unlink(out)


def check_bad(out):
    target = os.path.join(home, 'keep.onnx')
    with open(target, 'w') as f:
        f.write('previous')
    expect(['quantize', 'front', '--precision', 'int8'], 2, ['--output'])
    expect(['quantize', 'front', '-o', target], 2, ['--precision'])
    expect(['quantize', 'front', '--precision', 'fp16', '-o', target], 2, ['--precision fp16'])
    expect(['quantize', 'front', '--precision', 'int9', '-o', target], 2, ['--precision'])
    expect(['quantize', 'front', '--precision', 'int8', '--method', 'median', '-o', target], 2, ['--method', 'median'])
    expect(['quantize', 'front', '--precision', 'int8', '--frames', os.path.join(home, 'nowhere'), '-o', target],
           2, ['--frames', 'nowhere'])
    expect(['quantize', 'front', '--precision', 'int8', '-o', os.path.join(home, 'no', 'such.onnx')], 2, ['--output'])
    expect(['quantize', '--precision', 'int8', '-o', target], 2, ['MODEL'])
    expect(['quantize', os.path.join(home, 'missing.onnx'), '--precision', 'int8', '-o', target], 1, ['missing.onnx'])
    not_a_model = os.path.join(home, 'junk.onnx')
    with open(not_a_model, 'wb') as f:
        f.write(b'\x07\x03junk junk junk')
    expect(['quantize', not_a_model, '--precision', 'int8', '-o', target], 1, ['junk.onnx'])
    with open(target) as f:
        if f.read() != 'previous':
            problems.append('a failed quantize changed the file already at the output path')


try:
    written = check_written()
    check_frames_and_method()
    check_bad(written)
finally:
    shutil.rmtree(home, ignore_errors=True)
finish(problems)
