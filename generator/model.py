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
class Condition:
    """A condition over the attrs, rendered for C++ (host doubles and bools) and Python."""
    cpp: str
    py: str
    text: str  # as people read it, for error messages
    names: tuple[str, ...]  # the attrs it reads


@dataclass(frozen=True)
class HostValue:
    """A value computed once per tensor on the host in double: a spec scalar or a lifted constant."""
    name: str
    cpp: str
    py: str


@dataclass(frozen=True)
class TensorUse:
    name: str
    read: bool
    written: bool


@dataclass(frozen=True)
class Program:
    """The per-element rules of one optimizer variant: statements over a type V, scalar or Vectorized."""
    index: int
    tensors: tuple[TensorUse, ...]
    uniforms: tuple[str, ...]  # numeric attrs and host values it reads
    cpp: tuple[str, ...]
    py: tuple[str, ...]

    @property
    def cpp_params(self) -> str:
        """The C++ parameter list of the program's function: tensors it writes by reference."""
        ps = [f"{'V&' if t.written else 'const V&'} {t.name}" for t in self.tensors]
        return ", ".join(ps + [f"const V& {u}" for u in self.uniforms])

    def uses(self, tensor: str) -> bool:
        return any(t.name == tensor for t in self.tensors)


@dataclass(frozen=True)
class ClassParam:
    name: str
    attrs: tuple[str, ...]  # one attr, or the attrs a tuple argument groups
    py_default: str


@dataclass(frozen=True)
class OptimizerClass:
    name: str
    params: tuple[ClassParam, ...]
    fixed: tuple[tuple[str, str], ...]  # (attr, Python value) not taken by the constructor


@dataclass(frozen=True)
class OptimizerSpec:
    param: str
    grad: str
    states: tuple[str, ...]
    conditions: tuple[Condition, ...]
    requires: tuple[Condition, ...]
    host: tuple[HostValue, ...]
    programs: tuple[Program, ...]
    variant_programs: tuple[int, ...]  # program index for each combination of the conditions
    classes: tuple[OptimizerClass, ...]
    bench_attrs: tuple[tuple[str, str], ...]

    @property
    def tensors(self) -> tuple[str, ...]:
        return (self.param, self.grad, *self.states)

    def states_used(self, program: Program) -> tuple[str, ...]:
        return tuple(s for s in self.states if program.uses(s))

    @property
    def lists(self) -> tuple[str, ...]:
        """The op's tensor-list arguments, in order: params, grads, one per state, state_steps."""
        return tuple(f"{t}s" for t in self.tensors) + ("state_steps",)


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
    optimizer: Optional[OptimizerSpec] = None  # optimizer

    @property
    def exports(self) -> tuple[str, ...]:
        """The names the package exports for this op: its function and its module or optimizer classes."""
        if self.optimizer is not None:
            return (self.name, *(c.name for c in self.optimizer.classes))
        return (self.module, self.name)

    @property
    def torch_dtypes(self) -> tuple[str, ...]:
        return tuple(DTYPES[d] for d in self.dtypes)

    @property
    def scalar_types(self) -> tuple[str, ...]:
        return tuple(SCALAR_TYPES[d] for d in self.dtypes)

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


def _condition(d: Mapping[str, Any], what: str) -> Condition:
    c = _take(d, {"cpp", "py", "text", "names"}, what)
    return Condition(c["cpp"], c["py"], c["text"], tuple(c["names"]))


def _optimizer(data: Mapping[str, Any], op: str) -> OptimizerSpec:
    d = _take(data, {"param", "grad", "states", "conditions", "requires", "host", "programs", "variant_programs",
                     "classes", "bench_attrs"}, f"optimizer of {op}")
    programs = []
    for p in d["programs"]:
        p = _take(p, {"index", "tensors", "uniforms", "cpp", "py"}, f"program of {op}")
        programs.append(Program(
            p["index"],
            tuple(TensorUse(**_take(t, {"name", "read", "written"}, f"tensor of {op}")) for t in p["tensors"]),
            tuple(p["uniforms"]), tuple(p["cpp"]), tuple(p["py"])))
    classes = []
    for c in d["classes"]:
        c = _take(c, {"name", "params", "fixed"}, f"optimizer class of {op}")
        params = tuple(ClassParam(q["name"], tuple(q["attrs"]), q["py_default"])
                       for q in (_take(q, {"name", "attrs", "py_default"}, f"class param of {op}") for q in c["params"]))
        fixed = tuple((f["name"], f["py"]) for f in (_take(f, {"name", "py"}, f"fixed attr of {op}") for f in c["fixed"]))
        classes.append(OptimizerClass(c["name"], params, fixed))
    return OptimizerSpec(
        param=d["param"], grad=d["grad"], states=tuple(d["states"]),
        conditions=tuple(_condition(c, f"condition of {op}") for c in d["conditions"]),
        requires=tuple(_condition(c, f"requires of {op}") for c in d["requires"]),
        host=tuple(HostValue(**_take(h, {"name", "cpp", "py"}, f"host value of {op}")) for h in d["host"]),
        programs=tuple(programs), variant_programs=tuple(d["variant_programs"]), classes=tuple(classes),
        bench_attrs=tuple((b["name"], b["py"]) for b in (_take(b, {"name", "py"}, f"bench attr of {op}")
                                                          for b in d["bench_attrs"])))


def _op(data: Mapping[str, Any], root: Path) -> Op:
    d = _take(data, {"name", "kind", "doc", "file", "line", "inputs", "outputs", "attrs", "dtypes", "devices",
                     "module", "differentiable", "extension", "bench_shapes", "test_shapes", "derived"},
              f"op {data.get('name')}")
    derived = dict(d["derived"])
    derived.setdefault("backward_schema", "")  # absent when nothing is differentiable
    common = {"schema", "backward_schema", "python_signature"}
    kind_keys = {"elementwise": {"forward_cpp", "reference_py", "gradients"}, "attention": set(),
                 "optimizer": {"optimizer"}}
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
    if d["kind"] == "optimizer":
        extra = {"optimizer": _optimizer(derived["optimizer"], d["name"])}
    return Op(
        name=d["name"], kind=d["kind"], doc=d["doc"], location=Location(_rel(d["file"], root), d["line"]),
        inputs=tuple(d["inputs"]), outputs=tuple(d["outputs"]), attrs=attrs, dtypes=tuple(d["dtypes"]),
        devices=tuple(d["devices"]), module=d["module"], differentiable=tuple(d["differentiable"]),
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
    e = _take(exts[0], {"name", "namespace", "package", "doc", "file", "line"}, "extension")
    ops = tuple(sorted((_op(o, root) for o in data["ops"]), key=lambda o: o.name))
    return Extension(name=e["name"], namespace=e["namespace"], package=e["package"], doc=e["doc"],
                     location=Location(_rel(e["file"], root), e["line"]), ops=ops, sources=knowledge.sources)
