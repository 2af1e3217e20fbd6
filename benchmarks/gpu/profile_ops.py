"""Where an op's GPU time goes: for each case, the harness's number (one call on a cold L2, CUDA events)
next to the host time of one call (launching, checks, allocation; no wait for the GPU unless the op
itself waits) and the kernels one call runs (name, device time, from torch.profiler). When the event
time is near the host time and well above the kernels' sum, the op is bound by the host, not by the
device's memory. Needs a GPU, torch and the built generated_ops.

    python benchmarks/gpu/profile_ops.py [--json OUT] [--host-trace] [name-substring ...]
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
            saved = [t.detach() for t in wrt]
            backward_op = getattr(torch.ops.generated_ops, op + "_backward")
            eps = 1e-5 if op == "layer_norm" else 1e-6
            return {
                "fwd generated": lambda: generated_ops.layer_norm(x, w, b) if op == "layer_norm" else generated_ops.rms_norm(x, w),
                "bwd generated": lambda: torch.autograd.grad(ours, wrt, g, retain_graph=True),
                "bwd eager": lambda: torch.autograd.grad(theirs, wrt, g, retain_graph=True),
                "bwd op alone": lambda: backward_op(g, *saved, eps),
            }
        return f"{op} {'x'.join(map(str, shape))} {str(dtype).split('.')[-1]}", setup

    def softmax(op, shape, dtype):
        def setup():
            x = torch.randn(shape, device=dev, dtype=dtype, requires_grad=True)
            ours, theirs = getattr(generated_ops, op)(x), getattr(torch, op)(x, -1)
            g = torch.randn_like(ours)
            xd, yd = x.detach(), ours.detach()
            backward_op = getattr(torch.ops.generated_ops, op + "_backward")
            return {
                "fwd generated": lambda: getattr(generated_ops, op)(x),
                "bwd generated": lambda: torch.autograd.grad(ours, (x,), g, retain_graph=True),
                "bwd eager": lambda: torch.autograd.grad(theirs, (x,), g, retain_graph=True),
                "bwd op alone": lambda: backward_op(g, xd, yd),
            }
        return f"{op} {'x'.join(map(str, shape))} {str(dtype).split('.')[-1]}", setup

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

    def mse_loss(shape, dtype):
        def setup():
            x = torch.randn(shape, device=dev, dtype=dtype, requires_grad=True)
            t = torch.randn(shape, device=dev, dtype=dtype)
            ours, theirs = generated_ops.mse_loss(x, t), F.mse_loss(x, t)
            g = torch.randn_like(ours)
            xd = x.detach()
            return {
                "fwd generated": lambda: generated_ops.mse_loss(xd, t),
                "fwd eager": lambda: F.mse_loss(xd, t),
                "bwd generated": lambda: torch.autograd.grad(ours, (x,), g, retain_graph=True),
                "bwd eager": lambda: torch.autograd.grad(theirs, (x,), g, retain_graph=True),
                "bwd op alone": lambda: torch.ops.generated_ops.mse_loss_backward(g, xd, t, "mean"),
            }
        return f"mse_loss {'x'.join(map(str, shape))} {str(dtype).split('.')[-1]}", setup

    def unary(op, numel, dtype):
        def setup():
            x = torch.randn(numel, device=dev, dtype=dtype, requires_grad=True)
            ours, theirs = getattr(generated_ops, op)(x), getattr(F, op)(x)
            g = torch.randn_like(ours)
            xd = x.detach()
            backward_op = getattr(torch.ops.generated_ops, op + "_backward")
            return {
                "bwd generated": lambda: torch.autograd.grad(ours, (x,), g, retain_graph=True),
                "bwd eager": lambda: torch.autograd.grad(theirs, (x,), g, retain_graph=True),
                "bwd op alone": lambda: backward_op(g, xd),
            }
        return f"{op} {numel} {str(dtype).split('.')[-1]}", setup

    def autograd_only(name, make, ours_fn, theirs_fn):
        """Forward and backward of ours and the torch peer, through autograd (for ops whose backward op
        takes more than the saved inputs)."""
        def setup():
            args = make()
            ours, theirs = ours_fn(*args), theirs_fn(*args)
            g = torch.randn_like(ours)
            wrt = [a for a in args if a.requires_grad]
            return {
                "fwd generated": lambda: ours_fn(*args),
                "fwd eager": lambda: theirs_fn(*args),
                "bwd generated": lambda: torch.autograd.grad(ours, wrt, g, retain_graph=True),
                "bwd eager": lambda: torch.autograd.grad(theirs, wrt, g, retain_graph=True),
            }
        return name, setup

    def binary(op, numel, dtype):
        def make():
            return [torch.randn(numel, device=dev, dtype=dtype, requires_grad=True) for _ in range(2)]
        return autograd_only(f"{op} {numel} {str(dtype).split('.')[-1]}", make, getattr(generated_ops, op),
                             getattr(torch, op))

    def reduce(op, shape, dtype):
        def make():
            return [torch.randn(shape, device=dev, dtype=dtype, requires_grad=True)]
        return autograd_only(f"{op} {'x'.join(map(str, shape))} {str(dtype).split('.')[-1]}", make,
                             getattr(generated_ops, op), lambda x: getattr(torch, op)(x, -1))

    def attention(shape, dtype):
        def make():
            return [torch.randn(shape, device=dev, dtype=dtype, requires_grad=True) for _ in range(3)]

        def eager(q, k, v):
            w = torch.softmax(q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5, dim=-1)
            return w @ v, w

        return autograd_only(f"fused_attention {'x'.join(map(str, shape))} {str(dtype).split('.')[-1]}", make,
                             lambda *a: generated_ops.fused_attention(*a)[0], lambda *a: eager(*a)[0])

    out = []
    for dtype in (torch.float32, torch.bfloat16):
        out.append(attention((4, 16, 2048, 64), dtype))
        out.append(binary("mul", 1 << 24, dtype))
        out.append(binary("div", 1 << 24, dtype))
        out.append(reduce("sum", (4096, 4096), dtype))
        out.append(reduce("mean", (4096, 4096), dtype))
        out.append(unary("silu", 1 << 24, dtype))
        out.append(unary("tanh", 1 << 24, dtype))
        for shape in ((4096, 4096), (32768, 1024)):
            out.append(norm("layer_norm", shape, dtype))
            out.append(norm("rms_norm", shape, dtype))
        out.append(softmax("softmax", (4096, 4096), dtype))
        out.append(softmax("log_softmax", (4096, 4096), dtype))
        out.append(cross_entropy((4096, 4096), dtype))
        out.append(mse_loss((4096, 4096), dtype))
    return out


def host_overhead() -> list[dict]:
    """Host time of one call on tiny tensors ([8, 64]: the device work is negligible), ours beside
    eager's, forward and backward (torch.autograd.grad): what each call costs the CPU."""
    dev = "cuda"
    x = torch.randn(8, 64, device=dev, requires_grad=True)
    w = torch.randn(64, device=dev, requires_grad=True)
    b = torch.randn(64, device=dev, requires_grad=True)
    t = torch.randint(0, 64, (8,), device=dev)
    pairs = {
        "silu": (lambda: generated_ops.silu(x), lambda: F.silu(x), (x,)),
        "add": (lambda: generated_ops.add(x, x), lambda: torch.add(x, x), (x,)),
        "softmax": (lambda: generated_ops.softmax(x), lambda: torch.softmax(x, -1), (x,)),
        "layer_norm": (lambda: generated_ops.layer_norm(x, w, b), lambda: F.layer_norm(x, (64,), w, b), (x, w, b)),
        "cross_entropy": (lambda: generated_ops.cross_entropy(x, t), lambda: F.cross_entropy(x, t), (x,)),
    }

    def per_call(fn, n=300):
        for _ in range(50):
            fn()
        torch.cuda.synchronize()
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best = min(best, (time.perf_counter() - t0) / n)
            torch.cuda.synchronize()
        return best

    rows = []
    for name, (ours, eager, wrt) in pairs.items():
        yo, ye = ours(), eager()
        go, ge = torch.ones_like(yo), torch.ones_like(ye)
        rows.append({"op": name, "fwd_ours_s": per_call(ours), "fwd_eager_s": per_call(eager),
                     "bwd_ours_s": per_call(lambda: torch.autograd.grad(yo, wrt, go, retain_graph=True)),
                     "bwd_eager_s": per_call(lambda: torch.autograd.grad(ye, wrt, ge, retain_graph=True))})
    return rows


