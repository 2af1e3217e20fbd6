"""The attention ops' checks (attention returning its weights), written once: tests/test_<op>.py subclasses
AttentionTests with the op's data in an `AttentionInfo` record, as torch's OpInfo. Both outputs against
softmax(query @ key^T * scale) @ value in float64 on 3-d and 4-d inputs, cross-attention, odd and empty
sizes; gradients of both outputs and of the output alone, gradcheck, double backward refused, opcheck,
torch.compile fullgraph, compiled autograd, the module, bad inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch

from . import _testing as T


def reference(query, key, value, scale=None):
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    weights = torch.softmax(query @ key.transpose(-2, -1) * scale, dim=-1)
    return weights @ value, weights


# (query shape, key shape, value shape, scale): 3-d and 4-d, cross-attention (Lq != Lk, dv != d),
# odd sizes for vector tails, a given scale, and empty dims.
CASES = [
    ((2, 5, 8), (2, 5, 8), (2, 5, 8), None),
    ((2, 3, 7, 16), (2, 3, 7, 16), (2, 3, 7, 16), None),
    ((2, 4, 6, 8), (2, 4, 19, 8), (2, 4, 19, 5), 0.3),
    ((1, 33, 24), (1, 17, 24), (1, 17, 24), -0.5),
    ((0, 4, 8), (0, 4, 8), (0, 4, 8), None),
    ((2, 0, 8), (2, 3, 8), (2, 3, 8), None),
    ((2, 3, 8), (2, 0, 8), (2, 0, 4), None),
]
# Small float64 cases for finite differences.
GRADCHECK_CASES = [((2, 3, 4), (2, 5, 4), (2, 5, 3), None), ((1, 2, 3, 4), (1, 2, 3, 4), (1, 2, 3, 4), 0.7)]


def inputs(case, device, dtype, requires_grad=False, noncontiguous=False):
    *shapes, scale = case
    return [T.make(s, dtype, device, low=-2, high=2, requires_grad=requires_grad, noncontiguous=noncontiguous)
            for s in shapes], scale


@dataclass(frozen=True)
class AttentionInfo:
    """An attention op's data: the op (query, key, value, scale) -> (output, weights), its overload and
    module class, dtypes per device, and the spec's extra test shapes (one for query, key and value)."""

    name: str
    fn: Callable
    dtypes: dict
    overload: object = None
    module: type | None = None
    shapes: list = field(default_factory=list)


