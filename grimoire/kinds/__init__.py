"""The model of each bundled kind: which components its rules derive beyond the common ones, the record
it makes of them (op.details), and its answers to the questions the core asks every op (the hooks
below; grimoire/model.py builds everything else and names no kind). A kind with no entry here, one a
project defines, hands its templates what its rules derive as op.derived and gets the neutral answers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any


def backward_note(op: Any, rows: tuple[tuple[str, str], ...] = ()) -> tuple[tuple[str, str], ...]:
    """`grimoire info`'s rows on an op's gradients: `rows`, or where there are none and the op is
    differentiable, a row saying its kind's kernels compute them."""
    if rows or not op.differentiable:
        return rows
    return (("gradients", f"the {op.kind} kind's backward kernels (not derived from an expression)"),)


@dataclass(frozen=True)
class KindModel:
    keys: frozenset[str]  # the derived components the kind's rules give every op of it
    # The kind's own record of an op (Op.details, whose fields Op answers for) from the op's exported
    # data and those components (validated: exactly `keys`); None for a kind with nothing of its own.
    build: Callable[[Mapping[str, Any], Mapping[str, Any], Path], Any] = lambda d, derived, root: None
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
    # The rows `grimoire info` shows for an op of the kind beyond the common ones: (label, text); a row
    # labelled as a common one ("python") replaces it there.
    info: Callable[[Any], tuple[tuple[str, str], ...]] = backward_note
    # Kinds whose package-wide files this kind's build on, rendered with it (without their ops' parts).
    uses_packages: tuple[str, ...] = ()
    # What an op of the kind adds to Op for the kind's templates: a class taking the op, whose
    # attributes Op answers for where it and its record have none (op.stream_sharing of a rowwise op).
    view: type | None = None

    # What the core asks of every op (Op's properties of the same names, and the extension-wide files
    # that shared templates render from them), with the answers of a kind that has none of it.
    # Whether the op's autograd is a C++ torch::autograd::Function over one <op>_backward call.
    cpp_autograd: Callable[[Any], bool] = lambda op: False
    # The inputs <op>_backward returns gradients for, in its order.
    grad_inputs: Callable[[Any], tuple[str, ...]] = lambda op: op.differentiable
    # The outputs a C++ autograd function saves for the backward beside the inputs.
    saved_outputs: Callable[[Any], tuple[str, ...]] = lambda op: ()
    # What the forward stores of its input's gradient (a model.StoredGrad), None where it stores none.
    stored_grad: Callable[[Any], Any] = lambda op: None
    # The schemas the op defines beyond its own, its backward's and its composite's, in order.
    extra_schemas: Callable[[Any], tuple[str, ...]] = lambda op: ()
    # The names the package exports for the op.
    exports: Callable[[Any], tuple[str, ...]] = lambda op: (op.module, op.name)
    # The op's index inputs (int64 class indices, checked against their bounds: index_checks).
    index_inputs: Callable[[Any], tuple[str, ...]] = lambda op: ()
    # The value, as Python, of an attr (model.Attr) the op's tests call it with, and the Python tuple of
    # values its property tests draw the attr from.
    test_value: Callable[[Any, Any], str] = lambda op, a: a.off_default
    attr_draws: Callable[[Any, Any], str] = lambda op, a: a.draws
    # Checks the extension's ops (all of them, sorted by name) together: raises SpecError.
    check_ops: Callable[[tuple[Any, ...]], None] = lambda ops: None
    # Whether the kind's ops are differentiated through autograd at all (an optimizer step is not).
    autograd: bool = True
    # Whether the op's kernels are the user's own sources (csrc/<op>.cpp, .cu), which the build compiles
    # beside the generated ones.
    user_kernels: bool = False


# The answers for an op of a kind no bundled model knows (a project's own).
NEUTRAL = KindModel(frozenset())



@functools.cache
def models() -> Mapping[str, KindModel]:
    """Every bundled kind's model, by kind."""
    from . import attention, custom, elementwise, gemm, linear_loss, optimizer, rowwise

    return MappingProxyType({**attention.MODELS, **custom.MODELS, **elementwise.MODELS, **gemm.MODELS,
                             **linear_loss.MODELS, **optimizer.MODELS, **rowwise.MODELS})


def model_of(kind: str) -> KindModel:
    """The kind's model, NEUTRAL for a kind grimoire has none for."""
    return models().get(kind, NEUTRAL)
