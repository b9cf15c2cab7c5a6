"""Tiny stand-in ONNX models with the inputs and outputs of the ONNX-backed control preprocessors, for tests of the
plumbing (no weights: they compute simple functions whose results a test can predict).

    /usr/bin/python3 tools/preprocessor-standins/make_standins.py plugins/preprocessors/src/test/resources

depth-standin.onnx: like a MiDaS / DPT export (Hugging Face DPT: `pixel_values` [1, 3, H, W] -> `predicted_depth`
[1, H, W]), fixed 32x32 input; "depth" = the mean over the channels of the normalised input (brighter = nearer).

yolox-standin.onnx: like DWPose's person detector `yolox_l.onnx`: `images` [1, 3, 640, 640] (letterboxed, 0..255,
padding 114) -> `output` [1, 8400, 85], YOLOX's raw head output after the sigmoids (per anchor of the stride 8/16/32
grids: centre offset x, y in grid cells, log width, log height in strides, objectness, 80 class scores). The
stand-in finds the bounding box of the pixels whose channel mean is above 127.5 (x0 = first bright column, x1 = last
bright column + 1; y alike) and writes four candidates on the first four stride-8 anchors (grid x = 0..3, y = 0):
  0: that box, objectness 1, person 0.9                -> score 0.9, kept
  1: that box moved 4 px right, objectness 0.8, person 1 -> score 0.8, removed by NMS (IoU > 0.45 with 0)
  2: that box, objectness 0.95, class 1 only            -> not a person
  3: a 32x32 box centred at (40, 40), objectness 0.2, person 1 -> score 0.2, below the 0.3 threshold
(0-2 have objectness 0 when no pixel is bright). Every other anchor is all zeros (score 0).

rtmpose-standin.onnx: like DWPose's whole-body RTMPose `dw-ll_ucoco_384.onnx`: `input` [1, 3, 384, 288] (the
person crop, normalised with ImageNet mean/std) -> `simcc_x` [1, 133, 576], `simcc_y` [1, 133, 768] (SimCC split
ratio 2). Key point k sits at a fixed crop position (U[k], V[k]) below: simcc_x[k] is one-hot at 2 U[k] and
simcc_y[k] at 2 V[k], times the channel mean of the normalised crop pixel at (U[k], V[k]). So a key point is found
(score > 0) where the crop is bright and lost (score 0) where it is dark, which tests the crop's affine warp.
"""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
CROP_W, CROP_H = 288, 384

# COCO-WholeBody order: 17 body (nose, l/r eye, l/r ear, l/r shoulder, l/r elbow, l/r wrist, l/r hip, l/r knee,
# l/r ankle), 6 feet, 68 face, 21 left hand, 21 right hand. "Left" is the person's left: the image's right.
BODY = [(144, 60), (154, 52), (134, 52), (166, 58), (20, 58),  # right ear (4) far left: outside the person
        (190, 100), (98, 100), (200, 160), (88, 160), (204, 210), (84, 210),
        (170, 215), (118, 215), (172, 275), (116, 275), (174, 330), (114, 330)]
FEET = [(184, 336), (190, 338), (170, 338), (104, 336), (98, 338), (118, 338)]


def face():
    return [(144 + round(12 * math.cos(2 * math.pi * i / 68)), 58 + round(14 * math.sin(2 * math.pi * i / 68)))
            for i in range(68)]


def hand(wu, wv):
    pts = [(wu, wv)]
    for f in range(5):
        for j in range(1, 5):
            pts.append((wu + round((f - 2) * j * 1.5), wv + 5 * j))
    return pts


KEYPOINTS = BODY + FEET + face() + hand(204, 214) + hand(84, 214)
assert len(KEYPOINTS) == 133


def save(graph, path):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="conditio-standins")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def const(name, array):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(array), name))


def depth(path):
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, 32, 32])
    y = helper.make_tensor_value_info("predicted_depth", TensorProto.FLOAT, [1, 32, 32])
    node = helper.make_node("ReduceMean", ["pixel_values"], ["predicted_depth"], axes=[1], keepdims=0)
    save(helper.make_graph([node], "depth_standin", [x], [y]), path)


