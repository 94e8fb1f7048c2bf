#!/usr/bin/python3
"""Smoke test of the `kestrel` application: scripted runs on the bundled
sample photos, in a real window (run it under run-with-display.sh).

  check-scripted-run.py KESTREL OUTPUT_DIR

1. `kestrel --run-for 4 --state-file OUTPUT_DIR/kestrel-run.json
   --screenshot OUTPUT_DIR/kestrel-window`: the report must show frames
   processed, faces found, points in every graph, every setting of the
   schema, a process CPU figure, no safe mode; the crash marker must be gone
   after the clean exit; the screenshots kestrel-window-light.png and
   kestrel-window-dark.png are left in OUTPUT_DIR for people to look at.
2. The same with a crash marker left behind, as after a crash: the run must
   be in safe mode, on the scalar reference path, and say so.
3. Bad input: --source naming nothing exits 2 with a message naming it.
   The settings are fresh (a memory backend): the default must be frugal
   (issue 10): a budget of 25 % of one core, said in the window's subtitle,
   and each sample photo (shown for 2 s) run once, not as often as the
   processor allows.
4. A model file that is not ONNX: the pipeline does not start, the report
   says so and names the file, the window shows the failure page (in the
   screenshots kestrel-window-failed-light.png and -dark.png) and the exit
   status is 1.
5. A source saved by an earlier run that no longer exists (a keyfile
   settings backend): the same, naming the folder.

XDG_STATE_HOME is pointed at OUTPUT_DIR/state so that the user's own crash
marker is never read or written.
"""
import json
import os
import shutil
import subprocess
import sys


def run(kestrel, args, env, timeout=120):
    result = subprocess.run([kestrel, *args], env=env, capture_output=True, text=True,
                            errors='replace', timeout=timeout)
    sys.stdout.write(result.stdout)
    sys.stdout.write(result.stderr)
    return result


