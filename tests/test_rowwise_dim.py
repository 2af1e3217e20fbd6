"""Rowwise ops over any dim (`dim=`, as torch's functions take it): the bundled ops against torch with the
dim moved, forward and backward, and every rowwise op against itself on the moved input."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import generated_ops as g

SHAPE = (3, 5, 4, 2)


def _x(requires_grad=False):
    torch.manual_seed(0)
    return torch.randn(SHAPE, dtype=torch.float64, requires_grad=requires_grad)


TORCH = {
    "softmax": lambda x, d: (g.softmax(x, dim=d), torch.softmax(x, d)),
    "log_softmax": lambda x, d: (g.log_softmax(x, dim=d), torch.log_softmax(x, d)),
    "sum": lambda x, d: (g.sum(x, dim=d), torch.sum(x, d)),
    "sum_keepdim": lambda x, d: (g.sum(x, d, True), torch.sum(x, d, True)),
    "mean": lambda x, d: (g.mean(x, dim=d), torch.mean(x, d)),
    "mean_keepdim": lambda x, d: (g.mean(x, d, keepdim=True), torch.mean(x, d, keepdim=True)),
    # torch's positional order: dim right after the input.
    "softmax_positional": lambda x, d: (g.softmax(x, d), torch.softmax(x, d)),
    "sum_positional": lambda x, d: (g.sum(x, d), torch.sum(x, d)),
}


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("name", sorted(TORCH))
def test_matches_torch_over_dim(name, dim):
    x = _x(requires_grad=True)
    ours, theirs = TORCH[name](x, dim)
    torch.testing.assert_close(ours, theirs)
    up = torch.randn_like(theirs)
    (gx,) = torch.autograd.grad(ours, x, up)
    (tx,) = torch.autograd.grad(theirs, x, up)
    torch.testing.assert_close(gx, tx)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_class_dim_1_is_torchs(reduction):
    """torch.nn.functional.cross_entropy takes (N, C, d1, ...) logits: ours with dim=1."""
    torch.manual_seed(1)
    x = torch.randn(4, 7, 3, 2, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 7, (4, 3, 2))
    t[0, 0, 0] = -100
    ours = g.cross_entropy(x, t, reduction=reduction, dim=1)
    theirs = F.cross_entropy(x, t, reduction=reduction)
    torch.testing.assert_close(ours, theirs)
    up = torch.randn_like(theirs)
    torch.testing.assert_close(torch.autograd.grad(ours, x, up)[0], torch.autograd.grad(theirs, x, up)[0])


def _rowwise_ops():
    ops = Path(g.__file__).parent / "ops"
    return sorted(p.stem for p in ops.glob("*.py")
                  if hasattr(importlib.import_module(f"generated_ops.ops.{p.stem}"), "_ROLES"))  # the rowwise kind's modules


@pytest.mark.parametrize("dim", [0, 2, -2])
@pytest.mark.parametrize("name", _rowwise_ops())
def test_every_rowwise_op_takes_dim(name, dim):
    """op(..., dim=d) is op on the inputs with d moved last, the result moved back (column inputs have the
    size of dim d, index inputs x's shape without it)."""
    mod = importlib.import_module(f"generated_ops.ops.{name}")
    fn = getattr(mod, name)
    x = _x()
    d = dim % x.dim()
    n = x.shape[d]
    rest = tuple(s for i, s in enumerate(x.shape) if i != d)
    make = {"element": lambda: torch.randn(x.shape, dtype=x.dtype), "column": lambda: torch.rand(n, dtype=x.dtype) + 0.5,
            "index": lambda: torch.randint(0, n, rest)}
    args = [x] + [make[mod._ROLES[i]]() for i in mod._INPUTS[1:]]
    ours = fn(*args, dim=dim)
    moved = [a.movedim(d, -1) if a.shape == x.shape else a for a in args]
    ref = fn(*moved)
    if ours.dim() == x.dim() and ref.dim() == x.dim() and ours.shape == x.shape:
        ref = ref.movedim(-1, d)
    torch.testing.assert_close(ours, ref)


# Several dims reduced together, and None (every dim), as torch.sum and torch.mean take them.
DIMS = [(0, 2), [3, 1], (-1, 0), (1, 2, 3), (0, 1, 2, 3), (), None, (2,)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dims", DIMS, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_reductions_over_several_dims_are_torchs(name, dims, keepdim):
    x = _x(requires_grad=True)
    ours = getattr(g, name)(x, dims, keepdim)
    theirs = getattr(torch, name)(x, dims, keepdim)
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs)
    up = torch.randn_like(theirs)
    torch.testing.assert_close(torch.autograd.grad(ours, x, up)[0], torch.autograd.grad(theirs, x, up)[0])


def test_reductions_over_several_dims_of_empty_and_strided_inputs():
    """An empty dim among the reduced ones: torch's sum 0 and mean NaN; a transposed input."""
    x = torch.randn(3, 0, 4, dtype=torch.float64)
    torch.testing.assert_close(g.sum(x, (0, 1)), torch.sum(x, (0, 1)))
    torch.testing.assert_close(g.mean(x, (1, 2), keepdim=True), torch.mean(x, (1, 2), keepdim=True),
                               equal_nan=True)
    y = torch.randn(5, 6, 7, dtype=torch.float64).transpose(0, 2)
    torch.testing.assert_close(g.mean(y, [0, 1]), torch.mean(y, [0, 1]))


def test_reductions_over_several_dims_compile():
    f = torch.compile(lambda x: g.sum(x, (0, 2), keepdim=True), fullgraph=True, backend="eager")
    x = _x()
    torch.testing.assert_close(f(x), torch.sum(x, (0, 2), keepdim=True))


@pytest.mark.parametrize("dim, error, match", [
    ((1, 1), RuntimeError, "dim 1 appears multiple times"),
    ((1, -3), RuntimeError, "dim 1 appears multiple times"),
    ((0, 4), IndexError, "dim 4 is out of range"),
    (True, TypeError, "dim must be an int"),
    ((0, 1.0), TypeError, "dim must be an int, a tuple of ints or None"),
])
def test_bad_dims_are_refused_as_torch_refuses_them(dim, error, match):
    with pytest.raises(error, match=match):
        g.sum(_x(), dim)


def test_a_numpy_integer_is_a_dim_as_in_torch():
    x = _x()
    torch.testing.assert_close(g.sum(x, np.int64(1)), torch.sum(x, 1))
    torch.testing.assert_close(g.softmax(x, np.int32(0)), torch.softmax(x, 0))
    torch.testing.assert_close(g.mean(x, (np.int64(0), 2)), torch.mean(x, (0, 2)))


def test_an_element_op_takes_one_dim_only():
    """softmax's dim is one int, as torch.softmax's: a tuple, or keepdim's bool, is refused by name."""
    with pytest.raises(TypeError, match="softmax: dim must be an int; got tuple"):
        g.softmax(_x(), (0, 1))
    with pytest.raises(TypeError, match="dim must be an int; got bool"):
        g.softmax(_x(), True)


def test_signatures_follow_the_peer():
    """dim goes by position right after the inputs where the op's torch peer takes it there (softmax,
    sum); keyword-only where the peer has no such dim (a norm's normalized_shape, a loss's target)."""
    import inspect

    def kinds(fn):
        return {n: p.kind for n, p in inspect.signature(fn).parameters.items()}

    assert list(inspect.signature(g.sum).parameters) == ["x", "dim", "keepdim", "dtype"]
    assert list(inspect.signature(g.softmax).parameters) == ["x", "dim", "dtype"]
    assert kinds(g.softmax)["dtype"] is inspect.Parameter.KEYWORD_ONLY
    assert kinds(g.layer_norm)["dim"] is inspect.Parameter.KEYWORD_ONLY
    assert kinds(g.cross_entropy)["dim"] is inspect.Parameter.KEYWORD_ONLY


def test_dim_out_of_range_is_torchs_error():
    with pytest.raises(IndexError, match="dim 4 is out of range"):
        g.softmax(_x(), dim=4)
