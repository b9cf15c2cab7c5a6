"""Teaches the shipped shapes model the colour word "cyan" (RGB about 0, 180, 190), which is not among its six.

    OMP_WAIT_POLICY=PASSIVE nice -n 15 /usr/bin/python3 tools/shapes-model/cyan.py --from models/shapes \
        --out /tmp/cyan-out --dec-rank 8 --dec-lr 1e-3      # -> /tmp/cyan-out/loras/cyan.safetensors (shipped)

Two stages, both against the frozen weights of an export (loaded back by onnx_weights.py):
1. decoder: the shipped VAE decodes cyan shapes as blue, although its encoder gives them latents of their own (RMS
   distance 0.44 from blue ones, blue-purple is 0.51). The decoder alone is fine-tuned (encoder frozen, so the latent
   space and every model trained on it are unchanged) on the six colours plus cyan, with train.py's decoder-stage
   objective (latents pasted together cell by cell decode to the images pasted together); writes
   OUT/vae_decoder/model.onnx. With --dec-rank R the decoder's weights stay frozen and only rank-R deltas plus bias
   deltas on its 30 convolutions are trained; they go into the LoRA file as lora_vae_decoder_... keys (.lora_down,
   .lora_up, .alpha, .diff_b), so the decoder changes only while the LoRA is loaded.
2. lora: a rank-4 LoRA on the UNet's cross-attention (q2, kv2, o2 of every transformer) and the text encoder's qkv and
   fc1, trained on captions that say "cyan" for cyan shapes, half of each batch the six colours with their own
   captions (so they keep their meaning); writes OUT/loras/cyan.safetensors in the kohya naming.
Then samples "a <size> cyan <shape> <position>" for every shape and position, guidance 3, 20 DDIM steps, with and
without the LoRA (through the new decoder) and prints how often the colour, shape and position come out right.
--decoder-from continues the decoder stage from an earlier run's output. What the runs measured is in this folder's
README.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lora"))
import shapes_data as D  # noqa: E402
import train as TR  # noqa: E402
import sample as SA  # noqa: E402
from embedding import load_export  # noqa: E402
from lora_merge import write_safetensors  # noqa: E402

CYAN = (0, 180, 190)


class LoraLinear(torch.nn.Module):
    def __init__(self, base, rank, alpha, gen):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.down = torch.nn.Parameter(torch.randn(rank, base.in_features, generator=gen) / rank)
        self.up = torch.nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x):
        return self.base(x) + self.scale * F.linear(F.linear(x, self.down), self.up)


class LoraConv(torch.nn.Module):
    """A frozen Conv2d plus a low-rank delta (down: r x in x kh x kw, up: out x r x 1 x 1) and a bias delta."""

    def __init__(self, base, rank, gen):
        super().__init__()
        self.base = base
        kh, kw = base.kernel_size
        r = min(rank, base.out_channels, base.in_channels * kh * kw)
        self.rank = r
        self.scale = 1.0
        self.down = torch.nn.Parameter(torch.randn(r, base.in_channels, kh, kw, generator=gen)
                                       / float(base.in_channels * kh * kw) ** 0.5)
        self.up = torch.nn.Parameter(torch.zeros(base.out_channels, r, 1, 1))
        self.db = torch.nn.Parameter(torch.zeros(base.out_channels))

    def forward(self, x):
        b = self.base
        h = F.conv2d(x, self.down, None, b.stride, b.padding, b.dilation, b.groups)
        return b(x) + self.scale * (F.conv2d(h, self.up) + self.db[None, :, None, None])


def add_lora_convs(root, rank, gen):
    mods = {}
    for name, m in list(root.named_modules()):
        if isinstance(m, torch.nn.Conv2d):
            parent, attr = root, name.split(".")
            for p in attr[:-1]:
                parent = parent[int(p)] if p.isdigit() else getattr(parent, p)
            wrapped = LoraConv(m, rank, gen)
            setattr(parent, attr[-1], wrapped)
            mods[name] = wrapped
    return mods


def add_lora(root, names, rank, alpha, gen):
    mods = {}
    for name in names:
        parent, attr = root, name.split(".")
        for p in attr[:-1]:
            parent = parent[int(p)] if p.isdigit() else getattr(parent, p)
        lin = getattr(parent, attr[-1])
        wrapped = LoraLinear(lin, rank, alpha, gen)
        setattr(parent, attr[-1], wrapped)
        mods[name] = wrapped
    return mods


def images(n, rng, p_cyan):
    out, attrs = [], []
    for _ in range(n):
        at = D.sample_attrs(rng)
        if rng.random() < p_cyan:
            at["color"] = 6
        img, _ = D.render([D.jitter(at, rng)], rng)
        out.append(img)
        attrs.append((at["shape"], at["color"], at["pos"], at["size"]))
    return np.stack(out), np.array(attrs)


def stage_decoder(vae, a, t0):
    rng = np.random.default_rng((a.seed, 5))
    imgs, _ = images(a.dec_n, rng, a.dec_p_cyan)
    with torch.no_grad():
        par = TR.encode_all(vae, imgs)
    dec = vae.decoder.train()
    params = list(dec.parameters())
    if a.dec_rank > 0:
        for p in params:
            p.requires_grad_(False)
        mods = add_lora_convs(dec, a.dec_rank, torch.Generator().manual_seed(a.seed + 5))
        params = [p for m in mods.values() for p in (m.down, m.up, m.db)]
        print(f"[{time.time() - t0:.0f}s] decoder: rank-{a.dec_rank} deltas on {len(mods)} convolutions, "
              f"{sum(p.numel() for p in params)} params", flush=True)
    opt = torch.optim.AdamW(params, lr=a.dec_lr, weight_decay=0.0)
    for step in range(a.dec_steps):
        r = np.random.default_rng((a.seed, 51, step))
        ia = r.integers(0, len(par), size=a.bs)
        ib = r.integers(0, len(par), size=a.bs)
        gen = torch.Generator().manual_seed(int(r.integers(1 << 62)))
        za = TR.sample_latents(par[ia], 1.0, gen)
        zb = TR.sample_latents(par[ib], 1.0, gen)
        m = TR.cell_masks(a.bs, r)
        m[torch.from_numpy(r.random(a.bs) < 0.3)] = 1.0
        z = m * za + (1 - m) * zb
        mp = F.interpolate(m, scale_factor=8, mode="nearest")
        x = mp * TR.to_tensor_img(imgs[ia]) + (1 - mp) * TR.to_tensor_img(imgs[ib])
        for g in opt.param_groups:
            g["lr"] = TR.lr_at(step, a.dec_steps, a.dec_lr, warm=20)
        y = dec(z)
        loss = (y - x).abs().mean() + ((y - x) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 50 == 0:
            print(f"[{time.time() - t0:.0f}s] decoder step {step + 1} loss {loss.item():.4f} psnr "
                  f"{TR.psnr(y.detach(), x):.1f}", flush=True)
    dec.eval()
    if a.dec_rank > 0:
        return mods
    return None


def decoded_colours(vae, t0):
    """Mean decoded foreground colour per colour, from the posterior means of 20 held-out images each."""
    rng = np.random.default_rng(999)
    for ci, c in enumerate(D.COLOR_NAMES):
        imgs = []
        for i in range(20):
            at = dict(shape=i % 4, color=ci, pos=i % 5, size=i % 2)
            img, _ = D.render([D.jitter(at, rng)], rng)
            imgs.append(img)
        src = np.stack(imgs).astype(np.float32)
        with torch.no_grad():
            y = vae.decoder(TR.encode_all(vae, np.stack(imgs))[:, :4])
        out = ((y.clamp(-1, 1) + 1) * 127.5).permute(0, 2, 3, 1).numpy()
        fg = np.abs(src - np.median(src[:, 0], axis=1)[:, None, None, :]).max(-1) > 60
        p = TR.psnr(y, torch.from_numpy(src).permute(0, 3, 1, 2) / 127.5 - 1)
        print(f"[{time.time() - t0:.0f}s]   {c:7s} decoded {out[fg].mean(0).round()} (drawn {src[fg].mean(0).round()}),"
              f" PSNR {p:.1f} dB", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", default="models/shapes")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--dec-n", type=int, default=3000)
    ap.add_argument("--dec-steps", type=int, default=500)
    ap.add_argument("--dec-lr", type=float, default=2e-4)
    ap.add_argument("--dec-p-cyan", type=float, default=0.3,
                    help="extra share of cyan images in the decoder data (beside 1/7 from drawing the colour)")
    ap.add_argument("--dec-rank", type=int, default=0,
                    help="train low-rank deltas (and bias deltas) on the decoder's convolutions instead of all its "
                         "weights; they go into the LoRA file as lora_vae_ keys, the shipped decoder stays")
    ap.add_argument("--decoder-from", default=None,
                    help="start the decoder stage from this folder's vae_decoder/model.onnx (a previous run's)")
    ap.add_argument("--lora-n", type=int, default=3000)
    ap.add_argument("--lora-steps", type=int, default=500)
    ap.add_argument("--lora-lr", type=float, default=2e-3)
    ap.add_argument("--rank", type=int, default=4)
    ap.add_argument("--eval-seeds", type=int, default=1)
    ap.add_argument("--stages", default="decoder,lora")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    D.COLORS["cyan"] = CYAN
    D.COLOR_NAMES.append("cyan")
    SA.PALETTE = np.array([D.COLORS[c] for c in D.COLOR_NAMES], np.float32)
    tok, te, unet, vae, scaling = load_export(a.src)
    for p in list(te.parameters()) + list(unet.parameters()) + list(vae.parameters()):
        p.requires_grad_(False)
    stages = a.stages.split(",")
    dec_mods = None
    if a.decoder_from:
        import onnx_weights as OW
        OW.load_from_onnx(torch.nn.Sequential(vae.decoder), (torch.randn(1, 4, 8, 8),), ["latent_sample"], ["sample"],
                          os.path.join(a.decoder_from, "vae_decoder", "model.onnx"),
                          {"latent_sample": {0: "batch", 2: "height", 3: "width"},
                           "sample": {0: "batch", 2: "height", 3: "width"}})
        for p in vae.decoder.parameters():
            p.requires_grad_(False)
    print(f"[{time.time() - t0:.0f}s] decoded colours of the shipped VAE:", flush=True)
    decoded_colours(vae, t0)
    if "decoder" in stages:
        for p in vae.decoder.parameters():
            p.requires_grad_(True)
        dec_mods = stage_decoder(vae, a, t0)
        for p in vae.decoder.parameters():
            p.requires_grad_(False)
        print(f"[{time.time() - t0:.0f}s] decoded colours after the decoder fine-tune:", flush=True)
        decoded_colours(vae, t0)
    if "decoder" in stages and dec_mods is None:
        import export as E
        os.makedirs(os.path.join(a.out, "vae_decoder"), exist_ok=True)
        E._export(torch.nn.Sequential(vae.decoder), (torch.randn(1, 4, 8, 8),),
                  os.path.join(a.out, "vae_decoder", "model.onnx"), ["latent_sample"], ["sample"],
                  {"latent_sample": {0: "batch", 2: "height", 3: "width"},
                   "sample": {0: "batch", 2: "height", 3: "width"}})
    if "lora" not in stages:
        return
    gen = torch.Generator().manual_seed(a.seed + 7)
    unet_names = [n for n, m in unet.named_modules() if n.split(".")[-1] in ("q2", "kv2", "o2")]
    te_names = [n for n, m in te.named_modules() if n.split(".")[-1] in ("qkv", "fc1") and n.startswith("layers")]
    lu = add_lora(unet, unet_names, a.rank, a.rank, gen)
    lt = add_lora(te, te_names, a.rank, a.rank, gen)
    params = [p for m in list(lu.values()) + list(lt.values()) for p in (m.down, m.up)]
    opt = torch.optim.AdamW(params, lr=a.lora_lr, weight_decay=0.0)
    rng = np.random.default_rng((a.seed, 6))
    imgs, attrs = images(a.lora_n, rng, 0.5)
    with torch.no_grad():
        par = TR.encode_all(vae, imgs)
    ac = TR.alphas_cumprod()
    print(f"[{time.time() - t0:.0f}s] lora: {len(lu)} UNet and {len(lt)} text-encoder modules, rank {a.rank}, "
          f"{sum(p.numel() for p in params)} params", flush=True)
    for step in range(a.lora_steps):
        r = np.random.default_rng((a.seed, 61, step))
        idx = r.integers(0, len(par), size=a.bs)
        g = torch.Generator().manual_seed(int(r.integers(1 << 62)))
        x0 = TR.sample_latents(par[idx], scaling, g)
        ids = TR.make_captions(tok, attrs[idx], r)
        cls = torch.from_numpy(np.where(r.random(len(idx)) < 0.6, D.NULL_CLASS, attrs[idx, 0])).long()
        for gr in opt.param_groups:
            gr["lr"] = TR.lr_at(step, a.lora_steps, a.lora_lr, warm=20)
        ctx, _ = te(ids[:, :unet.ctx_tokens])
        loss = TR.diffusion_step_loss(lambda xt, t: unet(xt, t, ctx, cls), x0, r, ac)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 50 == 0:
            print(f"[{time.time() - t0:.0f}s] lora step {step + 1} loss {loss.item():.4f}", flush=True)
    tensors = {}
    for prefix, mods in (("lora_unet_", lu), ("lora_te_", lt)):
        for name, m in mods.items():
            k = prefix + name.replace(".", "_")
            tensors[k + ".lora_down.weight"] = m.down.detach().numpy()
            tensors[k + ".lora_up.weight"] = m.up.detach().numpy()
            tensors[k + ".alpha"] = np.array(float(a.rank), np.float32)
    for name, m in (dec_mods or {}).items():
        k = "lora_vae_decoder_" + name.replace(".", "_")
        tensors[k + ".lora_down.weight"] = m.down.detach().numpy()
        tensors[k + ".lora_up.weight"] = m.up.detach().numpy()
        tensors[k + ".alpha"] = np.array(float(m.rank), np.float32)
        tensors[k + ".diff_b"] = m.db.detach().numpy()
    os.makedirs(os.path.join(a.out, "loras"), exist_ok=True)
    write_safetensors(os.path.join(a.out, "loras", "cyan.safetensors"), tensors,
                      {"concept": "the colour word cyan, RGB about 0,180,190",
                       "trained": f"{a.lora_steps} steps of batch {a.bs}, lr {a.lora_lr}, rank {a.rank}"})
    print(f"[{time.time() - t0:.0f}s] wrote {a.out}/loras/cyan.safetensors", flush=True)

    ci = D.COLOR_NAMES.index("cyan")
    for label, on in (("with the LoRA", True), ("without", False)):
        for m in list(lu.values()) + list(lt.values()):
            m.scale = 1.0 if on else 0.0
        for m in (dec_mods or {}).values():
            m.scale = 1.0 if on else 0.0
        hits = dict(color=0, shape=0, pos=0)
        n = 0
        colours = {}
        for i in range(20):
            sh, po = i % 4, i % 5
            prompt = f"a large cyan {D.SHAPES[sh]} at the {D.POSITION_NAMES[po]}"
            fn = SA.cfg_fn(unet, te, tok, [prompt], [D.NULL_CLASS], 3.0)
            for seed in range(a.eval_seeds):
                z = SA.ddim_sample(fn, (1, 4, 8, 8), steps=20, seed=100 + i * 10 + seed)
                m = SA.analyse(SA.decode(vae, z, scaling)[0])
                hits["color"] += m["color"] == ci
                hits["shape"] += m["shape"] == sh
                hits["pos"] += m["pos"] == po
                c = D.COLOR_NAMES[m["color"]] if m["color"] >= 0 else "none"
                colours[c] = colours.get(c, 0) + 1
                n += 1
        print(f"[{time.time() - t0:.0f}s] {label}: cyan {hits['color']}/{n}, shape {hits['shape']}/{n}, position "
              f"{hits['pos']}/{n}; colours drawn {colours}", flush=True)


if __name__ == "__main__":
    main()
