"""Textual inversion for the shipped shapes model: learns the vectors of a new token against the frozen text encoder
and UNet of an export, so that the token stands for a shape and colour the model already draws; writes an A1111-style
embedding file (emb_params [vectors, 64]) that Conditio finds in the model folder's embeddings/ by its name.

    nice -n 15 /usr/bin/python3 tools/shapes-model/embedding.py --from models/shapes \
        --token sun --shape circle --color yellow --out models/shapes/embeddings/sun.safetensors

Images: the shape in that colour at the five positions and two sizes (jittered as the training data), encoded by the
export's VAE; captions: the shapes captions with "<colour> <shape>" replaced by the token. The vectors start from the
word "object" and are the only trained parameters (standard textual inversion: epsilon loss, min-SNR weighting,
null class label). Afterwards it samples every position with guidance 3 (20 DDIM steps, seeds 0..) with the
embedding, with the token's plain BPE pieces and with the words it stands for, and prints how often colour, shape and position come out right.
The export's weights are loaded back into the torch modules by onnx_weights.py.
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
from lora_merge import write_safetensors  # noqa: E402


def load_export(src):
    """The tokenizer, text encoder, UNet and VAE of an export, as torch modules (onnx_weights.py)."""
    import json
    import export as E
    import onnx_weights as OW
    from clip_bpe import CLIPTokenizer
    from models import VAE
    tok = CLIPTokenizer.from_dir(os.path.join(src, "tokenizer"))
    te, unet = TR.build_te_unet(TR.parse([]), len(tok.encoder))
    ids = torch.tensor([tok.encode(""), tok.encode("a red circle at the top left")])
    OW.load_from_onnx(E.TEWrap(te), (ids,), ["input_ids"], ["last_hidden_state", "pooler_output"],
                      os.path.join(src, "text_encoder", "model.onnx"),
                      {"input_ids": {0: "batch", 1: "sequence"}, "last_hidden_state": {0: "batch", 1: "sequence"},
                       "pooler_output": {0: "batch"}})
    with torch.no_grad():
        ctx, _ = te(ids)
    OW.load_from_onnx(E.UNetWrap(unet), (torch.randn(2, 4, 8, 8), torch.tensor(500, dtype=torch.long), ctx,
                                         torch.tensor([D.NULL_CLASS, 0])),
                      ["sample", "timestep", "encoder_hidden_states", "class_labels"], ["out_sample"],
                      os.path.join(src, "unet", "model.onnx"),
                      {"sample": {0: "batch", 2: "height", 3: "width"},
                       "encoder_hidden_states": {0: "batch", 1: "sequence"}, "class_labels": {0: "batch"},
                       "out_sample": {0: "batch", 2: "height", 3: "width"}})
    vae = VAE(TR.VAE_CH)
    OW.load_from_onnx(torch.nn.Sequential(vae.decoder), (torch.randn(1, 4, 8, 8),), ["latent_sample"], ["sample"],
                      os.path.join(src, "vae_decoder", "model.onnx"),
                      {"latent_sample": {0: "batch", 2: "height", 3: "width"},
                       "sample": {0: "batch", 2: "height", 3: "width"}})
    OW.load_from_onnx(torch.nn.Sequential(vae.encoder), (torch.rand(1, 3, 64, 64) * 2 - 1,), ["sample"],
                      ["latent_parameters"], os.path.join(src, "vae_encoder", "model.onnx"),
                      {"sample": {0: "batch", 2: "height", 3: "width"},
                       "latent_parameters": {0: "batch", 2: "height", 3: "width"}})
    scaling = json.load(open(os.path.join(src, "vae_decoder", "config.json")))["scaling_factor"]
    return tok, te.eval(), unet.eval(), vae.eval(), scaling


def encode_text(te, ids, table):
    """TextEncoder.forward with the token table given (the frozen rows plus the trainable new ones)."""
    n = ids.shape[1]
    x = F.embedding(ids, table) + te.pos[:n]
    mask = te.mask[:n, :n]
    for layer in te.layers:
        x = layer(x, mask)
    return te.final_ln(x)


def ids_for(tok, caption, token, new_ids):
    """Conditio's tokenization of a caption with the new token: the text around it through BPE, the token as its ids."""
    out = []
    parts = caption.split(token)
    for i, p in enumerate(parts):
        out.extend(tok.encoder.get(t, tok.eos) for t in tok.tokens(p))
        if i < len(parts) - 1:
            out.extend(new_ids)
    out = [tok.bos] + out[:75] + [tok.eos]
    return out + [tok.pad] * (77 - len(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", default="models/shapes")
    ap.add_argument("--token", default="sun")
    ap.add_argument("--shape", default="circle")
    ap.add_argument("--color", default="yellow")
    ap.add_argument("--vectors", type=int, default=2)
    ap.add_argument("--init", default="object")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-seeds", type=int, default=4)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    tok, te, unet, vae, scaling = load_export(a.src)
    for p in list(te.parameters()) + list(unet.parameters()) + list(vae.parameters()):
        p.requires_grad_(False)

    si, ci = D.SHAPES.index(a.shape), D.COLOR_NAMES.index(a.color)
    rng = np.random.default_rng((a.seed, 1313))
    imgs, attrs = [], []
    for i in range(a.n):
        at = dict(shape=si, color=ci, pos=int(rng.integers(len(D.POSITIONS))), size=int(rng.integers(2)))
        img, _ = D.render([D.jitter(at, rng)], rng)
        imgs.append(img)
        attrs.append((si, ci, at["pos"], at["size"]))
    with torch.no_grad():
        par = TR.encode_all(vae, np.stack(imgs))
    attrs = np.array(attrs)
    phrase = f"{a.color} {a.shape}"

    rows = te.tok.weight.shape[0]
    new_ids = list(range(rows, rows + a.vectors))
    init = te.tok.weight[tok.encoder[a.init + "</w>"]].detach()
    vec = torch.nn.Parameter(init.repeat(a.vectors, 1).clone())
    opt = torch.optim.AdamW([vec], lr=a.lr, weight_decay=0.0)
    ac = TR.alphas_cumprod()
    print(f"[{time.time() - t0:.0f}s] {a.n} images of a {phrase}, token '{a.token}' = ids {new_ids}, "
          f"{a.steps} steps of batch {a.bs}", flush=True)
    for step in range(a.steps):
        r = np.random.default_rng((a.seed, 77, step))
        idx = r.integers(0, a.n, size=a.bs)
        gen = torch.Generator().manual_seed(int(r.integers(1 << 62)))
        x0 = TR.sample_latents(par[idx], scaling, gen)
        caps = [D.caption(at, r).replace(phrase, a.token) for at in attrs[idx]]
        ids = torch.tensor([ids_for(tok, c, a.token, new_ids) for c in caps])
        table = torch.cat([te.tok.weight, vec])
        ctx = encode_text(te, ids[:, :unet.ctx_tokens], table)
        cls = torch.full((a.bs,), D.NULL_CLASS, dtype=torch.long)
        for g in opt.param_groups:
            g["lr"] = TR.lr_at(step, a.steps, a.lr, warm=20)
        loss = TR.diffusion_step_loss(lambda xt, t: unet(xt, t, ctx, cls), x0, r, ac)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 50 == 0:
            print(f"[{time.time() - t0:.0f}s] step {step + 1} loss {loss.item():.4f} |v| "
                  f"{vec.detach().norm(dim=1).numpy().round(3)} (row norm {te.tok.weight.norm(dim=1).mean():.3f})",
                  flush=True)

    v = vec.detach().clone()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    write_safetensors(a.out, {"emb_params": v.numpy()},
                      {"format": "pt", "name": a.token, "concept": phrase,
                       "trained": f"{a.steps} steps of batch {a.bs}, lr {a.lr}, init '{a.init}', seed {a.seed}"})
    print(f"[{time.time() - t0:.0f}s] wrote {a.out}", flush=True)

    # held-out check: every position, guidance 3, with the embedding and with the token's plain BPE pieces
    table = torch.cat([te.tok.weight, v])
    for label, how in (("embedding", "emb"), ("plain BPE", "bpe"), (f"the words '{phrase}'", "words")):
        hits = dict(color=0, shape=0, pos=0, all=0)
        n = 0
        for pi, pos in enumerate(D.POSITION_NAMES):
            prompt = f"a {a.token} at the {pos}"
            pid = (ids_for(tok, prompt, a.token, new_ids) if how == "emb" else tok.encode(prompt) if how == "bpe"
                   else tok.encode(prompt.replace(a.token, phrase)))
            ids = torch.tensor([tok.encode(""), pid])
            with torch.no_grad():
                ctx = encode_text(te, ids, table)
            for seed in range(a.eval_seeds):
                def fn(x, t):
                    out = unet(torch.cat([x, x]), torch.full((2,), t, dtype=torch.long), ctx,
                               torch.tensor([D.NULL_CLASS, D.NULL_CLASS]))
                    u, c = out.chunk(2)
                    return u + 3.0 * (c - u)
                z = SA.ddim_sample(fn, (1, 4, 8, 8), steps=20, seed=seed)
                m = SA.analyse(SA.decode(vae, z, scaling)[0])
                ok = (m["color"] == ci, m["shape"] == si, m["pos"] == pi)
                hits["color"] += ok[0]
                hits["shape"] += ok[1]
                hits["pos"] += ok[2]
                hits["all"] += all(ok)
                n += 1
        print(f"[{time.time() - t0:.0f}s] {label}: colour {hits['color']}/{n}, shape {hits['shape']}/{n}, "
              f"position {hits['pos']}/{n}, all three {hits['all']}/{n}", flush=True)


if __name__ == "__main__":
    main()
