#!/usr/bin/python3
"""Writes the committed seed corpora of tests/fuzz/corpus/ (run again only
to change them; the files are committed, so make check does not run this).

  tests/fuzz/make-seeds.py SOURCE_ROOT

model/   node models of the ONNX conformance data (Debian's
         libonnx-testdata), one per operator family Kestrel implements; the
         first layers of the bundled BlazeFace front model, cut out with
         onnx.utils.extract_model (its weights included, about 10 KB);
         and that model's first 4 KB (a truncated file).
tensor/  TensorProto inputs of the same conformance tests, covering the
         element types Kestrel reads and raw_data and the typed fields.
image/   the bundled photos (data/samples) downscaled to 32 pixels wide
         (PNG RGB, RGBA and gray; JPEG; a JPEG with EXIF orientation 6;
         GIF; BMP). Also the folder the source-options target opens.
source-options/  the first byte picks the source (even images, odd
         synthetic), the rest is the text after its name.
quant-table/     not written here: three-tensors.json follows the format
         of core/quant/kestrel-quant-table-file.h by hand (an ordinary
         range, a Relu's [0, 6], a tensor that is always 0).
bench-result/    not written here: front-scalar-simd.json is the result of a
         real run, `kestrel-cli benchmark -m front -l scalar,simd -t 1 -b 1
         --time-per-cell 0.3 --rounds 2 --seed 7 -o FILE` (6 KB).
"""
import io
import os
import shutil
import sys

import onnx
import onnx.utils
from PIL import Image

CONFORMANCE = '/usr/share/libonnx-testdata/data/node'

NODE_TESTS = [
    'test_abs', 'test_add_bcast', 'test_argmax_default_axis_example', 'test_averagepool_2d_pads',
    'test_batchnorm_example', 'test_cast_FLOAT_to_FLOAT16', 'test_clip', 'test_concat_2d_axis_1',
    'test_constantofshape_int_zeros', 'test_conv_with_strides_and_asymmetric_padding',
    'test_convtranspose', 'test_depthtospace_example', 'test_einsum_batch_matmul',
    'test_expand_dim_changed', 'test_flatten_axis1', 'test_gather_0', 'test_gather_elements_0',
    'test_gathernd_example_int32', 'test_gemm_default_matrix_bias', 'test_globalaveragepool',
    'test_gridsample', 'test_hardswish', 'test_instancenorm_example', 'test_layer_normalization_2d_axis0',
    'test_leakyrelu', 'test_lrn', 'test_matmul_3d', 'test_maxpool_2d_pads', 'test_maxunpool_export_with_output_shape',
    'test_nonmaxsuppression_center_point_box_format', 'test_onehot_with_axis', 'test_constant_pad', 'test_reflect_pad',
    'test_prelu_broadcast', 'test_range_float_type_positive_delta', 'test_reduce_mean_keepdims_example',
    'test_reshape_negative_dim', 'test_resize_upsample_sizes_cubic', 'test_roialign_aligned_false',
    'test_scatter_elements_with_axis', 'test_shape', 'test_sigmoid', 'test_slice_neg_steps',
    'test_softmax_axis_1', 'test_spacetodepth', 'test_split_variable_parts_1d',
    'test_squeeze', 'test_tile', 'test_transpose_all_permutations_0',
    'test_unsqueeze_axis_0', 'test_where_example', 'test_cumsum_1d', 'test_mod_mixed_sign_int64',
    'test_equal', 'test_not_2d', 'test_pow', 'test_reduce_max_keepdims_example',
]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def models(root, out):
    for name in NODE_TESTS:
        folder = os.path.join(CONFORMANCE, name)
        if not os.path.isdir(folder):
            sys.exit(f'{folder} is missing: install libonnx-testdata (scripts/install-deps.sh --test)')
        shutil.copyfile(os.path.join(folder, 'model.onnx'), os.path.join(out, name[5:] + '.onnx'))
    front = os.path.join(root, 'data', 'models', 'blazeface-front-128.onnx')
    model = onnx.load(front)
    # The output of the fourth node: a convolution or two with their
    # weights, enough for the fast passes (Conv + Relu, NHWC) to apply.
    cut = model.graph.node[3].output[0]
    small = os.path.join(out, 'blazeface-front-first-layers.onnx')
    onnx.utils.extract_model(front, small, [model.graph.input[0].name], [cut])
    with open(front, 'rb') as f:
        write(os.path.join(out, 'blazeface-front-truncated.onnx'), f.read(4096))


def tensors(out):
    for name in NODE_TESTS:
        folder = os.path.join(CONFORMANCE, name, 'test_data_set_0')
        path = os.path.join(folder, 'input_0.pb')
        if os.path.getsize(path) <= 8192:
            shutil.copyfile(path, os.path.join(out, name[5:] + '-input_0.pb'))


def images(root, out):
    samples = os.path.join(root, 'data', 'samples')

    def small(name, mode=None):
        im = Image.open(os.path.join(samples, name))
        im = im.resize((32, max(1, round(32 * im.height / im.width))))
        return im.convert(mode) if mode else im

    def save(im, file, fmt, **kw):
        buf = io.BytesIO()
        im.save(buf, fmt, **kw)
        write(os.path.join(out, file), buf.getvalue())

    save(small('astronaut.png', 'RGB'), 'astronaut.png', 'PNG')
    save(small('coffee.png', 'RGBA'), 'coffee-rgba.png', 'PNG')
    save(small('camera.png', 'L'), 'camera-gray.png', 'PNG')
    save(small('grace_hopper.jpg', 'RGB'), 'grace_hopper.jpg', 'JPEG', quality=60)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to show
    save(small('rocket.jpg', 'RGB'), 'rocket-exif-6.jpg', 'JPEG', quality=60, exif=exif.tobytes())
    save(small('astronaut.png', 'P'), 'astronaut.gif', 'GIF')
    save(small('coffee.png', 'RGB'), 'coffee.bmp', 'BMP')


def source_options(out):
    seeds = {
        'images-none': b'\x00',
        'images-loop': b'\x00?loop=0',
        'images-hold': b'\x00?loop=1&hold=0.5&repeat=0',
        'images-bad': b'\x00?loop=maybe',
        'synthetic-size': b'\x01?width=16&height=8&fps=30&frames=3&loop=0',
        'synthetic-gray': b'\x01?format=gray&width=1&height=1',
        'synthetic-bgrx': b'\x01?format=bgrx&frames=1',
        'synthetic-twice': b'\x01?width=4&width=5',
    }
    for name, data in seeds.items():
        write(os.path.join(out, name), data)


def main(argv):
    root = os.path.abspath(argv[1] if len(argv) > 1 else '.')
    corpus = os.path.join(root, 'tests', 'fuzz', 'corpus')
    for kind in ('model', 'tensor', 'image', 'source-options'):
        folder = os.path.join(corpus, kind)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
    models(root, os.path.join(corpus, 'model'))
    tensors(os.path.join(corpus, 'tensor'))
    images(root, os.path.join(corpus, 'image'))
    source_options(os.path.join(corpus, 'source-options'))


if __name__ == '__main__':
    main(sys.argv)
