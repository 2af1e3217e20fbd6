"""GPU benchmark of the generated optimizer steps against torch.optim's, side by side in one process.

Two levels, on the same tensors:
  op:    the kernels alone, lists made beforehand: torch.ops.generated_ops.adam_step / sgd_step against
         torch's fused kernels (torch._fused_adam_ / _fused_adamw_ / _fused_sgd_, with the step increment
         torch.optim launches before them) and torch's foreach composite;
  class: one optimizer.step() of generated_ops.Adam / AdamW / SGD against torch.optim's with fused=True
         and foreach=True (Python bookkeeping included: with many small tensors the host can bind).
Every case is checked first: after one step from the same state, the generated result against torch's
fused one. Times are CUDA-event medians (triton.testing.do_bench when present, else events around
repeated calls); GB/s counts param read + written, grad read, each state read + written; the copy
ceiling is a device copy of as many bytes, timed in the same run.

    python benchmarks/gpu/bench_optim.py --json OUT.json        # on the GPU machine, after the build
    python benchmarks/gpu/bench_optim.py --device cpu --small   # a smoke run of this script anywhere
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
SHAPES = [(10, 1_000_000), (160, 65_536), (32, 1_048_576), (1000, 10_000)]  # (tensors, elements each)
SMALL_SHAPES = [(3, 5000), (20, 300)]


@dataclass
class Row:
    opt: str
    level: str  # op | class | copy
    dtype: str
    shape: list
    impl: str
    ms: float
    bytes: int
    max_rel_err: float | None = None

    @property
    def gbps(self) -> float:
        return self.bytes / self.ms / 1e6


def timer(device: str):
    if device == "cuda":
        try:
            from triton.testing import do_bench

            return lambda fn: do_bench(fn, warmup=25, rep=200, return_mode="median")
        except ImportError:
            pass

        def events(fn) -> float:
            for _ in range(5):
                fn()
            times = []
            for _ in range(30):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end))
            return statistics.median(times)

        return events

    def host(fn) -> float:
        fn()
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times)

    return host


SETTINGS = {
    "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    "AdamW": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
    "SGD": dict(lr=1e-3, momentum=0.9),
}
STATES = {"Adam": ("exp_avg", "exp_avg_sq"), "AdamW": ("exp_avg", "exp_avg_sq"), "SGD": ("momentum_buffer",)}


def make(shape, dtype, device, seed=0):
    g = torch.Generator(device=device).manual_seed(seed)
    tensors, n = shape
    params = [torch.randn(n, generator=g, device=device).to(dtype) for _ in range(tensors)]
    grads = [torch.randn(n, generator=g, device=device).to(dtype) for _ in range(tensors)]
    return params, grads


def op_callables(name, params, grads, device):
    """(generated, torch fused, torch foreach) closures over private state lists, all at step 0."""
    import generated_ops  # noqa: F401

    s = SETTINGS[name]
    n = len(params)

    def states(k):
        return [[torch.zeros_like(p) for p in params] for _ in range(k)]

    def steps():
        return [torch.zeros((), device=device) for _ in range(n)]

    out = {}
    if name in ("Adam", "AdamW"):
        beta1, beta2 = s["betas"]
        m1, v1 = states(2)
        st1 = steps()
        p1 = [p.clone() for p in params]
        out["generated"] = (p1, lambda: torch.ops.generated_ops.adam_step(
            p1, grads, m1, v1, [], st1, lr=s["lr"], beta1=beta1, beta2=beta2, eps=s["eps"],
            weight_decay=s["weight_decay"], decoupled_weight_decay=name == "AdamW"))
        fused = torch._fused_adamw_ if name == "AdamW" else torch._fused_adam_
        m2, v2 = states(2)
        st2 = steps()
        p2 = [p.clone() for p in params]

        def torch_fused():
            torch._foreach_add_(st2, 1)  # torch.optim increments the steps before its fused kernel
            fused(p2, grads, m2, v2, [], st2, lr=s["lr"], beta1=beta1, beta2=beta2, weight_decay=s["weight_decay"],
                  eps=s["eps"], amsgrad=False, maximize=False)

        if device == "cuda":
            out["torch_fused"] = (p2, torch_fused)
    else:
        (b1,) = states(1)
        st1 = steps()
        p1 = [p.clone() for p in params]
        out["generated"] = (p1, lambda: torch.ops.generated_ops.sgd_step(
            p1, grads, b1, st1, lr=s["lr"], momentum=s["momentum"]))
        if device == "cuda" and hasattr(torch, "_fused_sgd_"):
            (b2,) = states(1)
            p2 = [p.clone() for p in params]
            first = [True]

            def torch_fused():
                torch._fused_sgd_(p2, grads, b2, weight_decay=0.0, momentum=s["momentum"], lr=s["lr"],
                                  dampening=0.0, nesterov=False, maximize=False, is_first_step=first[0])
                first[0] = False

            out["torch_fused"] = (p2, torch_fused)
    return out


def class_callables(name, params, grads, device):
    import generated_ops

    out = {}
    peers = {"generated": lambda ps: getattr(generated_ops, name)(ps, **SETTINGS[name]),
             "torch_fused": lambda ps: getattr(torch.optim, name)(ps, **SETTINGS[name], fused=True),
             "torch_foreach": lambda ps: getattr(torch.optim, name)(ps, **SETTINGS[name], foreach=True)}
    for impl, make_opt in peers.items():
        ps = [p.clone().requires_grad_() for p in params]
        for p, g in zip(ps, grads):
            p.grad = g
        try:
            opt = make_opt(ps)
        except (RuntimeError, TypeError, ValueError) as exc:
            print(f"  skip {name} {impl}: {exc}", file=sys.stderr)
            continue
        out[impl] = (ps, opt.step)
    return out


def max_rel_err(a_list, b_list) -> float:
    worst = 0.0
    for a, b in zip(a_list, b_list):
        a, b = a.detach().double(), b.detach().double()
        worst = max(worst, ((a - b).abs() / b.abs().clamp_min(1e-3)).max().item() if a.numel() else 0.0)
    return worst


def run(device: str, shapes, dtypes) -> list[Row]:
    bench = timer(device)
    rows = []
    for dtype in dtypes:
        dt = str(dtype).replace("torch.", "")
        for shape in shapes:
            params, grads = make(shape, dtype, device)
            numel = shape[0] * shape[1]
            esize = params[0].element_size()
            src = torch.randn(numel, device=device).to(dtype)
            for name in SETTINGS:
                nbytes = numel * esize * (3 + 2 * len(STATES[name]))
                dst_c, src_c = torch.empty(nbytes // 2 // esize, dtype=dtype, device=device), None
                src_c = torch.randn(dst_c.numel(), device=device).to(dtype)
                rows.append(Row(name, "copy", dt, list(shape), "copy", bench(lambda: dst_c.copy_(src_c)), nbytes))
                del src_c, dst_c
                for level, make_calls in (("op", op_callables), ("class", class_callables)):
                    calls = make_calls(name, params, grads, device)
                    # Checked first: one step from the same state, generated against torch's fused step.
                    for ps, fn in calls.values():
                        fn()
                    ref = calls.get("torch_fused", calls.get("torch_foreach"))
                    err = {impl: (max_rel_err(ps, ref[0]) if ref else None) for impl, (ps, _) in calls.items()}
                    for impl, (ps, fn) in calls.items():
                        rows.append(Row(name, level, dt, list(shape), impl, bench(fn), nbytes, err[impl]))
                    del calls
            del params, grads, src
            if device == "cuda":
                torch.cuda.empty_cache()
    return rows


def table(rows: list[Row]) -> str:
    copy = {(r.opt, r.dtype, tuple(r.shape)): r for r in rows if r.level == "copy"}
    lines = ["| optimizer | dtype | tensors x elements | level | impl | ms | GB/s | % of copy | vs torch fused | err vs fused |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    fused = {(r.opt, r.dtype, tuple(r.shape), r.level): r for r in rows if r.impl == "torch_fused"}
    for r in rows:
        if r.level == "copy":
            continue
        c = copy[(r.opt, r.dtype, tuple(r.shape))]
        f = fused.get((r.opt, r.dtype, tuple(r.shape), r.level))
        speed = f"{f.ms / r.ms:.2f}x" if f else ""
        err = f"{r.max_rel_err:.1e}" if r.max_rel_err is not None else ""
        lines.append(f"| {r.opt} | {r.dtype} | {r.shape[0]} x {r.shape[1]} | {r.level} | {r.impl} | {r.ms:.4f} | "
                     f"{r.gbps:.0f} | {100 * c.ms / r.ms:.0f}% | {speed} | {err} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--small", action="store_true", help="tiny shapes: a smoke run")
    ap.add_argument("--dtypes", default="float32,bfloat16")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    dtypes = [getattr(torch, d) for d in args.dtypes.split(",")]
    if args.device == "cpu":
        dtypes = [d for d in dtypes if d in (torch.float32, torch.float64)] or [torch.float32]
    rows = run(args.device, SMALL_SHAPES if args.small else SHAPES, dtypes)
    env = {"torch": torch.__version__, "cuda": torch.version.cuda,
           "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None}
    if args.json:
        args.json.write_text(json.dumps({"env": env, "rows": [asdict(r) | {"gbps": r.gbps} for r in rows]}, indent=1))
    print(env)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
