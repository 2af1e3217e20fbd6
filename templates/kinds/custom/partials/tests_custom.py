"""The custom ops' checks (your kernel against the spec's PyTorch reference), written once: tests/test_<op>.py
subclasses CustomTests with the op's data in a `CustomInfo` record, as torch's OpInfo. Every output against
the reference (float64) on the spec's samples, contiguous and not; layout, dtype and device of the outputs;
gradients, gradcheck and double backward refused where the op has a backward; opcheck, torch.compile
fullgraph, the module, bad inputs (dtypes, ranks, a device without a kernel)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch

from . import _testing as T


def outputs(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


@dataclass(frozen=True)
class CustomInfo:
    """A custom op's data: the op, its overload and module class, its PyTorch reference, its inputs and those
    gradients flow to, the attrs the tests call it with (floats off their defaults, so a kernel that ignores
    one fails), the spec's samples (one shape per input), the inputs of an exact rank, its dtypes and
    devices (every device takes every dtype), and whether it has a backward."""

    name: str
    fn: Callable
    reference: Callable
    overload: object
    module: type
    inputs: list
    samples: list
    dtypes: list
    devices: list
    differentiable: list = field(default_factory=list)
    attrs: dict = field(default_factory=dict)
    ranks: list = field(default_factory=list)  # (input, its number of dims)
    backward: bool = False


class CustomTests(T.OpTests):
    op: CustomInfo

    @classmethod
    def prepare(cls):
        op = cls.op
        cls.DEVICES = T.devices(tuple(op.devices))
        cls.DTYPES = list(op.dtypes)
        cls.RANKS = list(op.ranks)
        cls.has_backward = op.backward
        cls.has_gradcheck = op.backward and torch.float64 in op.dtypes
        cls.several_inputs = len(op.inputs) > 1
        cls.cpu_only = "cuda" not in op.devices
        # The samples finite differences can afford, else the first.
        cls.SMALL_SAMPLES = [s for s in op.samples if all(0 < math.prod(x) <= 64 for x in s)] or op.samples[:1]

    def rank_id(self, rank):
        return rank[0]

    def kernel(self, device: str) -> str:
        """Which of the user's kernels a device runs, for the message of a check that fails there."""
        return f"the {device} kernel (kernels/{self.op.name}.{'cu' if device == 'cuda' else 'cpp'})"

    def call(self, *args):
        return self.op.fn(*args, **self.op.attrs)

    def samples(self, device, dtype, requires_grad=False, noncontiguous=False):
        for shapes in self.op.samples:
            yield [T.make(s, dtype, device, requires_grad=requires_grad and name in self.op.differentiable,
                          noncontiguous=noncontiguous) for s, name in zip(shapes, self.op.inputs)]

    def expected(self, args):
        """The reference in float64, on copies of the inputs."""
        return outputs(self.op.reference(*(a.detach().double() for a in args), **self.op.attrs))

    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_reference(self, device, dtype):
        for args in self.samples(device, dtype):
            for ours, ref in zip(outputs(self.call(*args)), self.expected(args), strict=True):
                T.assert_close(ours, ref, dtype, scale=10, what=f"{self.kernel(device)} disagrees with the reference")

    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_noncontiguous(self, device, dtype):
        for args in self.samples(device, dtype, noncontiguous=True):
            for ours, ref in zip(outputs(self.call(*args)), self.expected(args), strict=True):
                T.assert_close(ours, ref, dtype, scale=10, what=f"{self.kernel(device)} disagrees with the reference")

    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_layout_and_dtype(self, device, dtype):
        for args in self.samples(device, dtype):
            for ours, ref in zip(outputs(self.call(*args)), self.expected(args), strict=True):
                assert ours.shape == ref.shape and ours.dtype == dtype and ours.is_contiguous()
                assert ours.device.type == device

    @T.needs("has_backward")
    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_backward_reference(self, device, dtype):
        op = self.op
        for args in self.samples(device, dtype, requires_grad=True):
            outs = outputs(self.call(*args))
            grads = [torch.randn_like(o) for o in outs]
            wrt = [a for a, name in zip(args, op.inputs) if name in op.differentiable]
            ours = torch.autograd.grad(outs, wrt, grads)
            ref_args = [a.detach().double().requires_grad_(name in op.differentiable) for a, name in zip(args, op.inputs)]
            ref_wrt = [a for a, name in zip(ref_args, op.inputs) if name in op.differentiable]
            ref_outs = outputs(op.reference(*ref_args, **op.attrs))
            theirs = torch.autograd.grad(ref_outs, ref_wrt, [g.double() for g in grads], allow_unused=True)
            for a, g, r in zip(wrt, ours, theirs, strict=True):
                assert g.shape == a.shape and g.dtype == a.dtype
                T.assert_close(g, r if r is not None else torch.zeros_like(a), dtype, scale=10,
                               what=f"{self.kernel(device)}'s backward disagrees with the reference's gradient")

    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_opcheck(self, device, dtype):
        for args in list(self.samples(device, dtype, requires_grad=self.op.backward))[:3]:
            torch.library.opcheck(self.op.overload, (*args, *self.op.attrs.values()))

    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_compile_fullgraph(self, device, dtype):
        torch._dynamo.reset()

        def f(*args):
            return [o * 2 for o in outputs(self.call(*args))]

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        args = next(self.samples(device, dtype, requires_grad=self.op.backward))
        got = compiled(*args)
        for ours, ref in zip(got, f(*args), strict=True):
            T.assert_close(ours, ref.detach(), dtype)
        if not self.op.backward:
            return
        wrt = [a for a, name in zip(args, self.op.inputs) if name in self.op.differentiable]
        ours = torch.autograd.grad(sum(o.sum() for o in got), wrt)
        theirs = torch.autograd.grad(sum(o.sum() for o in f(*args)), wrt)
        for g, r in zip(ours, theirs, strict=True):
            T.assert_close(g, r, dtype)

    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_module(self, device, dtype):
        module = self.op.module(**self.op.attrs)
        args = next(self.samples(device, dtype))
        for a, b in zip(outputs(module(*args)), outputs(self.call(*args)), strict=True):
            torch.testing.assert_close(a, b)
        assert self.op.module.__name__ in repr(module)

    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_rejects_unsupported_dtype(self, device, dtype):
        args = [torch.ones(s, dtype=torch.int64, device=device) for s in self.op.samples[0]]
        with pytest.raises(RuntimeError, match="not supported; supported dtypes"):
            self.call(*args)

    @T.needs("several_inputs")
    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_rejects_mixed_dtypes(self, device, dtype):
        other = torch.float64 if dtype != torch.float64 else torch.float32
        args = [T.make(s, dtype if i == 0 else other, device) for i, s in enumerate(self.op.samples[0])]
        with pytest.raises(RuntimeError, match="one dtype"):
            self.call(*args)

    @T.over("rank", "RANKS", ids="rank_id")
    @T.over("device", "DEVICES")
    @T.over("dtype", "DTYPES")
    def test_rejects_wrong_rank(self, device, dtype, rank):
        # One more dim on an input of an exact rank.
        input, dims = rank
        args = [T.make(((2,) + s) if name == input else s, dtype, device)
                for s, name in zip(self.op.samples[0], self.op.inputs)]
        with pytest.raises(RuntimeError, match=f"{input} must have {dims} dims"):
            self.call(*args)

    @T.needs("has_gradcheck")
    @T.over("device", "DEVICES")
    def test_gradcheck(self, device):
        dtype = torch.float64  # finite differences need the precision
        for shapes in self.SMALL_SAMPLES:
            args = [T.make(s, dtype, device, requires_grad=name in self.op.differentiable)
                    for s, name in zip(shapes, self.op.inputs)]
            assert torch.autograd.gradcheck(lambda *xs: self.call(*xs), args)

    @T.needs("has_gradcheck")
    @T.over("device", "DEVICES")
    def test_double_backward_refused(self, device):
        args = [T.make(s, torch.float64, device, requires_grad=name in self.op.differentiable)
                for s, name in zip(self.SMALL_SAMPLES[0], self.op.inputs)]
        T.assert_double_backward_refused(lambda *xs: self.call(*xs), args, self.op.name)

    @T.needs("cpu_only")
    def test_rejects_device_without_kernel(self):
        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA device to show that a CPU-only op refuses CUDA tensors; none here")
        args = [T.make(s, torch.float32, "cuda") for s in self.op.samples[0]]
        with pytest.raises(RuntimeError):
            self.call(*args)
