"""optimizer: the update program for each combination of its conditions, state, host values and classes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..expr import Body, decode, decode_cond, decode_host, decode_lets
from ..model import (
    ClassParam,
    Condition,
    HostValue,
    ModelError,
    OptimizerClass,
    OptimizerSpec,
    Program,
    ProgramRule,
    TensorUse,
    _take,
)
from . import KindModel


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


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> dict[str, Any]:
    return {"optimizer": _optimizer(derived["optimizer"], d["name"])}


def _info(op: Any) -> tuple[tuple[str, str], ...]:
    """The torch.optim.Optimizer classes over the step."""
    return (("optimizers", ", ".join(c.name for c in op.optimizer.classes) or "-"),)


MODELS = {"optimizer": KindModel(frozenset({"optimizer"}), _build, package_modules=("optim",), info=_info)}
