"""CPU long rows: the generated rowwise ops against eager, forward and forward+backward, float32.

    python benchmarks/results/llm-scale/cpu_long_rows.py

Each call is warmed up 10 times, then timed 10 times; the best time counts. The first few calls of a
shape are several times slower (allocator and threads warming up), which an earlier count with one
warm-up call took for the op's speed. Ratios are eager time / ours: above 1, ours is faster.
"""
import time

import torch
import torch.nn.functional as F

import generated_ops as G

torch.manual_seed(0)
def best(fn, k=10):
    for _ in range(10): fn()
    ts=[]
    for _ in range(k):
        t=time.perf_counter(); fn(); ts.append(time.perf_counter()-t)
    return min(ts)
cases = []
for shape in [(64, 131072), (8, 262144)]:
    n = shape[-1]
    x = torch.randn(shape); w = torch.randn(n); b = torch.randn(n); t = torch.randint(0, n, shape[:-1])
    ops = {
      "softmax": (lambda x: G.softmax(x), lambda x: torch.softmax(x, -1), [x]),
      "log_softmax": (lambda x: G.log_softmax(x), lambda x: torch.log_softmax(x, -1), [x]),
      "layer_norm": (lambda x, w, b: G.layer_norm(x, w, b), lambda x, w, b: F.layer_norm(x, [n], w, b), [x, w, b]),
      "rms_norm": (lambda x, w: G.rms_norm(x, w), lambda x, w: F.rms_norm(x, [n], w, 1e-6), [x, w]),
      "cross_entropy": (lambda x, t: G.cross_entropy(x, t), lambda x, t: F.cross_entropy(x, t), [x, t]),
    }
    for name, (ours, eager, args) in ops.items():
        res = []
        for fn in (ours, eager):
            a = [v.clone().requires_grad_(v.is_floating_point()) for v in args]
            with torch.no_grad():
                fwd = best(lambda: fn(*a))
            out0 = fn(*a)
            g = torch.ones_like(out0) if out0.dim() == 0 else torch.randn_like(out0)
            del out0
            def step():
                out = fn(*a)
                torch.autograd.grad(out, [v for v in a if v.is_floating_point()], g)
            fb = best(step)
            res.append((fwd, fb))
        print(f"{shape!s:14} {name:14} fwd {res[1][0]/res[0][0]:.2f}x  fwd+bwd {res[1][1]/res[0][1]:.2f}x   (ours {res[0][0]*1e3:.1f}/{res[0][1]*1e3:.1f} ms, eager {res[1][0]*1e3:.1f}/{res[1][1]*1e3:.1f} ms)")
