#!/usr/bin/python3
"""Checks flatpak/org.kestrel.Kestrel.yml (or .json).

- It parses, and has the app id, runtime, command and narrow permissions
  Kestrel promises (no --device=all, no home or host file system).
- Every archive source has an https URL and a sha256.
- Every dependency('NAME') in the project's meson.build files is
  * provided by the GNOME runtime (RUNTIME_PKGCONFIG below), or
  * built by a module of the manifest that declares it in
    `x-provides-pkgconfig`, or
  * optional through `required: get_option('X')` with -DX=disabled in the
    kestrel module's config-opts.
  A new dependency() that none of these covers fails the test: add a module
  for it, or (if the runtime really has it) add it to RUNTIME_PKGCONFIG.
- Every find_program('NAME') outside tests/ that is not `required: false`
  is in the SDK (SDK_PROGRAMS), a file of the source tree, or declared by a
  module in `x-provides-programs`.
- Every -DNAME=... in the kestrel module is a project option or a meson
  built-in.

  check-flatpak.py MANIFEST SOURCE_ROOT
"""
import json
import os
import re
import sys

SKIP = 77

# pkg-config modules of org.gnome.Platform / org.gnome.Sdk (GNOME 47 and
# later; the freedesktop SDK underneath included). Only what Kestrel may use
# and what is certain to be there.
RUNTIME_PKGCONFIG = {
    'glib-2.0', 'gobject-2.0', 'gio-2.0', 'gio-unix-2.0', 'gmodule-2.0',
    'gthread-2.0',
    'json-glib-1.0',
    'gdk-pixbuf-2.0',
    'gtk4', 'libadwaita-1',
    'libsoup-3.0',
    'cairo', 'pango', 'pangocairo', 'graphene-gobject-1.0',
    'gstreamer-1.0', 'gstreamer-base-1.0', 'gstreamer-app-1.0',
    'gstreamer-video-1.0', 'gstreamer-audio-1.0', 'gstreamer-pbutils-1.0',
    'gstreamer-allocators-1.0',
    'libpipewire-0.3',
    'zlib', 'libpng', 'libjpeg',
    # X11 and its XTEST extension (the freedesktop SDK's xorg-lib-libX11
    # and xorg-lib-libXtst); only the UI tests press keys with them.
    'x11', 'xtst',
}
# Dependencies meson resolves itself, not through pkg-config.
MESON_BUILTIN = {'threads', ''}

# Programs of the SDK a meson.build may look for.
SDK_PROGRAMS = {
    'glib-compile-resources', 'glib-compile-schemas', 'glib-mkenums',
    'glib-genmarshal', 'gdbus-codegen', 'msgfmt', 'xgettext', 'msgmerge',
    'python3', 'pkg-config', 'sh', 'bash', 'sed', 'git',
    'desktop-file-validate', 'appstreamcli', 'gtk4-update-icon-cache',
    'update-desktop-database',
}

MESON_BUILTIN_OPTIONS = {
    'buildtype', 'optimization', 'debug', 'warning_level', 'werror',
    'default_library', 'strip', 'b_lto', 'b_ndebug', 'b_sanitize', 'b_pie',
    'c_std', 'cpp_std', 'prefix', 'libdir', 'bindir', 'datadir', 'libexecdir',
    'sysconfdir', 'localedir', 'mandir', 'wrap_mode',
}

REQUIRED_FINISH_ARGS = ['--share=ipc', '--socket=wayland', '--socket=fallback-x11',
                        '--device=dri']
FORBIDDEN_FINISH_ARGS = re.compile(
    r'^--(device=all|filesystem=(host|host-os|home|/)(:rw)?|socket=session-bus|'
    r'talk-name=org\.freedesktop\.Flatpak)$')


def load(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if path.endswith('.json'):
        return json.loads(text)
    try:
        import yaml
    except ImportError:
        if os.environ.get('CI'):
            print('python3-yaml is not installed, and CI must have every test package '
                  '(scripts/install-deps.sh --test installs it)')
            sys.exit(1)
        print('python3-yaml is not installed (scripts/install-deps.sh --test installs it)')
        sys.exit(SKIP)
    return yaml.safe_load(text)


def meson_files(root):
    for folder, dirnames, filenames in os.walk(root):
        name = os.path.basename(folder)
        if folder != root and ('meson-private' in dirnames or 'meson-info' in dirnames
                               or name == 'build' or name.startswith('build-')):
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames
                       if d not in ('.git', 'subprojects', 'node_modules', '.flatpak-builder')]
        for filename in filenames:
            if filename == 'meson.build':
                yield os.path.join(folder, filename)


def strip_comments(text):
    """Drops meson comments (# to end of line) outside string literals."""
    out = []
    for line in text.split('\n'):
        quote = False
        for i, ch in enumerate(line):
            if ch == "'":
                quote = not quote
            elif ch == '#' and not quote:
                line = line[:i]
                break
        out.append(line)
    return '\n'.join(out)


def calls(text, function):
    """Yields (line number, argument text) of each call of `function`."""
    for m in re.finditer(r'(?<![A-Za-z0-9_.])' + function + r'\s*\(', text):
        depth, i, quote = 1, m.end(), False
        while i < len(text) and depth:
            ch = text[i]
            if ch == "'":
                quote = not quote
            elif not quote:
                depth += ch == '('
                depth -= ch == ')'
            i += 1
        yield text.count('\n', 0, m.start()) + 1, text[m.end():i - 1]


