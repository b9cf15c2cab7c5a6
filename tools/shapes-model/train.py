"""Train and export the Conditio "shapes" model family from a seed, on CPU.

    nice -n 15 /usr/bin/python3 tools/shapes-model/train.py --out models/shapes --work /tmp/shapes-work --seed 0

Stages (each saves checkpoints in --work and resumes where it stopped): data, tokenizer, vae, latents, decoder, unet
(text encoder + UNet jointly), controlnet, inpaint, export. --stages picks a subset (comma separated).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes_data as D  # noqa: E402
from clip_bpe import CLIPTokenizer, train_bpe  # noqa: E402
from models import VAE, TextEncoder, UNet, ControlNet, T2IAdapter, count  # noqa: E402

STAGES = ["data", "tokenizer", "vae", "latents", "decoder", "unet", "controlnet", "inpaint", "export"]
# what trains the sketch-following models against an existing export (--from): import, sketchdata, adapter,
# cnsketch, then export (which adds t2i-adapter/, unet-adapter/ and the retrained controlnet/)
SKETCH_STAGES = ["import", "sketchdata", "adapter", "cnsketch", "export"]

# noise schedule (must match scheduler/scheduler_config.json)
BETA_START, BETA_END, T_TRAIN = 0.0001, 0.02, 1000
VAE_CH = (16, 32, 64, 64)
UNET_CH = (32, 64)
UNET_LAYERS = 1
TEXT_DIM, TEXT_LAYERS = 64, 3
P_DROP_TEXT, P_DROP_CLASS, P_NO_SHAPE = 0.12, 0.25, 0.25


def alphas_cumprod():
    betas = torch.linspace(BETA_START, BETA_END, T_TRAIN, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, 0).float()


def log(work, msg):
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    with open(os.path.join(work, "train.log"), "a") as f:
        f.write(line + "\n")


class Ckpt:
    def __init__(self, work, name):
        self.path = os.path.join(work, f"{name}.pt")

    def load(self):
        return torch.load(self.path) if os.path.exists(self.path) else None

    def save(self, obj):
        torch.save(obj, self.path + ".tmp")
        os.replace(self.path + ".tmp", self.path)


class StageRun:
    """What the training stages share: resuming from the stage's checkpoint, a log line every 50 steps, and a
    checkpoint every 250 steps and after the last."""

    def __init__(self, a, name, total):
        self.work, self.name, self.total = a.work, name, total
        self.ck = Ckpt(a.work, name)
        self.t0 = time.time()

    def resume(self, opt, modules):
        """Loads the checkpoint, if any, into modules ({key: module}) and opt; returns (step, checkpoint or None)."""
        st = self.ck.load()
        if not st:
            return 0, None
        for key, m in modules.items():
            m.load_state_dict(st[key])
        opt.load_state_dict(st["opt"])
        return st["step"], st

    def start(self, message):
        log(self.work, message)
        self.t0 = time.time()

    def stepped(self, step, detail, state):
        """After step number `step`; detail() gives the log line's middle, state() the checkpoint's contents."""
        if step % 50 == 0:
            log(self.work, f"{self.name} {step} {detail()} {(time.time() - self.t0) / 50:.3f}s/it")
            self.t0 = time.time()
        if step % 250 == 0 or step == self.total:
            self.ck.save(state())


def lr_at(step, total, base, warm=100):
    if step < warm:
        return base * (step + 1) / warm
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm))))


def to_tensor_img(u8):  # [n,64,64,3] uint8 -> [n,3,64,64] in [-1,1]
    return torch.from_numpy(u8).permute(0, 3, 1, 2).float() / 127.5 - 1.0


# ----------------------------------------------------------------------------------------------------------- stages
def stage_data(a):
    p = os.path.join(a.work, "data.npz")
    if os.path.exists(p):
        return
    t0 = time.time()
    main = D.make_dataset(a.n_data, seed=a.seed * 1000 + 1)
    two = D.make_dataset(a.n_data // 3, seed=a.seed * 1000 + 2, two_shape_frac=0.75)
    np.savez(p, **{k: main[k] for k in main}, **{"two_" + k: two[k] for k in two})
    log(a.work, f"data: {a.n_data}+{a.n_data // 3} images in {time.time() - t0:.1f}s")


def load_data(a):
    z = np.load(os.path.join(a.work, "data.npz"))
    return {k: z[k] for k in z.files}


def stage_tokenizer(a):
    d = os.path.join(a.work, "tokenizer")
    if os.path.exists(os.path.join(d, "vocab.json")):
        return
    os.makedirs(d, exist_ok=True)
    vocab, merges = train_bpe(D.caption_words())
    tok = CLIPTokenizer(vocab, merges)
    tok.save(d, merges)
    log(a.work, f"tokenizer: vocab {len(vocab)} ({len(merges)} merges)")


def get_tok(a):
    return CLIPTokenizer.from_dir(os.path.join(a.work, "tokenizer"))


def gray_boxes(x, rng, p=0.25):
    """Occasionally paint 0-valued (mid-gray in [-1,1]) rectangles, as inpainting's masked images have."""
    x = x.clone()
    for i in range(x.shape[0]):
        if rng.random() < p:
            x0, y0 = rng.integers(0, 48, size=2)
            w, h = rng.integers(8, 65 - max(x0, y0), size=2)
            x[i, :, y0:y0 + h, x0:x0 + w] = 0.0
    return x


