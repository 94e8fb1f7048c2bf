#!/usr/bin/python3
# The metrics endpoint left running (issue 10, defect 1): `kestrel-cli run
# --source synthetic: --metrics-addr 127.0.0.1:PORT`, its descriptor count
# (/proc/PID/fd) before and after 5000 sequential scrapes, then after 64
# concurrent scrapers of 5 each, and the sockets left in CLOSE-WAIT on its
# port (/proc/net/tcp). Not a test (tests/monitor/test-prometheus.c and
# tests/cli/check-prometheus.py assert the same): the numbers for a note.
#
#   scripts/measure-metrics-descriptors.py [BUILD_DIR]   (default: build)
#
# Scrapes from one Python process: 5000 curl processes took ten minutes on
# a loaded 2-core machine.
import os, socket, subprocess, sys, threading, time, urllib.request
build = sys.argv[1] if len(sys.argv) > 1 else 'build'
s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
proc = subprocess.Popen([build + '/app/kestrel-cli', 'run', '--source', 'synthetic:', '--duration', '1800',
                         '--metrics-addr', '127.0.0.1:%d' % port],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
url = 'http://127.0.0.1:%d/metrics' % port
def scrape():
    with urllib.request.urlopen(url, timeout=30) as r:
        r.read()
        return r.status == 200
for _ in range(300):
    try:
        scrape(); break
    except OSError:
        time.sleep(0.1)
fds = lambda: len(os.listdir('/proc/%d/fd' % proc.pid))
before = fds()
t0 = time.monotonic()
ok = sum(scrape() for _ in range(5000))
t1 = time.monotonic()
after = fds()
def close_wait():
    # /proc/net/tcp: local address as hex IP:PORT, state 08 is CLOSE_WAIT.
    count = 0
    with open('/proc/net/tcp') as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(':')[1], 16) == port and fields[3] == '08':
                count += 1
    return count
print('descriptors of kestrel-cli run (pid %d): %d before, %d after 5000 sequential scrapes '
      '(%d answered 200, %.1f s); CLOSE-WAIT on the port: %d' % (proc.pid, before, after, ok, t1 - t0, close_wait()))
answered = []
def loop():
    answered.append(sum(scrape() for _ in range(5)))
threads = [threading.Thread(target=loop) for _ in range(64)]
for t in threads: t.start()
for t in threads: t.join()
time.sleep(1)
print('after 64 concurrent scrapers x 5 (%d answered 200): %d descriptors; CLOSE-WAIT: %d'
      % (sum(answered), fds(), close_wait()))
proc.terminate(); proc.wait(60)
