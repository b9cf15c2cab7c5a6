"""Zero-terminal-SNR fixtures from diffusers' own scheduler source.

Runs diffusers' scheduler classes (the files under src/diffusers/schedulers of a diffusers checkout, loaded without
the rest of the package: configuration, logging and hub helpers are replaced by the few lines they need here) on the
scheduler test harness of diffusers' tests/schedulers (the deterministic sample, the model sample * t / (t + 1)),
with rescale_betas_zero_snr=True and epsilon prediction, and writes the final samples (or that they are not finite)
as JSON for the scheduler plugin's parity test.

    /usr/bin/python3 tools/zero-snr-fixtures/make_zero_snr_fixtures.py DIFFUSERS_CHECKOUT OUT.json

Needs torch and numpy (no scipy: the Karras/exponential/beta sigma options are not used).
"""
import dataclasses
import enum
import functools
import importlib.util
import inspect
import json
import logging
import math
import sys
import types

import torch


class _Config(dict):
    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e


class ConfigMixin:
    config_name = "scheduler_config.json"

    def register_to_config(self, **kwargs):
        if not hasattr(self, "_internal_dict"):
            self._internal_dict = _Config()
        self._internal_dict.update(kwargs)

    @property
    def config(self):
        return self._internal_dict


def register_to_config(init):
    @functools.wraps(init)
    def wrapped(self, *args, **kwargs):
        bound = inspect.signature(init).bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        values.pop("self")
        ConfigMixin.register_to_config(self, **values)
        init(self, *args, **kwargs)

    return wrapped


class BaseOutput:
    pass


def randn_tensor(shape, generator=None, device=None, dtype=None, layout=None):
    return torch.randn(shape, generator=generator, dtype=dtype or torch.float32)


def _stub_package(root):
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        if name in ("diffusers", "diffusers.utils", "diffusers.schedulers"):
            m.__path__ = []
        sys.modules[name] = m
        return m

    module("diffusers")
    module("diffusers.configuration_utils", ConfigMixin=ConfigMixin, register_to_config=register_to_config)
    module("diffusers.utils", BaseOutput=BaseOutput, logging=types.SimpleNamespace(get_logger=logging.getLogger),
           is_scipy_available=lambda: False, deprecate=lambda *a, **k: None, PushToHubMixin=object)
    module("diffusers.utils.torch_utils", randn_tensor=randn_tensor)
    karras = enum.Enum("KarrasDiffusionSchedulers", "DDIMScheduler EulerDiscreteScheduler")

    @dataclasses.dataclass
    class SchedulerOutput(BaseOutput):
        prev_sample: torch.Tensor

    module("diffusers.schedulers")
    module("diffusers.schedulers.scheduling_utils", KarrasDiffusionSchedulers=karras, SchedulerMixin=type("SchedulerMixin", (), {}),
           SchedulerOutput=SchedulerOutput)


def load(root, name, cls):
    full = "diffusers.schedulers." + name
    spec = importlib.util.spec_from_file_location(full, f"{root}/src/diffusers/schedulers/{name}.py")
    m = importlib.util.module_from_spec(spec)
    sys.modules[full] = m
    spec.loader.exec_module(m)
    return getattr(m, cls)


def sample_deter():
    # tests/schedulers/test_schedulers.py dummy_sample_deter: arange(n) / n as (C, H, W, B), permuted to (B, C, H, W)
    b, c, h, w = 4, 3, 8, 8
    n = b * c * h * w
    return (torch.arange(n).reshape(c, h, w, b) / n).permute(3, 0, 1, 2)


def model(sample, t):
    return sample * t / (t + 1)


