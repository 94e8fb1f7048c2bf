#!/usr/bin/python3
"""Every Debian package the build, a run or a test uses is installed by
scripts/install-deps.sh: a package installed here by hand would let every
test pass on this machine and fail on a fresh one.

  check-install-deps.py SOURCE_ROOT BUILD_DIR

Traces to the Debian package that owns it (dpkg -S):
- every dependency meson found (its pkg-config file, or its libraries);
- every program meson found (meson-log.txt), the compilers, meson, ninja
  and pkg-config;
- every command the tests and scripts run that meson does not look for
  (RUN_TIME_COMMANDS below);
- every system path the tests and scripts name (/usr/... in their sources:
  conformance data, photos, videos).
An owner passes when scripts/install-deps.sh --list names it or when a
listed package pulls it in (Depends and Pre-Depends, as apt installs them
with --no-install-recommends). Anything else fails, naming the package to
add. A file no package owns fails too: a fresh machine would not have it.
"""
import json
import os
import re
import shutil
import subprocess
import sys

# Commands run by tests and scripts without a find_program() in meson,
# with who runs them.
RUN_TIME_COMMANDS = {
    'node': 'kestrel-cli bench --peer ort, tests/blazeface/test-ort-parity.c',
    'npm': 'scripts/install-deps.sh --test (npm ci in tests/peers)',
    'dbus-run-session': 'tests/ui/run-with-display.sh',
    'xauth': 'xvfb-run',
    'Xvfb': 'xvfb-run',
    'promtool': 'tests/monitor/test-prometheus.c, tests/cli/check-prometheus.py',
    'prometheus': 'tests/cli/check-prometheus.py',
    'groff': 'man --warnings (tests/data)',
    'gsettings': 'scripts/measure-app-cpu.sh',
    'pgrep': 'scripts/measure-app-cpu.sh',
    'valgrind': 'scripts/perf-guard.sh (the perf-guard test)',
    'llvm-symbolizer': 'AddressSanitizer, for tests/lsan.supp to match (make check)',
    'clang': 'scripts/fuzz.sh (the libFuzzer tree of tests/fuzz)',
    'aarch64-linux-gnu-gcc': 'scripts/check-aarch64.sh (cross/aarch64-linux-gnu.ini)',
    'aarch64-linux-gnu-pkg-config': 'scripts/check-aarch64.sh (cross/aarch64-linux-gnu.ini)',
    'qemu-aarch64': 'scripts/check-aarch64.sh (the exe_wrapper of cross/aarch64-linux-gnu.ini)',
}

# Files a command above needs that no path in the sources names: (what,
# command printing a folder, file in it).
RUN_TIME_FILES = [
    ('libFuzzer runtime (scripts/fuzz.sh)', ['clang', '--print-runtime-dir'],
     'libclang_rt.fuzzer-x86_64.a'),
]

THIS_FILE = os.path.basename(__file__)
# Sources that may name system paths a test or script reads.
SOURCE_SUFFIXES = ('.c', '.h', '.py', '.sh', '.js', 'meson.build')
PATH_LITERAL = re.compile(r'''["'](/usr/[^"'\s]*)["']''')
# C: #define NAME "/usr/..." and later NAME "/rest" (string pasting).
C_DEFINE = re.compile(r'^\s*#\s*define\s+(\w+)\s+"(/usr/[^"]*)"\s*$', re.M)
C_PASTE = r'^(?!\s*#\s*define).*\b{}\s+"(/[^"]*)"'



def fail_list():
    failures = []
    return failures, failures.append


def listed_packages(source_root):
    """The names install-deps.sh lists, some of another architecture
    (libglib2.0-dev:arm64, for the aarch64 cross tree)."""
    script = os.path.join(source_root, 'scripts', 'install-deps.sh')
    out = subprocess.run(['sh', script, '--list'], check=True,
                         capture_output=True, text=True).stdout
    return set(out.split())


def unqualified(name):
    """libglib2.0-dev:arm64 -> libglib2.0-dev: the dependency graph and
    dpkg -S name packages without their architecture."""
    return name.split(':')[0]


