#!/usr/bin/python3
"""kestrel-cli --input-shape on every command that plans a model (issue 13,
item 2), with a model whose picture input has a free height and width (the
rule model fold_reshape_shape.onnx, input x 1x3x?x?):

- detect and bench: without --input-shape, exit status 1 and a message that
  names the option; with x=1x3xHxW, exit status 0 (detect runs it on the
  generic decoder, as the engine does a model no plugin decodes: nothing
  found, its latency printed; bench prints its medians);
- inspect: exit 0 with it and its plans listed at that size;
- run: the engine plans at the frames' size without it, and at the given
  size with it (exit 0 both ways, frames processed);
- a shape the model cannot take (a wrong rank, a fixed dimension changed):
  exit status 1 naming the input.
"""
import json
import subprocess
import sys

CLI, MODEL, IMAGES = sys.argv[1], sys.argv[2], sys.argv[3]
IMAGE = f'{IMAGES}/coffee.png'
problems = []


def run(*args, timeout=180):
    proc = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)
    print(f'{" ".join(args)}: exit {proc.returncode}')
    return proc


def expect(proc, status, what, text=None):
    out = proc.stdout + proc.stderr
    if proc.returncode != status:
        problems.append(f'{what}: exit {proc.returncode}, expected {status}: {out[-400:]!r}')
    elif text is not None and text not in out:
        problems.append(f'{what}: {text!r} not in {out[-400:]!r}')


for shape in ('x=1x3x32x32', 'x=1x3x48x64'):
    # detect
    expect(run('detect', '-m', MODEL, IMAGE), 1, 'detect without --input-shape', '--input-shape')
    proc = run('detect', '-m', MODEL, '--input-shape', shape, '--json', IMAGE)
    expect(proc, 0, f'detect --input-shape {shape}')
    if proc.returncode == 0:
        line = json.loads(proc.stdout.splitlines()[0])
        if line.get('detections') != [] or 'latency_ms' not in line:
            problems.append(f'detect --input-shape {shape}: expected no detections and a latency: {line}')

    # bench
    expect(run('bench', '-m', MODEL, '--runs', '3'), 1, 'bench without --input-shape', '--input-shape')
    proc = run('bench', '-m', MODEL, '--input-shape', shape, '--runs', '3', '--json')
    expect(proc, 0, f'bench --input-shape {shape}')
    if proc.returncode == 0:
        doc = json.loads(proc.stdout)
        if 'kestrel' not in json.dumps(doc):
            problems.append(f'bench --json --input-shape {shape}: no result: {proc.stdout[:300]!r}')

    # inspect
    proc = run('inspect', MODEL, '--input-shape', shape)
    expect(proc, 0, f'inspect --input-shape {shape}', 'full')

    # run: a few frames from the sample photos, planned at the given size
    proc = run('run', '-m', MODEL, '--input-shape', shape, '-s', f'images:{IMAGES}', '--duration', '3',
               '--json', timeout=120)
    expect(proc, 0, f'run --input-shape {shape}')
    if proc.returncode == 0 and '"frame"' not in proc.stdout and 'frame' not in proc.stdout:
        problems.append(f'run --input-shape {shape}: no frame reported: {proc.stdout[-300:]!r}')

# run without it: the engine plans at the frames' size
expect(run('run', '-m', MODEL, '-s', f'images:{IMAGES}', '--duration', '3', '--json', timeout=120), 0,
       'run without --input-shape')

# Shapes the model cannot take: each names the input.
for bad in ('x=1x3x32', 'x=1x4x32x32'):
    for command in (('detect', '-m', MODEL, IMAGE), ('bench', '-m', MODEL, '--runs', '3'),
                    ('inspect', MODEL)):
        proc = run(*command, '--input-shape', bad)
        out = proc.stdout + proc.stderr
        if proc.returncode != 1 or "'x'" not in out and ' x ' not in out and 'x:' not in out:
            problems.append(f'{command[0]} --input-shape {bad}: exit {proc.returncode}, '
                            f'expected 1 naming input x: {out[-300:]!r}')

for p in problems:
    print('FAIL:', p)
sys.exit(1 if problems else 0)
