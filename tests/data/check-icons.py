#!/usr/bin/python3
"""The application icons are well-formed SVG on the right grid.

- org.kestrel.Kestrel.svg: viewBox 0 0 128 128 (GNOME's app icon grid).
- org.kestrel.Kestrel-symbolic.svg: viewBox 0 0 16 16, one colour only
  (GTK recolours symbolic icons), no strokes, gradients, text or images.
- Both are recognised as SVG: gdk-pixbuf picks its loader by the
  shared-mime-info magic, which looks for "<svg" in the first 256 bytes; a
  long comment before the root element made every load fail ("Unrecognized
  image file format": a broken image in the window and About).

  check-icons.py APP_ICON SYMBOLIC_ICON
"""
import re
import sys
import xml.etree.ElementTree as ET

SVG = '{http://www.w3.org/2000/svg}'


def colours(root):
    found = set()
    for element in root.iter():
        values = [element.get('fill'), element.get('stroke')]
        style = element.get('style') or ''
        values += re.findall(r'(?:fill|stroke)\s*:\s*([^;]+)', style)
        for value in values:
            if value and value.strip() not in ('none', 'currentColor'):
                found.add(value.strip().lower())
    return found


def check(path, size, symbolic):
    problems = []
    with open(path, 'rb') as f:
        if b'<svg' not in f.read(256):
            problems.append(f'{path}: "<svg" is not in the first 256 bytes, so the file is '
                            'not recognised as SVG (move comments inside the root element)')
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return [f'{path}: not well-formed XML: {e}']
    if root.tag != SVG + 'svg':
        problems.append(f'{path}: the root element is not an SVG <svg>')
    if (root.get('viewBox') or '').split() != ['0', '0', str(size), str(size)]:
        problems.append(f'{path}: viewBox must be "0 0 {size} {size}"')
    for attr in ('width', 'height'):
        if root.get(attr) not in (None, str(size)):
            problems.append(f'{path}: {attr} must be {size}')
    if symbolic:
        used = colours(root)
        if len(used) != 1:
            problems.append(f'{path}: a symbolic icon has one colour, not {sorted(used)}')
        for element in root.iter():
            tag = element.tag.replace(SVG, '')
            if tag in ('text', 'image', 'linearGradient', 'radialGradient', 'filter'):
                problems.append(f'{path}: no <{tag}> in a symbolic icon')
            if element.get('stroke') not in (None, 'none'):
                problems.append(f'{path}: symbolic icons are filled shapes, not strokes')
    else:
        for element in root.iter():
            if element.tag == SVG + 'image':
                problems.append(f'{path}: embedded raster image')
    return problems


def main(app_icon, symbolic_icon):
    problems = check(app_icon, 128, False) + check(symbolic_icon, 16, True)
    for problem in problems:
        print(f'FAIL: {problem}')
    if not problems:
        print('OK')
    return 1 if problems else 0


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
