"""GPU benchmarks of the generated ops against their peers, measured side by side in one process.

Each generated op runs against the eager composite and torch.compile(dynamic=False) of that composite,
forward and backward, in float32 and bfloat16, on inputs of hundreds of MB drawn fresh (never zeros).
Times are CUDA-event medians (triton.testing.do_bench, return_mode="median"); memory-bound ops are also
given as GB/s (bytes read once + written once) and as a fraction of a device-to-device copy of the same
size timed in the same run. Every case is checked against a float64 reference before it is timed.

    python benchmarks/gpu/bench_gpu.py --json OUT.json          # on the GPU machine, after the build
    python benchmarks/gpu/bench_gpu.py --device cpu --small     # a smoke run of this script anywhere
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parents[2]
ATTENTION_SHAPE = (4, 16, 2048, 64)  # batch, heads, seq, d: an LLM-sized attention
SWISH_NUMEL = 1 << 28  # 268M elements: 1 GiB of float32 per tensor


@dataclass
class Row:
    op: str
    pass_: str
    dtype: str
    shape: list
    impl: str  # generated | eager | compile | copy
    ms: float
    bytes: int = 0
    flops: int = 0
    rel_err: float | None = None  # against float64, checked before timing
    peak_mb: float | None = None  # memory allocated beyond the live tensors during the call, at its peak

    @property
    def gbps(self) -> float:
        return self.bytes / self.ms / 1e6 if self.bytes else 0.0

    @property
    def tflops(self) -> float:
        return self.flops / self.ms / 1e9 if self.flops else 0.0


def timer(device: str) -> Callable[[Callable[[], object]], float]:
    if device == "cuda":
        from triton.testing import do_bench

        return lambda fn: do_bench(fn, warmup=50, rep=300, return_mode="median")

    def host(fn) -> float:  # the smoke path: host clock, median of a few
        fn()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1e3)
        return statistics.median(times)

    return host


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


def randn(shape, dtype, device, requires_grad=False) -> torch.Tensor:
    return torch.randn(shape, device=device, dtype=dtype).requires_grad_(requires_grad)


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

def copy_ceiling(device: str, bench, numel: int) -> Row:
    x = randn((numel,), torch.float32, device)
    y = torch.empty_like(x)
    ms = bench(lambda: y.copy_(x))
    return Row("copy", "d2d", "float32", [numel], "copy", ms, bytes=2 * x.nbytes)


def _ops():
    sys.path.insert(0, str(ROOT))
    import generated_ops  # builds and loads the extension when needed

    return generated_ops


def swish_cases(device: str, bench, numel: int, dtypes) -> list[Row]:
    generated_ops = _ops()
    beta = 1.25

    def eager(x):
        return x * torch.sigmoid(beta * x)

    impls = {"generated": lambda x: generated_ops.parametric_swish(x, beta), "eager": eager,
             "compile": torch.compile(eager, dynamic=False)}
    rows = []
    for dtype in dtypes:
        name = str(dtype).removeprefix("torch.")
        x = randn((numel,), dtype, device, requires_grad=True)
        g = randn((numel,), dtype, device)
        xd = x.detach().double().requires_grad_()
        ref = eager(xd)
        (ref_dx,) = torch.autograd.grad(ref, xd, g.double())
        ref = ref.detach()
        size = x.element_size()
        for impl, fn in impls.items():
            out = fn(x)
            (dx,) = torch.autograd.grad(out, x, g, retain_graph=True)
            fwd_err, bwd_err = rel_err(out, ref), rel_err(dx, ref_dx)
            with torch.no_grad():
                ms = bench(lambda: fn(x))
            rows.append(Row("parametric_swish", "forward", name, [numel], impl, ms, bytes=2 * numel * size,
                            rel_err=fwd_err))
            ms = bench(lambda: torch.autograd.grad(out, x, g, retain_graph=True))
            rows.append(Row("parametric_swish", "backward", name, [numel], impl, ms, bytes=3 * numel * size,
                            rel_err=bwd_err))
            del out, dx
        del x, g, xd, ref, ref_dx
        torch.cuda.empty_cache() if device == "cuda" else None
    return rows


def attention_reference(q, k, v, scale=None):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    weights = torch.softmax(q @ k.transpose(-2, -1) * scale, dim=-1)
    return weights @ v, weights


def attention_cases(device: str, bench, shape, dtypes) -> list[Row]:
    generated_ops = _ops()
    impls = {"generated": generated_ops.fused_attention, "eager": attention_reference,
             "compile": torch.compile(attention_reference, dynamic=False)}
    b, h, s, d = shape
    flops = 4 * b * h * s * s * d
    weights_bytes = b * h * s * s  # times the element size below
    rows = []
    for dtype in dtypes:
        name = str(dtype).removeprefix("torch.")
        size = torch.tensor([], dtype=dtype).element_size()
        q, k, v = (randn(shape, dtype, device, requires_grad=True) for _ in range(3))
        g = randn(shape, dtype, device)
        # float64 reference on the first batch element (the whole batch in float64 would not add much)
        ref_in = [t[:1].detach().double().requires_grad_() for t in (q, k, v)]
        ref_out, ref_w = attention_reference(*ref_in)
        ref_grads = torch.autograd.grad(ref_out, ref_in, g[:1].double())
        for impl, fn in impls.items():
            out, w = fn(q, k, v)
            grads = torch.autograd.grad(out, (q, k, v), g, retain_graph=True)
            fwd_err = max(rel_err(out[:1], ref_out), rel_err(w[:1], ref_w))
            bwd_err = max(rel_err(a[:1], r) for a, r in zip(grads, ref_grads))
            del grads
            with torch.no_grad():
                ms = bench(lambda: fn(q, k, v))
            # least traffic of any method that returns the weights: write them once, read q, k, v, write out
            rows.append(Row("fused_attention", "forward", name, list(shape), impl, ms,
                            bytes=(weights_bytes + 4 * q.numel()) * size, flops=flops, rel_err=fwd_err))
            ms = bench(lambda: torch.autograd.grad(out, (q, k, v), g, retain_graph=True))
            rows.append(Row("fused_attention", "backward", name, list(shape), impl, ms, flops=2 * flops,
                            rel_err=bwd_err))
            del out, w
        rows += attention_parts(bench, q, k, v, name)
        del q, k, v, g, ref_in, ref_out, ref_w, ref_grads
        torch.cuda.empty_cache() if device == "cuda" else None
    return rows


def attention_parts(bench, q, k, v, dtype_name: str) -> list[Row]:
    """The pieces both sides are made of, timed alone, to say where the time goes."""
    scale = 1.0 / math.sqrt(q.shape[-1])
    b, h, s, d = q.shape
    q3, k3, v3 = (t.detach().reshape(b * h, s, d) for t in (q, k, v))
    scores = torch.empty(b * h, s, s, device=q.device, dtype=q.dtype)
    weights_bytes = scores.numel() * scores.element_size()
    parts = {
        "scores GEMM (baddbmm, alpha=scale)": (lambda: scores.baddbmm_(q3, k3.transpose(1, 2), beta=0, alpha=scale), weights_bytes),
        "eager scale (scores * scale)": (lambda: scores * scale, 2 * weights_bytes),
        "eager softmax (torch.softmax)": (lambda: torch.softmax(scores, dim=-1), 2 * weights_bytes),
        "output GEMM (bmm)": (lambda: torch.bmm(scores, v3), weights_bytes),
    }
    rows = []
    with torch.no_grad():
        for name, (fn, nbytes) in parts.items():
            rows.append(Row("fused_attention", "part", dtype_name, [b, h, s, d], name, bench(fn), bytes=nbytes))
    return rows


# ---------------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------------
# Rowwise ops at LLM shapes, against eager, torch.compile and Liger-Kernel (when it imports).

# (op, shape, dtypes): the shapes of the LLM-scale table, register-path sizes beside them.
ROWWISE_CASES = [
    ("softmax", (8192, 4096), ("bfloat16",)),
    ("softmax", (4096, 32000), ("bfloat16", "float32")),
    ("softmax", (1024, 128256), ("bfloat16",)),
    ("softmax", (16, 262144), ("float32",)),
    ("log_softmax", (4096, 32000), ("bfloat16",)),
    ("rms_norm", (16384, 4096), ("bfloat16",)),
    ("rms_norm", (4096, 32768), ("bfloat16", "float32")),
    ("layer_norm", (16384, 4096), ("bfloat16",)),
    ("layer_norm", (8192, 8192), ("bfloat16",)),
    ("layer_norm", (4096, 32768), ("bfloat16",)),
    ("cross_entropy", (8192, 32000), ("bfloat16", "float32")),
    ("cross_entropy", (8192, 128256), ("bfloat16",)),
]
SMALL_ROWWISE_CASES = [(op, (4, 40000), ("float32",)) for op in ("softmax", "log_softmax", "rms_norm", "layer_norm",
                                                                     "cross_entropy")]


def _liger():
    """Liger-Kernel's functions by op name, or {} where it does not import (it needs Triton and CUDA)."""
    try:
        from liger_kernel.transformers import functional as L
    except Exception as e:  # noqa: BLE001 - any import failure means: no Liger peer in this run
        print(f"Liger-Kernel not raced: {type(e).__name__}: {e}", file=sys.stderr)
        return {}
    return {
        "softmax": L.liger_softmax,
        "rms_norm": lambda x, w: L.liger_rms_norm(x, w, 1e-6, casting_mode="llama", in_place=True),
        "layer_norm": lambda x, w, b: L.liger_layer_norm(x, w, b, 1e-5),
        "cross_entropy": lambda x, t: L.liger_cross_entropy(x, t),
    }


