#!/usr/bin/python3
"""The report of scripts/soak.sh, from what it kept:

  soak-report.py [--exit-status N] [--asan 0|1] RUN.jsonl RSS.txt STDERR.txt

RUN.jsonl is `kestrel-cli run --json --reconfigure-every ...`'s output
(status lines, events, reconfigurations, checkpoints, the summary), RSS.txt one
"SECONDS KIB" line per sample of the process's VmRSS, STDERR.txt its
standard error (GLib warnings, the LeakSanitizer report of an ASan build).

Prints the figures for people, then one JSON line {"soak": {...}} with the
same figures for scripts, and exits 0 when the soak passed: no errors, no
frame lost (every frame taken from a source processed or counted as
dropped), the engine applied the reconfigurations asked for, nothing left
out of the frame pool, no leak reported, kestrel-cli exited 0 and, in a
run of an hour or more of an ordinary build, resident memory growing less
than 1 MB/hour at the checkpoints.

Two slopes are printed. The one over the samples every 10 s mixes the
settings in effect when each was taken (tens of MB apart), so over an hour
its standard error is several MB/hour whatever the run keeps. The one
over the checkpoints, each taken at the same starting settings after 5 s
there, differs only by what the run kept: that is the growth, and the bar.
An ASan build's resident size is its allocator's (freed memory waits in
its quarantine and is never given back), so there the bar is
LeakSanitizer's report and both slopes are printed for information.
"""
import argparse
import json
import re
import sys


def least_squares_slope(points):
    """Slope of the least-squares line through (x, y) points; None if < 2."""
    if len(points) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx


def read_run(path):
    summary, events, reconfigurations, checkpoints, other = None, [], [], [], []
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                other.append(line)
                continue
            if 'summary' in obj:
                summary = obj['summary']
            elif 'event' in obj:
                events.append(obj)
            elif 'reconfigure' in obj:
                reconfigurations.append(obj)
            elif 'checkpoint' in obj:
                checkpoints.append(obj)
    return summary, events, reconfigurations, checkpoints, other


def read_rss(path):
    samples = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                samples.append((float(parts[0]), float(parts[1]) * 1024 / 1e6))  # MB
    return samples


