#!/usr/bin/python3
"""Small ONNX models, one per graph rule Kestrel must handle, for the
corpus test (test-corpus.c runs each against ONNX Runtime).

  make-rule-models.py OUTPUT_DIR

Each model is the smallest graph that needs its rule, shaped like what the
common exporters write (PyTorch's shape arithmetic before a Reshape, a
Resize to twice a computed size, Slice and Pad bounds from Shape, BatchNorm
and per-channel Mul/Add after a Conv or a ConvTranspose, activations after
a Conv). Weights are
random from a fixed seed, so the files are the same on every build. Needs
Debian's python3-onnx (and python3-numpy) for /usr/bin/python3.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 14
rng = np.random.default_rng(20261206)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def ints(name, values):
    return const(name, np.array(values, dtype=np.int64))


def floats(name, array):
    return const(name, np.asarray(array, dtype=np.float32))


def weights(name, *shape, scale=0.3):
    return floats(name, rng.standard_normal(shape).astype(np.float32) * scale)


def save(out_dir, name, nodes, inputs, outputs, inits, doc):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    graph.doc_string = doc
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)],
                              producer_name='kestrel make-rule-models.py')
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, name + '.onnx'))


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def conv(name, x, cin, cout, k, inits, stride=1, group=1, bias=True):
    w = weights(name + '_w', cout, cin // group, k, k, scale=1.0 / np.sqrt(cin // group * k * k))
    inits.append(w)
    ins = [x, w.name]
    if bias:
        b = weights(name + '_b', cout, scale=0.1)
        inits.append(b)
        ins.append(b.name)
    return helper.make_node('Conv', ins, [name], name=name, kernel_shape=[k, k],
                            pads=[k // 2] * 4, strides=[stride, stride], group=group)


def fold_reshape_shape(out_dir):
    # PyTorch's x.view(x.size(0), -1) after a Conv, on an input of free
    # height and width: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    inits = [ints('zero', 0), ints('axes0', [0]), ints('minus1', [-1])]
    nodes = [
        conv('c1', 'x', 3, 4, 3, inits),
        helper.make_node('Relu', ['c1'], ['r1']),
        helper.make_node('Shape', ['r1'], ['s']),
        helper.make_node('Gather', ['s', 'zero'], ['n'], axis=0),
        helper.make_node('Unsqueeze', ['n', 'axes0'], ['n1']),
        helper.make_node('Concat', ['n1', 'minus1'], ['target'], axis=0),
        helper.make_node('Reshape', ['r1', 'target'], ['y']),
    ]
    save(out_dir, 'fold_reshape_shape', nodes, [f32('x', [1, 3, 'height', 'width'])],
         [f32('y', ['n', 'features'])], inits, 'Reshape target computed from Shape; free input size')


def fold_resize_sizes(out_dir):
    # The FPN / YOLO upsample: sizes = floor(float(shape[2:4]) * 2), cast back.
    inits = [ints('s0', [0]), ints('s2', [2]), ints('s4', [4]), floats('two', 2.0)]
    nodes = [
        conv('c1', 'x', 4, 4, 3, inits),
        helper.make_node('Shape', ['c1'], ['s']),
        helper.make_node('Slice', ['s', 's0', 's2'], ['nc']),
        helper.make_node('Slice', ['s', 's2', 's4'], ['hw']),
        helper.make_node('Cast', ['hw'], ['hwf'], to=TensorProto.FLOAT),
        helper.make_node('Mul', ['hwf', 'two'], ['hw2f']),
        helper.make_node('Floor', ['hw2f'], ['hw2ff']),
        helper.make_node('Cast', ['hw2ff'], ['hw2'], to=TensorProto.INT64),
        helper.make_node('Concat', ['nc', 'hw2'], ['sizes'], axis=0),
        helper.make_node('Resize', ['c1', '', '', 'sizes'], ['up'], mode='nearest'),
        conv('y', 'up', 4, 2, 3, inits),
    ]
    save(out_dir, 'fold_resize_sizes', nodes, [f32('x', [1, 4, 6, 10])], [f32('y', ['n', 'c', 'h', 'w'])], inits,
         'Resize sizes computed from Shape with Cast, Mul, Floor, Concat')


def fold_slice_pad_expand(out_dir):
    # Slice bounds, Pad pads and Expand shapes from Shape arithmetic, and a
    # ConstantOfShape of a computed shape.
    inits = [ints('i3', 3), ints('i2', 2), ints('axes0', [0]), ints('axis3', [3]),
             ints('zero1', [0]), ints('pads_fixed', [0, 0, 1]), ints('pads_tail', [0, 0]),
             floats('half', 0.5), weights('bias', 1, 4, 1, 1)]
    nodes = [
        helper.make_node('Shape', ['x'], ['s']),
        helper.make_node('Gather', ['s', 'i3'], ['w']),
        helper.make_node('Div', ['w', 'i2'], ['w2']),
        helper.make_node('Unsqueeze', ['w2', 'axes0'], ['end']),
        helper.make_node('Slice', ['x', 'zero1', 'end', 'axis3'], ['left']),
        helper.make_node('Gather', ['s', 'i2'], ['h']),
        helper.make_node('Sub', ['h', 'i2'], ['hp']),
        helper.make_node('Unsqueeze', ['hp', 'axes0'], ['hp1']),
        # pads: begin [0, 0, 1, h-2], end [0, 0, 0, 0] -> 8 values
        helper.make_node('Concat', ['pads_fixed', 'hp1', 'pads_tail', 'pads_tail'], ['pads'], axis=0),
        helper.make_node('Pad', ['left', 'pads'], ['padded'], mode='constant'),
        helper.make_node('Shape', ['padded'], ['ps']),
        helper.make_node('Expand', ['bias', 'ps'], ['bias_full']),
        helper.make_node('ConstantOfShape', ['ps'], ['ones'],
                         value=numpy_helper.from_array(np.array([1.5], dtype=np.float32))),
        helper.make_node('Mul', ['padded', 'ones'], ['scaled']),
        helper.make_node('Add', ['scaled', 'bias_full'], ['sum']),
        helper.make_node('Mul', ['sum', 'half'], ['y']),
    ]
    save(out_dir, 'fold_slice_pad_expand', nodes, [f32('x', [1, 4, 6, 10])], [f32('y', ['n', 'c', 'h', 'w'])], inits,
         'Slice ends, Pad pads, Expand and ConstantOfShape shapes computed from Shape')


def fuse_conv_epilogues(out_dir):
    # Conv + BatchNormalization, Conv + per-channel Mul/Add, and each
    # activation exporters put after a Conv.
    c = 8
    inits = []
    nodes = [conv('c0', 'x', 3, c, 3, inits)]
    x = 'c0'

    def bn(name, inp):
        for p, v in (('scale', rng.uniform(0.5, 1.5, c)), ('b', rng.standard_normal(c) * 0.1),
                     ('mean', rng.standard_normal(c) * 0.1), ('var', rng.uniform(0.5, 2.0, c))):
            inits.append(floats(f'{name}_{p}', v))
        return helper.make_node('BatchNormalization', [inp] + [f'{name}_{p}' for p in ('scale', 'b', 'mean', 'var')],
                                [name], epsilon=1e-3)

    acts = [
        ('relu', lambda i, o: [helper.make_node('Relu', [i], [o])]),
        ('sigmoid', lambda i, o: [helper.make_node('Sigmoid', [i], [o])]),
        ('silu', lambda i, o: [helper.make_node('Sigmoid', [i], [o + '_s']),
                               helper.make_node('Mul', [i, o + '_s'], [o])]),
        ('hardsigmoid', lambda i, o: [helper.make_node('HardSigmoid', [i], [o], alpha=0.2, beta=0.5)]),
        ('hardswish', lambda i, o: [helper.make_node('HardSwish', [i], [o])]),
        ('leakyrelu', lambda i, o: [helper.make_node('LeakyRelu', [i], [o], alpha=0.1)]),
        ('clip', lambda i, o: [helper.make_node('Clip', [i, 'lo', 'hi'], [o])]),
    ]
    inits += [floats('lo', 0.0), floats('hi', 6.0)]
    for k, (name, act) in enumerate(acts):
        cv = conv(f'{name}_conv', x, c, c, 3 if k % 2 == 0 else 1, inits, bias=k % 3 != 0)
        nodes.append(cv)
        if k % 2 == 0:
            nodes.append(bn(f'{name}_bn', cv.output[0]))
            pre = f'{name}_bn'
        else:
            inits += [weights(f'{name}_mul', c, 1, 1, scale=0.5), weights(f'{name}_add', c, 1, 1, scale=0.1)]
            nodes += [helper.make_node('Mul', [cv.output[0], f'{name}_mul'], [f'{name}_m']),
                      helper.make_node('Add', [f'{name}_m', f'{name}_add'], [f'{name}_a'])]
            pre = f'{name}_a'
        nodes += act(pre, f'{name}_out')
        x = f'{name}_out'
    nodes.append(helper.make_node('Identity', [x], ['y']))
    save(out_dir, 'fuse_conv_epilogues', nodes, [f32('x', [1, 3, 12, 16])], [f32('y', ['n', 'c', 'h', 'w'])], inits,
         'Conv followed by BatchNormalization or per-channel Mul/Add, then each activation')


def nhwc_squeeze_excite(out_dir):
    # What keeps a MobileNetV3 / PP-LCNet (the PaddleOCR models) in NHWC:
    # a hard-swish spelled out (x * Clip(x + 3, 0, 6) / 6, and with a Mul by
    # 1/6) followed by a learnable scalar Mul and Add, a squeeze-and-excitation
    # block (GlobalAveragePool, two 1x1 Convs, the [N,C,1,1] scale times the
    # map), a nearest Resize, and per-channel constants of rank 3 and 4.
    c = 16
    inits = [floats('k_scale', [1.25]), floats('k_shift', [0.1]), floats('three', 3.0), floats('zero', 0.0),
             floats('six', 6.0), floats('sixth', 1.0 / 6.0), floats('post_w', [0.8]), floats('post_b', [-0.05]),
             floats('up', [1.0, 1.0, 2.0, 2.0]), weights('ch_bias', 8, 1, 1, scale=0.1),
             floats('ch_scale', rng.uniform(0.5, 1.5, (1, 8, 1, 1)))]

    def hard_swish(i, o, by_mul):
        scale = [helper.make_node('Mul', [o + '_m', 'sixth'], [o])] if by_mul else \
                [helper.make_node('Div', [o + '_m', 'six'], [o])]
        return [helper.make_node('Add', [i, 'three'], [o + '_a']),
                helper.make_node('Clip', [o + '_a', 'zero', 'six'], [o + '_c']),
                helper.make_node('Mul', [i, o + '_c'], [o + '_m'])] + scale

    nodes = [conv('c0', 'x', 3, c, 3, inits),
             helper.make_node('Mul', ['k_scale', 'c0'], ['c0_m']),
             helper.make_node('Add', ['c0_m', 'k_shift'], ['c0_a'])]
    nodes += hard_swish('c0_a', 'hs0', False)
    nodes += [helper.make_node('Mul', ['post_w', 'hs0'], ['hs0_w']),
              helper.make_node('Add', ['hs0_w', 'post_b'], ['hs0_b']),
              conv('dw', 'hs0_b', c, c, 3, inits, group=c),
              helper.make_node('GlobalAveragePool', ['dw'], ['pooled']),
              conv('se1', 'pooled', c, 4, 1, inits),
              helper.make_node('Relu', ['se1'], ['se1_r']),
              conv('se2', 'se1_r', 4, c, 1, inits),
              helper.make_node('HardSigmoid', ['se2'], ['gate'], alpha=0.2, beta=0.5),
              helper.make_node('Mul', ['dw', 'gate'], ['excited']),
              conv('pw', 'excited', c, 8, 1, inits),
              helper.make_node('Resize', ['pw', '', 'up'], ['big'], mode='nearest'),
              helper.make_node('Add', ['big', 'ch_bias'], ['biased']),
              helper.make_node('Mul', ['ch_scale', 'biased'], ['scaled']),
              conv('last', 'scaled', 8, 4, 3, inits)]
    nodes += hard_swish('last', 'y', True)
    save(out_dir, 'nhwc_squeeze_excite', nodes, [f32('x', [1, 3, 10, 14])], [f32('y', [1, 4, 20, 28])], inits,
         'Spelled-out hard-swish with a scalar affine after it, squeeze-and-excitation, nearest Resize, '
         'per-channel constants: all NHWC')


def fold_conv_transpose(out_dir):
    # A detector's upsampling head (PaddleOCR's DB head): ConvTranspose, a
    # per-channel bias Add, BatchNormalization, Relu; then a grouped
    # ConvTranspose with its own bias and a per-channel Mul and Sub.
    inits = [weights('t0_w', 4, 6, 2, 2, scale=0.4), weights('t0_add', 1, 6, 1, 1, scale=0.1),
             weights('t1_w', 6, 2, 3, 3, scale=0.3), weights('t1_b', 4, scale=0.1),
             floats('t1_mul', rng.uniform(0.5, 1.5, (4, 1, 1))), weights('t1_sub', 1, 4, 1, 1, scale=0.1)]
    for p, v in (('scale', rng.uniform(0.5, 1.5, 6)), ('b', rng.standard_normal(6) * 0.1),
                 ('mean', rng.standard_normal(6) * 0.1), ('var', rng.uniform(0.5, 2.0, 6))):
        inits.append(floats(f'bn_{p}', v))
    nodes = [helper.make_node('ConvTranspose', ['x', 't0_w'], ['t0'], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node('Add', ['t0', 't0_add'], ['t0_a']),
             helper.make_node('BatchNormalization', ['t0_a', 'bn_scale', 'bn_b', 'bn_mean', 'bn_var'], ['bn'],
                              epsilon=1e-5),
             helper.make_node('Relu', ['bn'], ['r']),
             helper.make_node('ConvTranspose', ['r', 't1_w', 't1_b'], ['t1'], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                              group=2),
             helper.make_node('Mul', ['t1', 't1_mul'], ['t1_m']),
             helper.make_node('Sub', ['t1_m', 't1_sub'], ['y'])]
    save(out_dir, 'fold_conv_transpose', nodes, [f32('x', [1, 4, 5, 7])], [f32('y', [1, 4, 10, 14])], inits,
         'ConvTranspose followed by a per-channel Add and BatchNormalization, and a grouped one by Mul and Sub')


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    fold_reshape_shape(out_dir)
    fold_resize_sizes(out_dir)
    fold_slice_pad_expand(out_dir)
    fuse_conv_epilogues(out_dir)
    nhwc_squeeze_excite(out_dir)
    fold_conv_transpose(out_dir)


if __name__ == '__main__':
    main()