def _rowwise_peers(op: str, ops):
    """(generated, eager) callables of one rowwise op, and its inputs' maker."""
    F = torch.nn.functional
    if op in ("softmax", "log_softmax"):
        eager = {"softmax": lambda x: torch.softmax(x, -1), "log_softmax": lambda x: torch.log_softmax(x, -1)}[op]
        return getattr(ops, op), eager, lambda shape, dt, dev: [randn(shape, dt, dev, True)]
    if op == "rms_norm":
        return (ops.rms_norm, lambda x, w: F.rms_norm(x, [x.shape[-1]], w, 1e-6),
                lambda shape, dt, dev: [randn(shape, dt, dev, True), randn(shape[-1:], dt, dev, True)])
    if op == "layer_norm":
        return (ops.layer_norm, lambda x, w, b: F.layer_norm(x, [x.shape[-1]], w, b, 1e-5),
                lambda shape, dt, dev: [randn(shape, dt, dev, True), randn(shape[-1:], dt, dev, True),
                                        randn(shape[-1:], dt, dev, True)])
    if op == "cross_entropy":
        return (ops.cross_entropy, F.cross_entropy,
                lambda shape, dt, dev: [randn(shape, dt, dev, True),
                                        torch.randint(0, shape[-1], shape[:-1], device=dev)])
    raise ValueError(op)


