"""gemm and conv: the matmul or convolution, its bias and the activations of its epilogue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..expr import decode_body
from ..model import ExprBody, _take
from . import KindModel, backward_note


@dataclass(frozen=True)
class Activation:
    """One activation an epilogue can apply (semantics/core/activation.pl): C++ over V for the forward
    (over z, the pre-activation) and for its gradient (over g and z, or g and y)."""
    name: str
    body: ExprBody
    grad: ExprBody
    grad_from: str  # "output": the gradient reads the output y; "preact": it reads the pre-activation z
    cublaslt: str  # the cuBLASLt epilogue computing it ("RELU", "GELU", "DEFAULT"), "" if none
    module: str  # the torch module it replaces, as Python
    reference: str  # the torch function, a format string over the pre-activation
    # What a backward test differentiates for an activation with a kink (relu), a format string over {z} and the
    # op's own output {y}: the side of the kink the op's forward chose. "" when smooth: the reference itself.
    backward_reference: str
    grad_text: str = ""  # the gradient g * d act/dz as an expression (grimoire info)

    @property
    def cublaslt_bias_only(self) -> bool:
        """Whether cuBLASLt's epilogue for it adds only the bias (DEFAULT): the identity activation."""
        return self.cublaslt == "DEFAULT"

    @property
    def cublaslt_relu(self) -> bool:
        """Whether cuBLASLt's RELU epilogue computes it (which keeps no pre-activation)."""
        return self.cublaslt == "RELU"

    @property
    def cublaslt_gelu(self) -> bool:
        """Whether cuBLASLt's GELU epilogue computes it (GELU_AUX keeps the pre-activation)."""
        return self.cublaslt == "GELU"

    @property
    def is_none(self) -> bool:
        """Whether this is the identity activation ("none"): the epilogue applies nothing."""
        return self.name == "none"

    @property
    def reads_preact(self) -> bool:
        """Whether the gradient reads the pre-activation z (else the output y): the op must keep z."""
        return self.grad_from == "preact"

    def reference_of(self, expr: str) -> str:
        return self.reference.replace("{}", expr)

    def backward_reference_of(self, z: str, y: str) -> str:
        if not self.backward_reference:
            return self.reference_of(z)
        return self.backward_reference.replace("{z}", z).replace("{y}", y)


@dataclass(frozen=True)
class ConvSpec:
    """What a conv op's product reads: the attrs giving stride, padding, dilation and groups, or constants."""
    stride: str
    padding: str
    dilation: str
    groups: str


@dataclass(frozen=True)
class Epilogue:
    """A product (gemm: linear or matmul; conv: conv2d) followed by an optional bias and an activation."""
    layout: str  # linear (a @ b^T, b [out, in]) | matmul (a @ b) | conv2d
    a: str
    b: str
    bias: str  # the bias input, "" for none
    activations: tuple[Activation, ...]
    act_attr: str  # the choice attr picking the activation at run time, "" when fixed
    needs_preact: bool  # the op returns the pre-activation for the backward as a second output
    conv: Optional[ConvSpec] = None

    @property
    def fixed(self) -> Optional[Activation]:
        return None if self.act_attr else self.activations[0]

    def activation(self, name: str) -> Activation:
        return next(a for a in self.activations if a.name == name)

    @property
    def operands(self) -> tuple[str, ...]:
        return (self.a, self.b, self.bias) if self.bias else (self.a, self.b)

    @property
    def n_operands(self) -> int:
        """The tensors the op takes, so the gradients its backward gives."""
        return len(self.operands)

    @property
    def linear(self) -> bool:
        """Whether b is a Linear weight [out, in], read transposed."""
        return self.layout == "linear"

    @property
    def activation_names(self) -> tuple[str, ...]:
        """The names of the activations the epilogue can apply, in the spec's order."""
        return tuple(a.name for a in self.activations)

    @property
    def no_activation(self) -> bool:
        """Whether the op applies no activation at all (its one fixed activation is none): a plain product."""
        return bool(self.fixed) and self.fixed.is_none


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


@dataclass(frozen=True)
class GemmDetails:
    """A gemm or conv op's record (Op.details): its product and epilogue."""
    epilogue: Epilogue


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> GemmDetails:
    return GemmDetails(_epilogue(derived["epilogue"], d["name"]))


def _info(op: Any) -> tuple[tuple[str, str], ...]:
    """The matmul's (or convolution's) gradients times each activation's: the activations'."""
    return backward_note(op, tuple((f"act {a.name}", f"dL/dz = {a.grad_text}  (g the incoming gradient; over "
                                                     f"{'the pre-activation z' if a.grad_from == 'preact' else 'the output y'})")
                                   for a in op.epilogue.activations))


class GemmOp:
    """What a gemm or conv op adds to Op for its templates: its activations and the arguments its
    wrapper passes on. Op reaches these through KindModel.view."""

    def __init__(self, op: Any) -> None:
        self.op = op

    def __getattr__(self, name: str) -> Any:  # the op's own fields and properties
        return getattr(self.op, name)

    @property
    def activation_names(self) -> tuple[str, ...]:
        """The op's activations, the one it applies by default first."""
        ep = self.epilogue
        default = next((a.default for a in self.attrs if a.name == ep.act_attr and a.default), ep.activations[0].name)
        return (default, *(a.name for a in ep.activations if a.name != default))

    @property
    def epilogue_call_args(self) -> tuple[str, ...]:
        """The op's arguments as its Python wrapper passes them on: the operands, then the attrs."""
        return (*self.epilogue.operands, *self.attr_names)


class ConvOp(GemmOp):
    """What a conv op adds to a gemm op's view for its templates: its geometry attrs."""

    @property
    def conv_padding_is_attr(self) -> bool:
        """Whether a conv op's padding is an attr a call may set (a spec may fix it)."""
        return self.epilogue.conv.padding in self.attr_names

    @property
    def conv_geometry_attrs(self) -> tuple[str, ...]:
        """A conv op's attrs among its stride, padding, dilation and groups: those a call may set (a spec may
        fix the others)."""
        cv = self.epilogue.conv
        return tuple(g for g in (cv.stride, cv.padding, cv.dilation, cv.groups) if g in self.attr_names)


MODELS = {
    # The CUDA matmul switch (package/_gemm.py, package/csrc/gemm_backend.cpp).
    "gemm": KindModel(frozenset({"epilogue"}), _build, info=_info, view=GemmOp,
                      package_exports=(("_gemm", ("current_gemm_backend", "gemm_backend")),)),
    "conv": KindModel(frozenset({"epilogue"}), _build, info=_info, view=ConvOp),
}
