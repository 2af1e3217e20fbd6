"""Stage 2 — model: the exported knowledge as typed, frozen dataclasses.

Loaders take exactly the keys they know and reject leftovers, so a drift between the Prolog export
and this module fails loudly here rather than as a template error later. What is particular to a kind
is loaded by its model in grimoire/kinds/; this module names no kind.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Optional

from .diagnostics import Diagnostic, SpecError
from .emit import cpp as emit_cpp
from .emit import python as emit_py
from .emit.cpp import Param
from .expr import Body, Cond, Expr, Let, Not, names_in
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


@dataclass(frozen=True)
class RowLevel:
    """A row-level value (semantics/kinds/rowwise.pl): a body over the row's scalars, which C++ code names R_s."""
    body: Body
    scalars: frozenset[str]  # the row scalars it reads

    @property
    def cpp(self) -> str:
        return emit_cpp.rowlevel(self.body, self.scalars)


@dataclass(frozen=True)
class RowLet:
    """A value computed once per row (semantics/kinds/rowwise.pl hoists them)."""
    name: str
    value: RowLevel

    @property
    def code(self) -> str:
        return self.value.cpp


# Whether the CUDA rowwise kernels of the streamed path run the online plans (a max-shifted sum of exp
# reduced in its max's pass), so that such a row is read twice, not three times. Their 16-byte packs
# take the pack's max first, then its exps, then one rescale (online_chunk): a step per element, each
# exp waiting on the running max, had made softmax's streamed forward slower than two passes on an H100
# (benchmarks/results/llm-scale/README.md). The register path keeps the plain plans: its passes read
# registers, so an online one would save only a block reduction.
ONLINE_STREAM = True


@dataclass(frozen=True)
class RowStat:
    """A row statistic a pass reduces: tmp_s<i> = reduction over the row of the pass's result i."""
    name: str
    reduction: str  # sum | mean | max | min | sum_exp (the online plans only)
    # sum_exp: the sum of exp(result - shift), reduced while the max statistic `shift` is (same pass,
    # same body); the GPU kernels' online plans (semantics/kinds/rowwise.pl's online/3).
    shift: str | None = None
    shift_slot: int | None = None  # a sum_exp's: its shift's index among the pass's statistics
    folded: bool = False  # a max whose pass's sum_exp updates and reduces it, with its own sum

    @property
    def shift_scratch(self) -> int:
        """Where a sum_exp's shift's warp partials start in a GPU block's scratch: 32 slots a statistic."""
        return self.shift_slot * 32

    @property
    def is_mean(self) -> bool:
        """Whether the statistic is a mean: its terms are scaled by 1/n (NaN for an empty row)."""
        return self.reduction == "mean"

    @property
    def is_sum_exp(self) -> bool:
        """Whether the statistic is a max-shifted sum of exp, reduced online with its shift."""
        return self.reduction == "sum_exp"

    @property
    def functor(self) -> str:
        """The row reduction's functor in grimoire_rowwise.cuh (a mean sums its terms over n; a sum_exp
        and its shift reduce together, as OnlineMaxSum pairs)."""
        return {"sum": "RowSum", "mean": "RowSum", "max": "RowMax", "min": "RowMin",
                "sum_exp": "OnlineMaxSum"}[self.reduction]


@dataclass(frozen=True)
class RowTarget:
    """What a final body writes: an output of the row's elements, a column gradient, a row value."""
    kind: str  # element | column | row
    name: str

    @property
    def is_column(self) -> bool:
        """Whether the target is a column gradient: summed over the rows, not written per row."""
        return self.kind == "column"


