"""custom: a user-written kernel's output shapes, sample inputs and Python reference."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..diagnostics import Diagnostic, SpecError
from ..emit import cpp as emit_cpp
from ..model import Attr, _attr_params, _take, _tensors, relative
from . import KindModel, backward_note


@dataclass(frozen=True)
class Dim:
    """One size of a custom op's output: a literal, or the size of an input's dim."""
    size: Optional[int]
    input: Optional[str]
    dim: int

    def cpp(self) -> str:
        return str(self.size) if self.input is None else f"{self.input}.size({self.dim})"

    def py(self) -> str:
        return str(self.size) if self.input is None else f"{self.input}.shape[{self.dim}]"


@dataclass(frozen=True)
class OutputShape:
    output: str
    like: Optional[str]  # the output has this input's shape ...
    dims: tuple[Dim, ...]  # ... or these sizes

    def cpp(self) -> str:
        if self.like:
            return f"{self.like}.sizes()"
        return "std::vector<int64_t>{" + ", ".join(d.cpp() for d in self.dims) + "}"

    def describe(self) -> str:
        return f"the shape of {self.like}" if self.like else "[" + ", ".join(d.cpp() for d in self.dims) + "]"

    def py(self) -> str:
        if self.like:
            return f"{self.like}.shape"
        return "(" + "".join(d.py() + ", " for d in self.dims).rstrip(" ") + ")"


@dataclass(frozen=True)
class Custom:
    """What a custom op's spec says beyond the common components: output shapes, input ranks, samples."""
    shapes: tuple[OutputShape, ...]
    ranks: tuple[tuple[str, int], ...]  # input -> exact number of dims
    min_dims: tuple[tuple[str, int], ...]  # input -> fewest dims its size(input, d) uses allow
    samples: tuple[tuple[tuple[int, ...], ...], ...]  # per sample, one shape per input
    bench_samples: tuple[tuple[tuple[int, ...], ...], ...]

    def shape_of(self, output: str) -> OutputShape:
        return next(s for s in self.shapes if s.output == output)


@dataclass(frozen=True)
class CustomDetails:
    """A custom op's record (Op.details): its reference and what its spec says of shapes and samples."""
    reference_py: str
    custom: Custom


def _shapes(data) -> tuple[tuple[tuple[int, ...], ...], ...]:
    return tuple(tuple(tuple(shape) for shape in sample) for sample in data)


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> CustomDetails:
    c = _take(derived["custom"], {"shapes", "ranks", "min_dims", "samples", "bench_samples", "reference_line"},
              f"custom components of {d['name']}")
    shapes = tuple(
        OutputShape(s["output"], s["like"], tuple(Dim(x["size"], x["input"], x["dim"]) for x in s["dims"]))
        for s in (_take(s, {"output", "like", "dims"}, f"shape of {d['name']}") for s in c["shapes"]))
    reference = derived["reference_py"]
    _check_reference(reference, d, c["reference_line"] or d["line"], root)
    samples = _shapes(c["samples"])
    return CustomDetails(
        reference_py=reference,
        custom=Custom(shapes=shapes, ranks=tuple((r["input"], r["rank"]) for r in c["ranks"]),
                      min_dims=tuple((m["input"], m["dims"]) for m in c["min_dims"]), samples=samples,
                      bench_samples=_shapes(c["bench_samples"]) or samples[-1:]))


def _info(op: Any) -> tuple[tuple[str, str], ...]:
    """The reference; the gradients are the user's backward kernels'."""
    return (*([("reference", op.reference_py)] if op.reference_py else []), *backward_note(op))


# Builtins a reference may not name: each runs code, touches files or the interpreter's state.
_UNSAFE_BUILTINS = frozenset({"__import__", "eval", "exec", "compile", "open", "input", "breakpoint", "globals",
                              "locals", "vars", "getattr", "setattr", "delattr", "help", "exit", "quit",
                              "memoryview", "type", "object", "super", "classmethod", "staticmethod", "property"})