def project_options(root):
    names = set()
    for filename in ('meson_options.txt', 'meson.options'):
        path = os.path.join(root, filename)
        if os.path.exists(path):
            with open(path, encoding='utf-8') as f:
                names |= set(re.findall(r"option\s*\(\s*'([^']+)'", f.read()))
    return names


def main(manifest_path, root):
    manifest = load(manifest_path)
    problems = []

    def expect(condition, message):
        if not condition:
            problems.append(message)

    expect(manifest.get('app-id') == 'org.kestrel.Kestrel', 'app-id must be org.kestrel.Kestrel')
    expect(manifest.get('runtime') == 'org.gnome.Platform', 'runtime must be org.gnome.Platform')
    expect(manifest.get('sdk') == 'org.gnome.Sdk', 'sdk must be org.gnome.Sdk')
    expect(manifest.get('command') == 'kestrel', 'command must be kestrel')
    version = str(manifest.get('runtime-version', ''))
    expect(re.fullmatch(r'\d+', version) and int(version) >= 43,
           f'runtime-version {version!r}: GNOME 43 or later is needed for GTK 4.8 and libadwaita 1.2')

    finish_args = manifest.get('finish-args', [])
    for arg in REQUIRED_FINISH_ARGS:
        expect(arg in finish_args, f'finish-args lacks {arg}')
    for arg in finish_args:
        expect(not FORBIDDEN_FINISH_ARGS.match(arg), f'finish-args must not have {arg}')

    modules = manifest.get('modules', [])
    expect(modules and isinstance(modules, list), 'no modules')
    names = [m.get('name') for m in modules if isinstance(m, dict)]
    expect(names and names[-1] == 'kestrel', 'the last module must be kestrel')
    kestrel = modules[-1] if modules and isinstance(modules[-1], dict) else {}
    expect(kestrel.get('buildsystem') == 'meson', 'the kestrel module must use buildsystem meson')
    config_opts = kestrel.get('config-opts', [])
    expect('-Dopencv=disabled' in config_opts, 'the kestrel module must pass -Dopencv=disabled')

    options = project_options(root)
    for opt in config_opts:
        m = re.match(r'^-D([A-Za-z0-9_.-]+)=', opt)
        if m:
            expect(m.group(1) in options or m.group(1) in MESON_BUILTIN_OPTIONS,
                   f'{opt}: no such project option or meson built-in')
    disabled = {m.group(1) for m in (re.match(r'^-D([A-Za-z0-9_]+)=disabled$', o) for o in config_opts) if m}

    provided_pkgconfig = {}
    provided_programs = {}
    for module in modules:
        if not isinstance(module, dict):
            continue
        for pc in module.get('x-provides-pkgconfig', []):
            provided_pkgconfig[pc] = module['name']
        for prog in module.get('x-provides-programs', []):
            provided_programs[prog] = module['name']
        for source in module.get('sources', []):
            if source.get('type') in ('archive', 'file'):
                url = source.get('url', '')
                expect(url.startswith('https://'), f'{module["name"]}: source URL {url!r} is not https')
                expect(re.fullmatch(r'[0-9a-f]{64}', str(source.get('sha256', ''))),
                       f'{module["name"]}: source {url} has no valid sha256')

    for path in sorted(meson_files(root)):
        rel = os.path.relpath(path, root)
        with open(path, encoding='utf-8') as f:
            text = strip_comments(f.read())
        for line, args in calls(text, 'dependency'):
            m = re.match(r"\s*'([^']*)'", args)
            if not m:
                problems.append(f'{rel}:{line}: dependency() without a literal name; '
                                'this check cannot see what it needs')
                continue
            name = m.group(1)
            option = re.search(r"required\s*:\s*get_option\s*\(\s*'([^']+)'\s*\)", args)
            if name in MESON_BUILTIN:
                how = 'meson built-in'
            elif name in RUNTIME_PKGCONFIG:
                how = 'runtime'
            elif name in provided_pkgconfig:
                how = f'module {provided_pkgconfig[name]}'
            elif option and option.group(1) in disabled:
                how = f'disabled with -D{option.group(1)}=disabled'
            else:
                problems.append(f"{rel}:{line}: dependency('{name}') is neither in the runtime "
                                'nor built by a module of the manifest')
                continue
            print(f"{rel}:{line}: dependency('{name}'): {how}")

        if rel.split(os.sep)[0] == 'tests':
            continue
        for line, args in calls(text, 'find_program'):
            m = re.match(r"\s*'([^']*)'", args)
            if not m or re.search(r'required\s*:\s*false', args):
                continue
            name = m.group(1)
            if name in SDK_PROGRAMS:
                how = 'SDK'
            elif name in provided_programs:
                how = f'module {provided_programs[name]}'
            elif os.path.exists(os.path.join(os.path.dirname(path), name)):
                how = 'source tree'
            else:
                problems.append(f"{rel}:{line}: find_program('{name}') is neither in the SDK "
                                'nor built by a module of the manifest')
                continue
            print(f"{rel}:{line}: find_program('{name}'): {how}")

    if problems:
        for problem in problems:
            print(f'FAIL: {problem}')
        return 1
    print(f'OK: {manifest_path}')
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
