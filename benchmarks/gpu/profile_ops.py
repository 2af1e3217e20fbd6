"""Where an op's GPU time goes: for each case, the harness's number (one call on a cold L2, CUDA events)
next to the host time of one call (launching, checks, allocation; no wait for the GPU unless the op
itself waits) and the kernels one call runs (name, device time, from torch.profiler). When the event
time is near the host time and well above the kernels' sum, the op is bound by the host, not by the
device's memory. Needs a GPU, torch and the built generated_ops.

    python benchmarks/gpu/profile_ops.py [--json OUT] [name-substring ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import generated_ops
from generated_ops.benchmarks import _harness as H


def _cases():
    """(name, setup) pairs; setup() returns {impl: zero-argument callable}."""
    dev = "cuda"

    def norm(op, shape, dtype):
        def setup():
            n = shape[-1]
            x = torch.randn(shape, device=dev, dtype=dtype, requires_grad=True)
            w = torch.randn(n, device=dev, dtype=dtype, requires_grad=True)
            b = torch.randn(n, device=dev, dtype=dtype, requires_grad=True)
            if op == "layer_norm":
                ours = generated_ops.layer_norm(x, w, b)
                theirs = F.layer_norm(x, (n,), w, b)
                wrt = (x, w, b)
            else:
                ours = generated_ops.rms_norm(x, w)
                theirs = F.rms_norm(x, (n,), w)
                wrt = (x, w)
            g = torch.randn_like(ours)
            return {
                "fwd generated": lambda: generated_ops.layer_norm(x, w, b) if op == "layer_norm" else generated_ops.rms_norm(x, w),
                "bwd generated": lambda: torch.autograd.grad(ours, wrt, g, retain_graph=True),
                "bwd eager": lambda: torch.autograd.grad(theirs, wrt, g, retain_graph=True),
            }
        return f"{op} {'x'.join(map(str, shape))} {str(dtype).split('.')[-1]}", setup

    def softmax(shape, dtype):
        def setup():
            x = torch.randn(shape, device=dev, dtype=dtype, requires_grad=True)
            ours, theirs = generated_ops.softmax(x), torch.softmax(x, -1)
            g = torch.randn_like(ours)
            return {
                "fwd generated": lambda: generated_ops.softmax(x),
                "bwd generated": lambda: torch.autograd.grad(ours, (x,), g, retain_graph=True),
                "bwd eager": lambda: torch.autograd.grad(theirs, (x,), g, retain_graph=True),
            }
        return f"softmax {'x'.join(map(str, shape))} {str(dtype).split('.')[-1]}", setup

    def cross_entropy(shape, dtype):
        def setup():
            x = torch.randn(shape, device=dev, dtype=dtype, requires_grad=True)
            t = torch.randint(0, shape[-1], shape[:-1], device=dev)
            ours, theirs = generated_ops.cross_entropy(x, t), F.cross_entropy(x, t)
            g = torch.randn_like(ours)
            xd = x.detach()
            return {
                "fwd generated": lambda: generated_ops.cross_entropy(xd, t),
                "fwd eager": lambda: F.cross_entropy(xd, t),
                "bwd generated": lambda: torch.autograd.grad(ours, (x,), g, retain_graph=True),
                "bwd eager": lambda: torch.autograd.grad(theirs, (x,), g, retain_graph=True),
                "bwd op alone": lambda: torch.ops.generated_ops.cross_entropy_backward(g, xd, t, -100, 0.0, "mean"),
            }
        return f"cross_entropy {'x'.join(map(str, shape))} {str(dtype).split('.')[-1]}", setup

    out = []
    for dtype in (torch.float32, torch.bfloat16):
        for shape in ((4096, 4096), (32768, 1024)):
            out.append(norm("layer_norm", shape, dtype))
            out.append(norm("rms_norm", shape, dtype))
        out.append(softmax((4096, 4096), dtype))
        out.append(cross_entropy((4096, 4096), dtype))
    return out


def host_seconds(fn) -> float:
    """Median host time of one call started on an idle GPU (what the call costs the CPU)."""
    times = []
    for _ in range(20):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    torch.cuda.synchronize()
    return statistics.median(times)


def kernels(fn) -> list[tuple[str, float]]:
    """(name, seconds) of each kernel and copy one call runs on the device."""
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    out = []
    for e in prof.events():
        if "CUDA" in str(e.device_type):
            us = getattr(e, "device_time", None)
            out.append((e.name, (us if us is not None else e.cuda_time) / 1e6))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("select", nargs="*")
    args = ap.parse_args()
    rows = []
    for name, setup in _cases():
        if args.select and not any(s in name for s in args.select):
            continue
        for impl, fn in setup().items():
            H.warm_up(fn, "cuda")
            event = statistics.median(H.cuda_event_seconds(fn) for _ in range(30))
            host = host_seconds(fn)
            ks = kernels(fn)
            rows.append({"case": name, "impl": impl, "event_s": event, "host_s": host,
                         "kernel_s": sum(t for _, t in ks), "kernels": ks})
            torch.cuda.empty_cache()
    print(f"{'case':28} {'impl':14} {'event us':>9} {'host us':>8} {'kernels us':>10}  kernels")
    for r in rows:
        ks = ", ".join(f"{n[:28]} {t * 1e6:.1f}" for n, t in r["kernels"])
        print(f"{r['case']:28} {r['impl']:14} {r['event_s'] * 1e6:9.1f} {r['host_s'] * 1e6:8.1f} "
              f"{r['kernel_s'] * 1e6:10.1f}  {ks}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