def stage_vae(a):
    run = StageRun(a, "vae", a.vae_steps)
    torch.manual_seed(a.seed)
    vae = VAE(VAE_CH)
    opt = torch.optim.AdamW(vae.parameters(), lr=a.vae_lr, weight_decay=0.0)
    step, _ = run.resume(opt, {"model": vae})
    if step >= a.vae_steps:
        return
    data = load_data(a)
    imgs = np.concatenate([data["images"], data["two_images"]])
    run.start(f"vae: {count(vae)} params, from step {step}/{a.vae_steps}")
    while step < a.vae_steps:
        rng = np.random.default_rng((a.seed, 11, step))
        idx = rng.integers(0, len(imgs), size=a.vae_bs)
        x = gray_boxes(to_tensor_img(imgs[idx]), rng)
        if rng.random() < 0.5:
            x = x.flip(-1)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.vae_steps, a.vae_lr)
        p = vae.encoder(x)
        mean, logvar = p.chunk(2, dim=1)
        logvar = logvar.clamp(-30, 20)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        y = vae.decoder(z)
        rec = (y - x).abs().mean() + ((y - x) ** 2).mean()
        kl = 0.5 * (mean ** 2 + logvar.exp() - 1 - logvar).mean()
        loss = rec + a.vae_kl * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run.stepped(step, lambda: f"loss {loss.item():.4f} psnr {psnr(y, x):.1f} kl {kl.item():.3f}",
                    lambda: dict(model=vae.state_dict(), opt=opt.state_dict(), step=step))


def psnr(y, x):
    """PSNR in dB of images in [-1, 1]."""
    mse = ((y - x) ** 2).mean().item() / 4
    return 10 * math.log10(1 / max(mse, 1e-10))


def load_vae(a):
    """The VAE, with the locality-tuned decoder of the decoder stage when it has run."""
    vae = VAE(VAE_CH)
    vae.load_state_dict(Ckpt(a.work, "vae").load()["model"])
    dec = Ckpt(a.work, "decoder").load()
    if dec is not None:
        vae.decoder.load_state_dict(dec["model"])
    return vae.eval()


def cell_masks(n, rng, cells=8):
    """Random [n,1,cells,cells] 0/1 masks on the latent grid: a quadrant, a half or a box of cells (1 = take A)."""
    out = np.zeros((n, 1, cells, cells), np.float32)
    for i in range(n):
        k = rng.random()
        h = cells // 2
        if k < 0.35:
            qy, qx = rng.integers(0, 2, size=2) * h
            out[i, 0, qy:qy + h, qx:qx + h] = 1
        elif k < 0.55:
            if rng.random() < 0.5:
                out[i, 0, rng.integers(0, 2) * h:][:h] = 1
            else:
                out[i, 0, :, rng.integers(0, 2) * h:][:, :h] = 1
        else:
            y0, x0 = rng.integers(0, cells - 1, size=2)
            y1, x1 = y0 + rng.integers(1, cells - y0 + 1), x0 + rng.integers(1, cells - x0 + 1)
            out[i, 0, y0:y1, x0:x1] = 1
        if rng.random() < 0.5:
            out[i] = 1 - out[i]
    return torch.from_numpy(out)


