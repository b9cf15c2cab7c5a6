"""Feeds textual-inversion vectors to an ONNX text encoder directly: writes a copy of the encoder whose token-table
rows at the given (existing) token ids hold an embedding's vectors, so a prompt with those tokens is encoded exactly
as the embedding's token should be. The reference the Java tests compare Conditio's textual inversion against.

    /usr/bin/python3 tools/textual-inversion/embedding_rows.py ENCODER.onnx EMBEDDING.safetensors ID[,ID...] OUT.onnx

EMBEDDING is an A1111 file (emb_params) or a diffusers learned_embeds file (one {token: vectors} entry); as many ids
as it has vectors. Needs only python3-onnx and numpy.
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lora"))
from lora_merge import read_safetensors  # noqa: E402


def vectors(path):
    t = read_safetensors(path)
    if "emb_params" in t:
        v = t["emb_params"]
    elif len(t) == 1:
        v = next(iter(t.values()))
    else:
        raise SystemExit(f"{path}: expected emb_params or one {{token: vectors}} entry, found {list(t)}")
    return np.atleast_2d(np.asarray(v, np.float32))


def token_table(model):
    inits = {i.name: i for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Gather" and n.input[0] in inits and len(inits[n.input[0]].dims) == 2:
            if "token_embedding" in (n.name + n.input[0]) or n.input[1] == "input_ids":
                return inits[n.input[0]]
    raise SystemExit("no token-embedding table found")


def main():
    enc, emb, ids, out = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")], sys.argv[4]
    v = vectors(emb)
    if len(ids) != v.shape[0]:
        raise SystemExit(f"{emb} has {v.shape[0]} vectors but {len(ids)} ids were given")
    m = onnx.load(enc)
    table = token_table(m)
    a = numpy_helper.to_array(table).copy()
    if a.shape[1] != v.shape[1]:
        raise SystemExit(f"vector size {v.shape[1]} != table width {a.shape[1]}")
    a[ids] = v
    table.CopyFrom(numpy_helper.from_array(a, table.name))
    onnx.save(m, out)
    print(f"{out}: rows {ids} of {table.name} {list(a.shape)} replaced by {emb}")


if __name__ == "__main__":
    main()