def yolox(path):
    n = 640
    anchors = sum((n // s) ** 2 for s in (8, 16, 32))
    f = np.float32
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], axes=[1], keepdims=0),  # [1, 640, 640]
        const("half", f(127.5)),
        helper.make_node("Greater", ["mean", "half"], ["bright"]),
        helper.make_node("Cast", ["bright"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMax", ["mask"], ["cols"], axes=[1], keepdims=0),  # [1, 640]: column has a bright px
        helper.make_node("ReduceMax", ["mask"], ["rows"], axes=[2], keepdims=0),
        helper.make_node("ReduceMax", ["cols"], ["any"], axes=[1], keepdims=1),  # [1, 1]
        const("idx", np.arange(n, dtype=f)),
        const("ridx", (n - 1 - np.arange(n)).astype(f)),
        const("last", f(n - 1)),
        const("one", f(1)),
        const("two", f(2)),
        const("eight", f(8)),
    ]
    for axis, occ in (("x", "cols"), ("y", "rows")):
        nodes += [
            helper.make_node("Mul", [occ, "idx"], [axis + "_hi_w"]),
            helper.make_node("ReduceMax", [axis + "_hi_w"], [axis + "_hi"], axes=[1], keepdims=1),
            helper.make_node("Add", [axis + "_hi", "one"], [axis + "1"]),
            helper.make_node("Mul", [occ, "ridx"], [axis + "_lo_w"]),
            helper.make_node("ReduceMax", [axis + "_lo_w"], [axis + "_lo_r"], axes=[1], keepdims=1),
            helper.make_node("Sub", ["last", axis + "_lo_r"], [axis + "0"]),
            helper.make_node("Sub", [axis + "1", axis + "0"], [axis + "_span"]),
            helper.make_node("Max", [axis + "_span", "one"], [axis + "_size"]),  # no log(0) without a person
            helper.make_node("Add", [axis + "0", axis + "1"], [axis + "_sum"]),
            helper.make_node("Div", [axis + "_sum", "two"], [axis + "_c"]),
            helper.make_node("Div", [axis + "_c", "eight"], [axis + "_cg"]),  # centre in stride-8 cells
            helper.make_node("Div", [axis + "_size", "eight"], [axis + "_sg"]),
            helper.make_node("Log", [axis + "_sg"], [axis + "_l"]),
        ]

    def row(name, parts):
        """parts: names of [1, 1] tensors or float constants; padded with zeros to 85 columns."""
        inputs = []
        for i, p in enumerate(parts):
            if isinstance(p, str):
                inputs.append(p)
            else:
                nodes.append(const(f"{name}_{i}", np.full((1, 1), p, dtype=f)))
                inputs.append(f"{name}_{i}")
        nodes.append(const(name + "_pad", np.zeros((1, 85 - len(parts)), dtype=f)))
        nodes.append(helper.make_node("Concat", inputs + [name + "_pad"], [name], axis=1))

    nodes += [
        const("half_cell", f(0.5)),  # 4 px at stride 8
        helper.make_node("Add", ["x_cg", "half_cell"], ["x_shift"]),
        helper.make_node("Sub", ["x_shift", "one"], ["x_cg1"]),  # anchor 1 is grid x = 1
        helper.make_node("Sub", ["x_cg", "two"], ["x_cg2"]),  # anchor 2 is grid x = 2
        const("o08", np.full((1, 1), 0.8, dtype=f)),
        const("o095", np.full((1, 1), 0.95, dtype=f)),
        helper.make_node("Mul", ["any", "o08"], ["obj1"]),
        helper.make_node("Mul", ["any", "o095"], ["obj2"]),
    ]
    row("r0", ["x_cg", "y_cg", "x_l", "y_l", "any", 0.9])
    row("r1", ["x_cg1", "y_cg", "x_l", "y_l", "obj1", 1.0])
    row("r2", ["x_cg2", "y_cg", "x_l", "y_l", "obj2", 0.0, 1.0])
    row("r3", [40 / 8 - 3, 40 / 8, math.log(32 / 8), math.log(32 / 8), 0.2, 1.0])
    nodes += [
        helper.make_node("Concat", ["r0", "r1", "r2", "r3"], ["rows4"], axis=0),
        const("axis0", np.array([0], dtype=np.int64)),
        helper.make_node("Unsqueeze", ["rows4", "axis0"], ["head"]),
        helper.make_node("ConstantOfShape", ["rest_shape"], ["rest"],
                         value=numpy_helper.from_array(np.zeros(1, dtype=f))),
        const("rest_shape", np.array([1, anchors - 4, 85], dtype=np.int64)),
        helper.make_node("Concat", ["head", "rest"], ["output"], axis=1),
    ]
    # Constant nodes must come before their users
    nodes.sort(key=lambda node: 0 if node.op_type == "Constant" else 1)
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, n, n])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, anchors, 85])
    save(helper.make_graph(nodes, "yolox_standin", [x], [y]), path)


def rtmpose(path):
    u = np.array([p[0] for p in KEYPOINTS], dtype=np.int64)
    v = np.array([p[1] for p in KEYPOINTS], dtype=np.int64)
    assert u.min() >= 0 and u.max() < CROP_W and v.min() >= 0 and v.max() < CROP_H
    nodes = [
        const("flat_shape", np.array([1, 3, -1], dtype=np.int64)),
        const("pix", v * CROP_W + u),
        const("axis2", np.array([2], dtype=np.int64)),
        const("ux2", u * 2),
        const("vy2", v * 2),
        const("depth_x", np.array(CROP_W * 2, dtype=np.int64)),
        const("depth_y", np.array(CROP_H * 2, dtype=np.int64)),
        const("off_on", np.array([0, 1], dtype=np.float32)),
        helper.make_node("Reshape", ["input", "flat_shape"], ["flat"]),
        helper.make_node("Gather", ["flat", "pix"], ["at"], axis=2),  # [1, 3, 133]
        helper.make_node("ReduceMean", ["at"], ["score"], axes=[1], keepdims=0),  # [1, 133]
        helper.make_node("Unsqueeze", ["score", "axis2"], ["score3"]),  # [1, 133, 1]
        helper.make_node("OneHot", ["ux2", "depth_x", "off_on"], ["hot_x"], axis=-1),  # [133, 576]
        helper.make_node("OneHot", ["vy2", "depth_y", "off_on"], ["hot_y"], axis=-1),
        helper.make_node("Mul", ["score3", "hot_x"], ["simcc_x"]),
        helper.make_node("Mul", ["score3", "hot_y"], ["simcc_y"]),
    ]
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, CROP_H, CROP_W])
    ys = [helper.make_tensor_value_info("simcc_x", TensorProto.FLOAT, [1, 133, CROP_W * 2]),
          helper.make_tensor_value_info("simcc_y", TensorProto.FLOAT, [1, 133, CROP_H * 2])]
    save(helper.make_graph(nodes, "rtmpose_standin", [x], ys), path)


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    depth(os.path.join(out, "depth-standin.onnx"))
    yolox(os.path.join(out, "yolox-standin.onnx"))
    rtmpose(os.path.join(out, "rtmpose-standin.onnx"))
    print("wrote", out)
