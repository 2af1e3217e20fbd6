"""The model of each bundled kind: which components its rules derive beyond the common ones, and the
typed Op fields it makes of them (grimoire/model.py builds everything else). A kind with no entry
here, one a project defines, hands its templates what its rules derive as op.derived."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class KindModel:
    keys: frozenset[str]  # the derived components the kind's rules give every op of it
    # Op fields from the op's exported data and those components (validated: exactly `keys`).
    build: Callable[[Mapping[str, Any], Mapping[str, Any], Path], dict[str, Any]] = lambda d, derived, root: {}
    # The rules derive the backward: a differentiable op of the kind must have one.
    derives_backward: bool = False
    # Components an op of such a kind lacks when nothing of it is differentiable, with their value then.
    without_backward: Mapping[str, Any] = field(default_factory=dict)
    # Names the package exports from the kind's package-wide modules (templates/kinds/<kind>/package/),
    # as (module, names): the extension's __init__.py imports them where it has ops of the kind.
    package_exports: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Public submodules among those package-wide files (the optimizer kind's optim.py): __init__.py
    # imports each as a module of the package where it has ops of the kind.
    package_modules: tuple[str, ...] = ()
    # The rows `grimoire info` shows for an op of the kind beyond the common ones: (label, text).
    info: Callable[[Any], tuple[tuple[str, str], ...]] = lambda op: ()
    # Kinds whose package-wide files this kind's build on, rendered with it (without their ops' parts).
    uses_packages: tuple[str, ...] = ()
    # What an op of the kind adds to Op for the kind's templates: a class taking the op, whose
    # attributes Op answers for where it has none of its own (op.stream_sharing of a rowwise op).
    view: type | None = None


@functools.cache
def models() -> Mapping[str, KindModel]:
    """Every bundled kind's model, by kind."""
    from . import attention, custom, elementwise, gemm, linear_loss, optimizer, rowwise

    return MappingProxyType({**attention.MODELS, **custom.MODELS, **elementwise.MODELS, **gemm.MODELS,
                             **linear_loss.MODELS, **optimizer.MODELS, **rowwise.MODELS})