def stage_decoder(a):
    """Fine-tune the VAE decoder (encoder frozen, so the latent space and every model trained on it stay valid) to
    decode latents pasted together cell by cell into the same images pasted together pixel block by block. Without
    it, new content in some latent cells shifts the colours of the others (GroupNorm statistics and the mid-block
    attention are global), so inpainting could not keep the unmasked area even with its latents kept exactly."""
    run = StageRun(a, "decoder", a.dec_steps)
    vae = VAE(VAE_CH)
    vae.load_state_dict(Ckpt(a.work, "vae").load()["model"])
    dec = vae.decoder.train()
    opt = torch.optim.AdamW(dec.parameters(), lr=a.dec_lr, weight_decay=0.0)
    step, _ = run.resume(opt, {"model": dec})
    if step >= a.dec_steps:
        return
    lat = torch.load(os.path.join(a.work, "latents.pt"))
    data = load_data(a)
    par = torch.cat([lat["par"], lat["par2"]])
    imgs = np.concatenate([data["images"], data["two_images"]])
    run.start(f"decoder: {count(dec)} params, from step {step}/{a.dec_steps}")
    while step < a.dec_steps:
        rng = np.random.default_rng((a.seed, 51, step))
        ia = rng.integers(0, len(par), size=a.dec_bs)
        ib = rng.integers(0, len(par), size=a.dec_bs)
        gen = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
        za = sample_latents(par[ia], 1.0, gen)
        zb = sample_latents(par[ib], 1.0, gen)
        m = cell_masks(a.dec_bs, rng)
        m[torch.from_numpy(rng.random(a.dec_bs) < 0.3)] = 1.0  # plain reconstructions too
        z = m * za + (1 - m) * zb
        mp = F.interpolate(m, scale_factor=8, mode="nearest")
        x = mp * to_tensor_img(imgs[ia]) + (1 - mp) * to_tensor_img(imgs[ib])
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.dec_steps, a.dec_lr)
        y = dec(z)
        loss = (y - x).abs().mean() + ((y - x) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run.stepped(step, lambda: f"loss {loss.item():.4f} psnr {psnr(y, x):.1f}",
                    lambda: dict(model=dec.state_dict(), opt=opt.state_dict(), step=step))


@torch.no_grad()
def encode_all(vae, u8, bs=256):
    out = []
    for i in range(0, len(u8), bs):
        out.append(vae.encoder(to_tensor_img(u8[i:i + bs])))
    return torch.cat(out)


def stage_latents(a):
    p = os.path.join(a.work, "latents.pt")
    if os.path.exists(p):
        return
    t0 = time.time()
    vae = load_vae(a)
    data = load_data(a)
    par = encode_all(vae, data["images"])
    par2 = encode_all(vae, data["two_images"])
    mean, logvar = par.chunk(2, dim=1)
    g = torch.Generator().manual_seed(a.seed)
    z = mean + torch.exp(0.5 * logvar.clamp(-30, 20)) * torch.randn(mean.shape, generator=g)
    scaling = float(1.0 / z.std())
    # VAE quality on held-out renders
    ev = D.make_dataset(256, seed=a.seed * 1000 + 9, two_shape_frac=0.5)
    x = to_tensor_img(ev["images"])
    with torch.no_grad():
        y = vae.decoder(vae.encoder(x).chunk(2, dim=1)[0]).clamp(-1, 1)
    mse = (((y - x) / 2) ** 2).mean(dim=(1, 2, 3))
    psnr = (10 * torch.log10(1 / mse)).mean().item()
    torch.save(dict(par=par, par2=par2, scaling=scaling, psnr=psnr), p)
    log(a.work, f"latents: scaling_factor {scaling:.5f} (1/std), VAE recon PSNR {psnr:.2f} dB, {time.time() - t0:.1f}s")


def sample_latents(par, scaling, gen=None):
    mean, logvar = par.chunk(2, dim=1)
    return (mean + torch.exp(0.5 * logvar.clamp(-30, 20)) * torch.randn(mean.shape, generator=gen)) * scaling


def make_captions(tok, attrs, rng, p_drop=P_DROP_TEXT, p_no_shape=P_NO_SHAPE, p_no_pos=0.0):
    ids = []
    for at in attrs:
        c = "" if rng.random() < p_drop else D.caption(at, rng, p_no_shape=p_no_shape, p_no_pos=p_no_pos)
        ids.append(tok.encode(c))
    return torch.tensor(ids, dtype=torch.long)


def minsnr_weight(ac_t, gamma=5.0):
    snr = ac_t / (1 - ac_t)
    return torch.clamp(snr, max=gamma) / snr


def build_te_unet(a, vocab_size, in_ch=4):
    torch.manual_seed(a.seed + 1)
    te = TextEncoder(vocab_size, TEXT_DIM, TEXT_LAYERS)
    unet = UNet(in_ch=in_ch, ch=UNET_CH, layers=UNET_LAYERS, ctx=TEXT_DIM, n_class=D.NULL_CLASS + 1)
    return te, unet


def diffusion_step_loss(unet_fn, x0, rng, ac, cell_weight=None, t_cubic=0.0):
    """Min-SNR weighted epsilon loss; cell_weight(t) -> [n,1,h,w] optionally weights latent cells; t_cubic: the
    fraction of timesteps drawn as (1 - u^3) T instead of uniformly (0 draws nothing extra from rng)."""
    n = x0.shape[0]
    t = torch.from_numpy(rng.integers(0, T_TRAIN, size=n)).long()
    if t_cubic > 0:  # T2I-Adapter's non-uniform sampling: more early (noisy) steps, where the layout is decided
        u = rng.random(n)
        tc = np.clip(((1 - u ** 3) * T_TRAIN).astype(np.int64), 0, T_TRAIN - 1)
        t = torch.from_numpy(np.where(rng.random(n) < t_cubic, tc, t.numpy())).long()
    noise = torch.from_numpy(rng.standard_normal(x0.shape).astype(np.float32))
    a_t = ac[t][:, None, None, None]
    xt = a_t.sqrt() * x0 + (1 - a_t).sqrt() * noise
    pred = unet_fn(xt, t)
    w = minsnr_weight(ac[t])
    se = (pred - noise) ** 2
    if cell_weight is not None:
        se = se * cell_weight(t)
    return (se.mean(dim=(1, 2, 3)) * w).mean()


def stage_unet(a):
    run = StageRun(a, "unet", a.unet_steps)
    tok = get_tok(a)
    te, unet = build_te_unet(a, len(tok.encoder))
    params = list(te.parameters()) + list(unet.parameters())
    opt = torch.optim.AdamW(params, lr=a.unet_lr, weight_decay=0.01)
    ema_u = [p.detach().clone() for p in unet.parameters()]
    ema_t = [p.detach().clone() for p in te.parameters()]
    step, st = run.resume(opt, {"te": te, "unet": unet})
    if st:
        ema_u, ema_t = st["ema_u"], st["ema_t"]
    if step >= a.unet_steps:
        return
    lat = torch.load(os.path.join(a.work, "latents.pt"))
    data = load_data(a)
    par, attrs, scaling = lat["par"], data["attrs"], lat["scaling"]
    ac = alphas_cumprod()
    run.start(f"unet: unet {count(unet)} params, text encoder {count(te)} params, from step {step}/{a.unet_steps}")
    while step < a.unet_steps:
        rng = np.random.default_rng((a.seed, 21, step))
        idx = rng.integers(0, len(par), size=a.unet_bs)
        gen = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
        x0 = sample_latents(par[idx], scaling, gen)
        ids = make_captions(tok, attrs[idx], rng)
        p_cls = [float(v.split("@")[0]) for v in a.class_drop.split(",") if step >= int(v.split("@")[1])][-1]
        cls = torch.from_numpy(np.where(rng.random(len(idx)) < p_cls, D.NULL_CLASS, attrs[idx, 0])).long()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.unet_steps, a.unet_lr, warm=200)
        ctx, _ = te(ids[:, :unet.ctx_tokens])  # causal: the first tokens' states do not depend on later ones
        loss = diffusion_step_loss(lambda xt, t: unet(xt, t, ctx, cls), x0, rng, ac)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        d = min(a.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, p in zip(ema_u, unet.parameters()):
                e.mul_(d).add_(p.detach(), alpha=1 - d)
            for e, p in zip(ema_t, te.parameters()):
                e.mul_(d).add_(p.detach(), alpha=1 - d)
        run.stepped(step, lambda: f"loss {loss.item():.4f}",
                    lambda: dict(te=te.state_dict(), unet=unet.state_dict(), opt=opt.state_dict(), ema_u=ema_u,
                                 ema_t=ema_t, step=step))


def load_te_unet(a, ema=True):
    tok = get_tok(a)
    te, unet = build_te_unet(a, len(tok.encoder))
    st = Ckpt(a.work, "unet").load()
    te.load_state_dict(st["te"])
    unet.load_state_dict(st["unet"])
    if ema:
        with torch.no_grad():
            for e, p in zip(st["ema_u"], unet.parameters()):
                p.copy_(e)
            for e, p in zip(st["ema_t"], te.parameters()):
                p.copy_(e)
    return tok, te.eval(), unet.eval()


def control_images(data_masks, data_outl, idx, rng):
    """Half mask, half outline control images, [n,3,64,64] in [0,1]."""
    use_outline = rng.random(len(idx)) < 0.5
    m = np.where(use_outline[:, None, None], data_outl[idx], data_masks[idx]).astype(np.float32)
    return torch.from_numpy(m)[:, None].repeat(1, 3, 1, 1)


def stage_controlnet(a):
    run = StageRun(a, "controlnet", a.cn_steps)
    tok, te, unet = load_te_unet(a)
    for p in list(te.parameters()) + list(unet.parameters()):
        p.requires_grad_(False)
    torch.manual_seed(a.seed + 2)
    cn = ControlNet(unet, D.NULL_CLASS)
    opt = torch.optim.AdamW(cn.parameters(), lr=a.cn_lr, weight_decay=0.0)
    step, _ = run.resume(opt, {"model": cn})
    if step >= a.cn_steps:
        return
    lat = torch.load(os.path.join(a.work, "latents.pt"))
    data = load_data(a)
    par, attrs, scaling = lat["par"], data["attrs"], lat["scaling"]
    ac = alphas_cumprod()
    run.start(f"controlnet: {count(cn)} params, from step {step}/{a.cn_steps}")
    while step < a.cn_steps:
        rng = np.random.default_rng((a.seed, 31, step))
        idx = rng.integers(0, len(par), size=a.cn_bs)
        gen = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
        x0 = sample_latents(par[idx], scaling, gen)
        cond = control_images(data["masks"], data["outlines"], idx, rng)
        with torch.no_grad():
            # mostly without the position (and often without the shape): the control image has to carry them
            ids = make_captions(tok, attrs[idx], rng, p_drop=0.2, p_no_shape=0.3, p_no_pos=0.8)
            ctx, _ = te(ids[:, :unet.ctx_tokens])
        cls = torch.full((len(idx),), D.NULL_CLASS, dtype=torch.long)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.cn_steps, a.cn_lr)

        def fn(xt, t):
            dr, mr = cn(xt, t, ctx, cond, 1.0)
            return unet(xt, t, ctx, cls, dr, mr)

        loss = diffusion_step_loss(fn, x0, rng, ac)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run.stepped(step, lambda: f"loss {loss.item():.4f}",
                    lambda: dict(model=cn.state_dict(), opt=opt.state_dict(), step=step))


