#!/usr/bin/python3
"""Faults in a source while `kestrel-cli run` reads it (issue 16, item 4):
files truncated or deleted under the running engine.

  check-source-faults.py KESTREL_CLI SAMPLES_DIR VIDEO

1. A folder of photos: one photo is truncated (a SOURCE_ERROR event
   naming it, and frames go on from the others), one is deleted (frames
   go on), then all are deleted (a SOURCE_ERROR saying the folder has no
   image files left, then the engine waits: an info event that the source
   has no more frames). SIGTERM then stops it cleanly with every frame
   accounted for.
2. A video (a copy of opencv-doc's vtest.avi): deleted while played
   (a SOURCE_ERROR event saying so; the open file stays readable, so
   frames go on), then, played again, truncated to a third (a SOURCE_ERROR
   event saying it was cut short, then frames go on from what is left).

Every wait is for an event or a count in kestrel-cli's JSON lines; the
limit on each is only there so that a hang fails instead of blocking.
"""
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from cli_checks import finish, missing

CLI, SAMPLES, VIDEO = sys.argv[1], sys.argv[2], sys.argv[3]
problems = []
HANG = 180  # seconds: only a hang takes this long


class Run:
    """kestrel-cli run --json, its lines read on a thread."""

    def __init__(self, source):
        self.proc = subprocess.Popen([CLI, 'run', '--json', '--budget', '100', '--source', source],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors='replace')
        self.lines = queue.Queue()
        self.frames = 0
        self.events = []
        self.summary = None
        self.stderr = ''
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _take(self, timeout):
        """One line, parsed and noted; None at the end of the output."""
        line = self.lines.get(timeout=timeout)
        if line is None:
            return None
        try:
            obj = json.loads(line)
        except ValueError:
            problems.append(f'not a JSON line: {line!r}')
            return {}
        if 'frames' in obj and 'time_s' in obj:
            self.frames = obj['frames']
        if 'event' in obj:
            print(f"  event {obj['event']}: {obj['message']}")
            self.events.append(obj)
        if 'summary' in obj:
            self.summary = obj['summary']
        return obj

    def wait_for(self, what, predicate):
        """Reads lines until predicate(self, line) holds; False (a problem
        noted) if the output ends or nothing comes for HANG seconds."""
        while True:
            try:
                obj = self._take(HANG)
            except queue.Empty:
                problems.append(f'{what}: nothing for {HANG} s')
                return False
            if obj is None:
                problems.append(f'{what}: kestrel-cli ended first ({self.proc.wait()}): {self.proc.stderr.read()}')
                return False
            if predicate(self, obj):
                return True

    def wait_frames(self, what, more):
        target = self.frames + more
        return self.wait_for(f'{what} ({more} more frames)', lambda run, obj: run.frames >= target)

    def wait_event(self, what, kind, words):
        return self.wait_for(what, lambda run, obj: obj.get('event') == kind
                             and all(w in obj.get('message', '') for w in words))

    def stop(self, what):
        self.proc.send_signal(signal.SIGTERM)
        try:
            while self._take(HANG) is not None:
                pass
        except queue.Empty:
            self.proc.kill()
            problems.append(f'{what}: did not stop after SIGTERM')
        status = self.proc.wait()
        self.stderr = self.proc.stderr.read()
        if status != 0:
            problems.append(f'{what}: exit status {status} after SIGTERM: {self.stderr.strip()}')
        for word in ('CRITICAL', 'WARNING **'):
            if word in self.stderr:
                problems.append(f'{what}: stderr says {word}: {self.stderr.strip()}')
        if self.summary is None:
            problems.append(f'{what}: no summary')
            return
        s = self.summary
        captured = s['latency']['capture']['count']
        # Every frame taken from the source is processed or dropped.
        if captured > s['frames'] + s['dropped']:
            problems.append(f'{what}: {captured} frames captured, {s["frames"]} processed, '
                            f'{s["dropped"]} dropped')
        if s['pool_outstanding_buffers'] != 0:
            problems.append(f'{what}: {s["pool_outstanding_buffers"]} buffers out of the pool')
        print(f"  {what}: {s['frames']} frames, {s['dropped']} dropped, events {s['events']}")


def photos(tmp):
    folder = os.path.join(tmp, 'photos')
    os.mkdir(folder)
    names = ['astronaut.png', 'coffee.png', 'grace_hopper.jpg']
    for name in names:
        shutil.copy(os.path.join(SAMPLES, name), folder)
    run = Run(f'images:{folder}')
    ok = run.wait_frames('photos: before any fault', 3)

    # Truncated: the decoder gets half a JPEG.
    victim = os.path.join(folder, 'grace_hopper.jpg')
    with open(victim, 'r+b') as f:
        f.truncate(os.path.getsize(victim) // 2)
    ok = ok and run.wait_event('photos: truncated', 'source-error', ['grace_hopper.jpg'])
    ok = ok and run.wait_frames('photos: after the truncated photo', 5)

    # Deleted: the next pass lists the folder without it.
    os.unlink(os.path.join(folder, 'astronaut.png'))
    ok = ok and run.wait_frames('photos: after a deleted photo', 5)

    # All deleted: an error, then the engine waits.
    for name in os.listdir(folder):
        os.unlink(os.path.join(folder, name))
    ok = ok and run.wait_event('photos: all deleted', 'source-error', ['no longer has image files'])
    ok = ok and run.wait_event('photos: waiting', 'info', ['has no more frames'])
    run.stop('photos')


def video(tmp):
    copy = os.path.join(tmp, 'video.avi')
    shutil.copy(VIDEO, copy)
    run = Run(f'file:{copy}')
    ok = run.wait_frames('video: before any fault', 5)

    # Deleted while played: said at the next end of the stream, and the
    # open file stays readable until closed, so frames go on.
    os.unlink(copy)
    ok = ok and run.wait_event('video: deleted', 'source-error', ['video.avi', 'was deleted while it was played'])
    ok = ok and run.wait_frames('video: after the deletion', 20)
    run.stop('video (deleted)')

    shutil.copy(VIDEO, copy)
    run = Run(f'file:{copy}')
    ok = run.wait_frames('video: before truncation', 5)
    with open(copy, 'r+b') as f:
        f.truncate(os.path.getsize(copy) // 3)
    # GStreamer's AVI demuxer takes the cut as the end of the stream and the
    # source would loop over what is left without a word (the bug this
    # found): the change is said once, then the frames left go on.
    ok = ok and run.wait_event('video: truncated', 'source-error', ['video.avi', 'cut short'])
    ok = ok and run.wait_frames('video: after the truncation', 20)
    run.stop('video (truncated)')


def main():
    if not os.path.exists(VIDEO):
        missing(VIDEO, 'opencv-doc')
    with tempfile.TemporaryDirectory() as tmp:
        photos(tmp)
        video(tmp)
    finish(problems)


if __name__ == '__main__':
    main()
