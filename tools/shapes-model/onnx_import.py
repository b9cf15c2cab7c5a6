"""Rebuild the torch modules of a shipped shapes export from its ONNX files, so that later stages (the T2I-Adapter,
a retrained ControlNet) can train against the frozen shipped UNet without rerunning the base stages.

The exporter folds constants, which transposes Linear weights and renames them `onnx::MatMul_NNN`; Conv weights and
biases keep their torch names. So each initializer is matched through its consumer: a fresh torch module of the same
architecture is exported the same way, every initializer of that export is traced back to the torch parameter it
came from (by value: fresh random weights are unique), and the shipped initializer consumed by the same node at the
same input index supplies that parameter.
"""
import io

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def _consumers(graph):
    inits = {i.name for i in graph.initializer}
    out = {}
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name in inits and name not in out:
                out[name] = (node.name, k)
    return out


def load_into(module, wrapper, args, in_names, onnx_path, dyn=None, allow_missing=()):
    """Fill module's parameters from onnx_path, exported from wrapper(args) with constant folding and the dynamic
    axes dyn (as the shipped export used: they decide which slices are folded)."""
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():  # unique values, so that no two initializers are merged and each traces back to one
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(wrapper, args, buf, opset_version=17, input_names=in_names,
                          dynamic_axes=dyn, do_constant_folding=True)
    fresh = onnx.load_from_string(buf.getvalue())
    shipped = onnx.load(onnx_path)
    s_by_key = {v: k for k, v in _consumers(shipped.graph).items()}
    s_init = {i.name: numpy_helper.to_array(i) for i in shipped.graph.initializer}
    f_cons = _consumers(fresh.graph)
    f_ops = [n.op_type for n in fresh.graph.node]
    if f_ops == [n.op_type for n in shipped.graph.node] and any(k not in s_by_key for k in f_cons.values()):
        # another torch build scopes node names differently (e.g. /te/layers.0/ln1 against /te/ln1): the graphs
        # have the same nodes in the same order, so match consumers by node position instead of name
        f_pos = {n.name: i for i, n in enumerate(fresh.graph.node)}
        s_pos = {n.name: i for i, n in enumerate(shipped.graph.node)}
        f_cons = {k: (f_pos[v[0]], v[1]) for k, v in f_cons.items()}
        s_by_key = {(s_pos[v[0]], v[1]): k for k, v in _consumers(shipped.graph).items()}
    params = dict(module.named_parameters())
    done = set()
    for init in fresh.graph.initializer:
        val = numpy_helper.to_array(init)
        if val.size < 2 or init.name not in f_cons:
            continue
        key = f_cons[init.name]
        for pname, p in params.items():
            pv = p.detach().numpy()
            how = None
            if pv.size == val.size and np.array_equal(pv.ravel(), val.ravel()):
                how = "same"  # also GroupNorm's scale and bias, folded into [C, 1, 1]
            elif pv.ndim == 2 and pv.T.shape == val.shape and np.array_equal(pv.T, val):
                how = "T"
            if how is None:
                continue
            if key not in s_by_key:
                raise ValueError(f"{onnx_path}: no initializer consumed by {key} (for {pname})")
            sv = s_init[s_by_key[key]]
            with torch.no_grad():
                p.copy_(torch.from_numpy(sv.T.copy() if how == "T" else sv.reshape(pv.shape).copy()))
            done.add(pname)
    missing = [n for n in params if n not in done and n not in allow_missing]
    if missing:
        raise ValueError(f"{onnx_path}: parameters not found in the export: {missing}")
    return module
