"""rowwise: the roles of the inputs in a row, the loss, and the planned passes of forward and backward."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model import Loss, RowRoles, _freeze, _take
from . import KindModel


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
        "forward_plan": _freeze(derived["forward_plan"]),
        "backward_plan": _freeze(derived["backward_plan"]),
        "row_gradients": _freeze(derived["gradients_text"]),
        "saved_outputs": tuple(d["outputs"][:1]) if derived["reads_output"] else (),
    }


MODELS = {"rowwise": KindModel(frozenset({"row_roles", "loss", "reference_py", "forward_plan", "backward_plan",
                                          "gradients_text", "reads_output"}),
                               _build, derives_backward=True, without_backward={"backward_plan": None})}
