"""Small random LoRA files for the diffusers-tiny sd-tiny model, and the offline-merged weights they should give.

    /usr/bin/python3 tools/lora/make_fixtures.py MODEL_DIR OUT_DIR

Writes OUT_DIR/unet-kohya.safetensors (kohya names: attn1/attn2 projections, a feed-forward, a 1x1 proj_in conv and a
3x3 resnet conv, alpha 2 of rank 4), unet-peft.safetensors (diffusers/PEFT names, no alpha), te-kohya.safetensors
(lora_te_text_model_encoder_..., rank 2), te-peft.safetensors (text_encoder.text_model.encoder..., lora_A/lora_B),
vae-peft.safetensors (the VAE decoder in diffusers names, vae.decoder...: low-rank pairs on 3x3 convs and on the
attention's to_q MatMul, bias deltas .diff_b, a full .diff on conv_out) and, through lora_merge.py,
expected/<case>/<initializer>.npy.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lora_merge import write_safetensors  # noqa: E402


def shapes(model, drop=2):
    m = onnx.load(model)
    inits = {i.name: list(i.dims) for i in m.graph.initializer}
    out = {}
    for n in m.graph.node:
        if n.op_type in ("MatMul", "Conv", "Gemm") and len(n.input) > 1 and n.input[1] in inits:
            p = "/".join(n.name.split("/")[drop:-1])  # drop the wrapper and the op
            out[p.replace("/", ".")] = (n.op_type, inits[n.input[1]])
    return out


def lora(rng, op, dims, r, conv3=False):
    if op == "MatMul":
        i, o = dims
        return rng.standard_normal((r, i)).astype(np.float32) * 0.2, rng.standard_normal((o, r)).astype(np.float32) * 0.2
    o, i, kh, kw = dims
    return (rng.standard_normal((r, i, kh, kw)).astype(np.float32) * 0.2,
            rng.standard_normal((o, r, 1, 1)).astype(np.float32) * 0.2)


def main():
    model_dir, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(13)
    u = shapes(os.path.join(model_dir, "unet", "model.onnx"))
    t = shapes(os.path.join(model_dir, "text_encoder", "model.onnx"))
    pick_u = ["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k",
              "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v",
              "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
              "mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0",
              "up_blocks.1.attentions.2.transformer_blocks.0.ff.net.2",
              "down_blocks.0.attentions.0.proj_in",
              "down_blocks.0.resnets.0.conv1"]
    kohya, peft = {}, {}
    for p in pick_u:
        op, dims = u[p]
        d, up = lora(rng, op, dims, 4)
        k = "lora_unet_" + p.replace(".", "_")
        kohya[k + ".lora_down.weight"], kohya[k + ".lora_up.weight"] = d, up
        kohya[k + ".alpha"] = np.array(2.0, np.float32)
        d2, up2 = lora(rng, op, dims, 4)
        peft["unet." + p + ".lora_A.weight"], peft["unet." + p + ".lora_B.weight"] = d2, up2
    te = {}
    for p in ["encoder.layers.0.self_attn.q_proj", "encoder.layers.0.self_attn.v_proj", "encoder.layers.1.mlp.fc1"]:
        op, dims = t[p]
        d, up = lora(rng, op, dims, 2)
        k = "lora_te_text_model_" + p.replace(".", "_")
        te[k + ".lora_down.weight"], te[k + ".lora_up.weight"] = d, up
        te[k + ".alpha"] = np.array(1.0, np.float32)
    te_peft = {}
    for p in ["encoder.layers.1.self_attn.k_proj", "encoder.layers.2.mlp.fc2"]:
        op, dims = t[p]
        d, up = lora(rng, op, dims, 2)
        te_peft["text_encoder.text_model." + p + ".lora_A.weight"] = d
        te_peft["text_encoder.text_model." + p + ".lora_B.weight"] = up
    v = shapes(os.path.join(model_dir, "vae_decoder", "model.onnx"), drop=1)
    vae = {}
    for p in ["decoder.mid_block.resnets.0.conv1", "decoder.up_blocks.1.resnets.0.conv2",
              "decoder.mid_block.attentions.0.to_q", "post_quant_conv"]:
        op, dims = v[p]
        d, up = lora(rng, op, dims, 2)
        vae["vae." + p + ".lora_A.weight"], vae["vae." + p + ".lora_B.weight"] = d, up
        vae["vae." + p + ".diff_b"] = rng.standard_normal(dims[1] if op == "MatMul" else dims[0]).astype(
            np.float32) * 0.1
    vae["vae.decoder.conv_out.diff"] = rng.standard_normal(v["decoder.conv_out"][1]).astype(np.float32) * 0.05
    write_safetensors(os.path.join(out, "te-peft.safetensors"), te_peft)
    write_safetensors(os.path.join(out, "vae-peft.safetensors"), vae)
    write_safetensors(os.path.join(out, "unet-kohya.safetensors"), kohya, {"ss_network_dim": "4"})
    write_safetensors(os.path.join(out, "unet-peft.safetensors"), peft)
    write_safetensors(os.path.join(out, "te-kohya.safetensors"), te)
    merge = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lora_merge.py")
    cases = {"unet-kohya": ("unet", ["unet-kohya.safetensors:0.8"]),
             "unet-peft": ("unet", ["unet-peft.safetensors"]),
             "unet-both": ("unet", ["unet-kohya.safetensors:0.8", "unet-peft.safetensors:-0.5"]),
             "te-kohya": ("text_encoder", ["te-kohya.safetensors:1.5"]),
             "te-peft": ("text_encoder", ["te-peft.safetensors:0.9"]),
             "vae-peft": ("vae_decoder", ["vae-peft.safetensors:0.6"])}
    for case, (comp, loras) in cases.items():
        args = [sys.executable, merge, os.path.join(model_dir, comp, "model.onnx"), "--component", comp,
                "--npy-dir", os.path.join(out, "expected", case)]
        for l in loras:
            args += ["--lora", os.path.join(out, l)]
        subprocess.run(args, check=True)


if __name__ == "__main__":
    main()
