#!/usr/bin/python3
"""kestrel-cli run's /metrics endpoint, scraped by the real thing.

1. Descriptors: 5000 sequential scrapes (a new connection each, as curl
   and a restarted Prometheus make), then rounds of 64 concurrent ones;
   the process's descriptor count afterwards is what it was before (+-2)
   and no scrape stalls. (libsoup 3.2 kept every one of those sockets in
   CLOSE-WAIT: issue 10, defect 1.)
2. `promtool check metrics` passes on the exposition.
3. Debian's Prometheus, started on a loopback port with a temporary
   configuration and storage and kestrel-rules.yml loaded, scrapes it at
   least twice; its HTTP API then has Kestrel's series (frames, latency
   quantiles through histogram_quantile, CPU, RSS), the recording rules
   evaluated, the alerts loaded, and every query of the Grafana dashboard
   parses and runs.

Every wait is bounded, and both servers are stopped at the end.

  check-prometheus.py KESTREL_CLI RULES.yml DASHBOARD.json
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from cli_checks import finish, missing

CLI, RULES, DASHBOARD = sys.argv[1:4]
problems = []


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def fd_count(pid):
    return len(os.listdir(f'/proc/{pid}/fd'))


def scrape(port, path='/metrics', timeout=10):
    """One request on a new connection, closed after the answer, as curl
    does it; returns (status, body)."""
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.request('GET', path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for(what, check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    problems.append(f'gave up after {timeout} s waiting for {what}')
    return None


def settle_fds(pid, before):
    """The count once closes have been processed (bounded)."""
    count = fd_count(pid)
    deadline = time.monotonic() + 10
    while abs(count - before) > 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        count = fd_count(pid)
    return count


def check_descriptors(pid, port):
    before = fd_count(pid)
    started = time.monotonic()
    for i in range(5000):
        try:
            status, _ = scrape(port)
        except OSError as e:
            problems.append(f'sequential scrape {i + 1} failed: {e}')
            return
        if status != 200:
            problems.append(f'sequential scrape {i + 1}: HTTP {status}')
            return
    sequential_s = time.monotonic() - started
    after = settle_fds(pid, before)
    print(f'descriptors of kestrel-cli run: {before} before, {after} after 5000 sequential '
          f'scrapes ({sequential_s:.1f} s)')
    if abs(after - before) > 2:
        problems.append(f'5000 scrapes left {after - before} more descriptors open')

    # 64 at once: all connect first, then all ask; none may stall.
    failures = []
    for _ in range(5):
        barrier = threading.Barrier(64)

        def one():
            try:
                conn = http.client.HTTPConnection('127.0.0.1', port, timeout=20)
                conn.connect()
                barrier.wait(timeout=20)
                conn.request('GET', '/metrics')
                response = conn.getresponse()
                body = response.read()
                conn.close()
                if response.status != 200 or b'kestrel_frames_processed_total' not in body:
                    failures.append(f'HTTP {response.status}')
            except (OSError, threading.BrokenBarrierError) as e:
                failures.append(repr(e))

        threads = [threading.Thread(target=one) for _ in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        if any(t.is_alive() for t in threads):
            failures.append('a concurrent scrape was still waiting after 60 s')
            break
    if failures:
        problems.append(f'{len(failures)} of 320 concurrent scrapes failed: {failures[:3]}')
    after = settle_fds(pid, before)
    print(f'descriptors: {after} after 5 rounds of 64 concurrent scrapes')
    if abs(after - before) > 2:
        problems.append(f'64 concurrent scrapes left {after - before} more descriptors open')


def check_promtool(promtool, exposition):
    result = subprocess.run([promtool, 'check', 'metrics'], input=exposition, capture_output=True,
                            timeout=60)
    output = (result.stdout + result.stderr).decode(errors='replace').strip()
    print(f'promtool check metrics: exit {result.returncode} {output}')
    if result.returncode != 0:
        problems.append(f'promtool check metrics failed: {output}')


def query(api, expr):
    url = f'{api}/api/v1/query?' + urllib.parse.urlencode({'query': expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        reply = json.load(response)
    if reply.get('status') != 'success':
        raise ValueError(f'{expr}: {reply}')
    return reply['data']


def values(api, expr):
    """The sample values of an instant vector, as floats (NaN kept)."""
    try:
        data = query(api, expr)
    except (OSError, ValueError) as e:
        return None, str(e)
    return [float(r['value'][1]) for r in data['result']], None


def check_prometheus(prometheus, tmp, kestrel_port):
    port = free_port()
    api = f'http://127.0.0.1:{port}'
    config = os.path.join(tmp, 'prometheus.yml')
    with open(config, 'w') as f:
        f.write(f'''global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {os.path.abspath(RULES)}
scrape_configs:
  - job_name: kestrel
    static_configs:
      - targets: ['127.0.0.1:{kestrel_port}']
''')
    log = open(os.path.join(tmp, 'prometheus.log'), 'w')
    server = subprocess.Popen([prometheus, f'--config.file={config}',
                               f'--storage.tsdb.path={os.path.join(tmp, "data")}',
                               f'--web.listen-address=127.0.0.1:{port}', '--log.level=warn'],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def ready():
            try:
                with urllib.request.urlopen(f'{api}/-/ready', timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False
        if not wait_for('Prometheus to be ready', ready, 60):
            return

        def scraped_twice():
            v, _ = values(api, 'count_over_time(kestrel_frames_processed_total{job="kestrel"}[5m])')
            return v and v[0] >= 2
        if not wait_for('two scrapes of kestrel-cli run', scraped_twice, 60):
            return

        # rate() and the recording rules need two samples in their window.
        def latency():
            v, _ = values(api, 'histogram_quantile(0.5, sum by (le) '
                          '(rate(kestrel_frame_latency_seconds_bucket[1m])))')
            return v and v[0] == v[0] and v[0] > 0 and v
        p50 = wait_for('a frame latency quantile', latency, 30)

        checks = {
            'frames': ('kestrel_frames_processed_total', lambda v: v[0] > 0),
            'inference p95': ('histogram_quantile(0.95, sum by (le) (rate('
                              'kestrel_stage_latency_seconds_bucket{stage="inference"}[1m])))',
                              lambda v: 0 < v[0] < 10),
            'CPU': ('kestrel_process_cpu_percent', lambda v: v[0] >= 0),
            'CPU seconds': ('kestrel_process_cpu_seconds_total', lambda v: v[0] > 0),
            'RSS': ('kestrel_resident_memory_bytes', lambda v: v[0] > 1e6),
            'plan weights': ('kestrel_plan_weight_bytes{precision="fp32"}', lambda v: v[0] > 1e4),
            'plan arenas': ('kestrel_plan_arena_bytes{precision="fp32"}', lambda v: v[0] > 1e4),
            'budget': ('kestrel_budget_percent', lambda v: v[0] == 50),
            'over budget': ('kestrel_over_budget', lambda v: v[0] in (0, 1)),
            'rollbacks': ('kestrel_rollbacks_total', lambda v: v[0] == 0),
            'recording rule frames': ('instance:kestrel_frames_processed:rate1m', lambda v: v[0] > 0),
            'recording rule p95': ('instance:kestrel_frame_latency_seconds:p95_5m',
                                   lambda v: v[0] == v[0] and v[0] > 0),
        }
        for name, (expr, ok) in checks.items():
            def present(expr=expr):
                v, _ = values(api, expr)
                return v
            v = wait_for(f'{name} ({expr})', present, 20)
            if v is None:
                continue
            if not ok(v):
                problems.append(f'{name}: {expr} = {v}')
            else:
                print(f'{name}: {expr} = {v[0]:g}')
        if p50:
            print(f'frame latency p50 through histogram_quantile: {p50[0] * 1e3:.2f} ms')

        with urllib.request.urlopen(f'{api}/api/v1/rules', timeout=10) as r:
            groups = json.load(r)['data']['groups']
        rules = {rule['name']: rule for g in groups for rule in g['rules']}
        for alert in ('KestrelOverBudget', 'KestrelMemoryGrowth', 'KestrelRollback'):
            if alert not in rules:
                problems.append(f'alert {alert} not loaded from {RULES}')
        for name, rule in rules.items():
            if rule.get('health') not in ('ok', 'unknown'):
                problems.append(f'rule {name}: health {rule.get("health")}: {rule.get("lastError")}')

        # Every query of the dashboard parses and runs (with every laptop).
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        exprs = [t['expr'] for p in dashboard['panels'] for t in p.get('targets', [])]
        for expr in exprs:
            try:
                query(api, expr.replace('$instance', '.*'))
            except (OSError, ValueError) as e:
                problems.append(f'dashboard query {expr!r} failed: {e}')
        print(f'{len(exprs)} dashboard queries ran')
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        if problems:
            with open(os.path.join(tmp, 'prometheus.log')) as f:
                print('prometheus log:\n' + f.read()[-2000:])


def main():
    promtool = shutil.which('promtool')
    prometheus = shutil.which('prometheus')
    if promtool is None:
        missing('promtool', 'prometheus')
    if prometheus is None:
        missing('prometheus', 'prometheus')

    with tempfile.TemporaryDirectory() as tmp:
        err_path = os.path.join(tmp, 'kestrel.err')
        err = open(err_path, 'w')
        # Budget 50 %: the budget gauge has a known value. Port 0: the run
        # says where it serves.
        kestrel = subprocess.Popen([CLI, 'run', '--source', 'synthetic:', '--budget', '50',
                                    '--duration', '600', '--json', '--metrics-addr', '127.0.0.1:0'],
                                   stdout=subprocess.DEVNULL, stderr=err)
        try:
            def url():
                with open(err_path) as f:
                    m = re.search(r'serving metrics at http://127\.0\.0\.1:(\d+)/metrics', f.read())
                return m and int(m.group(1))
            port = wait_for('kestrel-cli run to serve metrics', url, 60)
            if port:
                wait_for('a first snapshot with the system sample',
                         lambda: b'kestrel_resident_memory_bytes' in scrape(port)[1], 30)
                check_promtool(promtool, scrape(port)[1])
                check_descriptors(kestrel.pid, port)
                check_prometheus(prometheus, tmp, port)
        finally:
            kestrel.send_signal(signal.SIGTERM)
            try:
                kestrel.wait(60)
            except subprocess.TimeoutExpired:
                kestrel.kill()
                kestrel.wait()
                problems.append('kestrel-cli run did not stop within 60 s of SIGTERM')
            err.close()
            with open(err_path) as f:
                stderr = f.read()
            if 'CRITICAL' in stderr or 'WARNING' in stderr:
                problems.append(f'kestrel-cli run complained: {stderr.strip()[:500]}')
            if kestrel.returncode != 0:
                problems.append(f'kestrel-cli run exited with {kestrel.returncode}: {stderr[-500:]}')

    finish(problems)


if __name__ == '__main__':
    main()
