"""The conv ops' checks, written once: tests/test_<op>.py subclasses ConvTests with the op's data in a
`ConvInfo` record, as torch's OpInfo. Reference per activation (float64) over strides, paddings,
dilations, groups, channels-last inputs and no bias; gradients (all and some inputs), gradcheck, double
backward refused, opcheck, torch.compile fullgraph, compiled autograd, the module as a drop-in for
nn.Sequential(nn.Conv2d, activation), bad inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from . import _testing as T

GEOMETRY_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}
# (x shape, C_out, k, stride, padding, dilation, groups, with bias, channels-last)
CASES = [((2, 3, 8, 8), 4, 3, 1, 1, 1, 1, True, False), ((1, 4, 9, 7), 6, 3, 2, 0, 1, 2, True, False),
         ((2, 2, 5, 6), 3, 1, 1, 0, 1, 1, False, False), ((1, 3, 11, 11), 5, 3, 1, 2, 2, 1, True, False),
         ((2, 8, 6, 6), 8, 3, 1, 1, 1, 8, True, True), ((3, 4, 7, 5), 8, 2, 1, 1, 1, 1, True, True),
         ((0, 3, 8, 8), 4, 3, 1, 1, 1, 1, True, False),
         # 1x1, strided, channels-last, fewer input channels than oneDNN's block: the CPU case whose
         # weight gradient oneDNN's 1x1 kernel gets wrong (uxlfoundation/oneDNN#6035)
         ((3, 3, 12, 8), 4, 1, 2, 0, 1, 1, True, True)]
# The case for an op whose attrs can express none of CASES (a spec may fix the geometry).
FALLBACK_CASE = ((2, 3, 8, 8), 4, 3, 1, 0, 1, 1, True, False)


@dataclass(frozen=True)
class ConvInfo:
    """A conv op's data: the op, its overload and module class; its activations, the default first (what a
    call without the choice attr applies), each with its reference and the function the backward tests
    differentiate (given the op's own output y: at a kink, relu's, the side is taken from y, since
    rounding near z = 0 may put an element on the other side); whether it takes a bias and an activation
    attr, the geometry attrs a call may set, every attr in schema order, the activation modules
    (ACTIVATIONS) torch's drop-in is built of; dtypes per device."""

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
    geometry: list = field(default_factory=list)  # of stride, padding, dilation, groups: the attrs among them
    attrs: list = field(default_factory=list)  # every attr, in the schema's order