def _peak_extra_mb(fn, device: str) -> float:
    """Memory allocated beyond what is live before one call of fn, at its peak, in MB."""
    if device != "cuda":
        return 0.0
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 1e6


def rowwise_cases(device: str, bench, cases) -> list[Row]:
    import torch._functorch.config as functorch_config

    # The backward is timed by replaying one graph (retain_graph), which donated buffers forbid.
    functorch_config.donated_buffer = False
    ops = _ops()
    liger = _liger() if device == "cuda" else {}
    rows = []
    for op, shape, dtype_names in cases:
        generated, eager, make = _rowwise_peers(op, ops)
        impls = {"generated": generated, "eager": eager, "compile": torch.compile(eager, dynamic=False)}
        if op in liger:
            impls["liger"] = liger[op]
        for dname in dtype_names:
            dtype = getattr(torch, dname)
            args = make(shape, dtype, device)
            wrt = [a for a in args if a.is_floating_point()]
            ref_args = [a.detach().double().requires_grad_() if a.is_floating_point() else a for a in args]
            ref = eager(*ref_args)
            g = torch.randn_like(ref) if ref.dim() else torch.ones_like(ref)
            ref_grads = torch.autograd.grad(ref, [a for a in ref_args if a.is_floating_point()], g)
            ref = ref.detach()
            size = args[0].element_size()
            numel = args[0].numel()
            rows_in = shape[0] if len(shape) > 1 else 1
            for impl, fn in impls.items():
                # Liger's rms_norm and cross_entropy write their gradients into their inputs: fresh copies.
                own = [a.detach().clone().requires_grad_(a.requires_grad) for a in args]
                own_wrt = [a for a in own if a.is_floating_point()]
                gi = g.to(args[0].dtype if g.dim() else ref.dtype).clone()  # Liger's rms_norm writes dx into it
                try:
                    out = fn(*own)
                except Exception as e:  # noqa: BLE001 - a peer that refuses a shape is left out of that row
                    print(f"{impl} refuses {op} {shape} {dname}: {type(e).__name__}: {str(e)[:120]}", file=sys.stderr)
                    continue
                grads = torch.autograd.grad(out, own_wrt, gi.to(out.dtype))
                fwd_err = rel_err(out, ref)
                bwd_err = max(rel_err(a, b) for a, b in zip(grads, ref_grads))
                del out, grads
                if op == "cross_entropy":
                    # One training step's loss: forward and backward together, as Liger runs them.
                    def step():
                        x = own[0]
                        loss = fn(*own)
                        torch.autograd.grad(loss, [x])

                    peak = _peak_extra_mb(step, device)
                    ms = bench(step)
                    rows.append(Row(op, "fwd+bwd", dname, list(shape), impl, ms, bytes=2 * numel * size,
                                    rel_err=max(fwd_err, bwd_err), peak_mb=peak))
                else:
                    with torch.no_grad():
                        ms = bench(lambda: fn(*own))
                    rows.append(Row(op, "forward", dname, list(shape), impl, ms, bytes=2 * numel * size,
                                    rel_err=fwd_err))
                    out = fn(*own)

                    def backward():
                        torch.autograd.grad(out, own_wrt, gi, retain_graph=True)

                    peak = _peak_extra_mb(backward, device)
                    ms = bench(backward)
                    # x and grad read, dx written (the column gradients are rows_in times smaller).
                    rows.append(Row(op, "backward", dname, list(shape), impl, ms, bytes=3 * numel * size,
                                    rel_err=bwd_err, peak_mb=peak))
                    del out
                del own, own_wrt
                if device == "cuda":
                    torch.cuda.empty_cache()
            del args, wrt, ref_args, ref, ref_grads, g
    return rows