@dataclass(frozen=True)
class RowBody:
    """An expression over a row's elements: its parameters (inputs, col), the row scalars it reads, the
    temporaries it starts with and the values it yields (trees; their C++ from grimoire/emit/cpp.py)."""
    params: tuple[str, ...]
    scalars: tuple[str, ...]
    let_terms: tuple[Let, ...]
    result_terms: tuple[Expr, ...]

    @property
    def lets(self) -> tuple[str, ...]:
        return emit_cpp.let_lines(self.let_terms)

    @property
    def results(self) -> tuple[str, ...]:
        return tuple(emit_cpp.expr(r) for r in self.result_terms)

    @property
    def n_results(self) -> int:
        """The values the body yields: the size of the array its lambda returns."""
        return len(self.result_terms)

    def among(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """The body's parameters that are among `names` (the column inputs, the elements a CUDA sweep loads
        in packs), in the order of `names`."""
        return tuple(e for e in names if e in self.params)

    def n_packed(self, packed: tuple[str, ...]) -> int:
        """How many of the `packed` element inputs the body reads: the tensors a CUDA sweep loads in packs."""
        return len(self.among(packed))


@dataclass(frozen=True)
class RowPass(RowBody):
    """One sweep over the row reducing its results into statistics, then the row lets those allow."""
    stats: tuple[RowStat, ...]
    lets_after: tuple[RowLet, ...]
    # When the statistics are read at all, over the scalar attrs and n (None: always); the kernels skip
    # the pass otherwise (rowwise.pl's guarded/4).
    guard: Optional[Cond] = None

    @property
    def skip_cpp(self) -> str:
        """The C++ condition under which the pass is skipped ("" where it never is)."""
        if self.guard is None:
            return ""
        return emit_cpp.cond(self.guard.arg) if isinstance(self.guard, Not) else f"!{emit_cpp.cond(self.guard)}"

    @property
    def n_stats(self) -> int:
        """The statistics the pass reduces: the size of its accumulator arrays."""
        return len(self.stats)

    @property
    def online(self) -> bool:
        """Whether the pass reduces a max-shifted sum of exp online (a GPU pack takes it in one chunk)."""
        return any(s.is_sum_exp for s in self.stats)

    @property
    def single_stat(self) -> bool:
        """Whether the pass reduces one statistic (a GPU block reduces it alone, not as a tuple)."""
        return len(self.stats) == 1

    @property
    def reductions(self) -> tuple[str, ...]:
        """The reductions of the pass's statistics, in order: for the kernels' comments."""
        return tuple(s.reduction for s in self.stats)


@dataclass(frozen=True)
class FusedSharing:
    """What the halves of a fused forward-and-backward kernel share (Op.fused_sharing): the statistics the
    backward takes from the forward, and the backward passes it therefore skips."""
    stats: tuple[str, ...]
    passes: tuple["RowPass", ...]

    def shares(self, p: "RowPass") -> bool:
        """Whether the backward pass p is one the fused kernel does not run (its statistics are shared)."""
        return p in self.passes


@dataclass(frozen=True)
class RowFinal(RowBody):
    """The last sweep: each result written to its target."""
    targets: tuple[RowTarget, ...]


@dataclass(frozen=True)
class RowCached:
    """A final body whose value a statistic pass already computed (its pass and result index)."""
    pass_index: int
    index: int
    final: RowFinal

    def at_pass(self, i: int) -> bool:
        """Whether the value is computed in the plan's pass i (0-based): that pass stores it."""
        return self.pass_index == i


@dataclass(frozen=True)
class RowOutput:
    """A value per row (a loss's row value), written after the passes."""
    target: str
    value: RowLevel

    @property
    def code(self) -> str:
        return self.value.cpp


@dataclass(frozen=True)
class RowPlan:
    """How a rowwise op sweeps a row: row lets first, statistic passes, then the final body."""
    pre: tuple[RowLet, ...]
    passes: tuple[RowPass, ...]
    final: Optional[RowFinal]
    cached: Optional[RowCached]
    row_outputs: tuple[RowOutput, ...]

    @property
    def scratch_size(self) -> int:
        """The shared scratch a GPU block's reductions over the plan take: 32 warp slots for each statistic
        of its widest pass."""
        return 32 * self.widest_pass

    @property
    def widest_pass(self) -> int:
        """The most statistics one pass reduces (at least 1): a kernel's shared scratch holds a warp's
        worth of partials for each."""
        return max([1, *(len(p.stats) for p in self.passes)])


@dataclass(frozen=True)
class RowRoles:
    """What each input of a rowwise op is: varies along the row, one per column, or one per row."""
    element: tuple[str, ...]
    column: tuple[str, ...]
    index: tuple[str, ...]
    ignore: str  # the int attr marking an ignored index, "" if none
    output_is_element: bool  # one output value per element (else one per row)
    scalar_attrs: tuple[str, ...]  # attrs the expressions read
    column_init: Mapping[str, str]  # module parameter init per column input: ones | zeros

    @property
    def scalar_inputs(self) -> tuple[str, ...]:
        """The inputs of the scalar type, element then column: the row kernels' data pointers, in order."""
        return (*self.element, *self.column)

    @property
    def n_element(self) -> int:
        """The inputs of the rows' shape: a row's bytes are this many rows of the scalar type."""
        return len(self.element)


@dataclass(frozen=True)
class RowName:
    """What a name in a rowwise op's kernels and module stands for (Op.row_name): the column index `col`,
    the CPU kernels' cached temporary, an input or value per element of the row, an input of one value a
    column, an index input of one value a row, or a loss's upstream gradient (in opmath; one value for
    every element where the loss sums)."""
    name: str
    role: str  # col | cached | element | column | index | loss_grad

    @property
    def is_col(self) -> bool:
        return self.role == "col"

    @property
    def is_cached(self) -> bool:
        return self.role == "cached"

    @property
    def is_element(self) -> bool:
        """A value per element of the row of the op's dtype: a CUDA sweep reads it in 16-byte packs."""
        return self.role == "element"

    @property
    def is_column(self) -> bool:
        return self.role == "column"

    @property
    def is_index(self) -> bool:
        return self.role == "index"

    @property
    def is_loss_grad(self) -> bool:
        return self.role == "loss_grad"


@dataclass(frozen=True)
class Loss:
    attr: str  # the choice([none, mean, sum]) attr
    count: Optional[RowLevel]  # per-row denominator of 'mean', None for the element count

    @property
    def count_cpp(self) -> str:
        return self.count.cpp if self.count else ""

    @property
    def count_py(self) -> str:
        return emit_py.expr(self.count.body.inlined()) if self.count else ""


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
class Condition:
    """A condition over the attrs, as a tree; its C++ (host doubles and bools) and Python by grimoire/emit/."""
    terms: Cond
    text: str  # as people read it, for error messages
    names: tuple[str, ...]  # the attrs it reads

    @property
    def cpp(self) -> str:
        return emit_cpp.cond(self.terms)

    @property
    def py(self) -> str:
        return emit_py.cond(self.terms)


@dataclass(frozen=True)
class HostValue:
    """A value computed once per tensor on the host in double: a spec scalar or a lifted constant."""
    name: str
    terms: Expr
    lifted: bool  # a constant subterm of the rules: its C++ is the element loop's (emit_cpp.expr)

    @property
    def cpp(self) -> str:
        return emit_cpp.expr(self.terms) if self.lifted else emit_cpp.host(self.terms)

    @property
    def py(self) -> str:
        return emit_py.host(self.terms)


@dataclass(frozen=True)
class TensorUse:
    name: str
    read: bool
    written: bool


@dataclass(frozen=True)
class ProgramRule:
    """A let (a per-element local) or an update (a tensor's new value) of an optimizer program."""
    kind: str  # let | update
    name: str
    body: Body  # temporaries numbered across the program: they never collide


@dataclass(frozen=True)
class Program:
    """The per-element rules of one optimizer variant: statements over a type V, scalar or Vectorized."""
    index: int
    tensors: tuple[TensorUse, ...]
    uniforms: tuple[str, ...]  # numeric attrs and host values it reads
    rules: tuple[ProgramRule, ...]

    @property
    def cpp(self) -> tuple[str, ...]:
        lines: list[str] = []
        for r in self.rules:
            lets, result = emit_cpp.body(r.body)
            decl = "const V " if r.kind == "let" else ""
            lines += [*lets, f"{decl}{emit_cpp.name(r.name)} = {result};"]
        return tuple(lines)

    @property
    def py(self) -> tuple[str, ...]:
        """The rules as Python over tensors (the reference step), each expression whole."""
        return tuple(f"{emit_py.name(r.name)} = {emit_py.expr(r.body.inlined())}" for r in self.rules)

    @property
    def cpp_params(self) -> str:
        """The C++ parameter list of the program's function: tensors it writes by reference."""
        ps = [f"{'V&' if t.written else 'const V&'} {t.name}" for t in self.tensors]
        return ", ".join(ps + [f"const V& {u}" for u in self.uniforms])

    def uses(self, tensor: str) -> bool:
        return any(t.name == tensor for t in self.tensors)

    @property
    def n_tensors(self) -> int:
        """The tensors the program reads or writes: the size of its role and mask tables."""
        return len(self.tensors)

    @property
    def py_params(self) -> tuple[str, ...]:
        """The keyword parameters of the program's Python reference step: its tensors, then its uniforms."""
        return (*(t.name for t in self.tensors), *self.uniforms)


@dataclass(frozen=True)
class ClassParam:
    name: str
    attrs: tuple[str, ...]  # one attr, or the attrs a tuple argument groups
    py_default: str

    @property
    def groups_attrs(self) -> bool:
        """Whether the constructor argument is a tuple grouping several attrs (Adam's betas), not one."""
        return len(self.attrs) > 1


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

    @property
    def n_tensors(self) -> int:
        """The tensor roles of one parameter (param, grad, states): a CUDA chunk holds a pointer to each."""
        return len(self.tensors)

    @property
    def n_states(self) -> int:
        """The optimizer's state tensors per parameter."""
        return len(self.states)

    @property
    def n_programs(self) -> int:
        """The variants the attrs pick among (one program each)."""
        return len(self.programs)

    @property
    def n_variants(self) -> int:
        """The combinations of the conditions: the size of the variant-to-program table."""
        return len(self.variant_programs)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The optimizer classes over the op, as the package exports them."""
        return tuple(c.name for c in self.classes)

    def states_used(self, program: Program) -> tuple[str, ...]:
        return tuple(s for s in self.states if program.uses(s))

    @property
    def lists(self) -> tuple[str, ...]:
        """The op's tensor-list arguments, in order: params, grads, one per state, state_steps."""
        return tuple(f"{t}s" for t in self.tensors) + ("state_steps",)

    @property
    def n_lists(self) -> int:
        """The op's tensor-list arguments: each parameter has one extent (one tensor) in each."""
        return len(self.lists)


@dataclass(frozen=True)
class Activation:
    """One activation an epilogue can apply (semantics/core/activation.pl): C++ over V for the forward
    (over z, the pre-activation) and for its gradient (over g and z, or g and y)."""
    name: str
    body: ExprBody
    grad: ExprBody
    grad_from: str  # "output": the gradient reads the output y; "preact": it reads the pre-activation z
    cublaslt: str  # the cuBLASLt epilogue computing it ("RELU", "GELU", "DEFAULT"), "" if none
    module: str  # the torch module it replaces, as Python
    reference: str  # the torch function, a format string over the pre-activation
    # What a backward test differentiates for an activation with a kink (relu), a format string over {z} and the
    # op's own output {y}: the side of the kink the op's forward chose. "" when smooth: the reference itself.
    backward_reference: str
    grad_text: str = ""  # the gradient g * d act/dz as an expression (grimoire info)

    @property
    def cublaslt_bias_only(self) -> bool:
        """Whether cuBLASLt's epilogue for it adds only the bias (DEFAULT): the identity activation."""
        return self.cublaslt == "DEFAULT"

    @property
    def cublaslt_relu(self) -> bool:
        """Whether cuBLASLt's RELU epilogue computes it (which keeps no pre-activation)."""
        return self.cublaslt == "RELU"

    @property
    def cublaslt_gelu(self) -> bool:
        """Whether cuBLASLt's GELU epilogue computes it (GELU_AUX keeps the pre-activation)."""
        return self.cublaslt == "GELU"

    @property
    def is_none(self) -> bool:
        """Whether this is the identity activation ("none"): the epilogue applies nothing."""
        return self.name == "none"

    @property
    def reads_preact(self) -> bool:
        """Whether the gradient reads the pre-activation z (else the output y): the op must keep z."""
        return self.grad_from == "preact"

    def reference_of(self, expr: str) -> str:
        return self.reference.replace("{}", expr)

    def backward_reference_of(self, z: str, y: str) -> str:
        if not self.backward_reference:
            return self.reference_of(z)
        return self.backward_reference.replace("{z}", z).replace("{y}", y)


@dataclass(frozen=True)
class ConvSpec:
    """What a conv op's product reads: the attrs giving stride, padding, dilation and groups, or constants."""
    stride: str
    padding: str
    dilation: str
    groups: str


@dataclass(frozen=True)
class Epilogue:
    """A product (gemm: linear or matmul; conv: conv2d) followed by an optional bias and an activation."""
    layout: str  # linear (a @ b^T, b [out, in]) | matmul (a @ b) | conv2d
    a: str
    b: str
    bias: str  # the bias input, "" for none
    activations: tuple[Activation, ...]
    act_attr: str  # the choice attr picking the activation at run time, "" when fixed
    needs_preact: bool  # the op returns the pre-activation for the backward as a second output
    conv: Optional[ConvSpec] = None

    @property
    def fixed(self) -> Optional[Activation]:
        return None if self.act_attr else self.activations[0]

    def activation(self, name: str) -> Activation:
        return next(a for a in self.activations if a.name == name)

    @property
    def operands(self) -> tuple[str, ...]:
        return (self.a, self.b, self.bias) if self.bias else (self.a, self.b)

    @property
    def n_operands(self) -> int:
        """The tensors the op takes, so the gradients its backward gives."""
        return len(self.operands)

    @property
    def linear(self) -> bool:
        """Whether b is a Linear weight [out, in], read transposed."""
        return self.layout == "linear"

    @property
    def activation_names(self) -> tuple[str, ...]:
        """The names of the activations the epilogue can apply, in the spec's order."""
        return tuple(a.name for a in self.activations)

    @property
    def no_activation(self) -> bool:
        """Whether the op applies no activation at all (its one fixed activation is none): a plain product."""
        return bool(self.fixed) and self.fixed.is_none


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
    def backward_row_inputs(self) -> tuple[str, ...]:
        """The floating tensors a rowwise op's backward reads a row of or a column of: its element and
        column inputs, then the outputs it saved."""
        r = self.row_roles
        return (*r.element, *r.column, *self.saved_outputs)

    @property
    def grad_name(self) -> str:
        """The name of the upstream gradient of the op's (first) output in its backward's code."""
        return f"grad_{self.outputs[0]}"

    @property
    def sums_loss(self) -> bool:
        """Whether a rowwise op is a loss with a value per element and no count (mse_loss): on CUDA its
        forward sums the terms in the kernel for 'sum' / 'mean', and its backward reads the one upstream
        value instead of an expanded copy."""
        return bool(self.loss) and self.row_roles.output_is_element and not self.loss.count_cpp

    def sums_loss_on(self, device: str) -> bool:
        """Whether the forward on this device sums a loss's terms in its kernel (sums_loss, on CUDA)."""
        return self.sums_loss and device == "cuda"

    @property
    def backward_row_elements(self) -> tuple[str, ...]:
        """The per-element values a rowwise op's backward passes read in a row: the element inputs, the
        saved outputs, and the incoming gradient where the output has a value per element."""
        r = self.row_roles
        return (*r.element, *self.saved_outputs, *([self.grad_name] if r.output_is_element else []))

    @property
    def module_inputs(self) -> tuple[str, ...]:
        """What a rowwise op's module's forward takes: the inputs but the column ones, its parameters."""
        return tuple(i for i in self.inputs if i not in self.row_roles.column)

    @property
    def backward_packed_elements(self) -> tuple[str, ...]:
        """The backward's per-element values a CUDA pass loads in packs of VEC: a loss's upstream gradient
        may be one value (sums_loss), so it is read element by element."""
        return tuple(e for e in self.backward_row_elements if not (self.loss and e == self.grad_name))

    @property
    def row_out_type(self) -> str:
        """What a rowwise forward kernel stores: a loss keeps its terms as opmath values until reduced."""
        return "opmath_t" if self.loss else "scalar_t"

    def row_forward_kernel(self, device: str) -> emit_cpp.Signature:
        """The parameters of a rowwise op's forward over rows (forward_rows and the CUDA kernels): the
        row length, its element, column and index inputs, the output, the scalar attrs, and a summing
        loss's per-block partials on CUDA."""
        restrict = device == "cuda"
        out = "at::opmath_type<scalar_t>" if self.loss else "scalar_t"
        r = self.row_roles
        partial = (Param(emit_cpp.out_ptr("at::opmath_type<scalar_t>"), "partial_out"),) \
            if self.sums_loss_on(device) else ()
        return emit_cpp.Signature((
            Param("int64_t", "rows"), Param("int64_t", "n"),
            *(Param(emit_cpp.in_ptr("scalar_t", restrict), f"{i}_data") for i in (*r.element, *r.column)),
            *(Param(emit_cpp.in_ptr("int64_t", restrict), f"{i}_data") for i in r.index),
            Param(emit_cpp.out_ptr(out, restrict), f"{self.outputs[0]}_out"),
            *self._scalar_attr_params, *partial))

    def row_backward_kernel(self, device: str) -> emit_cpp.Signature:
        """The parameters of a rowwise op's backward over rows: the inputs and saved outputs it reads, the
        upstream gradient, each target's output (a column gradient's accumulator: <t>_acc on CUDA, where
        a kernel adds into its slot, <t>_acc_all on the CPU, every slot), the scalar attrs, and on CUDA
        whether a summing loss's upstream gradient is one value."""
        restrict = device == "cuda"
        grad = "at::opmath_type<scalar_t>" if self.loss else "scalar_t"
        acc = "_acc" if device == "cuda" else "_acc_all"
        targets = tuple(Param(emit_cpp.out_ptr("at::opmath_type<scalar_t>", restrict), t.name + acc)
                        if t.kind == "column" else Param(emit_cpp.out_ptr("scalar_t", restrict), f"{t.name}_out")
                        for t in self.backward_plan.final.targets)
        scalar = (Param("bool", f"{self.grad_name}_scalar"),) if self.sums_loss_on(device) else ()
        return emit_cpp.Signature((
            Param("int64_t", "rows"), Param("int64_t", "n"),
            *(Param(emit_cpp.in_ptr("scalar_t", restrict), f"{i}_data") for i in self.backward_row_inputs),
            *(Param(emit_cpp.in_ptr("int64_t", restrict), f"{i}_data") for i in self.row_roles.index),
            Param(emit_cpp.in_ptr(grad, restrict), f"{self.grad_name}_data"),
            *targets, *self._scalar_attr_params, *scalar))

    @property
    def row_forward_grad_kernel(self) -> emit_cpp.Signature:
        """The fused CUDA kernel of grad_in_forward: the forward's parameters, then each row's upstream
        value and the gradients it writes."""
        return self.row_forward_kernel("cuda") + emit_cpp.Signature((
            Param(emit_cpp.in_ptr("at::opmath_type<scalar_t>"), f"{self.grad_name}_data"),
            *(Param(emit_cpp.out_ptr("scalar_t"), f"{t.name}_out") for t in self.backward_plan.final.targets)))

    @property
    def forward_grad_scratch(self) -> int:
        """The fused kernels' shared scratch, in opmath values: a warp's partials (32) for each statistic of
        the widest pass of either half, on either path."""
        return 32 * max(plan.widest_pass for plan in (self.forward_plan, self.backward_plan,
                                                      self.stream_forward_plan, self.stream_backward_plan))

    @property
    def _scalar_attr_params(self) -> tuple[Param, ...]:
        # The attrs a rowwise op's expressions read, as doubles on the host and in kernels.
        return tuple(Param("double", a) for a in self.row_roles.scalar_attrs)

    @property
    def host_inputs_in(self) -> emit_cpp.Signature:
        """A host entry taking its tensors as <input>_in (made contiguous inside) and its attrs."""
        return emit_cpp.Signature((*(Param("const at::Tensor&", f"{i}_in") for i in self.inputs),
                                   *(Param(a.cpp_type, a.name) for a in self.attrs)))

    @property
    def loss_grad_into_params(self) -> tuple[str, ...]:
        """The Python parameters of <op>_loss_grad_into: the op's arguments less the reduction, then the
        rows' upstream values and the gradient written into."""
        return (*self.inputs, *(a.name for a in self.attrs if a.name != self.loss.attr), "row_grad", "grad")

    @property
    def unreduced_call_args(self) -> tuple[str, ...]:
        """The op's own arguments as Python passes them on with reduction 'none' (a loss's per-row values)."""
        return (*self.inputs, *('"none"' if a.name == self.loss.attr else a.name for a in self.attrs))

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

    def _reference_reads(self, name: str) -> bool:
        text = " ".join(t for t in (self.reference_py, self.loss.count_py if self.loss else None) if t)
        return re.search(rf"(?<![.\w]){name}\b", text) is not None

    @property
    def reference_takes_extremes(self) -> bool:
        """Whether a rowwise op's torch reference takes a row max or min: its module then defines
        _row_extreme (torch.amax raises on an empty row, where the kernels give -inf)."""
        return f"{emit_py.EXTREME}(" in (self.reference_py or "")

    @property
    def reference_reads_n(self) -> bool:
        """Whether the torch reference of a rowwise op reads the row length `n`: it is bound only then."""
        return self._reference_reads("n")

    @property
    def reference_reads_col(self) -> bool:
        """Whether the torch reference of a rowwise op reads the column index `col`."""
        return self._reference_reads("col")

    @property
    def stream_forward_plan(self) -> Optional[RowPlan]:
        """The forward plan of the CUDA streamed path: the online one where ONLINE_STREAM, else the plain
        one (the register path runs forward_plan)."""
        return self.online_forward_plan if ONLINE_STREAM else self.forward_plan

    @property
    def stream_backward_plan(self) -> Optional[RowPlan]:
        """The backward plan of the CUDA streamed path (see stream_forward_plan)."""
        return self.online_backward_plan if ONLINE_STREAM else self.backward_plan

    @property
    def register_sharing(self) -> "FusedSharing":
        """What the register path's fused kernel shares between its halves (see fused_sharing)."""
        return self.fused_sharing("register")

    @property
    def stream_sharing(self) -> "FusedSharing":
        """What the streamed path's fused kernel shares between its halves (see fused_sharing)."""
        return self.fused_sharing("stream")

    def fused_sharing(self, path: str) -> "FusedSharing":
        """What the fused forward-and-backward kernel of grad_in_forward shares between its halves on a
        CUDA path ("register": the plain plans, "stream": the streamed path's): the backward plan's row
        statistics that the forward plan computes alike (same name, reduction, shift and expression once
        its temporaries are inlined, reading only statistics that are shared too), which its backward half
        takes from the forward half instead of passing over the row again, and the backward passes whose
        every statistic is shared, which it does not run. Compared one statistic at a time, so that
        cross_entropy's max and sum of exp are shared although its forward's pass also sums the picked
        logit."""
        if not self.grad_in_forward:
            return FusedSharing((), ())
        if path == "register":
            fwd_plan, bwd_plan = self.forward_plan, self.backward_plan
        else:
            fwd_plan, bwd_plan = self.stream_forward_plan, self.stream_backward_plan
        fwd = {st.name: (st.reduction, st.shift, Body(p.let_terms, p.result_terms[i]).inlined())
               for p in fwd_plan.passes for i, st in enumerate(p.stats)}
        stat_names = set(fwd) | {st.name for p in bwd_plan.passes for st in p.stats}
        lets = {let.name for plan in (fwd_plan, bwd_plan)
                for let in plan.pre + tuple(x for p in plan.passes for x in p.lets_after)}
        shared: list[str] = []
        for p in bwd_plan.passes:
            for i, st in enumerate(p.stats):
                closed = Body(p.let_terms, p.result_terms[i]).inlined()
                reads = names_in(closed) | ({st.shift} if st.shift else set())
                reads_ok = all(n in shared or (n not in stat_names and n not in lets) for n in reads)
                if reads_ok and fwd.get(st.name) == (st.reduction, st.shift, closed):
                    shared.append(st.name)
        passes = tuple(p for p in bwd_plan.passes if shared and all(st.name in shared for st in p.stats))
        return FusedSharing(tuple(shared), passes)

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

    @property
    def chunked_attr_names(self) -> tuple[str, ...]:
        """A linear_loss op's Python non-tensor arguments: its attrs, then chunk_rows (the rows per chunk,
        the wrapper's own; the kernels never see it)."""
        return (*self.attr_names, "chunk_rows")

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
    def custom_forward_value(self) -> str:
        return emit_cpp.tensors_value(self.outputs)

    @property
    def custom_backward_value(self) -> str:
        return emit_cpp.tensors_value("grad_" + i for i in self.differentiable)

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
    def cpu_fallback_type(self) -> str:
        """The CPU scalar type a CUDA call computes in where the CPU kernel serves it (rows of no
        elements): the widest float the CPU kernel takes (a value over an empty set is the same in
        any dtype)."""
        cpu = self.scalar_types_on("cpu")
        return "Double" if "Double" in cpu else ("Float" if "Float" in cpu else cpu[0])

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
    def conv_padding_is_attr(self) -> bool:
        """Whether a conv op's padding is an attr a call may set (a spec may fix it)."""
        return self.epilogue.conv.padding in self.attr_names

    @property
    def conv_geometry_attrs(self) -> tuple[str, ...]:
        """A conv op's attrs among its stride, padding, dilation and groups: those a call may set (a spec may
        fix the others)."""
        cv = self.epilogue.conv
        return tuple(g for g in (cv.stride, cv.padding, cv.dilation, cv.groups) if g in self.attr_names)

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
    def backward_kernel_params(self) -> tuple[str, ...]:
        """An elementwise gradient kernel's parameters: the incoming gradient, then the inputs."""
        return (self.grad_name, *self.inputs)

    @property
    def optimizer_call_args(self) -> tuple[str, ...]:
        """An optimizer op's arguments by name: its tensor lists, then its attrs."""
        return (*self.optimizer.lists, *self.attr_names)

    @property
    def on_cuda(self) -> bool:
        """Whether the op has CUDA kernels (cuda among its devices)."""
        return "cuda" in self.devices

    @property
    def takes_keepdim(self) -> bool:
        """Whether a rowwise op takes a keepdim attr: its output may keep the reduced dim as 1."""
        return "keepdim" in self.attr_names

    @property
    def n_inputs(self) -> int:
        """The op's tensor inputs."""
        return len(self.inputs)

    @property
    def n_forward_tensors(self) -> int:
        """The tensors an elementwise forward moves, its inputs and its output: its bytes per element."""
        return len(self.inputs) + 1

    @property
    def single_gradient(self) -> bool:
        """Whether an elementwise op has one gradient expression: its backward returns a tensor, not a tuple."""
        return len(self.gradients) == 1

    @property
    def several_gradients(self) -> bool:
        """Whether an elementwise op has more than one gradient expression: its backward returns a tuple."""
        return len(self.gradients) > 1

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
    def caches_forward(self) -> bool:
        """Whether the CPU forward leaves its last statistic pass's values in the output, read back by the
        final pass: its plan caches them and the op is no loss (a loss's output is not per element)."""
        return bool(self.forward_plan.cached) and not self.loss

    @property
    def stored_grad_slot(self) -> int:
        """Where a C++ autograd function saves the gradient its forward stored: after saved_tensors."""
        return len(self.saved_tensors)

    @property
    def n_saved_outputs(self) -> int:
        """The outputs the backward reads, saved beside the inputs."""
        return len(self.saved_outputs)

    @property
    def n_column_targets(self) -> int:
        """The column gradients a rowwise op's backward sums over rows (see column_targets)."""
        return len(self.column_targets)

    @property
    def n_backward_row_elements(self) -> int:
        """The per-element values a rowwise backward reads in a row (see backward_row_elements)."""
        return len(self.backward_row_elements)

    @property
    def n_backward_packed_elements(self) -> int:
        """The backward's per-element values of the op's dtype (see backward_packed_elements)."""
        return len(self.backward_packed_elements)

    def row_name(self, name: str) -> RowName:
        """What a name in a rowwise op's row bodies or inputs stands for (see RowName)."""
        r = self.row_roles
        if name == "col":
            return RowName(name, "col")
        if name == "tmp_cached":
            return RowName(name, "cached")
        if name in r.column:
            return RowName(name, "column")
        if name in r.index:
            return RowName(name, "index")
        if self.loss is not None and name == self.grad_name:
            return RowName(name, "loss_grad")
        return RowName(name, "element")

    def is_loss_reduction(self, attr: Attr) -> bool:
        """Whether attr is the loss's reduction choice (a per-row call passes "none" for it)."""
        return self.loss is not None and attr.name == self.loss.attr

    @property
    def attrs_but_reduction(self) -> tuple[Attr, ...]:
        """The attrs less a loss's reduction choice: what a per-row entry takes."""
        return tuple(a for a in self.attrs if not self.is_loss_reduction(a))

    @property
    def cuda_dtypes_differ(self) -> bool:
        """Whether the CUDA kernels take other dtypes than the CPU ones (the docstring names them)."""
        return self.dtypes_on("cuda") != self.dtypes

    @property
    def forward_holds_one_row(self) -> bool:
        """Whether a rowwise forward's register kernels hold one row tensor (one element input): the CUDA
        register path's wide shape is for those only."""
        return self.row_roles.n_element == 1

    @property
    def backward_holds_one_row(self) -> bool:
        """Whether a rowwise backward's register kernels hold one row tensor: one per-element value of the
        op's dtype, no loss gradient per element in opmath, no column gradient sums."""
        return self.n_backward_row_elements == 1 and self.n_backward_packed_elements == 1 and not self.column_targets

    @property
    def loss_arg_index(self) -> int | None:
        """A rowwise loss's reduction attr's position among the op's arguments (inputs, then attrs); None
        without a loss."""
        return len(self.inputs) + self.attr_names.index(self.loss.attr) if self.loss else None

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
