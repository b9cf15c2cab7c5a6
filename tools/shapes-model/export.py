"""Export the trained shapes family to ONNX (opset 17) in the diffusers/optimum folder layout.

    /usr/bin/python3 tools/shapes-model/train.py --stages export --out models/shapes --work /tmp/shapes-work

Layout (under --out):
  model_index.json, scheduler/scheduler_config.json, tokenizer/{vocab.json,merges.txt,tokenizer_config.json,
  special_tokens_map.json}, text_encoder/, unet/ (plain, + class_labels), vae_encoder/, vae_decoder/,
  controlnet/ (ControlNet on mask/outline images), unet-controlnet/ (the base UNet's weights, declaring the residual
  inputs), unet-inpaint/ (9-channel inpainting UNet). Each with model.onnx + config.json.
"""
import json
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn as nn

import shapes_data as D
import train as TR

OPSET = 17
DIFFUSERS_VERSION = "0.30.0"


class TEWrap(nn.Module):
    def __init__(self, te):
        super().__init__()
        self.te = te

    def forward(self, input_ids):
        return self.te(input_ids)


class UNetWrap(nn.Module):
    """optimum-style UNet: timestep is an int64 rank-0 scalar shared by the batch."""

    def __init__(self, unet, residuals=0):
        super().__init__()
        self.unet = unet
        self.residuals = residuals

    def forward(self, sample, timestep, encoder_hidden_states, class_labels, *res):
        t = timestep.reshape(1).expand(sample.shape[0])
        if self.residuals:
            return self.unet(sample, t, encoder_hidden_states, class_labels, list(res[:-1]), res[-1])
        return self.unet(sample, t, encoder_hidden_states, class_labels)


