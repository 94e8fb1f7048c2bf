#!/usr/bin/python3
"""kestrel-cli's options as a user types them, right and wrong.

Every command checks every option the same way: a value outside its range,
a value that is not a number, a stray argument or an output file in a
folder that does not exist is exit status 2 and a message naming the
option and what it accepts. `bench --batch N` times exactly --runs batch-1
inferences. `run` stops on SIGINT and SIGTERM without a GLib-CRITICAL,
prints no NaN, and its text mode is text to the end; so is inspect's.

  check-cli-options.py KESTREL_CLI
"""
import json
import os
import signal
import subprocess
import sys
import tempfile

from cli_checks import finish

CLI = sys.argv[1]
TIMEOUT = 120
problems = []


def run(args, timeout=TIMEOUT):
    return subprocess.run([CLI] + args, capture_output=True, text=True, timeout=timeout)


def expect_usage_error(args, *words):
    """Exit status 2, one message on stderr naming the words, no critical."""
    where = 'kestrel-cli ' + ' '.join(args)
    try:
        # A usage error is found before anything runs.
        proc = run(args, timeout=30)
    except subprocess.TimeoutExpired:
        problems.append(f'{where}: still running after 30 s, expected exit status 2')
        return
    if proc.returncode != 2:
        problems.append(f'{where}: exit status {proc.returncode}, expected 2 '
                        f'(stderr: {proc.stderr.strip()!r})')
        return
    for word in words:
        if word not in proc.stderr:
            problems.append(f'{where}: the message does not say {word!r}: {proc.stderr.strip()!r}')
    if 'CRITICAL' in proc.stderr or 'WARNING' in proc.stderr:
        problems.append(f'{where}: GLib complained: {proc.stderr.strip()!r}')


def check_ranges():
    # (arguments, what the message must name): the defects of issue 10 first.
    cases = [
        (['run', '--threads', '9999'], '--threads', '0 to 256'),
        (['bench', '--threads', '9999'], '--threads', '1 to 256'),
        (['run-model', '--threads', '9999', '--output-dir', '/tmp', 'm.onnx'], '--threads', '256'),
        (['detect', '--threads', '9999', 'x.png'], '--threads', '256'),
        (['run', '--budget', '-5'], '--budget', 'above 0'),
        (['run', '--budget', '0'], '--budget', 'above 0'),
        (['run', '--batch', '0'], '--batch', '1 to 16'),
        (['run', '--batch', '17'], '--batch', '1 to 16'),
        (['run', '--batch-wait', '-1'], '--batch-wait', '0 to'),
        (['run', '--batch-latency', '0'], '--batch-latency', '1 to'),
        (['run', '--canary', '-3'], '--canary', '0 to'),
        (['run', '--duration', '-1'], '--duration', 'above 0'),
        (['run', '--duration', 'nan'], '--duration', 'nan'),
        (['run', '-t', '2.5'], '--threads', 'integer'),
        (['run', '--reconfigure-every', '-1'], '--reconfigure-every', '0 to 86400'),
        (['run', '--reconfigure-every', '0.001'], '--reconfigure-every', 'at least 0.01'),
        (['run', '--seed', '-1'], '--seed', '0 to'),
        (['run', '--reconfigure-source', 'synthetic:'], '--reconfigure-source', '--reconfigure-every'),
        (['run', '--checkpoint-every', '60'], '--checkpoint-every', '--reconfigure-every'),
        (['run', '--reconfigure-every', '3', '--checkpoint-every', '5'], '--checkpoint-every', 'at least 10'),
        (['run', '--checkpoint-every', '-1'], '--checkpoint-every', '0 to 86400'),
        (['bench', '--batch', '17'], '--batch', '1 to 16'),
        (['bench', '--batch', '8', '--runs', '4'], '--runs', '--batch'),
        (['bench', '--runs', '0'], '--runs', '1 to'),
        (['bench-kernels', '--runs', '0'], '--runs', '1 to'),
        (['detect', '--score-threshold', '1.5', 'x.png'], '--score-threshold', '0 to 1'),
        (['detect', '--threads', 'many', 'x.png'], '--threads', "'many'"),
        (['run', '--level', 'fast'], 'level', 'scalar'),
        (['run', '--precision', 'fp64'], '--precision', 'fp32'),
        (['bench', '--peer', 'tflite'], '--peer', 'ort'),
        (['bench-kernels', '--kernel', 'no_such_kernel'], '--kernel', 'no_such_kernel'),
        # Other machines only when asked (issue 16, item 5).
        (['run', '--source', 'synthetic:', '--duration', '5', '--metrics-addr', '0.0.0.0:0'],
         '--metrics-addr', 'not a loopback address', '--metrics-remote'),
        (['run', '--source', 'synthetic:', '--duration', '5', '--metrics-addr', 'nowhere'],
         '--metrics-addr', 'HOST:PORT'),
    ]
    for args, *words in cases:
        expect_usage_error(args, *words)


def check_stray_arguments():
    expect_usage_error(['info', 'extra'], "unexpected argument 'extra'")
    expect_usage_error(['bench-kernels', 'extra'], "unexpected argument 'extra'")
    expect_usage_error(['bench', 'extra'], "unexpected argument 'extra'")
    expect_usage_error(['run', 'extra'], "unexpected argument 'extra'")
    expect_usage_error(['inspect', 'front', 'extra'], "unexpected argument 'extra'")
    expect_usage_error(['inspect'], 'MODEL')
    expect_usage_error(['run-model', '--output-dir', '/tmp', 'a.onnx', 'extra'],
                       "unexpected argument 'extra'")
    expect_usage_error(['detect'], 'no image')


