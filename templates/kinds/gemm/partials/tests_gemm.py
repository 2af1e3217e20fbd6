"""The gemm ops' checks, written once: tests/test_<op>.py subclasses GemmTests with the op's data in a
`GemmInfo` record, as torch's OpInfo. Reference per activation (float64), non-contiguous operands, gradients
(all and some inputs), gradcheck, double backward refused, opcheck, torch.compile fullgraph, compiled
autograd, the module (as a drop-in for torch's where it is a linear layer), bad inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch
from torch import nn

from . import _testing as T

# (shape of a, out_features, with bias): 2-d and 3-d inputs, odd sizes for vector tails, K = 1, an empty
# batch, K = 0 and N = 0.
LINEAR_CASES = [((4, 8), 5, True), ((2, 3, 16), 7, True), ((5, 1), 3, True), ((9, 33), 17, False),
                ((1, 64), 64, True), ((0, 8), 4, True), ((3, 0), 4, True), ((3, 5), 0, True)]
# (shape of a, shape of b, with bias): odd sizes, 1 x 1, empty M, K and N.
MATMUL_CASES = [((4, 8), (8, 5), True), ((1, 1), (1, 1), True), ((7, 33), (33, 17), True), ((0, 3), (3, 4), True),
                ((3, 0), (0, 5), True), ((2, 6), (6, 0), True)]


@dataclass(frozen=True)
class GemmInfo:
    """A gemm op's data: the op, its overload and module class; its activations, the default first (what a
    call without the choice attr applies), each with its reference and the function the backward tests
    differentiate (given the op's own output y: at a kink, relu's, the side is taken from y, since
    rounding near z = 0 may put an element on the other side); whether it takes a bias and an activation
    attr, its layout (linear: b is [out, in]; else a @ b), whether its module is a plain nn.Linear, and the
    activation modules (ACTIVATIONS) torch's drop-in is built of; dtypes per device."""

    name: str
    fn: Callable
    overload: object
    module: type
    acts: list
    act_reference: dict
    act_backward_reference: dict
    dtypes: dict
    activations: dict = field(default_factory=dict)
    bias: bool = True
    act_attr: str = ""  # the attr choosing the activation, if any
    linear: bool = True
    plain_linear: bool = False