def loop(scheduler, steps, seed):
    """diffusers' full loop: scale, model, step; a torch generator seeded with `seed` for the noise-drawing ones."""
    generator = torch.manual_seed(seed) if seed is not None else None
    scheduler.set_timesteps(steps)
    sample = sample_deter() * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        x = scheduler.scale_model_input(sample, t)
        out = model(x, t)
        kwargs = {"generator": generator} if "generator" in inspect.signature(scheduler.step).parameters else {}
        sample = scheduler.step(out, t, sample, return_dict=False, **kwargs)[0]
    return scheduler, sample


STRIDE = 8

ZERO_SNR = {"rescale_betas_zero_snr": True, "prediction_type": "epsilon", "beta_schedule": "scaled_linear",
            "beta_start": 0.00085, "beta_end": 0.012, "num_train_timesteps": 1000}

CASES = [
    # name, module, class, extra config, steps, torch seed (None: the scheduler draws nothing)
    ("euler trailing", "scheduling_euler_discrete", "EulerDiscreteScheduler", {"timestep_spacing": "trailing"}, 10, None),
    ("euler leading", "scheduling_euler_discrete", "EulerDiscreteScheduler", {"timestep_spacing": "leading", "steps_offset": 1}, 10, None),
    ("euler-a trailing", "scheduling_euler_ancestral_discrete", "EulerAncestralDiscreteScheduler", {"timestep_spacing": "trailing"}, 10, 0),
    ("dpm++2m trailing", "scheduling_dpmsolver_multistep", "DPMSolverMultistepScheduler", {"timestep_spacing": "trailing"}, 10, None),
    ("dpm++2m-sde trailing", "scheduling_dpmsolver_multistep", "DPMSolverMultistepScheduler", {"timestep_spacing": "trailing", "algorithm_type": "sde-dpmsolver++"}, 10, 0),
    ("unipc trailing", "scheduling_unipc_multistep", "UniPCMultistepScheduler", {"timestep_spacing": "trailing"}, 10, None),
    ("ddim trailing", "scheduling_ddim", "DDIMScheduler", {"timestep_spacing": "trailing"}, 10, None),
    ("ddim leading", "scheduling_ddim", "DDIMScheduler", {"timestep_spacing": "leading", "steps_offset": 1}, 10, None),
    ("ddpm trailing", "scheduling_ddpm", "DDPMScheduler", {"timestep_spacing": "trailing"}, 10, 0),
    ("lcm trailing", "scheduling_lcm", "LCMScheduler", {"timestep_spacing": "trailing"}, 4, 0),
    ("tcd trailing", "scheduling_tcd", "TCDScheduler", {"timestep_spacing": "trailing"}, 4, 0),
]


def main():
    root, out = sys.argv[1], sys.argv[2]
    _stub_package(root)
    cases = []
    for name, module, cls, extra, steps, seed in CASES:
        config = dict(ZERO_SNR, **extra)
        scheduler, sample = loop(load(root, module, cls)(**config), steps, seed)
        finite = bool(torch.isfinite(sample).all())
        case = {"name": name, "class": cls, "config": config, "steps": steps, "seed": seed,
                "timesteps": [float(t) for t in scheduler.timesteps], "finite": finite,
                "init_noise_sigma": float(scheduler.init_noise_sigma)}
        if finite:
            case["shape"] = list(sample.shape)
            # every 8th element of the flattened (B, C, H, W) sample keeps the file small
            case["stride"] = STRIDE
            case["values"] = [float(f"{v:.9g}") for v in sample.flatten().tolist()[::STRIDE]]
            case["abs_sum"] = float(sample.abs().sum())
        print(f"{name:24s} finite={finite} timesteps={case['timesteps'][:3]}...", file=sys.stderr)
        cases.append(case)
    with open(out, "w") as f:
        json.dump({"generator": "tools/zero-snr-fixtures/make_zero_snr_fixtures.py", "source": "diffusers scheduler classes, rescale_betas_zero_snr with epsilon prediction",
                   "model": "sample * t / (t + 1)", "sample": "tests/schedulers dummy_sample_deter (4, 3, 8, 8)",
                   "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
