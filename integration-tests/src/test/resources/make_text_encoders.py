"""Derives text encoders from diffusers-tiny's sd-tiny text encoder for the CLIP-skip tests.

text-encoder-hidden/model.onnx: the same graph exporting hidden_states.0 (embeddings) ... hidden_states.5 (last layer,
before the final layer norm), as optimum does with output_hidden_states.
text-encoder-hidden/clip-skip-1.onnx: a reference that outputs final_layer_norm(hidden_states[-2]) with the model's
own layer-norm weights, i.e. what diffusers' encode_prompt(clip_skip=1) computes.
Run with Debian's python3-onnx: /usr/bin/python3 make_text_encoders.py SD_TINY_TEXT_ENCODER OUT_DIR
"""
import copy
import sys

import onnx
from onnx import helper


def layer_outputs(graph):
    names = ["/t/embeddings/Add_output_0"]
    i = 0
    while any(o == f"/t/encoder/layers.{i}/Add_1_output_0" for n in graph.node for o in n.output):
        names.append(f"/t/encoder/layers.{i}/Add_1_output_0")
        i += 1
    return names


def with_hidden_states(model):
    m = copy.deepcopy(model)
    g = m.graph
    for k, name in enumerate(layer_outputs(g)):
        out = f"hidden_states.{k}"
        g.node.append(helper.make_node("Identity", [name], [out], name=f"export_{out}"))
        g.output.append(helper.make_tensor_value_info(out, onnx.TensorProto.FLOAT, ["batch", "sequence", 32]))
    return m


def clip_skip_reference(model, skip):
    m = copy.deepcopy(model)
    g = m.graph
    hidden = layer_outputs(g)[-(skip + 1)]
    norm = next(n for n in g.node if n.op_type == "LayerNormalization")
    node = helper.make_node("LayerNormalization", [hidden, norm.input[1], norm.input[2]], ["skipped"],
                            name="reference_skip", axis=-1, epsilon=1e-5)
    g.node.append(node)
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("skipped", onnx.TensorProto.FLOAT, ["batch", "sequence", 32]))
    return m


if __name__ == "__main__":
    source, out = sys.argv[1], sys.argv[2]
    model = onnx.load(source)
    hidden = with_hidden_states(model)
    onnx.checker.check_model(hidden)
    onnx.save(hidden, out + "/model.onnx")
    reference = clip_skip_reference(model, 1)
    onnx.checker.check_model(reference)
    onnx.save(reference, out + "/clip-skip-1.onnx")
