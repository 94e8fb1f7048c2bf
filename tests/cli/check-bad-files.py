#!/usr/bin/python3
"""kestrel-cli given files that are not what they should be: devices, a
folder, an empty model, an image that claims 900 megapixels, a model name
that does not exist, a camera that is not there. Each is exit status 1 and
a message in a user's words, quickly and in bounded memory (the process
runs under a 2 GiB address-space limit; /dev/zero used to grow it by
1.3 GB/s).

  check-bad-files.py KESTREL_CLI MODEL.onnx
"""
import os
import resource
import struct
import subprocess
import sys
import tempfile
import zlib

from cli_checks import finish

CLI, MODEL = sys.argv[1], sys.argv[2]
problems = []


def limit_memory():
    two_gib = 2 << 30
    resource.setrlimit(resource.RLIMIT_AS, (two_gib, two_gib))


def expect_failure(args, *words, absent=()):
    where = 'kestrel-cli ' + ' '.join(args)
    try:
        proc = subprocess.run([CLI] + args, capture_output=True, text=True, timeout=60,
                              preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        problems.append(f'{where}: still running after 60 s')
        return
    message = proc.stdout + proc.stderr
    if proc.returncode != 1:
        problems.append(f'{where}: exit status {proc.returncode}, expected 1: {message.strip()!r}')
        return
    for word in words:
        if word not in message:
            problems.append(f'{where}: the message does not say {word!r}: {message.strip()!r}')
    for word in absent + ('CRITICAL',):
        if word in message:
            problems.append(f'{where}: the message says {word!r}: {message.strip()!r}')


def png_header_only(path, width, height):
    """A PNG that claims width x height and holds one row of pixels."""
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b'\0' * (1 + width * 3))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat)
                + chunk(b'IEND', b''))


def have_camera():
    return any(name.startswith('video') for name in os.listdir('/dev'))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, 'models.onnx')
        os.mkdir(folder)
        empty = os.path.join(tmp, 'empty.onnx')
        open(empty, 'wb').close()
        huge = os.path.join(tmp, 'huge.png')
        png_header_only(huge, 30000, 30000)
        out = os.path.join(tmp, 'out')

        # Devices are not files to read whole.
        expect_failure(['detect', '/dev/zero'], '/dev/zero is a device, not an image file')
        expect_failure(['run-model', '--output-dir', out, '--input', '/dev/zero', MODEL],
                       '/dev/zero is a device', 'TensorProto')
        expect_failure(['run', '--source', 'file:/dev/zero', '--duration', '5'],
                       '/dev/zero is a device, not a video file')
        expect_failure(['inspect', '/dev/zero'], '/dev/zero is a device, not an ONNX model')
        # A small file that claims a huge picture is refused before decoding.
        expect_failure(['detect', huge], '30000×30000', 'megapixels')

        # Models (issue 10, defect 11).
        expect_failure(['detect', '--model', folder, huge], 'is a folder, not an ONNX model',
                       absent=('mmap',))
        expect_failure(['inspect', folder], 'is a folder, not an ONNX model', absent=('mmap',))
        expect_failure(['detect', '--model', 'sideways', huge], "'sideways'", 'front, back')
        expect_failure(['run', '--model', 'sideways', '--duration', '5'], "'sideways'",
                       'front, back')
        expect_failure(['inspect', empty], 'empty.onnx is empty (0 bytes), not an ONNX model',
                       absent=('no graph',))
        expect_failure(['bench', '--model', os.path.join(tmp, 'gone.onnx')],
                       'gone.onnx does not exist')

        # Sources: what was wrong, not the spec as the plugin saw it.
        expect_failure(['run', '--source', 'nosuch:thing', '--duration', '5'],
                       "unknown source 'nosuch:thing'", 'camera:', 'images:')
        if not have_camera():
            expect_failure(['run', '--source', 'camera:', '--duration', '5'],
                           'cannot open the camera source: no camera found', absent=("''",))

    finish(problems)


if __name__ == '__main__':
    main()
