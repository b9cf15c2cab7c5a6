"""Writes slow-matmul.onnx: x [N, 256] -> 400 x (MatMul with one 256x256 weight, Tanh) -> y.

A model whose run time grows with N, for testing that a terminated run ends within about one node.
Run: /usr/bin/python3 make_slow_model.py (needs python3-onnx and numpy)."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
w = numpy_helper.from_array((rng.standard_normal((256, 256)) / 16).astype(np.float32), "w")
nodes, prev = [], "x"
for i in range(400):
    nodes.append(helper.make_node("MatMul", [prev, "w"], [f"m{i}"]))
    out = "y" if i == 399 else f"t{i}"
    nodes.append(helper.make_node("Tanh", [f"m{i}"], [out]))
    prev = out
graph = helper.make_graph(nodes, "slow",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 256])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 256])], [w])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "slow-matmul.onnx")
