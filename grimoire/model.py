"""Stage 2 — model: the exported knowledge as typed, frozen dataclasses.

Loaders take exactly the keys they know and reject leftovers, so a drift between the Prolog export
and this module fails loudly here rather than as a template error later. What is particular to a kind
is loaded by its model in grimoire/kinds/; this module names no kind.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .diagnostics import Diagnostic, SpecError
from .emit import cpp as emit_cpp
from .emit import python as emit_python
from .emit.cpp import Param
from .expr import Body
from .knowledge import Knowledge, SourceFile

if TYPE_CHECKING:
    from .kinds import KindModel


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
        """The value, as Python, tests call the op with (unless its kind says otherwise: KindModel.test_value):
        off its default, so a kernel that ignores the attr fails (a float halved and shifted, an int plus one,
        a bool flipped)."""
        if self.is_float:
            return str((self.default or 1.0) * 0.5 + 0.25)
        if self.is_int:
            return str((self.default or 1) + 1)
        return "False" if self.default else "True"

    @property
    def draws(self) -> str:
        """The values, as a Python tuple, property tests draw the attr from (unless its kind says otherwise:
        KindModel.attr_draws): its default, the value the other tests use (off_default) and a negative one."""
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
class StoredGrad:
    """What a forward that also writes an input's gradient for an upstream gradient of 1 stores (Op.stored_grad):
    the gradient of `input`, on CUDA, unless the `reduction` attr is "none" (an upstream gradient per row is no
    scale). Not in float16: a gradient over a mean's count, 1e-4 / 8192, is below its smallest value, which the
    upstream gradient (a loss scale) could no longer bring back. The rule is stated here once; `cpp` and `python`
    are its two spellings (the C++ autograd and Python's inplace_backward both take it)."""
    input: str
    reduction: str

    @property
    def cpp(self) -> str:
        return emit_cpp.stored_grad_when(self.input, self.reduction)

    @property
    def python(self) -> str:
        return emit_python.stored_grad_when(self.input, self.reduction)


_NOTHING: Mapping[str, Any] = MappingProxyType({})


@functools.cache
def _field_names(record: type) -> frozenset[str]:
    """The fields of a kind's record type: what Op answers for from it (not its properties)."""
    return frozenset(f.name for f in fields(record))


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
    # The kind's own record (a frozen dataclass of grimoire/kinds/<kind>.py, whose fields Op answers for, so
    # templates read them as the op's), None for a kind with none; for a project's own kind, which grimoire
    # has no model for, what its rules derive beyond the common components, as a frozen mapping (op.derived).
    details: Any = None

    def __getattr__(self, name: str) -> Any:
        # Only for what Op does not have itself: its kind's record's fields, then the properties its kind's
        # view adds (KindModel.view, in grimoire/kinds/<kind>.py), so that the core names no kind's particulars.
        if not name.startswith("__") and name != "kind":
            details = self.__dict__.get("details")
            if is_dataclass(details) and name in _field_names(type(details)):
                return getattr(details, name)
            from .kinds import models

            kind = models().get(self.kind)
            if kind is not None and kind.view is not None and hasattr(kind.view, name):
                return getattr(kind.view(self), name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def derived(self) -> Mapping[str, Any]:
        """What a project's own kind's rules derive beyond the common components, for its templates (empty
        for a bundled kind, whose record is typed)."""
        return self.details if isinstance(self.details, Mapping) else _NOTHING

    @property
    def _kind_model(self) -> KindModel:
        # What the op's kind answers to the core's questions (grimoire/kinds/__init__.py's hooks).
        from .kinds import model_of

        return model_of(self.kind)

    @property
    def cpp_autograd(self) -> bool:
        """Whether the op's autograd is a C++ torch::autograd::Function (csrc/autograd.cpp), not Python's
        register_autograd: the kinds whose backward is one <op>_backward call over saved inputs and
        outputs say so (KindModel.cpp_autograd). Their kernels take tens of microseconds, as long as a
        Python autograd round trip."""
        return self._kind_model.cpp_autograd(self)

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
    def grad_name(self) -> str:
        """The name of the upstream gradient of the op's (first) output in its backward's code."""
        return f"grad_{self.outputs[0]}"

    @property
    def stored_grad(self) -> StoredGrad | None:
        """What the forward also stores of an input's gradient, for the backward to scale (<op>_forward_grad,
        as the kind says: KindModel.stored_grad); None where it stores none."""
        return self._kind_model.stored_grad(self)

    @property
    def grad_in_forward(self) -> bool:
        """Whether the forward also writes an input's gradient when that input needs one (stored_grad): the
        C++ autograd function then takes wants_grad and saves the stored gradient."""
        return self.stored_grad is not None

    @property
    def schemas(self) -> tuple[str, ...]:
        """Every schema the op defines in the extension's TORCH_LIBRARY block, the op's own first."""
        return tuple(s for s in (self.schema, self.backward_schema, self.composite_schema,
                                 *self._kind_model.extra_schemas(self)) if s)

    @property
    def grad_inputs(self) -> tuple[str, ...]:
        """The inputs <op>_backward returns gradients for, in its order (the differentiable ones unless
        the kind says otherwise)."""
        return self._kind_model.grad_inputs(self)

    def attr(self, name: str) -> Attr:
        """The op's attr of that name."""
        return next(a for a in self.attrs if a.name == name)

    @property
    def backward_cpp_type(self) -> str:
        """What <op>_backward returns in C++: one tensor, or a tuple of one per gradient input."""
        return emit_cpp.tensors_type(len(self.grad_inputs))

    @property
    def saved_tensors(self) -> tuple[str, ...]:
        """What a C++ autograd function saves for the backward: the inputs, then the outputs it reads."""
        return (*self.inputs, *self._kind_model.saved_outputs(self))

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
        """The names the package exports for this op: its function and its module (or what its kind says)."""
        return self._kind_model.exports(self)

    @property
    def index_inputs(self) -> tuple[str, ...]:
        """The op's index inputs (int64 class indices, which index_checks bounds), as its kind says."""
        return self._kind_model.index_inputs(self)

    @property
    def python_autograd(self) -> bool:
        """Whether the op's autograd is registered from Python (_autograd.py): not C++, and one it has."""
        return self._kind_model.autograd and not self.cpp_autograd

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

    @property
    def test_attrs(self) -> tuple[tuple[str, str], ...]:
        """(name, Python value) of the non-optional attrs the op's tests call it with: off their defaults, so
        the tests exercise the attrs rather than their defaults (KindModel.test_value)."""
        return tuple((a.name, self._kind_model.test_value(self, a)) for a in self.attrs if not a.optional)

    @property
    def required_test_attrs(self) -> tuple[tuple[str, str], ...]:
        """(name, Python value) of the attrs without a default, what a test's call must pass at least: None
        for an optional one, else the value of test_attrs."""
        return tuple((a.name, "None" if a.optional else self._kind_model.test_value(self, a)) for a in self.attrs
                     if not a.has_default)

    @property
    def attr_draws(self) -> tuple[tuple[str, str], ...]:
        """(name, Python tuple of values) each non-optional attr is drawn from in the op's property tests
        (KindModel.attr_draws)."""
        return tuple((a.name, self._kind_model.attr_draws(self, a)) for a in self.attrs if not a.optional)

    @property
    def call_args(self) -> tuple[str, ...]:
        """The op's arguments by name, inputs then attrs: how a wrapper passes its own on."""
        return (*self.inputs, *self.attr_names)

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
        """backward_result when the backward hands out the gradient the forward stored: its input's alone (none
        where the forward stores none)."""
        return self._grad_result((self.stored_grad.input,) if self.stored_grad else ())

    @property
    def grad_input_indices(self) -> tuple[int, ...]:
        """The positions among the inputs of grad_inputs: which forward arguments the composite's
        gradients (composite_grads) are taken for."""
        return tuple(k for k, i in enumerate(self.inputs) if i in self.grad_inputs)

    @property
    def stored_grad_slot(self) -> int:
        """Where a C++ autograd function saves the gradient its forward stored: after saved_tensors."""
        return len(self.saved_tensors)

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

    def ops_of(self, kind: str) -> tuple[Op, ...]:
        """The extension's ops of one kind (a kind's package-wide files list its ops)."""
        return tuple(op for op in self.ops if op.kind == kind)

    @property
    def user_kernel_ops(self) -> tuple[Op, ...]:
        """The ops whose kernels are the user's own sources, which _build.py compiles (KindModel.user_kernels)."""
        from .kinds import model_of

        return tuple(op for op in self.ops if model_of(op.kind).user_kernels)

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
        return any(op.index_inputs for op in self.ops)

    @property
    def cpp_autograd_ops(self) -> tuple[Op, ...]:
        """The ops whose autograd is C++ (csrc/autograd.cpp, built only when there is one)."""
        return tuple(op for op in self.ops if op.cpp_autograd)

    @property
    def has_python_autograd(self) -> bool:
        """An op whose autograd is registered from Python (Op.python_autograd): _autograd.py."""
        return any(op.python_autograd for op in self.ops)


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
    details = kind.build(d, derived, root) if kind else _freeze({k: derived[k] for k in sorted(own_keys)})
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
        test_ranges=tuple((i, float(r[0]), float(r[1])) for i, r in derived["test_ranges"].items()), details=details)


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
# its module or other classes: Op.exports): the modules templates/extension/ renders next to __init__.py and the
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
    from .kinds import models
    ops = tuple(sorted((_op(o, root) for o in data["ops"]), key=lambda o: o.name))
    _check_exports(ops, e["package"])
    for kind in models().values():  # what a kind checks of its ops among the others (KindModel.check_ops)
        kind.check_ops(ops)
    return Extension(name=e["name"], namespace=e["namespace"], package=e["package"], doc=e["doc"],
                     location=Location(relative(e["file"], root), e["line"]), ops=ops, sources=sources,
                     cuda_archs=tuple(e["cuda_archs"]))
