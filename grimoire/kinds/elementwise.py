"""elementwise: the forward and each input's gradient as expression trees, the torch reference, variants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..emit import python as emit_py
from ..expr import decode, decode_body
from ..model import ExprBody, _take
from . import KindModel, backward_note


@dataclass(frozen=True)
class Gradient:
    input: str
    body: ExprBody
    expr: str  # the gradient expression as Prolog printed it, for comments and docs
    derived: bool  # True when differentiated from the forward, False when the spec overrides it

    @property
    def cpu_kernel(self) -> str:
        """The elementwise CPU kernel computing this gradient."""
        return f"backward_{self.input}_kernel"

    @property
    def functor(self) -> str:
        """The elementwise CUDA functor computing this gradient."""
        return f"Backward_{self.input}"



@dataclass(frozen=True)
class ElementwiseDetails:
    """An elementwise op's record (Op.details): the forward and its gradients as expressions."""
    forward: ExprBody
    reference_py: str
    gradients: tuple[Gradient, ...]
    out_schema: str  # with the out variant: the schema of <op>_out, which writes a caller's tensor; else ""
    variants: tuple[str, ...]  # out (op(..., out=t)) and/or inplace (op_(x, ...))


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> ElementwiseDetails:
    return ElementwiseDetails(
        forward=ExprBody(decode_body(derived["forward"])),
        reference_py=emit_py.expr(decode(derived["reference"])),
        gradients=tuple(
            Gradient(g["input"], ExprBody(decode_body(g["body"])), g["expr"], bool(g["derived"]))
            for g in (_take(g, {"input", "body", "expr", "derived"}, f"gradient of {d['name']}")
                      for g in derived["gradients"])),
        out_schema=derived["out_schema"],
        variants=tuple(derived["variants"]),
    )


def _info(op: Any) -> tuple[tuple[str, str], ...]:
    """The Python call with its out= keyword, the in-place and out= forms, the reference and each gradient."""
    return (*([("python", f"{op.name}({op.python_signature}, *, out=None)")] if op.out_form else []),
            *([("in place", f"{op.name}_({op.python_signature}): writes {op.inputs[0]}")] if op.inplace_form else []),
            *([("out schema", op.out_schema)] if op.out_schema else []),
            *([("reference", op.reference_py)] if op.reference_py else []),
            *backward_note(op, tuple((f"d/d{g.input}", g.expr + ("" if g.derived else "  (given in the spec)"))
                                     for g in op.gradients)))


def _exports(op: Any) -> tuple[str, ...]:
    """The function and the module, and the in-place function op_ where the op has that variant."""
    return (op.module, op.name, *([op.name + "_"] if op.inplace_form else []))


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
    def out_form(self) -> bool:
        """Whether the op has an out= form (<op>_out)."""
        return "out" in self.variants

    @property
    def inplace_form(self) -> bool:
        """Whether the op has an in-place form (<op>_)."""
        return "inplace" in self.variants

    @property
    def single_gradient(self) -> bool:
        """Whether an elementwise op has one gradient expression: its backward returns a tensor, not a tuple."""
        return len(self.gradients) == 1

    @property
    def several_gradients(self) -> bool:
        """Whether an elementwise op has more than one gradient expression: its backward returns a tuple."""
        return len(self.gradients) > 1


MODELS = {"elementwise": KindModel(
    frozenset({"forward", "reference", "gradients", "out_schema", "variants"}), _build, derives_backward=True,
    info=_info, view=ElementwiseOp, exports=_exports,
    # Its backward is one <op>_backward call over the gradient expressions: C++ autograd.
    cpp_autograd=lambda op: bool(op.gradients), grad_inputs=lambda op: tuple(g.input for g in op.gradients),
    extra_schemas=lambda op: (op.out_schema,))}