class AttentionTests(T.OpTests):
    op: AttentionInfo

    @classmethod
    def prepare(cls):
        op = cls.op
        cls.DEVICE_DTYPES = T.device_dtypes(op.dtypes)
        cls.F64_DEVICES = T.devices(tuple(d for d, ts in op.dtypes.items() if torch.float64 in ts))
        cls.CASES = CASES + [(s, s, s, None) for s in op.shapes]
        cls.cpu_only = "cuda" not in op.dtypes

    def call(self, *args):
        return self.op.fn(*args)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_reference(self, device, dtype):
        for case in self.CASES:
            (q, k, v), scale = inputs(case, device, dtype)
            out, weights = self.call(q, k, v, scale)
            ref_out, ref_weights = reference(q.double(), k.double(), v.double(), scale)
            T.assert_close(weights, ref_weights, dtype, scale=10)
            T.assert_close(out, ref_out, dtype, scale=10)
            assert out.dtype == dtype and weights.dtype == dtype

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_noncontiguous(self, device, dtype):
        for case in self.CASES[:4]:
            (q, k, v), scale = inputs(case, device, dtype, noncontiguous=True)
            out, weights = self.call(q, k, v, scale)
            ref_out, ref_weights = reference(q.double(), k.double(), v.double(), scale)
            T.assert_close(out, ref_out, dtype, scale=10)
            T.assert_close(weights, ref_weights, dtype, scale=10)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_backward_reference(self, device, dtype):
        for case in self.CASES:
            (q, k, v), scale = inputs(case, device, dtype, requires_grad=True)
            out, weights = self.call(q, k, v, scale)
            g_out, g_w = torch.randn_like(out), torch.randn_like(weights)
            ours = torch.autograd.grad((out, weights), (q, k, v), (g_out, g_w))
            ref_in = [t.detach().double().requires_grad_() for t in (q, k, v)]
            ref = torch.autograd.grad(reference(*ref_in, scale), ref_in, (g_out.double(), g_w.double()))
            for a, b in zip(ours, ref):
                T.assert_close(a, b, dtype, scale=100)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_backward_output_only(self, device, dtype):
        (q, k, v), scale = inputs(self.CASES[1], device, dtype, requires_grad=True)
        out, _ = self.call(q, k, v, scale)
        out.sum().backward()
        ref_in = [t.detach().double().requires_grad_() for t in (q, k, v)]
        reference(*ref_in, scale)[0].sum().backward()
        for a, b in zip((q, k, v), ref_in):
            T.assert_close(a.grad, b.grad, dtype, scale=100)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_opcheck(self, device, dtype):
        for case in self.CASES[:4]:
            (q, k, v), scale = inputs(case, device, dtype, requires_grad=True)
            torch.library.opcheck(self.op.overload, (q, k, v, scale))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_compile_fullgraph(self, device, dtype):
        torch._dynamo.reset()

        def f(q, k, v):
            out, weights = self.call(q, k, v)
            return out * 2, weights

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        (q, k, v), _ = inputs(self.CASES[1], device, dtype, requires_grad=True)
        out, weights = compiled(q, k, v)
        ref_out, ref_weights = f(q, k, v)
        T.assert_close(out, ref_out.detach(), dtype)
        T.assert_close(weights, ref_weights.detach(), dtype)
        (out.sum() + weights.pow(2).sum()).backward()
        got = [t.grad.clone() for t in (q, k, v)]
        for t in (q, k, v):
            t.grad = None
        (ref_out.sum() + ref_weights.pow(2).sum()).backward()
        for g, t in zip(got, (q, k, v)):
            T.assert_close(g, t.grad, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_compiled_autograd(self, device, dtype):
        # The backward through both outputs (Python autograd over the backward op) traced by compiled
        # autograd, fullgraph.
        (q, k, v), _ = inputs(self.CASES[1], device, dtype, requires_grad=True)

        def loss():
            out, weights = self.call(q, k, v)
            return out.sum() + weights.pow(2).sum()

        got, expected = T.compiled_autograd_grads(loss, [q, k, v])
        for g, e in zip(got, expected):
            T.assert_close(g, e, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_module(self, device, dtype):
        (q, k, v), _ = inputs(self.CASES[0], device, dtype)
        module = self.op.module(scale=0.25)
        out, weights = module(q, k, v)
        ref_out, ref_weights = self.call(q, k, v, 0.25)
        torch.testing.assert_close(out, ref_out)
        torch.testing.assert_close(weights, ref_weights)
        assert "scale=0.25" in repr(module)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_wrong_rank(self, device, dtype):
        q = T.make((5, 8), dtype, device)
        with pytest.raises(RuntimeError, match=r"must be \[batch, seq, d\]"):
            self.call(q, q, q)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_mixed_rank(self, device, dtype):
        q, k = T.make((2, 5, 8), dtype, device), T.make((2, 1, 5, 8), dtype, device)
        with pytest.raises(RuntimeError, match="same rank"):
            self.call(q, k, k)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_feature_mismatch(self, device, dtype):
        q, k = T.make((2, 5, 8), dtype, device), T.make((2, 5, 9), dtype, device)
        with pytest.raises(RuntimeError, match="feature size"):
            self.call(q, k, k)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_sequence_mismatch(self, device, dtype):
        q, v = T.make((2, 5, 8), dtype, device), T.make((2, 6, 8), dtype, device)
        with pytest.raises(RuntimeError, match="sequence length"):
            self.call(q, q, v)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_batch_mismatch(self, device, dtype):
        q, k = T.make((2, 5, 8), dtype, device), T.make((3, 5, 8), dtype, device)
        with pytest.raises(RuntimeError, match="batch"):
            self.call(q, k, k)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_mixed_dtypes(self, device, dtype):
        other = torch.float64 if dtype != torch.float64 else torch.float32
        q, k = T.make((2, 5, 8), dtype, device), T.make((2, 5, 8), other, device)
        with pytest.raises(RuntimeError, match="one dtype"):
            self.call(q, k, k)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_unsupported_dtype(self, device, dtype):
        q = torch.ones(2, 5, 8, dtype=torch.int64, device=device)
        with pytest.raises(RuntimeError, match="not supported"):
            self.call(q, q, q)

    @T.over("device", "F64_DEVICES")
    def test_gradcheck(self, device):
        dtype = torch.float64  # finite differences need the precision
        for case in GRADCHECK_CASES:
            (q, k, v), scale = inputs(case, device, dtype, requires_grad=True)
            assert torch.autograd.gradcheck(lambda a, b, c: self.call(a, b, c, scale), (q, k, v))

    @T.over("device", "F64_DEVICES")
    def test_double_backward_refused(self, device):
        (q, k, v), scale = inputs(GRADCHECK_CASES[0], device, torch.float64, requires_grad=True)
        T.assert_double_backward_refused(lambda a, b, c: self.call(a, b, c, scale), (q, k, v), self.op.name)

    @T.needs("cpu_only")
    def test_rejects_device_without_kernel(self):
        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA device to show that a CPU-only op refuses CUDA tensors; none here")
        q = T.make((2, 5, 8), torch.float32, "cuda")
        with pytest.raises(RuntimeError):
            self.call(q, q, q)
