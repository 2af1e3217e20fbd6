"""optimizer: the update program for each combination of its conditions, state, host values and classes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..emit import cpp as emit_cpp
from ..emit import python as emit_py
from ..expr import Body, Cond, Expr, decode, decode_cond, decode_host, decode_lets
from ..model import ModelError, _take
from . import KindModel


@dataclass(frozen=True)
class Condition:
    """A condition over the attrs, as a tree; its C++ (host doubles and bools) and Python by grimoire/emit/."""
    terms: Cond
    text: str  # as people read it, for error messages
    names: tuple[str, ...]  # the attrs it reads

    @property
    def cpp(self) -> str:
        return emit_cpp.cond(self.terms)

    @property
    def py(self) -> str:
        return emit_py.cond(self.terms)


@dataclass(frozen=True)
class HostValue:
    """A value computed once per tensor on the host in double: a spec scalar or a lifted constant."""
    name: str
    terms: Expr
    lifted: bool  # a constant subterm of the rules: its C++ is the element loop's (emit_cpp.expr)

    @property
    def cpp(self) -> str:
        return emit_cpp.expr(self.terms) if self.lifted else emit_cpp.host(self.terms)

    @property
    def py(self) -> str:
        return emit_py.host(self.terms)


@dataclass(frozen=True)
class TensorUse:
    name: str
    read: bool
    written: bool


@dataclass(frozen=True)
class ProgramRule:
    """A let (a per-element local) or an update (a tensor's new value) of an optimizer program."""
    kind: str  # let | update
    name: str
    body: Body  # temporaries numbered across the program: they never collide


@dataclass(frozen=True)
class Program:
    """The per-element rules of one optimizer variant: statements over a type V, scalar or Vectorized."""
    index: int
    tensors: tuple[TensorUse, ...]
    uniforms: tuple[str, ...]  # numeric attrs and host values it reads
    rules: tuple[ProgramRule, ...]

    @property
    def cpp(self) -> tuple[str, ...]:
        lines: list[str] = []
        for r in self.rules:
            lets, result = emit_cpp.body(r.body)
            decl = "const V " if r.kind == "let" else ""
            lines += [*lets, f"{decl}{emit_cpp.name(r.name)} = {result};"]
        return tuple(lines)

    @property
    def py(self) -> tuple[str, ...]:
        """The rules as Python over tensors (the reference step), each expression whole."""
        return tuple(f"{emit_py.name(r.name)} = {emit_py.expr(r.body.inlined())}" for r in self.rules)

    @property
    def cpp_params(self) -> str:
        """The C++ parameter list of the program's function: tensors it writes by reference."""
        ps = [f"{'V&' if t.written else 'const V&'} {t.name}" for t in self.tensors]
        return ", ".join(ps + [f"const V& {u}" for u in self.uniforms])

    def uses(self, tensor: str) -> bool:
        return any(t.name == tensor for t in self.tensors)

    @property
    def n_tensors(self) -> int:
        """The tensors the program reads or writes: the size of its role and mask tables."""
        return len(self.tensors)

    @property
    def py_params(self) -> tuple[str, ...]:
        """The keyword parameters of the program's Python reference step: its tensors, then its uniforms."""
        return (*(t.name for t in self.tensors), *self.uniforms)


@dataclass(frozen=True)
class ClassParam:
    name: str
    attrs: tuple[str, ...]  # one attr, or the attrs a tuple argument groups
    py_default: str

    @property
    def groups_attrs(self) -> bool:
        """Whether the constructor argument is a tuple grouping several attrs (Adam's betas), not one."""
        return len(self.attrs) > 1


@dataclass(frozen=True)
class OptimizerClass:
    name: str
    params: tuple[ClassParam, ...]
    fixed: tuple[tuple[str, str], ...]  # (attr, Python value) not taken by the constructor


@dataclass(frozen=True)
class OptimizerSpec:
    param: str
    grad: str
    states: tuple[str, ...]
    conditions: tuple[Condition, ...]
    requires: tuple[Condition, ...]
    host: tuple[HostValue, ...]
    programs: tuple[Program, ...]
    variant_programs: tuple[int, ...]  # program index for each combination of the conditions
    classes: tuple[OptimizerClass, ...]
    bench_attrs: tuple[tuple[str, str], ...]

    @property
    def tensors(self) -> tuple[str, ...]:
        return (self.param, self.grad, *self.states)

    @property
    def n_tensors(self) -> int:
        """The tensor roles of one parameter (param, grad, states): a CUDA chunk holds a pointer to each."""
        return len(self.tensors)

    @property
    def n_states(self) -> int:
        """The optimizer's state tensors per parameter."""
        return len(self.states)

    @property
    def n_programs(self) -> int:
        """The variants the attrs pick among (one program each)."""
        return len(self.programs)

    @property
    def n_variants(self) -> int:
        """The combinations of the conditions: the size of the variant-to-program table."""
        return len(self.variant_programs)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The optimizer classes over the op, as the package exports them."""
        return tuple(c.name for c in self.classes)

    def states_used(self, program: Program) -> tuple[str, ...]:
        return tuple(s for s in self.states if program.uses(s))

    @property
    def lists(self) -> tuple[str, ...]:
        """The op's tensor-list arguments, in order: params, grads, one per state, state_steps."""
        return tuple(f"{t}s" for t in self.tensors) + ("state_steps",)

    @property
    def n_lists(self) -> int:
        """The op's tensor-list arguments: each parameter has one extent (one tensor) in each."""
        return len(self.lists)


def _condition(d: Mapping[str, Any], what: str) -> Condition:
    c = _take(d, {"expr", "text", "names"}, what)
    return Condition(decode_cond(c["expr"]), c["text"], tuple(c["names"]))


def _rule(d: Mapping[str, Any], op: str) -> ProgramRule:
    r = _take(d, {"kind", "name", "lets", "result"}, f"program rule of {op}")
    if r["kind"] not in ("let", "update"):
        raise ModelError(f"program rule of {op}: kind {r['kind']!r} is neither let nor update")
    return ProgramRule(r["kind"], r["name"], Body(decode_lets(r["lets"]), decode(r["result"])))


def _host_value(d: Mapping[str, Any], op: str) -> HostValue:
    h = _take(d, {"name", "lifted", "expr"}, f"host value of {op}")
    # A lifted term is an element expression of the calculus; a spec scalar a host one (if/3, pow by the step).
    return HostValue(h["name"], decode(h["expr"]) if h["lifted"] else decode_host(h["expr"]), bool(h["lifted"]))


def _optimizer(data: Mapping[str, Any], op: str) -> OptimizerSpec:
    d = _take(data, {"param", "grad", "states", "conditions", "requires", "host", "programs", "variant_programs",
                     "classes", "bench_attrs"}, f"optimizer of {op}")
    programs = []
    for p in d["programs"]:
        p = _take(p, {"index", "tensors", "uniforms", "rules"}, f"program of {op}")
        programs.append(Program(
            p["index"],
            tuple(TensorUse(**_take(t, {"name", "read", "written"}, f"tensor of {op}")) for t in p["tensors"]),
            tuple(p["uniforms"]), tuple(_rule(r, op) for r in p["rules"])))
    classes = []
    for c in d["classes"]:
        c = _take(c, {"name", "params", "fixed"}, f"optimizer class of {op}")
        params = tuple(ClassParam(q["name"], tuple(q["attrs"]), q["py_default"])
                       for q in (_take(q, {"name", "attrs", "py_default"}, f"class param of {op}") for q in c["params"]))
        fixed = tuple((f["name"], f["py"]) for f in (_take(f, {"name", "py"}, f"fixed attr of {op}") for f in c["fixed"]))
        classes.append(OptimizerClass(c["name"], params, fixed))
    return OptimizerSpec(
        param=d["param"], grad=d["grad"], states=tuple(d["states"]),
        conditions=tuple(_condition(c, f"condition of {op}") for c in d["conditions"]),
        requires=tuple(_condition(c, f"requires of {op}") for c in d["requires"]),
        host=tuple(_host_value(h, op) for h in d["host"]),
        programs=tuple(programs), variant_programs=tuple(d["variant_programs"]), classes=tuple(classes),
        bench_attrs=tuple((b["name"], b["py"]) for b in (_take(b, {"name", "py"}, f"bench attr of {op}")
                                                          for b in d["bench_attrs"])))


@dataclass(frozen=True)
class OptimizerDetails:
    """An optimizer op's record (Op.details): its update programs, state and classes."""
    optimizer: OptimizerSpec


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> OptimizerDetails:
    return OptimizerDetails(_optimizer(derived["optimizer"], d["name"]))


def _info(op: Any) -> tuple[tuple[str, str], ...]:
    """The torch.optim.Optimizer classes over the step."""
    return (("optimizers", ", ".join(c.name for c in op.optimizer.classes) or "-"),)


class OptimizerOp:
    """What an optimizer op adds to Op for its templates: the arguments of its step call.
    Op reaches these through KindModel.view."""

    def __init__(self, op: Any) -> None:
        self.op = op

    def __getattr__(self, name: str) -> Any:  # the op's own fields and properties
        return getattr(self.op, name)

    @property
    def optimizer_call_args(self) -> tuple[str, ...]:
        """An optimizer op's arguments by name: its tensor lists, then its attrs."""
        return (*self.optimizer.lists, *self.attr_names)


MODELS = {"optimizer": KindModel(
    frozenset({"optimizer"}), _build, package_modules=("optim",), info=_info, view=OptimizerOp,
    # A step updates tensors in place, outside autograd; the package exports it and its optimizer classes.
    autograd=False, exports=lambda op: (op.name, *(c.name for c in op.optimizer.classes)))}
