"""rowwise: the roles of the inputs in a row, the loss, and the planned passes of forward and backward."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model import (
    Loss,
    RowCached,
    RowFinal,
    RowLet,
    RowOutput,
    RowPass,
    RowPlan,
    RowRoles,
    RowStat,
    RowTarget,
    _freeze,
    _take,
)
from . import KindModel

_BODY = {"params", "scalars", "lets", "results"}


def _body(d: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(d[k]) for k in _BODY}


def _final(d: Mapping[str, Any] | None, what: str) -> RowFinal | None:
    if d is None:
        return None
    f = _take(d, _BODY | {"targets"}, what)
    return RowFinal(**_body(f), targets=tuple(RowTarget(**_take(t, {"kind", "name"}, what)) for t in f["targets"]))


def _plan(d: Mapping[str, Any] | None, what: str) -> RowPlan | None:
    """A planned sweep over a row, typed; None where the op has none (a backward of nothing)."""
    if d is None:
        return None
    p = _take(d, {"pre", "passes", "final", "cached", "row_outputs"}, what)
    passes = []
    for q in p["passes"]:
        q = _take(q, _BODY | {"stats", "lets_after"}, f"pass of {what}")
        passes.append(RowPass(**_body(q), stats=tuple(RowStat(**_take(st, {"name", "reduction"}, what))
                                                      for st in q["stats"]),
                              lets_after=tuple(RowLet(**_take(x, {"name", "code"}, what)) for x in q["lets_after"])))
    cached = None
    if p["cached"] is not None:
        c = _take(p["cached"], {"pass", "index", "final"}, f"cached final of {what}")
        cached = RowCached(pass_index=c["pass"], index=c["index"], final=_final(c["final"], what))
    return RowPlan(pre=tuple(RowLet(**_take(x, {"name", "code"}, what)) for x in p["pre"]), passes=tuple(passes),
                   final=_final(p["final"], what), cached=cached,
                   row_outputs=tuple(RowOutput(**_take(o, {"target", "code"}, what)) for o in p["row_outputs"]))


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> dict[str, Any]:
    roles = _take(derived["row_roles"], {"element", "column", "index", "ignore", "output_is_element",
                                         "scalar_attrs", "column_init"}, f"row roles of {d['name']}")
    loss = derived["loss"]
    return {
        "reference_py": derived["reference_py"],
        "row_roles": RowRoles(
            element=tuple(roles["element"]), column=tuple(roles["column"]), index=tuple(roles["index"]),
            ignore=roles["ignore"], output_is_element=bool(roles["output_is_element"]),
            scalar_attrs=tuple(roles["scalar_attrs"]), column_init=_freeze(roles["column_init"])),
        "loss": Loss(**_take(loss, {"attr", "count_cpp", "count_py"}, f"loss of {d['name']}")) if loss else None,
        "forward_plan": _plan(derived["forward_plan"], f"forward plan of {d['name']}"),
        "backward_plan": _plan(derived["backward_plan"], f"backward plan of {d['name']}"),
        "row_gradients": _freeze(derived["gradients_text"]),
        "saved_outputs": tuple(d["outputs"][:1]) if derived["reads_output"] else (),
    }


MODELS = {"rowwise": KindModel(frozenset({"row_roles", "loss", "reference_py", "forward_plan", "backward_plan",
                                          "gradients_text", "reads_output"}),
                               _build, derives_backward=True, without_backward={"backward_plan": None})}
