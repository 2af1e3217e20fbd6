"""Rowwise ops over any dim (`dim=`, as torch's functions take it): the bundled ops against torch with the
dim moved, forward and backward, and every rowwise op against itself on the moved input."""

from __future__ import annotations

import importlib
from pathlib import Path

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
    "sum_keepdim": lambda x, d: (g.sum(x, True, dim=d), torch.sum(x, d, keepdim=True)),
    "mean": lambda x, d: (g.mean(x, dim=d), torch.mean(x, d)),
    "mean_keepdim": lambda x, d: (g.mean(x, True, dim=d), torch.mean(x, d, keepdim=True)),
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


def test_dim_out_of_range_is_torchs_error():
    with pytest.raises(IndexError, match="dim 4 is out of range"):
        g.softmax(_x(), dim=4)
