"""Stage 2 — model: the exported knowledge as typed, frozen dataclasses.

Loaders take exactly the keys they know and reject leftovers, so a drift between the Prolog export
and this module fails loudly here rather than as a template error later. What is particular to a kind
is loaded by its model in grimoire/kinds/; this module names no kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

from .diagnostics import Diagnostic, SpecError
from .emit import cpp as emit_cpp
from .emit.cpp import Param
from .expr import Body
from .knowledge import Knowledge, SourceFile

if TYPE_CHECKING:  # the kinds' own records, which grimoire/kinds/ defines and loads
    from .kinds.custom import Custom
    from .kinds.gemm import Epilogue
    from .kinds.linear_loss import LinearLoss
    from .kinds.optimizer import OptimizerSpec
    from .kinds.rowwise import Loss, RowPlan, RowRoles, RowTarget


DTYPES = {"float32": "torch.float32", "float64": "torch.float64",
          "float16": "torch.float16", "bfloat16": "torch.bfloat16"}
SCALAR_TYPES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16"}


class ModelError(Exception):
    pass


def _take(data: Mapping[str, Any], keys: set[str], what: str) -> dict[str, Any]:
    extra = set(data) - keys
    missing = keys - set(data)
    if extra or missing:
        raise ModelError(f"{what}: unexpected keys {sorted(extra)}, missing keys {sorted(missing)}")
    return dict(data)


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class BenchBar:
    """A bar the benchmark report checks the generated op against (bench_bar): on `device`, its `pass_`
    at `shape` runs at least `ratio` times as fast as the peer `peer`."""
    device: str
    pass_: str
    shape: tuple[int, ...]
    peer: str
    ratio: float


@dataclass(frozen=True)
class Attr:
    name: str
    type: str  # float | int | bool | float? | int? | str (a choice among `choices`)
    has_default: bool
    default: Any
    choices: tuple[str, ...] = ()

    @property
    def optional(self) -> bool:
        return self.type.endswith("?")

    @property
    def cpp_type(self) -> str:
        base = {"float": "double", "int": "int64_t", "bool": "bool", "str": "c10::string_view"}[self.type.rstrip("?")]
        return f"std::optional<{base}>" if self.optional else base

    @property
    def ivalue_getter(self) -> str:
        """The c10::IValue accessor that reads the attr back as cpp_type (a str's gives the std::string)."""
        base = self.type.rstrip("?")
        if self.optional:
            return f"toOptional<{self.cpp_type.removeprefix('std::optional<').removesuffix('>')}>()"
        return {"float": "toDouble()", "int": "toInt()", "bool": "toBool()", "str": "toStringRef()"}[base]

    @property
    def py_type(self) -> str:
        base = self.type.rstrip("?")
        return f"Optional[{base}]" if self.optional else base

    @property
    def py_default(self) -> str:
        if self.default is None:
            return "None"
        return repr(self.default)

    @property
    def py_param(self) -> str:
        return f"{self.name}: {self.py_type}" + (f" = {self.py_default}" if self.has_default else "")

    @property
    def is_float(self) -> bool:
        """Whether the attr is a (non-optional) float: the ones tests move off their default."""
        return self.type == "float"

    @property
    def is_int(self) -> bool:
        """Whether the attr is a (non-optional) int."""
        return self.type == "int"

    @property
    def is_str(self) -> bool:
        """Whether the attr is a choice among strings (`choices`)."""
        return self.type == "str"

    @property
    def is_bool(self) -> bool:
        """Whether the attr is a (non-optional) bool: C++ passes it as is, never through a double."""
        return self.type == "bool"

    @property
    def off_default(self) -> str:
        """The value, as Python, elementwise tests call the op with: off its default, so a kernel that
        ignores the attr fails (a float halved and shifted, an int plus one, a bool flipped)."""
        if self.is_float:
            return str((self.default or 1.0) * 0.5 + 0.25)
        if self.is_int:
            return str((self.default or 1) + 1)
        return "False" if self.default else "True"

    @property
    def elementwise_draws(self) -> str:
        """The values, as a Python tuple, elementwise property tests draw the attr from: its default, the
        value the other tests use (off_default) and a negative one."""
        if self.is_float:
            return f"({self.py_default if self.has_default else '1.0'}, {self.off_default}, -1.5)"
        if self.is_int:
            return f"({self.default if self.has_default else 1}, {(self.default or 1) + 1})"
        return "(False, True)"


@dataclass(frozen=True)
class ExprBody:
    """An expression after common-subexpression elimination, as a tree (grimoire/expr.py); its C++ over a type V
    (scalar or Vectorized), let statements and a result expression, is made by grimoire/emit/cpp.py."""
    terms: Body

    @property
    def lets(self) -> tuple[str, ...]:
        return emit_cpp.let_lines(self.terms.lets)

    @property
    def result(self) -> str:
        return emit_cpp.expr(self.terms.result)


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


def _freeze(value: Any) -> Any:
    """Plain JSON data made read-only: dicts become mapping proxies, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _tensors(cpp_type: str, names: Iterable[str], prefix: str = "") -> tuple[Param, ...]:
    return tuple(Param(cpp_type, prefix + n) for n in names)


def _attr_params(attrs: Iterable[Attr]) -> tuple[Param, ...]:
    return tuple(Param(a.cpp_type, a.name) for a in attrs)


@dataclass(frozen=True)
class Op:
    name: str
    kind: str
    doc: str
    location: Location
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: tuple[Attr, ...]
    dtypes: tuple[str, ...]
    devices: tuple[str, ...]
    device_dtypes: tuple[tuple[str, tuple[str, ...]], ...]  # (device, dtypes) per device, in devices order
    module: str
    differentiable: tuple[str, ...]
    extension: str
    bench_shapes: tuple[tuple[int, ...], ...]
    device_bench_shapes: tuple[tuple[str, tuple[tuple[int, ...], ...]], ...]  # (device, shapes) for one device
    test_shapes: tuple[tuple[int, ...], ...]
    schema: str
    backward_schema: str
    python_signature: str
    peer: str  # the matching torch call as Python, "" when the spec names none
    # Library peers the benchmark races (bench_peer): name, dotted function, call arguments, devices.
    bench_peers: tuple[Mapping[str, Any], ...]
    bench_bars: tuple[BenchBar, ...]
    replaces: str  # the torch module the op's module is a drop-in for, "" when none
    test_ranges: tuple[tuple[str, float, float], ...]  # (input, low, high) test inputs are drawn from
    forward: Optional[ExprBody] = None  # elementwise
    reference_py: Optional[str] = None  # elementwise
    gradients: tuple[Gradient, ...] = ()
    out_schema: str = ""  # elementwise with a variant: the schema of <op>_out, which writes a caller's tensor
    variants: tuple[str, ...] = ()  # elementwise: out (op(..., out=t)) and/or inplace (op_(x, ...))
    # rowwise
    row_roles: Optional[RowRoles] = None
    loss: Optional[Loss] = None
    forward_plan: Optional[RowPlan] = None  # passes over a row, see semantics/kinds/rowwise.pl
    backward_plan: Optional[RowPlan] = None
    # The same with max-shifted sums of exp reduced online, in their shift's pass: the CUDA kernels'.
    online_forward_plan: Optional[RowPlan] = None
    online_backward_plan: Optional[RowPlan] = None
    row_gradients: tuple[Mapping[str, Any], ...] = ()  # input, expr, derived: for comments
    saved_outputs: tuple[str, ...] = ()  # outputs the backward reads
    custom: Optional[Custom] = None  # custom
    optimizer: Optional[OptimizerSpec] = None  # optimizer
    epilogue: Optional[Epilogue] = None  # gemm, conv
    linear_loss: Optional[LinearLoss] = None  # linear_loss
    # A project's own kind: what its rules derive beyond the common components, for its templates.
    derived: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __getattr__(self, name: str) -> Any:
        # Only for what Op does not have itself: the properties its kind's view adds (KindModel.view,
        # in grimoire/kinds/<kind>.py), so that the core names no kind's particulars.
        if not name.startswith("__") and name != "kind":
            from .kinds import models

            kind = models().get(self.kind)
            if kind is not None and kind.view is not None and hasattr(kind.view, name):
                return getattr(kind.view(self), name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def cpp_autograd(self) -> bool:
        """Whether the op's autograd is a C++ torch::autograd::Function (csrc/autograd.cpp), not Python's
        register_autograd: the kinds whose backward is one <op>_backward call over saved inputs and
        outputs (an elementwise op's derived gradients, a rowwise op's planned backward). Their kernels
        take tens of microseconds, as long as a Python autograd round trip."""
        return bool(self.gradients) or self.backward_plan is not None

    @property
    def composite_schema(self) -> str:
        """The schema of <op>_composite, the forward written as torch ops (CompositeImplicitAutograd,
        registered in Python): a double backward differentiates it, since the fused backward kernel
        has no derivative of its own. "" for ops whose autograd is not C++."""
        if not self.cpp_autograd:
            return ""
        assert self.schema.startswith(self.name + "(")
        return self.name + "_composite" + self.schema[len(self.name):]

    @property
    def per_row_loss(self) -> bool:
        """Whether the op is a rowwise loss with one value per row of one element input (the one
        differentiated), whose backward reads no output and has no column gradients: its gradient is each
        row's upstream value times d(loss_row)/dx, which <op>_loss_grad_into computes for a linear_loss op."""
        r = self.row_roles
        return (self.loss is not None and r is not None and not r.output_is_element
                and self.backward_plan is not None and len(r.element) == 1
                and tuple(self.differentiable) == r.element and not self.saved_outputs
                and not self.column_gradients)

    @property
    def grad_name(self) -> str:
        """The name of the upstream gradient of the op's (first) output in its backward's code."""
        return f"grad_{self.outputs[0]}"

    @property
    def column_targets(self) -> tuple[RowTarget, ...]:
        """The gradients a rowwise op's backward sums over rows, of its column inputs (weight, bias)."""
        return tuple(t for t in self.backward_plan.final.targets if t.kind == "column") if self.backward_plan else ()

    @property
    def column_gradients(self) -> bool:
        """Whether a rowwise op's backward sums gradients over rows for column inputs."""
        return bool(self.column_targets)

    @property
    def grad_in_forward(self) -> bool:
        """Whether the CUDA forward of this loss also writes its input's gradient when that input needs
        one (<op>_forward_grad): a rowwise loss with one value per row, one element input (the one
        differentiated) and no column or saved-output gradients. Its backward is the upstream gradient
        times d(loss_row)/dx, so the forward stores that product for an upstream gradient of 1 (over the
        mean's count) and the backward only scales it: the input is read once for both passes."""
        return self.per_row_loss and "cuda" in self.devices

    @property
    def forward_grad_schema(self) -> str:
        """<op>_forward_grad: the forward's value and the stored gradient ("" unless grad_in_forward)."""
        if self.linear_loss is not None:
            return self.linear_loss.forward_grad_schema
        if not self.grad_in_forward:
            return ""
        head = self.schema.rsplit(" -> ", 1)[0]
        return self.name + "_forward_grad" + head[len(self.name):] + " -> (Tensor, Tensor)"

    @property
    def loss_grad_into_schema(self) -> str:
        """<op>_loss_grad_into (per_row_loss): each row's loss as opmath values, and the gradient of the
        element input for the row's upstream value row_grad[r], written into `grad` (which may be the
        element input itself): the chunk step of a linear_loss op. The reduction attr is not taken."""
        if not self.per_row_loss:
            return ""
        head = self.schema.rsplit(" -> ", 1)[0][len(self.name) + 1:-1]
        # Required arguments (no defaults): row_grad and grad follow them.
        args = [a.split("=")[0] for a in head.split(", ") if a.split("=")[0].split()[-1] != self.loss.attr]
        return f"{self.name}_loss_grad_into({', '.join(args)}, Tensor row_grad, Tensor(a!) grad) -> Tensor"

    @property
    def schemas(self) -> tuple[str, ...]:
        """Every schema the op defines in the extension's TORCH_LIBRARY block, the op's own first."""
        return tuple(s for s in (self.schema, self.backward_schema, self.composite_schema, self.out_schema,
                                 self.forward_grad_schema, self.scaled_grad_schema, self.loss_grad_into_schema) if s)

    @property
    def scaled_grad_schema(self) -> str:
        """<op>_scaled_grad: a stored gradient times the upstream one ("" unless grad_in_forward)."""
        return f"{self.name}_scaled_grad(Tensor stored, Tensor grad) -> Tensor" if self.grad_in_forward else ""

    @property
    def grad_inputs(self) -> tuple[str, ...]:
        """The inputs <op>_backward returns gradients for, in its order (an elementwise op's: those it
        has gradient expressions for)."""
        if self.forward is not None:
            return tuple(g.input for g in self.gradients)
        return self.differentiable

    def attr_names_but(self, name: str) -> tuple[str, ...]:
        """The op's attr names less one (a linear_loss op passes its loss all but the reduction)."""
        return tuple(a for a in self.attr_names if a != name)

    def attr(self, name: str) -> Attr:
        """The op's attr of that name."""
        return next(a for a in self.attrs if a.name == name)

    @property
    def activation_names(self) -> tuple[str, ...]:
        """A gemm or conv op's activations, the one it applies by default first."""
        ep = self.epilogue
        default = next((a.default for a in self.attrs if a.name == ep.act_attr and a.default), ep.activations[0].name)
        return (default, *(a.name for a in ep.activations if a.name != default))

    @property
    def epilogue_call_args(self) -> tuple[str, ...]:
        """A gemm or conv op's arguments as its Python wrapper passes them on: the operands, then the attrs."""
        return (*self.epilogue.operands, *self.attr_names)

    @property
    def backward_cpp_type(self) -> str:
        """What <op>_backward returns in C++: one tensor, or a tuple of one per gradient input."""
        return emit_cpp.tensors_type(len(self.grad_inputs))

    @property
    def saved_tensors(self) -> tuple[str, ...]:
        """What a C++ autograd function saves for the backward: the inputs, then the outputs it reads."""
        return (*self.inputs, *self.saved_outputs)

    @property
    def dispatch_type(self) -> str:
        """The C++ function type the op is called through the dispatcher as (and its composite)."""
        return emit_cpp.function_type("at::Tensor", (*(["const at::Tensor&"] * len(self.inputs)),
                                                     *(a.cpp_type for a in self.attrs)))

    @property
    def backward_dispatch_type(self) -> str:
        """<op>_backward's function type: the upstream gradient, the saved tensors, then the attrs."""
        return emit_cpp.function_type(self.backward_cpp_type, (*(["const at::Tensor&"] * (1 + len(self.saved_tensors))),
                                                               *(a.cpp_type for a in self.attrs)))

    @property
    def autograd_arity(self) -> int:
        """The arguments a C++ autograd function's forward takes, so the gradients its backward returns: the
        inputs, the attrs, and wants_grad where the op stores its gradient in the forward."""
        return len(self.inputs) + len(self.attrs) + int(self.grad_in_forward)

    @property
    def cpp_type(self) -> str:
        """What the op returns in C++: one tensor, or a tuple of one per output."""
        return emit_cpp.tensors_type(len(self.outputs))

    @property
    def single_output(self) -> bool:
        return len(self.outputs) == 1

    @property
    def py_return_type(self) -> str:
        """The annotation of what the op returns in Python."""
        return "Tensor" if self.single_output else "tuple[" + ", ".join(["Tensor"] * len(self.outputs)) + "]"

    @property
    def exports(self) -> tuple[str, ...]:
        """The names the package exports for this op: its function and its module or optimizer classes."""
        if self.optimizer is not None:
            return (self.name, *(c.name for c in self.optimizer.classes))
        return (self.module, self.name, *([self.name + "_"] if self.inplace_form else []))

    @property
    def out_form(self) -> bool:
        return "out" in self.variants

    @property
    def inplace_form(self) -> bool:
        return "inplace" in self.variants

    @property
    def torch_dtypes(self) -> tuple[str, ...]:
        return tuple(DTYPES[d] for d in self.dtypes)

    @property
    def scalar_types(self) -> tuple[str, ...]:
        return tuple(SCALAR_TYPES[d] for d in self.dtypes)

    def dtypes_on(self, device: str) -> tuple[str, ...]:
        """The dtypes of the kernels for one device (cuda_dtypes on CUDA when given, else dtypes)."""
        return dict(self.device_dtypes).get(device, ())

    def devices_with(self, dtype: str) -> tuple[str, ...]:
        """The devices whose kernels support dtype (float64 for gradcheck, say)."""
        return tuple(dev for dev, ds in self.device_dtypes if dtype in ds)

    def scalar_types_on(self, device: str) -> tuple[str, ...]:
        return tuple(SCALAR_TYPES[d] for d in self.dtypes_on(device))

    @property
    def torch_dtypes_by_device(self) -> dict[str, tuple[str, ...]]:
        """device -> torch dtype names, e.g. {"cpu": ("torch.float32",)}, for the Python templates."""
        return {dev: tuple(DTYPES[d] for d in ds) for dev, ds in self.device_dtypes}

    @property
    def bench_shapes_by_device(self) -> dict[str, tuple[tuple[int, ...], ...]]:
        """device -> the bench shapes for it: its own (cuda(shape(...))) where given, else the common ones."""
        own = dict(self.device_bench_shapes)
        return {dev: own.get(dev, self.bench_shapes) for dev in self.devices}

    @property
    def attr_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attrs)

    @property
    def all_attrs_defaulted(self) -> bool:
        """Whether the op has attrs and a call may leave out every one of them (each has a default)."""
        return bool(self.attrs) and all(a.has_default for a in self.attrs)

    @property
    def float_attr_names(self) -> tuple[str, ...]:
        """The op's attrs of type float (not the optional ones)."""
        return tuple(a.name for a in self.float_attrs)

    def _row_off_default(self, a: Attr) -> str:
        """A rowwise test's value for the attr, as Python: another choice of a str, -1 for the ignored
        index (a class index no row has), a float doubled, an int plus one, a bool flipped."""
        if a.is_str:
            others = [c for c in a.choices if c != a.default] or [a.default]
            return f'"{others[-1]}"'
        if a.name == self.row_roles.ignore:
            return "-1"
        if a.is_float:
            return str((a.default or 0.2) * 2)
        if a.is_int:
            return str((a.default or 1) + 1)
        return "False" if a.default else "True"

    def _row_draws(self, a: Attr) -> str:
        """The values, as a Python tuple, rowwise property tests draw the attr from: its default and others
        (every choice of a str; -1 and 0, classes torch then ignores, for the ignored index)."""
        if a.is_str:
            return repr(tuple(a.choices))
        if a.name == self.row_roles.ignore:
            return f"({a.default}, -1, 0)"
        if a.is_float:
            return f"({a.py_default if a.has_default else '0.2'}, {(a.default or 0.2) * 2})"
        if a.is_int:
            return f"({a.default if a.has_default else 1}, {(a.default or 1) + 1})"
        return "(False, True)"

    def _test_value(self, a: Attr) -> str:
        return self._row_off_default(a) if self.row_roles else a.off_default

    @property
    def test_attrs(self) -> tuple[tuple[str, str], ...]:
        """(name, Python value) of the non-optional attrs an elementwise or rowwise op's tests call it with:
        off their defaults, so the tests exercise the attrs rather than their defaults."""
        return tuple((a.name, self._test_value(a)) for a in self.attrs if not a.optional)

    @property
    def required_test_attrs(self) -> tuple[tuple[str, str], ...]:
        """(name, Python value) of the attrs without a default, what a test's call must pass at least: None
        for an optional one, else the value of test_attrs."""
        return tuple((a.name, "None" if a.optional else self._test_value(a)) for a in self.attrs
                     if not a.has_default)

    @property
    def attr_draws(self) -> tuple[tuple[str, str], ...]:
        """(name, Python tuple of values) each non-optional attr is drawn from in an elementwise or rowwise
        op's property tests."""
        return tuple((a.name, self._row_draws(a) if self.row_roles else a.elementwise_draws)
                     for a in self.attrs if not a.optional)

    @property
    def call_args(self) -> tuple[str, ...]:
        """The op's arguments by name, inputs then attrs: how a wrapper passes its own on."""
        return (*self.inputs, *self.attr_names)

    @property
    def inputs_and_outputs(self) -> tuple[str, ...]:
        """The op's tensors, inputs then outputs (a custom op's backward is given both)."""
        return (*self.inputs, *self.outputs)

    @property
    def on_cuda(self) -> bool:
        """Whether the op has CUDA kernels (cuda among its devices)."""
        return "cuda" in self.devices

    @property
    def n_inputs(self) -> int:
        """The op's tensor inputs."""
        return len(self.inputs)

    @property
    def single_differentiable(self) -> bool:
        """Whether one input is differentiable: the backward returns one tensor, not a tuple."""
        return len(self.differentiable) == 1

    @property
    def single_attr(self) -> bool:
        """Whether the op has exactly one attr: a Python tuple of them needs a trailing comma."""
        return len(self.attrs) == 1

    @property
    def single_grad_input(self) -> bool:
        """Whether <op>_backward returns one gradient (a tensor), not a tuple of them."""
        return len(self.grad_inputs) == 1

    def _grad_result(self, with_grad: Iterable[str]) -> tuple[str, ...]:
        with_grad = set(with_grad)
        return (*(f"d_{i}" if i in with_grad else "at::Tensor()" for i in self.inputs),
                *("at::Tensor()" for _ in self.attrs), *(("at::Tensor()",) if self.grad_in_forward else ()))

    @property
    def backward_result(self) -> tuple[str, ...]:
        """A C++ autograd backward's result, one entry per forward argument: d_<input> for grad_inputs,
        an undefined tensor for the rest (the other inputs, the attrs, wants_grad where the forward stores
        its gradient)."""
        return self._grad_result(self.grad_inputs)

    @property
    def stored_grad_result(self) -> tuple[str, ...]:
        """backward_result when the backward hands out the gradient the forward stored: the first element
        input's alone."""
        return self._grad_result(self.row_roles.element[:1])

    @property
    def grad_input_indices(self) -> tuple[int, ...]:
        """The positions among the inputs of grad_inputs: which forward arguments the composite's
        gradients (composite_grads) are taken for."""
        return tuple(k for k, i in enumerate(self.inputs) if i in self.grad_inputs)

    @property
    def stored_grad_slot(self) -> int:
        """Where a C++ autograd function saves the gradient its forward stored: after saved_tensors."""
        return len(self.saved_tensors)

    def is_loss_reduction(self, attr: Attr) -> bool:
        """Whether attr is the loss's reduction choice (a per-row call passes "none" for it)."""
        return self.loss is not None and attr.name == self.loss.attr

    @property
    def cuda_dtypes_differ(self) -> bool:
        """Whether the CUDA kernels take other dtypes than the CPU ones (the docstring names them)."""
        return self.dtypes_on("cuda") != self.dtypes

    @property
    def bench_peer_names(self) -> tuple[str, ...]:
        """The names of the library peers the benchmark races (bench_peers)."""
        return tuple(p["name"] for p in self.bench_peers)

    @property
    def py_params(self) -> tuple[str, ...]:
        """The attrs as Python parameters with their types and defaults (Attr.py_param)."""
        return tuple(a.py_param for a in self.attrs)

    @property
    def float_attrs(self) -> tuple[Attr, ...]:
        """The op's attrs of type float (not the optional ones)."""
        return tuple(a for a in self.attrs if a.is_float)

    @property
    def str_attrs(self) -> tuple[Attr, ...]:
        """The op's choice attrs (type str): each choice gets an explicit test example."""
        return tuple(a for a in self.attrs if a.is_str)

    @property
    def test_range(self) -> dict[str, tuple[float, float]]:
        return {i: (lo, hi) for i, lo, hi in self.test_ranges}

    @property
    def spec_file(self) -> str:
        return self.location.file