def leak_report(stderr_text):
    """The LeakSanitizer report's lines (empty when there is none)."""
    lines = stderr_text.splitlines()
    for i, line in enumerate(lines):
        if 'ERROR: LeakSanitizer' in line:
            end = next((j for j in range(i, len(lines)) if lines[j].startswith('SUMMARY:')), len(lines) - 1)
            return lines[i:end + 1]
    return []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--exit-status', type=int, default=0)
    parser.add_argument('--asan', type=int, default=0)
    parser.add_argument('run')
    parser.add_argument('rss')
    parser.add_argument('stderr')
    args = parser.parse_args()

    summary, events, requests, checkpoints, other = read_run(args.run)
    samples = read_rss(args.rss)
    with open(args.stderr, encoding='utf-8', errors='replace') as f:
        stderr_text = f.read()
    problems = []

    if summary is None:
        print('soak: kestrel-cli printed no summary; its standard error ends with:')
        print('\n'.join(stderr_text.splitlines()[-20:]))
        print(json.dumps({'soak': {'passed': False, 'exit_status': args.exit_status}}))
        return 1

    counts = {kind: summary['events'].get(kind, 0) for kind in summary['events']}
    # GLib's warnings and criticals are errors too: nothing should warn.
    glib_problems = [line for line in stderr_text.splitlines()
                     if re.search(r'-(WARNING|CRITICAL|ERROR) \*\*', line)]
    stages = {name: summary['latency'][name]['count'] for name in
              ('capture', 'preprocess', 'inference', 'decode') if name in summary['latency']}
    frames, dropped = summary['frames'], summary['dropped']
    # Every frame a source gave (capture) is processed or dropped; frames
    # the source failed to give are dropped without a capture, so only a
    # positive difference is a lost frame.
    lost = max(0, stages.get('capture', 0) - frames - dropped)
    errors = counts.get('source-error', 0) + counts.get('config-error', 0) + len(glib_problems)
    applied, asked = summary['reconfigurations'], summary.get('reconfigurations_requested', 0)
    by_setting = {}
    for r in requests:
        by_setting[r['set']] = by_setting.get(r['set'], 0) + 1

    # The first third of the samples is the warm-up (plans built, the
    # calibration tables measured, GStreamer's caches): left out.
    tail = samples[len(samples) // 3:]
    slope = least_squares_slope(tail)
    slope_mb_h = slope * 3600 if slope is not None else None
    at_start = [(c['time_s'], c['rss_mb']) for c in checkpoints if c.get('reached')]
    missed = len(checkpoints) - len(at_start)
    checkpoint_tail = at_start[len(at_start) // 3:]
    checkpoint_slope = least_squares_slope(checkpoint_tail)
    checkpoint_mb_h = checkpoint_slope * 3600 if checkpoint_slope is not None else None

    leaks = leak_report(stderr_text)
    pool = summary['pool_outstanding_buffers']

    print()
    print(f"soak: {summary['duration_s']:.0f} s")
    print(f'  frames            {frames} processed, {dropped} dropped, {lost} lost '
          f'(per stage: {", ".join(f"{k} {v}" for k, v in stages.items())})')
    print(f'  errors            {errors} (source-error {counts.get("source-error", 0)}, '
          f'config-error {counts.get("config-error", 0)}, GLib warnings {len(glib_problems)})')
    print(f'  reconfigurations  {applied} applied of {asked} asked for '
          f'({", ".join(f"{k} {v}" for k, v in sorted(by_setting.items()))})')
    print(f"  rollbacks         {summary['rollbacks']} (events {counts.get('rollback', 0)})")
    if samples:
        print(f'  RSS               {samples[0][1]:.1f} MB at the start, {samples[-1][1]:.1f} MB at the end, '
              f'{len(samples)} samples')
    if at_start:
        print(f'  checkpoints       {len(at_start)} at the starting settings ({missed} not reached), '
              f'RSS {at_start[0][1]:.1f} MB at the first, {at_start[-1][1]:.1f} MB at the last, '
              f'{min(r for _, r in at_start):.1f} to {max(r for _, r in at_start):.1f} MB')
    in_use = [(c['time_s'], c['malloc_in_use_mb']) for c in checkpoints if 'malloc_in_use_mb' in c]
    if in_use:
        # What a growth at the checkpoints is made of: more kept by the run
        # (in use) or malloc's heaps fragmenting (free in them).
        heap_free = [c['malloc_free_mb'] for c in checkpoints if 'malloc_free_mb' in c]
        in_use_slope = least_squares_slope(in_use[len(in_use) // 3:])
        print(f'  malloc            in use {in_use[0][1]:.1f} MB at the first checkpoint, {in_use[-1][1]:.1f} MB '
              f'at the last' + (f' ({in_use_slope * 3600:+.3f} MB/hour)' if in_use_slope is not None else '')
              + f'; free in its heaps {heap_free[0]:.1f}, then {heap_free[-1]:.1f} MB')
    if checkpoint_mb_h is not None:
        print(f'  RSS slope         {checkpoint_mb_h:+.3f} MB/hour at the checkpoints (least squares over the '
              f'last {len(checkpoint_tail)} of {len(at_start)}, {checkpoint_tail[0][0]:.0f} s to '
              f'{checkpoint_tail[-1][0]:.0f} s)')
    else:
        print(f'  RSS slope         not known at the checkpoints: {len(at_start)} are too few')
    if slope_mb_h is not None:
        print(f'                    {slope_mb_h:+.3f} MB/hour over all samples, whatever the settings '
              f'(the last {len(tail)} of {len(samples)}, {tail[0][0]:.0f} s to {tail[-1][0]:.0f} s)')
    else:
        print(f'                    not known over all samples: {len(samples)} are too few')
    print(f'  pool outstanding  {pool} buffers')
    if args.asan:
        print('  LeakSanitizer     ' + ('no leaks reported' if not leaks else f'{len(leaks)} lines:'))
        for line in leaks:
            print('    ' + line)
    else:
        print('  LeakSanitizer     not run (an ordinary build; --asan runs build-asan)')
    for line in glib_problems[:10]:
        print('  stderr: ' + line)

    if errors:
        problems.append(f'{errors} errors')
    if lost:
        problems.append(f'{lost} frames lost')
    if stages.get('decode', frames) != frames:
        problems.append(f'{stages.get("decode")} frames decoded but {frames} counted as processed')
    if applied > asked or (asked > 0 and applied == 0):
        problems.append(f'{applied} reconfigurations applied of {asked} asked for')
    if pool != 0:
        problems.append(f'{pool} buffers still out of the pool')
    # Issue 16's bar, over an hour: a shorter run's slope is mostly warm-up.
    if summary['duration_s'] >= 3600 and not args.asan:
        if checkpoint_mb_h is None:
            problems.append(f'{len(at_start)} checkpoints are too few to measure growth')
        elif checkpoint_mb_h >= 1.0:
            problems.append(f'resident memory grows {checkpoint_mb_h:.2f} MB/hour at the checkpoints (1 at most)')
    if leaks:
        problems.append('LeakSanitizer reported leaks')
    if args.exit_status != 0:
        problems.append(f'kestrel-cli exited with status {args.exit_status}')
    print('soak: ' + ('passed' if not problems else 'FAILED: ' + '; '.join(problems)))

    print(json.dumps({'soak': {
        'passed': not problems, 'duration_s': summary['duration_s'],
        'frames': frames, 'dropped': dropped, 'lost': lost, 'stages': stages,
        'errors': errors, 'events': counts, 'glib_warnings': len(glib_problems),
        'reconfigurations': applied, 'reconfigurations_requested': asked,
        'reconfigurations_by_setting': by_setting, 'rollbacks': summary['rollbacks'],
        'rss_samples': len(samples), 'rss_slope_mb_per_hour': slope_mb_h,
        'checkpoints': len(at_start), 'checkpoints_missed': missed,
        'checkpoint_rss_slope_mb_per_hour': checkpoint_mb_h,
        'pool_outstanding_buffers': pool, 'leak_lines': len(leaks) if args.asan else None,
        'exit_status': args.exit_status}}))
    return 0 if not problems else 1


if __name__ == '__main__':
    sys.exit(main())
