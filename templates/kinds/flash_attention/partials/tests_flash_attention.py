"""The flash_attention ops' checks, written once: tests/test_<op>.py subclasses FlashAttentionTests with the
op's data in a `FlashAttentionInfo` record, as torch's OpInfo. The output and its log-sum-exp against
softmax(q @ k^T * scale) @ v in float64 (causal and not, across tile boundaries, Sq != Sk), gradients,
gradcheck, double backward refused, opcheck, torch.compile fullgraph, the module against
nn.MultiheadAttention, empty sequences, memory that stays linear in the sequence length, bad inputs."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import Callable

import pytest
import torch
from torch import nn

from . import _testing as T

# This package, for the memory probe's fresh process.
PACKAGE = __name__.rpartition(".")[0]


def reference(q, k, v, causal=False, scale=None):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ k.transpose(-2, -1) * scale
    if causal:
        sq, sk = q.shape[-2], k.shape[-2]
        mask = torch.ones(sq, sk, dtype=torch.bool, device=q.device).tril()
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, dim=-1) @ v, torch.logsumexp(s, dim=-1)


# (batch, heads, Sq, Sk, d, scale): one tile, several tiles with ragged tails, Sq != Sk both ways, a single
# query, d of 32 / 64 / 128 (the CUDA kernels' sizes).
CASES = [(2, 3, 17, 17, 32, None), (1, 2, 130, 130, 64, None), (2, 1, 65, 200, 64, 0.3), (1, 2, 200, 33, 32, None),
         (1, 1, 1, 77, 128, None), (1, 2, 96, 96, 128, -0.2)]
# Small float64 cases for finite differences.
GRADCHECK_CASES = [(1, 2, 5, 7, 4, None), (1, 1, 9, 9, 3, 0.7)]


def inputs(case, device, dtype, requires_grad=False):
    b, h, sq, sk, d, scale = case
    q, k, v = (T.make(s, dtype, device, low=-1, high=1, requires_grad=requires_grad)
               for s in ((b, h, sq, d), (b, h, sk, d), (b, h, sk, d)))
    return (q, k, v), scale


def _double(*ts):
    return [t.detach().double().requires_grad_(t.requires_grad) for t in ts]


_MEMORY_PROBE = textwrap.dedent("""
    import importlib, resource, sys, torch
    package = importlib.import_module(sys.argv[2])
    seq, d = int(sys.argv[1]), 32
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 1, seq, d, requires_grad=True) for _ in range(3))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = getattr(package, sys.argv[3])(q, k, v, causal=True)
    out.sum().backward()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert torch.isfinite(out).all() and torch.isfinite(q.grad).all()
    print((peak - base) * 1024)
