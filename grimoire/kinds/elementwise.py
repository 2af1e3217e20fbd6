"""elementwise: the forward and each input's gradient as expression trees, the torch reference, variants."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..emit import python as emit_py
from ..expr import decode, decode_body
from ..model import ExprBody, Gradient, _take
from . import KindModel


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> dict[str, Any]:
    return {
        "forward": ExprBody(decode_body(derived["forward"])),
        "reference_py": emit_py.expr(decode(derived["reference"])),
        "gradients": tuple(
            Gradient(g["input"], ExprBody(decode_body(g["body"])), g["expr"], bool(g["derived"]))
            for g in (_take(g, {"input", "body", "expr", "derived"}, f"gradient of {d['name']}")
                      for g in derived["gradients"])),
        "out_schema": derived["out_schema"],
        "variants": tuple(derived["variants"]),
    }


MODELS = {"elementwise": KindModel(frozenset({"forward", "reference", "gradients", "out_schema", "variants"}),
                                   _build, derives_backward=True)}