def load(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def check_failed_start(problems, what, result, report_path, name):
    """A start that failed: exit 1, the report and the failure page name it."""
    if result.returncode != 1:
        problems.append(f'{what}: exit {result.returncode}, expected 1')
    report = load(report_path) if os.path.exists(report_path) else {}
    if report.get('running', True):
        problems.append(f'{what}: the report does not say the pipeline is not running')
    if name not in report.get('error', ''):
        problems.append(f'{what}: the error does not name {name}: {report.get("error")!r}')
    page = report.get('failure_page', {})
    if name not in page.get('description', ''):
        problems.append(f'{what}: no failure page naming {name} in the window: {page!r}')


def main(kestrel, out_dir):
    problems = []
    state_home = os.path.join(out_dir, 'state')
    marker = os.path.join(state_home, 'kestrel', 'running')
    shutil.rmtree(state_home, ignore_errors=True)
    env = dict(os.environ, XDG_STATE_HOME=state_home)

    # 1. A normal scripted run.
    report_path = os.path.join(out_dir, 'kestrel-run.json')
    shot_base = os.path.join(out_dir, 'kestrel-window')
    for suffix in ('-light.png', '-dark.png'):
        if os.path.exists(shot_base + suffix):
            os.unlink(shot_base + suffix)
    result = run(kestrel, ['--run-for', '4', '--state-file', report_path,
                           '--screenshot', shot_base], env)
    if result.returncode != 0:
        problems.append(f'scripted run exited with {result.returncode}')
    report = load(report_path)
    print(json.dumps({k: report.get(k) for k in
                      ('frames_processed', 'faces_seen', 'faces_last_frame', 'fps',
                       'process_cpu_percent', 'graphs')}, indent=1))
    if not report.get('running'):
        problems.append('the pipeline was not running')
    if not report.get('frames_processed', 0) > 0:
        problems.append('no frames processed')
    if not report.get('faces_seen', 0) > 0:
        problems.append('no faces found in the sample photos')
    if not isinstance(report.get('process_cpu_percent'), (int, float)) \
            or not report['process_cpu_percent'] > 0:
        problems.append('no process CPU figure')
    if report.get('safe_mode'):
        problems.append('safe mode without a crash marker')
    graphs = report.get('graphs', {})
    # Memory growth (graph 'growth') stays unknown for the sampler's first
    # minute, so it is the one series allowed to be empty in a short run.
    expected = {'cpu': ['kestrel', 'system'], 'memory': ['rss'],
                'latency': ['capture', 'preprocess', 'inference', 'decode']}
    for graph, series in expected.items():
        for name in series:
            if not graphs.get(graph, {}).get(name, 0) > 0:
                problems.append(f'graph {graph}, series {name}: no points')
    schema_keys = ['model', 'model-file', 'source-kind', 'source-path', 'precision', 'level',
                   'threads', 'batch', 'throttle-mode', 'cpu-budget', 'canary-interval',
                   'history-points', 'sample-interval-ms']
    for key in schema_keys:
        if key not in report.get('settings', {}):
            problems.append(f'setting {key} missing from the report')
    if report.get('settings', {}).get('source-kind') != 'samples':
        problems.append('the default source is not the sample photos')
    # Frugal by default: each photo is held for 2 s and run once, so a run
    # of D seconds sees at most D / 2 + 1 frames (2000 a photo before).
    budget = report.get('engine', {}).get('budget_percent')
    if budget != 25:
        problems.append(f'the default budget is {budget}, not 25 % of one core')
    if 'budget 25' not in report.get('subtitle', ''):
        problems.append(f'the window does not say the budget: {report.get("subtitle")!r}')
    most = report.get('duration_s', 0) / 2 + 1
    if not report.get('frames_processed', 0) <= most:
        problems.append(f'{report.get("frames_processed")} frames in {report.get("duration_s")} s '
                        f'of 2 s stills: the default runs unchanged photos again (at most {most:.0f})')
    for suffix in ('-light.png', '-dark.png'):
        path = shot_base + suffix
        if not os.path.exists(path) or os.path.getsize(path) < 10000:
            problems.append(f'no screenshot {path}')
        else:
            print(f'screenshot: {path}')
    if os.path.exists(marker):
        problems.append(f'the crash marker {marker} is still there after a clean exit')

    # 2. After a crash: the marker is left behind.
    os.makedirs(os.path.dirname(marker), exist_ok=True)
    with open(marker, 'w') as f:
        f.write('pid 1\n')
    safe_path = os.path.join(out_dir, 'kestrel-run-safe-mode.json')
    result = run(kestrel, ['--run-for', '2', '--state-file', safe_path], env)
    if result.returncode != 0:
        problems.append(f'safe-mode run exited with {result.returncode}')
    safe = load(safe_path)
    if not safe.get('safe_mode'):
        problems.append('no safe mode after an unclean exit')
    if safe.get('engine', {}).get('level') != 'scalar':
        problems.append(f'safe mode runs at level {safe.get("engine", {}).get("level")}, not scalar')
    if not any(e.get('kind') == 'safe-mode' for e in safe.get('events', [])):
        problems.append(f'no safe-mode event: {safe.get("events")}')
    if not safe.get('frames_processed', 0) > 0:
        problems.append('no frames processed in safe mode')
    if os.path.exists(marker):
        problems.append('the crash marker survived the safe-mode run')

    # 3. A source that does not exist.
    result = run(kestrel, ['--source', os.path.join(out_dir, 'no-such-folder'),
                           '--run-for', '1', '--state-file', os.path.join(out_dir, 'unused.json')],
                 env)
    if result.returncode != 2 or 'no-such-folder' not in result.stderr:
        problems.append(f'--source with a missing folder: exit {result.returncode}, '
                        f'stderr {result.stderr!r}')

    # 4. A model file that is not a model: the pipeline cannot start; the
    # report says so and the exit status is 1.
    broken = os.path.join(out_dir, 'not-a-model.onnx')
    with open(broken, 'wb') as f:
        f.write(b'this is not an ONNX protobuf\n' * 4)
    broken_path = os.path.join(out_dir, 'kestrel-run-broken-model.json')
    failed_base = os.path.join(out_dir, 'kestrel-window-failed')
    result = run(kestrel, ['--model', broken, '--run-for', '1', '--state-file', broken_path,
                           '--screenshot', failed_base], env)
    check_failed_start(problems, 'a broken model', result, broken_path, 'not-a-model.onnx')
    for suffix in ('-light.png', '-dark.png'):
        if not os.path.exists(failed_base + suffix):
            problems.append(f'a broken model: no screenshot {failed_base + suffix}')

    # 5. A source saved by an earlier run, gone since.
    config_home = os.path.join(out_dir, 'config')
    shutil.rmtree(config_home, ignore_errors=True)
    os.makedirs(os.path.join(config_home, 'glib-2.0', 'settings'))
    with open(os.path.join(config_home, 'glib-2.0', 'settings', 'keyfile'), 'w') as f:
        f.write("[org/kestrel/Kestrel]\nsource-kind='folder'\n"
                f"source-path='{os.path.join(out_dir, 'photos-gone')}'\n")
    saved_path = os.path.join(out_dir, 'kestrel-run-saved-source.json')
    result = run(kestrel, ['--run-for', '1', '--state-file', saved_path],
                 dict(env, GSETTINGS_BACKEND='keyfile', XDG_CONFIG_HOME=config_home))
    check_failed_start(problems, 'a saved source that is gone', result, saved_path, 'photos-gone')

    for problem in problems:
        print(f'FAIL: {problem}')
    return 1 if problems else 0


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
