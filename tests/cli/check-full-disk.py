#!/usr/bin/python3
"""Fault: a full disk while kestrel-cli saves results (issue 16, item 4).

  check-full-disk.py KESTREL_CLI SAMPLES_DIR

A benchmark result (--output and --csv) and a calibration table (--output)
are saved over a previous file on a file system with no space left. Each
must be exit status 1 with a message naming the file and saying why, the
previous file byte for byte as it was (files are written to a temporary
file and renamed), and no temporary file left behind.

The full file system is a 1 MiB tmpfs, filled, mounted in a private mount
namespace (`unshare --map-root-user --mount`: no root needed, and root
inside a container may do it too). Where that is refused (a container
without user namespaces), the same write failure is made with a file size
limit (RLIMIT_FSIZE: a write past it fails with EFBIG, root included) and
the output says which was used.
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

from cli_checks import finish

CLI, SAMPLES = sys.argv[1], sys.argv[2]
problems = []
ONE_CELL = ['--precision', 'fp32', '--level', 'simd', '--batch', '1',
            '--time-per-cell', '0.3', '--rounds', '1', '--seed', '5']

# Inside the namespace: mount the tmpfs on $1, copy the previous files in,
# fill what is left, then run the command (the rest of the arguments).
FULL_TMPFS = r'''
set -e
dir=$1; previous=$2; shift 2
mount -t tmpfs -o size=1m kestrel-full "$dir"
cp -p "$previous"/* "$dir"/
dd if=/dev/zero of="$dir/filler" bs=4k 2>/dev/null || true
exec "$@"
'''


def tmpfs_works(tmp):
    probe = os.path.join(tmp, 'probe')
    os.mkdir(probe)
    try:
        result = subprocess.run(['unshare', '--map-root-user', '--mount', 'sh', '-c',
                                 'mount -t tmpfs -o size=64k probe "$1"', 'sh', probe],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f'unshare: {e}')
        return False
    if result.returncode != 0:
        print(f'a private tmpfs is refused here ({result.stderr.strip()}): using RLIMIT_FSIZE')
    return result.returncode == 0


def limit_file_size():
    # Past 1 KiB a write fails (EFBIG) instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


def run_full(mode, tmp, previous_dir, args):
    """Runs kestrel-cli ARGS with its output folder full; returns the
    CompletedProcess and the folder's files afterwards (name -> bytes)."""
    target = os.path.join(tmp, 'full')
    shutil.rmtree(target, ignore_errors=True)
    os.mkdir(target)
    args = [a.replace('@DIR@', target) for a in args]
    if mode == 'tmpfs':
        # The files are listed inside the namespace, before it goes away.
        lister = [sys.executable, '-c',
                  'import os, subprocess, sys, json\n'
                  'p = subprocess.run(sys.argv[2:], capture_output=True, text=True)\n'
                  'files = {n: open(os.path.join(sys.argv[1], n), "rb").read().hex()\n'
                  '         for n in os.listdir(sys.argv[1]) if n != "filler"}\n'
                  'print(json.dumps({"status": p.returncode, "out": p.stdout, "err": p.stderr, "files": files}))\n',
                  target, CLI] + args
        cmd = ['unshare', '--map-root-user', '--mount', 'sh', '-c', FULL_TMPFS, 'sh', target,
               previous_dir] + lister
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            problems.append(f'the full tmpfs could not be set up: {proc.stdout} {proc.stderr}')
            return None, {}
        files = {n: bytes.fromhex(h) for n, h in report['files'].items()}
        return subprocess.CompletedProcess(args, report['status'], report['out'], report['err']), files
    for name in os.listdir(previous_dir):
        shutil.copy2(os.path.join(previous_dir, name), target)
    proc = subprocess.run([CLI] + args, capture_output=True, text=True, timeout=600,
                          preexec_fn=limit_file_size)
    files = {}
    for name in os.listdir(target):
        with open(os.path.join(target, name), 'rb') as f:
            files[name] = f.read()
    return proc, files


def check(mode, tmp, what, previous_dir, args, saved, reason):
    proc, files = run_full(mode, tmp, previous_dir, args)
    if proc is None:
        return
    message = (proc.stdout + proc.stderr).strip()
    print(f'{what}: exit {proc.returncode}: {proc.stderr.strip()}')
    if proc.returncode != 1:
        problems.append(f'{what}: exit status {proc.returncode}, expected 1: {message[-300:]!r}')
    for word in (saved + ' not saved', reason):
        if word not in proc.stderr:
            problems.append(f'{what}: the error does not say {word!r}: {proc.stderr.strip()!r}')
    if 'CRITICAL' in message:
        problems.append(f'{what}: {message!r}')
    for name in os.listdir(previous_dir):
        with open(os.path.join(previous_dir, name), 'rb') as f:
            before = f.read()
        if files.get(name) != before:
            problems.append(f'{what}: the previous {name} was changed '
                            f'({len(before)} bytes before, {len(files.get(name, b""))} after)')
    left = sorted(set(files) - set(os.listdir(previous_dir)))
    if left:
        problems.append(f'{what}: files left behind: {left}')


def main():
    with tempfile.TemporaryDirectory() as tmp:
        mode = 'tmpfs' if tmpfs_works(tmp) else 'rlimit'
        reason = 'No space left on device' if mode == 'tmpfs' else 'File too large'
        print(f'full disk by {mode}')

        # The previous files: a real result and table, made here.
        previous = os.path.join(tmp, 'previous')
        os.mkdir(previous)
        result = subprocess.run([CLI, 'benchmark', *ONE_CELL, '-o', os.path.join(previous, 'result.json'),
                                 '--csv', os.path.join(previous, 'result.csv')],
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            problems.append(f'benchmark: {result.stderr}')
        result = subprocess.run([CLI, 'calibrate', 'front', '--frames', SAMPLES,
                                 '-o', os.path.join(previous, 'table.json')],
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            problems.append(f'calibrate: {result.stderr}')
        if problems:
            finish(problems)

        check(mode, tmp, 'benchmark --output', previous,
              ['benchmark', *ONE_CELL, '-o', '@DIR@/result.json'], 'result.json', reason)
        # The result itself goes elsewhere (never to a device: it is
        # replaced by a rename). A file size limit would stop it too, so
        # this case needs the full tmpfs.
        if mode == 'tmpfs':
            check(mode, tmp, 'benchmark --csv', previous,
                  ['benchmark', *ONE_CELL, '-o', os.path.join(tmp, 'elsewhere.json'),
                   '--csv', '@DIR@/result.csv'], 'result.csv', reason)
        check(mode, tmp, 'calibrate --output', previous,
              ['calibrate', 'front', '--frames', SAMPLES, '-o', '@DIR@/table.json'], 'table.json', reason)
    finish(problems)


if __name__ == '__main__':
    main()
