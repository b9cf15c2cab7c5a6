"""Rewrites the decoded-image fixtures of the T2I-Adapter parity test after the shapes VAE decoder changed: each
NAME_image.npy becomes clamp(vae_decoder(NAME_latents.npy / scaling_factor) / 2 + 0.5, 0, 1) in [1, H, W, 3], the
last step of t2i_adapter_reference.py, with the folder's current decoder (the latents do not depend on it).

    /usr/bin/python3 tools/shapes-model/redecode.py --model models/shapes \
        --fixtures integration-tests/src/test/resources/t2i-adapter-parity
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_weights as OW  # noqa: E402
import train as TR  # noqa: E402
from models import VAE  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/shapes")
    ap.add_argument("--fixtures", default="integration-tests/src/test/resources/t2i-adapter-parity")
    a = ap.parse_args()
    vae = VAE(TR.VAE_CH)
    OW.load_from_onnx(torch.nn.Sequential(vae.decoder), (torch.randn(1, 4, 8, 8),), ["latent_sample"], ["sample"],
                      os.path.join(a.model, "vae_decoder", "model.onnx"),
                      {"latent_sample": {0: "batch", 2: "height", 3: "width"},
                       "sample": {0: "batch", 2: "height", 3: "width"}})
    scaling = json.load(open(os.path.join(a.model, "vae_decoder", "config.json")))["scaling_factor"]
    for lat in sorted(glob.glob(os.path.join(a.fixtures, "*_latents.npy"))):
        z = torch.from_numpy(np.load(lat))
        with torch.no_grad():
            y = (vae.decoder.eval()(z / scaling) / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1).numpy()
        out = lat.replace("_latents.npy", "_image.npy")
        old = np.load(out)
        np.save(out, y.astype(old.dtype))
        print(f"{out}: {list(y.shape)}, max change {np.abs(y - old).max():.4f}")


if __name__ == "__main__":
    main()
