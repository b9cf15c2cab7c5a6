"""Torch reference of the T2I-Adapter pipeline with diffusers' semantics, on the shipped shapes model, writing the
fixture arrays the Java parity test compares with (CI has no torch).

    /usr/bin/python3 tools/shapes-model/t2i_adapter_reference.py --model models/shapes \
        --out integration-tests/src/test/resources/t2i-adapter-parity

The torch modules are rebuilt from the folder's ONNX files (onnx_import: the same weights), so the reference checks
the runtime's pipeline, not the export. What diffusers' StableDiffusionAdapterPipeline does, step by step:
  prompt embeddings for [negative "" , prompt] (CFG on: guidance > 1), class label = the null class for both halves;
  latents = randn(torch.Generator().manual_seed(seed), [1, 4, 8, 8]) * init_noise_sigma (1 for DDIM);
  adapter_state = adapter(image) (MultiAdapter: sum_j w_j * adapter_j(image_j); one adapter: v * scale), each state
  repeated for the CFG batch ([v] * 2);
  each step i: the UNet gets down_intrablock_additional_residuals = the states while i < int(steps * factor)
  (SDXL pipeline; factor 1 = every step, the SD 1.5 pipeline), none otherwise; CFG; DDIMScheduler.step (eta 0);
  image = clamp(vae_decoder(latents / scaling_factor) / 2 + 0.5, 0, 1).
The condition images are PNGs (white outline on black); a 1-channel adapter gets 0.299 R + 0.587 G + 0.114 B in
float32, as the runtime computes it.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export as E  # noqa: E402
import onnx_import as OI  # noqa: E402
import sample as SA  # noqa: E402
import shapes_data as D  # noqa: E402
import train as TR  # noqa: E402
from clip_bpe import CLIPTokenizer  # noqa: E402
from models import VAE, T2IAdapter  # noqa: E402


def load(model_dir):
    tok = CLIPTokenizer.from_dir(os.path.join(model_dir, "tokenizer"))

    class A:
        seed = 0
    te, unet = TR.build_te_unet(A, len(tok.encoder))
    ids = torch.tensor([tok.encode(""), tok.encode("a red circle")])
    OI.load_into(te, E.TEWrap(te), (ids,), ["input_ids"], os.path.join(model_dir, "text_encoder/model.onnx"),
                 {"input_ids": {0: "batch", 1: "sequence"}})
    with torch.no_grad():
        ctx, _ = te(ids)
    x, t, cl = torch.randn(2, 4, 8, 8), torch.tensor(500), torch.tensor([4, 4])
    ad = T2IAdapter(in_ch=1, channels=TR.UNET_CH, res_blocks=2, down=(True, False))
    img = torch.rand(2, 1, 64, 64)
    onames = [E.ADAPTER_OUT.format(i) for i in range(len(TR.UNET_CH))]
    OI.load_into(ad, E.AdapterWrap(ad), (img,), ["image"], os.path.join(model_dir, "t2i-adapter/model.onnx"),
                 {"image": {0: "batch", 2: "height", 3: "width"},
                  **{n: {0: "batch", 2: f"h{i}", 3: f"w{i}"} for i, n in enumerate(onames)}})
    with torch.no_grad():
        feats = ad(img)
    inames = [E.UNET_INTRA_IN.format(i) for i in range(len(feats))]
    uin = ["sample", "timestep", "encoder_hidden_states", "class_labels"]
    udyn = {"sample": {0: "batch", 2: "height", 3: "width"}, "encoder_hidden_states": {0: "batch", 1: "sequence"},
            "class_labels": {0: "batch"}, **{n: {0: "batch", 2: f"ah{i}", 3: f"aw{i}"} for i, n in enumerate(inames)}}
    OI.load_into(unet, E.UNetAdapterWrap(unet), (x, t, ctx, cl) + tuple(feats), uin + inames,
                 os.path.join(model_dir, "unet-adapter/model.onnx"), udyn)
    vae = VAE(TR.VAE_CH)
    OI.load_into(vae.decoder, torch.nn.Sequential(vae.decoder), (torch.randn(1, 4, 8, 8),), ["latent_sample"],
                 os.path.join(model_dir, "vae_decoder/model.onnx"),
                 {"latent_sample": {0: "batch", 2: "height", 3: "width"}})
    scaling = json.load(open(os.path.join(model_dir, "vae_decoder/config.json")))["scaling_factor"]
    return tok, te.eval(), unet.eval(), ad.eval(), vae.eval(), scaling


def luma(png):
    a = np.asarray(Image.open(png).convert("RGB"), dtype=np.float32) / np.float32(255)
    r, g, b = (torch.from_numpy(a[..., c].copy()) for c in range(3))
    y = torch.tensor(0.299, dtype=torch.float32) * r + torch.tensor(0.587, dtype=torch.float32) * g \
        + torch.tensor(0.114, dtype=torch.float32) * b
    return y[None, None]


@torch.no_grad()
def run(models, prompt, adapters, steps, guidance, seed):
    """adapters: [(png, scale)] and one factor for all (diffusers has one per pipeline)."""
    tok, te, unet, ad, vae, scaling = models
    ids = torch.tensor([tok.encode(""), tok.encode(prompt)])
    ctx, _ = te(ids)
    cls = torch.tensor([D.NULL_CLASS, D.NULL_CLASS])
    state = None
    for png, scale, _ in adapters:
        f = [v * scale for v in ad(luma(png))]
        state = f if state is None else [s + v for s, v in zip(state, f)]
    factor = adapters[0][2]
    state = [torch.cat([v] * 2) for v in state]
    ac = TR.alphas_cumprod()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((1, 4, 8, 8), generator=g)
    ts, ratio = SA.ddim_timesteps(steps)
    for i, t in enumerate(ts):
        intra = [s.clone() for s in state] if i < int(steps * factor) else None
        out = unet(torch.cat([x, x]), torch.full((2,), int(t), dtype=torch.long), ctx, cls, intra_res=intra)
        u, c = out.chunk(2)
        eps = u + guidance * (c - u)
        a = ac[t]
        prev = t - ratio
        ap = ac[prev] if prev >= 0 else ac[0]
        x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
        x = ap.sqrt() * x0 + (1 - ap).sqrt() * eps
    img = (vae.decoder(x / scaling) / 2 + 0.5).clamp(0, 1)
    return x, img.permute(0, 2, 3, 1).contiguous()


def sketch_png(path, shape, cx, cy, r):
    m = D.alpha_for(shape, cx, cy, r) > 0.5
    o = D.outline_of(m)
    Image.fromarray((np.repeat(o[..., None], 3, -1) * 255).astype(np.uint8)).save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/shapes")
    ap.add_argument("--out", default="integration-tests/src/test/resources/t2i-adapter-parity")
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    models = load(a.model)
    sketch_png(os.path.join(a.out, "sketch_circle.png"), "circle", 22, 40, 10.5)
    sketch_png(os.path.join(a.out, "sketch_square.png"), "square", 41, 24, 9)
    cases = {
        "one_adapter": dict(prompt="a red circle", steps=10, guidance=3.0, seed=11,
                            adapters=[["sketch_circle.png", 0.8, 1.0]]),
        "two_adapters_factor": dict(prompt="a blue square", steps=10, guidance=3.0, seed=12,
                                    adapters=[["sketch_circle.png", 0.7, 0.5], ["sketch_square.png", 0.5, 0.5]]),
    }
    for name, c in cases.items():
        lat, img = run(models, c["prompt"], [(os.path.join(a.out, p), s, f) for p, s, f in c["adapters"]],
                       c["steps"], c["guidance"], c["seed"])
        np.save(os.path.join(a.out, f"{name}_latents.npy"), lat.numpy().astype(np.float32))
        np.save(os.path.join(a.out, f"{name}_image.npy"), img.numpy().astype(np.float32))
        c["latents"] = f"{name}_latents.npy"
        c["image"] = f"{name}_image.npy"
        print(name, "latents max", float(lat.abs().max()))
    json.dump(cases, open(os.path.join(a.out, "cases.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