""")


@dataclass(frozen=True)
class FlashAttentionInfo:
    """A flash_attention op's data: the op (q, k, v, causal, scale) -> output over [batch, heads, seq, d],
    its form that also returns the log-sum-exp, its overload and module class, dtypes per device."""

    name: str
    fn: Callable
    dtypes: dict
    with_lse: Callable | None = None
    overload: object = None
    module: type | None = None


class FlashAttentionTests(T.OpTests):
    op: FlashAttentionInfo
    CAUSAL = (False, True)

    @classmethod
    def prepare(cls):
        op = cls.op
        cls.DEVICE_DTYPES = T.device_dtypes(op.dtypes)
        cls.F64_DEVICES = T.devices(tuple(d for d, ts in op.dtypes.items() if torch.float64 in ts))

    def call(self, *args, **kwargs):
        return self.op.fn(*args, **kwargs)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("causal", "CAUSAL")
    def test_reference(self, device, dtype, causal):
        for case in CASES:
            (q, k, v), scale = inputs(case, device, dtype)
            out, lse = self.op.with_lse(q, k, v, causal, scale)
            ref, ref_lse = reference(*_double(q, k, v), causal, scale)
            assert out.dtype == dtype and out.shape == ref.shape
            T.assert_rel_close(out, ref, dtype, scale=2)
            T.assert_rel_close(lse, ref_lse, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_noncontiguous(self, device, dtype):
        (q, k, v), scale = inputs(CASES[1], device, dtype)
        qt, kt, vt = (x.transpose(1, 2).contiguous().transpose(1, 2) for x in (q, k, v))  # [b, s, h, d] storage
        T.assert_rel_close(self.call(qt, kt, vt, True, scale), reference(*_double(q, k, v), True, scale)[0], dtype,
                           scale=2)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("causal", "CAUSAL")
    def test_backward_reference(self, device, dtype, causal):
        for case in CASES:
            (q, k, v), scale = inputs(case, device, dtype, requires_grad=True)
            out = self.call(q, k, v, causal, scale)
            g = torch.randn_like(out)
            ours = torch.autograd.grad(out, (q, k, v), g)
            ref_in = _double(q, k, v)
            theirs = torch.autograd.grad(reference(*ref_in, causal, scale)[0], ref_in, g.double())
            for a, b in zip(ours, theirs):
                T.assert_rel_close(a, b, dtype, scale=4)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_opcheck(self, device, dtype):
        for case in CASES[:2]:
            (q, k, v), scale = inputs(case, device, dtype, requires_grad=True)
            torch.library.opcheck(self.op.overload, (q, k, v, True, scale))

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_compile_fullgraph(self, device, dtype):
        if dtype not in T.COMPILE_DTYPES:
            pytest.skip("torch.compile is tested for float32, bfloat16 and float64 (float16 shares bfloat16's path)")
        torch._dynamo.reset()

        def f(q, k, v):
            return self.call(q, k, v, causal=True) * 2

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        (q, k, v), _ = inputs(CASES[0], device, dtype, requires_grad=True)
        out = compiled(q, k, v)
        expected = f(q, k, v)
        T.assert_rel_close(out, expected, dtype)
        got = torch.autograd.grad(out.sum(), (q, k, v))
        want = torch.autograd.grad(expected.sum(), (q, k, v))
        for a, b in zip(got, want):
            T.assert_rel_close(a, b, dtype)

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("causal", "CAUSAL")
    def test_module_against_multihead_attention(self, device, dtype, causal):
        torch.manual_seed(0)
        ours = self.op.module(64, 2, causal=causal, device=device, dtype=dtype)
        theirs = nn.MultiheadAttention(64, 2, batch_first=True, device=device, dtype=torch.float64)
        assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
        theirs.load_state_dict({k: t.double() for k, t in ours.state_dict().items()})
        x = T.make((2, 40, 64), dtype, device, low=-1, high=1)
        mem = T.make((2, 23, 64), dtype, device, low=-1, high=1)
        mask = torch.ones(40, 40, dtype=torch.bool, device=device).tril().logical_not() if causal else None
        with torch.no_grad():
            out, weights = ours(x)
            ref, _ = theirs(x.double(), x.double(), x.double(), need_weights=False, attn_mask=mask)
            assert weights is None
            T.assert_rel_close(out, ref, dtype, scale=4)
            if not causal:  # cross-attention: separate projections
                out, _ = ours(x, mem, mem)
                ref, _ = theirs(x.double(), mem.double(), mem.double(), need_weights=False)
                T.assert_rel_close(out, ref, dtype, scale=4)
        ours(x)[0].sum().backward()
        assert all(p.grad is not None for p in ours.parameters())
        with pytest.raises(ValueError, match="need_weights"):
            ours(x, need_weights=True)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_wrong_rank(self, device, dtype):
        q = T.make((2, 5, 32), dtype, device)
        with pytest.raises(RuntimeError, match=r"must be \[batch, heads, seq, d\]"):
            self.call(q, q, q)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_feature_mismatch(self, device, dtype):
        q, k = T.make((1, 2, 5, 32), dtype, device), T.make((1, 2, 5, 64), dtype, device)
        with pytest.raises(RuntimeError, match="feature size"):
            self.call(q, k, k)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_sequence_mismatch(self, device, dtype):
        q, v = T.make((1, 2, 5, 32), dtype, device), T.make((1, 2, 6, 32), dtype, device)
        with pytest.raises(RuntimeError, match="sequence length"):
            self.call(q, q, v)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_batch_mismatch(self, device, dtype):
        q, k = T.make((1, 2, 5, 32), dtype, device), T.make((2, 2, 5, 32), dtype, device)
        with pytest.raises(RuntimeError, match="batch and head"):
            self.call(q, k, k)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_mixed_dtypes(self, device, dtype):
        other = torch.float64 if dtype != torch.float64 else torch.float32
        q = T.make((1, 2, 5, 32), dtype, device)
        with pytest.raises(RuntimeError, match="one dtype"):
            self.call(q, q.to(other), q)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_rejects_unsupported_dtype(self, device, dtype):
        q = torch.ones(1, 2, 5, 32, dtype=torch.int64, device=device)
        with pytest.raises(RuntimeError, match="not supported"):
            self.call(q, q, q)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_empty_sequences(self, device, dtype):
        q, kv = T.make((1, 2, 0, 32), dtype, device), T.make((1, 2, 7, 32), dtype, device)
        assert self.call(q, kv, kv).shape == (1, 2, 0, 32)
        q, kv = T.make((1, 2, 3, 32), dtype, device), T.make((1, 2, 0, 32), dtype, device)
        out, lse = self.op.with_lse(q, kv, kv)
        assert (out == 0).all() and torch.isneginf(lse).all()

    @T.over("device", "F64_DEVICES")
    @T.over("causal", "CAUSAL")
    def test_gradcheck(self, device, causal):
        for case in GRADCHECK_CASES:
            (q, k, v), scale = inputs(case, device, torch.float64, requires_grad=True)
            assert torch.autograd.gradcheck(lambda a, b, c: self.call(a, b, c, causal, scale), (q, k, v))

    @T.over("device", "F64_DEVICES")
    def test_double_backward_refused(self, device):
        (q, k, v), scale = inputs(GRADCHECK_CASES[0], device, torch.float64, requires_grad=True)
        T.assert_double_backward_refused(lambda a, b, c: self.call(a, b, c, False, scale), (q, k, v), self.op.name)

    def test_memory_is_linear_in_sequence_length(self):
        # At seq 16384 the seq x seq matrix of float32 scores alone is 1 GiB; the op (forward and backward) must
        # stay far below it. Run in a fresh process, so its peak resident size is this computation's own.
        seq = 16384
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the folder holding the package
        env = dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads()),
                   PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
        proc = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(seq), PACKAGE, self.op.name],
                              capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        grew = int(proc.stdout.strip().splitlines()[-1])
        matrix = seq * seq * 4
        assert grew < matrix / 8, f"peak memory grew by {grew / 2**20:.0f} MiB; the score matrix is {matrix / 2**20:.0f} MiB"
