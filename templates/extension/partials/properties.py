"""What the generated property tests (tests/test_<op>_properties.py) share: Hypothesis strategies for the
inputs people bring, and the comparison with an op's torch peer.

Inputs: shapes with empty and 0-dim tensors, broadcasting, non-contiguous and transposed views, rows from
1 to 262144 elements; values with +-inf, NaN, +-1e38 (scaled into float16's range), denormals, signed zeros,
and rows masked with -inf as attention and vocabulary masks make them.

Comparison: `assert_matches(ours, torch_result, torch_float64_result, dtype)`. An element passes when it
is equal to torch's result in the op's dtype, or within the dtype's tolerance of it, or of torch's float64
result rounded to the dtype (torch's own dtype result depends on its summation order where partial sums
overflow or cancel: both are torch's semantics). NaN must meet NaN and +-inf the same inf, position-wise.

Needs Hypothesis (`pip install hypothesis`); the property test files skip visibly without it. The
settings profile ("grimoire": derandomized, few examples, no deadline, no example database) is registered
in tests/conftest.py; GRIMOIRE_HYPOTHESIS_PROFILE=grimoire-thorough runs many more, randomized.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch
from hypothesis import example, strategies as st

PROFILE = "grimoire"

# rtol, atol per dtype when comparing with torch's result (looser than _testing.TOLERANCES: torch's
# kernels and ours round differently in the dtype, and half types round every intermediate).
TOLERANCES = {
    torch.float64: (1e-7, 1e-7),
    torch.float32: (2e-5, 2e-5),
    torch.float16: (2e-2, 2e-2),
    torch.bfloat16: (4e-2, 4e-2),
}

SPECIALS = ("inf", "-inf", "nan", "big", "-big", "denormal", "-denormal", "zero", "-zero", "one")
FINITE_SPECIALS = ("big", "-big", "denormal", "-denormal", "zero", "-zero", "one")


def big(dtype: torch.dtype) -> float:
    """1e38, scaled into the range of float16 as 1e38 sits in float32's (about 19000)."""
    return min(1e38, torch.finfo(dtype).max * (1e38 / torch.finfo(torch.float32).max))


def special_value(name: str, dtype: torch.dtype) -> float:
    fi = torch.finfo(dtype)
    return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan, "big": big(dtype), "-big": -big(dtype),
            "denormal": fi.smallest_normal / 8, "-denormal": -fi.smallest_normal / 8,
            "zero": 0.0, "-zero": -0.0, "one": 1.0}[name]


@dataclass(frozen=True)
class Values:
    """How one tensor's values are drawn: uniform in [low, high] from `seed`, then a fraction `density`
    of the elements replaced by special values, drawn among `specials`."""
    seed: int
    specials: tuple[str, ...] = ()
    density: float = 0.0

    def __repr__(self) -> str:
        return f"Values(seed={self.seed}, specials={self.specials}, density={self.density})"


def values(finite: bool = False, specials: bool = True) -> st.SearchStrategy[Values]:
    """Plain values half the time; else special values sprinkled in (finite ones only with finite=True)."""
    pool = FINITE_SPECIALS if finite else SPECIALS
    plain = st.builds(Values, st.integers(0, 2**31 - 1))
    if not specials:
        return plain
    sprinkled = st.builds(Values, st.integers(0, 2**31 - 1),
                          st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True).map(tuple),
                          st.sampled_from([0.02, 0.2, 0.6, 1.0]))
    return st.one_of(plain, sprinkled)


LAYOUTS = ("contiguous", "noncontiguous", "transposed")
layouts = st.sampled_from(LAYOUTS)


