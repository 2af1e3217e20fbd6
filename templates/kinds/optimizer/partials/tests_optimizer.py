"""The optimizer ops' checks, written once: tests/test_<op>.py (and test_<op>_cuda.py) subclass
OptimizerTests (OptimizerCudaTests) with the op's data in an `OptimizerInfo` record, as torch's OpInfo.

The kernel against the spec's rules run in PyTorch (float64) for every program, per device and dtype,
strided tensors, step counting, opcheck, torch.compile fullgraph, bad inputs, and the optimizer classes
against torch.optim over many steps, with state_dict round trips. On CUDA: the kernel against the CPU
kernel at chunk boundaries, misaligned storage, many tensors of mixed dtypes, dense strided layouts, step
scalars from the device without synchronising, half types against float32, the classes against
torch.optim fused and foreach, CUDA graphs, streams, the device guard and bad inputs. An optimizer step
is not differentiable, so there is no gradcheck.
"""

from __future__ import annotations

import copy
import importlib
import itertools
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

import pytest
import torch


from . import _testing as T
from . import optim as _optim

# The generated package itself, whose top level exports the optimizer classes.
_PACKAGE = importlib.import_module(__package__)
STEPS = 3


def attr_sets(M):
    """(valid, invalid) attr sets of the op module M: every combination of the bool attrs, with the numeric
    attrs at their defaults, all at other values, one changed at a time, and all but one changed. The
    spec's requires split them."""
    bools = [a for a in M.ATTRS if M.ATTR_TYPES[a] == "bool"]
    numeric = [a for a in M.ATTRS if M.ATTR_TYPES[a] != "bool"]

    def other(name):
        d = M.DEFAULTS[name]
        if M.ATTR_TYPES[name] == "int":
            return d + 1
        return 0.1 if d == 0 else d * 0.5

    numeric_sets = ([{}, {a: other(a) for a in numeric}] + [{a: other(a)} for a in numeric]
                    + [{b: other(b) for b in numeric if b != a} for a in numeric])
    all_sets = []
    for bits in itertools.product([False, True], repeat=len(bools)):
        for nums in numeric_sets:
            s = {**M.DEFAULTS, **dict(zip(bools, bits)), **nums}
            if s not in all_sets:
                all_sets.append(s)
    return ([s for s in all_sets if not M.violations(**s)], [s for s in all_sets if M.violations(**s)])


@dataclass(frozen=True)
class OptimizerClass:
    """A torch.optim.Optimizer over the op: the attrs it fixes, and which attrs each constructor argument
    gives (several for a tuple such as betas)."""

    cls: type
    fixed: dict
    params: dict

    @property
    def name(self) -> str:
        return self.cls.__name__

    @property
    def peer(self):
        return getattr(torch.optim, self.name, None)

    def kwargs(self, attrs):
        """The constructor arguments that give these attrs; None when the class fixes them otherwise."""
        if any(attrs[a] != v for a, v in self.fixed.items()):
            return None
        return {p: attrs[a[0]] if len(a) == 1 else tuple(attrs[x] for x in a) for p, a in self.params.items()}


@dataclass(frozen=True)
class OptimizerInfo:
    """An optimizer op's data: its module (TENSORS, STATES, ATTRS, program(), ...), the step function and
    its registered overload, the spec's rules in PyTorch (one function per program), the dtypes of each
    device's kernel, extra shapes, and its classes."""

    module: ModuleType
    step: Callable
    overload: object
    programs: tuple
    dtypes: dict
    param: str = "param"
    grad: str = "grad"
    shapes: tuple = ()
    classes: tuple = ()


