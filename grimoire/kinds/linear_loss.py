"""linear_loss: which inputs are x, the weight and the bias, and the loss the op chunks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> dict[str, Any]:
    ll = _take(derived["linear_loss"], {"loss", "x", "weight", "rest", "bias"}, f"linear_loss of {d['name']}")
    return {"linear_loss": LinearLoss(loss=ll["loss"], x=ll["x"], weight=ll["weight"], rest=tuple(ll["rest"]),
                                      bias=ll["bias"], forward_grad_schema=derived["forward_grad_schema"])}


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


MODELS = {"linear_loss": KindModel(frozenset({"linear_loss", "forward_grad_schema"}), _build, info=_info, view=LinearLossOp)}