def check_state_file():
    with tempfile.TemporaryDirectory() as tmp:
        missing = os.path.join(tmp, 'no-such-folder', 'state')
        expect_usage_error(['run', '--source', 'synthetic:', '--duration', '1',
                            '--state-file', missing], '--state-file', 'does not exist')
        expect_usage_error(['run', '--source', 'synthetic:', '--duration', '1',
                            '--state-file', tmp], '--state-file', 'is a folder')


def check_bench_runs():
    """--batch N must not change the number of batch-1 runs (it did for
    N > 10: every round ran at least N of them)."""
    proc = run(['bench', '--batch', '16', '--runs', '32', '--json'])
    if proc.returncode != 0:
        problems.append(f'bench --batch 16 --runs 32: exit {proc.returncode}: {proc.stderr.strip()}')
        return
    report = json.loads(proc.stdout)
    if report['kestrel']['runs'] != 32:
        problems.append(f"bench --batch 16 --runs 32 timed {report['kestrel']['runs']} batch-1 runs")
    if report['kestrel_batch']['runs'] != 2:
        problems.append(f"bench --batch 16 --runs 32 timed {report['kestrel_batch']['runs']} "
                        'batch-16 runs, expected 2')


def start_run(*extra):
    return subprocess.Popen([CLI, 'run', '--source', 'synthetic:'] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_status(proc):
    """Blocks until the first status line, so the loop is running."""
    line = proc.stdout.readline()
    if not line:
        problems.append('run printed nothing before it ended')
    return line


def check_signals():
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = start_run('--json')
        first = wait_for_status(proc)
        proc.send_signal(sig)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            problems.append(f'run did not stop within 60 s of {sig.name}')
            continue
        name = sig.name
        if proc.returncode != 0:
            problems.append(f'run after {name}: exit status {proc.returncode}')
        if 'CRITICAL' in err or 'WARNING' in err:
            problems.append(f'run after {name}: {err.strip()!r}')
        lines = [first] + out.splitlines()
        if not any('"summary"' in line for line in lines):
            problems.append(f'run after {name}: no summary')


def check_text_mode():
    """Text mode is text to the end; no NaN while the sampler warms up.
    The first status line comes before the sampler's first interval about
    one run in four, so several short runs."""
    for _ in range(4):
        proc = run(['run', '--source', 'synthetic:', '--duration', '1.3'])
        if proc.returncode != 0:
            problems.append(f'run --duration 1.3: exit {proc.returncode}: {proc.stderr.strip()}')
            return
        if 'nan' in proc.stdout.lower():
            problems.append(f'run printed NaN: {proc.stdout.splitlines()[:2]}')
        if any(line.lstrip().startswith(('{', '}', '"')) for line in proc.stdout.splitlines()):
            problems.append('run without --json ended in JSON')
        if 'Summary:' not in proc.stdout or 'CPU:' not in proc.stdout:
            problems.append(f'run without --json printed no text summary: {proc.stdout[-400:]!r}')
        if problems:
            return
    proc = run(['run', '--source', 'synthetic:', '--duration', '1.3', '--json'])
    for line in proc.stdout.splitlines():
        try:
            json.loads(line)
        except ValueError:
            problems.append(f'run --json printed a line that is not JSON: {line!r}')
            break
    if 'NaN' in proc.stdout:
        problems.append('run --json printed NaN')

    # inspect: text unless --json.
    proc = run(['inspect', 'front'])
    if proc.returncode != 0 or proc.stdout.lstrip().startswith('{') or 'Conv' not in proc.stdout:
        problems.append(f'inspect front without --json: exit {proc.returncode}, {proc.stdout[:80]!r}')
    proc = run(['inspect', 'front', '--json'])
    try:
        if json.loads(proc.stdout)['opset'] != 12:
            problems.append('inspect front --json: opset is not 12')
    except ValueError:
        problems.append(f'inspect front --json is not JSON: {proc.stdout[:80]!r}')


SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'data', 'samples')


def check_precision():
    """--precision on every command that plans: a bad name is a usage error;
    int8 and int4 plans (calibrated on the bundled photos) find the same faces in
    the photos with faces as fp32 does, and bench says its precision."""
    for command in (['detect', os.path.join(SAMPLES, 'astronaut.png')], ['bench'], ['run'],
                    ['run-model', '-o', tempfile.gettempdir(), 'front']):
        expect_usage_error(command + ['--precision', 'int3'], 'int3')
    photos = [os.path.join(SAMPLES, name) for name in ('astronaut.png', 'grace_hopper.jpg', 'camera.png')]
    faces = {}
    for precision in ('fp32', 'int8', 'int4'):
        proc = run(['detect', '--json', '--precision', precision] + photos)
        if proc.returncode != 0:
            problems.append(f'detect --precision {precision}: exit {proc.returncode}: {proc.stderr.strip()}')
            return
        faces[precision] = [len(json.loads(line)['faces']) for line in proc.stdout.splitlines()]
    print(f'faces per photo: fp32 {faces["fp32"]}, int8 {faces["int8"]}, int4 {faces["int4"]}')
    for precision in ('int8', 'int4'):
        if faces[precision] != faces['fp32']:
            problems.append(f'detect --precision {precision} found {faces[precision]} faces, fp32 {faces["fp32"]}')
        proc = run(['bench', '--precision', precision, '--runs', '5', '--json'])
        if proc.returncode != 0 or json.loads(proc.stdout or '{}').get('precision') != precision:
            problems.append(f'bench --precision {precision}: exit {proc.returncode}, {proc.stdout[:120]!r} '
                            f'{proc.stderr[-200:]!r}')


def main():
    check_precision()
    check_ranges()
    check_stray_arguments()
    check_state_file()
    check_bench_runs()
    check_signals()
    check_text_mode()
    finish(problems)


if __name__ == '__main__':
    main()