class OptimizerOp(T.OpTests):
    """What the CPU and CUDA checks share: the attr grid and the lists a call takes."""

    op: OptimizerInfo

    @classmethod
    def prepare(cls):
        M = cls.op.module
        cls.DEVICES = T.devices(tuple(cls.op.dtypes))
        cls.DEVICE_DTYPES = T.device_dtypes(cls.op.dtypes)
        cls.COMPILE_CASES = T.compile_cases(cls.DEVICE_DTYPES)
        cls.SHAPES = [(), (0,), (7,), (3, 5), (2, 3, 4), (1031,), *cls.op.shapes]
        cls.VALID, cls.INVALID = attr_sets(M)
        # One attr set per program: the first of the grid that selects it.
        cls.PER_PROGRAM = [next(s for s in cls.VALID if M.program(**s) == i)
                           for i in sorted({M.program(**s) for s in cls.VALID})]
        cls.has_states = bool(M.STATES)
        cls.has_lr = "lr" in M.ATTRS
        cls.INVALID_OR_NONE = cls.INVALID or [None]
        cls.CLASSES = list(cls.op.classes)
        # (class, constructor kwargs) over the grid, per class.
        cls.CLASS_VALID = [(c, k) for c in cls.CLASSES for k in cls.class_kwargs(c, cls.VALID)]
        cls.CLASS_INVALID = [(c, k) for c in cls.CLASSES for k in cls.class_kwargs(c, cls.INVALID) or [None]]

    @staticmethod
    def class_kwargs(c, sets):
        return [k for k in map(c.kwargs, sets) if k is not None]

    @classmethod
    def first_kwargs(cls, optim):
        return next(k for c, k in cls.CLASS_VALID if c is optim)

    @classmethod
    def last_kwargs(cls, optim):
        return [k for c, k in cls.CLASS_VALID if c is optim][-1]

    def attrs_id(self, attrs):
        return ",".join(f"{k}={v}" for k, v in attrs.items() if v != self.op.module.DEFAULTS.get(k)) or "defaults"

    def class_id(self, value):
        return value.name if isinstance(value, OptimizerClass) else str(value)

    def reference_step(self, lists: dict, steps: list, attrs: dict) -> None:
        """One step of the spec's rules, in place on float64 copies: lists maps each tensor name to its list."""
        M = self.op.module
        program = self.op.programs[M.program(**attrs)]
        for i in range(len(lists[self.op.param])):
            steps[i] += 1
            host = M.host_values(steps[i], **attrs)
            args = {name: lists[name][i] for name in M.TENSORS if len(lists[name]) > i}
            for name, value in program(**args, **host).items():
                lists[name][i] = torch.as_tensor(value, dtype=torch.float64).expand_as(lists[name][i]).clone()

    def make_lists(self, shapes, dtype, device, attrs, *, noncontiguous=False, seed=0, step_dtype=torch.float32):
        """Params and grads at random, the states the attrs use at zero (as the optimizers start them), and
        the step counts at zero on the params' device (where torch.optim keeps them with fused=True)."""
        torch.manual_seed(seed)
        used = self.op.module.states_used(**attrs)
        lists = {self.op.param: [T.make(s, dtype, device, noncontiguous=noncontiguous) for s in shapes],
                 self.op.grad: [T.make(s, dtype, device, noncontiguous=noncontiguous) for s in shapes]}
        for name in self.op.module.STATES:
            lists[name] = ([T.make(s, dtype, device, noncontiguous=noncontiguous).zero_() for s in shapes]
                           if name in used else [])
        steps = [torch.tensor(0.0, dtype=step_dtype, device=device) for _ in shapes]
        return lists, steps

    def call(self, lists, steps, attrs):
        self.op.step(*(lists[name] for name in self.op.module.TENSORS), steps, **attrs)

    def new_grads(self, lists, seed):
        torch.manual_seed(seed)
        lists[self.op.grad] = [torch.randn_like(g) for g in lists[self.op.grad]]

    @staticmethod
    def clone_lists(lists, device=None, dtype=None):
        """A copy of every list, optionally moved and cast (the same values, other memory)."""
        return {k: [t.to(device=device or t.device, dtype=dtype or t.dtype, copy=True) for t in v]
                for k, v in lists.items()}

    @staticmethod
    def unchanged(lists, steps, fn):
        """Runs fn (a rejected call, inside pytest.raises) and checks that it changed nothing."""
        before = {k: [t.clone() for t in v] for k, v in lists.items()}
        steps_before = [s.clone() for s in steps]
        fn()
        for k, v in lists.items():
            for x, y in zip(v, before[k]):
                assert torch.equal(x, y), f"{k} changed by a rejected call"
        assert all(torch.equal(x, y) for x, y in zip(steps, steps_before)), "state_steps changed by a rejected call"

    def fullest(self):
        """The valid attr set that uses the most states."""
        return max(self.VALID, key=lambda s: len(self.op.module.states_used(**s)))



