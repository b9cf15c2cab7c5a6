"""Python reference sampler + quality check for the shapes family (torch checkpoints from the work folder).

    nice -n 15 /usr/bin/python3 tools/shapes-model/sample.py --work /tmp/shapes-work --sheet /tmp/shapes-sheet.png

CFG with batch [uncond, cond] (uncond = "" prompt and the null class 4) and a DDIM sampler equal to diffusers'
DDIMScheduler(beta_schedule="linear", 0.0001..0.02, steps_offset=1, set_alpha_to_one=False, "leading" spacing).
Prints colour / position / shape accuracy over prompts covering every colour, shape and position, class-label-only
shape accuracy, ControlNet mask IoU and inpainting PSNR-outside-mask / colour-inside-mask, and writes contact sheets.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes_data as D  # noqa: E402
import train as TR  # noqa: E402

SHAPE_BOX = {"circle": (-1, 1, -1, 1), "square": (-0.86, 0.86, -0.86, 0.86), "triangle": (-1.1, 1.1, -1.05, 0.85),
             "cross": (-1, 1, -1, 1)}
PALETTE = np.array([D.COLORS[c] for c in D.COLOR_NAMES], np.float32)


# ------------------------------------------------------------------------------------------------------------ DDIM
def ddim_timesteps(n, offset=1):
    ratio = TR.T_TRAIN // n
    return (np.arange(0, n) * ratio).round()[::-1].astype(np.int64) + offset, ratio


@torch.no_grad()
def ddim_sample(eps_fn, shape, steps=30, seed=0, blend=None):
    """blend = (keep [n,1,h,w], init latents): the runtime's mask_blend, the init latents noised with the initial
    noise to the next timestep put back where keep is 1 after every step (the init latents after the last)."""
    ac = TR.alphas_cumprod()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g)
    noise0 = x.clone()
    ts, ratio = ddim_timesteps(steps)
    for i, t in enumerate(ts):
        eps = eps_fn(x, int(t))
        a = ac[t]
        prev = t - ratio
        ap = ac[prev] if prev >= 0 else ac[0]
        x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
        x = ap.sqrt() * x0 + (1 - ap).sqrt() * eps
        if blend is not None:
            keep, z = blend
            if i < len(ts) - 1:
                an = ac[ts[i + 1]]
                z = an.sqrt() * z + (1 - an).sqrt() * noise0
            x = keep * z + (1 - keep) * x
    return x


def cfg_fn(unet, te, tok, prompts, classes, g, extra=None, residual_fn=None):
    """eps function with classifier-free guidance: batch [uncond..., cond...]."""
    n = len(prompts)
    ids = torch.tensor([tok.encode("")] * n + [tok.encode(p) for p in prompts])
    ctx, _ = te(ids)
    cls = torch.tensor([D.NULL_CLASS] * n + list(classes)).long()

    def fn(x, t):
        xi = torch.cat([x, x])
        if extra is not None:
            xi = torch.cat([xi, torch.cat([extra, extra])], 1)
        tt = torch.full((2 * n,), t, dtype=torch.long)
        if residual_fn is not None:
            dr, mr = residual_fn(torch.cat([x, x]), tt, ctx)
            out = unet(xi, tt, ctx, cls, dr, mr)
        else:
            out = unet(xi, tt, ctx, cls)
        u, c = out.chunk(2)
        return u + g * (c - u)
    return fn


@torch.no_grad()
def decode(vae, z, scaling):
    y = vae.decoder(z / scaling)
    return ((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


# -------------------------------------------------------------------------------------------------------- analysis
def foreground(img, thr=60):
    im = img.astype(np.float32)
    border = np.concatenate([im[0], im[-1], im[:, 0], im[:, -1]])
    bg = np.median(border, axis=0)
    diff = np.abs(im - bg).max(-1)
    return diff > thr


def fit_shape(fg):
    ys, xs = np.nonzero(fg)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1.0, ys.min(), ys.max() + 1.0
    best, bi = -1, None
    for si, s in enumerate(D.SHAPES):
        bx0, bx1, by0, by1 = SHAPE_BOX[s]
        r = ((x1 - x0) / (bx1 - bx0) + (y1 - y0) / (by1 - by0)) / 2
        cx = (x0 + x1) / 2 - r * (bx0 + bx1) / 2
        cy = (y0 + y1) / 2 - r * (by0 + by1) / 2
        t = D.alpha_for(s, cx, cy, r) > 0.5
        iou = (t & fg).sum() / max(1, (t | fg).sum())
        if iou > best:
            best, bi = iou, si
    return bi, best


def analyse(img, region=None):
    """-> dict(color, pos, shape, fg) (indices into D.*_NAMES; -1 when nothing is drawn)."""
    fg = foreground(img)
    if region is not None:
        fg &= region
    if fg.sum() < 8:
        return dict(color=-1, pos=-1, shape=-1, fg=fg)
    col = np.median(img[fg].astype(np.float32), axis=0)
    ci = int(np.argmin(((PALETTE - col) ** 2).sum(-1)))
    ys, xs = np.nonzero(fg)
    c = np.array([xs.mean() + 0.5, ys.mean() + 0.5])
    cents = np.array([D.POSITIONS[p] for p in D.POSITION_NAMES])
    pi = int(np.argmin(((cents - c) ** 2).sum(-1)))
    si, _ = fit_shape(fg)
    return dict(color=ci, pos=pi, shape=si, fg=fg)


def _hue(r, g, b):
    mx, mn = max(r, g, b), min(r, g, b)
    d = mx - mn
    if d == 0:
        return 0.0
    if mx == r:
        h = ((g - b) / d) % 6
    elif mx == g:
        h = (b - r) / d + 2
    else:
        h = (r - g) / d + 4
    h *= 60
    return h + 360 if h < 0 else h


def measure_java(img):
    """The integration test's measurement (ShapeImages.measure): median background, |diff| > 0.25, nearest hue of the
    mean foreground colour, nearest anchor, shape from bounding-box fill ratio and the centroid's vertical offset."""
    p = img.astype(np.float32) / 255
    bg = np.array([np.sort(p[..., c].ravel())[p.shape[0] * p.shape[1] // 2] for c in range(3)])
    fg = np.abs(p - bg).max(-1) > 0.25
    if fg.sum() < 8:
        return dict(color=-1, pos=-1, shape=-1, fg=fg)
    r, g, b = p[fg].mean(0)
    h = _hue(r, g, b)
    hd = [min(abs(h - _hue(*(np.array(D.COLORS[c]) / 255))), 360 - abs(h - _hue(*(np.array(D.COLORS[c]) / 255))))
          for c in D.COLOR_NAMES]
    ys, xs = np.nonzero(fg)
    cx, cy = xs.mean() + 0.5, ys.mean() + 0.5
    cents = np.array([D.POSITIONS[q] for q in D.POSITION_NAMES])
    pi = int(np.argmin(np.hypot(cents[:, 0] - cx, cents[:, 1] - cy)))
    w, hh = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    fill = fg.sum() / (w * hh)
    low = (cy - (ys.min() + hh / 2)) / hh
    si = 2 if low > 0.06 else 1 if fill > 0.9 else 0 if fill > 0.69 else 3
    return dict(color=int(np.argmin(hd)), pos=pi, shape=si, fg=fg)


def draw_test(shape, color, pos, r=12.0):
    """ShapeImages.draw: the shape on a 238-grey background, uint8."""
    a = D.alpha_for(shape, *D.POSITIONS[pos], r)[..., None]
    return np.round(238 * (1 - a) + np.array(D.COLORS[color], np.float32) * a).astype(np.uint8)


def eval_cases(n=60):
    """Every (shape, colour, position) value appears: i -> (i%4, i%6, i%5, (i//5)%2); 60 = lcm(4,6,5)."""
    return [(i % 4, i % 6, i % 5, (i // 5) % 2) for i in range(n)]


def canonical(sh, co, po, si, shape_word=True):
    pos = D.POSITION_NAMES[po]
    pp = f"in the {pos}" if pos == "center" else f"at the {pos}"
    noun = D.SHAPES[sh] if shape_word else "shape"
    return f"a {D.SIZE_NAMES[si]} {D.COLOR_NAMES[co]} {noun} {pp}"


def sheet(imgs, path, cols=10, scale=3):
    rows = []
    for r in range(0, len(imgs), cols):
        row = list(imgs[r:r + cols])
        row += [np.zeros_like(imgs[0])] * (cols - len(row))
        rows.append(np.concatenate([np.pad(i, ((1, 1), (1, 1), (0, 0))) for i in row], 1))
    im = Image.fromarray(np.concatenate(rows, 0))
    im.resize((im.width * scale, im.height * scale), Image.NEAREST).save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/shapes-work")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=7.5)
    ap.add_argument("--sheet", default="/tmp/shapes-sheet.png")
    ap.add_argument("--parts", default="text,class,controlnet,inpaint,itest")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    a = TR.parse(["--work", args.work, "--seed", str(args.seed)])
    tok, te, unet = TR.load_te_unet(a)
    vae = TR.load_vae(a)
    scaling = torch.load(os.path.join(a.work, "latents.pt"))["scaling"]
    cases = eval_cases(args.n)
    res = {}
    base = os.path.splitext(args.sheet)[0]
    parts = args.parts.split(",")

    def score(imgs, want, key):
        got = [analyse(im) for im in imgs]
        acc = {k: float(np.mean([g[k] == w[i] for g, w in zip(got, want)])) for i, k in [(0, "shape"), (1, "color"), (2, "pos")]}
        res[key] = acc
        print(key, json.dumps(acc), flush=True)
        return got

    if "text" in parts:
        prompts = [canonical(*c) for c in cases]
        fn = cfg_fn(unet, te, tok, prompts, [D.NULL_CLASS] * len(cases), args.guidance)
        imgs = decode(vae, ddim_sample(fn, (len(cases), 4, 8, 8), args.steps, args.seed), scaling)
        score(imgs, cases, "prompt_only(class=null)")
        sheet(imgs, args.sheet)
        for c, p in list(zip(cases, prompts))[:10]:
            print("  ", p)
    if "class" in parts:
        prompts = [canonical(*c, shape_word=False) for c in cases]
        fn = cfg_fn(unet, te, tok, prompts, [c[0] for c in cases], args.guidance)
        imgs = decode(vae, ddim_sample(fn, (len(cases), 4, 8, 8), args.steps, args.seed + 1), scaling)
        score(imgs, cases, "class_label_only(no shape word)")
        sheet(imgs, base + "-class.png")
    if "controlnet" in parts and os.path.exists(os.path.join(a.work, "controlnet.pt")):
        cn = TR.load_controlnet(a, unet)
        ev = D.make_dataset(len(cases), seed=a.seed * 1000 + 77)
        use_outline = np.arange(len(cases)) % 2 == 1
        m = np.where(use_outline[:, None, None], ev["outlines"], ev["masks"]).astype(np.float32)
        cond = torch.from_numpy(m)[:, None].repeat(1, 3, 1, 1)
        prompts = [f"a {D.COLOR_NAMES[at[1]]} shape" for at in ev["attrs"]]
        cc = torch.cat([cond, cond])
        fn = cfg_fn(unet, te, tok, prompts, [D.NULL_CLASS] * len(cases), args.guidance,
                    residual_fn=lambda x, t, ctx: cn(x, t, ctx, cc, 1.0))
        imgs = decode(vae, ddim_sample(fn, (len(cases), 4, 8, 8), args.steps, args.seed + 2), scaling)
        ious = []
        for im, mk in zip(imgs, ev["masks"]):
            fg = foreground(im)
            ious.append((fg & (mk > 0)).sum() / max(1, (fg | (mk > 0)).sum()))
        ious = np.array(ious)
        res["controlnet"] = dict(mean_iou=float(ious.mean()), iou_mask=float(ious[~use_outline].mean()),
                                 iou_outline=float(ious[use_outline].mean()),
                                 frac_iou_ge_0_6=float((ious >= 0.6).mean()))
        print("controlnet", json.dumps(res["controlnet"]), flush=True)
        ctrl = (m[..., None].repeat(3, -1) * 255).astype(np.uint8)
        sheet(np.stack([x for pair in zip(ctrl[:20], imgs[:20]) for x in pair]), base + "-controlnet.png")
    if "inpaint" in parts and os.path.exists(os.path.join(a.work, "inpaint.pt")):
        inp = TR.load_inpaint(a)
        ev = D.make_dataset(len(cases), seed=a.seed * 1000 + 78)
        rng = np.random.default_rng(5)
        masks, prompts, want, inside = [], [], [], []
        for i, at in enumerate(ev["attrs"]):
            src_q = at[2] if at[2] < 4 else 0
            q = int(rng.choice([p for p in range(4) if p != src_q]))
            mk = np.zeros((64, 64), np.float32)
            qy, qx = (q // 2) * 32, (q % 2) * 32
            mk[qy:qy + 32, qx:qx + 32] = 1
            if at[2] == 4:  # a centred shape would be cut: mask a quadrant anyway, keep what is outside
                pass
            masks.append(mk)
            c = cases[i]
            prompts.append(f"a {D.COLOR_NAMES[c[1]]} {D.SHAPES[c[0]]} at the {D.POSITION_NAMES[q]}")
            want.append(c)
            inside.append(mk > 0.5)
        mpx = torch.from_numpy(np.stack(masks))[:, None]
        img = TR.to_tensor_img(ev["images"])
        g = torch.Generator().manual_seed(args.seed + 3)
        m8, ml = TR.inpaint_inputs(vae, img, mpx, scaling, g)
        fn = cfg_fn(inp, te, tok, prompts, [D.NULL_CLASS] * len(cases), args.guidance, extra=torch.cat([m8, ml], 1))
        alone = decode(vae, ddim_sample(fn, (len(cases), 4, 8, 8), args.steps, args.seed + 4), scaling)
        zi = TR.sample_latents(vae.encoder(img).detach(), scaling, g)
        imgs = decode(vae, ddim_sample(fn, (len(cases), 4, 8, 8), args.steps, args.seed + 4, blend=(1 - m8, zi)),
                      scaling)
        ps_alone = [10 * np.log10(1 / max((((im.astype(np.float32) - src.astype(np.float32)) / 255) ** 2)[~ins].mean(),
                                          1e-10)) for im, src, ins in zip(alone, ev["images"], inside)]
        ps, cols = [], []
        for im, src, ins, w in zip(imgs, ev["images"], inside, want):
            out = ~ins
            mse = (((im.astype(np.float32) - src.astype(np.float32)) / 255) ** 2)[out].mean()
            ps.append(10 * np.log10(1 / max(mse, 1e-10)))
            an = analyse(im, region=ins)
            cols.append(an["color"] == w[1])
        res["inpaint"] = dict(psnr_outside_mean=float(np.mean(ps)), psnr_outside_min=float(np.min(ps)),
                              color_inside_acc=float(np.mean(cols)),
                              unet_alone_psnr_outside_mean=float(np.mean(ps_alone)))
        print("inpaint", json.dumps(res["inpaint"]), flush=True)
        vis = []
        for k in range(min(20, len(cases))):
            masked = ev["images"][k].copy()
            masked[inside[k]] = 128
            vis += [ev["images"][k], masked, imgs[k]]
        sheet(np.stack(vis), base + "-inpaint.png", cols=12)
    if "itest" in parts:  # the cases of integration-tests/.../ShapesModelTest.java, measured as it measures
        W = lambda q: "in the center" if q == "center" else f"at the {q}"  # noqa: E731
        it = {}
        cs = [(i % 4, i % 6, i % 5) for i in range(30)]
        prompts = [f"a large {D.COLOR_NAMES[c]} {D.SHAPES[s_]} {W(D.POSITION_NAMES[p])}" for s_, c, p in cs]
        fn = cfg_fn(unet, te, tok, prompts, [D.NULL_CLASS] * 30, args.guidance)
        imgs = decode(vae, ddim_sample(fn, (30, 4, 8, 8), args.steps, args.seed + 10), scaling)
        got = [measure_java(im) for im in imgs]
        it["text_30"] = {k: float(np.mean([g_[k] == w[i] for g_, w in zip(got, cs)]))
                         for i, k in [(0, "shape"), (1, "color"), (2, "pos")]}
        sheet(imgs, base + "-itest-text.png", cols=6)
        cs2 = [(i % 4, i % 6, i % 5) for i in range(20)]
        prompts = [f"a large {D.COLOR_NAMES[c]} shape {W(D.POSITION_NAMES[p])}" for s_, c, p in cs2]
        fn = cfg_fn(unet, te, tok, prompts, [c[0] for c in cs2], args.guidance)
        imgs = decode(vae, ddim_sample(fn, (20, 4, 8, 8), args.steps, args.seed + 11), scaling)
        it["class_20_shape"] = float(np.mean([measure_java(im)["shape"] == c[0] for im, c in zip(imgs, cs2)]))
        if os.path.exists(os.path.join(a.work, "controlnet.pt")):
            cn = TR.load_controlnet(a, unet)
            cs3 = [(i % 4, i % 6, i % 5) for i in range(12)]
            m = np.stack([D.alpha_for(D.SHAPES[s_], *D.POSITIONS[D.POSITION_NAMES[p]], 12.0) > 0.5 for s_, c, p in cs3])
            cond = torch.from_numpy(m.astype(np.float32))[:, None].repeat(1, 3, 1, 1)
            cc = torch.cat([cond, cond])
            prompts = [f"a large {D.COLOR_NAMES[c]} {D.SHAPES[s_]}" for s_, c, p in cs3]
            fn = cfg_fn(unet, te, tok, prompts, [D.NULL_CLASS] * 12, args.guidance,
                        residual_fn=lambda x, t, ctx: cn(x, t, ctx, cc, 1.0))
            imgs = decode(vae, ddim_sample(fn, (12, 4, 8, 8), args.steps, args.seed + 12), scaling)
            ious = [(measure_java(im)["fg"] & mk).sum() / max(1, (measure_java(im)["fg"] | mk).sum())
                    for im, mk in zip(imgs, m)]
            it["controlnet_12_mean_iou"] = float(np.mean(ious))
            sheet(np.concatenate([(m[..., None].repeat(3, -1) * 255).astype(np.uint8), imgs]),
                  base + "-itest-controlnet.png", cols=8)
        if os.path.exists(os.path.join(a.work, "inpaint.pt")):
            inp = TR.load_inpaint(a)
            corners = ["top left", "top right", "bottom left"]
            n = 8
            init = np.stack([draw_test(D.SHAPES[i % 4], D.COLOR_NAMES[i % 6], corners[i % 3]) for i in range(n)])
            yy, xx = np.mgrid[0:64, 0:64]
            inside = (xx >= 32) & (yy >= 32)
            cols = [D.COLOR_NAMES[(i + 2) % 6] for i in range(n)]
            prompts = [f"a large {cols[i]} {D.SHAPES[(i + 1) % 4]} at the bottom right" for i in range(n)]
            mpx = torch.from_numpy(inside.astype(np.float32))[None, None].repeat(n, 1, 1, 1)
            img = TR.to_tensor_img(init)
            g = torch.Generator().manual_seed(args.seed + 13)
            zi = TR.sample_latents(vae.encoder(img).detach(), scaling, g)
            m8, ml = TR.inpaint_inputs(vae, img, mpx, scaling, g)
            fn = cfg_fn(inp, te, tok, prompts, [D.NULL_CLASS] * n, args.guidance, extra=torch.cat([m8, ml], 1))
            imgs = decode(vae, ddim_sample(fn, (n, 4, 8, 8), args.steps, args.seed + 14, blend=(1 - m8, zi)), scaling)
            ps, painted = [], 0
            for im, src, c in zip(imgs, init, cols):
                mse = (((im.astype(np.float32) - src.astype(np.float32)) / 255) ** 2)[~inside].mean()
                ps.append(10 * np.log10(1 / max(mse, 1e-12)))
                only = np.where(inside[..., None], im, 238).astype(np.uint8)
                painted += measure_java(only)["color"] == D.COLOR_NAMES.index(c)
            it["inpaint_8_mean_psnr_outside"] = float(np.mean(ps))
            it["inpaint_8_worst_psnr_outside"] = float(np.min(ps))
            it["inpaint_8_colour_inside"] = int(painted)
            sheet(np.concatenate([init, imgs]), base + "-itest-inpaint.png", cols=8)
        res["integration_test_cases"] = it
        print("integration-test cases", json.dumps(it), flush=True)
    if args.json:
        json.dump(res, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