@dataclass(frozen=True)
class Extension:
    name: str
    namespace: str
    package: str
    doc: str
    location: Location
    ops: tuple[Op, ...]
    sources: tuple[SourceFile, ...]
    cuda_archs: tuple[str, ...] = ()  # the archs the extension may be built for; () = any

    def op(self, name: str) -> Op:
        for op in self.ops:
            if op.name == name:
                return op
        raise KeyError(name)

    # Which extension-wide files and blocks exist: derived once here, read by the templates.
    @property
    def kinds(self) -> frozenset[str]:
        """The kinds of the extension's ops (a kind's shared files render only where it has ops)."""
        return frozenset(op.kind for op in self.ops)

    @property
    def package_kinds(self) -> tuple[str, ...]:
        """The kinds whose package-wide files (templates/kinds/<kind>/package/) the package holds: its
        ops' kinds and those they build on (flash_attention's property helpers build on attention's)."""
        from .kinds import models

        used = {u for k in self.kinds if k in models() for u in models()[k].uses_packages}
        return tuple(sorted(self.kinds | used))

    @property
    def package_exports(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(module, names) the package exports from its kinds' package-wide modules (gemm_backend)."""
        from .kinds import models

        return tuple(e for kind, m in sorted(models().items()) if kind in self.kinds for e in m.package_exports)

    @property
    def package_modules(self) -> tuple[str, ...]:
        """The public submodules of its kinds' package-wide files the package imports (optim)."""
        from .kinds import models

        return tuple(n for kind, m in sorted(models().items()) if kind in self.kinds for n in m.package_modules)

    @property
    def has_index_inputs(self) -> bool:
        """An op with index inputs (cross_entropy's target): the index_checks switch."""
        return any(op.row_roles is not None and op.row_roles.index for op in self.ops)

    @property
    def cpp_autograd_ops(self) -> tuple[Op, ...]:
        """The ops whose autograd is C++ (csrc/autograd.cpp, built only when there is one)."""
        return tuple(op for op in self.ops if op.cpp_autograd)

    @property
    def has_python_autograd(self) -> bool:
        """An op whose autograd is registered from Python (not C++, not an optimizer): _autograd.py."""
        return any(not op.cpp_autograd and op.optimizer is None for op in self.ops)


def relative(file: str, root: Path) -> str:
    try:
        return str(Path(file).resolve().relative_to(root.resolve()))
    except ValueError:
        return file


def _op(data: Mapping[str, Any], root: Path) -> Op:
    d = _take(data, {"name", "kind", "doc", "file", "line", "inputs", "outputs", "attrs", "dtypes", "devices",
                     "device_dtypes", "module", "differentiable", "extension", "bench_shapes", "device_bench_shapes",
                     "test_shapes",
                     "derived"},
              f"op {data.get('name')}")
    derived = dict(d["derived"])
    from .kinds import models  # they load their fields with this module's dataclasses

    kind = models().get(d["kind"])
    common = {"schema", "backward_schema", "python_signature", "peer", "bench_peers", "bench_bars", "test_ranges",
              "replaces"}
    # Absent when nothing is differentiable. For the kinds whose backward the rules derive, a differentiable op
    # without one is an error below: its gradients would otherwise silently not exist.
    if not (kind and kind.derives_backward and d["differentiable"]):
        derived.setdefault("backward_schema", "")
        for key, value in (kind.without_backward if kind else {}).items():
            derived.setdefault(key, value)
    own_keys = set(kind.keys) if kind else set(derived) - common
    missing = sorted((common | own_keys) - set(derived))
    if missing:
        # The rules could not derive these from the spec (an expression no renderer knows, say): refuse the op
        # at its file:line rather than generate a kernel with a piece left out.
        raise SpecError([Diagnostic(relative(d["file"], root), d["line"],
                                    f"grimoire could not derive {', '.join(missing)} of '{d['name']}' from its "
                                    "spec: simplify the expressions it uses, or report it with the spec")])
    derived = _take(derived, common | own_keys, f"derived components of {d['name']}")
    attrs = tuple(Attr(**{**_take(a, {"name", "type", "has_default", "default", "choices"}, f"attr of {d['name']}"),
                          "choices": tuple(a["choices"])})
                  for a in d["attrs"])
    _check_numbers(d, attrs, derived["test_ranges"], root)
    # A kind grimoire has no model for (one a project defines: semantics/kinds/<kind>.pl and
    # templates/kinds/<kind>/) hands its templates whatever its rules derive, as op.derived.
    extra = kind.build(d, derived, root) if kind else {"derived": _freeze({k: derived[k] for k in sorted(own_keys)})}
    return Op(
        name=d["name"], kind=d["kind"], doc=d["doc"], location=Location(relative(d["file"], root), d["line"]),
        inputs=tuple(d["inputs"]), outputs=tuple(d["outputs"]), attrs=attrs, dtypes=tuple(d["dtypes"]),
        devices=tuple(d["devices"]),
        device_dtypes=tuple((dev, tuple(d["device_dtypes"][dev])) for dev in d["devices"]),
        module=d["module"], differentiable=tuple(d["differentiable"]),
        extension=d["extension"], bench_shapes=tuple(tuple(s) for s in d["bench_shapes"]),
        device_bench_shapes=tuple((dev, tuple(tuple(s) for s in shapes))
                                  for dev, shapes in d["device_bench_shapes"].items() if shapes),
        test_shapes=tuple(tuple(s) for s in d["test_shapes"]), schema=derived["schema"],
        backward_schema=derived["backward_schema"], python_signature=derived["python_signature"],
        peer=derived["peer"], replaces=derived["replaces"],
        bench_peers=tuple(_freeze(p) for p in derived["bench_peers"]),
        bench_bars=tuple(BenchBar(b["device"], b["pass"], tuple(b["shape"]), b["peer"], float(b["ratio"]))
                         for b in derived["bench_bars"]),
        test_ranges=tuple((i, float(r[0]), float(r[1])) for i, r in derived["test_ranges"].items()), **extra)


def _check_numbers(d: Mapping[str, Any], attrs: tuple[Attr, ...], ranges: Mapping[str, Any], root: Path) -> None:
    """Numbers the generated code spells as literals are finite (and integers fit int64): semantics/core/checks.pl
    refuses the rest, and this keeps an odd value that slipped through (inf, nan) a spec error, not a traceback."""
    problems = []
    for a in attrs:
        v = a.default
        if isinstance(v, bool) or v is None or isinstance(v, str):
            continue
        if isinstance(v, float) and not math.isfinite(v) or isinstance(v, int) and not -2**63 <= v < 2**63:
            problems.append(f"default {v!r} of attr '{a.name}' of '{d['name']}' is not a finite number "
                            "that fits its type: write a finite one")
    for name, bounds in ranges.items():
        if not all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds):
            problems.append(f"test_range of input '{name}' of '{d['name']}' must be two finite numbers, got {bounds!r}")
    if problems:
        raise SpecError([Diagnostic(relative(d["file"], root), d["line"], m) for m in problems])


