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


class ElementwiseOp:
    """What an elementwise op adds to Op for its templates: the backward kernels' parameters and
    how many gradients it has.
    Op reaches these through KindModel.view."""

    def __init__(self, op: Any) -> None:
        self.op = op

    def __getattr__(self, name: str) -> Any:  # the op's own fields and properties
        return getattr(self.op, name)

    @property
    def backward_kernel_params(self) -> tuple[str, ...]:
        """An elementwise gradient kernel's parameters: the incoming gradient, then the inputs."""
        return (self.grad_name, *self.inputs)

    @property
    def n_forward_tensors(self) -> int:
        """The tensors an elementwise forward moves, its inputs and its output: its bytes per element."""
        return len(self.inputs) + 1

    @property
    def single_gradient(self) -> bool:
        """Whether an elementwise op has one gradient expression: its backward returns a tensor, not a tuple."""
        return len(self.gradients) == 1

    @property
    def several_gradients(self) -> bool:
        """Whether an elementwise op has more than one gradient expression: its backward returns a tuple."""
        return len(self.gradients) > 1


MODELS = {"elementwise": KindModel(frozenset({"forward", "reference", "gradients", "out_schema", "variants"}),
                                   _build, derives_backward=True, view=ElementwiseOp)}
