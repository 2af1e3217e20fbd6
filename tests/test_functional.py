"""generated_ops.functional: the rowwise ops named as their torch peers, called as torch calls them,
against torch.nn.functional and torch with the same arguments (forward and gradients)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import generated_ops as g
from generated_ops import functional as GF


def _t(*shape, grad=True, seed=0):
    torch.manual_seed(seed)
    return torch.randn(shape, dtype=torch.float64, requires_grad=grad)


def _same(ours, theirs, inputs):
    torch.testing.assert_close(ours, theirs)
    up = torch.randn_like(theirs)
    inputs = [t for t in inputs if t is not None and t.requires_grad]
    for a, b in zip(torch.autograd.grad(ours, inputs, up), torch.autograd.grad(theirs, inputs, up)):
        torch.testing.assert_close(a, b)


def test_offers_the_ops_named_as_their_peers():
    assert sorted(GF.__all__) == ["cross_entropy", "layer_norm", "log_softmax", "mean", "mse_loss", "rms_norm",
                                  "softmax", "sum"]
    assert GF.softmax is g.softmax and GF.log_softmax is g.log_softmax


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_a_reduction_defaults_to_every_dim_as_torchs(name):
    """torch.sum(x) reduces every dim; so does functional.sum(x), where the op's own sum(x) takes the last."""
    x = _t(3, 4, 5)
    _same(getattr(GF, name)(x), getattr(torch, name)(x), [x])
    _same(getattr(GF, name)(x, keepdim=True), getattr(torch, name)(x, (0, 1, 2), keepdim=True), [x])
    assert getattr(g, name)(x).shape == (3, 4)


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 5, 4), (5, 4)), ((3, 7), 7),
                                               ((5,), [5])])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_is_torchs(shape, normalized, affine):
    x = _t(*shape)
    ns = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    w = _t(*ns, seed=1) if affine != "none" else None
    b = _t(*ns, seed=2) if affine == "both" else None
    _same(GF.layer_norm(x, normalized, w, b, 1e-3), F.layer_norm(x, ns, w, b, 1e-3), [x, w, b])


@pytest.mark.parametrize("shape, normalized", [((4, 6), (6,)), ((2, 3, 5, 4), (5, 4))])
@pytest.mark.parametrize("with_weight", [True, False])
def test_rms_norm_is_torchs(shape, normalized, with_weight):
    x = _t(*shape)
    w = _t(*normalized, seed=1) if with_weight else None
    _same(GF.rms_norm(x, normalized, w, eps=1e-5), F.rms_norm(x, normalized, w, eps=1e-5), [x, w])


def test_reductions_and_softmax_are_torchs():
    x = _t(3, 4, 5)
    _same(GF.softmax(x, 1), torch.softmax(x, 1), [x])
    _same(GF.log_softmax(x, 0), F.log_softmax(x, 0), [x])
    _same(GF.sum(x, (0, 2), True), torch.sum(x, (0, 2), True), [x])
    _same(GF.mean(x, None), torch.mean(x), [x])


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sum", "mean"])
def test_dtype_casts_the_input_first_as_torchs(name):
    """F.softmax(x, -1, dtype=torch.float32) on half logits, as LLM code calls it: computed in float32,
    the gradient back in the input's dtype."""
    torch.manual_seed(0)
    x = torch.randn(4, 33, dtype=torch.bfloat16, requires_grad=True)
    fn = getattr(torch, name)
    ours, theirs = getattr(GF, name)(x, -1, dtype=torch.float32), fn(x, -1, dtype=torch.float32)
    assert ours.dtype == theirs.dtype == torch.float32
    torch.testing.assert_close(ours, theirs)
    up = torch.randn_like(theirs)
    (a,), (b,) = torch.autograd.grad(ours, x, up), torch.autograd.grad(theirs, x, up)
    assert a.dtype == torch.bfloat16
    torch.testing.assert_close(a, b)


def test_an_unsupported_dtype_is_refused_by_name():
    with pytest.raises(RuntimeError, match="x has dtype int64, which is not supported"):
        GF.sum(torch.ones(3, 4), -1, dtype=torch.int64)


@pytest.mark.parametrize("shape", [(5, 7), (4, 7, 3, 2), (7,)], ids=str)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_takes_classes_on_dim_1_as_torchs(shape, reduction):
    """(N, C, d1, ...) logits, (N, d1, ...) targets, one ignored; a single row of classes."""
    x = _t(*shape)
    torch.manual_seed(3)
    t = torch.randint(0, 7, shape[:1] + shape[2:] if len(shape) >= 2 else ())
    if t.dim():
        t.view(-1)[0] = -100
    kw = dict(reduction=reduction, label_smoothing=0.1)
    _same(GF.cross_entropy(x, t, **kw), F.cross_entropy(x, t, **kw), [x])


def test_mse_loss_is_torchs():
    a, b = _t(3, 4), _t(3, 4, seed=1)
    for reduction in ["none", "mean", "sum"]:
        _same(GF.mse_loss(a, b, reduction=reduction), F.mse_loss(a, b, reduction=reduction), [a, b])


def test_a_loss_refuses_torchs_positional_weight():
    x, t = _t(3, 4, grad=False), torch.tensor([0, 1, 2])
    with pytest.raises(TypeError, match="positional"):
        GF.cross_entropy(x, t, torch.ones(4, dtype=x.dtype))


def test_a_norm_refuses_what_torch_refuses():
    x = _t(3, 4, grad=False)
    with pytest.raises(RuntimeError, match=r"expected input with trailing dims \[5\]"):
        GF.layer_norm(x, (5,))
    with pytest.raises(RuntimeError, match=r"weight must have shape \[4\] \(normalized_shape\); got \[2, 2\]"):
        GF.layer_norm(x, (4,), torch.ones(2, 2, dtype=x.dtype))
    with pytest.raises(RuntimeError, match="at least one dim"):
        GF.rms_norm(x, ())


def test_the_module_and_the_function_agree():
    x = _t(2, 3, 8, grad=False)
    m = g.FusedLayerNorm((3, 8)).double()
    torch.nn.init.normal_(m.weight)
    torch.testing.assert_close(m(x), GF.layer_norm(x, (3, 8), m.weight, m.bias))