def installed_qualified(names):
    """Those of `names` of an explicit architecture that are installed:
    the graph would take the native package for them."""
    found = set()
    for name in names:
        result = subprocess.run(['dpkg-query', '-W', '-f', '${db:Status-Abbrev}', name],
                                capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.startswith('ii'):
            found.add(name)
    return found


def installed_graph():
    """Installed packages -> the packages their Depends/Pre-Depends can be
    met by (every installed alternative; virtual names via Provides)."""
    out = subprocess.run(
        ['dpkg-query', '-W', '-f', '${Package}\t${db:Status-Abbrev}\t${Depends}\t'
         '${Pre-Depends}\t${Provides}\n'],
        check=True, capture_output=True, text=True).stdout
    rows = []
    providers = {}
    for line in out.splitlines():
        name, status, depends, predepends, provides = (line.split('\t') + [''] * 5)[:5]
        if not status.startswith('ii'):
            continue
        rows.append((name, depends + ', ' + predepends))
        providers.setdefault(name, set()).add(name)
        for p in provides.split(','):
            p = p.strip().split(' ')[0].split(':')[0]
            if p:
                providers.setdefault(p, set()).add(name)
    graph = {}
    for name, depends in rows:
        targets = set()
        for clause in depends.split(','):
            for alternative in clause.split('|'):
                dep = alternative.strip().split(' ')[0].split(':')[0]
                targets |= providers.get(dep, set())
        graph[name] = targets
    return graph


def closure(roots, graph):
    """package -> the listed package that pulls it in."""
    via = {r: r for r in roots if r in graph}
    queue = list(via)
    for pkg in queue:  # breadth first: the nearest listed package names it
        for dep in sorted(graph.get(pkg, ())):
            if dep not in via:
                via[dep] = via[pkg]
                queue.append(dep)
    return via


def spellings(path):
    """`path`, its real path, and their /usr-merged twins (a package may
    own /bin/x while the tests name /usr/bin/x)."""
    out = []
    for p in (path, os.path.realpath(path)):
        for q in (p, p[4:] if p.startswith('/usr/') else '/usr' + p):
            if q not in out:
                out.append(q)
    return out


def owners_of(paths):
    """path -> the packages that own it, for each path of `paths` any of
    whose spellings a package owns: one dpkg -S for them all."""
    wanted = {}
    for p in paths:
        for q in spellings(p):
            wanted.setdefault(q, set()).add(p)
    result = subprocess.run(['dpkg', '-S', *wanted], capture_output=True, text=True)
    found = {}
    for line in result.stdout.splitlines():
        if line.startswith('diversion by'):
            continue
        pkgs, _, owned = line.rpartition(': ')
        for p in wanted.get(owned, ()):
            found.setdefault(p, set()).update(x.strip().split(':')[0] for x in pkgs.split(','))
    return {p: sorted(v) for p, v in found.items()}


def meson_dependency_files(build_dir):
    """(name, file) for every dependency meson found: its .pc file, else its
    libraries given by absolute path."""
    with open(os.path.join(build_dir, 'meson-info', 'intro-dependencies.json'),
              encoding='utf-8') as f:
        deps = json.load(f)
    for dep in deps:
        name = dep.get('name', '')
        pc = subprocess.run(['pkg-config', '--path', name], capture_output=True, text=True)
        if pc.returncode == 0 and pc.stdout.strip():
            yield f'dependency {name}', pc.stdout.strip().splitlines()[0]
            continue
        libs = [a for a in dep.get('link_args', []) if a.startswith('/')]
        if libs:
            for lib in libs:
                yield f'dependency {name}', lib
        # threads and the like: flags only, nothing to trace


def meson_programs(build_dir, source_root):
    """(what, path) for every program meson found, and the compilers."""
    seen = set()
    log_path = os.path.join(build_dir, 'meson-logs', 'meson-log.txt')
    with open(log_path, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = re.match(r'Program (\S+) found: YES \((.*)\)\s*$', line)
            if m:
                # "(/usr/bin/python3 /path/script)" for a script and its interpreter
                for path in m.group(2).split(' '):
                    if not path.startswith('/') or path in seen:
                        continue
                    if path.startswith((os.path.realpath(source_root) + '/',
                                        os.path.realpath(build_dir) + '/')):
                        continue
                    seen.add(path)
                    yield f'program {m.group(1)} (meson)', path
                continue
            # "C compiler for the host machine: cc (gcc 12.2.0 ...)",
            # "C linker for the host machine: cc ld.bfd 2.40"
            m = re.match(r'(\S+) (compiler|linker) for the host machine: (.*)$', line)
            if not m:
                continue
            words = m.group(3).split(' ')
            names = words[:1] if m.group(2) == 'compiler' else words[1:2]
            for name in names:
                path = shutil.which(name)
                if path and path not in seen:
                    seen.add(path)
                    yield f'{m.group(1)} {m.group(2)} {name}', path


def tool_paths():
    for name in ('meson', 'ninja', 'pkg-config'):
        yield f'build tool {name}', name
    for name, who in RUN_TIME_COMMANDS.items():
        yield f'command {name} ({who})', name


def runtime_files():
    """(what, path) for RUN_TIME_FILES whose command runs here."""
    for what, command, name in RUN_TIME_FILES:
        if os.uname().machine != 'x86_64' and 'x86_64' in name:
            continue
        try:
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue  # the command itself is checked (and fails) above
        yield what, os.path.join(out.strip(), name)


def system_paths(source_root):
    """(what, path) for every /usr/... path in the sources of tests/ and
    scripts/."""
    found = {}
    for top in ('tests', 'scripts'):
        for folder, dirnames, filenames in os.walk(os.path.join(source_root, top)):
            dirnames[:] = [d for d in dirnames if d != 'node_modules']
            for filename in filenames:
                if not filename.endswith(SOURCE_SUFFIXES) or filename == THIS_FILE:
                    continue
                path = os.path.join(folder, filename)
                with open(path, encoding='utf-8', errors='replace') as f:
                    text = f.read()
                rel = os.path.relpath(path, source_root)
                for m in PATH_LITERAL.finditer(text):
                    found.setdefault(m.group(1), rel)
                for name, prefix in C_DEFINE.findall(text):
                    found.setdefault(prefix, rel)
                    for rest in re.findall(C_PASTE.format(name), text, re.M):
                        found.setdefault(prefix + rest, rel)
    for path, where in sorted(found.items()):
        if path.startswith('/usr/bin/env'):
            continue  # #!/usr/bin/env node: the interpreter is a command above
        yield f'{path} (named in {where})', path


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source_root, build_dir = argv[1], argv[2]
    listed_names = listed_packages(source_root)
    listed = {unqualified(p) for p in listed_names}
    graph = installed_graph()
    via = closure(listed, graph)
    failures, fail = fail_list()
    checked = 0

    qualified = {p for p in listed_names if ':' in p}
    qualified_ok = installed_qualified(qualified)
    not_installed = sorted(p for p in listed_names
                           if (p not in qualified_ok if p in qualified else p not in graph))
    for p in not_installed:
        fail(f'scripts/install-deps.sh lists {p}, which is not installed here: '
             'run scripts/install-deps.sh --test')

    items = list(meson_dependency_files(build_dir))
    items += list(meson_programs(build_dir, source_root))
    for what, name in tool_paths():
        path = shutil.which(name, path='/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
        if path is None:
            fail(f'{what}: not installed')
            continue
        items.append((what, path))
    items += list(runtime_files())
    items += list(system_paths(source_root))

    owned = owners_of([path for _, path in items if os.path.exists(path)])
    for what, path in items:
        checked += 1
        if not os.path.exists(path):
            fail(f'{what}: {path} does not exist; no installed package provides it')
            continue
        pkgs = owned.get(path)
        if not pkgs:
            fail(f'{what}: {path} belongs to no Debian package (installed by hand?): '
                 'a fresh machine would not have it')
            continue
        covered = [p for p in pkgs if p in via]
        if covered:
            p = covered[0]
            how = 'listed' if via[p] == p else f'pulled in by {via[p]}'
            print(f'ok  {what}: {path} -> {p} ({how})')
            continue
        fail(f'{what}: {path} is in Debian package {" or ".join(pkgs)}, which '
             'scripts/install-deps.sh does not install: add it there')

    for f in failures:
        print(f'FAIL {f}')
    print(f'{checked} files checked, {len(listed)} packages listed, '
          f'{len(failures)} problems')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
