"""Small random LoRA files for the shipped shapes model (models/shapes) and their offline-merged weights.

    /usr/bin/python3 tools/lora/make_shapes_fixtures.py models/shapes OUT_DIR

unet-kohya.safetensors: cross-attention q2/kv2 and o2 of every transformer (lora_unet_down_1_0_attn_kv2, ...), rank 4,
alpha 2; te-kohya.safetensors: lora_te_layers_N_qkv
and _fc1 of the text encoder (its nodes are /te/qkv_1/MatMul: matched through the te.layers.N.qkv.bias they add);
unet-peft.safetensors and te-peft.safetensors: the same kind of modules in the diffusers/PEFT naming (unet.up.0.1.attn.q2,
text_encoder.layers.2.fc1); vae-kohya.safetensors: lora_vae_decoder_... low-rank pairs with bias deltas (.diff_b) on
decoder convolutions, the 1x1 attention qkv conv and a full .diff on conv_out.
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lora_merge import write_safetensors  # noqa: E402

UNET = [f"{b}.attn.{p}" for b in ("down.1.0", "mid_attn", "up.0.0", "up.0.1") for p in ("q2", "kv2", "o2")]
UNET = [u.replace("mid_attn.attn.", "mid_attn.") for u in UNET]
OUT = {"q2": 64, "kv2": 128, "o2": 64, "qkv": 192, "fc1": 256}


def main():
    model, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(31)
    kohya, te = {}, {}
    for p in UNET:
        o = OUT[p.split(".")[-1]]
        k = "lora_unet_" + p.replace(".", "_")
        kohya[k + ".lora_down.weight"] = rng.standard_normal((4, 64)).astype(np.float32) * 0.3
        kohya[k + ".lora_up.weight"] = rng.standard_normal((o, 4)).astype(np.float32) * 0.3
        kohya[k + ".alpha"] = np.array(2.0, np.float32)
    for i in range(3):
        for p in ("qkv", "fc1"):
            k = f"lora_te_layers_{i}_{p}"
            te[k + ".lora_down.weight"] = rng.standard_normal((2, 64)).astype(np.float32) * 0.3
            te[k + ".lora_up.weight"] = rng.standard_normal((OUT[p], 2)).astype(np.float32) * 0.3
    peft, te_peft, vae = {}, {}, {}
    for p in ("up.0.1.attn.q2", "down.1.0.attn.kv2"):
        o = OUT[p.split(".")[-1]]
        peft["unet." + p + ".lora_A.weight"] = rng.standard_normal((4, 64)).astype(np.float32) * 0.3
        peft["unet." + p + ".lora_B.weight"] = rng.standard_normal((o, 4)).astype(np.float32) * 0.3
        peft["unet." + p + ".alpha"] = np.array(8.0, np.float32)
    for p in ("layers.1.qkv", "layers.2.fc1"):
        te_peft["text_encoder." + p + ".lora_A.weight"] = rng.standard_normal((2, 64)).astype(np.float32) * 0.3
        te_peft["text_encoder." + p + ".lora_B.weight"] = rng.standard_normal((OUT[p.split(".")[-1]], 2)).astype(
            np.float32) * 0.3
    for p, o, i, k in (("up.3.conv1", 64, 64, 3), ("up.9.skip", 16, 32, 1), ("attn.qkv", 192, 64, 1)):
        key = "lora_vae_decoder_" + p.replace(".", "_")
        vae[key + ".lora_down.weight"] = rng.standard_normal((4, i, k, k)).astype(np.float32) * 0.05
        vae[key + ".lora_up.weight"] = rng.standard_normal((o, 4, 1, 1)).astype(np.float32) * 0.05
        vae[key + ".alpha"] = np.array(4.0, np.float32)
        vae[key + ".diff_b"] = rng.standard_normal(o).astype(np.float32) * 0.05
    vae["lora_vae_decoder_conv_out.diff"] = rng.standard_normal((3, 16, 3, 3)).astype(np.float32) * 0.02
    write_safetensors(os.path.join(out, "unet-peft.safetensors"), peft)
    write_safetensors(os.path.join(out, "te-peft.safetensors"), te_peft)
    write_safetensors(os.path.join(out, "vae-kohya.safetensors"), vae)
    write_safetensors(os.path.join(out, "unet-kohya.safetensors"), kohya)
    write_safetensors(os.path.join(out, "te-kohya.safetensors"), te)
    merge = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lora_merge.py")
    cases = {"unet-kohya": ("unet", ["unet-kohya.safetensors:0.7"]),
             "te-kohya": ("text_encoder", ["te-kohya.safetensors:1.2"]),
             "unet-peft": ("unet", ["unet-peft.safetensors:0.9"]),
             "te-peft": ("text_encoder", ["te-peft.safetensors:1.1"]),
             "vae-kohya": ("vae_decoder", ["vae-kohya.safetensors:0.8"])}
    for case, (comp, loras) in cases.items():
        args = [sys.executable, merge, os.path.join(model, comp, "model.onnx"), "--component", comp,
                "--npy-dir", os.path.join(out, "expected", case)]
        for l in loras:
            args += ["--lora", os.path.join(out, l)]
        subprocess.run(args, check=True)


if __name__ == "__main__":
    main()
