#!/usr/bin/python3
"""Every translatable string of the files in po/POTFILES has a reviewed
translation in each .po file given: not missing, not empty, not fuzzy.

The template is extracted afresh with xgettext, with the keywords of
meson's 'glib' gettext preset (the one po/meson.build uses), so a string
added to the code without a translation fails here, not at release time.

  check-po-complete.py SOURCE_ROOT LANG.po...
"""
import os
import subprocess
import sys
import tempfile

KEYWORDS = ['_', 'N_', 'C_:1c,2', 'NC_:1c,2', 'g_dcgettext:2', 'g_dngettext:2,3',
            'g_dpgettext2:2c,3']


def main():
    root, po_files = sys.argv[1], sys.argv[2:]
    with open(os.path.join(root, 'po', 'POTFILES'), encoding='utf-8') as f:
        sources = [line.strip() for line in f
                   if line.strip() and not line.startswith('#')]

    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, 'kestrel.pot')
        command = ['xgettext', '--package-name=kestrel', '--from-code=UTF-8',
                   '--add-comments', '--directory', root, '--output', pot]
        command += ['--keyword=' + k for k in KEYWORDS] + sources
        subprocess.run(command, check=True)

        failed = False
        for po in po_files:
            result = subprocess.run(['msgcmp', po, pot], capture_output=True, text=True)
            if result.returncode != 0:
                failed = True
                print(f'{po}: strings without a reviewed translation '
                      f'(run `ninja -C build kestrel-update-po` and translate them):')
                print(result.stderr)
            else:
                print(f'{po}: every string of {len(sources)} files is translated')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
