"""The rowwise ops' checks, written once: tests/test_<op>.py subclasses RowwiseTests with the op's data in
a `RowwiseInfo` record, as torch's OpInfo. The op against its composite reference (float64) and its torch peer,
every reduction, default attrs, strided inputs, gradients, gradcheck and gradgradcheck, opcheck,
torch.compile fullgraph and compiled autograd, the module (and the torch module it replaces), bad inputs,
and on CUDA the kernel's launch paths and the gradient a loss stores in its forward."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch

from . import _testing as T

NO_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA case: no CUDA device on this machine")

# The CUDA kernel's launch paths, by row length and dtype (16-byte vectors of 4 fp32 / 8 half):
# the register path (a warp per row up to 128 vectors, a block per row up to 1024 threads of 4
# vectors, the wide shape of twice that up to 32768 elements in kernels that hold one row), rows
# split over a cluster of 2, 4 or 8 blocks above that (compute capability 9.0 and newer, with
# GRIMOIRE_ROW_CLUSTERS=1: 50000 takes 4 in half types, 128256 takes 8), the streamed path above
# that and for rows not a whole
# number of vectors
# (packs between a row's first and last 16-byte boundary, the rest one by one), and for data not
# 16-byte aligned (no packs); and more rows than one wave of blocks, so each block sums several rows'
# column gradients. A streamed backward sums its column gradients in shared memory where they fit,
# else in a column kernel over chunks of rows (rows of whole packs: 65536, and 65544, whose packs end
# mid-tile), else with atomics (65539, and misaligned data).
CUDA_PATH_CASES = [pytest.param(s, False, id=str(s)) for s in [
    (37, 64), (5, 1024), (3, 1000), (3, 4096), (2, 16384), (2, 20000), (3, 1001), (9000, 64), (5000, 520),
    (2, 32000), (2, 32768), (2, 32776), (300, 24576), (3, 40001), (2, 50000), (1, 131072), (3, 128256), (700, 2048 + 3), (20, 65536),
    (3, 65544), (4, 65539)]] + [
    pytest.param(s, True, id=f"{s}-misaligned") for s in [(5, 1024), (9000, 64), (3, 20000), (3, 65536)]]


@dataclass(frozen=True)
class RowwiseInfo:
    """A rowwise op's data: the op, its module class, its composite reference and torch peer; its inputs
    by role (element inputs of the rows' shape, column inputs of one value per column with the module's
    init, index inputs of one per row, the attr naming an ignored index); the test values' ranges, attrs
    (ATTRS: not the defaults; REQUIRED: what a call must pass), a loss's reduction attr and its choices;
    dtypes per device, extra shapes, and what the op has (a backward, a traceable C++ autograd Function, a
    composite for double backward, a CUDA gradient stored in the forward, the torch module it replaces)."""

    fn: Callable
    overload: object
    module: type
    reference: Callable
    peer: Callable | None
    inputs: list
    differentiable: list
    element: list
    ranges: dict
    attrs: dict
    required: dict
    dtypes: dict
    columns: dict = field(default_factory=dict)  # column input -> "ones" | "zeros", the module's init
    index: list = field(default_factory=list)
    ignore: str = ""
    ignore_default: int = -100
    reduction: str = ""  # a loss's reduction attr
    reductions: list = field(default_factory=list)
    shapes: list = field(default_factory=list)
    backward: bool = False
    cpp_autograd: bool = False
    double_backward: bool = False
    grad_in_forward: bool = False
    replaces: type | None = None
    replaces_attrs: dict = field(default_factory=dict)  # the float attrs at their defaults, for both modules
    all_attrs_defaulted: bool = False  # a call may leave out every attr


class RowwiseTests(T.OpTests):
    op: RowwiseInfo

    @classmethod
    def prepare(cls):
        op = cls.op
        cls.DEVICE_DTYPES = T.device_dtypes(op.dtypes)
        cls.COMPILE_CASES = T.compile_cases(cls.DEVICE_DTYPES)
        cls.F64_DEVICES = T.devices(tuple(d for d, ts in op.dtypes.items() if torch.float64 in ts))
        cls.CUDA_DTYPES = list(op.dtypes.get("cuda", ()))
        # Shapes of the element inputs: a row, rows, batches of rows, a long row (vector tails), zero rows.
        cls.SHAPES = [(7,), (3, 5), (2, 3, 17), (4, 1031), (0, 4), (1, 1), *op.shapes]
        cls.MISMATCHED = op.element[1:]
        cls.COLUMNS = list(op.columns)
        cls.INDEX = op.index
        cls.REDUCTIONS = op.reductions
        cls.CUDA_PATHS = CUDA_PATH_CASES
        cls.AFFINE = [True, False]
        cls.GRAD_IN_FORWARD_SHAPES = [(6, 33), (4, 40001), (3, 128256)]
        cls.SUM_OR_MEAN = ["mean", "sum"]
        cls.has_peer = op.peer is not None
        cls.has_backward, cls.has_cpp_autograd = op.backward, op.cpp_autograd
        cls.has_gradcheck = op.backward and bool(cls.F64_DEVICES)
        cls.has_gradgradcheck = op.double_backward and bool(cls.F64_DEVICES)
        cls.is_loss = bool(op.reduction)
        cls.has_cuda, cls.cpu_only = "cuda" in op.dtypes, "cuda" not in op.dtypes
        cls.drop_in = op.replaces is not None and bool(op.columns)
        cls.has_grad_in_forward = op.grad_in_forward

    def shape_id(self, shape):
        return str(shape)

    def dtype_id(self, dtype):
        return str(dtype)

    def make_inputs(self, shape, dtype, device, *, requires_grad=False, noncontiguous=False, attrs=None):
        """Every input for rows of the given shape: element inputs of that shape, column inputs of its
        last dim, index inputs over its rows (a quarter of them ignored where the op ignores some)."""
        op, attrs = self.op, self.op.attrs if attrs is None else attrs
        n = shape[-1]
        args = []
        for name in op.inputs:
            if name in op.index:
                idx = torch.randint(0, max(n, 1), shape[:-1], device=device)
                if op.ignore and idx.numel() > 1:
                    idx.view(-1)[::4] = attrs.get(op.ignore, op.ignore_default)
                args.append(idx)
                continue
            lo, hi = op.ranges[name]
            s = (n,) if name in op.columns else shape
            args.append(T.make(s, dtype, device, low=lo, high=hi,
                               requires_grad=requires_grad and name in op.differentiable, noncontiguous=noncontiguous))
        return args

    @staticmethod
    def as_double(args):
        return [a.detach().double().requires_grad_(a.requires_grad) if a.is_floating_point() else a for a in args]

    def expected(self, args, attrs):
        return self.op.reference(*self.as_double(args), **attrs)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_reference(self, device, dtype):
        for shape in self.SHAPES:
            args = self.make_inputs(shape, dtype, device)
            T.assert_close(self.op.fn(*args, **self.op.attrs), self.expected(args, self.op.attrs), dtype, scale=2)

    @T.needs("is_loss")
    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("reduction", "REDUCTIONS")
    def test_reductions(self, device, dtype, reduction):
        attrs = {**self.op.attrs, self.op.reduction: reduction}
        for shape in self.SHAPES[:4]:
            args = self.make_inputs(shape, dtype, device, attrs=attrs)
            T.assert_close(self.op.fn(*args, **attrs), self.expected(args, attrs), dtype, scale=2)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_default_attrs(self, device, dtype):
        required = self.op.required
        args = self.make_inputs((4, 9), dtype, device, attrs=required)
        T.assert_close(self.op.fn(*args, **required), self.expected(args, required), dtype, scale=2)

    @T.needs("has_peer")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_matches_torch(self, device, dtype):
        for shape in [s for s in self.SHAPES if len(s) == 2]:
            args = self.make_inputs(shape, dtype, device)
            T.assert_close(self.op.fn(*args, **self.op.attrs), self.op.peer(*args, **self.op.attrs), dtype, scale=2)

    def constant_rows(self, shape, dtype, device, value, *, requires_grad=False):
        """Inputs whose element inputs hold one value in every row (`value` where the input's range takes
        any sign, its range's midpoint otherwise): a constant row's mean is that value exactly in torch,
        and a norm's variance exactly zero, so a mean off by a rounding step shows, scaled by rsqrt(eps)."""
        args = self.make_inputs(shape, dtype, device)
        for i, name in enumerate(self.op.inputs):
            if name in self.op.element:
                lo, hi = self.op.ranges[name]
                args[i] = torch.full(shape, value if lo < 0 < hi else (lo + hi) / 2, dtype=dtype, device=device)
            if requires_grad and name in self.op.differentiable:
                args[i] = args[i].detach().requires_grad_()
        return args

    @staticmethod
    def close_to_torch(ours, theirs, theirs64, dtype, scale, what):
        """Each element close to torch's result in the dtype or to its float64 one, cast to the dtype: at
        these edges torch's own rounding (a constant row's mean, a float16 sum of 262144 exps) is no bound
        on ours, the exact result is."""
        rtol, atol = T.TOLERANCES[dtype]
        near = [torch.isclose(ours, r.to(ours.dtype), rtol=rtol * scale, atol=atol * scale, equal_nan=True)
                for r in (theirs, theirs64)]
        if not bool((near[0] | near[1]).all()):
            T.assert_close(ours, theirs64, dtype, scale=scale, what=f"{what} (against torch in float64)")

    @T.needs("has_peer")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_constant_rows_match_torch(self, device, dtype):
        for value in (1e4, -3.3):
            for shape in [(3, 37), (2, 1031)]:
                args = self.constant_rows(shape, dtype, device, value, requires_grad=self.op.backward)
                args64 = self.as_double(args)
                ours, theirs = self.op.fn(*args, **self.op.attrs), self.op.peer(*args, **self.op.attrs)
                theirs64 = self.op.peer(*args64, **self.op.attrs)
                what = f"rows of {value} {shape}"
                self.close_to_torch(ours, theirs, theirs64, dtype, 2, what)
                if self.op.backward:
                    grad = torch.randn_like(ours)
                    grads = [torch.autograd.grad(out, [a for a in xs if a.requires_grad], g)
                             for out, xs, g in ((ours, args, grad), (theirs, args, grad),
                                                (theirs64, args64, grad.double()))]
                    for g, r, r64 in zip(*grads):
                        self.close_to_torch(g, r, r64, dtype, 10, f"gradient, {what}")

    @T.needs("has_peer")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_long_rows_match_torch(self, device, dtype):
        """Rows of 262144 terms: a sum of them in one float accumulator a vector lane drifts (32768 adds
        deep); torch's cascade does not."""
        args = self.make_inputs((2, 262144), dtype, device)
        ours, theirs = self.op.fn(*args, **self.op.attrs), self.op.peer(*args, **self.op.attrs)
        self.close_to_torch(ours, theirs, self.op.peer(*self.as_double(args), **self.op.attrs), dtype, 2,
                            "rows of 262144")

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_noncontiguous(self, device, dtype):
        for shape in self.SHAPES:
            args = self.make_inputs(shape, dtype, device, noncontiguous=True)
            T.assert_close(self.op.fn(*args, **self.op.attrs), self.expected(args, self.op.attrs), dtype, scale=2)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_layout_and_dtype(self, device, dtype):
        for shape in self.SHAPES:
            args = self.make_inputs(shape, dtype, device)
            out = self.op.fn(*args, **self.op.attrs)
            assert out.dtype == dtype and out.is_contiguous()
            assert out.shape == self.expected(args, self.op.attrs).shape

    @T.needs("has_backward")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_backward_reference(self, device, dtype):
        for shape in self.SHAPES:
            args = self.make_inputs(shape, dtype, device, requires_grad=True)
            out = self.op.fn(*args, **self.op.attrs)
            grad = torch.randn_like(out)
            wrt = [a for a in args if a.requires_grad]
            ours = torch.autograd.grad(out, wrt, grad)
            ref_args = self.as_double(args)
            ref_wrt = [a for a in ref_args if a.requires_grad]
            theirs = torch.autograd.grad(self.op.reference(*ref_args, **self.op.attrs), ref_wrt, grad.double())
            for a, g, r in zip(wrt, ours, theirs):
                assert g.shape == a.shape and g.dtype == a.dtype
                T.assert_close(g, r, dtype, scale=10)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_opcheck(self, device, dtype):
        for shape in self.SHAPES[:4]:
            args = self.make_inputs(shape, dtype, device, requires_grad=self.op.backward)
            torch.library.opcheck(self.op.overload, (*args, *self.op.attrs.values()))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_module(self, device, dtype):
        op = self.op
        args = self.make_inputs((5, 6), dtype, device)
        if op.columns:
            module = op.module(6, **op.attrs, device=device, dtype=dtype)
            params = dict(zip(op.inputs, args))
            with torch.no_grad():
                for c in op.columns:
                    getattr(module, c).copy_(params[c])
            assert sorted(module.state_dict()) == sorted(op.columns)
            rows = [params[i] for i in op.inputs if i not in op.columns]
            torch.testing.assert_close(module(*rows), op.fn(*args, **op.attrs))
            fresh = op.module(6, **op.required, device=device, dtype=dtype)
            for c, init in op.columns.items():
                assert torch.all(getattr(fresh, c) == (1 if init == "ones" else 0)), c
        else:
            module = op.module(**op.attrs)
            torch.testing.assert_close(module(*args), op.fn(*args, **op.attrs))
        assert op.module.__name__ in repr(module)

    @T.needs("drop_in")
    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("affine", "AFFINE")
    def test_module_is_a_drop_in_for_torch(self, device, dtype, affine):
        # Tuple normalized_shape (the trailing dims flattened into a row), with and without parameters;
        # state_dicts go both ways and the outputs match.
        torch.manual_seed(0)
        attrs = self.op.replaces_attrs
        ours = self.op.module((3, 4), **attrs, elementwise_affine=affine, device=device, dtype=dtype)
        theirs = self.op.replaces((3, 4), **attrs, elementwise_affine=affine, device=device, dtype=dtype)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        if affine:
            with torch.no_grad():
                for p in theirs.parameters():
                    p.uniform_(-1, 1)
        ours.load_state_dict(theirs.state_dict())
        x = T.make((2, 5, 3, 4), dtype, device)
        with torch.no_grad():
            T.assert_close(ours(x), theirs(x), dtype, scale=10)
        theirs.load_state_dict(ours.state_dict())
        with pytest.raises(RuntimeError, match="trailing dims"):
            ours(T.make((2, 4, 3), dtype, device))

    def with_input(self, device, dtype, name, value):
        """Inputs for 3 rows of 4, with `name` replaced by `value`."""
        args = self.make_inputs((3, 4), dtype, device)
        args[self.op.inputs.index(name)] = value
        return args

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_unsupported_dtype(self, device, dtype):
        args = self.with_input(device, dtype, self.op.element[0], torch.ones(3, 4, dtype=torch.int32, device=device))
        with pytest.raises(RuntimeError, match="not supported; supported dtypes"):
            self.op.fn(*args, **self.op.attrs)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_zero_dim(self, device, dtype):
        args = self.with_input(device, dtype, self.op.element[0], torch.tensor(1.0, dtype=dtype, device=device))
        with pytest.raises(RuntimeError, match="at least one dimension"):
            self.op.fn(*args, **self.op.attrs)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("name", "MISMATCHED")
    def test_rejects_mismatched(self, device, dtype, name):
        args = self.with_input(device, dtype, name, T.make((3, 5), dtype, device))
        with pytest.raises(RuntimeError, match="they must match"):
            self.op.fn(*args, **self.op.attrs)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("name", "COLUMNS")
    def test_rejects_wrong_column_shape(self, device, dtype, name):
        args = self.with_input(device, dtype, name, T.make((5,), dtype, device))
        with pytest.raises(RuntimeError, match=rf"{name} must have shape \[4\]"):
            self.op.fn(*args, **self.op.attrs)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("name", "INDEX")
    def test_rejects_out_of_range(self, device, dtype, name):
        args = self.with_input(device, dtype, name, torch.tensor([0, 4, 1], device=device))
        with pytest.raises(RuntimeError, match="outside"):
            self.op.fn(*args, **self.op.attrs)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("name", "INDEX")
    def test_unchecked_out_of_range_gives_no_fault(self, device, dtype, name):
        # index_checks(False): no check, no wait; the bad row's value is undefined, the others are exact.
        # The package has index_checks only where an op takes an index input, as this one does.
        from . import index_checks, index_checks_enabled

        args = self.with_input(device, dtype, name, torch.tensor([0, 4, 1], device=device))
        good = list(args)
        good[self.op.inputs.index(name)] = torch.tensor([0, 0, 1], device=device)
        attrs = {**self.op.attrs, **({self.op.reduction: "none"} if self.op.reduction else {})}
        with index_checks(False):
            assert not index_checks_enabled()
            out = self.op.fn(*args, **attrs)
            if device == "cuda":
                torch.cuda.synchronize()  # a device fault would surface here
        assert index_checks_enabled()
        expected = self.op.fn(*good, **attrs)
        assert out.shape == expected.shape
        torch.testing.assert_close(out[0::2], expected[0::2], rtol=0, atol=0)
        with pytest.raises(RuntimeError, match="outside"):
            self.op.fn(*args, **self.op.attrs)
        with pytest.raises(TypeError, match="True or False"):
            index_checks(0)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("name", "INDEX")
    def test_rejects_float_index(self, device, dtype, name):
        args = self.with_input(device, dtype, name, torch.zeros(3, device=device))
        with pytest.raises(RuntimeError, match="int64"):
            self.op.fn(*args, **self.op.attrs)

    @T.needs("is_loss")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_unknown_reduction(self, device, dtype):
        args = self.make_inputs((3, 4), dtype, device)
        with pytest.raises(RuntimeError, match="reduction must be"):
            self.op.fn(*args, **{**self.op.attrs, self.op.reduction: "average"})

    @T.over("device, dtype", "COMPILE_CASES")
    def test_compile_fullgraph(self, device, dtype):
        torch._dynamo.reset()

        def f(*args):
            return self.op.fn(*args, **self.op.attrs) * 2

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        args = self.make_inputs((8, 33), dtype, device, requires_grad=self.op.backward)
        out = compiled(*args)
        T.assert_close(out, f(*args).detach(), dtype)
        if self.op.backward:
            out.sum().backward()
            wrt = [a for a in args if a.requires_grad]
            got = [a.grad for a in wrt]
            for a in wrt:
                a.grad = None
            f(*args).sum().backward()
            for g, a in zip(got, wrt):
                T.assert_close(g, a.grad, dtype)

    @T.needs("has_cpp_autograd")
    @T.over("device, dtype", "COMPILE_CASES")
    def test_compiled_autograd(self, device, dtype):
        # The C++ autograd Function says is_traceable: compiled autograd traces its backward (the
        # backward op, through its fake kernel) into the graph it compiles.
        # With the test's attrs and with the defaults: a caller may leave out an argument equal to its
        # schema default, so the fake backward must take the defaults too (the ignored index stays the
        # test's: its inputs hold it).
        op = self.op
        defaults = {op.ignore: op.attrs[op.ignore]} if op.ignore else {}
        for attrs in (op.attrs, defaults) if op.all_attrs_defaulted else (op.attrs,):
            args = self.make_inputs((8, 33), dtype, device, requires_grad=True)
            got, expected = T.compiled_autograd_grads(lambda: op.fn(*args, **attrs), [a for a in args if a.requires_grad])
            for g, e in zip(got, expected):
                T.assert_close(g, e, dtype)

    @T.needs("has_gradcheck")
    @T.over("device", "F64_DEVICES")
    def test_gradcheck(self, device):
        for shape in [(7,), (3, 5), (2, 2, 6)]:
            args = self.make_inputs(shape, torch.float64, device, requires_grad=True)
            assert torch.autograd.gradcheck(lambda *xs: self.op.fn(*xs, **self.op.attrs), args)

    @T.needs("has_gradgradcheck")
    @T.over("device", "F64_DEVICES")
    def test_gradgradcheck(self, device):
        # A create_graph backward differentiates the op's composite (the fused kernel has no derivative of
        # its own): second derivatives must match finite differences of the first, never a silent zero.
        for shape in [(5,), (3, 4)]:
            args = self.make_inputs(shape, torch.float64, device, requires_grad=True)
            assert torch.autograd.gradgradcheck(lambda *xs: self.op.fn(*xs, **self.op.attrs), args)

    @T.needs("has_cuda")
    @NO_CUDA
    @T.over("dtype", "CUDA_DTYPES", ids="dtype_id")
    @T.over("shape, misaligned", "CUDA_PATHS")
    def test_cuda_launch_paths(self, shape, misaligned, dtype):
        op = self.op
        args = self.make_inputs(shape, dtype, "cuda", requires_grad=op.backward)
        x0 = op.inputs.index(op.element[0])
        if misaligned:  # the same values one element past a 16-byte boundary
            x = args[x0]
            shifted = torch.empty(x.numel() + 1, dtype=dtype, device="cuda")[1:].view(x.shape)
            shifted.copy_(x.detach())
            args[x0] = shifted.requires_grad_(x.requires_grad)
        # A loss reduces by its mean: a sum of 60k squares overflows float16.
        attrs = {**op.attrs, op.reduction: "mean"} if op.reduction else op.attrs
        out = op.fn(*args, **attrs)
        ref_args = self.as_double(args)
        ref = op.reference(*ref_args, **attrs)
        T.assert_rel_close(out, ref, dtype, scale=2)
        if op.backward:
            grad = torch.randn_like(out)
            wrt = [a for a in args if a.requires_grad]
            ours = torch.autograd.grad(out, wrt, grad)
            theirs = torch.autograd.grad(ref, [a for a in ref_args if a.requires_grad], grad.double())
            for name, g, r in zip([i for i, a in zip(op.inputs, args) if a.requires_grad], ours, theirs):
                assert g.dtype == dtype, name
                T.assert_rel_close(g, r, dtype, scale=4)

    @T.needs("has_grad_in_forward")
    @NO_CUDA
    @T.over("shape", "GRAD_IN_FORWARD_SHAPES", ids="shape_id")
    @T.over("reduction", "SUM_OR_MEAN")
    def test_cuda_gradient_stored_in_forward(self, shape, reduction):
        """On CUDA the forward stores the first element input's gradient for an upstream 1
        (csrc/autograd.cpp): an upstream of 3 scales it, loss.backward() hands it out as it is, a second
        backward of the same graph recomputes it, and under no_grad the plain forward runs."""
        op = self.op
        x0 = op.inputs.index(op.element[0])
        args = self.make_inputs(shape, torch.float32, "cuda", requires_grad=True)
        x = args[x0]
        attrs = {**op.attrs, op.reduction: reduction}
        ref_args = self.as_double(args)
        ref = op.reference(*ref_args, **attrs)
        (expected,) = torch.autograd.grad(ref, [ref_args[x0]])
        with torch.no_grad():
            T.assert_rel_close(op.fn(*args, **attrs), ref.detach().float(), torch.float32)
        (op.fn(*args, **attrs) * 3).backward()  # the stored gradient times 3
        T.assert_rel_close(x.grad, 3 * expected, torch.float32, scale=4)
        x.grad = None
        loss = op.fn(*args, **attrs)
        loss.backward(retain_graph=True)  # the stored gradient itself
        first, x.grad = x.grad, None
        loss.backward()  # recomputed
        T.assert_rel_close(first, expected, torch.float32, scale=4)
        T.assert_rel_close(x.grad, expected, torch.float32, scale=4)

    @T.needs("has_grad_in_forward")
    def test_inplace_backward_off_cuda_is_the_plain_call(self):
        """inplace_backward=True where it is not taken (here the CPU) changes nothing: the same loss and
        gradient as the plain call, and the input keeps its values."""
        op = self.op
        x0 = op.inputs.index(op.element[0])
        args = self.make_inputs((5, 24), torch.float32, "cpu", requires_grad=True)
        before = args[x0].detach().clone()
        plain = op.fn(*args, **op.attrs)
        (g_plain,) = torch.autograd.grad(plain, [args[x0]])
        taken = op.fn(*args, **op.attrs, inplace_backward=True)
        (g_taken,) = torch.autograd.grad(taken, [args[x0]])
        assert torch.equal(args[x0].detach(), before)
        torch.testing.assert_close(taken, plain)
        torch.testing.assert_close(g_taken, g_plain)

    @T.needs("has_grad_in_forward")
    @NO_CUDA
    @T.over("shape", "GRAD_IN_FORWARD_SHAPES", ids="shape_id")
    @T.over("reduction", "SUM_OR_MEAN")
    def test_cuda_inplace_backward(self, shape, reduction):
        """On CUDA, inplace_backward=True writes the element input's gradient over it: the loss is torch's,
        the gradient reaching the tensors it came from is torch's, the input then holds that gradient,
        and what cannot be had from it raises: a double backward, a second backward, and the backward
        of another op that saved the input."""
        op = self.op
        x0 = op.inputs.index(op.element[0])
        attrs = {**op.attrs, op.reduction: reduction}
        for dtype in (torch.float32, torch.bfloat16):
            args = self.make_inputs(shape, dtype, "cuda", requires_grad=True)
            leaf = args[x0]
            logits = leaf * 2  # not a leaf: its gradient flows on to `leaf`, times 2 (exact)
            args[x0] = logits
            ref_args = self.as_double(args)
            ref = op.reference(*ref_args, **attrs)
            (expected,) = torch.autograd.grad(ref, [ref_args[x0]])
            loss = op.fn(*args, **attrs, inplace_backward=True)
            T.assert_rel_close(loss.detach(), ref.detach().to(dtype), dtype)
            T.assert_rel_close(logits.detach(), expected.to(dtype), dtype, scale=4)  # its memory, taken
            loss.backward(retain_graph=True)
            T.assert_rel_close(leaf.grad, 2 * expected.to(dtype), dtype, scale=4)
            with pytest.raises(RuntimeError, match="backs up once"):
                loss.backward()
        args = self.make_inputs(shape, torch.float32, "cuda", requires_grad=True)
        loss = op.fn(*args, **attrs, inplace_backward=True)  # a leaf takes it too
        with pytest.raises(RuntimeError, match="no double backward"):
            torch.autograd.grad(loss, [args[x0]], create_graph=True)
        args = self.make_inputs(shape, torch.float32, "cuda", requires_grad=True)
        logits = args[x0] * 1
        other = logits.sin()  # saves logits for its backward
        args[x0] = logits
        loss = op.fn(*args, **attrs, inplace_backward=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (loss + other.sum()).backward()

    @T.needs("cpu_only")
    def test_rejects_device_without_kernel(self):
        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA device to show that a CPU-only op refuses CUDA tensors; none here")
        args = self.make_inputs((3, 4), torch.float32, "cuda")
        with pytest.raises(RuntimeError):
            self.op.fn(*args, **self.op.attrs)