def _check_reference(expr: str, d: Mapping[str, Any], line: int, root: Path) -> None:
    """A custom op's reference is Python in a string: parse it here, so a typo is a spec error at its
    file:line rather than a failing generated test. Names must be inputs, attrs, torch, math or builtins."""

    def problem(message: str) -> SpecError:
        return SpecError([Diagnostic(relative(d["file"], root), line, f"reference of '{d['name']}': {message}")])

    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise problem(f"not a Python expression ({exc.msg} at column {exc.offset}): {expr}") from None
    # A spec is data: the reference may compute, never reach the interpreter (imports, eval, files, the
    # object graph through dunder attributes).
    for n in ast.walk(tree):
        name = n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else None
        dunder = name is not None and name.startswith("__") and name.endswith("__")
        if dunder or (isinstance(n, ast.Name) and name in _UNSAFE_BUILTINS):
            raise problem(f"'{name}' is not allowed: a reference computes the outputs from the inputs and attrs "
                          "with torch, math and plain Python, and reaches nothing else")
    known = set(d["inputs"]) | {a["name"] for a in d["attrs"]} | {"torch", "math"} | set(dir(builtins))
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in n.args.args}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in known | bound:
            raise problem(f"unknown name '{n.id}' (known: {', '.join(d['inputs'] + [a['name'] for a in d['attrs']])}, "
                          "torch, math)")


class CustomOp:
    """What a custom op adds to Op for its templates: its kernels' entry points and values, the
    inputs its checks take, its tests' attrs.
    Op reaches these through KindModel.view."""

    def __init__(self, op: Any) -> None:
        self.op = op

    def __getattr__(self, name: str) -> Any:  # the op's own fields and properties
        return getattr(self.op, name)

    # A custom op's C++: the kernels the user writes (their header and both wrappers spell them from
    # these, so they cannot disagree) and the generated wrappers around them.
    @property
    def custom_forward_kernel(self) -> emit_cpp.Signature:
        """forward_<device>: the inputs, the attrs, then the outputs it fills."""
        return emit_cpp.Signature((*_tensors("const at::Tensor&", self.inputs), *_attr_params(self.attrs),
                                   *_tensors("at::Tensor&", self.outputs)))

    @property
    def custom_backward_kernel(self) -> emit_cpp.Signature:
        """backward_<device>: the outputs' gradients, the inputs, the outputs, the attrs, then the gradients
        it fills."""
        return emit_cpp.Signature((*_tensors("const at::Tensor&", self.outputs, "grad_"),
                                   *_tensors("const at::Tensor&", self.inputs),
                                   *_tensors("const at::Tensor&", self.outputs), *_attr_params(self.attrs),
                                   *_tensors("at::Tensor&", self.differentiable, "grad_")))

    @property
    def custom_checked(self) -> emit_cpp.Signature:
        """The wrappers' check_inputs: the inputs."""
        return emit_cpp.Signature(_tensors("const at::Tensor&", self.inputs))

    @property
    def custom_given_inputs(self) -> emit_cpp.Signature:
        """The wrappers' inputs as given (tmp_<input>), made contiguous inside."""
        return emit_cpp.Signature(_tensors("const at::Tensor&", self.inputs, "tmp_"))

    @property
    def custom_forward_entry(self) -> emit_cpp.Signature:
        """The forward wrapper: the inputs as given and the attrs."""
        return self.custom_given_inputs + emit_cpp.Signature(_attr_params(self.attrs))

    @property
    def custom_backward_entry(self) -> emit_cpp.Signature:
        """The backward wrapper: the outputs' gradients, the inputs and the outputs as given, and the attrs."""
        return emit_cpp.Signature((*_tensors("const at::Tensor&", self.outputs, "tmp_grad_"),
                                   *_tensors("const at::Tensor&", self.inputs, "tmp_"),
                                   *_tensors("const at::Tensor&", self.outputs, "tmp_"), *_attr_params(self.attrs)))

    @property
    def inputs_and_outputs(self) -> tuple[str, ...]:
        """The op's tensors, inputs then outputs: its backward is given both."""
        return (*self.inputs, *self.outputs)

    @property
    def custom_forward_value(self) -> str:
        return emit_cpp.tensors_value(self.outputs)

    @property
    def custom_backward_value(self) -> str:
        return emit_cpp.tensors_value("grad_" + i for i in self.differentiable)

    @property
    def custom_test_attrs(self) -> tuple[tuple[str, str], ...]:
        """(name, Python value) of the attrs a custom op's tests call it with (the optional ones keep their
        default): floats off their defaults, so a kernel that ignores one fails; the others at their
        defaults (1 and True where there is none)."""
        def value(a: Attr) -> str:
            if a.type == "float":
                return repr((a.default or 1.0) * 0.5 + 0.25)
            if a.type == "int":
                return repr(a.default if a.has_default else 1)
            return repr(a.default if a.has_default else True)
        return tuple((a.name, value(a)) for a in self.attrs if not a.optional)


MODELS = {"custom": KindModel(frozenset({"reference_py", "custom"}), _build, info=_info, view=CustomOp,
                              user_kernels=True)}