class UNetAdapterWrap(nn.Module):
    """The UNet taking T2I-Adapter features (diffusers' down_intrablock_additional_residuals) as inputs."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states, class_labels, *intra):
        t = timestep.reshape(1).expand(sample.shape[0])
        return self.unet(sample, t, encoder_hidden_states, class_labels, intra_res=list(intra))


class AdapterWrap(nn.Module):
    def __init__(self, ad):
        super().__init__()
        self.ad = ad

    def forward(self, image):
        return tuple(self.ad(image))


ADAPTER_OUT = "adapter_state_{}"
UNET_INTRA_IN = "down_intrablock_additional_residual_{}"


class CNWrap(nn.Module):
    def __init__(self, cn):
        super().__init__()
        self.cn = cn

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale):
        t = timestep.reshape(1).expand(sample.shape[0])
        downs, mid = self.cn(sample, t, encoder_hidden_states, controlnet_cond, conditioning_scale)
        return tuple(downs) + (mid,)


CHECK = {"dir": None, "lines": []}


def _save_check(model, args, path, in_names, out_names):
    """Save inputs and torch outputs for OrtCheck.java (ONNX Runtime Java vs torch)."""
    d = CHECK["dir"]
    if d is None:
        return
    comp = os.path.basename(os.path.dirname(path))
    with torch.no_grad():
        ref = model(*args)
    ref = ref if isinstance(ref, (tuple, list)) else (ref,)
    CHECK["lines"].append(f"model {os.path.abspath(path)}")
    for n, v in zip(in_names, args):
        v = v.detach()
        f = os.path.join(d, f"{comp}.in.{n}.bin")
        (v.numpy().astype(np.int64) if v.dtype == torch.long else v.numpy().astype(np.float32)).tofile(f)
        CHECK["lines"].append(f"in {n} {'i64' if v.dtype == torch.long else 'f32'} {f} " + " ".join(map(str, v.shape)))
    for n, v in zip(out_names, ref):
        f = os.path.join(d, f"{comp}.out.{n}.bin")
        v.detach().numpy().astype(np.float32).tofile(f)
        CHECK["lines"].append(f"out {n} {f}")
    with open(os.path.join(d, "manifest.txt"), "w") as fh:
        fh.write("\n".join(CHECK["lines"]) + "\n")


def _export(model, args, path, in_names, out_names, dyn):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _save_check(model, args, path, in_names, out_names)
    with torch.no_grad():
        torch.onnx.export(model, args, path, opset_version=OPSET, input_names=in_names, output_names=out_names,
                          dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    onnx.shape_inference.infer_shapes(m)
    try:  # optional: compare with ONNX Runtime when its python package exists
        import onnxruntime as ort
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feeds = {n: (a.numpy() if isinstance(a, torch.Tensor) else np.asarray(a)) for n, a in zip(in_names, args)}
        got = sess.run(None, feeds)
        with torch.no_grad():
            ref = model(*args)
        ref = ref if isinstance(ref, (tuple, list)) else (ref,)
        err = max(float(np.abs(g - r.numpy()).max()) for g, r in zip(got, ref))
        print(f"  onnxruntime vs torch max abs diff {err:.2e}")
    except ImportError:
        pass
    io = lambda vs: [(v.name, onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type),  # noqa: E731
                      [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in vs]
    print(f"  {path}: {os.path.getsize(path) / 1e6:.2f} MB\n    inputs {io(m.graph.input)}\n    outputs {io(m.graph.output)}")


def dump(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def scheduler_config():
    return {"_class_name": "DDIMScheduler", "_diffusers_version": DIFFUSERS_VERSION,
            "beta_start": TR.BETA_START, "beta_end": TR.BETA_END, "beta_schedule": "linear",
            "num_train_timesteps": TR.T_TRAIN, "trained_betas": None, "clip_sample": False, "set_alpha_to_one": False,
            "steps_offset": 1, "prediction_type": "epsilon", "timestep_spacing": "leading",
            "rescale_betas_zero_snr": False, "thresholding": False}


def unet_config(in_ch, extra=None):
    c = {"_class_name": "UNet2DConditionModel", "_diffusers_version": DIFFUSERS_VERSION, "act_fn": "silu",
         "attention_head_dim": [TR.UNET_CH[0] // 4, TR.UNET_CH[1] // 4], "block_out_channels": list(TR.UNET_CH),
         "center_input_sample": False, "class_embed_type": None, "cross_attention_dim": TR.TEXT_DIM,
         "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], "downsample_padding": 1,
         "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": in_ch, "layers_per_block": TR.UNET_LAYERS,
         "mid_block_type": "UNetMidBlock2DCrossAttn", "norm_eps": 1e-05, "norm_num_groups": 8,
         "num_class_embeds": D.NULL_CLASS + 1, "out_channels": 4, "sample_size": 8,
         "time_embedding_type": "positional",
         "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], "use_linear_projection": False,
         "class_labels": {str(i): s for i, s in enumerate(D.SHAPES)} | {str(D.NULL_CLASS): "none (unconditional)"},
         "null_class_label": D.NULL_CLASS}
    c.update(extra or {})
    return c


def vae_config(scaling):
    n = len(TR.VAE_CH)
    return {"_class_name": "AutoencoderKL", "_diffusers_version": DIFFUSERS_VERSION, "act_fn": "silu",
            "block_out_channels": list(TR.VAE_CH), "down_block_types": ["DownEncoderBlock2D"] * n,
            "up_block_types": ["UpDecoderBlock2D"] * n, "in_channels": 3, "out_channels": 3, "latent_channels": 4,
            "layers_per_block": 1, "norm_num_groups": 8, "sample_size": 64, "scaling_factor": round(scaling, 5),
            "shift_factor": None, "latents_mean": None, "latents_std": None, "force_upcast": False,
            "use_quant_conv": True, "use_post_quant_conv": True, "mid_block_add_attention": True}


def export_all(a):
    out = a.out
    torch.manual_seed(0)
    CHECK["dir"] = os.path.join(a.work, "ortcheck")
    CHECK["lines"] = []
    os.makedirs(CHECK["dir"], exist_ok=True)
    tok, te, unet = TR.load_te_unet(a)
    vae = TR.load_vae(a)
    scaling = TR.scaling_of(a)
    os.makedirs(out, exist_ok=True)
    # tokenizer
    td = os.path.join(out, "tokenizer")
    os.makedirs(td, exist_ok=True)
    for f in ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copyfile(os.path.join(a.work, "tokenizer", f), os.path.join(td, f))
    dump(scheduler_config(), os.path.join(out, "scheduler", "scheduler_config.json"))
    comps = {"text_encoder": ["diffusers", "OnnxRuntimeModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
             "unet": ["diffusers", "OnnxRuntimeModel"], "vae_decoder": ["diffusers", "OnnxRuntimeModel"],
             "vae_encoder": ["diffusers", "OnnxRuntimeModel"], "scheduler": ["diffusers", "DDIMScheduler"],
             "safety_checker": [None, None], "feature_extractor": [None, None]}
    dump({"_class_name": "ORTStableDiffusionPipeline", "_diffusers_version": DIFFUSERS_VERSION, **comps,
          "requires_safety_checker": False}, os.path.join(out, "model_index.json"))
    # settings the runtime applies when a request leaves them unset: guidance 3 draws cleaner colours than 7.5 here;
    # the inpainting UNet alone does not keep the unmasked area exactly, so inpainting blends latents by default
    dump({"steps": 20, "guidance_scale": 3.0, "mask_blend": True}, os.path.join(out, "conditio_defaults.json"))

    B = 2
    ids = torch.tensor([tok.encode(""), tok.encode("a red circle at the top left")])
    _export(TEWrap(te), (ids,), f"{out}/text_encoder/model.onnx", ["input_ids"],
            ["last_hidden_state", "pooler_output"],
            {"input_ids": {0: "batch", 1: "sequence"}, "last_hidden_state": {0: "batch", 1: "sequence"},
             "pooler_output": {0: "batch"}})
    dump({"architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "hidden_size": TR.TEXT_DIM,
          "intermediate_size": 4 * TR.TEXT_DIM, "num_hidden_layers": TR.TEXT_LAYERS, "num_attention_heads": 4,
          "max_position_embeddings": 77, "vocab_size": len(tok.encoder), "hidden_act": "quick_gelu",
          "layer_norm_eps": 1e-05, "projection_dim": TR.TEXT_DIM, "bos_token_id": tok.bos, "eos_token_id": tok.eos,
          "pad_token_id": tok.pad, "attention_dropout": 0.0, "initializer_factor": 1.0, "initializer_range": 0.02},
         f"{out}/text_encoder/config.json")
    with torch.no_grad():
        ctx, _ = te(ids)
    x = torch.randn(B, 4, 8, 8)
    t = torch.tensor(500, dtype=torch.long)
    cl = torch.tensor([D.NULL_CLASS, 0], dtype=torch.long)
    udyn = {"sample": {0: "batch", 2: "height", 3: "width"}, "encoder_hidden_states": {0: "batch", 1: "sequence"},
            "class_labels": {0: "batch"}, "out_sample": {0: "batch", 2: "height", 3: "width"}}
    uin = ["sample", "timestep", "encoder_hidden_states", "class_labels"]
    _export(UNetWrap(unet), (x, t, ctx, cl), f"{out}/unet/model.onnx", uin, ["out_sample"], udyn)
    dump(unet_config(4), f"{out}/unet/config.json")

    _export(nn.Sequential(vae.decoder), (torch.randn(1, 4, 8, 8),), f"{out}/vae_decoder/model.onnx",
            ["latent_sample"], ["sample"], {"latent_sample": {0: "batch", 2: "height", 3: "width"},
                                            "sample": {0: "batch", 2: "height", 3: "width"}})
    _export(nn.Sequential(vae.encoder), (torch.rand(1, 3, 64, 64) * 2 - 1,), f"{out}/vae_encoder/model.onnx",
            ["sample"], ["latent_parameters"], {"sample": {0: "batch", 2: "height", 3: "width"},
                                                "latent_parameters": {0: "batch", 2: "height", 3: "width"}})
    dump(vae_config(scaling), f"{out}/vae_decoder/config.json")
    dump(vae_config(scaling), f"{out}/vae_encoder/config.json")

    if any(os.path.exists(os.path.join(a.work, f)) for f in ["controlnet.pt", "controlnet-sketch.pt"]):
        cn = TR.load_controlnet(a, unet)
        n_res = len(unet.skip_ch)
        rnames = [f"down_block_{i}_additional_residual" for i in range(n_res)] + ["mid_block_additional_residual"]
        cond = torch.rand(B, 3, 64, 64)
        scale = torch.tensor(1.0)
        rdyn = {n: {0: "batch", 2: f"h{i}", 3: f"w{i}"} for i, n in enumerate(rnames)}
        _export(CNWrap(cn), (x, t, ctx, cond, scale), f"{out}/controlnet/model.onnx",
                ["sample", "timestep", "encoder_hidden_states", "controlnet_cond", "conditioning_scale"], rnames,
                {"sample": {0: "batch", 2: "height", 3: "width"},
                 "encoder_hidden_states": {0: "batch", 1: "sequence"},
                 "controlnet_cond": {0: "batch", 2: "cond_height", 3: "cond_width"}, **rdyn})
        cc = unet_config(4, {"_class_name": "ControlNetModel", "conditioning_channels": 3,
                             "conditioning_embedding_out_channels": [16, 16, 32, 64],
                             "controlnet_conditioning_channel_order": "rgb", "num_class_embeds": None,
                             "conditioning": "white shape mask or 2-px outline on black, [B,3,64,64] in [0,1]"})
        for k in ["up_block_types", "out_channels", "class_labels", "null_class_label"]:
            cc.pop(k, None)
        dump(cc, f"{out}/controlnet/config.json")
        with torch.no_grad():
            res = CNWrap(cn)(x, t, ctx, cond, scale)
        _export(UNetWrap(unet, residuals=n_res + 1), (x, t, ctx, cl) + tuple(res),
                f"{out}/unet-controlnet/model.onnx", uin + rnames, ["out_sample"], {**udyn, **rdyn})
        dump(unet_config(4, {"controlnet_residual_inputs": rnames}), f"{out}/unet-controlnet/config.json")
    if os.path.exists(os.path.join(a.work, "adapter.pt")):
        ad = TR.load_adapter(a)
        img = torch.zeros(B, 1, 64, 64)
        img[:, :, 20:44, 20:22] = 1.0
        onames = [ADAPTER_OUT.format(i) for i in range(len(TR.UNET_CH))]
        _export(AdapterWrap(ad), (img,), f"{out}/t2i-adapter/model.onnx", ["image"], onames,
                {"image": {0: "batch", 2: "height", 3: "width"},
                 **{n: {0: "batch", 2: f"h{i}", 3: f"w{i}"} for i, n in enumerate(onames)}})
        dump({"_class_name": "T2IAdapter", "_diffusers_version": DIFFUSERS_VERSION, "adapter_type": "full_adapter",
              **ad.cfg, "conditioning": "a 2-px white outline (sketch) on black, [B,1,64,64] in [0,1]"},
             f"{out}/t2i-adapter/config.json")
        with torch.no_grad():
            feats = AdapterWrap(ad)(img)
        inames = [UNET_INTRA_IN.format(i) for i in range(len(feats))]
        _export(UNetAdapterWrap(unet), (x, t, ctx, cl) + tuple(feats), f"{out}/unet-adapter/model.onnx",
                uin + inames, ["out_sample"], {**udyn, **{n: {0: "batch", 2: f"ah{i}", 3: f"aw{i}"}
                                                           for i, n in enumerate(inames)}})
        # the shapes UNet's first down block has no attention (its feature is added after the downsampler)
        dump(unet_config(4, {"down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
                             "adapter_inputs": inames}), f"{out}/unet-adapter/config.json")
    if os.path.exists(os.path.join(a.work, "inpaint.pt")):
        inp = TR.load_inpaint(a)
        _export(UNetWrap(inp), (torch.randn(B, 9, 8, 8), t, ctx, cl), f"{out}/unet-inpaint/model.onnx", uin,
                ["out_sample"], udyn)
        dump(unet_config(9), f"{out}/unet-inpaint/config.json")
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    print(f"exported to {out}: {total / 1e6:.2f} MB total")
    jar = os.path.expanduser("~/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.29.0/onnxruntime-1.29.0.jar")
    if shutil.which("java") and os.path.exists(jar):  # ONNX Runtime (Java) vs torch
        import subprocess
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "OrtCheck.java")
        r = subprocess.run(["java", "-cp", jar, src, os.path.join(CHECK["dir"], "manifest.txt")],
                           capture_output=True, text=True)
        print(r.stdout + r.stderr)