# What the generated package holds itself at its top level, beside each op's exports (its function and
# its module or optimizer classes): the modules templates/extension/ renders next to __init__.py and the
# names __init__.py.j2 exports. An op, or a class of one, named so would overwrite it (profiler: its
# tests/test_profiler.py too).
def _package_names() -> frozenset[str]:
    from .kinds import models

    return frozenset({"ops", "tests", "benchmarks", "csrc", "profiler", "OPS", "Profiler"}
                     | {n for m in models().values() for _, names in m.package_exports for n in names}
                     | {n for m in models().values() for n in m.package_modules})


def export_clash(name: str, op_name: str, ops: Iterable[Op], package: str) -> str | None:
    """Why the package cannot export `name` for op `op_name` beside `ops`, None when it can."""
    if name in _package_names():
        return f"the generated package has its own {package}.{name}"
    for other in ops:
        if other.name != op_name and name in other.exports:
            return f"op '{other.name}' exports it too ({other.location})"
    return None


def _check_exports(ops: tuple[Op, ...], package: str) -> None:
    """Every name the package exports is one op's alone: checked on the very names __init__.py.j2
    imports, so a second op cannot silently shadow the first (nor the package's own modules)."""
    problems = []
    for i, op in enumerate(ops):
        for name in op.exports:
            why = export_clash(name, op.name, ops[:i], package)
            if why and name in (op.name, op.name + "_"):
                what = "op name" if name == op.name else "in-place function"
                problems.append(Diagnostic(op.location.file, op.location.line,
                                           f"{what} '{name}' is taken: {why}; choose another name."))
            elif why:
                problems.append(Diagnostic(op.location.file, op.location.line,
                                           f"class '{name}' of '{op.name}' is taken: {why}; name it otherwise "
                                           f"(a module class with component({op.name}, module, 'AnotherName'))."))
    if problems:
        raise SpecError(problems)