def load_controlnet(a, unet):
    """The ControlNet: the one retrained on sketches (cnsketch) when it exists, else the controlnet stage's."""
    cn = ControlNet(unet, D.NULL_CLASS)
    name = "controlnet-sketch" if os.path.exists(os.path.join(a.work, "controlnet-sketch.pt")) else "controlnet"
    cn.load_state_dict(Ckpt(a.work, name).load()["model"])
    return cn.eval()


# ------------------------------------------------------------------------------- sketch-following models (T2I-Adapter)
def stage_import(a):
    """Rebuild the base checkpoints (tokenizer, VAE with its tuned decoder, text encoder + UNet, ControlNet) from the
    ONNX files of an existing export (--from), so that the sketch stages train against exactly the shipped weights
    without rerunning the base stages. The shipped UNet's weights stay as they are (the export is re-created bit
    for bit, which the export stage's ORT check confirms)."""
    import onnx_import as OI
    import export as E
    if os.path.exists(os.path.join(a.work, "imported.json")):
        return
    src = a.from_export
    td = os.path.join(a.work, "tokenizer")
    os.makedirs(td, exist_ok=True)
    import shutil
    for f in ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copyfile(os.path.join(src, "tokenizer", f), os.path.join(td, f))
    tok = get_tok(a)
    te, unet = build_te_unet(a, len(tok.encoder))
    ids = torch.tensor([tok.encode(""), tok.encode("a red circle at the top left")])
    OI.load_into(te, E.TEWrap(te), (ids,), ["input_ids"], os.path.join(src, "text_encoder", "model.onnx"),
                 {"input_ids": {0: "batch", 1: "sequence"}})
    with torch.no_grad():
        ctx, _ = te(ids)
    x, t, cl = torch.randn(2, 4, 8, 8), torch.tensor(500, dtype=torch.long), torch.tensor([D.NULL_CLASS, 0])
    udyn = {"sample": {0: "batch", 2: "height", 3: "width"}, "encoder_hidden_states": {0: "batch", 1: "sequence"},
            "class_labels": {0: "batch"}}
    uin = ["sample", "timestep", "encoder_hidden_states", "class_labels"]
    OI.load_into(unet, E.UNetWrap(unet), (x, t, ctx, cl), uin, os.path.join(src, "unet", "model.onnx"), udyn)
    vae = VAE(VAE_CH)
    OI.load_into(vae.encoder, nn_seq(vae.encoder), (torch.rand(1, 3, 64, 64) * 2 - 1,), ["sample"],
                 os.path.join(src, "vae_encoder", "model.onnx"), {"sample": {0: "batch", 2: "height", 3: "width"}})
    OI.load_into(vae.decoder, nn_seq(vae.decoder), (torch.randn(1, 4, 8, 8),), ["latent_sample"],
                 os.path.join(src, "vae_decoder", "model.onnx"),
                 {"latent_sample": {0: "batch", 2: "height", 3: "width"}})
    opt = torch.optim.AdamW(list(te.parameters()) + list(unet.parameters()))
    ema_u = [p.detach().clone() for p in unet.parameters()]
    ema_t = [p.detach().clone() for p in te.parameters()]
    Ckpt(a.work, "unet").save(dict(te=te.state_dict(), unet=unet.state_dict(), opt=opt.state_dict(), ema_u=ema_u,
                                   ema_t=ema_t, step=a.unet_steps))
    Ckpt(a.work, "vae").save(dict(model=vae.state_dict(), opt=torch.optim.AdamW(vae.parameters()).state_dict(),
                                  step=a.vae_steps))
    cn_path = os.path.join(src, "controlnet", "model.onnx")
    if os.path.exists(cn_path):
        cn = ControlNet(unet, D.NULL_CLASS)
        # the null class row of class_emb is folded into a constant by the export; it is the UNet's own row
        OI.load_into(cn, E.CNWrap(cn), (x, t, ctx, torch.rand(2, 3, 64, 64), torch.tensor(1.0)),
                     ["sample", "timestep", "encoder_hidden_states", "controlnet_cond", "conditioning_scale"], cn_path,
                     {"sample": {0: "batch", 2: "height", 3: "width"},
                      "encoder_hidden_states": {0: "batch", 1: "sequence"},
                      "controlnet_cond": {0: "batch", 2: "cond_height", 3: "cond_width"}},
                     allow_missing={"class_emb.weight"})
        with torch.no_grad():
            cn.class_emb.weight.copy_(unet.class_emb.weight)
        Ckpt(a.work, "controlnet-shipped").save(dict(model=cn.state_dict()))
    ad_path = os.path.join(src, "t2i-adapter", "model.onnx")
    if os.path.exists(ad_path):
        ad = T2IAdapter(in_ch=1, channels=UNET_CH, res_blocks=2, down=(True, False))
        img = torch.zeros(1, 1, 64, 64)
        img[:, :, 20:44, 20:22] = 1.0
        OI.load_into(ad, E.AdapterWrap(ad), (img,), ["image"], ad_path,
                     {"image": {0: "batch", 2: "height", 3: "width"}})
        Ckpt(a.work, "adapter-shipped").save(dict(model=ad.state_dict()))
    scaling = json.load(open(os.path.join(src, "vae_decoder", "config.json")))["scaling_factor"]
    with open(os.path.join(a.work, "imported.json"), "w") as f:
        json.dump(dict(source=os.path.abspath(src), scaling=scaling), f)
    log(a.work, f"import: tokenizer, text encoder, unet, vae, controlnet, t2i-adapter from {src} "
                f"(scaling_factor {scaling})")


