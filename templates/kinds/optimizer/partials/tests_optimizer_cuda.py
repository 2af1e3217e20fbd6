"""The optimizer ops' CUDA-only checks, written once: tests/test_<op>_cuda.py subclasses OptimizerCudaTests
with the op's `OptimizerInfo` record. The CUDA kernel against the CPU kernel over every program, chunk
boundaries, misaligned storage, many tensors (several launches) of mixed dtypes, dense strided layouts;
step scalars computed on the device from large step counts, with no host synchronisation; half types
against float32; the optimizer classes against torch.optim with fused=True and foreach=True; CUDA-graph
capture of a step (the op and the class), a non-default stream, the device guard, bad inputs."""

from __future__ import annotations

import copy
import functools

import pytest
import torch

from . import _testing as T
from ._tests_optimizer import STEPS, OptimizerOp

# Sizes around the kernel's chunks (256 vectors of 16 bytes: 1024 float32, 512 float64, 2048 half
# elements) and its two-chunk runs, an empty tensor, and a tensor of many chunks.
BOUNDARY_SHAPES = [(0,), (1,), (511,), (512,), (513,), (1023,), (1024,), (1025,), (2047,), (2048,), (2049,),
                   (4095,), (4097,), (3, 1365), (6145,), (70001,), ()]
ULP = {torch.float16: 2.0**-10, torch.bfloat16: 2.0**-7}


def _steps_equal(steps, value):
    assert [s.item() for s in steps] == [float(value)] * len(steps)


@functools.cache
def _has_fused_cuda(peer):
    """torch.optim's peer steps CUDA params with fused=True (Adagrad's fused kernel is CPU-only: it raises
    at the first step)."""
    p = torch.zeros(1, device="cuda", requires_grad=True)
    p.grad = torch.zeros_like(p)
    try:
        peer([p], fused=True).step()
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


