"""The linear_loss ops' checks, written once: tests/test_<op>.py subclasses LinearLossTests with the op's
data in a `LinearLossInfo` record, as torch's OpInfo. Loss and gradients against torch's linear followed by the
loss's peer (every reduction, several chunks, masked and ignored rows, leading dims, no bias), the
stored-gradient and recomputing backwards, gradcheck, opcheck, torch.compile fullgraph, compiled
autograd, the module, peak memory on CUDA, bad inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable

import pytest
import torch

from . import _testing as T

REDUCTIONS = ("mean", "sum", "none")
# (leading shape of x, H, V): one chunk, several chunks with a short last one (at least 128 rows a
# chunk), leading dims, a single row, V = 1.
CASES = [((6,), 8, 11), ((300,), 16, 50), ((3, 70), 8, 33), ((1,), 5, 7), ((9,), 4, 1)]
IGNORE = -100


@dataclass(frozen=True)
class LinearLossInfo:
    """A linear_loss op's data: the op, its module class and implementation module, its registered ops
    (`ops.<name>`, `_forward_grad`, `_backward`), its float64 reference (torch's linear, then the loss's
    peer); the reduction attr's name, the other float attrs (each tried at 0.1), every attr's default in
    schema order; whether it takes a bias and ignores rows; dtypes per device."""

    fn: Callable
    module: type
    impl: ModuleType
    ops: object
    name: str
    reference: Callable
    dtypes: dict
    reduction: str = "reduction"
    float_attrs: list = field(default_factory=list)
    defaults: list = field(default_factory=list)
    bias: bool = True
    ignore: bool = False


class LinearLossTests(T.OpTests):
    op: LinearLossInfo

    @classmethod
    def prepare(cls):
        cls.DEVICE_DTYPES = T.device_dtypes(cls.op.dtypes)
        cls.F64_DEVICES = T.devices(tuple(d for d, ts in cls.op.dtypes.items() if torch.float64 in ts))
        cls.REDUCTIONS = REDUCTIONS
        cls.has_bias, cls.has_ignore = cls.op.bias, cls.op.ignore
        cls.has_cuda = "cuda" in cls.op.dtypes

    def inputs(self, case, device, dtype, bias=None, requires_grad=True, ignored=True):
        lead, h, v = case
        bias = self.op.bias if bias is None else bias
        x = T.make((*lead, h), dtype, device, low=-1, high=1, requires_grad=requires_grad)
        w = T.make((v, h), dtype, device, low=-1, high=1, requires_grad=requires_grad)
        bb = T.make((v,), dtype, device, low=-1, high=1, requires_grad=requires_grad) if bias else None
        target = torch.randint(0, v, lead, device=device)
        if self.op.ignore and ignored:
            target.view(-1)[1::5] = IGNORE  # every fifth row ignored (not all of a one-row case)
        return x, w, target, bb

    def op_args(self, x, w, target, bb) -> tuple:
        """The op's tensor arguments, in its order."""
        return (x, w, target, bb) if self.op.bias else (x, w, target)

    @staticmethod
    def leaves(x, w, bb):
        return [t for t in (x, w, bb) if t is not None and t.requires_grad]

    def reduced(self, reduction, **attrs):
        """The attrs with the loss's reduction attr (its name is the spec's) set."""
        return {self.op.reduction: reduction, **attrs}

    def check_against_reference(self, args, dtype, attrs, upstream=None, scale=1.0):
        x, w, target, bb = args
        out = self.op.fn(*self.op_args(x, w, target, bb), **attrs)
        ref = self.op.reference(x, w, target, bb, **attrs)
        assert out.dtype == x.dtype and out.shape == ref.shape
        T.assert_rel_close(out, ref, dtype, scale=scale)
        wrt = self.leaves(x, w, bb)
        if not wrt:
            return
        g = torch.randn_like(ref) if upstream is None else torch.full_like(ref, upstream)
        ours = torch.autograd.grad(out, wrt, g.to(out.dtype))
        ref_wrt = [t.detach().double().requires_grad_() for t in wrt]
        by_id = dict(zip(map(id, wrt), ref_wrt))
        ref_args = [by_id.get(id(t), t) if isinstance(t, torch.Tensor) else t for t in (x, w, target, bb)]
        theirs = torch.autograd.grad(self.op.reference(*ref_args, **attrs), ref_wrt, g)
        for name, got, want in zip(("x", "weight", "bias"), ours, theirs):
            assert got.dtype == dtype and got.shape == want.shape, name
            T.assert_rel_close(got, want, dtype, scale=scale)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("reduction", "REDUCTIONS")
    def test_reference(self, device, dtype, reduction):
        torch.manual_seed(0)
        for case in CASES:
            for attrs in [*({a: 0.1} for a in self.op.float_attrs), {}]:
                # V = 1: every gradient is 0 up to rounding, which the relative check's floor barely covers
                self.check_against_reference(self.inputs(case, device, dtype), dtype, self.reduced(reduction, **attrs),
                                             scale=4 if case[2] == 1 else 1)

    @T.needs("has_bias")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_no_bias(self, device, dtype):
        torch.manual_seed(1)
        for reduction in REDUCTIONS:
            self.check_against_reference(self.inputs(CASES[1], device, dtype, bias=False), dtype,
                                         self.reduced(reduction))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_strided_inputs(self, device, dtype):
        # Views as training code makes them: a transposed weight, every other row of x, labels[:, ::2].
        torch.manual_seed(12)
        x, w, t, bb = self.inputs(((6, 40), 8, 33), device, dtype)
        xv = x[::2].detach().requires_grad_()
        wv = w.detach().t().contiguous().t().requires_grad_()
        tv = t[::2, ::2]
        self.check_against_reference((xv[:, ::2], wv, tv, bb), dtype, {})

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_upstream_one_and_scaled(self, device, dtype):
        # loss.backward() sends 1: the stored gradients are handed back; 3 scales them.
        torch.manual_seed(2)
        for upstream in (1.0, 3.0):
            self.check_against_reference(self.inputs(CASES[1], device, dtype), dtype, {}, upstream=upstream)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_some_gradients(self, device, dtype):
        # Only the gradients asked for: a frozen weight, a frozen x.
        torch.manual_seed(3)
        for frozen in (1, 0):
            args = list(self.inputs(CASES[1], device, dtype))
            args[frozen] = args[frozen].detach()
            self.check_against_reference(tuple(args), dtype, {})

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_no_grad_and_inference(self, device, dtype):
        torch.manual_seed(4)
        args = self.inputs(CASES[2], device, dtype, requires_grad=False)
        for reduction in REDUCTIONS:
            self.check_against_reference(args, dtype, self.reduced(reduction))
        x, w, t, bb = self.inputs(CASES[2], device, dtype)
        with torch.no_grad():
            out = self.op.fn(*self.op_args(x, w, t, bb))
        assert not out.requires_grad
        T.assert_rel_close(out, self.op.reference(x, w, t, bb), dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_chunk_rows(self, device, dtype):
        # Any number of rows a chunk gives the same loss and gradients (one row, a prime, all rows).
        torch.manual_seed(11)
        args = self.inputs(CASES[1], device, dtype)
        want = None
        for chunk_rows in (None, 1, 7, 1000):
            out = self.op.fn(*self.op_args(*args), chunk_rows=chunk_rows)
            got = [out, *torch.autograd.grad(out, self.leaves(args[0], args[1], args[3]))]
            want = want or got
            for a, e in zip(got, want):
                T.assert_rel_close(a, e, dtype)
        with pytest.raises(RuntimeError, match="chunk_rows must be None or at least 1"):
            self.op.fn(*self.op_args(*args), chunk_rows=0)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_backward_twice_accumulates(self, device, dtype):
        torch.manual_seed(5)
        args = self.inputs(CASES[1], device, dtype)
        out = self.op.fn(*self.op_args(*args))
        w = args[1]
        out.backward(retain_graph=True)
        first = w.grad.clone()
        out.backward(retain_graph=True)
        out.backward()  # the stored gradient is handed out each time, never accumulated into itself
        T.assert_rel_close(w.grad, 3 * first, dtype)

    @T.needs("has_bias")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_masked_vocabulary(self, device, dtype):
        # A bias of -inf masks classes (never a target): their logits are -inf, as in a constrained vocabulary.
        torch.manual_seed(6)
        x, w, t, bb = self.inputs(CASES[1], device, dtype)
        mask = torch.zeros_like(bb, dtype=torch.bool)
        mask[::3] = True
        t = torch.where((t >= 0) & mask[t.clamp(min=0)], t + 1, t)  # classes 0, 3, 6, ... are masked, never t + 1
        if self.op.ignore:
            t.view(-1)[::5] = IGNORE
        with torch.no_grad():
            bb.masked_fill_(mask, float("-inf"))
        for reduction in REDUCTIONS:
            self.check_against_reference((x, w, t, bb), dtype, self.reduced(reduction))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_large_logits(self, device, dtype):
        # Logits of a thousand and more: the row max is taken out before exp, as torch does.
        torch.manual_seed(7)
        x, w, t, bb = self.inputs(CASES[1], device, dtype, requires_grad=False)
        x = (x * 64).requires_grad_()
        w = (w * 64).requires_grad_()
        self.check_against_reference((x, w, t, bb), dtype, {}, scale=2)

    @T.needs("has_ignore")
    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_every_row_ignored(self, device, dtype):
        # torch: a 'mean' over no rows is NaN, and every gradient is 0.
        x, w, t, bb = self.inputs(CASES[1], device, dtype)
        t = torch.full_like(t, IGNORE)
        out = self.op.fn(*self.op_args(x, w, t, bb))
        assert torch.isnan(out)
        out.backward()
        for p in self.leaves(x, w, bb):
            assert torch.equal(p.grad, torch.zeros_like(p)), "a row that is ignored has no gradient"

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_empty(self, device, dtype):
        x, w, t, bb = self.inputs(((0,), 8, 5), device, dtype)
        for reduction in REDUCTIONS:
            out = self.op.fn(*self.op_args(x, w, t, bb), **self.reduced(reduction))
            ref = self.op.reference(x, w, t, bb, **self.reduced(reduction))
            assert out.shape == ref.shape
            torch.testing.assert_close(out.double(), ref, equal_nan=True)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_opcheck(self, device, dtype):
        ops, name = self.op.ops, self.op.name
        x, w, t, bb = self.inputs(CASES[2], device, dtype)
        for reduction in REDUCTIONS:
            torch.library.opcheck(getattr(ops, name).default, self.op_args(x, w, t, bb), self.reduced(reduction))
        mask = [True] * (3 if self.op.bias else 2)
        tensors = (x.detach(), w.detach(), t, bb.detach()) if self.op.bias else (x.detach(), w.detach(), t)
        args = (*tensors, *self.op.defaults, None, mask)
        torch.library.opcheck(getattr(ops, f"{name}_forward_grad").default, args)
        torch.library.opcheck(getattr(ops, f"{name}_backward").default,
                              (torch.randn((), device=device, dtype=dtype), *args))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_compile_fullgraph(self, device, dtype):
        if dtype not in T.COMPILE_DTYPES:
            pytest.skip("torch.compile is tested for float32, bfloat16 and float64 (float16 shares bfloat16's path)")
        torch._dynamo.reset()

        def f(x, w, t, bb):
            return self.op.fn(*self.op_args(x, w, t, bb)) * 2

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        x, w, t, bb = self.inputs(CASES[1], device, dtype)
        out, expected = compiled(x, w, t, bb), f(x, w, t, bb)
        T.assert_rel_close(out, expected, dtype)
        got = torch.autograd.grad(out, self.leaves(x, w, bb))
        want = torch.autograd.grad(expected, self.leaves(x, w, bb))
        for g, e in zip(got, want):
            T.assert_rel_close(g, e, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_compiled_autograd(self, device, dtype):
        if dtype not in T.COMPILE_DTYPES:
            pytest.skip("torch.compile is tested for float32, bfloat16 and float64 (float16 shares bfloat16's path)")
        x, w, t, bb = self.inputs(CASES[2], device, dtype)
        for reduction in ("none", "mean"):  # the recomputing backward, the stored gradients
            got, expected = T.compiled_autograd_grads(
                lambda: self.op.fn(*self.op_args(x, w, t, bb), **self.reduced(reduction)), self.leaves(x, w, bb))
            for g, e in zip(got, expected):
                T.assert_rel_close(g, e, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_module(self, device, dtype):
        torch.manual_seed(8)
        x, w, t, bb = self.inputs(CASES[2], device, dtype)
        loss = self.op.module(**self.reduced("sum"), chunk_rows=64)
        assert f"{self.op.reduction}='sum'" in repr(loss) and "chunk_rows=64" in repr(loss)
        expected = self.op.reference(x, w, t, bb, **self.reduced("sum"))
        T.assert_rel_close(loss(*self.op_args(x, w, t, bb)), expected, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_bad_inputs(self, device, dtype):
        fn = self.op.fn
        x, w, t, bb = self.inputs(CASES[0], device, dtype)
        with pytest.raises(RuntimeError, match=r"must be \[V, H\]"):
            fn(x, w[:, :3], t)
        with pytest.raises(RuntimeError, match="int64"):
            fn(x, w, t.float())
        with pytest.raises(RuntimeError, match="one per row"):
            fn(x, w, t[:2])
        with pytest.raises(RuntimeError, match="outside"):
            fn(x, w, torch.full_like(t, w.shape[0]))
        with pytest.raises(RuntimeError, match="one dtype"):
            fn(x, w.to(torch.float64 if dtype != torch.float64 else torch.float32), t)
        with pytest.raises(RuntimeError, match="'none', 'mean' or 'sum'"):
            fn(x, w, t, **self.reduced("avg"))
        if self.op.bias:
            with pytest.raises(RuntimeError, match=r"must be \[V\]"):
                fn(x, w, t, bb[:-1])
        if device == "cuda":
            with pytest.raises(RuntimeError, match="move all inputs to one device"):
                fn(x, w.cpu(), t)

    @T.over("device", "F64_DEVICES")
    @T.over("reduction", "REDUCTIONS")
    def test_gradcheck(self, device, reduction):
        torch.manual_seed(9)
        args = self.op_args(*self.inputs(((12,), 5, 7), device, torch.float64))
        assert torch.autograd.gradcheck(lambda *a: self.op.fn(*a, **self.reduced(reduction)), args)
        # the op itself (its autograd recomputes the chunks)
        registered = getattr(self.op.ops, self.op.name)
        assert torch.autograd.gradcheck(lambda *a: registered(*a, **self.reduced(reduction)), args)

    @T.over("device", "F64_DEVICES")
    def test_double_backward_refused(self, device):
        args = self.op_args(*self.inputs(CASES[0], device, torch.float64))
        T.assert_double_backward_refused(lambda *a: self.op.fn(*a), args, self.op.name)

    def test_chunks_bound_memory(self):
        # A chunk's logits hold about as many elements as x, and at least 128 rows.
        assert self.op.impl._chunk_rows(8192, 4096, 128256) == 256
        assert self.op.impl._chunk_rows(300, 16, 50) == 128
        assert self.op.impl._chunk_rows(5, 16, 50) == 5

    @T.needs("has_cuda")
    @pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA case: no CUDA device on this machine")
    def test_peak_memory_cuda(self):
        # Forward and backward hold the gradients and one chunk beside the inputs: far less than the
        # [N, V] logits that torch's linear and the loss keep.
        torch.manual_seed(10)
        n, h, v = 4096, 256, 32000
        x, w, t, bb = self.inputs(((n,), h, v), "cuda", torch.float32)
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        self.op.fn(*self.op_args(x, w, t, bb)).backward()
        torch.cuda.synchronize()
        extra = torch.cuda.max_memory_allocated() - base
        grads = sum(p.numel() * p.element_size() for p in self.leaves(x, w, bb))
        logits = n * v * 4
        assert extra < grads + logits / 8, f"peak {extra / 2**20:.0f} MiB beyond the inputs"
