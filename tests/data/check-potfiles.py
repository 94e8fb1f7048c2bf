#!/usr/bin/python3
"""po/POTFILES lists every file with translatable strings, and only files
that exist.

A file has translatable strings when it is
  - a desktop file template (*.desktop.in, *.desktop.in.in),
  - an AppStream template (*.metainfo.xml.in, *.appdata.xml.in, and .in.in),
  - a GSettings schema with a gettext-domain (*.gschema.xml[.in]),
  - a GtkBuilder file with translatable="yes" (*.ui) or a Blueprint file
    with _("...") (*.blp),
  - C source calling _(), N_(), C_(), NC_(), Q_() or ngettext() on a string.
tests/ is not searched: test programs are not shipped or translated.

  check-potfiles.py SOURCE_ROOT
"""
import os
import re
import sys

SKIP_DIRS = {'.git', 'subprojects', 'node_modules', '.flatpak-builder', 'po', 'tests'}

C_CALL = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|Q_|C_|NC_|ngettext|g_dngettext)\s*\(\s*(?:"|[A-Za-z_"][^()]*,\s*")')
UI_TRANSLATABLE = re.compile(r'translatable\s*=\s*["\'](?:yes|true|1)["\']')
BLP_CALL = re.compile(r'(?<![A-Za-z0-9_])(?:_|C_)\s*\(\s*"')


def is_build_dir(path, dirnames):
    name = os.path.basename(path)
    return 'meson-private' in dirnames or 'meson-info' in dirnames \
        or name == 'build' or name.startswith('build-')


def translatable(path):
    name = os.path.basename(path)
    base = name[:-3] if name.endswith('.in') else name
    base = base[:-3] if base.endswith('.in') else base
    if base.endswith('.desktop') and name != base:
        return True
    if base.endswith(('.metainfo.xml', '.appdata.xml')) and name != base:
        return True
    if not base.endswith(('.gschema.xml', '.ui', '.blp', '.c', '.h', '.cpp')):
        return False
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    if base.endswith('.gschema.xml'):
        return 'gettext-domain' in text
    if base.endswith('.ui'):
        return UI_TRANSLATABLE.search(text) is not None
    if base.endswith('.blp'):
        return BLP_CALL.search(text) is not None
    # Strip comments so an example in a comment does not count.
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    return C_CALL.search(text) is not None


def main(root):
    potfiles_path = os.path.join(root, 'po', 'POTFILES')
    with open(potfiles_path, encoding='utf-8') as f:
        listed = [line.strip() for line in f
                  if line.strip() and not line.lstrip().startswith('#')]

    found = []
    for folder, dirnames, filenames in os.walk(root):
        if folder != root and is_build_dir(folder, dirnames):
            dirnames[:] = []
            continue
        if folder == root:
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        else:
            dirnames[:] = [d for d in dirnames if d not in ('.git', 'node_modules')]
        for name in filenames:
            path = os.path.join(folder, name)
            if translatable(path):
                found.append(os.path.relpath(path, root).replace(os.sep, '/'))

    problems = []
    for path in sorted(set(found) - set(listed)):
        problems.append(f'{path} has translatable strings but is not in po/POTFILES')
    for path in listed:
        if not os.path.isfile(os.path.join(root, path)):
            problems.append(f'po/POTFILES lists {path}, which does not exist')
    duplicates = sorted({p for p in listed if listed.count(p) > 1})
    for path in duplicates:
        problems.append(f'po/POTFILES lists {path} more than once')

    for path in sorted(found):
        print(f'translatable: {path}')
    if problems:
        for problem in problems:
            print(f'FAIL: {problem}')
        return 1
    print(f'OK: po/POTFILES lists all {len(found)} files')
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
