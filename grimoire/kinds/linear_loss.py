"""linear_loss: which inputs are x, the weight and the bias, and the loss the op chunks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model import LinearLoss, _take
from . import KindModel


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


MODELS = {"linear_loss": KindModel(frozenset({"linear_loss", "forward_grad_schema"}), _build, info=_info)}