def host_trace(ops=("layer_norm", "silu")) -> None:
    """Where the host time of a tiny backward goes, ours beside eager's: torch.profiler's CPU ops by
    self time (allocation, dispatch, launches), 200 calls each."""
    dev = "cuda"
    x = torch.randn(8, 64, device=dev, requires_grad=True)
    w = torch.randn(64, device=dev, requires_grad=True)
    b = torch.randn(64, device=dev, requires_grad=True)
    calls = {
        "layer_norm": ((lambda: generated_ops.layer_norm(x, w, b)), (lambda: F.layer_norm(x, (64,), w, b)), (x, w, b)),
        "silu": ((lambda: generated_ops.silu(x)), (lambda: F.silu(x)), (x,)),
    }
    for op in ops:
        ours, eager, wrt = calls[op]
        for impl, fn in (("generated", ours), ("eager", eager)):
            y = fn()
            g = torch.ones_like(y)
            for _ in range(50):
                torch.autograd.grad(y, wrt, g, retain_graph=True)
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(200):
                    torch.autograd.grad(y, wrt, g, retain_graph=True)
                torch.cuda.synchronize()
            print(f"\nhost trace: {op} backward, {impl} (200 calls)")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=60))


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
    ap.add_argument("--host-trace", action="store_true", help="also print where a tiny backward's host time goes")
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
    host = host_overhead()
    print(f"\nhost time a call, [8, 64] float32 (us): {'op':14} {'fwd ours':>9} {'fwd eager':>9} {'bwd ours':>9} {'bwd eager':>9}")
    for h in host:
        print(f"{'':41}{h['op']:14} {h['fwd_ours_s'] * 1e6:9.1f} {h['fwd_eager_s'] * 1e6:9.1f} "
              f"{h['bwd_ours_s'] * 1e6:9.1f} {h['bwd_eager_s'] * 1e6:9.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cases": rows, "host_overhead": host}, f, indent=1)
    if args.host_trace:
        host_trace()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
