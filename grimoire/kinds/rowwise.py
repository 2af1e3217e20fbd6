"""rowwise: the roles of the inputs in a row, the loss, and the planned passes of forward and backward."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..emit import python as emit_py
from ..expr import decode, decode_body, decode_cond, decode_lets
from ..model import (
    Loss,
    RowCached,
    RowFinal,
    RowLet,
    RowLevel,
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


def _body(d: Mapping[str, Any]) -> dict[str, Any]:
    return {"params": tuple(d["params"]), "scalars": tuple(d["scalars"]), "let_terms": decode_lets(d["lets"]),
            "result_terms": tuple(decode(r) for r in d["results"])}


def _rowlevel(d: Mapping[str, Any], what: str) -> RowLevel:
    d = _take(d, {"body", "scalars"}, what)
    return RowLevel(decode_body(d["body"]), frozenset(d["scalars"]))


def _let(d: Mapping[str, Any], what: str) -> RowLet:
    d = _take(d, {"name", "value"}, what)
    return RowLet(d["name"], _rowlevel(d["value"], what))


def _final(d: Mapping[str, Any] | None, what: str) -> RowFinal | None:
    if d is None:
        return None
    f = _take(d, _BODY | {"targets"}, what)
    return RowFinal(**_body(f), targets=tuple(RowTarget(**_take(t, {"kind", "name"}, what)) for t in f["targets"]))


def _stats(ds: list[Mapping[str, Any]], what: str) -> tuple[RowStat, ...]:
    """A pass's statistics; an online sum of exp knows its shift's slot, and that max is folded into it."""
    ds = [_take(st, {"name", "reduction", "shift"}, what) for st in ds]
    slot = {st["name"]: i for i, st in enumerate(ds)}
    shifts = {st["shift"] for st in ds if st["shift"] is not None}
    missing = shifts - slot.keys()
    if missing:
        raise ValueError(f"{what}: an online sum's shift {sorted(missing)} is not in its pass")
    return tuple(RowStat(st["name"], st["reduction"], st["shift"],
                         slot[st["shift"]] if st["shift"] is not None else None, st["name"] in shifts)
                 for st in ds)


def _plan(d: Mapping[str, Any] | None, what: str) -> RowPlan | None:
    """A planned sweep over a row, typed; None where the op has none (a backward of nothing)."""
    if d is None:
        return None
    p = _take(d, {"pre", "passes", "final", "cached", "row_outputs"}, what)
    passes = []
    for q in p["passes"]:
        q = _take(q, _BODY | {"stats", "lets_after", "guard"}, f"pass of {what}")
        passes.append(RowPass(**_body(q), stats=_stats(q["stats"], what),
                              lets_after=tuple(_let(x, what) for x in q["lets_after"]),
                              guard=decode_cond(q["guard"]) if q["guard"] is not None else None))
    cached = None
    if p["cached"] is not None:
        c = _take(p["cached"], {"pass", "index", "final"}, f"cached final of {what}")
        cached = RowCached(pass_index=c["pass"], index=c["index"], final=_final(c["final"], what))
    return RowPlan(pre=tuple(_let(x, what) for x in p["pre"]), passes=tuple(passes),
                   final=_final(p["final"], what), cached=cached,
                   row_outputs=tuple(RowOutput(o["target"], _rowlevel(o["value"], what))
                                     for o in (_take(o, {"target", "value"}, what) for o in p["row_outputs"])))


def _loss(d: Mapping[str, Any], what: str) -> Loss:
    d = _take(d, {"attr", "count"}, what)
    return Loss(d["attr"], _rowlevel(d["count"], what) if d["count"] is not None else None)


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> dict[str, Any]:
    roles = _take(derived["row_roles"], {"element", "column", "index", "ignore", "output_is_element",
                                         "scalar_attrs", "column_init"}, f"row roles of {d['name']}")
    loss = derived["loss"]
    return {
        "reference_py": emit_py.row_expr(decode(derived["reference"])),
        "row_roles": RowRoles(
            element=tuple(roles["element"]), column=tuple(roles["column"]), index=tuple(roles["index"]),
            ignore=roles["ignore"], output_is_element=bool(roles["output_is_element"]),
            scalar_attrs=tuple(roles["scalar_attrs"]), column_init=_freeze(roles["column_init"])),
        "loss": _loss(loss, f"loss of {d['name']}") if loss else None,
        "forward_plan": _plan(derived["forward_plan"], f"forward plan of {d['name']}"),
        "backward_plan": _plan(derived["backward_plan"], f"backward plan of {d['name']}"),
        "online_forward_plan": _plan(derived["online_forward_plan"], f"online forward plan of {d['name']}"),
        "online_backward_plan": _plan(derived["online_backward_plan"], f"online backward plan of {d['name']}"),
        "row_gradients": _freeze(derived["gradients_text"]),
        "saved_outputs": tuple(d["outputs"][:1]) if derived["reads_output"] else (),
    }


def _info(op: Any) -> tuple[tuple[str, str], ...]:
    """Each input's gradient over the row (sum/mean: row reductions), derived or given."""
    return tuple((f"d/d{g['input']}", g["expr"] + ("" if g["derived"] else "  (given in the spec)"))
                 for g in (op.row_gradients or ()))


MODELS = {"rowwise": KindModel(frozenset({"row_roles", "loss", "reference", "forward_plan", "backward_plan",
                                          "online_forward_plan", "online_backward_plan", "gradients_text",
                                          "reads_output", "value_names"}),
                               _build, derives_backward=True, info=_info,
                               without_backward={"backward_plan": None, "online_backward_plan": None})}
