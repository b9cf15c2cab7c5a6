"""Derives tiny UNets with more input channels from diffusers-tiny's UNets: instruct-pix2pix UNets (8 input channels: latents + image latents) from diffusers-tiny's sd-tiny UNet.

Only conv_in changes: its weight grows from [16, 4, 3, 3] to [16, 8, 3, 3]. The first 4 input channels keep their
weights, so with zero weights on the 4 image channels the 8-channel UNet computes exactly what sd-tiny's UNet does
(unet-zero-image), and with small random weights the image latents steer the result (unet-image).
For composition tests, unet-controlnet widened to 9 channels (inpainting layout) with zero weights on the 5 new
channels computes what unet-controlnet computes.
Run with Debian's python3-onnx:
  /usr/bin/python3 make_wide_unets.py pix2pix SD_TINY_UNET OUT_DIR
  /usr/bin/python3 make_wide_unets.py inpaint-controlnet UNET_CONTROLNET OUT_DIR
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def widen(src, dst, scale, seed, channels=8):
    model = onnx.load(src)
    graph = model.graph
    sample = next(i for i in graph.input if i.name == "sample")
    sample.type.tensor_type.shape.dim[1].dim_value = channels
    conv = next(n for n in graph.node if n.op_type == "Conv" and "sample" in n.input)
    init = next(i for i in graph.initializer if i.name == conv.input[1])
    weight = numpy_helper.to_array(init)
    shape = (weight.shape[0], channels - weight.shape[1]) + weight.shape[2:]
    extra = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * scale
    wide = np.concatenate([weight, extra], axis=1)
    init.CopyFrom(numpy_helper.from_array(wide, init.name))
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == "__main__":
    kind, source, out = sys.argv[1], sys.argv[2], sys.argv[3]
    if kind == "pix2pix":
        widen(source, out + "/unet-zero-image.onnx", 0.0, 0)
        widen(source, out + "/unet-image.onnx", 0.2, 0)
    else:
        widen(source, out + "/unet-inpaint-controlnet.onnx", 0.0, 0, channels=9)