def nn_seq(m):
    return torch.nn.Sequential(m)


def scaling_of(a):
    p = os.path.join(a.work, "latents.pt")
    if os.path.exists(p):
        return torch.load(p)["scaling"]
    return json.load(open(os.path.join(a.work, "imported.json")))["scaling"]


def stage_sketchdata(a):
    """Single shapes at continuous positions and sizes (shapes_data.make_sketch_dataset), their VAE latents."""
    p = os.path.join(a.work, "sketch.npz")
    if os.path.exists(p):
        return
    t0 = time.time()
    d = D.make_sketch_dataset(a.n_sketch, seed=a.seed * 1000 + 5)
    vae = load_vae(a)
    par = encode_all(vae, d["images"])
    torch.save(dict(par=par), os.path.join(a.work, "sketch-latents.pt"))
    np.savez(p, **d)
    log(a.work, f"sketchdata: {a.n_sketch} images at continuous positions/sizes in {time.time() - t0:.1f}s")


def load_sketch(a):
    z = np.load(os.path.join(a.work, "sketch.npz"))
    d = {k: z[k] for k in z.files}
    d["par"] = torch.load(os.path.join(a.work, "sketch-latents.pt"))["par"]
    return d


def sketch_eval_set(a, n=32):
    """Held-out sketches (another seed: positions and sizes the training set does not contain)."""
    return D.make_sketch_dataset(n, seed=a.seed * 1000 + 99)


@torch.no_grad()
def sketch_iou(a, tok, te, unet, vae, residual_kind, model, n=32, steps=20, g=3.0):
    """Mean IoU of the drawn shape (foreground) with the sketched one, on held-out sketches, guidance g."""
    import sample as SA
    ev = sketch_eval_set(a, n)
    outl = torch.from_numpy(ev["outlines"].astype(np.float32))[:, None]
    prompts = [f"a {D.COLOR_NAMES[at[1]]} {D.SHAPES[at[0]]}" for at in ev["attrs"]]
    ids = torch.tensor([tok.encode("")] * n + [tok.encode(p_) for p_ in prompts])
    ctx, _ = te(ids)
    cls = torch.full((2 * n,), D.NULL_CLASS, dtype=torch.long)
    if residual_kind == "adapter":
        feats = [torch.cat([f, f]) for f in model(outl)]
    cond = torch.cat([outl, outl]).repeat(1, 3, 1, 1)

    def fn(x, t):
        xi = torch.cat([x, x])
        tt = torch.full((2 * n,), t, dtype=torch.long)
        if residual_kind == "adapter":
            out = unet(xi, tt, ctx, cls, intra_res=feats)
        else:
            dr, mr = model(xi, tt, ctx, cond, 1.0)
            out = unet(xi, tt, ctx, cls, dr, mr)
        u, c = out.chunk(2)
        return u + g * (c - u)

    imgs = SA.decode(vae, SA.ddim_sample(fn, (n, 4, 8, 8), steps, 1234), scaling_of(a))
    ious = []
    for im, mk in zip(imgs, ev["masks"]):
        fg = SA.foreground(im)
        ious.append((fg & (mk > 0)).sum() / max(1, (fg | (mk > 0)).sum()))
    return float(np.mean(ious)), imgs, ev


