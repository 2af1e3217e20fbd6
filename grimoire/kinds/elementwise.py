"""elementwise: the forward and each input's gradient as C++ bodies, the torch reference, variants."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model import CppBody, Gradient, _take
from . import KindModel


def _body(d: Mapping[str, Any]) -> CppBody:
    return CppBody(tuple(d["lets"]), d["result"])


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> dict[str, Any]:
    return {
        "forward": _body(derived["forward_cpp"]),
        "reference_py": derived["reference_py"],
        "gradients": tuple(
            Gradient(g["input"], _body(g), g["expr"], bool(g["derived"]))
            for g in (_take(g, {"input", "lets", "result", "expr", "derived"}, f"gradient of {d['name']}")
                      for g in derived["gradients"])),
        "out_schema": derived["out_schema"],
        "variants": tuple(derived["variants"]),
    }


MODELS = {"elementwise": KindModel(frozenset({"forward_cpp", "reference_py", "gradients", "out_schema", "variants"}),
                                   _build, derives_backward=True)}