class GemmTests(T.OpTests):
    op: GemmInfo

    @classmethod
    def prepare(cls):
        op = cls.op
        cls.DEVICE_DTYPES = T.device_dtypes(op.dtypes)
        cls.F64_DEVICES = T.devices(tuple(d for d, ts in op.dtypes.items() if torch.float64 in ts))
        cls.ACTS = op.acts
        cls.CASES = LINEAR_CASES if op.linear else MATMUL_CASES
        cls.has_bias, cls.has_act_attr = op.bias, bool(op.act_attr)
        cls.is_linear, cls.is_matmul = op.linear, not op.linear
        cls.cpu_only = "cuda" not in op.dtypes

    def call(self, a, b, bias=None, act=None):
        act = self.op.acts[0] if act is None else act
        return self.op.fn(a, b, *([bias] if self.op.bias else []), *([act] if self.op.act_attr else []))

    def reference(self, a, b, bias=None, act=None, ours=None):
        """The float64 reference; with `ours` (the op's output), what the backward tests differentiate."""
        act = self.op.acts[0] if act is None else act
        if self.op.linear:
            z = torch.nn.functional.linear(a, b, bias)
        else:
            z = a @ b if bias is None else a @ b + bias
        if ours is None:
            return self.op.act_reference[act](z)
        return self.op.act_backward_reference[act](z, ours.detach().to(z.dtype))

    def inputs(self, case, device, dtype, requires_grad=False, noncontiguous=False):
        if self.op.linear:
            shape, n, with_bias = case
            sa, sb = shape, (n, shape[-1])
        else:
            sa, sb, with_bias = case
            n = sb[1]
        a = T.make(sa, dtype, device, low=-1, high=1, requires_grad=requires_grad, noncontiguous=noncontiguous)
        b = T.make(sb, dtype, device, low=-1, high=1, requires_grad=requires_grad, noncontiguous=noncontiguous)
        with_bias = with_bias and self.op.bias
        bias = T.make((n,), dtype, device, low=-1, high=1, requires_grad=requires_grad) if with_bias else None
        return a, b, bias

    @staticmethod
    def double(*ts):
        return [None if t is None else t.detach().double().requires_grad_(t.requires_grad) for t in ts]

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("act", "ACTS")
    def test_reference(self, device, dtype, act):
        for case in self.CASES:
            a, b, bias = self.inputs(case, device, dtype)
            out = self.call(a, b, bias, act)
            assert out.dtype == dtype and out.device == a.device
            T.assert_rel_close(out, self.reference(*self.double(a, b, bias), act=act), dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_noncontiguous(self, device, dtype):
        for case in self.CASES[:4]:
            a, b, bias = self.inputs(case, device, dtype, noncontiguous=True)
            T.assert_rel_close(self.call(a, b, bias), self.reference(*self.double(a, b, bias)), dtype)
        a, b, bias = self.inputs(self.CASES[0], device, dtype)
        bt = b.t().contiguous().t()  # same values, column-major storage
        T.assert_rel_close(self.call(a, bt, bias), self.reference(*self.double(a, b, bias)), dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("act", "ACTS")
    def test_backward_reference(self, device, dtype, act):
        for case in self.CASES:
            a, b, bias = self.inputs(case, device, dtype, requires_grad=True)
            out = self.call(a, b, bias, act)
            g = torch.randn_like(out)
            leaves = [t for t in (a, b, bias) if t is not None]
            ours = torch.autograd.grad(out, leaves, g)
            ref_in = self.double(a, b, bias)
            ref_leaves = [t for t in ref_in if t is not None]
            theirs = torch.autograd.grad(self.reference(*ref_in, act=act, ours=out), ref_leaves, g.double())
            for x, y in zip(ours, theirs):
                T.assert_rel_close(x, y, dtype, scale=4)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_backward_some_inputs(self, device, dtype):
        # Only the gradients asked for are computed (the others come back as None).
        a, b, bias = self.inputs(self.CASES[1], device, dtype)
        b.requires_grad_()
        out = self.call(a, b, bias)
        (gb,) = torch.autograd.grad(out.sum(), [b])
        ra, rb, rbias = self.double(a, b, bias)
        (ref,) = torch.autograd.grad(self.reference(ra, rb, rbias, ours=out).sum(), [rb])
        T.assert_rel_close(gb, ref, dtype, scale=4)
        a.requires_grad_()
        b.requires_grad_(False)
        out = self.call(a, b, bias)
        (ga,) = torch.autograd.grad(out.sum(), [a])
        ra.requires_grad_()
        rb.requires_grad_(False)
        (ref,) = torch.autograd.grad(self.reference(ra, rb, rbias, ours=out).sum(), [ra])
        T.assert_rel_close(ga, ref, dtype, scale=4)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_opcheck(self, device, dtype):
        for case in self.CASES[:3]:
            a, b, bias = self.inputs(case, device, dtype, requires_grad=True)
            args = (a, b, *([bias] if self.op.bias else []), *([self.op.acts[-1]] if self.op.act_attr else []))
            torch.library.opcheck(self.op.overload, args)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_compile_fullgraph(self, device, dtype):
        if dtype not in T.COMPILE_DTYPES:
            pytest.skip("torch.compile is tested for float32, bfloat16 and float64 (float16 shares bfloat16's path)")
        torch._dynamo.reset()

        def f(a, b, bias):
            return self.call(a, b, bias, self.op.acts[-1]) * 2

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        a, b, bias = self.inputs(self.CASES[1], device, dtype, requires_grad=True)
        out = compiled(a, b, bias)
        expected = f(a, b, bias)
        T.assert_rel_close(out, expected, dtype)
        leaves = [t for t in (a, b, bias) if t is not None]
        got = torch.autograd.grad(out.sum(), leaves)
        want = torch.autograd.grad(expected.sum(), leaves)
        for x, y in zip(got, want):
            T.assert_rel_close(x, y, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_compiled_autograd(self, device, dtype):
        # The backward (Python autograd over the backward op) traced by compiled autograd, fullgraph.
        if dtype not in T.COMPILE_DTYPES:
            pytest.skip("torch.compile is tested for float32, bfloat16 and float64 (float16 shares bfloat16's path)")
        a, b, bias = self.inputs(self.CASES[1], device, dtype, requires_grad=True)
        leaves = [t for t in (a, b, bias) if t is not None]
        got, expected = T.compiled_autograd_grads(lambda: self.call(a, b, bias, self.op.acts[-1]), leaves)
        for g, e in zip(got, expected):
            T.assert_rel_close(g, e, dtype)

    @T.needs("is_linear")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_module_is_a_drop_in(self, device, dtype):
        torch.manual_seed(0)
        op = self.op
        choice = {op.act_attr: op.acts[-1]} if op.act_attr else {}
        ours = op.module(16, 7, **choice, device=device, dtype=dtype)
        if op.plain_linear:
            theirs = nn.Linear(16, 7, device=device, dtype=dtype)
        else:
            theirs = nn.Sequential(nn.Linear(16, 7, bias=op.bias, device=device, dtype=dtype),
                                   op.activations[op.acts[-1]][0])
        assert list(ours.state_dict()) == list(theirs.state_dict())
        theirs.load_state_dict(ours.state_dict())
        x = T.make((3, 5, 16), dtype, device, low=-1, high=1)
        with torch.no_grad():
            T.assert_rel_close(ours(x), theirs(x), dtype, scale=4)
        # and back: the torch module's weights load into ours, and train through the fused op
        theirs = type(theirs)(*theirs.children()) if isinstance(theirs, nn.Sequential) else theirs
        ours.load_state_dict(theirs.state_dict())
        ours(x).sum().backward()
        assert all(p.grad is not None and p.grad.shape == p.shape for p in ours.parameters())

    @T.needs("is_matmul")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_module(self, device, dtype):
        a, b, _ = self.inputs(self.CASES[0], device, dtype)
        module = self.op.module()
        torch.testing.assert_close(module(a, b), self.call(a, b))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_shape_mismatch(self, device, dtype):
        if self.op.linear:
            a, b = T.make((3, 8), dtype, device), T.make((5, 9), dtype, device)
            with pytest.raises(RuntimeError, match="in_features"):
                self.call(a, b)
            with pytest.raises(RuntimeError, match=r"must be \[out_features, in_features\]"):
                self.call(a, T.make((8,), dtype, device))
        else:
            a, b = T.make((3, 8), dtype, device), T.make((9, 5), dtype, device)
            with pytest.raises(RuntimeError, match="inner sizes"):
                self.call(a, b)
            with pytest.raises(RuntimeError, match="must be matrices"):
                self.call(T.make((2, 3, 8), dtype, device), T.make((8, 5), dtype, device))

    @T.needs("has_bias")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_bias_shape(self, device, dtype):
        a, b, _ = self.inputs(self.CASES[0], device, dtype)
        with pytest.raises(RuntimeError, match="must have shape"):
            self.call(a, b, T.make((b.shape[0] + 1,), dtype, device))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_mixed_dtypes(self, device, dtype):
        other = torch.float64 if dtype != torch.float64 else torch.float32
        a, b, _ = self.inputs(self.CASES[0], device, dtype)
        with pytest.raises(RuntimeError, match="one dtype"):
            self.call(a, b.to(other))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_unsupported_dtype(self, device, dtype):
        a, b, _ = self.inputs(self.CASES[0], device, dtype)
        with pytest.raises(RuntimeError, match="not supported"):
            self.call(a.to(torch.int64), b.to(torch.int64))

    @T.needs("has_act_attr")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_unknown_activation(self, device, dtype):
        a, b, bias = self.inputs(self.CASES[0], device, dtype)
        with pytest.raises(RuntimeError, match="is not one of"):
            self.call(a, b, bias, "swishy")

    @T.over("device", "F64_DEVICES")
    @T.over("act", "ACTS")
    def test_gradcheck(self, device, act):
        for case in self.CASES[:3]:
            a, b, bias = self.inputs(case, device, torch.float64, requires_grad=True)
            assert torch.autograd.gradcheck(lambda *t: self.call(*t, act=act), (a, b, bias))

    @T.over("device", "F64_DEVICES")
    def test_double_backward_refused(self, device):
        a, b, bias = self.inputs(self.CASES[0], device, torch.float64, requires_grad=True)
        T.assert_double_backward_refused(lambda *t: self.call(*t, act=self.op.acts[0]), (a, b, bias), self.op.name)

    @T.needs("cpu_only")
    def test_rejects_device_without_kernel(self):
        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA device to show that a CPU-only op refuses CUDA tensors; none here")
        a, b, _ = self.inputs(self.CASES[0], "cuda", torch.float32)
        with pytest.raises(RuntimeError):
            self.call(a, b)
