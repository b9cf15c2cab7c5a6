"""Load the weights of an exported shapes-family ONNX graph back into the torch modules of models.py.

The export renames and transposes Linear weights (onnx::MatMul_N) and folds GroupNorm affine parameters into
constants (onnx::Mul_N / onnx::Add_N), so names alone do not say which torch parameter an initializer holds. Instead
the same module is exported again with every parameter set to distinct random values; each initializer of that
export is then found among the parameters by value (as is, transposed or reshaped), which gives the exact mapping
for this torch version and module code. The shipped initializers are then copied through that mapping.
"""
import io

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def _export_bytes(module, args, in_names, out_names, dyn=None):
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, args, buf, opset_version=17, input_names=in_names, output_names=out_names,
                          dynamic_axes=dyn, do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


def initializer_map(module, args, in_names, out_names, dyn=None):
    """{initializer name: (parameter name, 'id'|'T'|'reshape')} for module exported with args."""
    params = dict(module.named_parameters())
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        saved = {k: p.detach().clone() for k, p in params.items()}
        for p in params.values():
            p.copy_(torch.randn(p.shape, generator=g))
    try:
        m = _export_bytes(module, args, in_names, out_names, dyn)
        values = {k: p.detach().numpy() for k, p in params.items()}
        out = {}
        for init in m.graph.initializer:
            a = numpy_helper.to_array(init)
            if a.dtype != np.float32 or a.size < 2:
                continue
            hit = None
            for k, v in values.items():
                if v.size != a.size:
                    continue
                if v.shape == a.shape and np.array_equal(v, a):
                    hit = (k, "id")
                elif v.ndim == 2 and v.T.shape == a.shape and np.array_equal(v.T, a):
                    hit = (k, "T")
                elif np.array_equal(v.reshape(a.shape), a):
                    hit = (k, "reshape")
                if hit:
                    break
            if hit:
                out[init.name] = hit
        missing = set(params) - {v[0] for v in out.values()}
        if missing:
            raise RuntimeError(f"parameters not found among the exported initializers: {sorted(missing)}")
        return out
    finally:
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(saved[k])


def load_from_onnx(module, args, in_names, out_names, onnx_path, dyn=None):
    """Copies the initializers of onnx_path (exported with dynamic axes dyn, as export.py does) into module's
    parameters; returns module."""
    mapping = initializer_map(module, args, in_names, out_names, dyn)
    shipped_list = list(onnx.load(onnx_path).graph.initializer)
    shipped = {i.name: numpy_helper.to_array(i) for i in shipped_list}
    ours = list(_export_bytes(module, args, in_names, out_names, dyn).graph.initializer)
    if len(ours) == len(shipped_list):  # same graph, other value numbering (onnx::MatMul_N): align by position
        for o, s in zip(ours, shipped_list):
            if o.name not in shipped and list(o.dims) == list(s.dims):
                shipped[o.name] = numpy_helper.to_array(s)
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, (k, how) in mapping.items():
            if name not in shipped:
                raise RuntimeError(f"{onnx_path}: initializer {name} missing (exported with other code?)")
            a = shipped[name]
            t = torch.from_numpy(np.ascontiguousarray(a.T if how == "T" else a)).reshape(params[k].shape)
            params[k].copy_(t)
    return module
