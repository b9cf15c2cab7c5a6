#!/usr/bin/env python3
"""Hostile-input probe of the conditio CLI.

Runs the built launcher (samples/cli/target/conditio) on well over 100 hostile inputs (numbers out of range, NaN,
absurd sizes, broken and hostile model folders, JSON, images, plugin folders, prompts, outputs, devices and FIFOs)
and classifies each result:

  clean       exit != 0 and exactly one error line on stderr (warnings 'conditio: warning:' aside), no stack trace
  verbose     exit != 0, no stack trace, but more than one error line (a usage text, say)
  stacktrace  a Java stack trace or 'Exception in thread' on stdout or stderr
  hang        still running after the time limit (killed)
  wrong-ok    exit 0 where the input is wrong
  left        files left behind: in the case's output folder when it failed, or in its private java.io.tmpdir
  ok          a sanity case that must succeed did (with its output file)

    python3 tools/cli-probe/probe.py [--launcher samples/cli/target/conditio] [--only SUBSTRING] [--json out.json]

Standard library only. Each case runs in its own folder with its own java.io.tmpdir and log file; exit status 1 when
anything but clean/ok was seen.
"""
import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def png(width, height, body=None, color_type=2, bit_depth=8, truncate=False):
    """A PNG with the given header; body: raw scanline bytes (filter byte per row included) or None for zeros."""
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    if body is None:
        row = (width * channels * bit_depth + 7) // 8 + 1
        comp = zlib.compressobj(9)
        out = bytearray()
        zero_row = bytes(row)
        for _ in range(height):
            out += comp.compress(zero_row)
        out += comp.flush()
        idat = bytes(out)
    else:
        idat = zlib.compress(body)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    return data[: len(data) // 2] if truncate else data


class Case:
    def __init__(self, name, args, expect="fail", setup=None, stdin=None, env=None, timeout=None):
        self.name, self.args, self.expect, self.setup = name, args, expect, setup
        self.stdin, self.env, self.timeout = stdin, env or {}, timeout


def cases(model, plugins):
    c = []
    gen = ["generate", "--steps", "2", "--seed", "1"]

    def g(name, *extra, expect="fail", setup=None, out=True, **kw):
        base = gen if "--steps" not in extra else [a for a in gen if a not in ("--steps", "2")]
        args = base + list(extra) + (["--out", "{dir}/out.png"] if out else [])
        c.append(Case(name, args, expect, setup, **kw))

    # sanity: what must work
    g("sanity: plain generate", "--prompt", "a red circle", expect="ok")
    g("sanity: img2img", "--prompt", "a red circle", "--init-image", "{dir}/ok.png", expect="ok",
      setup=lambda d: write(d, "ok.png", png(64, 64)))
    # numbers
    for v in ["0", "-1", "100000000", "abc", "1e3", "NaN", "", "2147483648"]:
        g("steps " + repr(v), "--prompt", "x", "--steps", v)
    for v in ["NaN", "Infinity", "-Infinity", "1e309", "abc", "-1e400", "0x10"]:
        g("guidance " + repr(v), "--prompt", "x", "--guidance", v)
    for w, h in [("0", "64"), ("-64", "64"), ("63", "64"), ("100000", "100000"), ("65536", "65536"),
                 ("2147483647", "2147483647"), ("abc", "64"), ("8", "8"), ("64", "-8"), ("4096", "4096")]:
        g(f"size {w}x{h}", "--prompt", "x", "--width", w, "--height", h)
    g("seed abc", "--prompt", "x", "--seed", "abc")
    g("seed 2^64", "--prompt", "x", "--seed", "18446744073709551616")
    for v in ["0", "1.5", "-0.1", "NaN", "Infinity"]:
        g("strength " + v, "--prompt", "x", "--init-image", "{dir}/ok.png", "--strength", v,
          setup=lambda d: write(d, "ok.png", png(64, 64)))
    g("strength without init image", "--prompt", "x", "--strength", "0.5")
    for v in ["-5", "99999", "abc", "NaN"]:
        g("class label " + v, "--prompt", "x", "--class-label", v)
    for v in ["-1", "99", "abc"]:
        g("clip skip " + v, "--prompt", "x", "--clip-skip", v)
    for v in ["0", "-1", "1x", "1k", "99999999999999999999g", "abc"]:
        g("memory limit " + v, "--prompt", "x", "--memory-limit", v)
    g("image guidance NaN", "--prompt", "x", "--init-image", "{dir}/ok.png", "--image-guidance", "NaN",
      setup=lambda d: write(d, "ok.png", png(64, 64)))
    g("original size -1,-1", "--prompt", "x", "--original-size", "-1,-1")
    g("crop top left abc", "--prompt", "x", "--crop-top-left", "abc")
    # schedulers and their configs
    g("unknown scheduler", "--prompt", "x", "--scheduler", "nope")
    g("empty scheduler name", "--prompt", "x", "--scheduler", "")
    g("scheduler config missing", "--prompt", "x", "--scheduler-config", "{dir}/none.json")
    g("scheduler config invalid json", "--prompt", "x", "--scheduler-config", "{dir}/s.json",
      setup=lambda d: write(d, "s.json", b"{\"_class_name\": "))
    g("scheduler config NaN", "--prompt", "x", "--scheduler-config", "{dir}/s.json",
      setup=lambda d: write(d, "s.json", b"{\"_class_name\": \"EulerDiscreteScheduler\", \"beta_start\": NaN}"))
    g("scheduler config wrong types", "--prompt", "x", "--scheduler-config", "{dir}/s.json",
      setup=lambda d: write(d, "s.json", b"{\"_class_name\": 7, \"num_train_timesteps\": \"many\"}"))
    g("scheduler config deeply nested", "--prompt", "x", "--scheduler-config", "{dir}/s.json",
      setup=lambda d: write(d, "s.json", b"[" * 100000 + b"]" * 100000))
    g("scheduler config 70 MB", "--prompt", "x", "--scheduler-config", "{dir}/s.json",
      setup=lambda d: write(d, "s.json", b"{\"a\": \"" + b"x" * (70 << 20) + b"\"}"))
    g("scheduler config is a directory", "--prompt", "x", "--scheduler-config", "{dir}")
    g("scheduler config /dev/zero", "--prompt", "x", "--scheduler-config", "/dev/zero")
    g("scheduler config FIFO", "--prompt", "x", "--scheduler-config", "{dir}/fifo", setup=lambda d: fifo(d))
    g("scheduler config num_train_timesteps 1", "--prompt", "x", "--scheduler-config", "{dir}/s.json",
      setup=lambda d: write(d, "s.json", b"{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": 1}"))
    g("scheduler config zero SNR trailing DDIM epsilon", "--prompt", "x", "--scheduler-config", "{dir}/s.json",
      setup=lambda d: write(d, "s.json", b"{\"_class_name\": \"DDIMScheduler\", \"rescale_betas_zero_snr\": true, "
                            b"\"timestep_spacing\": \"trailing\"}"))
    g("scheduler config beta_end < 0", "--prompt", "x", "--scheduler-config", "{dir}/s.json",
      setup=lambda d: write(d, "s.json", b"{\"_class_name\": \"EulerDiscreteScheduler\", \"beta_end\": -5}"))
    # prompts
    g("prompt with control characters", "--prompt", "a\x01\x1b[31mred\x7f circle", expect="ok")
    g("prompt 100 KB", "--prompt", "a red circle " * 8000, expect="ok")
    g("prompt naming a file (@/etc/hostname)", "--prompt", "@/etc/hostname", expect="ok")
    g("prompt with quotes, backslashes and a newline, 10 KB", "--prompt", ("a \"red\" \\ circle\n" * 600), expect="ok")
    for p in ["((((((((((a", "(a:NaN)", "(a:1e309)", "[[[[[[", ")))))]]]]", "(a:-1e38)", "<lora:../../etc/passwd:1>",
              "<lora:nope:1>", "<lora:x:abc>"]:
        g("prompt " + repr(p), "--prompt", p, expect="any")
    g("negative prompt 100 KB", "--prompt", "x", "--negative-prompt", "blurry " * 14000, expect="ok")
    # images
    for name, data in [("empty", b""), ("text", b"hello"), ("truncated PNG", png(64, 64, truncate=True)),
                       ("corrupt IDAT", png(64, 64)[:40] + os.urandom(64) + png(64, 64)[-12:]),
                       ("header 100000x100000", png(100000, 100000, body=b"\0" * 10)),
                       ("bomb 20000x20000 grey", png(20000, 20000, color_type=0)),
                       ("GIF 65535x65535", b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\0" * 20),
                       ("BMP huge", b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) + struct.pack("<IiiHH", 40, 60000, 60000, 1, 24) + b"\0" * 24),
                       ("JPEG header only", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
                       ("bit depth 16 1x1", png(1, 1, body=b"\0" * 7, bit_depth=16))]:
        g("init image " + name, "--prompt", "x", "--init-image", "{dir}/i.png",
          setup=lambda d, data=data: write(d, "i.png", data), expect="any" if "16" in name else "fail")
    g("init image missing", "--prompt", "x", "--init-image", "{dir}/none.png")
    g("init image is a directory", "--prompt", "x", "--init-image", "{dir}")
    g("init image /dev/zero", "--prompt", "x", "--init-image", "/dev/zero")
    g("init image FIFO", "--prompt", "x", "--init-image", "{dir}/fifo", setup=lambda d: fifo(d))
    g("mask without init image", "--prompt", "x", "--mask", "{dir}/ok.png", setup=lambda d: write(d, "ok.png", png(64, 64)))
    g("mask of another size", "--prompt", "x", "--init-image", "{dir}/ok.png", "--mask", "{dir}/m.png", expect="any",
      setup=lambda d: (write(d, "ok.png", png(64, 64)), write(d, "m.png", png(32, 48))))
    g("control image 1x1", "--prompt", "x", "--controlnet", model + "/controlnet", "--control-image", "{dir}/c.png",
      setup=lambda d: write(d, "c.png", png(1, 1)))
    g("control image without controlnet", "--prompt", "x", "--control-image", "{dir}/ok.png",
      setup=lambda d: write(d, "ok.png", png(64, 64)))
    g("controlnet missing", "--prompt", "x", "--controlnet", "{dir}/none", "--control-image", "{dir}/ok.png",
      setup=lambda d: write(d, "ok.png", png(64, 64)))
    g("controlnet is a file", "--prompt", "x", "--controlnet", "{dir}/ok.png", "--control-image", "{dir}/ok.png",
      setup=lambda d: write(d, "ok.png", png(64, 64)))
    g("controlnet garbage model", "--prompt", "x", "--controlnet", "{dir}/cn", "--control-image", "{dir}/ok.png",
      setup=lambda d: (write(d, "ok.png", png(64, 64)), write(d, "cn/model.onnx", os.urandom(4096))))
    for a, b in [("2", "1"), ("-1", "1"), ("0.8", "0.2"), ("NaN", "1")]:
        g(f"control start {a} end {b}", "--prompt", "x", "--controlnet", model + "/controlnet", "--control-image",
          "{dir}/ok.png", "--control-start", a, "--control-end", b, setup=lambda d: write(d, "ok.png", png(64, 64)))
    g("control scale NaN", "--prompt", "x", "--controlnet", model + "/controlnet", "--control-image", "{dir}/ok.png",
      "--control-scale", "NaN", setup=lambda d: write(d, "ok.png", png(64, 64)))
    g("unknown control preprocessor", "--prompt", "x", "--controlnet", model + "/controlnet", "--control-image",
      "{dir}/ok.png", "--control-preprocess", "nope", setup=lambda d: write(d, "ok.png", png(64, 64)))
    g("adapter factor 5", "--prompt", "x", "--t2i-adapter", model + "/t2i-adapter", "--adapter-image", "{dir}/ok.png",
      "--adapter-factor", "5", setup=lambda d: write(d, "ok.png", png(64, 64)))
    # model folders
    g("model missing", "--prompt", "x", "--model", "{dir}/none")
    g("model is a file", "--prompt", "x", "--model", "{dir}/f", setup=lambda d: write(d, "f", b"x"))
    g("model empty folder", "--prompt", "x", "--model", "{dir}/m", setup=lambda d: os.makedirs(d + "/m"))
    for name, rel, data in [
            ("model_index invalid", "model_index.json", b"{"),
            ("model_index wrong types", "model_index.json", b"{\"_class_name\": 5, \"unet\": \"x\"}"),
            ("model_index NaN in an unused key", "model_index.json", b"{\"x\": NaN}"),
            ("model_index latin-1", "model_index.json", b"{\"\xe9\": 1}"),
            ("unet empty", "unet/model.onnx", b""),
            ("unet random bytes", "unet/model.onnx", os.urandom(8192)),
            ("unet config invalid", "unet/config.json", b"[1,2"),
            ("unet config sample_size -1", "unet/config.json", b"{\"sample_size\": -1}"),
            ("vae config wrong type", "vae_decoder/config.json", b"{\"scaling_factor\": \"big\"}"),
            ("scheduler config of folder NaN", "scheduler/scheduler_config.json", b"{\"beta_start\": NaN}"),
            ("vocab garbage", "tokenizer/vocab.json", b"\x00\x01\x02"),
            ("vocab empty object", "tokenizer/vocab.json", b"{}"),
            ("merges garbage", "tokenizer/merges.txt", os.urandom(2000)),
            ("defaults guidance loud", "conditio_defaults.json", b"{\"guidance_scale\": \"loud\"}"),
            ("defaults steps -5", "conditio_defaults.json", b"{\"steps\": -5}"),
            ("defaults unknown key", "conditio_defaults.json", b"{\"stepz\": 5}"),
            ("defaults deeply nested", "conditio_defaults.json", b"[" * 5000 + b"]" * 5000)]:
        g("model: " + name, "--prompt", "x", "--model", "{dir}/m", setup=lambda d, rel=rel, data=data: broken(d, model, rel, data),
          expect="any" if "unused key" in name else "fail")
    for name, rel in [("no unet", "unet"), ("no text encoder", "text_encoder"), ("no tokenizer", "tokenizer"),
                      ("no vocab", "tokenizer/vocab.json"), ("no merges", "tokenizer/merges.txt"),
                      ("no vae decoder", "vae_decoder"), ("no scheduler", "scheduler")]:
        g("model: " + name, "--prompt", "x", "--model", "{dir}/m", setup=lambda d, rel=rel: broken(d, model, rel, None),
          expect="any" if name == "no scheduler" else "fail")
    g("model: unet half a file", "--prompt", "x", "--model", "{dir}/m", setup=lambda d: broken(
        d, model, "unet/model.onnx", open(model + "/unet/model.onnx", "rb").read()[:200000]))
    g("model: unet is /dev/zero", "--prompt", "x", "--model", "{dir}/m",
      setup=lambda d: broken(d, model, "unet/model.onnx", "/dev/zero"))
    g("model: unet is a FIFO", "--prompt", "x", "--model", "{dir}/m",
      setup=lambda d: broken(d, model, "unet/model.onnx", "FIFO"))
    g("model: unet is a directory", "--prompt", "x", "--model", "{dir}/m",
      setup=lambda d: broken(d, model, "unet/model.onnx", "DIR"))
    g("model: config link outside the folder", "--prompt", "x", "--model", "{dir}/m",
      setup=lambda d: broken(d, model, "unet/config.json", "LINK:/etc/passwd"))
    g("model: symlink loop", "--prompt", "x", "--model", "{dir}/m",
      setup=lambda d: broken(d, model, "unet/model.onnx", "LOOP"))
    g("model: text encoder swapped for the VAE", "--prompt", "x", "--model", "{dir}/m",
      setup=lambda d: broken(d, model, "text_encoder/model.onnx", open(model + "/vae_decoder/model.onnx", "rb").read()))
    # plugins
    g("plugins missing", "--prompt", "x", "--plugins", "{dir}/none")
    g("plugins is a file", "--prompt", "x", "--plugins", "{dir}/f", setup=lambda d: write(d, "f", b"x"))
    g("plugins empty folder", "--prompt", "x", "--plugins", "{dir}/p", setup=lambda d: os.makedirs(d + "/p"))
    g("plugins only a corrupt jar", "--prompt", "x", "--plugins", "{dir}/p", setup=lambda d: write(d, "p/x.jar", b"PK\x03\x04junk"))
    g("plugins plus a corrupt jar", "--prompt", "x", "--plugins", "{dir}/p", expect="ok-warn",
      setup=lambda d: (copy_plugins(plugins, d + "/p"), write(d, "p/x.jar", b"PK\x03\x04junk")))
    g("plugins plus a zip", "--prompt", "x", "--plugins", "{dir}/p", expect="ok-warn",
      setup=lambda d: (copy_plugins(plugins, d + "/p"), write(d, "p/x.zip", zipslip())))
    g("plugins malformed lock", "--prompt", "x", "--plugins", "{dir}/p",
      setup=lambda d: (copy_plugins(plugins, d + "/p"), write(d, "p/conditio-plugins.lock", b"{")))
    # parameters, loras
    g("param unknown key (warned)", "--prompt", "x", "--param", "no_such_key=1", expect="any")
    g("param without =", "--prompt", "x", "--param", "novalue")
    g("param empty key", "--prompt", "x", "--param", "=1")
    g("lora missing", "--prompt", "x", "--lora", "{dir}/none.safetensors")
    g("lora garbage", "--prompt", "x", "--lora", "{dir}/l.safetensors", setup=lambda d: write(d, "l.safetensors", os.urandom(100)))
    g("lora header length huge", "--prompt", "x", "--lora", "{dir}/l.safetensors",
      setup=lambda d: write(d, "l.safetensors", struct.pack("<Q", 1 << 62) + b"{}"))
    g("lora scale NaN", "--prompt", "x", "--lora", "{dir}/l.safetensors:NaN", setup=lambda d: write(d, "l.safetensors", b""))
    # outputs
    g("out in a missing folder (created)", "--prompt", "x", "--out", "{dir}/no/such/out.png", out=False,
      expect="any")
    g("out under /proc", "--prompt", "x", "--out", "/proc/x.png", out=False)
    g("out is a directory", "--prompt", "x", "--out", "{dir}", out=False)
    # a device or FIFO must never be replaced by the output (as root, /dev/null would be)
    g("out is a FIFO", "--prompt", "x", "--out", "{dir}/fifo", out=False, setup=lambda d: fifo(d))
    g("save-latents is a FIFO", "--prompt", "x", "--save-latents", "{dir}/fifo", setup=lambda d: fifo(d))
    g("out empty", "--prompt", "x", "--out", "", out=False)
    g("save-latents under /proc", "--prompt", "x", "--save-latents", "/proc/x.npy")
    g("save-latents same as out", "--prompt", "x", "--save-latents", "{dir}/out.png")
    # commands
    c.append(Case("unknown subcommand", ["frobnicate"]))
    c.append(Case("unknown option", ["generate", "--frobnicate"]))
    c.append(Case("bench --runs 0", ["bench", "--runs", "0"]))
    c.append(Case("bench --runs -1", ["bench", "--runs", "-1"]))
    c.append(Case("bench --runs abc", ["bench", "--runs", "abc"]))
    c.append(Case("plugins --lock in a missing folder", ["plugins", "--lock", "--plugins", "{dir}/none"]))
    c.append(Case("serve port -1", ["serve", "--port", "-1"], timeout=30))
    c.append(Case("serve port 70000", ["serve", "--port", "70000"], timeout=30))
    return c


def write(d, rel, data):
    p = os.path.join(d, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


def fifo(d):
    os.mkfifo(os.path.join(d, "fifo"))


def zipslip():
    import io
    import zipfile
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("../../evil.txt", "x")
    return b.getvalue()


def copy_plugins(src, dst):
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(src):
        shutil.copy(os.path.join(src, f), dst)


def broken(d, model, rel, data):
    """A copy of the model folder (links to its files) with one file replaced, or removed when data is None."""
    m = os.path.join(d, "m")
    for root, dirs, files in os.walk(model):
        r = os.path.relpath(root, model)
        os.makedirs(os.path.join(m, r), exist_ok=True)
        for f in files:
            os.symlink(os.path.join(root, f), os.path.join(m, r, f))
    target = os.path.join(m, rel)
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    elif os.path.lexists(target):
        os.remove(target)
    if data is None:
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if data == "FIFO":
        os.mkfifo(target)
    elif data == "DIR":
        os.makedirs(target)
    elif data == "LOOP":
        os.symlink(target, target)
    elif isinstance(data, str) and data.startswith("LINK:"):
        os.symlink(data[5:], target)
    elif isinstance(data, str):
        os.symlink(data, target)
    else:
        with open(target, "wb") as f:
            f.write(data)


def snapshot(d):
    out = set()
    for root, dirs, files in os.walk(d):
        for f in files + [x for x in dirs if os.path.islink(os.path.join(root, x))]:
            out.add(os.path.relpath(os.path.join(root, f), d))
    return out


def classify(case, code, out, err, hung, before, after, tmp_left):
    text = out + err
    if hung:
        return "hang"
    if "\tat " in text or "Exception in thread" in text or "\n\tat" in text:
        return "stacktrace"
    errors = [l for l in err.splitlines() if l.strip() and not l.startswith("conditio: warning:")]
    warnings = [l for l in err.splitlines() if l.startswith("conditio: warning:")]
    new = sorted(after - before - {"log.txt"})
    if case.expect in ("ok", "ok-warn"):
        if code != 0:
            return "failed-ok"
        if case.expect == "ok-warn" and not warnings:
            return "no-warning"
        return "ok" if "out.png" in new else "no-output"
    if case.expect == "any" and code == 0:
        return "ok"
    if code == 0:
        return "wrong-ok"
    if new or tmp_left:
        return "left"
    return "clean" if len(errors) == 1 else "verbose"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", default=os.path.join(ROOT, "samples/cli/target/conditio"))
    ap.add_argument("--only", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    home = os.path.dirname(os.path.abspath(a.launcher))
    model = os.path.join(home, "models/shapes")
    plugins = os.path.join(home, "plugins")
    work = tempfile.mkdtemp(prefix="conditio-probe-")
    results = []
    counts = {}
    all_cases = cases(model, plugins)
    for i, case in enumerate(all_cases):
        if a.only and a.only not in case.name:
            continue
        d = os.path.join(work, f"case{i:03d}")
        tmp = os.path.join(work, f"tmp{i:03d}")
        os.makedirs(d)
        os.makedirs(tmp)
        if case.setup:
            case.setup(d)
        before = snapshot(d)
        args = [x.replace("{dir}", d) for x in case.args]
        env = dict(os.environ, CONDITIO_LOG=os.path.join(d, "log.txt"), TMPDIR=tmp,
                   CONDITIO_JAVA_OPTS="-Djava.io.tmpdir=" + tmp + " -Xmx2g", **case.env)
        t0 = time.time()
        p = subprocess.Popen([a.launcher] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        hung = False
        try:
            out, err = p.communicate(timeout=case.timeout or a.timeout)
        except subprocess.TimeoutExpired:
            hung = True
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        secs = time.time() - t0
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        after = snapshot(d)
        tmp_left = sorted(os.listdir(tmp))
        kind = classify(case, p.returncode, out, err, hung, before, after, tmp_left)
        if case.expect in ("ok", "ok-warn", "any") and kind == "ok":
            pass
        counts[kind] = counts.get(kind, 0) + 1
        first = (err.strip().splitlines() or [""])[0][:160]
        results.append({"case": case.name, "kind": kind, "exit": p.returncode, "seconds": round(secs, 1),
                        "stderr_first_line": first, "stderr_lines": len(err.strip().splitlines()),
                        "left": sorted(after - before - {"log.txt"}) + ["tmp/" + t for t in tmp_left]})
        print(f"{kind:11s} {p.returncode!s:>4s} {secs:5.1f}s  {case.name}: {first}", flush=True)
    total = len(results)
    print("\n" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f"  (of {total})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"counts": counts, "total": total, "results": results}, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if set(counts) <= {"clean", "ok"} else 1


if __name__ == "__main__":
    sys.exit(main())
