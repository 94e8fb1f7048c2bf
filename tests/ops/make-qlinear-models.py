#!/usr/bin/python3
"""Models with com.microsoft QLinearAdd (ONNX Runtime's contrib operator,
which no conformance case covers) for test-ops-qlinear-int.c.

  make-qlinear-models.py OUTPUT_DIR

qlinear_add_u8.onnx / qlinear_add_s8.onnx: one QLinearAdd of A [2, 3, 4, 5]
and B [3, 1, 5] (broadcast), scales and zero points as initializers.
qdq_add_u8.onnx / qdq_add_s8.onnx: the same arithmetic as
DequantizeLinear, DequantizeLinear, Add, QuantizeLinear. Both take A and B
as inputs, so the test feeds them. Needs Debian's python3-onnx for
/usr/bin/python3.
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


def main():
    out_dir = sys.argv[1]
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
