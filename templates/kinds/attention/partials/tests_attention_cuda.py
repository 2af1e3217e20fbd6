"""The attention ops' CUDA-only checks, written once: tests/test_<op>_cuda.py subclasses AttentionCudaTests
with the op's `AttentionInfo` record. Every row-kernel layout (packed, single-element, long rows), half
types against a float32 reference, the gradient of the weights alone, CUDA-graph capture through
torch.compile mode="reduce-overhead", a non-default stream, the device guard, inputs on two devices."""

from __future__ import annotations

import pytest
import torch

from . import _testing as T
from ._tests_attention import AttentionInfo, reference

# key lengths for each row-kernel layout: one warp per row, several warps, a full block, odd lengths
# (single-element loads), and rows too long for registers (the two-pass kernel).
KEY_LENGTHS = [1, 8, 64, 100, 2048, 2047, 40000]


def _qkv(lq, lk, dtype, d=32, requires_grad=False):
    shapes = [(2, 2, lq, d), (2, 2, lk, d), (2, 2, lk, d)]
    return [T.make(s, dtype, "cuda", low=-2, high=2, requires_grad=requires_grad) for s in shapes]


def _rel_err(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-30)).item()


class AttentionCudaTests(T.OpTests):
    """The CUDA kernels; skipped, visibly, without a CUDA device."""

    pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA tests: no CUDA device on this machine")
    KEY_LENGTHS = KEY_LENGTHS
    op: AttentionInfo

    @classmethod
    def prepare(cls):
        cls.CUDA_DTYPES = list(cls.op.dtypes["cuda"])
        cls.HALF_DTYPES = [t for t in cls.CUDA_DTYPES if t in (torch.float16, torch.bfloat16)]

    def dtype_id(self, dtype):
        return str(dtype)

    def call(self, *args, **kwargs):
        return self.op.fn(*args, **kwargs)

    @T.over("dtype", "CUDA_DTYPES", ids="dtype_id")
    @T.over("lk", "KEY_LENGTHS")
    def test_row_layouts(self, dtype, lk):
        q, k, v = _qkv(5, lk, dtype, requires_grad=True)
        out, weights = self.call(q, k, v, scale=None)
        ref_in = [t.detach().double().requires_grad_() for t in (q, k, v)]
        ref_out, ref_weights = reference(*ref_in)
        tol = {torch.float64: 1e-10, torch.float32: 1e-5}.get(dtype, 1e-2)
        assert _rel_err(weights, ref_weights) < tol and _rel_err(out, ref_out) < tol
        torch.testing.assert_close(weights.double().sum(-1), torch.ones_like(ref_weights.sum(-1)), rtol=0,
                                   atol=tol * 10)
        g_out, g_w = torch.randn_like(out), torch.randn_like(weights)
        ours = torch.autograd.grad((out, weights), (q, k, v), (g_out, g_w))
        theirs = torch.autograd.grad((ref_out, ref_weights), ref_in, (g_out.double(), g_w.double()))
        for a, b in zip(ours, theirs):
            assert _rel_err(a, b) < tol * 4

    @T.over("dtype", "HALF_DTYPES", ids="dtype_id")
    def test_half_against_float32(self, dtype):
        q, k, v = _qkv(64, 256, dtype)
        out, weights = self.call(q, k, v, scale=None)
        ref_out, ref_weights = reference(q.float(), k.float(), v.float())
        # weights: the float32 softmax of scores that cuBLAS rounded once to {dtype}; output: a {dtype} GEMM
        assert _rel_err(weights, ref_weights) < 2e-2 and _rel_err(out, ref_out) < 2e-2
        assert out.dtype == dtype and weights.dtype == dtype

    def test_grad_of_weights_only(self):
        q, k, v = _qkv(7, 9, torch.float32, requires_grad=True)
        _, weights = self.call(q, k, v, 0.5)
        g_w = torch.randn_like(weights)
        (weights * g_w).sum().backward()
        ref_in = [t.detach().double().requires_grad_() for t in (q, k, v)]
        (reference(*ref_in, 0.5)[1] * g_w.double()).sum().backward()
        T.assert_close(q.grad, ref_in[0].grad, torch.float32, scale=10)
        T.assert_close(k.grad, ref_in[1].grad, torch.float32, scale=10)
        assert v.grad is not None and not v.grad.any()  # the value does not reach the weights

    def test_cuda_graph_reduce_overhead(self):
        from torch._dynamo.utils import counters

        torch._dynamo.reset()
        counters.clear()

        def f(q, k, v):
            out, weights = self.call(q, k, v, scale=None)
            return out * 2, weights

        compiled = torch.compile(f, mode="reduce-overhead", fullgraph=True, dynamic=False)
        for _ in range(4):  # warm-up, record, then replays: each on fresh values
            q, k, v = _qkv(16, 24, torch.float32, requires_grad=True)
            torch.compiler.cudagraph_mark_step_begin()
            out, weights = compiled(q, k, v)
            ref_in = [t.detach().double().requires_grad_() for t in (q, k, v)]
            ref_out, ref_weights = reference(*ref_in)
            T.assert_close(out, ref_out * 2, torch.float32)
            T.assert_close(weights, ref_weights, torch.float32)
            (out.sum() + weights.pow(2).sum()).backward()
            (ref_out.sum() * 2 + ref_weights.pow(2).sum()).backward()
            for t, r in zip((q, k, v), ref_in):
                T.assert_close(t.grad, r.grad, torch.float32, scale=10)
        assert not counters["inductor"]["cudagraph_skips"], "the graph was not captured: " + str(dict(counters["inductor"]))

    def test_runs_on_the_current_stream(self):
        # The inputs are written on a side stream behind a long sleep; work launched on any other stream
        # would read them before they exist.
        src = _qkv(128, 128, torch.float32)
        ref_out, ref_weights = reference(*(t.double() for t in src))
        torch.cuda.synchronize()
        side = torch.cuda.Stream()
        with torch.cuda.stream(side):
            torch.cuda._sleep(50_000_000)
            q, k, v = [t * 1 for t in src]
            out, weights = self.call(q, k, v, scale=None)
        side.synchronize()
        T.assert_close(weights, ref_weights, torch.float32, scale=10)
        T.assert_close(out, ref_out, torch.float32, scale=10)

    def test_device_guard(self):
        if torch.cuda.device_count() < 2:
            pytest.skip("device-guard case: needs two CUDA devices, this machine has one")
        with torch.cuda.device(0):
            q, k, v = [t.to("cuda:1") for t in _qkv(8, 8, torch.float32)]
            out, weights = self.call(q, k, v, scale=None)
            assert out.device == weights.device == torch.device("cuda:1") and torch.cuda.current_device() == 0
        ref_out, _ = reference(*(t.double().cpu() for t in (q, k, v)))
        T.assert_close(out.cpu(), ref_out, torch.float32, scale=10)

    def test_rejects_tensors_on_two_devices(self):
        q = T.make((2, 5, 8), torch.float32, "cuda")
        with pytest.raises(RuntimeError, match="move all inputs to one device"):
            self.call(q, q.cpu(), q)
