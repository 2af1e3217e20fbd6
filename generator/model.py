"""Stage 2 — model: the exported knowledge as typed, frozen dataclasses.

Loaders take exactly the keys they know and reject leftovers, so a drift between the Prolog export
and this module fails loudly here rather than as a template error later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from .knowledge import Knowledge, SourceFile

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
class Attr:
    name: str
    type: str  # float | int | bool | float? | int?
    has_default: bool
    default: Any

    @property
    def optional(self) -> bool:
        return self.type.endswith("?")

    @property
    def cpp_type(self) -> str:
        base = {"float": "double", "int": "int64_t", "bool": "bool"}[self.type.rstrip("?")]
        return f"std::optional<{base}>" if self.optional else base

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


@dataclass(frozen=True)
class CppBody:
    """C++ statements and a result expression over a type V (scalar or Vectorized)."""
    lets: tuple[str, ...]
    result: str


@dataclass(frozen=True)
class Gradient:
    input: str
    body: CppBody
    expr: str  # the gradient expression as Prolog printed it, for comments and docs
    derived: bool  # True when differentiated from the forward, False when the spec overrides it


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
    test_shapes: tuple[tuple[int, ...], ...]
    schema: str
    backward_schema: str
    python_signature: str
    forward: Optional[CppBody] = None  # elementwise
    reference_py: Optional[str] = None  # elementwise
    gradients: tuple[Gradient, ...] = ()

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
    def attr_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attrs)

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


def _rel(file: str, root: Path) -> str:
    try:
        return str(Path(file).resolve().relative_to(root.resolve()))
    except ValueError:
        return file


def _body(d: Mapping[str, Any]) -> CppBody:
    return CppBody(tuple(d["lets"]), d["result"])


def _op(data: Mapping[str, Any], root: Path) -> Op:
    d = _take(data, {"name", "kind", "doc", "file", "line", "inputs", "outputs", "attrs", "dtypes", "devices",
                     "device_dtypes", "module", "differentiable", "extension", "bench_shapes", "test_shapes",
                     "derived"},
              f"op {data.get('name')}")
    derived = dict(d["derived"])
    derived.setdefault("backward_schema", "")  # absent when nothing is differentiable
    common = {"schema", "backward_schema", "python_signature"}
    kind_keys = {"elementwise": {"forward_cpp", "reference_py", "gradients"}, "attention": set()}
    if d["kind"] not in kind_keys:
        raise ModelError(f"op {d['name']}: no model for kind {d['kind']}")
    derived = _take(derived, common | kind_keys[d["kind"]], f"derived components of {d['name']}")
    attrs = tuple(Attr(**_take(a, {"name", "type", "has_default", "default"}, f"attr of {d['name']}"))
                  for a in d["attrs"])
    extra: dict[str, Any] = {}
    if d["kind"] == "elementwise":
        extra = {
            "forward": _body(derived["forward_cpp"]),
            "reference_py": derived["reference_py"],
            "gradients": tuple(
                Gradient(g["input"], _body(g), g["expr"], bool(g["derived"]))
                for g in (_take(g, {"input", "lets", "result", "expr", "derived"}, f"gradient of {d['name']}")
                          for g in derived["gradients"])),
        }
    return Op(
        name=d["name"], kind=d["kind"], doc=d["doc"], location=Location(_rel(d["file"], root), d["line"]),
        inputs=tuple(d["inputs"]), outputs=tuple(d["outputs"]), attrs=attrs, dtypes=tuple(d["dtypes"]),
        devices=tuple(d["devices"]),
        device_dtypes=tuple((dev, tuple(d["device_dtypes"][dev])) for dev in d["devices"]),
        module=d["module"], differentiable=tuple(d["differentiable"]),
        extension=d["extension"], bench_shapes=tuple(tuple(s) for s in d["bench_shapes"]),
        test_shapes=tuple(tuple(s) for s in d["test_shapes"]), schema=derived["schema"],
        backward_schema=derived["backward_schema"], python_signature=derived["python_signature"], **extra)


def build_model(knowledge: Knowledge) -> Extension:
    """The one extension the specs describe, with its ops sorted by name."""
    root = knowledge.semantics_dir.parent
    data = _take(knowledge.model, {"extensions", "ops"}, "model")
    exts = data["extensions"]
    if len(exts) != 1:
        raise ModelError(f"expected exactly one extension entity in semantics/, found {len(exts)}")
    e = _take(exts[0], {"name", "namespace", "package", "doc", "file", "line", "cuda_archs"}, "extension")
    ops = tuple(sorted((_op(o, root) for o in data["ops"]), key=lambda o: o.name))
    return Extension(name=e["name"], namespace=e["namespace"], package=e["package"], doc=e["doc"],
                     location=Location(_rel(e["file"], root), e["line"]), ops=ops, sources=knowledge.sources,
                     cuda_archs=tuple(e["cuda_archs"]))
