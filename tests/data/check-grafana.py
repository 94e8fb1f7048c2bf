#!/usr/bin/python3
"""The Grafana dashboard for a fleet of laptops is valid JSON, and every
name its panels' queries use is a metric Kestrel exports or a rule of
kestrel-rules.yml.

Kestrel's metric names are read from the source of the exposition (every
append_family() call under core/), histograms with their _bucket, _sum
and _count series; rule names from the rules file (python3-yaml). The
queries themselves are run against a real Prometheus in
tests/cli/check-prometheus.py.

  check-grafana.py DASHBOARD.json RULES.yml CORE_DIR
"""
import json
import os
import re
import sys

import yaml

FAMILY = re.compile(r'append_family\s*\(\s*out\s*,\s*"([a-z_:][a-z0-9_:]*)"\s*,\s*"([a-z]+)"')
# A metric or rule name in PromQL: not a label value (in quotes), not a
# function name (followed by "("), not a label name (followed by "=", "!",
# or inside by/without (...)).
NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')


def exported_metrics(core_dir):
    names = set()
    for root, _, files in os.walk(core_dir):
        for name in files:
            if not name.endswith('.c'):
                continue
            with open(os.path.join(root, name), encoding='utf-8') as f:
                for family, kind in FAMILY.findall(f.read()):
                    names.add(family)
                    if kind == 'histogram':
                        names.update(family + s for s in ('_bucket', '_sum', '_count'))
    return names


def read_rules(path):
    """Recording rule names, alert names, and (name, expr) of every rule."""
    with open(path, encoding='utf-8') as f:
        rules = yaml.safe_load(f)
    records, alerts, exprs = set(), set(), []
    for group in rules['groups']:
        for rule in group['rules']:
            if 'record' in rule:
                records.add(rule['record'])
            else:
                alerts.add(rule['alert'])
            exprs.append((rule.get('record', rule.get('alert')), rule['expr']))
    return records, alerts, exprs


def names_in(expr):
    """The series names an expression selects."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)            # label values
    text = re.sub(r'\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)', ' ', text)
    text = re.sub(r'\{[^}]*\}', ' ', text)                       # matchers
    text = re.sub(r'\[[^\]]*\]', ' ', text)                      # ranges
    text = re.sub(r'(?<![A-Za-z0-9_:])\d+(\.\d*)?([eE][+-]?\d+)?', ' ', text)  # numbers
    found = []
    for m in NAME.finditer(text):
        word = m.group(0)
        rest = text[m.end():].lstrip()
        if rest.startswith('('):
            continue                                             # a function
        if word in ('and', 'or', 'unless', 'bool', 'offset') or word.startswith('$'):
            continue
        if text[m.start() - 1:m.start()] == '$':
            continue                                             # a variable
        found.append(word)
    return found


def main():
    dashboard_path, rules_path, core_dir = sys.argv[1:4]
    metrics = exported_metrics(core_dir)
    records, alerts, rule_exprs = read_rules(rules_path)
    problems = []

    if len(metrics) < 10:
        problems.append(f'only {len(metrics)} metric names found under {core_dir}')
    with open(dashboard_path, encoding='utf-8') as f:
        dashboard = json.load(f)
    for key in ('title', 'uid', 'panels', 'schemaVersion', 'templating'):
        if key not in dashboard:
            problems.append(f'the dashboard has no "{key}"')
    panels = dashboard.get('panels', [])
    if not panels:
        problems.append('the dashboard has no panels')

    used = set()
    ids = [p.get('id') for p in panels]
    if len(set(ids)) != len(ids):
        problems.append(f'panel ids repeat: {ids}')
    # label_values(METRIC, LABEL): only METRIC is a series name.
    queries = [('templating', re.sub(r'label_values\(([^,]*),.*', r'\1', v['definition']))
               for v in dashboard.get('templating', {}).get('list', []) if 'definition' in v]
    for panel in panels:
        title = panel.get('title', '?')
        for key in ('type', 'title', 'gridPos', 'datasource'):
            if key not in panel:
                problems.append(f'panel {title!r} has no "{key}"')
        targets = panel.get('targets', [])
        if not targets:
            problems.append(f'panel {title!r} has no queries')
        for target in targets:
            if not target.get('expr'):
                problems.append(f'panel {title!r}: a target without "expr"')
                continue
            queries.append((title, target['expr']))

    # The rules' own expressions use Kestrel's metrics (or other rules) too.
    checked = queries + [(f'rule {name}', expr) for name, expr in rule_exprs]
    for where, expr in checked:
        for name in names_in(expr):
            if name == 'ALERTS':
                for alert in re.findall(r'alertname=~"([^"]*)"', expr):
                    if not any(re.fullmatch(alert, a) for a in alerts):
                        problems.append(f'{where}: ALERTS{{alertname=~"{alert}"}} matches no '
                                        f'alert of {rules_path}')
                continue
            if not where.startswith('rule '):
                used.add(name)
            if name not in metrics and name not in records:
                problems.append(f'{where}: {name!r} is neither a metric Kestrel exports nor '
                                f'a recording rule (in {expr!r})')

    # Every recording rule is shown somewhere, or it costs for nothing.
    for record in sorted(records - used):
        problems.append(f'recording rule {record} is on no panel')

    for p in problems:
        print('FAIL:', p)
    if problems:
        sys.exit(1)
    print(f'{len(panels)} panels, {len(queries)} queries; names used: {", ".join(sorted(used))}')


if __name__ == '__main__':
    main()