def sketch_batch(a, sk, tok, te, unet, rng, bs, masks_too):
    idx = rng.integers(0, len(sk["par"]), size=bs)
    gen = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
    x0 = sample_latents(sk["par"][idx], scaling_of(a), gen)
    if masks_too:
        use_outline = rng.random(bs) < 0.5
        m = np.where(use_outline[:, None, None], sk["outlines"][idx], sk["masks"][idx])
    else:
        m = sk["outlines"][idx]
    cond = torch.from_numpy(m.astype(np.float32))[:, None]
    with torch.no_grad():
        # the position is never named (it is not one of the five); the shape word often left out
        ids = make_captions(tok, sk["attrs"][idx], rng, p_drop=0.2, p_no_shape=0.3, p_no_pos=1.0)
        ctx, _ = te(ids[:, :unet.ctx_tokens])
    return x0, cond, ctx


def stage_adapter(a):
    """T2I-Adapter (models.T2IAdapter, 1-channel sketch in) against the frozen UNet, on 2-px outlines of shapes at
    continuous positions and sizes; half the timesteps drawn cubically (more noisy steps, as the T2I-Adapter paper)."""
    run = StageRun(a, "adapter", a.ad_steps)
    tok, te, unet = load_te_unet(a)
    for p in list(te.parameters()) + list(unet.parameters()):
        p.requires_grad_(False)
    torch.manual_seed(a.seed + 5)
    ad = T2IAdapter(in_ch=1, channels=UNET_CH, res_blocks=2, down=(True, False))
    opt = torch.optim.AdamW(ad.parameters(), lr=a.ad_lr, weight_decay=0.0)
    step, _ = run.resume(opt, {"model": ad})
    if step >= a.ad_steps:
        return
    if step == 0 and a.ad_init == "shipped":
        # continue from the imported shipped adapter (stage import), with a fresh schedule of --ad-steps
        ad.load_state_dict(Ckpt(a.work, "adapter-shipped").load()["model"])
    sk = load_sketch(a)
    vae = load_vae(a) if a.eval_every else None
    ac = alphas_cumprod()
    cls = torch.full((a.ad_bs,), D.NULL_CLASS, dtype=torch.long)
    if step == 0 and a.ad_init == "shipped" and a.eval_every:
        iou, _, _ = sketch_iou(a, tok, te, unet, vae, "adapter", ad.eval())
        ad.train()
        log(a.work, f"adapter (shipped, before training) held-out sketch IoU {iou:.3f}")
    run.start(f"adapter: {count(ad)} params, from step {step}/{a.ad_steps}")
    while step < a.ad_steps:
        rng = np.random.default_rng((a.seed, 61, step))
        x0, cond, ctx = sketch_batch(a, sk, tok, te, unet, rng, a.ad_bs, masks_too=False)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.ad_steps, a.ad_lr)
        feats = ad(cond)
        loss = diffusion_step_loss(lambda xt, t: unet(xt, t, ctx, cls, intra_res=feats), x0, rng, ac, t_cubic=0.5)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run.stepped(step, lambda: f"loss {loss.item():.4f}",
                    lambda: dict(model=ad.state_dict(), opt=opt.state_dict(), step=step))
        if a.eval_every and (step % a.eval_every == 0 or step == a.ad_steps):
            iou, _, _ = sketch_iou(a, tok, te, unet, vae, "adapter", ad.eval())
            ad.train()
            log(a.work, f"adapter {step} held-out sketch IoU {iou:.3f}")


def load_adapter(a):
    ad = T2IAdapter(in_ch=1, channels=UNET_CH, res_blocks=2, down=(True, False))
    ad.load_state_dict(Ckpt(a.work, "adapter").load()["model"])
    return ad.eval()


