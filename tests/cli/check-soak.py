#!/usr/bin/python3
"""The soak's machinery, briefly (the soak itself, scripts/soak.sh --hours
H, is not part of make check).

  check-soak.py SOAK_SH BUILD_DIR VIDEO

25 s of scripts/soak.sh with a reconfiguration every 0.5 s and a
checkpoint (back to the starting settings) every 10 s: it must pass
(no errors, no frame lost, nothing left in the pool), and its counts must
add up: every reconfiguration asked for was printed with what it set, the
engine applied at least one and never more than were asked for, every
frame captured was processed or dropped and every processed one decoded
once, the RSS was sampled, the checkpoints were asked for, and any the
engine reached (it may not have, under load, before the end) gave a
resident size. Nothing about time or speed is asserted.
"""
import json
import os
import subprocess
import sys
import tempfile

from cli_checks import finish, missing

SOAK, BUILD, VIDEO = sys.argv[1], sys.argv[2], sys.argv[3]
SETTINGS = ('precision', 'level', 'threads', 'batch', 'budget', 'model', 'source', 'checkpoint')
problems = []


def main():
    if not os.path.exists(VIDEO):
        missing(VIDEO, 'opencv-doc')
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run(['sh', SOAK, '--seconds', '25', '--every', '0.5', '--seed', '7',
                               '--sample-every', '2', '--checkpoint-every', '10', '--build', BUILD, '--out', out, '--video', VIDEO],
                              capture_output=True, text=True, timeout=600)
        print(proc.stdout)
        print(proc.stderr)
        with open(os.path.join(out, 'run.jsonl'), encoding='utf-8') as f:
            lines = [json.loads(line) for line in f if line.startswith(('{"reconfigure"', '{"checkpoint"'))]
    requests = [x for x in lines if 'reconfigure' in x]
    checkpoints = [x for x in lines if 'checkpoint' in x]
    if proc.returncode != 0:
        problems.append(f'soak.sh exit status {proc.returncode}')
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{"soak"')]
    if not lines:
        finish(problems + ['no {"soak": ...} line'])
    soak = json.loads(lines[-1])['soak']

    if not soak['passed']:
        problems.append('the soak did not pass')
    if soak['errors'] != 0:
        problems.append(f"{soak['errors']} errors")
    asked, applied = soak['reconfigurations_requested'], soak['reconfigurations']
    if asked == 0 or applied == 0 or applied > asked:
        problems.append(f'{applied} reconfigurations applied of {asked} asked for')
    if len(requests) != asked or sum(soak['reconfigurations_by_setting'].values()) != asked:
        problems.append(f'{asked} asked for, {len(requests)} printed, by setting '
                        f"{soak['reconfigurations_by_setting']}")
    if [r['reconfigure'] for r in requests] != list(range(1, len(requests) + 1)):
        problems.append('the reconfigurations are not numbered 1, 2, 3...')
    for r in requests:
        if r['set'] not in SETTINGS or not r['to']:
            problems.append(f'a reconfiguration that sets nothing known: {r}')
    stages = soak['stages']
    if not soak['frames'] > 0:
        problems.append('no frames')
    if stages['capture'] != soak['frames'] + soak['dropped'] or soak['lost'] != 0:
        problems.append(f"{stages['capture']} captured, {soak['frames']} processed, {soak['dropped']} dropped")
    if stages['decode'] != soak['frames'] or stages['inference'] != soak['frames'] + soak['dropped']:
        problems.append(f"per stage {stages}, {soak['frames']} processed")
    if soak['pool_outstanding_buffers'] != 0:
        problems.append(f"{soak['pool_outstanding_buffers']} buffers out of the pool")
    asked_back = [r for r in requests if r['set'] == 'checkpoint']
    if not asked_back or len(checkpoints) > len(asked_back):
        problems.append(f'{len(asked_back)} checkpoints asked for, {len(checkpoints)} printed')
    reached = [c for c in checkpoints if c['reached']]
    if soak['checkpoints'] != len(reached) or any(not c['rss_mb'] > 0 for c in reached):
        problems.append(f"checkpoints {checkpoints}, the report counted {soak['checkpoints']} reached")
    if soak['rss_samples'] < 2:
        problems.append(f"{soak['rss_samples']} RSS samples")
    finish(problems)


if __name__ == '__main__':
    main()
