"""linear_loss: which inputs are x, the weight and the bias, and the loss the op chunks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, SpecError
from ..model import _take
from . import KindModel


@dataclass(frozen=True)
class LinearLoss:
    """A linear_loss op: loss(x @ weight^T + bias, *rest) with `loss` a rowwise loss of the extension."""
    loss: str  # the rowwise loss op
    x: str
    weight: str
    rest: tuple[str, ...]  # the loss's other inputs (its index inputs)
    bias: str  # "" for none
    forward_grad_schema: str

    @property
    def tensors(self) -> tuple[str, ...]:
        """The op's tensor arguments in its schema's order: x, the weight, the loss's others, the bias."""
        return (self.x, self.weight, *self.rest, *((self.bias,) if self.bias else ()))

    @property
    def n_tensors(self) -> int:
        """The op's tensor arguments: its attrs follow them among the autograd function's inputs."""
        return len(self.tensors)

    @property
    def bias_index(self) -> int:
        """The bias's position among the tensors (the last), where there is one."""
        return len(self.tensors) - 1


@dataclass(frozen=True)
class LinearLossDetails:
    """A linear_loss op's record (Op.details)."""
    linear_loss: LinearLoss


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> LinearLossDetails:
    ll = _take(derived["linear_loss"], {"loss", "x", "weight", "rest", "bias"}, f"linear_loss of {d['name']}")
    return LinearLossDetails(LinearLoss(loss=ll["loss"], x=ll["x"], weight=ll["weight"], rest=tuple(ll["rest"]),
                                        bias=ll["bias"], forward_grad_schema=derived["forward_grad_schema"]))


def _check(ops: tuple[Any, ...]) -> None:
    """A linear_loss op's chunk step is its loss's <loss>_loss_grad_into, which a rowwise per_row_loss has (its
    CUDA kernel where the loss has CUDA kernels); the kernels of each dtype the op lists must exist for the loss."""
    by_name = {op.name: op for op in ops}
    problems = []
    for op in ops:
        if op.kind != "linear_loss":
            continue
        loss = by_name[op.linear_loss.loss]
        if loss.kind != "rowwise" or not loss.per_row_loss:
            problems.append(Diagnostic(op.location.file, op.location.line,
                                       f"the loss '{loss.name}' of '{op.name}' is not one a linear_loss op can "
                                       "chunk: it needs one value per row of one element input, a backward that "
                                       "reads no output, and no column gradients."))
        elif "cuda" in op.devices and not loss.grad_in_forward:
            problems.append(Diagnostic(op.location.file, op.location.line,
                                       f"'{op.name}' runs on cuda, but its loss '{loss.name}' has no CUDA kernels: "
                                       f"add cuda to the devices of '{loss.name}', or remove it here."))
        for dev in op.devices:
            missing = [t for t in op.dtypes_on(dev) if t not in loss.dtypes_on(dev)]
            if missing:
                problems.append(Diagnostic(op.location.file, op.location.line,
                                           f"'{op.name}' lists {', '.join(missing)} on {dev}, which its loss "
                                           f"'{loss.name}' has no {dev} kernel for: remove them."))
    if problems:
        raise SpecError(problems)


def _info(op: Any) -> tuple[tuple[str, str], ...]:
    """The loss's gradient over the logits, through the matmul."""
    ll = op.linear_loss
    return (("gradients", f"G = d{ll.loss}/dlogits (each chunk's, from the loss's kernels); "
                          f"d/d{ll.x} = G @ {ll.weight}, d/d{ll.weight} = G^T @ {ll.x}"
                          + (f", d/d{ll.bias} = sum of G over rows" if ll.bias else "")),)


class LinearLossOp:
    """What a linear_loss op adds to Op for its templates: the attrs a chunk's loss call takes.
    Op reaches these through KindModel.view."""

    def __init__(self, op: Any) -> None:
        self.op = op

    def __getattr__(self, name: str) -> Any:  # the op's own fields and properties
        return getattr(self.op, name)

    @property
    def chunked_attr_names(self) -> tuple[str, ...]:
        """A linear_loss op's Python non-tensor arguments: its attrs, then chunk_rows (the rows per chunk,
        the wrapper's own; the kernels never see it)."""
        return (*self.attr_names, "chunk_rows")

    def attr_names_but(self, name: str) -> tuple[str, ...]:
        """The op's attr names less one: what it passes its loss, all but the reduction."""
        return tuple(a for a in self.attr_names if a != name)


MODELS = {"linear_loss": KindModel(frozenset({"linear_loss", "forward_grad_schema"}), _build, info=_info,
                                   view=LinearLossOp, check_ops=_check,
                                   extra_schemas=lambda op: (op.linear_loss.forward_grad_schema,))}