def stage_cnsketch(a):
    """The ControlNet retrained on continuous positions and sizes (half masks, half 2-px outlines), starting from
    the imported (or trained) ControlNet; base frozen."""
    run = StageRun(a, "controlnet-sketch", a.cns_steps)
    tok, te, unet = load_te_unet(a)
    for p in list(te.parameters()) + list(unet.parameters()):
        p.requires_grad_(False)
    torch.manual_seed(a.seed + 6)
    cn = ControlNet(unet, D.NULL_CLASS)
    init = "controlnet-shipped" if os.path.exists(os.path.join(a.work, "controlnet-shipped.pt")) else "controlnet"
    if os.path.exists(os.path.join(a.work, init + ".pt")):
        cn.load_state_dict(Ckpt(a.work, init).load()["model"])
    opt = torch.optim.AdamW(cn.parameters(), lr=a.cns_lr, weight_decay=0.0)
    step, _ = run.resume(opt, {"model": cn})
    if step >= a.cns_steps:
        return
    sk = load_sketch(a)
    vae = load_vae(a) if a.eval_every else None
    ac = alphas_cumprod()
    cls = torch.full((a.cns_bs,), D.NULL_CLASS, dtype=torch.long)
    run.start(f"controlnet-sketch: {count(cn)} params, from {init}, step {step}/{a.cns_steps}")
    while step < a.cns_steps:
        rng = np.random.default_rng((a.seed, 71, step))
        x0, cond, ctx = sketch_batch(a, sk, tok, te, unet, rng, a.cns_bs, masks_too=True)
        cond = cond.repeat(1, 3, 1, 1)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.cns_steps, a.cns_lr)

        def fn(xt, t):
            dr, mr = cn(xt, t, ctx, cond, 1.0)
            return unet(xt, t, ctx, cls, dr, mr)

        loss = diffusion_step_loss(fn, x0, rng, ac, t_cubic=0.5)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        run.stepped(step, lambda: f"loss {loss.item():.4f}",
                    lambda: dict(model=cn.state_dict(), opt=opt.state_dict(), step=step))
        if a.eval_every and (step % a.eval_every == 0 or step == a.cns_steps):
            iou, _, _ = sketch_iou(a, tok, te, unet, vae, "controlnet", cn.eval())
            cn.train()
            log(a.work, f"controlnet-sketch {step} held-out sketch IoU {iou:.3f}")