def make(shape, dtype, device, v: Values, *, low=-3.0, high=3.0, layout="contiguous",
         requires_grad=False) -> torch.Tensor:
    """A tensor of `shape` with the values `v` describes, as the view `layout` says: contiguous,
    non-contiguous (every other element of a wider last dim) or transposed (the last two dims swapped
    in memory). Deterministic: the same arguments give the same tensor. With requires_grad, the
    returned view is differentiated through its (leaf) storage."""
    shape = tuple(shape)
    if layout == "transposed" and len(shape) < 2:
        layout = "noncontiguous" if len(shape) == 1 else "contiguous"
    if layout == "noncontiguous" and not shape:
        layout = "contiguous"
    base_shape = {"contiguous": shape,
                  "noncontiguous": shape[:-1] + (2 * shape[-1] + 1,) if shape else shape,
                  "transposed": shape[:-2] + (shape[-1], shape[-2]) if len(shape) >= 2 else shape}[layout]
    g = torch.Generator().manual_seed(v.seed)
    x = torch.rand(base_shape, generator=g, dtype=torch.float64) * (high - low) + low
    if v.specials and x.numel():
        table = torch.tensor([special_value(s, dtype) for s in v.specials], dtype=torch.float64)
        pick = torch.randint(len(v.specials), base_shape, generator=g)
        where = torch.rand(base_shape, generator=g) < v.density
        x = torch.where(where, table[pick], x)
    leaf = x.to(dtype=dtype, device=device).requires_grad_(requires_grad)
    if layout == "noncontiguous":
        return leaf[..., 1::2]
    if layout == "transposed":
        return leaf.transpose(-1, -2)
    return leaf


def mask_rows(x: torch.Tensor, seed: int, mode: str) -> torch.Tensor:
    """x with rows masked as attention and vocabulary masks do: "none"; "partial": about half of each
    row's elements -inf (never a whole row); "full": every other row all -inf, the rest partly;
    "mixed": rows all -inf, partly -inf and unmasked. Keeps x's layout and autograd history."""
    if mode == "none" or x.numel() == 0:
        return x
    g = torch.Generator().manual_seed(seed)
    n = x.shape[-1]
    rows = x.numel() // n
    m = torch.rand((rows, n), generator=g) < 0.5
    m[torch.arange(rows), torch.randint(n, (rows,), generator=g)] = False  # each row keeps one element ...
    if mode == "full":
        m[::2] = True  # ... but the fully masked ones
    elif mode == "mixed":
        which = torch.randint(3, (rows,), generator=g)
        m[which == 0] = True
        m[which == 1] = False
    m = m.reshape(x.shape).to(x.device)
    return x.masked_fill(m, float("-inf"))


def _float64(t):
    return t.detach().double().requires_grad_(t.requires_grad) if isinstance(t, torch.Tensor) and t.is_floating_point() else t


def as_float64(args):
    """The arguments with floating tensors as float64 copies (the same layout is not kept)."""
    return [_float64(a) for a in args]


def outputs(result) -> tuple:
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def _describe(t: torch.Tensor) -> str:
    return f"{tuple(t.shape)} {str(t.dtype).removeprefix('torch.')}"


