"""The elementwise ops' checks, written once: tests/test_<op>.py (and test_<op>_cuda.py) subclass
ElementwiseTests (ElementwiseCudaTests) with the op's data in an `ElementwiseInfo` record, as torch's OpInfo.
The op against its composite reference (float64) and its torch peer on scalars, empty, odd-sized and
broadcast shapes; gradients, gradcheck, gradgradcheck, opcheck, torch.compile fullgraph, compiled
autograd, the module, the in-place and out= forms, bad inputs. On CUDA: half types against float32, the
vectorized path and its unaligned fallback, CUDA graphs, a non-default stream, the device guard."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch

from . import _testing as T

# Shapes per sample, each for every input: scalars, empty, odd sizes (vector tails), dims.
SHAPES = [(), (0,), (7,), (3, 5), (2, 3, 4), (1031,), (4, 0, 3)]


@dataclass(frozen=True)
class ElementwiseInfo:
    """An elementwise op's data: the op, its reference (its composite as torch ops), its inputs and those
    gradients flow to, attrs (not the defaults; `required`: what a call must pass), dtypes per device; and
    for the full checks its overload, module class, torch peer, test value ranges, extra shapes, in-place
    form and out= overload, and what it has (gradients, a traceable C++ autograd Function, a composite for
    double backward)."""

    name: str
    fn: Callable
    reference: Callable
    inputs: list
    dtypes: dict
    differentiable: list = field(default_factory=list)
    attrs: dict = field(default_factory=dict)
    required: dict = field(default_factory=dict)
    overload: object = None
    module: type | None = None
    peer: Callable | None = None
    ranges: dict = field(default_factory=dict)
    shapes: list = field(default_factory=list)
    inplace: Callable | None = None
    out_overload: object = None
    gradients: bool = False
    cpp_autograd: bool = False
    double_backward: bool = False
    all_attrs_defaulted: bool = False  # a call may leave out every attr


class ElementwiseTests(T.OpTests):
    op: ElementwiseInfo

    @classmethod
    def prepare(cls):
        op, n = cls.op, len(cls.op.inputs)
        cls.DEVICE_DTYPES = T.device_dtypes(op.dtypes)
        cls.COMPILE_CASES = T.compile_cases(cls.DEVICE_DTYPES)
        cls.F64_DEVICES = T.devices(tuple(d for d, ts in op.dtypes.items() if torch.float64 in ts))
        cls.SHAPES = [(s,) * n for s in [*SHAPES, *op.shapes]]
        if n > 1:  # broadcasting
            cls.SHAPES += [((3, 5), *[(5,)] * (n - 1)), ((2, 1, 4), *[(3, 1)] * (n - 1)), ((), *[(4, 6)] * (n - 1))]
        cls.has_peer, cls.has_gradients, cls.has_cpp_autograd = op.peer is not None, op.gradients, op.cpp_autograd
        cls.has_inplace, cls.has_out = op.inplace is not None, op.out_overload is not None
        cls.binary = n > 1
        cls.binary_inplace = cls.binary and cls.has_inplace
        cls.has_gradcheck = op.gradients and bool(cls.F64_DEVICES)
        cls.has_gradgradcheck = op.double_backward and bool(cls.F64_DEVICES)
        cls.cpu_only = "cuda" not in op.dtypes

    def make_inputs(self, shapes, dtype, device, **kwargs):
        return [T.make(s, dtype, device, low=self.op.ranges[name][0], high=self.op.ranges[name][1], **kwargs)
                for s, name in zip(shapes, self.op.inputs)]

    def samples(self, device, dtype, requires_grad=False, noncontiguous=False):
        for shapes in self.SHAPES:
            yield self.make_inputs(shapes, dtype, device, requires_grad=requires_grad, noncontiguous=noncontiguous)

    def expected(self, args, attrs):
        return self.op.reference(*(a.double() for a in args), **attrs)

    def call(self, *args, **kwargs):
        return self.op.fn(*args, **self.op.attrs, **kwargs)

    def same_shapes(self, shape):
        return [shape] * len(self.op.inputs)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_reference(self, device, dtype):
        for args in self.samples(device, dtype):
            T.assert_close(self.call(*args), self.expected(args, self.op.attrs), dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_default_attrs(self, device, dtype):
        args = self.make_inputs(self.same_shapes((4, 9)), dtype, device)
        required = self.op.required
        T.assert_close(self.op.fn(*args, **required), self.expected(args, required), dtype)

    @T.needs("has_peer")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_matches_torch(self, device, dtype):
        for args in self.samples(device, dtype):
            T.assert_close(self.call(*args), self.op.peer(*args, **self.op.attrs), dtype, scale=2)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_noncontiguous(self, device, dtype):
        for args in self.samples(device, dtype, noncontiguous=True):
            T.assert_close(self.call(*args), self.expected(args, self.op.attrs), dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_layout_and_dtype(self, device, dtype):
        for args in self.samples(device, dtype):
            out = self.call(*args)
            assert out.dtype == dtype
            assert out.shape == torch.broadcast_shapes(*(a.shape for a in args))
            assert out.is_contiguous()

    @T.needs("has_gradients")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_backward_reference(self, device, dtype):
        for args in self.samples(device, dtype, requires_grad=True):
            out = self.call(*args)
            grad = torch.randn_like(out)
            ours = torch.autograd.grad(out, args, grad, allow_unused=True)
            ref_args = [a.detach().double().requires_grad_() for a in args]
            ref_out = self.op.reference(*ref_args, **self.op.attrs)
            theirs = torch.autograd.grad(ref_out, ref_args, grad.double(), allow_unused=True)
            for name, a, g, r in zip(self.op.inputs, args, ours, theirs):
                if name not in self.op.differentiable:
                    continue
                assert g is not None and g.shape == a.shape and g.dtype == a.dtype
                T.assert_close(g, r if r is not None else torch.zeros_like(a), dtype, scale=10)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_opcheck(self, device, dtype):
        for args in list(self.samples(device, dtype, requires_grad=self.op.gradients))[:5]:
            torch.library.opcheck(self.op.overload, (*args, *self.op.attrs.values()))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_module(self, device, dtype):
        module = self.op.module(**self.op.attrs)
        args = self.make_inputs(self.same_shapes((5, 6)), dtype, device)
        torch.testing.assert_close(module(*args), self.call(*args))
        assert self.op.module.__name__ in repr(module)

    @T.needs("has_inplace")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_inplace_writes_the_first_input(self, device, dtype):
        # op_(x, ...): x holds op(x, ...) afterwards (the others broadcast to x), is returned, its version bumped.
        op = self.op
        for args in list(self.samples(device, dtype))[:6]:
            expected = self.call(*args)
            if expected.shape != args[0].shape:
                continue
            first = args[0].clone()
            version = first._version
            assert op.inplace(first, *args[1:], **op.attrs) is first
            torch.testing.assert_close(first, expected, equal_nan=True, rtol=0, atol=0)
            assert first._version > version, "the in-place form did not bump the version counter"
        needs_grad = self.make_inputs(self.same_shapes((3, 5)), dtype, device, requires_grad=True)
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            op.inplace(*needs_grad, **op.attrs)
        if len(op.inputs) == 1:
            return
        # A result of another shape or dtype than the first input's: told as the caller wrote it, op_ and its name.
        name, first_name = op.name, op.inputs[0]
        small = self.make_inputs([(5,)] + [(3, 5)] * (len(op.inputs) - 1), dtype, device)
        with pytest.raises(RuntimeError, match=rf"{name}_: {first_name} has shape \[5\] but the result has shape \[3, 5\]") as info:
            op.inplace(*small, **op.attrs)
        said = str(info.value).splitlines()[0]
        assert f"{name}_out" not in said and "out has" not in said, said
        if dtype != torch.float64 and any(c.values == (device, torch.float64) for c in self.DEVICE_DTYPES):
            first, *others = self.make_inputs(self.same_shapes((3, 5)), torch.float64, device)
            with pytest.raises(RuntimeError, match=rf"{name}_: {first_name} has dtype \w+ but the result has dtype"):
                op.inplace(first.to(dtype), *others, **op.attrs)

    @T.needs("binary_inplace")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_inplace_errors_under_fake_tensors(self, device, dtype):
        # torch.compile meets the fake kernel first: it names op_ and the first input too.
        from torch._subclasses.fake_tensor import FakeTensorMode

        op = self.op
        with FakeTensorMode():
            small = [torch.empty(5, dtype=dtype, device=device)] + [torch.empty(3, 5, dtype=dtype, device=device)
                                                                   for _ in op.inputs[1:]]
            with pytest.raises(RuntimeError, match=rf"{op.name}_: {op.inputs[0]} has shape \(5,\) but the result has shape \(3, 5\)"):
                op.inplace(*small, **op.attrs)

    @T.needs("has_out")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_out_writes_the_callers_tensor(self, device, dtype):
        # out= : the same values in the caller's tensor (contiguous or strided), returned; its version bumped.
        for args in list(self.samples(device, dtype))[:6]:
            expected = self.call(*args)
            outs = [torch.empty_like(expected)]
            if expected.dim() == 2:  # a transposed view: strided
                outs.append(torch.empty(expected.shape[::-1], dtype=dtype, device=device).mT)
            for out in outs:
                version = out._version
                assert self.call(*args, out=out) is out
                torch.testing.assert_close(out, expected, equal_nan=True, rtol=0, atol=0)
                assert out._version > version, "out= did not bump the version counter of the tensor it wrote"

    @T.needs("has_out")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_out_refuses_wrong_shape_dtype_and_grad(self, device, dtype):
        args = self.make_inputs(self.same_shapes((3, 5)), dtype, device)
        with pytest.raises(RuntimeError, match="out has shape"):
            self.call(*args, out=torch.empty(2, 5, dtype=dtype, device=device))
        other = torch.float64 if dtype != torch.float64 else torch.float32
        with pytest.raises(RuntimeError, match="out has dtype"):
            self.call(*args, out=torch.empty(3, 5, dtype=other, device=device))
        needs_grad = self.make_inputs(self.same_shapes((3, 5)), dtype, device, requires_grad=True)
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            self.call(*needs_grad, out=torch.empty(3, 5, dtype=dtype, device=device))
        with torch.no_grad():
            self.call(*needs_grad, out=torch.empty(3, 5, dtype=dtype, device=device))

    @T.needs("has_out")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_out_opcheck(self, device, dtype):
        for args in list(self.samples(device, dtype))[:5]:
            out = torch.empty_like(self.call(*args))
            torch.library.opcheck(self.op.out_overload, (*args, *self.op.attrs.values()), {"out": out})

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_unsupported_dtype(self, device, dtype):
        args = [torch.ones(4, dtype=torch.int64, device=device) for _ in self.op.inputs]
        with pytest.raises(RuntimeError, match="not supported; supported dtypes") as e:
            self.call(*args)
        # The conversion the message suggests is to a dtype the op takes on this device.
        suggested = str(e.value).rsplit(".to(torch.", 1)[-1].split(")")[0]
        assert getattr(torch, suggested, None) in self.op.dtypes[device], str(e.value)

    @T.needs("binary")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_mismatched_shapes(self, device, dtype):
        args = [T.make((3,), dtype, device)] + [T.make((4,), dtype, device) for _ in self.op.inputs[1:]]
        with pytest.raises(RuntimeError, match="must match the size"):
            self.call(*args)

    @T.needs("binary")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_mixed_devices(self, device, dtype):
        if not torch.cuda.is_available():
            pytest.skip("mixing devices needs a CUDA device; none on this machine")
        other = "cpu" if device == "cuda" else "cuda"
        args = [T.make((3,), dtype, device)] + [T.make((3,), dtype, other) for _ in self.op.inputs[1:]]
        with pytest.raises(RuntimeError):
            self.call(*args)

    @T.needs("has_out")
    @T.over("device, dtype", "COMPILE_CASES")
    def test_compile_fullgraph_out(self, device, dtype):
        # A mutated argument under torch.compile: functionalized, then written back to the caller's tensor.
        torch._dynamo.reset()

        def f(out, *args):
            self.call(*args, out=out)
            return out * 2

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        args = self.make_inputs(self.same_shapes((8, 33)), dtype, device)
        out = torch.empty(8, 33, dtype=dtype, device=device)
        result = compiled(out, *args)
        expected = self.call(*args)
        T.assert_close(out, expected, dtype)
        T.assert_close(result, expected * 2, dtype)

    @T.over("device, dtype", "COMPILE_CASES")
    def test_compile_fullgraph(self, device, dtype):
        torch._dynamo.reset()

        def f(*args):
            return self.call(*args) * 2

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        args = self.make_inputs(self.same_shapes((8, 33)), dtype, device, requires_grad=self.op.gradients)
        out = compiled(*args)
        T.assert_close(out, f(*args).detach(), dtype)
        if not self.op.gradients:
            return
        out.sum().backward()
        got = [a.grad for a in args]
        for a in args:
            a.grad = None
        f(*args).sum().backward()
        for g, a in zip(got, args):
            if a.grad is not None:
                T.assert_close(g, a.grad, dtype)

    @T.needs("has_cpp_autograd")
    @T.over("device, dtype", "COMPILE_CASES")
    def test_compiled_autograd(self, device, dtype):
        # The C++ autograd Function says is_traceable: compiled autograd traces its backward (the
        # backward op, through its fake kernel) into the graph it compiles.
        # With the test's attrs and with the defaults: a caller may leave out an argument equal to its
        # schema default, so the fake backward must take the defaults too.
        op = self.op
        for attrs in (op.attrs, {}) if op.all_attrs_defaulted else (op.attrs,):
            args = self.make_inputs(self.same_shapes((8, 33)), dtype, device, requires_grad=True)
            wrt = [a for a, name in zip(args, op.inputs) if name in op.differentiable]
            got, expected = T.compiled_autograd_grads(lambda: op.fn(*args, **attrs), wrt)
            for g, e in zip(got, expected):
                T.assert_close(g, e, dtype)

    def small_samples(self, device, limit):
        """float64 inputs of the samples with at most `limit` elements each (finite differences need the
        precision), gradients for the differentiable ones."""
        for shapes in [s for s in self.SHAPES if all(0 < torch.Size(x).numel() <= limit for x in s)]:
            yield [T.make(s, torch.float64, device, low=self.op.ranges[name][0], high=self.op.ranges[name][1],
                          requires_grad=name in self.op.differentiable)
                   for s, name in zip(shapes, self.op.inputs)]

    @T.needs("has_gradcheck")
    @T.over("device", "F64_DEVICES")
    def test_gradcheck(self, device):
        for args in self.small_samples(device, 64):
            assert torch.autograd.gradcheck(lambda *xs: self.call(*xs), args)

    @T.needs("has_gradgradcheck")
    @T.over("device", "F64_DEVICES")
    def test_gradgradcheck(self, device):
        # A create_graph backward differentiates the op's composite (the fused kernel has no derivative of
        # its own): second derivatives must match finite differences of the first, never a silent zero.
        for args in self.small_samples(device, 16):
            assert torch.autograd.gradgradcheck(lambda *xs: self.call(*xs), args)

    @T.needs("cpu_only")
    def test_rejects_device_without_kernel(self):
        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA device to show that a CPU-only op refuses CUDA tensors; none here")
        args = [T.make((3,), torch.float32, "cuda") for _ in self.op.inputs]
        with pytest.raises(RuntimeError):
            self.call(*args)


# Half results are float32 math rounded once: within two units in the last place of the rounded reference.
HALF_RTOL = {torch.float16: 2 * 2.0**-10, torch.bfloat16: 2 * 2.0**-7}


class ElementwiseCudaTests(T.OpTests):
    """The CUDA kernel; skipped, visibly, without a CUDA device. `reference` is the spec's formula."""

    pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA tests: no CUDA device on this machine")
    OFFSETS = (pytest.param(0, id="aligned"), pytest.param(1, id="unaligned"))
    op: ElementwiseInfo

    @classmethod
    def prepare(cls):
        cls.CUDA_DTYPES = list(cls.op.dtypes["cuda"])
        cls.HALF_DTYPES = [t for t in cls.CUDA_DTYPES if t in (torch.float16, torch.bfloat16)]
        cls.has_gradients, cls.binary = cls.op.gradients, len(cls.op.inputs) > 1

    def dtype_id(self, dtype):
        return str(dtype)

    def inputs(self, shape, dtype, **kw):
        return [T.make(shape, dtype, "cuda", **kw) for _ in self.op.inputs]

    def call(self, *args):
        return self.op.fn(*args, **self.op.attrs)

    def ref(self, args):
        return self.op.reference(*args, **self.op.attrs)

    @T.over("dtype", "HALF_DTYPES", ids="dtype_id")
    def test_half_against_float32(self, dtype):
        args = self.inputs((1000, 37), dtype)
        expected = self.ref([a.float() for a in args]).to(dtype)
        torch.testing.assert_close(self.call(*args), expected, rtol=HALF_RTOL[dtype], atol=1e-5)

    @T.needs("has_gradients")
    @T.over("dtype", "HALF_DTYPES", ids="dtype_id")
    def test_half_backward_against_float32(self, dtype):
        args = self.inputs((1000, 37), dtype, requires_grad=True)
        out = self.call(*args)
        grad = torch.randn_like(out)
        ours = torch.autograd.grad(out, args, grad, allow_unused=True)
        ref_args = [a.detach().float().requires_grad_() for a in args]
        theirs = torch.autograd.grad(self.ref(ref_args), ref_args, grad.float(), allow_unused=True)
        for name, a, g, r in zip(self.op.inputs, args, ours, theirs):
            if name in self.op.differentiable:
                r = torch.zeros_like(a) if r is None else r.to(dtype)
                # the float32 reference differentiates another formula: a few ulps of slack
                torch.testing.assert_close(g, r, rtol=4 * HALF_RTOL[dtype], atol=1e-3)

    @T.over("dtype", "CUDA_DTYPES", ids="dtype_id")
    @T.over("offset", "OFFSETS")
    def test_large_vectorized_and_tail(self, dtype, offset):
        # 2**20 + 3 elements: the vector loop and its tail; offset 1 breaks 16-byte alignment (scalar path).
        base = self.inputs((2**20 + 3 + offset,), dtype)
        args = [b[offset:] for b in base]
        T.assert_close(self.call(*args), self.ref([a.double() for a in args]), dtype)

    @T.needs("binary")
    def test_broadcast_and_cpu_scalar_rejected(self):
        a, b = T.make((64, 1), torch.float32, "cuda"), T.make((1, 48), torch.float32, "cuda")
        args = [a] + [b] * (len(self.op.inputs) - 1)
        T.assert_close(self.call(*args), self.ref([t.double() for t in args]), torch.float32)
        with pytest.raises(RuntimeError, match="move all inputs to one device"):
            self.call(a, *[torch.tensor(2.0)] * (len(self.op.inputs) - 1))

    def test_cuda_graph_reduce_overhead(self):
        from torch._dynamo.utils import counters

        torch._dynamo.reset()
        counters.clear()

        def f(*args):
            return self.call(*args) * 2

        compiled = torch.compile(f, mode="reduce-overhead", fullgraph=True, dynamic=False)
        for _ in range(4):  # warm-up, record, then replays: each on fresh values
            args = self.inputs((256, 129), torch.float32, requires_grad=self.op.gradients)
            torch.compiler.cudagraph_mark_step_begin()
            out = compiled(*args)
            T.assert_close(out, self.ref([a.detach().double() for a in args]) * 2, torch.float32)
            if self.op.gradients:
                out.sum().backward()
                ref_args = [a.detach().double().requires_grad_() for a in args]
                (self.ref(ref_args) * 2).sum().backward()
                for name, a, r in zip(self.op.inputs, args, ref_args):
                    if name in self.op.differentiable:
                        T.assert_close(a.grad, r.grad, torch.float32, scale=10)
        assert not counters["inductor"]["cudagraph_skips"], "the graph was not captured: " + str(dict(counters["inductor"]))

    def test_runs_on_the_current_stream(self):
        # The inputs are written on a side stream behind a long sleep; a kernel launched on any other stream
        # would read them before they exist.
        src = self.inputs((1 << 16,), torch.float32)
        expected = self.ref([a.double() for a in src])
        torch.cuda.synchronize()
        side = torch.cuda.Stream()
        with torch.cuda.stream(side):
            torch.cuda._sleep(50_000_000)
            args = [a * 1 for a in src]
            out = self.call(*args)
        side.synchronize()
        T.assert_close(out, expected, torch.float32)

    def test_device_guard(self):
        if torch.cuda.device_count() < 2:
            pytest.skip("device-guard case: needs two CUDA devices, this machine has one")
        with torch.cuda.device(0):
            args = self.inputs((1000,), torch.float32)
            args = [a.to("cuda:1") for a in args]
            out = self.call(*args)
            assert out.device == torch.device("cuda:1") and torch.cuda.current_device() == 0
        T.assert_close(out.cpu(), self.ref([a.double().cpu() for a in args]), torch.float32)