class OptimizerCudaTests(OptimizerOp):
    """The CUDA kernel and the classes on CUDA; skipped, visibly, without a CUDA device."""

    pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA tests: no CUDA device on this machine")
    LAYOUTS = ("channels_last", "same_transpose", "mixed")
    STEP_DTYPES = (torch.float32, torch.float64)
    OFFSETS = (1, 3)
    DIRECTIONS = ("from_torch_fused", "to_torch_fused")

    @classmethod
    def prepare(cls):
        super().prepare()
        cls.CUDA_DTYPES = list(cls.op.dtypes["cuda"])
        cls.HALF_DTYPES = [t for t in cls.CUDA_DTYPES if t in (torch.float16, torch.bfloat16)]
        cls.SHARED_DTYPES = [t for t in cls.CUDA_DTYPES if t in cls.op.dtypes["cpu"]]
        cls.ENDS = [cls.VALID[0], cls.VALID[-1]]
        cls.CLASS_IMPLS = [(c, impl, k) for c in cls.CLASSES
                           for impl, k in [("fused", k) for k in cls.class_kwargs(c, cls.VALID)]
                           + [("foreach", k) for k in (cls.first_kwargs(c), cls.last_kwargs(c))]]
        cls.CLASS_ENDS = [(c, k) for c in cls.CLASSES for k in (cls.first_kwargs(c), cls.last_kwargs(c))]

    def dtype_id(self, dtype):
        return str(dtype)

    def offset_id(self, offset):
        return f"offset{offset}"

    def assert_lists_close(self, ours, theirs, dtype, scale=1.0):
        for name in self.op.module.TENSORS:
            for i, (a, b) in enumerate(zip(ours[name], theirs[name])):
                try:
                    T.assert_close(a.cpu().double(), b.cpu().double(), dtype, scale=scale)
                except AssertionError as exc:
                    raise AssertionError(f"{name}[{i}] (shape {tuple(a.shape)}): {exc}") from None

    # The CUDA kernel against the CPU kernel

    @T.over("dtype", "SHARED_DTYPES", ids="dtype_id")
    @T.over("attrs", "PER_PROGRAM", ids="attrs_id")
    def test_matches_cpu_kernel_at_chunk_boundaries(self, dtype, attrs):
        lists, steps = self.make_lists(BOUNDARY_SHAPES, dtype, "cuda", attrs)
        cpu, cpu_steps = self.clone_lists(lists, "cpu"), [s.cpu() for s in steps]
        for k in range(STEPS):
            self.new_grads(lists, seed=k + 1)
            cpu[self.op.grad] = [g.cpu() for g in lists[self.op.grad]]
            self.call(lists, steps, attrs)
            self.call(cpu, cpu_steps, attrs)
        self.assert_lists_close(lists, cpu, dtype, scale=10)
        _steps_equal(steps, STEPS)

    @T.over("dtype", "CUDA_DTYPES", ids="dtype_id")
    @T.over("offset", "OFFSETS", ids="offset_id")
    def test_misaligned_storage_falls_back_to_scalar_loads(self, dtype, offset):
        # Tensors that start `offset` elements into their storage: not 16-byte aligned (the scalar path),
        # one tensor of the param aligned and the others not, and a tensor of several chunks.
        attrs = self.fullest()
        shapes = [(5000,), (1025,), (3, 700)]
        lists, steps = self.make_lists(shapes, dtype, "cuda", attrs)
        for name in self.op.module.TENSORS:
            for i, t in enumerate(lists[name]):
                if name == self.op.param and i == 1:
                    continue  # params[1] stays aligned, its partners do not
                base = torch.empty(t.numel() + offset, dtype=dtype, device="cuda")
                view = base[offset:].view(t.shape)
                view.copy_(t)
                lists[name][i] = view
        ref, ref_steps = self.clone_lists(lists, "cpu", torch.float64), [0.0] * len(shapes)
        self.call(lists, steps, attrs)
        self.reference_step(ref, ref_steps, attrs)
        self.assert_lists_close(lists, ref, dtype, scale=10)

    @T.over("attrs", "ENDS", ids="attrs_id")
    def test_many_tensors_of_mixed_dtypes(self, attrs):
        # More tensors than one launch's table holds (several launches per dtype), sizes 0 to ~3 chunks,
        # three dtypes interleaved in one call: each tensor against the spec's rules in float64.
        M, param, grad = self.op.module, self.op.param, self.op.grad
        gen = torch.Generator().manual_seed(0)
        sizes = torch.randint(0, 3500, (700,), generator=gen).tolist()
        sizes[::37] = [0] * len(sizes[::37])
        dtypes = [self.CUDA_DTYPES[i % len(self.CUDA_DTYPES)] for i in range(len(sizes))]
        torch.manual_seed(1)
        used = M.states_used(**attrs)
        lists = {param: [T.make((n,), d, "cuda") for n, d in zip(sizes, dtypes)],
                 grad: [T.make((n,), d, "cuda") for n, d in zip(sizes, dtypes)]}
        for name in M.STATES:
            lists[name] = [torch.zeros(n, dtype=d, device="cuda") for n, d in zip(sizes, dtypes)] if name in used else []
        steps = [torch.tensor(float(i % 5), device="cuda", dtype=torch.float64 if i % 2 else torch.float32)
                 for i in range(len(sizes))]
        ref, ref_steps = self.clone_lists(lists, "cpu", torch.float64), [s.item() for s in steps]
        for k in range(2):
            self.new_grads(lists, seed=k + 2)
            ref[grad] = [g.cpu().double() for g in lists[grad]]
            self.call(lists, steps, attrs)
            self.reference_step(ref, ref_steps, attrs)
        for name in M.TENSORS:
            for i, (a, b) in enumerate(zip(lists[name], ref[name])):
                T.assert_close(a.cpu().double(), b, dtypes[i], scale=10)
        assert [s.item() for s in steps] == ref_steps

    @T.over("layout", "LAYOUTS")
    def test_dense_strided_layouts(self, layout):
        # Tensors laid out alike (channels_last, the same transpose) are worked on where they are; a param
        # whose tensors differ in layout goes through contiguous copies. Both update in place.
        attrs = self.fullest()
        lists, steps = self.make_lists([(2, 3, 4, 5), (6, 7, 3, 2)], torch.float32, "cuda", attrs)
        dense, dense_steps = self.clone_lists(lists), [s.clone() for s in steps]

        def relayout(name, t):
            if layout == "channels_last" or (layout == "mixed" and name == self.op.param):
                return t.contiguous(memory_format=torch.channels_last)
            if layout == "same_transpose":
                return t.transpose(0, 3).contiguous().transpose(0, 3)
            return t

        lists = {k: [relayout(k, t) for t in v] for k, v in lists.items()}
        originals = {k: list(v) for k, v in lists.items()}
        self.call(lists, steps, attrs)
        self.call(dense, dense_steps, attrs)
        for name in self.op.module.TENSORS:
            for a, b, orig in zip(lists[name], dense[name], originals[name]):
                assert a is orig
                torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)

    # The step count stays on the device

    @T.over("step_dtype", "STEP_DTYPES", ids="dtype_id")
    def test_scalars_from_large_device_steps_without_synchronising(self, step_dtype):
        attrs = self.VALID[-1]
        lists, _ = self.make_lists([(3000,), (17,), (5,)], torch.float32, "cuda", attrs)
        steps = [torch.tensor(v, dtype=step_dtype, device="cuda") for v in (0.0, 999.0, 123456.0)]
        cpu, cpu_steps = self.clone_lists(lists, "cpu"), [s.cpu() for s in steps]
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")  # any synchronising call in the op raises
        try:
            self.call(lists, steps, attrs)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        self.call(cpu, cpu_steps, attrs)
        self.assert_lists_close(lists, cpu, torch.float32, scale=10)
        assert [s.item() for s in steps] == [1.0, 1000.0, 123457.0] and all(s.dtype == step_dtype for s in steps)

    # Half types: float32 math, each result rounded once

    @T.over("dtype", "HALF_DTYPES", ids="dtype_id")
    @T.over("attrs", "PER_PROGRAM", ids="attrs_id")
    def test_half_against_float32(self, dtype, attrs):
        # One step from the same (rounded) values: the half result is the float32 result rounded, give or
        # take the float32 rounding differences the rounding can expose (one unit in the last place).
        lists, steps = self.make_lists([(4099,), (33, 65)], dtype, "cuda", attrs)
        for name in self.op.module.STATES:  # states as after a few steps, not zeros
            lists[name] = [T.make(t.shape, dtype, "cuda", low=0.0, high=1.0, seed=i) for i, t in enumerate(lists[name])]
        wide, wide_steps = self.clone_lists(lists, dtype=torch.float32), [s.clone() for s in steps]
        self.call(lists, steps, attrs)
        self.call(wide, wide_steps, attrs)
        for name in self.op.module.TENSORS:
            for a, b in zip(lists[name], wide[name]):
                torch.testing.assert_close(a.float(), b.to(dtype).float(), rtol=2 * ULP[dtype], atol=1e-5)
        _steps_equal(steps, 1)

    # The classes on CUDA against torch.optim (fused=True, foreach=True)

    @staticmethod
    def params(dtype, seed=0):
        torch.manual_seed(seed)
        return [torch.randn(s, dtype=dtype, device="cuda", requires_grad=True)
                for s in [(7,), (3, 5), (1031,), (), (64, 129), (0,)]]

    @staticmethod
    def train(opt, params, steps, seed=0):
        gen = torch.Generator(device="cuda").manual_seed(seed)
        for _ in range(steps):
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen, dtype=torch.float32, device="cuda").to(p.dtype)
            opt.step()

    @staticmethod
    def peer(optim, params, kwargs, impl):
        """torch.optim's class with impl=True; where it has no fused CUDA kernel, its foreach one (the same math)."""
        if optim.peer is None:
            pytest.skip(f"torch.optim has no {optim.name} to compare with")
        if impl == "fused" and not _has_fused_cuda(optim.peer):
            impl = "foreach"
        try:
            return optim.peer(params, **kwargs, **{impl: True})
        except (RuntimeError, TypeError, ValueError) as exc:
            pytest.skip(f"torch.optim.{optim.name}({impl}=True) does not take {kwargs}: {exc}")

    @T.over("optim, impl, kwargs", "CLASS_IMPLS", ids="class_id")
    def test_class_matches_torch_optim_on_cuda(self, optim, impl, kwargs):
        ours, theirs = self.params(torch.float32), self.params(torch.float32)
        opt_ours, opt_theirs = optim.cls(ours, **kwargs), self.peer(optim, theirs, kwargs, impl)
        for k in range(3):
            self.train(opt_ours, ours, 4, seed=k)
            self.train(opt_theirs, theirs, 4, seed=k)
            for a, b in zip(ours, theirs):
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        for p in ours:
            step = opt_ours.state[p]["step"]
            assert step.device == p.device and step.item() == 12.0

    @T.over("dtype", "HALF_DTYPES", ids="dtype_id")
    @T.over("optim, kwargs", "CLASS_ENDS", ids="class_id")
    def test_class_half_params_match_torch_fused(self, optim, kwargs, dtype):
        # Both keep the states in the param's dtype and compute in float32: the same to a unit or two in
        # the last place of the half type after a few steps. torch's foreach kernels compute in the half type.
        if optim.peer is not None and not _has_fused_cuda(optim.peer):
            pytest.skip(f"torch.optim.{optim.name} has no fused CUDA kernel, the one that computes half params in float32")
        ours, theirs = self.params(dtype), self.params(dtype)
        opt_ours, opt_theirs = optim.cls(ours, **kwargs), self.peer(optim, theirs, kwargs, "fused")
        self.train(opt_ours, ours, 3)
        self.train(opt_theirs, theirs, 3)
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a.float(), b.float(), rtol=4 * ULP[dtype], atol=4 * ULP[dtype])

    @T.over("direction", "DIRECTIONS")
    @T.over("optim", "CLASSES", ids="class_id")
    def test_class_state_dict_interchanges_with_torch_fused(self, optim, direction):
        kwargs = self.last_kwargs(optim)
        a, b = self.params(torch.float32), self.params(torch.float32)
        if direction == "from_torch_fused":
            src = self.peer(optim, a, kwargs, "fused")
        else:
            src = optim.cls(a, **kwargs)
        self.train(src, a, 3, seed=2)
        with torch.no_grad():
            for x, y in zip(a, b):
                y.copy_(x)
        dst = optim.cls(b, **kwargs) if direction == "from_torch_fused" else self.peer(optim, b, kwargs, "fused")
        dst.load_state_dict(copy.deepcopy(src.state_dict()))
        if direction == "to_torch_fused":
            for group in dst.param_groups:
                group["fused"] = _has_fused_cuda(optim.peer)  # our groups carry no "fused" key: torch would default it to None
        self.train(src, a, 3, seed=3)
        self.train(dst, b, 3, seed=3)
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)

    @T.over("optim", "CLASSES", ids="class_id")
    def test_class_moves_a_cpu_step_to_the_device(self, optim):
        # A state_dict from a torch.optim without fused/capturable keeps the step on the CPU.
        kwargs = self.last_kwargs(optim)
        a, b = self.params(torch.float32), self.params(torch.float32)
        src = optim.cls(a, **kwargs)
        self.train(src, a, 2, seed=4)
        saved = copy.deepcopy(src.state_dict())
        for s in saved["state"].values():
            s["step"] = s["step"].cpu()
        dst = optim.cls(b, **kwargs)
        with torch.no_grad():
            for x, y in zip(a, b):
                y.copy_(x)
        dst.load_state_dict(saved)
        self.train(src, a, 2, seed=5)
        self.train(dst, b, 2, seed=5)
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=0, atol=0)
        assert all(dst.state[p]["step"].device == p.device for p in b if p in dst.state)

    @T.over("optim", "CLASSES", ids="class_id")
    def test_class_step_captured_in_a_cuda_graph(self, optim):
        kwargs = self.last_kwargs(optim)
        params, twin = self.params(torch.float32), self.params(torch.float32)
        opt, opt_twin = optim.cls(params, **kwargs), optim.cls(twin, **kwargs)
        for p in params + twin:
            p.grad = torch.zeros_like(p)
        # Warm up on a side stream (state created, kernels loaded), as torch.cuda.graph asks.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            opt.step()
        torch.cuda.current_stream().wait_stream(side)
        opt_twin.step()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            opt.step()
        for k in range(4):
            torch.manual_seed(k)
            for p, q in zip(params, twin):
                g = torch.randn_like(p)
                p.grad.copy_(g)
                q.grad.copy_(g)
            graph.replay()
            opt_twin.step()
        torch.cuda.synchronize()
        for p, q in zip(params, twin):
            torch.testing.assert_close(p, q, rtol=0, atol=0)
            assert opt.state[p]["step"].item() == opt_twin.state[q]["step"].item() == 5.0

    # CUDA graphs, streams, devices

    @T.over("attrs", "PER_PROGRAM", ids="attrs_id")
    def test_op_captured_in_a_cuda_graph(self, attrs):
        # The scalars depend on the step, which each replay reads and increments on the device: replays
        # agree with eager steps only if nothing was baked in at capture.
        lists, steps = self.make_lists([(3000,), (5,), (0,), (129, 7)], torch.float32, "cuda", attrs)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.call(lists, steps, attrs)  # warm-up step
        torch.cuda.current_stream().wait_stream(side)
        eager, eager_steps = self.clone_lists(lists), [s.clone() for s in steps]
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.call(lists, steps, attrs)
        _steps_equal(steps, 1)  # capturing ran nothing
        for k in range(3):
            torch.manual_seed(10 + k)
            for g, h in zip(lists[self.op.grad], eager[self.op.grad]):
                fresh = torch.randn_like(g)
                g.copy_(fresh)
                h.copy_(fresh)
            graph.replay()
            self.call(eager, eager_steps, attrs)
        torch.cuda.synchronize()
        for name in self.op.module.TENSORS:
            for a, b in zip(lists[name], eager[name]):
                torch.testing.assert_close(a, b, rtol=0, atol=0)
        _steps_equal(steps, 4)

    def test_runs_on_the_current_stream(self):
        # The inputs are written on a side stream behind a long sleep; a kernel launched on another
        # stream would read them before they exist, and the step increment would race the update.
        attrs = self.VALID[-1]
        src, _ = self.make_lists([(1 << 16,), (1000,)], torch.float32, "cuda", attrs)
        cpu, cpu_steps = self.clone_lists(src, "cpu"), [torch.tensor(0.0) for _ in range(2)]
        self.call(cpu, cpu_steps, attrs)
        torch.cuda.synchronize()
        side = torch.cuda.Stream()
        with torch.cuda.stream(side):
            torch.cuda._sleep(50_000_000)
            lists = {k: [t * 1 for t in v] for k, v in src.items()}
            steps = [torch.zeros((), device="cuda") for _ in range(2)]
            self.call(lists, steps, attrs)
        side.synchronize()
        self.assert_lists_close(lists, cpu, torch.float32, scale=10)
        _steps_equal(steps, 1)

    def test_device_guard(self):
        if torch.cuda.device_count() < 2:
            pytest.skip("device-guard case: needs two CUDA devices, this machine has one")
        attrs = self.VALID[-1]
        with torch.cuda.device(0):
            lists, steps = self.make_lists([(5000,), (3,)], torch.float32, "cuda:1", attrs)
            cpu, cpu_steps = self.clone_lists(lists, "cpu"), [s.cpu() for s in steps]
            self.call(lists, steps, attrs)
            assert torch.cuda.current_device() == 0
        self.call(cpu, cpu_steps, attrs)
        self.assert_lists_close(lists, cpu, torch.float32, scale=10)

    # Bad inputs on CUDA: a RuntimeError saying what to do, and nothing changed.

    def good(self):
        attrs = self.fullest()
        lists, steps = self.make_lists([(4,), (2, 3)], torch.float32, "cuda", attrs)
        return lists, steps, attrs

    def test_rejects_a_grad_on_the_cpu(self):
        lists, steps, attrs = self.good()
        grad = self.op.grad
        lists[grad][1] = lists[grad][1].cpu()
        with pytest.raises(RuntimeError, match=rf"{grad}s\[1\] is on cpu but params\[1\] is on cuda"):
            self.unchanged(lists, steps, lambda: self.call(lists, steps, attrs))

    def test_rejects_steps_on_the_cpu(self):
        lists, steps, attrs = self.good()
        steps[0] = steps[0].cpu()
        with pytest.raises(RuntimeError, match=r"state_steps\[0\] must be a one-element float32 or float64 tensor on cuda"):
            self.unchanged(lists, steps, lambda: self.call(lists, steps, attrs))

    def test_rejects_params_on_the_cpu_with_steps_on_cuda(self):
        lists, steps, attrs = self.good()
        cpu_lists = self.clone_lists(lists, "cpu")
        with pytest.raises(RuntimeError, match=r"params\[0\] is on cpu but other tensors of the call are on CUDA"):
            self.unchanged(cpu_lists, steps, lambda: self.call(cpu_lists, steps, attrs))

    def test_rejects_unsupported_dtype_on_cuda(self):
        lists, steps, attrs = self.good()
        for name in self.op.module.TENSORS:
            lists[name] = [t.to(torch.int32) for t in lists[name]]
        names = ", ".join(str(t).removeprefix("torch.") for t in self.CUDA_DTYPES)
        with pytest.raises(RuntimeError, match=f"not supported; supported dtypes: {names}"):
            self.call(lists, steps, attrs)

    def test_rejects_aliased_state_on_cuda(self):
        lists, steps, attrs = self.good()
        used = self.op.module.states_used(**attrs)
        name = used[0] if used else self.op.grad
        lists[name][0] = lists[self.op.param][0]
        with pytest.raises(RuntimeError, match="share memory"):
            self.unchanged(lists, steps, lambda: self.call(lists, steps, attrs))

    def test_rejects_params_on_two_devices(self):
        if torch.cuda.device_count() < 2:
            pytest.skip("needs two CUDA devices, this machine has one")
        lists, steps, attrs = self.good()
        for name in self.op.module.TENSORS:
            if lists[name]:
                lists[name][1] = lists[name][1].to("cuda:1")
        steps[1] = steps[1].to("cuda:1")
        with pytest.raises(RuntimeError, match=r"params\[1\] is on cuda:1 but params\[0\] is on cuda:0"):
            self.unchanged(lists, steps, lambda: self.call(lists, steps, attrs))