def assert_matches(ours, theirs, theirs64=None, dtype=None, *, scale: float = 1.0, magnitude=None,
                   what: str = "result", also=()) -> None:
    """ours agrees with torch's result `theirs` (computed in ours' dtype) or with `theirs64` (torch's float64
    result), element by element: equal, or NaN where torch has NaN, or within the dtype's rtol/atol
    (times scale). `magnitude`, broadcastable to the result, widens atol where the result is a sum of
    many terms (atol * magnitude, magnitude being a sum of |terms| or a row length): a reduction's
    rounding error grows with its terms, not with its result. Infinities must match exactly."""
    assert isinstance(ours, torch.Tensor), f"{what}: got {type(ours).__name__}, torch gives a tensor"
    dtype = dtype or theirs.dtype
    assert ours.shape == theirs.shape, f"{what}: shape {tuple(ours.shape)}, torch gives {tuple(theirs.shape)}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, torch gives {theirs.dtype}"
    assert ours.device == theirs.device, f"{what}: device {ours.device}, torch gives {theirs.device}"
    rtol, atol = TOLERANCES[dtype]
    rtol, atol = rtol * scale, atol * scale
    a = ours.detach().cpu().double()
    refs = [theirs.detach().cpu().double()]
    if theirs64 is not None:
        refs.append(theirs64.detach().cpu().to(dtype).double())
    # Other results torch gives for the same inputs: its CPU kernel's where the op ran on CUDA (torch's
    # CUDA and CPU kernels disagree at some edges, e.g. a norm's row holding -inf: NaN on CUDA, 0 on CPU).
    refs += [r.detach().cpu().to(dtype).double() for r in also]
    bound = torch.full_like(a, atol) if magnitude is None else (
        atol * (1 + torch.as_tensor(magnitude).detach().cpu().double().abs())).expand_as(a)
    ok = torch.zeros_like(a, dtype=torch.bool)
    for r in refs:
        both_nan = a.isnan() & r.isnan()
        with torch.no_grad():
            diff = (a - r).abs()
            close = (a == r) | (a.isfinite() & r.isfinite() & (diff <= bound + rtol * r.abs()))
        ok |= both_nan | (close & ~a.isnan() & ~r.isnan())
    if theirs64 is not None:
        # Within a factor 16 of the dtype's largest value, whether a sum's partial sums overflow depends on
        # its order, which torch leaves undefined: an inf of the exact result's sign is accepted there.
        r64 = theirs64.detach().cpu().double()
        ok |= a.isinf() & (r64.abs() >= torch.finfo(dtype).max / 16) & (a.sign() == r64.sign())
        # Where torch's own computation in this dtype overflowed into NaN (a norm's variance of a row
        # holding +-1e38, say) while the exact result is finite, torch gives no value to agree with and
        # the dtype may hold none: such elements are not compared (the README names this gap).
        ok |= refs[0].isnan() & r64.isfinite()
    if bool(ok.all()):
        return
    bad = (~ok).nonzero()
    lines = []
    for idx in bad[:6].tolist():
        i = tuple(idx)
        r64 = f", torch float64 {refs[1][i].item():.6g}" if len(refs) > 1 else ""
        lines.append(f"  at {list(i)}: ours {a[i].item():.6g}, torch {refs[0][i].item():.6g}{r64}")
    raise AssertionError(f"{what} ({_describe(ours)}): {bad.shape[0]} of {a.numel()} elements differ from "
                         f"torch beyond rtol={rtol:.2g} atol={atol:.2g}:\n" + "\n".join(lines))


def check_raises_like_torch(ours_fn, peer_fn):
    """Runs torch's peer; if it raises, our op must raise too (a RuntimeError, or the exception torch
    raises) and (None, error) is returned. Else returns (torch's result, None)."""
    try:
        return peer_fn(), None
    except Exception as e:  # whatever torch raises, ours must refuse the input too
        with pytest.raises((RuntimeError, type(e))):
            ours_fn()
        return None, e


def on_cpu(fn, args, kwargs=None):
    """fn on CPU copies of the tensors in args (None where torch's CPU kernel refuses them): what torch
    gives on its other device, an accepted result where the op runs on CUDA."""
    moved = [a.detach().cpu().requires_grad_(a.requires_grad) if isinstance(a, torch.Tensor) else a for a in args]
    try:
        return fn(*moved, **(kwargs or {})), moved
    except Exception:  # torch's CPU kernel may refuse a dtype its CUDA one takes
        return None, moved


def grads(out, wrt, upstream):
    """torch.autograd.grad of out (a tensor or tuple) w.r.t. wrt, with the given upstream gradients;
    a gradient that does not flow is zeros, as our ops return it."""
    outs = list(outputs(out))
    pairs = [(o, u) for o, u in zip(outs, upstream) if u is not None and o.requires_grad]
    got = torch.autograd.grad([o for o, _ in pairs], wrt, [u for _, u in pairs], allow_unused=True)
    return [torch.zeros_like(w) if g is None else g for g, w in zip(got, wrt)]


def upstream_like(out, seed: int):
    """One random upstream gradient per output (the same values for ours and torch's)."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(o.shape, generator=g, dtype=torch.float64).to(dtype=o.dtype, device=o.device)
            for o in outputs(out)]


def with_examples(*examples):
    """A decorator: @example(**kwargs) for each kwargs in examples, in their order (as stacked @example
    lines): the cases every profile runs, whatever Hypothesis draws."""
    def decorate(f):
        for kwargs in reversed(examples):
            f = example(**kwargs)(f)
        return f
    return decorate


def peer_missing(op: str, kind: str) -> str:
    return (f"{op} has no torch peer: its properties are checked against its own composite reference only. "
            f"Add component({op}, peer, 'torch.<function>'(...)) to its spec to compare it with torch.")
