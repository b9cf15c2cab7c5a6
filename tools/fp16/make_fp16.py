#!/usr/bin/python3
"""Writes a float16 copy of a diffusers ONNX model folder, the way published fp16 exports look.

Every float32 weight, Constant value, ConstantOfShape value, Cast-to-float target and float graph input/output
becomes float16. Resize reads its roi and scales as float32 (ONNX requires it), so those inputs get a Cast back to
float32. The result is checked and shape-inferred. Files other than the converted model.onnx files (configs,
tokenizer, scheduler) are copied unchanged.

Usage: /usr/bin/python3 tools/fp16/make_fp16.py SRC_DIR DST_DIR [--components unet,text_encoder,vae_decoder]
       (SRC_DIR is a pipeline folder, or a single-model folder such as a ControlNet with model.onnx at its top)
Needs onnx and numpy (Debian: python3-onnx, python3-numpy).
"""
import argparse
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT
FLOAT16 = TensorProto.FLOAT16


def to_half(tensor):
    """A float32 TensorProto as float16 (same name); other types unchanged."""
    if tensor.data_type != FLOAT:
        return tensor
    values = numpy_helper.to_array(tensor).astype(np.float16)
    return numpy_helper.from_array(values, tensor.name)


def convert_value_info(vi):
    t = vi.type.tensor_type
    if t.elem_type == FLOAT:
        t.elem_type = FLOAT16


def convert_graph(graph):
    for i, init in enumerate(graph.initializer):
        if init.data_type == FLOAT:
            graph.initializer[i].CopyFrom(to_half(init))
    for vi in list(graph.input) + list(graph.output):
        convert_value_info(vi)
    del graph.value_info[:]

    resize_casts = []
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == FLOAT:
                if node.op_type in ("Constant", "ConstantOfShape"):
                    attr.t.CopyFrom(to_half(attr.t))
            elif attr.type == onnx.AttributeProto.GRAPH:
                convert_graph(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    convert_graph(g)
            if node.op_type == "Cast" and attr.name == "to" and attr.i == FLOAT:
                attr.i = FLOAT16
            if node.op_type == "Constant" and attr.name in ("value_float", "value_floats"):
                raise SystemExit("Constant %s uses %s; not handled" % (node.name, attr.name))
        if node.op_type == "Resize":
            for index in (1, 2):
                if index < len(node.input) and node.input[index]:
                    resize_casts.append((node, index))

    # Resize's roi and scales must stay float32: read them through a Cast back to float32.
    for count, (node, index) in enumerate(resize_casts):
        source = node.input[index]
        cast_out = "%s_fp32_%d_%d" % (source, index, count)
        cast = helper.make_node("Cast", [source], [cast_out], to=FLOAT, name="fp32_for_resize_%d" % count)
        position = list(graph.node).index(node)
        graph.node.insert(position, cast)
        node.input[index] = cast_out


def convert_model(src, dst):
    model = onnx.load(src)
    convert_graph(model.graph)
    onnx.checker.check_model(model)
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(model)
    onnx.save(model, dst)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--components", default=None,
                        help="comma-separated sub-folders to copy (default: every folder with a model.onnx)")
    args = parser.parse_args(argv)
    if os.path.isfile(os.path.join(args.src, "model.onnx")):
        # a single-model folder (a ControlNet, an adapter): model.onnx and its config side by side
        os.makedirs(args.dst, exist_ok=True)
        for f in sorted(os.listdir(args.src)):
            s = os.path.join(args.src, f)
            if f == "model.onnx":
                convert_model(s, os.path.join(args.dst, f))
                print("converted model.onnx")
            elif os.path.isfile(s):
                shutil.copy2(s, os.path.join(args.dst, f))
        return
    names = args.components.split(",") if args.components else sorted(
        d for d in os.listdir(args.src) if os.path.isfile(os.path.join(args.src, d, "model.onnx")))
    os.makedirs(args.dst, exist_ok=True)
    for entry in sorted(os.listdir(args.src)):
        path = os.path.join(args.src, entry)
        if os.path.isfile(path):
            shutil.copy2(path, os.path.join(args.dst, entry))
        elif os.path.isdir(path) and (entry in names or not os.path.isfile(os.path.join(path, "model.onnx"))):
            os.makedirs(os.path.join(args.dst, entry), exist_ok=True)
            for f in sorted(os.listdir(path)):
                s = os.path.join(path, f)
                if f == "model.onnx":
                    convert_model(s, os.path.join(args.dst, entry, f))
                    print("converted %s" % os.path.join(entry, f))
                elif os.path.isfile(s):
                    shutil.copy2(s, os.path.join(args.dst, entry, f))
                else:
                    raise SystemExit("%s: external data or nested folders are not handled" % s)
    missing = [n for n in names if not os.path.isdir(os.path.join(args.src, n))]
    if missing:
        raise SystemExit("no such component in %s: %s" % (args.src, ", ".join(missing)))


if __name__ == "__main__":
    main(sys.argv[1:])
