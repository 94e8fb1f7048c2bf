#!/usr/bin/python3
"""Fault: the window killed with SIGKILL while it runs (issue 16, item 4).
Run it under run-with-display.sh.

  check-kill-safe-mode.py KESTREL OUTPUT_DIR

1. Settings a user chose (a keyfile GSettings backend: level simd, one
   thread, batch 2, a 40 % budget, the back model) and `kestrel` started on
   the sample photos; once its crash marker exists (the engine writes it
   when the pipeline has started) and a frame has had time to run, the
   process gets SIGKILL: no handler, no clean stop. The marker must still
   be there and the settings file must say what it said.
2. The next start (a scripted run): safe mode, on the scalar reference
   path, saying so, processing frames; the settings it reports are the
   user's (level simd, not scalar: safe mode changes what runs, not what was
   chosen); after its clean exit the marker is gone and the keyfile still
   says simd.
3. The start after that: no safe mode, running the user's level again.

The marker test of check-scripted-run.py writes the marker by hand; this
one makes the real crash. XDG_STATE_HOME and XDG_CONFIG_HOME are folders
of OUTPUT_DIR, so the user's own marker and settings are never touched.
"""
import configparser
import json
import os
import shutil
import signal
import subprocess
import sys
import time

CHOSEN = {'level': "'simd'", 'threads': '1', 'batch': '2', 'cpu-budget': '40',
          'throttle-mode': "'budget'", 'model': "'back'"}
EXPECTED = {'level': 'simd', 'threads': 1, 'batch': 2, 'cpu-budget': 40,
            'throttle-mode': 'budget', 'model': 'back'}


def keyfile_values(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return dict(parser['org/kestrel/Kestrel']) if parser.has_section('org/kestrel/Kestrel') else {}


def scripted_run(kestrel, env, report_path, seconds):
    result = subprocess.run([kestrel, '--run-for', str(seconds), '--state-file', report_path],
                            env=env, capture_output=True, text=True, errors='replace', timeout=180)
    sys.stdout.write(result.stdout + result.stderr)
    report = {}
    if os.path.exists(report_path):
        with open(report_path, encoding='utf-8') as f:
            report = json.load(f)
    return result.returncode, report


def check_settings(problems, when, report):
    settings = report.get('settings', {})
    for key, value in EXPECTED.items():
        if settings.get(key) != value:
            problems.append(f'{when}: setting {key} is {settings.get(key)!r}, not {value!r}')


def main(kestrel, out_dir):
    problems = []
    state_home = os.path.join(out_dir, 'kill-state')
    config_home = os.path.join(out_dir, 'kill-config')
    marker = os.path.join(state_home, 'kestrel', 'running')
    keyfile = os.path.join(config_home, 'glib-2.0', 'settings', 'keyfile')
    for folder in (state_home, config_home):
        shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.dirname(keyfile))
    with open(keyfile, 'w', encoding='utf-8') as f:
        f.write('[org/kestrel/Kestrel]\n' + ''.join(f'{k}={v}\n' for k, v in CHOSEN.items()))
    env = dict(os.environ, XDG_STATE_HOME=state_home, XDG_CONFIG_HOME=config_home,
               GSETTINGS_BACKEND='keyfile')

    # 1. Killed while running. A scripted run that would last 10 minutes, so
    # that it is surely running when killed; the wait is for the marker
    # (an event), the second after it only lets frames flow.
    proc = subprocess.Popen([kestrel, '--run-for', '600', '--state-file',
                             os.path.join(out_dir, 'kill-unused.json')],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        while not os.path.exists(marker) and proc.poll() is None:
            time.sleep(0.1)
        if proc.poll() is not None:
            print(proc.stdout.read().decode(errors='replace'))
            problems.append(f'kestrel exited ({proc.returncode}) before its pipeline started')
        else:
            time.sleep(1)
            proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
        proc.stdout.close()
    if proc.returncode != -signal.SIGKILL:
        problems.append(f'kestrel ended with {proc.returncode}, not by SIGKILL')
    if not os.path.exists(marker):
        problems.append('the crash marker is gone after SIGKILL')
    after_kill = keyfile_values(keyfile)
    for key, value in CHOSEN.items():
        if after_kill.get(key) != value:
            problems.append(f'after SIGKILL the keyfile says {key}={after_kill.get(key)!r}, not {value}')

    # 2. The next start: safe mode, the user's settings intact.
    status, safe = scripted_run(kestrel, env, os.path.join(out_dir, 'kill-safe-mode.json'), 3)
    if status != 0:
        problems.append(f'the start after SIGKILL exited with {status}')
    if not safe.get('safe_mode'):
        problems.append('no safe mode after SIGKILL')
    if safe.get('engine', {}).get('level') != 'scalar':
        problems.append(f'safe mode runs at level {safe.get("engine", {}).get("level")!r}, not scalar')
    if not any(e.get('kind') == 'safe-mode' for e in safe.get('events', [])):
        problems.append(f'no safe-mode event after SIGKILL: {safe.get("events")}')
    if not safe.get('frames_processed', 0) > 0:
        problems.append('no frames processed in safe mode')
    # What runs besides the level is what the user chose.
    for key, value in (('model', 'back'), ('threads', 1), ('batch', 2), ('budget_percent', 40)):
        if safe.get('engine', {}).get(key) != value:
            problems.append(f'safe mode runs {key} {safe.get("engine", {}).get(key)!r}, not {value!r}')
    check_settings(problems, 'in safe mode', safe)
    if os.path.exists(marker):
        problems.append('the crash marker survived the clean exit of the safe-mode run')
    if keyfile_values(keyfile).get('level') != "'simd'":
        problems.append(f'the safe-mode run saved level {keyfile_values(keyfile).get("level")!r}')

    # 3. And the start after that is an ordinary one.
    status, normal = scripted_run(kestrel, env, os.path.join(out_dir, 'kill-after.json'), 2)
    if status != 0:
        problems.append(f'the start after the safe-mode run exited with {status}')
    if normal.get('safe_mode'):
        problems.append('still in safe mode after a clean exit')
    if normal.get('engine', {}).get('level') != 'simd':
        problems.append(f'after safe mode the level is {normal.get("engine", {}).get("level")!r}, not simd')
    check_settings(problems, 'after safe mode', normal)

    for problem in problems:
        print(f'FAIL: {problem}')
    if not problems:
        print('SIGKILL: marker kept, settings kept, safe mode at scalar, then the user\'s level again')
    return 1 if problems else 0


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