def inpaint_masks(data_masks, idx, rng):
    """Pixel masks [n,1,64,64] (1 = repaint) covering the captioned shape: its quadrant/half, a dilated box, or a
    random rectangle around it; 10% whole image."""
    n = len(idx)
    out = np.zeros((n, 1, 64, 64), np.float32)
    for i, j in enumerate(idx):
        m = data_masks[j]
        ys, xs = np.nonzero(m)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        k = rng.random()
        if k < 0.1:
            out[i] = 1
        elif k < 0.45:  # 8-aligned box around the shape, dilated
            pad = rng.integers(0, 9, size=4)
            by0, bx0 = max(0, (y0 - pad[0]) // 8 * 8), max(0, (x0 - pad[1]) // 8 * 8)
            by1, bx1 = min(64, -(-(y1 + pad[2]) // 8) * 8), min(64, -(-(x1 + pad[3]) // 8) * 8)
            out[i, 0, by0:by1, bx0:bx1] = 1
        elif k < 0.8:  # quadrant or half containing the centroid
            cy, cx = ys.mean(), xs.mean()
            if rng.random() < 0.6:
                qy, qx = int(cy >= 32) * 32, int(cx >= 32) * 32
                out[i, 0, qy:qy + 32, qx:qx + 32] = 1
            else:
                if rng.random() < 0.5:
                    out[i, 0, int(cy >= 32) * 32:int(cy >= 32) * 32 + 32, :] = 1
                else:
                    out[i, 0, :, int(cx >= 32) * 32:int(cx >= 32) * 32 + 32] = 1
            out[i, 0, y0:y1, x0:x1] = 1
        else:  # arbitrary rectangle around the shape
            pad = rng.integers(1, 12, size=4)
            out[i, 0, max(0, y0 - pad[0]):y1 + pad[2], max(0, x0 - pad[1]):x1 + pad[3]] = 1
    return torch.from_numpy(out)


def inpaint_inputs(vae, img_m11, mask_px, scaling, gen):
    """diffusers: masked_image = image * (mask < 0.5); its latent (sampled) * scaling; mask resized (nearest) to 8x8."""
    masked = img_m11 * (mask_px < 0.5)
    with torch.no_grad():
        par = vae.encoder(masked)
    ml = sample_latents(par, scaling, gen)
    m8 = F.interpolate((mask_px >= 0.5).float(), size=(8, 8))
    return m8, ml


def stage_inpaint(a):
    run = StageRun(a, "inpaint", a.inp_steps)
    tok, te, base = load_te_unet(a)
    vae = load_vae(a)
    torch.manual_seed(a.seed + 3)
    unet = UNet(in_ch=9, ch=UNET_CH, layers=UNET_LAYERS, ctx=TEXT_DIM, n_class=D.NULL_CLASS + 1)
    sd = base.state_dict()
    w = sd["conv_in.weight"]
    sd["conv_in.weight"] = torch.cat([w, torch.zeros(w.shape[0], 5, *w.shape[2:])], dim=1)
    unet.load_state_dict(sd)
    for p in te.parameters():
        p.requires_grad_(False)
    # conv_in (whose 5 new input channels start at zero) learns faster than the rest
    conv_in = list(unet.conv_in.parameters())
    rest = [p for n_, p in unet.named_parameters() if not n_.startswith("conv_in.")]
    opt = torch.optim.AdamW([dict(params=rest, lr_mult=1.0), dict(params=conv_in, lr_mult=a.inp_conv_in_lr_mult)],
                            lr=a.inp_lr, weight_decay=0.01)
    step, _ = run.resume(opt, {"model": unet})
    if step >= a.inp_steps:
        return
    lat = torch.load(os.path.join(a.work, "latents.pt"))
    data = load_data(a)
    par = torch.cat([lat["par"], lat["par2"]])
    imgs = np.concatenate([data["images"], data["two_images"]])
    masks = np.concatenate([data["masks"], data["two_masks"]])
    attrs = np.concatenate([data["attrs"], data["two_attrs"]])
    scaling = lat["scaling"]
    ac = alphas_cumprod()
    run.start(f"inpaint: {count(unet)} params, from step {step}/{a.inp_steps}")
    n1 = len(lat["par"])
    while step < a.inp_steps:
        rng = np.random.default_rng((a.seed, 41, step))
        # 60% two-shape images (something outside the mask to keep)
        idx = np.where(rng.random(a.inp_bs) < 0.6, rng.integers(n1, len(par), size=a.inp_bs),
                       rng.integers(0, n1, size=a.inp_bs))
        gen = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
        x0 = sample_latents(par[idx], scaling, gen)
        mpx = inpaint_masks(masks, idx, rng)
        m8, ml = inpaint_inputs(vae, to_tensor_img(imgs[idx]), mpx, scaling, gen)
        with torch.no_grad():
            ids = make_captions(tok, attrs[idx], rng, p_drop=0.1, p_no_shape=0.2)
            ctx, _ = te(ids[:, :unet.ctx_tokens])
        cls = torch.from_numpy(np.where(rng.random(len(idx)) < P_DROP_CLASS, D.NULL_CLASS, attrs[idx, 0])).long()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a.inp_steps, a.inp_lr) * g["lr_mult"]
        # Cells to keep weigh more, and at high noise levels much more: there an epsilon error e is an error
        # e/sqrt(snr) in the predicted clean latents, and the sampler's early steps fix the layout from those.
        # With plain epsilon weighting the model learns to copy the masked-image latents only at low noise, and the
        # early steps have already drawn something else there.
        def cell_weight(t):
            snr = ac[t] / (1 - ac[t])
            boost = torch.clamp(1 / snr, 1.0, a.inp_keep_x0_max)[:, None, None, None]
            return 1.0 + (1.0 - m8) * (a.inp_keep_weight * boost - 1.0)

        loss = diffusion_step_loss(lambda xt, t: unet(torch.cat([xt, m8, ml], 1), t, ctx, cls), x0, rng, ac,
                                   cell_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        step += 1
        run.stepped(step, lambda: f"loss {loss.item():.4f}",
                    lambda: dict(model=unet.state_dict(), opt=opt.state_dict(), step=step))


def load_inpaint(a):
    unet = UNet(in_ch=9, ch=UNET_CH, layers=UNET_LAYERS, ctx=TEXT_DIM, n_class=D.NULL_CLASS + 1)
    unet.load_state_dict(Ckpt(a.work, "inpaint").load()["model"])
    return unet.eval()


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/shapes")
    ap.add_argument("--work", default="/tmp/shapes-work")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-data", type=int, default=18000)
    ap.add_argument("--vae-steps", type=int, default=2000)
    ap.add_argument("--vae-bs", type=int, default=32)
    ap.add_argument("--vae-lr", type=float, default=1e-3)
    ap.add_argument("--vae-kl", type=float, default=1e-4)
    ap.add_argument("--dec-steps", type=int, default=3000)
    ap.add_argument("--dec-bs", type=int, default=32)
    ap.add_argument("--dec-lr", type=float, default=3e-4)
    ap.add_argument("--unet-steps", type=int, default=4500)
    ap.add_argument("--unet-bs", type=int, default=64)
    ap.add_argument("--unet-lr", type=float, default=6e-4)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--class-drop", default="0.25@0,0.6@2250",
                    help="class-label dropout schedule for the unet stage, p@from_step,... (the shipped model: 0.25, "
                         "then 0.6 from step 2250 so that the prompt's shape word is learned, not only the label)")
    ap.add_argument("--cn-steps", type=int, default=2500)
    ap.add_argument("--cn-bs", type=int, default=64)
    ap.add_argument("--cn-lr", type=float, default=1e-3)
    ap.add_argument("--inp-steps", type=int, default=2500)
    ap.add_argument("--inp-bs", type=int, default=64)
    ap.add_argument("--inp-lr", type=float, default=5e-4)
    ap.add_argument("--inp-conv-in-lr-mult", type=float, default=5.0)
    ap.add_argument("--inp-keep-weight", type=float, default=2.0)
    ap.add_argument("--inp-keep-x0-max", type=float, default=20.0,
                    help="cap of the 1/snr boost of the loss on cells to keep (see stage_inpaint)")
    ap.add_argument("--from", dest="from_export", default="models/shapes",
                    help="the import stage's source: an exported shapes folder")
    ap.add_argument("--n-sketch", type=int, default=18000)
    ap.add_argument("--ad-steps", type=int, default=3000)
    ap.add_argument("--ad-bs", type=int, default=64)
    ap.add_argument("--ad-lr", type=float, default=1e-3)
    ap.add_argument("--ad-init", choices=["fresh", "shipped"], default="fresh",
                    help="adapter stage: start from fresh weights, or from the --from export's t2i-adapter/ "
                         "(imported by the import stage) to train it further")
    ap.add_argument("--cns-steps", type=int, default=2000)
    ap.add_argument("--cns-bs", type=int, default=64)
    ap.add_argument("--cns-lr", type=float, default=5e-4)
    ap.add_argument("--eval-every", type=int, default=250,
                    help="held-out sketch IoU every this many steps of the adapter/cnsketch stages (0: never)")
    return ap.parse_args(argv)


def main():
    a = parse()
    torch.set_num_threads(a.threads)
    os.makedirs(a.work, exist_ok=True)
    fns = dict(data=stage_data, tokenizer=stage_tokenizer, vae=stage_vae, latents=stage_latents,
               decoder=stage_decoder, unet=stage_unet, controlnet=stage_controlnet, inpaint=stage_inpaint,
               sketchdata=stage_sketchdata, adapter=stage_adapter, cnsketch=stage_cnsketch)
    fns["import"] = stage_import
    for s in a.stages.split(","):
        t0 = time.time()
        if s == "export":
            import export
            export.export_all(a)
        else:
            fns[s](a)
        log(a.work, f"stage {s} done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