class OptimizerTests(OptimizerOp):
    """The checks on every device the op has a kernel for, and of its classes on the CPU."""

    STEP_DTYPES = (torch.float32, torch.float64)
    CLASS_DTYPES = (torch.float64, torch.float32)
    DIRECTIONS = ("from_torch", "to_torch")

    def test_attr_sets_reach_every_program(self):
        assert self.VALID, "no attr set satisfies the spec's requires"
        reached = {self.op.module.program(**s) for s in self.VALID}
        everything = set(range(len(self.op.programs)))
        assert reached == everything, f"programs never tested: {everything - reached}"

    @T.over("device, dtype", "DEVICE_DTYPES")
    @T.over("attrs", "VALID", ids="attrs_id")
    def test_reference(self, device, dtype, attrs):
        lists, steps = self.make_lists(self.SHAPES, dtype, device, attrs)
        ref = {k: [t.to(torch.float64, copy=True) for t in v] for k, v in lists.items()}
        ref_steps = [0.0 for _ in steps]
        for k in range(STEPS):
            self.new_grads(lists, seed=k + 1)
            ref[self.op.grad] = [g.double() for g in lists[self.op.grad]]
            self.call(lists, steps, attrs)
            self.reference_step(ref, ref_steps, attrs)
            for name in [n for n in self.op.module.TENSORS if n != self.op.grad]:
                for ours, theirs in zip(lists[name], ref[name]):
                    T.assert_close(ours, theirs, dtype, scale=10)
        assert [s.item() for s in steps] == [float(STEPS)] * len(self.SHAPES)

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_noncontiguous(self, device, dtype):
        attrs = self.VALID[-1]
        strided, steps_a = self.make_lists([(4, 6), (3, 5, 2)], dtype, device, attrs, noncontiguous=True)
        dense = {k: [t.contiguous().clone() for t in v] for k, v in strided.items()}
        steps_b = [s.clone() for s in steps_a]
        originals = {k: list(v) for k, v in strided.items()}
        for _ in range(STEPS):
            self.call(strided, steps_a, attrs)
            self.call(dense, steps_b, attrs)
        for name in self.op.module.TENSORS:
            for a, b, orig in zip(strided[name], dense[name], originals[name]):
                assert a is orig and not a.is_contiguous()  # updated in place, layout kept
                torch.testing.assert_close(a, b, rtol=0, atol=0)

    @T.over("device", "DEVICES")
    @T.over("dtype", "STEP_DTYPES")
    def test_steps_are_counted(self, device, dtype):
        attrs = self.VALID[0]
        lists, _ = self.make_lists([(5,), (3,), (0,)], torch.float64, device, attrs)
        steps = [torch.tensor(v, dtype=dtype, device=device) for v in (3.0, 0.0, 7.0)]
        self.call(lists, steps, attrs)
        assert [s.item() for s in steps] == [4.0, 1.0, 8.0] and all(s.dtype == dtype for s in steps)

    @T.over("device", "DEVICES")
    def test_unused_states_stay_untouched(self, device):
        M = self.op.module
        attrs = min(self.VALID, key=lambda s: len(M.states_used(**s)))
        used = M.states_used(**attrs)
        lists, steps = self.make_lists([(9,)], torch.float32, device, attrs)
        unused = {name: [torch.full((9,), 7.0, device=device)] for name in M.STATES if name not in used}
        lists.update(unused)
        self.call(lists, steps, attrs)
        for name, tensors in unused.items():
            assert torch.equal(tensors[0].cpu(), torch.full((9,), 7.0)), name

    @T.over("device, dtype", "DEVICE_DTYPES")
    def test_opcheck(self, device, dtype):
        M = self.op.module
        for attrs in [self.VALID[0], self.VALID[-1]]:
            lists, steps = self.make_lists([(3, 4), (5,)], dtype, device, attrs)
            torch.library.opcheck(self.op.overload,
                                  (*(lists[name] for name in M.TENSORS), steps, *(attrs[a] for a in M.ATTRS)))

    @T.over("device, dtype", "COMPILE_CASES")
    def test_compile_fullgraph(self, device, dtype):
        torch._dynamo.reset()
        attrs = self.VALID[-1]

        def f(lists, steps):
            self.call(lists, steps, attrs)
            return sum(p.sum() for p in lists[self.op.param])

        compiled = torch.compile(f, fullgraph=True, backend=T.compile_backend())
        a, steps_a = self.make_lists([(8, 33), (5,)], dtype, device, attrs)
        b = {k: [t.clone() for t in v] for k, v in a.items()}
        steps_b = [s.clone() for s in steps_a]
        for _ in range(2):
            T.assert_close(compiled(a, steps_a), f(b, steps_b), dtype)
        for name in self.op.module.TENSORS:
            for x, y in zip(a[name], b[name]):
                T.assert_close(x, y, dtype)
        assert [s.item() for s in steps_a] == [s.item() for s in steps_b] == [2.0, 2.0]

    # Bad inputs: a RuntimeError saying what to do, and nothing changed.

    def good(self, attrs=None):
        attrs = attrs or self.fullest()
        lists, steps = self.make_lists([(4,), (2, 3)], torch.float32, "cpu", attrs)
        return lists, steps, attrs

    def test_rejects_lists_of_different_lengths(self):
        lists, steps, attrs = self.good()
        lists[self.op.grad] = lists[self.op.grad][:1]
        with pytest.raises(RuntimeError, match=f"{self.op.grad}s has 1 tensors but params has 2"):
            self.call(lists, steps, attrs)

    def test_rejects_shape_mismatch(self):
        lists, steps, attrs = self.good()
        lists[self.op.grad][1] = torch.randn(3, 2)
        with pytest.raises(RuntimeError, match=rf"{self.op.grad}s\[1\] has shape \[3, 2\] but params\[1\] has shape \[2, 3\]"):
            self.unchanged(lists, steps, lambda: self.call(lists, steps, attrs))

    def test_rejects_dtype_mismatch(self):
        lists, steps, attrs = self.good()
        lists[self.op.grad][0] = lists[self.op.grad][0].double()
        with pytest.raises(RuntimeError, match="give it the dtype of its param"):
            self.call(lists, steps, attrs)

    def test_rejects_unsupported_dtype(self):
        lists, steps, attrs = self.good()
        for name in self.op.module.TENSORS:
            lists[name] = [t.to(torch.int64) for t in lists[name]]
        with pytest.raises(RuntimeError, match="not supported; supported dtypes"):
            self.call(lists, steps, attrs)

    def test_rejects_bad_step(self):
        lists, steps, attrs = self.good()
        steps[1] = torch.tensor([1.0, 2.0])
        with pytest.raises(RuntimeError, match=r"state_steps\[1\] must be a one-element float32 or float64 CPU tensor"):
            self.unchanged(lists, steps, lambda: self.call(lists, steps, attrs))

    @T.over("device", "DEVICES")
    def test_rejects_aliased_tensors(self, device):
        attrs = self.fullest()
        param, grad = self.op.param, self.op.grad
        cases = [(grad, 1, param, 1), (param, 1, param, 0)]
        cases += [(name, 0, param, 0) for name in self.op.module.states_used(**attrs)]
        for dst, i, src, j in cases:
            lists, steps = self.make_lists([(6,), (6,)], torch.float32, device, attrs)
            lists[dst][i] = lists[src][j]
            with pytest.raises(RuntimeError, match="share memory"):
                self.unchanged(lists, steps, lambda: self.call(lists, steps, attrs))
        lists, steps = self.make_lists([(6,), (6,)], torch.float32, device, attrs)
        steps[1] = steps[0]
        with pytest.raises(RuntimeError, match=r"state_steps\[[01]\] and state_steps\[[01]\] share memory"):
            self.unchanged(lists, steps, lambda: self.call(lists, steps, attrs))
        # Read-only tensors may share: one gradient for two params.
        lists, steps = self.make_lists([(6,), (6,)], torch.float32, device, attrs)
        lists[grad][1] = lists[grad][0]
        self.call(lists, steps, attrs)

    def test_rejects_expanded_param(self):
        lists, steps, attrs = self.good()
        lists[self.op.param][0] = torch.randn(1).expand(4)
        with pytest.raises(RuntimeError, match="share memory"):
            self.call(lists, steps, attrs)

    @T.needs("has_states")
    def test_rejects_missing_state_list(self):
        attrs = self.fullest()
        lists, steps, _ = self.good(attrs)
        name = self.op.module.states_used(**attrs)[0]
        lists[name] = []
        with pytest.raises(RuntimeError, match=f"{name}s has 0 tensors but params has 2"):
            self.call(lists, steps, attrs)

    def invalid_id(self, attrs):
        return self.attrs_id(attrs) if attrs else "none"

    @T.over("attrs", "INVALID_OR_NONE", ids="invalid_id")
    def test_rejects_attrs_the_spec_forbids(self, attrs):
        if attrs is None:
            pytest.skip("no attr set in the generated grid breaks the spec's requires")
        lists, steps, _ = self.good(self.VALID[0])
        with pytest.raises(RuntimeError, match="the attrs must satisfy"):
            self.unchanged(lists, steps, lambda: self.call(lists, steps, attrs))

    # The classes: torch.optim.Optimizers over the op, on the CPU.

    @staticmethod
    def train(opt, params, steps, seed=0):
        gen = torch.Generator().manual_seed(seed)
        for _ in range(steps):
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen, dtype=p.dtype)
            opt.step()

    @staticmethod
    def params(dtype, seed=0):
        torch.manual_seed(seed)
        return [torch.randn(s, dtype=dtype, requires_grad=True) for s in [(7,), (3, 5), (1031,), ()]]

    @T.over("optim", "CLASSES", ids="class_id")
    def test_class_is_exported(self, optim):
        name = optim.name
        assert getattr(_PACKAGE, name) is optim.cls is getattr(_optim, name)
        assert issubclass(optim.cls, torch.optim.Optimizer)

    @T.over("dtype", "CLASS_DTYPES")
    @T.over("optim, kwargs", "CLASS_VALID", ids="class_id")
    def test_class_matches_torch_optim(self, optim, kwargs, dtype):
        if optim.peer is None:
            pytest.skip(f"torch.optim has no {optim.name} to compare with")
        ours, theirs = self.params(dtype), self.params(dtype)
        opt_ours, opt_theirs = optim.cls(ours, **kwargs), optim.peer(theirs, **kwargs)
        for k in range(4):
            self.train(opt_ours, ours, 5, seed=k)
            self.train(opt_theirs, theirs, 5, seed=k)
            for a, b in zip(ours, theirs):
                rtol, atol = (1e-10, 1e-12) if dtype == torch.float64 else (1e-5, 1e-6)
                torch.testing.assert_close(a, b, rtol=rtol, atol=atol)

    @T.over("optim, kwargs", "CLASS_INVALID", ids="class_id")
    def test_class_rejects_what_torch_rejects(self, optim, kwargs):
        if kwargs is None:
            pytest.skip("no constructor arguments in the generated grid break the spec's requires")
        with pytest.raises(ValueError, match="the attrs must satisfy"):
            optim.cls(self.params(torch.float32), **kwargs)
        if optim.peer is not None:
            with pytest.raises(ValueError):
                optim.peer(self.params(torch.float32), **kwargs)

    @T.over("optim", "CLASSES", ids="class_id")
    def test_class_state_dict_round_trip(self, optim):
        kwargs = self.last_kwargs(optim)
        straight, resumed = self.params(torch.float64), self.params(torch.float64)
        opt = optim.cls(straight, **kwargs)
        self.train(opt, straight, 3, seed=1)
        self.train(opt, straight, 3, seed=2)
        first = optim.cls(resumed, **kwargs)
        self.train(first, resumed, 3, seed=1)
        saved = copy.deepcopy(first.state_dict())
        assert saved["state"][0]["step"].item() == 3.0
        second = optim.cls(resumed, **kwargs)
        second.load_state_dict(saved)
        self.train(second, resumed, 3, seed=2)
        for a, b in zip(straight, resumed):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert second.state_dict()["param_groups"] == opt.state_dict()["param_groups"]

    @T.over("direction", "DIRECTIONS")
    @T.over("optim", "CLASSES", ids="class_id")
    def test_class_state_dict_interchanges_with_torch(self, optim, direction):
        if optim.peer is None:
            pytest.skip(f"torch.optim has no {optim.name} to compare with")
        kwargs = self.last_kwargs(optim)
        src_cls, dst_cls = (optim.peer, optim.cls) if direction == "from_torch" else (optim.cls, optim.peer)
        a, b = self.params(torch.float64), self.params(torch.float64)
        src = src_cls(a, **kwargs)
        self.train(src, a, 4, seed=2)
        with torch.no_grad():
            for x, y in zip(a, b):
                y.copy_(x)
        dst = dst_cls(b, **kwargs)
        dst.load_state_dict(copy.deepcopy(src.state_dict()))
        self.train(src, a, 4, seed=3)
        self.train(dst, b, 4, seed=3)
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)

    @T.over("optim", "CLASSES", ids="class_id")
    def test_class_skips_params_without_grad(self, optim):
        params = self.params(torch.float32)
        before = params[1].detach().clone()
        opt = optim.cls(params, **self.last_kwargs(optim))
        for i, p in enumerate(params):
            p.grad = None if i == 1 else torch.ones_like(p)
        opt.step()
        assert torch.equal(params[1], before) and params[1] not in opt.state
        assert all(opt.state[p]["step"].item() == 1.0 for i, p in enumerate(params) if i != 1)

    @T.needs("has_lr")
    @T.over("optim", "CLASSES", ids="class_id")
    def test_class_closure_and_param_groups(self, optim):
        params = self.params(torch.float32)
        kwargs = self.first_kwargs(optim)
        opt = optim.cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], **kwargs)
        assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[0]["lr"] == kwargs["lr"]

        def closure():
            opt.zero_grad()
            loss = sum((p * p).sum() for p in params)
            loss.backward()
            return loss

        loss = opt.step(closure)
        assert torch.is_tensor(loss) and all(opt.state[p]["step"].item() == 1.0 for p in params)
        with pytest.raises(ValueError, match="the attrs must satisfy"):
            opt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], "lr": -1.0})
