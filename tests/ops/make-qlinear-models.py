#!/usr/bin/python3
"""Quantized models for test-ops-qlinear-int.c: com.microsoft QLinearAdd
(ONNX Runtime's contrib operator, which no conformance case covers), and
QLinearConv / QLinearMatMul with constant weights, which the conformance
cases (every input fed) never have.

  make-qlinear-models.py OUTPUT_DIR

qlinear_add_u8.onnx / qlinear_add_s8.onnx: one QLinearAdd of A [2, 3, 4, 5]
and B [3, 1, 5] (broadcast), scales and zero points as initializers.
qdq_add_u8.onnx / qdq_add_s8.onnx: the same arithmetic as
DequantizeLinear, DequantizeLinear, Add, QuantizeLinear. Both take A and B
as inputs, so the test feeds them.

qlinear_conv_*.onnx, qlinear_matmul_*.onnx: u8 activations, s8 weights
(-127 .. 127, zero points 0) and bias as initializers, scales as a
quantizer writes them (float32 with full mantissas, per channel), which
the SIMD levels run on the integer kernels; "_round" variants with scales
like 1/2 and 1/16 (sums can land on rounding ties) that stay on the
reference loop. Needs Debian's python3-onnx for /usr/bin/python3.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
A_SHAPE = [2, 3, 4, 5]
B_SHAPE = [3, 1, 5]
PARAMS = {  # scale, zero point: A, B, C
    "u8": ((0.0213, 131), (0.0078125, 7), (0.0301, 90)),
    "s8": ((0.0213, -3), (0.0078125, 100), (0.0301, -20)),
}


def inits(kind):
    dtype = np.uint8 if kind == "u8" else np.int8
    out = []
    for name, (scale, zp) in zip("ABC", PARAMS[kind]):
        out.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), name + "_scale"))
        out.append(numpy_helper.from_array(np.array(zp, dtype=dtype), name + "_zero_point"))
    return out


def io(kind):
    elem = TensorProto.UINT8 if kind == "u8" else TensorProto.INT8
    inputs = [helper.make_tensor_value_info("A", elem, A_SHAPE),
              helper.make_tensor_value_info("B", elem, B_SHAPE)]
    outputs = [helper.make_tensor_value_info("C", elem, A_SHAPE)]
    return inputs, outputs


def save(graph, path, microsoft):
    opsets = [helper.make_opsetid("", OPSET)]
    if microsoft:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="kestrel-tests")
    onnx.save(model, path)


rng = np.random.default_rng(20261207)


def f32(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.float32), name)


def u8(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.uint8), name)


def qlinear_conv(path, x_shape, w_shape, attrs, round_scales):
    cout = w_shape[0]
    w = rng.integers(-127, 128, size=w_shape, dtype=np.int8)
    bias = rng.integers(-20000, 20000, size=[cout], dtype=np.int32)
    if round_scales:
        w_scale, x_scale, y_scale = np.full([cout], 0.0625, np.float32), 0.5, 16.0
    else:
        w_scale = rng.uniform(0.0005, 0.004, size=[cout]).astype(np.float32)
        x_scale, y_scale = 0.0187, 0.0731
    inits = [f32("x_scale", x_scale), u8("x_zero_point", 117),
             numpy_helper.from_array(w, "w"), f32("w_scale", w_scale),
             numpy_helper.from_array(np.zeros([cout], np.int8), "w_zero_point"),
             f32("y_scale", y_scale), u8("y_zero_point", 64), numpy_helper.from_array(bias, "bias")]
    node = helper.make_node(
        "QLinearConv", ["x", "x_scale", "x_zero_point", "w", "w_scale", "w_zero_point", "y_scale",
                        "y_zero_point", "bias"], ["y"], **attrs)
    inputs = [helper.make_tensor_value_info("x", TensorProto.UINT8, x_shape)]
    outputs = [helper.make_tensor_value_info("y", TensorProto.UINT8, None)]
    save(helper.make_graph([node], "qlinear_conv", inputs, outputs, inits), path, False)


def qlinear_matmul(path, a_shape, n, round_scales):
    k = a_shape[-1]
    b = rng.integers(-127, 128, size=[k, n], dtype=np.int8)
    if round_scales:
        b_scale, a_scale, y_scale = np.full([n], 0.25, np.float32), 0.125, 8.0
    else:
        b_scale = rng.uniform(0.001, 0.01, size=[n]).astype(np.float32)
        a_scale, y_scale = 0.0213, 0.517
    inits = [f32("a_scale", a_scale), u8("a_zero_point", 140), numpy_helper.from_array(b, "b"),
             f32("b_scale", b_scale), numpy_helper.from_array(np.zeros([n], np.int8), "b_zero_point"),
             f32("y_scale", y_scale), u8("y_zero_point", 100)]
    node = helper.make_node(
        "QLinearMatMul", ["a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "y_scale",
                          "y_zero_point"], ["y"])
    inputs = [helper.make_tensor_value_info("a", TensorProto.UINT8, a_shape)]
    outputs = [helper.make_tensor_value_info("y", TensorProto.UINT8, None)]
    save(helper.make_graph([node], "qlinear_matmul", inputs, outputs, inits), path, False)


def main():
    out_dir = sys.argv[1]
    conv3 = {"pads": [1, 1, 1, 1], "strides": [2, 2]}
    for suffix, round_scales in (("", False), ("_round", True)):
        qlinear_conv(os.path.join(out_dir, "qlinear_conv_3x3%s.onnx" % suffix), [2, 5, 17, 13],
                     [24, 5, 3, 3], conv3, round_scales)
        qlinear_conv(os.path.join(out_dir, "qlinear_conv_1x1%s.onnx" % suffix), [1, 40, 9, 11],
                     [19, 40, 1, 1], {}, round_scales)
        qlinear_matmul(os.path.join(out_dir, "qlinear_matmul%s.onnx" % suffix), [3, 50, 70], 37,
                       round_scales)
    for kind in ("u8", "s8"):
        inputs, outputs = io(kind)
        node = helper.make_node(
            "QLinearAdd",
            ["A", "A_scale", "A_zero_point", "B", "B_scale", "B_zero_point", "C_scale", "C_zero_point"],
            ["C"], domain="com.microsoft")
        save(helper.make_graph([node], "qlinear_add", inputs, outputs, inits(kind)),
             os.path.join(out_dir, "qlinear_add_%s.onnx" % kind), True)
        nodes = [
            helper.make_node("DequantizeLinear", ["A", "A_scale", "A_zero_point"], ["a"]),
            helper.make_node("DequantizeLinear", ["B", "B_scale", "B_zero_point"], ["b"]),
            helper.make_node("Add", ["a", "b"], ["c"]),
            helper.make_node("QuantizeLinear", ["c", "C_scale", "C_zero_point"], ["C"]),
        ]
        save(helper.make_graph(nodes, "qdq_add", inputs, outputs, inits(kind)),
             os.path.join(out_dir, "qdq_add_%s.onnx" % kind), False)


main()
