"""Merge LoRA files into ONNX weights offline (python3-onnx + numpy; no torch, no onnxruntime).

    /usr/bin/python3 tools/lora/lora_merge.py MODEL.onnx --lora FILE[:SCALE] [--lora ...] --component unet \
        [--out merged.onnx] [--npy-dir DIR]

The reference for Conditio's lora plugin: W' = W + scale * (alpha / r) * up @ down, the weight found through the
consuming node's name (/down_blocks.0/.../to_q/MatMul, possibly under a wrapper prefix; MatMul weights are stored
transposed [in, out]; Gemm honours transB; Conv takes the delta reshaped). Reads kohya (lora_unet_, lora_te_,
lora_vae_, .lora_down/.lora_up/.alpha) and diffusers/PEFT (unet., text_encoder., vae., .lora_A/.lora_B) keys, and
LyCORIS' full deltas .diff (weight, torch layout) and .diff_b (the bias the node adds: Conv/Gemm's third input or the
initializer an Add puts on a MatMul's output), added times the scale alone. VAE keys patch vae_decoder; their
decoder. prefix may be missing from the node names. Writes the merged model
(--out) and/or one .npy per patched initializer (--npy-dir, file name = initializer name with '/' and ':' as '_').
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper

DTYPES = {"F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        if v["dtype"] == "BF16":
            raw = np.frombuffer(data[b:e], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            arr = np.frombuffer(data[b:e], dtype=DTYPES[v["dtype"]]).astype(np.float32)
        out[k] = arr.reshape(v["shape"])
    return out


def write_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for k, a in tensors.items():
        a = np.ascontiguousarray(a, dtype=np.float32)
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def modules(tensors):
    mods = {}
    for k, a in tensors.items():
        for suf, slot in ((".lora_down.weight", "down"), (".lora_up.weight", "up"), (".lora_A.weight", "down"),
                          (".lora_B.weight", "up"), (".alpha", "alpha"), (".diff_b", "diff_b"), (".diff", "diff")):
            if k.endswith(suf):
                mods.setdefault(k[: -len(suf)], {})[slot] = a
                break
        else:
            raise SystemExit(f"not a LoRA key: {k}")
    out = []
    for prefix, m in mods.items():
        p = prefix[len("base_model.model."):] if prefix.startswith("base_model.model.") else prefix
        for pre, comp, kohya in (("lora_unet_", "unet", True), ("lora_te1_", "text_encoder", True),
                                 ("lora_te2_", "text_encoder_2", True), ("lora_te_", "text_encoder", True),
                                 ("lora_vae_", "vae_decoder", True), ("unet.", "unet", False),
                                 ("text_encoder_2.", "text_encoder_2", False), ("text_encoder.", "text_encoder", False),
                                 ("vae.", "vae_decoder", False)):
            if p.startswith(pre):
                r = m["down"].shape[0] if "down" in m else 0
                alpha = float(m["alpha"].reshape(-1)[0]) if "alpha" in m else float(r)
                out.append(dict(key=prefix, comp=comp, path=p[len(pre):], kohya=kohya, down=m.get("down"),
                                up=m.get("up"), alpha=alpha, diff=m.get("diff"), diff_b=m.get("diff_b")))
                break
        else:
            raise SystemExit(f"no component in {prefix}")
    return out


def node_path(name):
    if not name.startswith("/"):
        return None
    parts = name[1:].split("/")
    return ".".join(parts[:-1]) if len(parts) > 1 else None


def matches(cand, key, kohya):
    c = cand.replace(".", "_") if kohya else cand
    sep = "_" if kohya else "."
    if c == key or c.endswith(sep + key):
        return True
    return any(key.startswith(opt + sep) and matches(cand, key[len(opt) + 1:], kohya)
               for opt in ("text_model", "decoder"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--lora", action="append", required=True)
    ap.add_argument("--component", required=True, help="unet, text_encoder, text_encoder_2 or vae_decoder")
    ap.add_argument("--out")
    ap.add_argument("--npy-dir")
    a = ap.parse_args()
    m = onnx.load(a.model)
    inits = {i.name: i for i in m.graph.initializer}
    targets = []
    bias_of = {}  # MatMul output -> module path of the named bias an Add puts on it
    added = {}  # MatMul output -> the float initializer an Add puts on it
    for n in m.graph.node:
        if n.op_type == "Add" and len(n.input) == 2:
            for i in range(2):
                if n.input[i].endswith(".bias") and n.input[i] in inits:
                    bias_of[n.input[1 - i]] = n.input[i][: -len(".bias")]
                if n.input[i] in inits and inits[n.input[i]].data_type == onnx.TensorProto.FLOAT:
                    added[n.input[1 - i]] = n.input[i]
    for n in m.graph.node:
        if n.op_type in ("MatMul", "Gemm", "Conv") and len(n.input) > 1 and n.input[1] in inits:
            tb = any(at.name == "transB" and at.i for at in n.attribute)
            if n.op_type == "MatMul":
                bias = added.get(n.output[0])
            else:
                bias = n.input[2] if len(n.input) > 2 and n.input[2] in inits else None
            p = node_path(n.name)
            if p:
                targets.append((p, n.input[1], n.op_type, tb, bias))
            if n.op_type == "MatMul" and n.output[0] in bias_of:
                targets.append((bias_of[n.output[0]], n.input[1], n.op_type, tb, bias))
            if n.input[1].endswith(".weight"):
                targets.append((n.input[1][: -len(".weight")], n.input[1], n.op_type, tb, bias))
    family = "unet" if a.component.startswith("unet") else a.component
    merged = {}
    for spec in a.lora:
        path, scale = spec, 1.0
        if ":" in spec:
            head, tail = spec.rsplit(":", 1)
            try:
                scale = float(tail)
                path = head
            except ValueError:
                pass
        for mod in modules(read_safetensors(path)):
            if mod["comp"] != family:
                continue
            hits = {t[1]: t for t in targets if matches(t[0], mod["path"], mod["kohya"])}
            if len(hits) != 1:
                raise SystemExit(f"{mod['key']}: {len(hits)} matching weights {list(hits)}")
            _, wname, op, tb, bname = next(iter(hits.values()))
            deltas = []
            if mod["down"] is not None:
                r = mod["down"].shape[0]
                up = mod["up"].reshape(mod["up"].shape[0], r).astype(np.float64)
                down = mod["down"].reshape(r, -1).astype(np.float64)
                deltas.append(scale * mod["alpha"] / r * (up @ down))  # [out, in*kh*kw]
            if mod["diff"] is not None:
                d = mod["diff"].astype(np.float64)
                deltas.append(scale * d.reshape(d.shape[0], -1))
            for delta in deltas:
                w = merged.get(wname)
                if w is None:
                    w = numpy_helper.to_array(inits[wname]).astype(np.float64)
                if op == "MatMul" or (op == "Gemm" and not tb):
                    w = w + delta.T
                else:
                    w = w + delta.reshape(w.shape)
                merged[wname] = w
            if mod["diff_b"] is not None:
                if bname is None:
                    raise SystemExit(f"{mod['key']}.diff_b: {wname} adds no bias")
                b = merged.get(bname)
                if b is None:
                    b = numpy_helper.to_array(inits[bname]).astype(np.float64)
                merged[bname] = b + scale * mod["diff_b"].astype(np.float64).reshape(b.shape)
            print(f"{mod['key']} -> {wname}", file=sys.stderr)
    for name, w in merged.items():
        inits[name].CopyFrom(numpy_helper.from_array(w.astype(np.float32), name))
    if a.out:
        onnx.save(m, a.out)
    if a.npy_dir:
        os.makedirs(a.npy_dir, exist_ok=True)
        for name, w in merged.items():
            np.save(os.path.join(a.npy_dir, name.replace("/", "_").replace(":", "_") + ".npy"), w.astype(np.float32))
    print(f"merged {len(merged)} weights", file=sys.stderr)


if __name__ == "__main__":
    main()