class ConvTests(T.OpTests):
    op: ConvInfo

    @classmethod
    def prepare(cls):
        op = cls.op
        cls.DEVICE_DTYPES = T.device_dtypes(op.dtypes)
        cls.F64_DEVICES = T.devices(tuple(d for d, ts in op.dtypes.items() if torch.float64 in ts))
        cls.ACTS = op.acts
        # Only the cases the op's attrs can express.
        cls.CASES = [c for c in CASES if all(v == d or name in op.geometry for (name, d), v in
                                             zip(GEOMETRY_DEFAULTS.items(), c[3:7]))] or [FALLBACK_CASE]
        cls.has_act_attr = bool(op.act_attr)

    def call(self, x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, act=None):
        op = self.op
        geometry = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        kwargs = {k: v for k, v in geometry.items() if k in op.geometry}
        assert all(v == GEOMETRY_DEFAULTS[k] for k, v in geometry.items() if k not in kwargs)
        if op.act_attr:
            kwargs[op.act_attr] = op.acts[0] if act is None else act
        return op.fn(x, w, *([bias] if op.bias else []), **kwargs)

    def reference(self, x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, act=None, ours=None):
        """The float64 reference; with `ours` (the op's output), what the backward tests differentiate."""
        act = self.op.acts[0] if act is None else act
        z = F.conv2d(x, w, bias, stride, padding, dilation, groups)
        if ours is None:
            return self.op.act_reference[act](z)
        return self.op.act_backward_reference[act](z, ours.detach().to(z.dtype))

    def inputs(self, case, device, dtype, requires_grad=False):
        shape, cout, k, stride, padding, dilation, groups, with_bias, channels_last = case
        x = T.make(shape, dtype, device, low=-1, high=1)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        w = T.make((cout, shape[1] // groups, k, k), dtype, device, low=-1, high=1)
        b = T.make((cout,), dtype, device, low=-1, high=1) if with_bias and self.op.bias else None
        for t in (x, w, b):
            if t is not None:
                t.requires_grad_(requires_grad)
        return (x, w, b), {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}

    @staticmethod
    def double(*ts):
        return [None if t is None else t.detach().double().requires_grad_(t.requires_grad) for t in ts]

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("act", "ACTS")
    def test_reference(self, device, dtype, act):
        for case in self.CASES:
            (x, w, b), geo = self.inputs(case, device, dtype)
            out = self.call(x, w, b, **geo, act=act)
            ref = self.reference(*self.double(x, w, b), **geo, act=act)
            assert out.dtype == dtype
            T.assert_rel_close(out, ref, dtype)
            if case[-1]:  # a channels-last input gives a channels-last output, as the fake kernel says
                assert out.is_contiguous(memory_format=torch.channels_last)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("act", "ACTS")
    def test_backward_reference(self, device, dtype, act):
        for case in self.CASES:
            (x, w, b), geo = self.inputs(case, device, dtype, requires_grad=True)
            out = self.call(x, w, b, **geo, act=act)
            g = torch.randn_like(out)
            leaves = [t for t in (x, w, b) if t is not None]
            ours = torch.autograd.grad(out, leaves, g)
            ref_in = self.double(x, w, b)
            theirs = torch.autograd.grad(self.reference(*ref_in, **geo, act=act, ours=out),
                                         [t for t in ref_in if t is not None], g.double())
            for a, r in zip(ours, theirs):
                T.assert_rel_close(a, r, dtype, scale=4)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_backward_some_inputs(self, device, dtype):
        (x, w, b), geo = self.inputs(self.CASES[0], device, dtype)
        w.requires_grad_()
        out = self.call(x, w, b, **geo)
        (gw,) = torch.autograd.grad(out.sum(), [w])
        rx, rw, rb = self.double(x, w, b)
        (ref,) = torch.autograd.grad(self.reference(rx, rw, rb, **geo, ours=out).sum(), [rw])
        T.assert_rel_close(gw, ref, dtype, scale=4)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_opcheck(self, device, dtype):
        for case in self.CASES[:3]:
            (x, w, b), geo = self.inputs(case, device, dtype, requires_grad=True)
            args = [x, w, *([b] if self.op.bias else [])]
            for a in self.op.attrs:
                args.append(geo[a] if a in geo else self.op.acts[-1])
            torch.library.opcheck(self.op.overload, tuple(args))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_compile_fullgraph(self, device, dtype):
        if dtype not in T.COMPILE_DTYPES:
            pytest.skip("torch.compile is tested for float32, bfloat16 and float64 (float16 shares bfloat16's path)")
        torch._dynamo.reset()
        (x, w, b), geo = self.inputs(self.CASES[0], device, dtype, requires_grad=True)

        def f(x, w, b):
            return self.call(x, w, b, **geo, act=self.op.acts[-1]) * 2

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        out, expected = compiled(x, w, b), f(x, w, b)
        T.assert_rel_close(out, expected, dtype)
        leaves = [t for t in (x, w, b) if t is not None]
        for a, r in zip(torch.autograd.grad(out.sum(), leaves), torch.autograd.grad(expected.sum(), leaves)):
            T.assert_rel_close(a, r, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_compiled_autograd(self, device, dtype):
        # The backward (Python autograd over the backward op) traced by compiled autograd, fullgraph.
        if dtype not in T.COMPILE_DTYPES:
            pytest.skip("torch.compile is tested for float32, bfloat16 and float64 (float16 shares bfloat16's path)")
        (x, w, b), geo = self.inputs(self.CASES[0], device, dtype, requires_grad=True)
        got, expected = T.compiled_autograd_grads(lambda: self.call(x, w, b, **geo, act=self.op.acts[-1]),
                                                  [t for t in (x, w, b) if t is not None])
        for g, e in zip(got, expected):
            T.assert_rel_close(g, e, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_module_is_a_drop_in(self, device, dtype):
        torch.manual_seed(0)
        op = self.op
        kwargs = {"padding": 1} if "padding" in op.geometry else {}
        if op.act_attr:
            kwargs[op.act_attr] = op.acts[-1]
        ours = op.module(4, 6, 3, **kwargs, device=device, dtype=dtype)
        # The geometry the module was built with: the spec's defaults where the call gives none.
        geometry = {k: getattr(ours[0], k) for k in ("stride", "padding", "dilation", "groups")}
        theirs = nn.Sequential(nn.Conv2d(4, 6, 3, **geometry, bias=op.bias, device=device, dtype=dtype),
                               op.activations[op.acts[-1]][0])
        assert list(ours.state_dict()) == list(theirs.state_dict())
        theirs.load_state_dict(ours.state_dict())
        x = T.make((2, 4, 9, 9), dtype, device, low=-1, high=1)
        with torch.no_grad():
            T.assert_rel_close(ours(x), theirs(x), dtype, scale=4)
        ours.load_state_dict(theirs.state_dict())
        ours(x).sum().backward()
        assert all(p.grad is not None and p.grad.shape == p.shape for p in ours.parameters())

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_bad_shapes(self, device, dtype):
        x, w = T.make((2, 3, 8, 8), dtype, device), T.make((4, 3, 3, 3), dtype, device)
        with pytest.raises(RuntimeError, match=r"must be \[N, C, H, W\]"):
            self.call(x[0], w)
        with pytest.raises(RuntimeError, match="input channels"):
            self.call(x, T.make((4, 2, 3, 3), dtype, device))
        with pytest.raises(RuntimeError, match="larger than the padded input"):
            self.call(T.make((1, 3, 2, 2), dtype, device), w)
        if self.op.bias:
            with pytest.raises(RuntimeError, match="must have shape"):
                self.call(x, w, T.make((5,), dtype, device))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_mixed_dtypes(self, device, dtype):
        other = torch.float64 if dtype != torch.float64 else torch.float32
        x, w = T.make((2, 3, 8, 8), dtype, device), T.make((4, 3, 3, 3), other, device)
        with pytest.raises(RuntimeError, match="one dtype"):
            self.call(x, w)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_unsupported_dtype(self, device, dtype):
        x = torch.ones(2, 3, 8, 8, dtype=torch.int64, device=device)
        w = torch.ones(4, 3, 3, 3, dtype=torch.int64, device=device)
        with pytest.raises(RuntimeError, match="not supported"):
            self.call(x, w)

    @T.needs("has_act_attr")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_unknown_activation(self, device, dtype):
        (x, w, b), geo = self.inputs(self.CASES[0], device, dtype)
        with pytest.raises(RuntimeError, match="is not one of"):
            self.call(x, w, b, **geo, act="swishy")

    @T.over("device", "F64_DEVICES")
    @T.over("act", "ACTS")
    def test_gradcheck(self, device, act):
        for case in self.CASES[:2]:
            (x, w, b), geo = self.inputs(case, device, torch.float64, requires_grad=True)
            assert torch.autograd.gradcheck(lambda *t: self.call(*t, **geo, act=act), (x, w, b))

    @T.over("device", "F64_DEVICES")
    def test_double_backward_refused(self, device):
        (x, w, b), geo = self.inputs(self.CASES[0], device, torch.float64, requires_grad=True)
        T.assert_double_backward_refused(lambda *t: self.call(*t, **geo, act=self.op.acts[0]), (x, w, b),
                                         self.op.name)
