"""Tiny stand-in ONNX models with the inputs and outputs of the ONNX-backed control preprocessors, for tests of the
plumbing (no weights: they compute simple functions whose results a test can predict).

    /usr/bin/python3 tools/preprocessor-standins/make_standins.py plugins/preprocessors/src/test/resources

depth-standin.onnx: like a MiDaS / DPT export (Hugging Face DPT: `pixel_values` [1, 3, H, W] -> `predicted_depth`
[1, H, W]), fixed 32x32 input; "depth" = the mean over the channels of the normalised input (brighter = nearer).
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


def depth(path):
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, 32, 32])
    y = helper.make_tensor_value_info("predicted_depth", TensorProto.FLOAT, [1, 32, 32])
    node = helper.make_node("ReduceMean", ["pixel_values"], ["predicted_depth"], axes=[1], keepdims=0)
    g = helper.make_graph([node], "depth_standin", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="conditio-standins")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    depth(os.path.join(out, "depth-standin.onnx"))
    print("wrote", out)
