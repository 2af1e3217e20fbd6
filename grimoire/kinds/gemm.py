"""gemm and conv: the matmul or convolution, its bias and the activations of its epilogue."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..expr import decode_body
from ..model import Activation, ConvSpec, Epilogue, ExprBody, _take
from . import KindModel


def _epilogue(data: Mapping[str, Any], op: str) -> Epilogue:
    e = _take(data, {"layout", "a", "b", "bias", "activations", "act_attr", "needs_preact", "conv"},
              f"epilogue of {op}")
    acts = []
    for a in e["activations"]:
        a = _take(a, {"name", "body", "grad", "grad_from", "grad_text", "cublaslt",
                      "module", "reference", "backward_reference"}, f"activation of {op}")
        acts.append(Activation(a["name"], ExprBody(decode_body(a["body"])),
                               ExprBody(decode_body(a["grad"])), a["grad_from"], a["cublaslt"],
                               a["module"], a["reference"], a["backward_reference"], a["grad_text"]))
    conv = ConvSpec(**_take(e["conv"], {"stride", "padding", "dilation", "groups"}, f"conv of {op}")) \
        if e["conv"] else None
    return Epilogue(layout=e["layout"], a=e["a"], b=e["b"], bias=e["bias"], activations=tuple(acts),
                    act_attr=e["act_attr"], needs_preact=bool(e["needs_preact"]), conv=conv)


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> dict[str, Any]:
    return {"epilogue": _epilogue(derived["epilogue"], d["name"])}


def _info(op: Any) -> tuple[tuple[str, str], ...]:
    """The matmul's (or convolution's) gradients times each activation's: the activations'."""
    return tuple((f"act {a.name}", f"dL/dz = {a.grad_text}  (g the incoming gradient; over "
                                   f"{'the pre-activation z' if a.grad_from == 'preact' else 'the output y'})")
                 for a in op.epilogue.activations)


MODELS = {
    # The CUDA matmul switch (package/_gemm.py, package/csrc/gemm_backend.cpp).
    "gemm": KindModel(frozenset({"epilogue"}), _build, info=_info,
                      package_exports=(("_gemm", ("current_gemm_backend", "gemm_backend")),)),
    "conv": KindModel(frozenset({"epilogue"}), _build, info=_info),
}
