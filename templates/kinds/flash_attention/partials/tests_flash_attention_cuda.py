"""The flash_attention ops' CUDA-only checks, written once: tests/test_<op>_cuda.py subclasses
FlashAttentionCudaTests with the op's `FlashAttentionInfo` record. Peak memory linear in the sequence (seq
16384, forward and backward), large ragged shapes against scaled_dot_product_attention, head sizes the
kernels refuse, any head size in float32/float64, CUDA-graph capture (reduce-overhead) and a non-default
stream. Every call passes causal and scale (None: 1/sqrt(d), as scaled_dot_product_attention's default),
whatever defaults the spec gives them."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from . import _testing as T
from ._tests_flash_attention import FlashAttentionInfo


def qkv(shape, dtype, requires_grad=False, sk=None):
    b, h, s, d = shape
    q = T.make((b, h, s, d), dtype, "cuda", low=-1, high=1, requires_grad=requires_grad)
    k = T.make((b, h, sk or s, d), dtype, "cuda", low=-1, high=1, requires_grad=requires_grad)
    v = T.make((b, h, sk or s, d), dtype, "cuda", low=-1, high=1, requires_grad=requires_grad)
    return q, k, v


class FlashAttentionCudaTests(T.OpTests):
    """The CUDA kernels; skipped, visibly, without a CUDA device."""

    pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA tests: no CUDA device on this machine")
    CAUSAL = (False, True)
    HEAD_SIZES = (32, 64, 128)
    op: FlashAttentionInfo

    @classmethod
    def prepare(cls):
        cls.DTYPES = list(cls.op.dtypes["cuda"])
        # float32/float64 run as matmuls, not the tensor-core kernels: any head size.
        cls.FULL_PRECISION = [t for t in cls.DTYPES if t in (torch.float32, torch.float64)]

    def dtype_id(self, dtype):
        return str(dtype)

    def call(self, q, k, v, causal, scale):
        return self.op.fn(q, k, v, causal=causal, scale=scale)

    @T.over("dtype", "DTYPES", ids="dtype_id")
    def test_memory_is_linear_in_sequence_length(self, dtype):
        seq = 16384
        q, k, v = qkv((1, 2, seq, 64), dtype, requires_grad=True)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        out = self.call(q, k, v, causal=True, scale=None)
        out.backward(torch.randn_like(out))
        torch.cuda.synchronize()
        grew = torch.cuda.max_memory_allocated() - base
        scores = 2 * seq * seq * q.element_size()  # the two heads' seq x seq matrix
        assert grew < scores / 16, f"peak grew by {grew / 2**20:.0f} MiB; the score matrix is {scores / 2**20:.0f} MiB"
        assert torch.isfinite(q.grad).all() and torch.isfinite(k.grad).all() and torch.isfinite(v.grad).all()

    @T.over("dtype", "DTYPES", ids="dtype_id")
    @T.over("causal", "CAUSAL")
    @T.over("d", "HEAD_SIZES")
    def test_against_sdpa(self, dtype, causal, d):
        for sq, sk in [(1000, 1000), (257, 1531), (1531, 257)] if not causal else [(1000, 1000), (1531, 1531)]:
            q, k, v = qkv((2, 3, sq, d), dtype, requires_grad=True, sk=sk)
            out = self.call(q, k, v, causal=causal, scale=None)
            ref = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=causal)
            T.assert_rel_close(out, ref, dtype, scale=2)
            g = torch.randn_like(out)
            ours = torch.autograd.grad(out, (q, k, v), g)
            rq, rk, rv = (t.detach().double().requires_grad_() for t in (q, k, v))
            theirs = torch.autograd.grad(F.scaled_dot_product_attention(rq, rk, rv, is_causal=causal), (rq, rk, rv),
                                         g.double())
            for a, b in zip(ours, theirs):
                T.assert_rel_close(a, b, dtype, scale=4)

    def test_rejects_head_sizes_the_kernels_lack(self):
        q = T.make((1, 2, 8, 48), torch.bfloat16, "cuda")
        with pytest.raises(RuntimeError, match="must be 32, 64 or 128"):
            self.op.fn(q, q, q)

    @T.over("dtype", "FULL_PRECISION", ids="dtype_id")
    @T.over("causal", "CAUSAL")
    def test_full_precision_takes_any_head_size(self, dtype, causal):
        # float32/float64 run as matmuls over chunks of query rows: any d, and key/value head sizes may differ.
        for d, dv, sq, sk in ((48, 48, 300, 300), (200, 72, 129, 2050), (1, 3, 7, 5)):
            q = T.make((2, 3, sq, d), dtype, "cuda", low=-1, high=1, requires_grad=True)
            k = T.make((2, 3, sk, d), dtype, "cuda", low=-1, high=1, requires_grad=True)
            v = T.make((2, 3, sk, dv), dtype, "cuda", low=-1, high=1, requires_grad=True)
            out = self.call(q, k, v, causal=causal, scale=None)
            ref = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=causal)
            T.assert_rel_close(out, ref, dtype, scale=2)
            g = torch.randn_like(out)
            theirs = torch.autograd.grad(ref, (q, k, v), g.double())
            for a, b in zip(torch.autograd.grad(out, (q, k, v), g), theirs):
                T.assert_rel_close(a, b, dtype, scale=4)

    def test_cuda_graph_reduce_overhead(self):
        from torch._dynamo.utils import counters

        torch._dynamo.reset()
        counters.clear()

        def f(q, k, v):
            return self.call(q, k, v, causal=True, scale=None) * 2

        compiled = torch.compile(f, mode="reduce-overhead", fullgraph=True, dynamic=False)
        for _ in range(4):
            q, k, v = qkv((1, 2, 300, 64), torch.bfloat16, requires_grad=True)
            torch.compiler.cudagraph_mark_step_begin()
            out = compiled(q, k, v)
            ref = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=True) * 2
            T.assert_rel_close(out, ref, torch.bfloat16, scale=2)
            out.sum().backward()
        assert not counters["inductor"]["cudagraph_skips"], "the graph was not captured: " + str(dict(counters["inductor"]))

    def test_runs_on_the_current_stream(self):
        q0, k0, v0 = qkv((1, 4, 512, 64), torch.bfloat16)
        expected = F.scaled_dot_product_attention(q0.double(), k0.double(), v0.double())
        torch.cuda.synchronize()
        side = torch.cuda.Stream()
        with torch.cuda.stream(side):
            torch.cuda._sleep(50_000_000)
            q, k, v = q0 * 1, k0 * 1, v0 * 1
            out = self.call(q, k, v, causal=False, scale=None)
        side.synchronize()
        T.assert_rel_close(out, expected, torch.bfloat16, scale=2)