def _check_linear_losses(ops: tuple[Op, ...]) -> None:
    """A linear_loss op's chunk step is its loss's <loss>_loss_grad_into, which a per_row_loss has (its CUDA
    kernel where the loss has CUDA kernels); the kernels of each dtype the op lists must exist for the loss."""
    by_name = {op.name: op for op in ops}
    problems = []
    for op in ops:
        if op.linear_loss is None:
            continue
        loss = by_name[op.linear_loss.loss]
        if not loss.per_row_loss:
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


def build_model(knowledge: Knowledge) -> Extension:
    """The one extension the specs describe, with its ops sorted by name."""
    return build_model_data(knowledge.model, knowledge.semantics_dir.parent, knowledge.sources)


def build_model_data(model: Mapping[str, Any], root: Path, sources: tuple = ()) -> Extension:
    """build_model from the exported data itself (names.py builds one from stand-in names)."""
    data = _take(model, {"extensions", "ops"}, "model")
    exts = data["extensions"]
    if len(exts) != 1:
        raise ModelError(f"expected exactly one extension entity in semantics/, found {len(exts)}")
    e = _take(exts[0], {"name", "namespace", "package", "doc", "file", "line", "cuda_archs"}, "extension")
    ops = tuple(sorted((_op(o, root) for o in data["ops"]), key=lambda o: o.name))
    _check_exports(ops, e["package"])
    _check_linear_losses(ops)
    return Extension(name=e["name"], namespace=e["namespace"], package=e["package"], doc=e["doc"],
                     location=Location(relative(e["file"], root), e["line"]), ops=ops, sources=sources,
                     cuda_archs=tuple(e["cuda_archs"]))