def rowwise_table(rows: list[Row]) -> str:
    """ms and GB/s of each implementation, and ours over each peer (>1: ours is faster)."""
    copy = next((r for r in rows if r.impl == "copy"), None)
    by_case: dict[tuple, dict[str, Row]] = {}
    for r in rows:
        if r.impl != "copy" and r.pass_ in ("forward", "backward", "fwd+bwd") and r.op in {c[0] for c in ROWWISE_CASES}:
            by_case.setdefault((r.op, r.pass_, r.dtype, tuple(r.shape)), {})[r.impl] = r
    lines = ["| op | shape | dtype | pass | ours GB/s | % copy | vs eager | vs compile | vs liger | ours / liger MB "
             "| rel err |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (op, pass_, dtype, shape), impls in by_case.items():
        ours = impls.get("generated")
        if ours is None:
            continue

        def ratio(name):
            peer = impls.get(name)
            return f"{peer.ms / ours.ms:.2f}x" if peer else "-"

        lig = impls.get("liger")
        mem = f"{ours.peak_mb:.0f} / {lig.peak_mb:.0f}" if lig and ours.peak_mb is not None else (
            f"{ours.peak_mb:.0f}" if ours.peak_mb is not None else "-")
        pct = f"{100 * ours.gbps / copy.gbps:.0f}%" if copy else "-"
        lines.append(f"| {op} | {'x'.join(map(str, shape))} | {dtype} | {pass_} | {ours.gbps:.0f} | {pct} | "
                     f"{ratio('eager')} | {ratio('compile')} | {ratio('liger')} | {mem} | {ours.rel_err:.1e} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# fused_linear_cross_entropy: an LLM's output layer and its loss, against torch's linear + cross_entropy
# (eager and compiled) and Liger-Kernel's fused linear cross-entropy, one training step each.

# (N, H, V): tokens, hidden size, vocabulary.
FLCE_CASES = [((8192, 4096, 128256), ("bfloat16",)), ((8192, 4096, 32000), ("bfloat16",))]
SMALL_FLCE_CASES = [((512, 64, 1000), ("float32",))]
FLCE_CHUNK_ROWS = (512, 1024, 2048)


def flce_cases(device: str, bench, cases) -> list[Row]:
    ops = _ops()
    F = torch.nn.functional

    def eager(x, w, t):
        return F.cross_entropy(F.linear(x, w), t)

    impls = {"generated": ops.fused_linear_cross_entropy, "eager": eager,
             "compile": torch.compile(eager, dynamic=False)}
    # More rows a chunk: fewer passes over the weight's gradient, more memory.
    for rows in FLCE_CHUNK_ROWS:
        impls[f"generated, chunk_rows={rows}"] = (
            lambda rows: lambda x, w, t: ops.fused_linear_cross_entropy(x, w, t, chunk_rows=rows))(rows)
    if device == "cuda":
        try:
            from liger_kernel.transformers.functional import liger_fused_linear_cross_entropy
            impls["liger"] = liger_fused_linear_cross_entropy
        except Exception as e:  # noqa: BLE001 - any import failure means: no Liger peer in this run
            print(f"Liger-Kernel not raced: {type(e).__name__}: {e}", file=sys.stderr)
    rows = []
    for (n, h, v), dtype_names in cases:
        for dname in dtype_names:
            dtype = getattr(torch, dname)
            torch.manual_seed(0)
            x = (torch.randn(n, h, device=device) * 0.5).to(dtype)
            w = (torch.randn(v, h, device=device) * 0.02).to(dtype)
            t = torch.randint(0, v, (n,), device=device)
            t[::7] = -100  # some ignored rows, as padding gives
            # The float32 reference (the inputs' own values, upcast).
            rx, rw = x.float().requires_grad_(), w.float().requires_grad_()
            ref_loss = eager(rx, rw, t)
            ref = [ref_loss.detach(), *torch.autograd.grad(ref_loss, (rx, rw))]
            del rx, rw, ref_loss
            for impl, fn in impls.items():
                xi, wi = x.clone().requires_grad_(), w.clone().requires_grad_()

                def step():
                    loss = fn(xi, wi, t)
                    return loss, *torch.autograd.grad(loss, (xi, wi))

                got = step()
                err = max(rel_err(a, b) for a, b in zip(got, ref))
                del got
                peak = _peak_extra_mb(step, device)
                ms = bench(step)
                rows.append(Row("fused_linear_cross_entropy", "fwd+bwd", dname, [n, h, v], impl, ms,
                                flops=6 * n * h * v, rel_err=err, peak_mb=peak))
                del xi, wi
                if device == "cuda":
                    torch.cuda.empty_cache()
            del x, w, t, ref
    return rows


def flce_table(rows: list[Row]) -> str:
    by_case: dict[tuple, dict[str, Row]] = {}
    for r in rows:
        if r.op == "fused_linear_cross_entropy":
            by_case.setdefault((r.dtype, tuple(r.shape)), {})[r.impl] = r
    lines = ["| N x H x V | dtype | impl | ms | TFLOP/s | ours vs it | peak extra MB | rel err (fp32 ref) |",
             "|---|---|---|---|---|---|---|---|"]
    for (dtype, shape), impls in by_case.items():
        ours = impls.get("generated")
        for name, r in impls.items():
            vs = f"{r.ms / ours.ms:.2f}x" if ours and name != "generated" else "-"
            lines.append(f"| {'x'.join(map(str, shape))} | {dtype} | {name} | {r.ms:.2f} | {r.tflops:.0f} | {vs} | "
                         f"{r.peak_mb:.0f} | {r.rel_err:.1e} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------

def table(rows: list[Row]) -> str:
    copy = next((r for r in rows if r.impl == "copy"), None)
    by_case: dict[tuple, dict[str, Row]] = {}
    parts = [r for r in rows if r.pass_ == "part"]
    rowwise = {c[0] for c in ROWWISE_CASES}
    for r in rows:
        if r.impl != "copy" and r.pass_ != "part" and r.op not in rowwise and r.op != "fused_linear_cross_entropy":
            by_case.setdefault((r.op, r.pass_, r.dtype, tuple(r.shape)), {})[r.impl] = r
    lines = []
    if copy:
        lines.append(f"copy ceiling: {copy.gbps:.0f} GB/s (device-to-device copy of {copy.bytes / 2**30:.1f} GiB "
                     f"read+write, {copy.ms:.3f} ms)")
    lines += ["", "| op | pass | dtype | generated ms | eager ms | compile ms | vs eager | vs compile | GB/s | % copy "
              "| TFLOP/s | max rel err |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (op, pass_, dtype, _), impls in by_case.items():
        ours, eager, comp = impls.get("generated"), impls.get("eager"), impls.get("compile")
        if ours is None:
            continue
        gbps = f"{ours.gbps:.0f}" if ours.bytes else "-"
        pct = f"{100 * ours.gbps / copy.gbps:.0f}%" if ours.bytes and copy else "-"
        tf = f"{ours.tflops:.1f}" if ours.flops else "-"
        errs = [r.rel_err for r in impls.values() if r.rel_err is not None]
        lines.append(f"| {op} | {pass_} | {dtype} | {ours.ms:.3f} | {eager.ms:.3f} | {comp.ms:.3f} | "
                     f"{eager.ms / ours.ms:.2f}x | {comp.ms / ours.ms:.2f}x | {gbps} | {pct} | {tf} | "
                     f"{ours.rel_err:.1e} (peers {max(errs):.1e}) |")
    if parts:
        lines += ["", "Parts of the attention pipelines, timed alone (GB/s over the weights-sized tensors they touch):", "",
                  "| dtype | part | ms | GB/s |", "|---|---|---|---|"]
        lines += [f"| {r.dtype} | {r.impl} | {r.ms:.3f} | {r.gbps:.0f} |" for r in parts]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--small", action="store_true", help="tiny sizes: a smoke run of the script")
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--only", choices=["swish", "attention", "rowwise", "flce"], help="one family only")
    parser.add_argument("--op", action="append", help="rowwise: this op only (repeatable)")
    args = parser.parse_args()
    device = args.device
    bench = timer(device)
    numel = 1 << 16 if args.small else SWISH_NUMEL
    shape = (1, 2, 64, 16) if args.small else ATTENTION_SHAPE
    dtypes = [torch.float32, torch.bfloat16] if device == "cuda" else [torch.float32]  # no CPU bfloat16 yet
    rows = [copy_ceiling(device, bench, numel)]
    if args.only in (None, "swish"):
        rows += swish_cases(device, bench, numel, dtypes)
    if args.only in (None, "attention"):
        rows += attention_cases(device, bench, shape, dtypes)
    if args.only in (None, "rowwise"):
        cases = SMALL_ROWWISE_CASES if args.small else ROWWISE_CASES
        rows += rowwise_cases(device, bench, [c for c in cases if not args.op or c[0] in args.op])
    if args.only in (None, "flce"):
        rows += flce_cases(device, bench, SMALL_FLCE_CASES if args.small else FLCE_CASES)
    meta = {"device": torch.cuda.get_device_name() if device == "cuda" else device, "torch": torch.__version__,
            "cuda": torch.version.cuda, "timer": "triton.testing.do_bench median" if device == "cuda" else "host"}
    if device == "cuda":
        import triton

        meta["triton"] = triton.__version__
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rows": [dict(asdict(r), gbps=r.gbps, tflops=r.tflops)
                                                                  for r in rows]}, indent=1))
    print(json.dumps(meta))
    print(table(rows))
    if any(r.op in {c[0] for c in ROWWISE_CASES} for r in rows):
        print("\nRowwise ops (Liger-Kernel where it imports; fwd+bwd: one training step's loss):\n")
        print(rowwise_table(rows))
    if any(r.op == "fused_linear_cross_entropy" for r in rows):
        print("\nfused_linear_cross_entropy, one training step (forward + gradients of x and weight):\n")
        print(flce_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
