"""rowwise: the roles of the inputs in a row, the loss, and the planned passes of forward and backward."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..emit import cpp as emit_cpp
from ..emit import python as emit_py
from ..emit.cpp import Param
from ..expr import (
    Body,
    Cond,
    Expr,
    Let,
    Not,
    decode,
    decode_body,
    decode_cond,
    decode_lets,
    names_in,
)
from ..model import Attr, StoredGrad, _freeze, _take
from . import KindModel, backward_note


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
    reduction: str  # sum | mean | max | min | sum_exp (the online plans only) | var | m2 (the CPU plans only)
    # sum_exp: the sum of exp(result - shift), reduced while the max statistic `shift` is (same pass,
    # same body); the GPU kernels' online plans (semantics/kinds/rowwise.pl's online/3).
    # var / m2: the mean / sum of (result - shift)^2, reduced while the mean statistic `shift` is, by
    # Welford's update; the CPU kernels' plans (moments/3).
    shift: str | None = None
    shift_slot: int | None = None  # a sum_exp's, var's or m2's: its shift's index among the pass's statistics
    folded: bool = False  # a max or mean whose pass's sum_exp or var updates and reduces it, with its own sum

    @property
    def shift_scratch(self) -> int:
        """Where a sum_exp's shift's warp partials start in a GPU block's scratch: 32 slots a statistic."""
        return self.shift_slot * 32

    @property
    def is_mean(self) -> bool:
        """Whether the statistic is a mean: its terms are scaled by 1/n (NaN for an empty row)."""
        return self.reduction == "mean"

    @property
    def is_sum(self) -> bool:
        """Whether the statistic is a plain sum or mean (the CPU adds its terms in blocks: grimoire::BlockSum)."""
        return self.reduction in ("sum", "mean")

    @property
    def is_moment(self) -> bool:
        """Whether the statistic sums squared deviations from its shift, a mean reduced with it (Welford)."""
        return self.reduction in ("var", "m2")

    @property
    def is_var(self) -> bool:
        """Whether the statistic is a Welford variance: its squared deviations over n (NaN for an empty row)."""
        return self.reduction == "var"

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

    @property
    def n_scalars(self) -> int:
        """The row scalars the body reads: a row's values in the buffer a CUDA column kernel reads them from."""
        return len(self.scalars)

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
    # A recheck pass's statistics as their scaled unscaled sums give them (rowwise.pl's factor_stats/5):
    # the pass runs only for a row where one of those is not finite.
    recheck: tuple[RowLet, ...] = ()

    @property
    def skip_cpp(self) -> str:
        """The C++ condition under which the pass is skipped ("" where it never is)."""
        if self.guard is None:
            return ""
        return emit_cpp.cond(self.guard.arg) if isinstance(self.guard, Not) else f"!{emit_cpp.cond(self.guard)}"

    @property
    def rerun_cpp(self) -> str:
        """A recheck pass's C++ condition to run: a statistic its scaled sum gave is not finite."""
        return " || ".join(f"!std::isfinite({r.name}_s)" for r in self.recheck)

    @property
    def n_stats(self) -> int:
        """The statistics the pass reduces: the size of its accumulator arrays."""
        return len(self.stats)

    @property
    def online(self) -> bool:
        """Whether the pass reduces a max-shifted sum of exp online (a GPU pack takes it in one chunk)."""
        return any(s.is_sum_exp for s in self.stats)

    @property
    def has_moment(self) -> bool:
        """Whether the pass reduces a variance with its mean (Moments: the CPU's plans)."""
        return any(s.is_moment for s in self.stats)

    @property
    def has_mean(self) -> bool:
        """Whether the pass reduces a plain mean (the CPU's sums its terms' deviations from the row's first)."""
        return any(s.is_mean for s in self.stats)

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

    @property
    def target(self) -> str:
        """The element output the value is kept in between the passes (<target>_out)."""
        return self.final.targets[0].name


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


_BODY = {"params", "scalars", "lets", "results"}


def _body(d: Mapping[str, Any]) -> dict[str, Any]:
    return {"params": tuple(d["params"]), "scalars": tuple(d["scalars"]), "let_terms": decode_lets(d["lets"]),
            "result_terms": tuple(decode(r) for r in d["results"])}


def _rowlevel(d: Mapping[str, Any], what: str) -> RowLevel:
    d = _take(d, {"body", "scalars"}, what)
    return RowLevel(decode_body(d["body"]), frozenset(d["scalars"]))


def _let(d: Mapping[str, Any], what: str) -> RowLet:
    d = _take(d, {"name", "value"}, what)
    return RowLet(d["name"], _rowlevel(d["value"], what))


def _final(d: Mapping[str, Any] | None, what: str) -> RowFinal | None:
    if d is None:
        return None
    f = _take(d, _BODY | {"targets"}, what)
    return RowFinal(**_body(f), targets=tuple(RowTarget(**_take(t, {"kind", "name"}, what)) for t in f["targets"]))


def _stats(ds: list[Mapping[str, Any]], what: str) -> tuple[RowStat, ...]:
    """A pass's statistics; an online sum of exp (or a Welford variance) knows its shift's slot, and that
    max (or mean) is folded into it."""
    ds = [_take(st, {"name", "reduction", "shift"}, what) for st in ds]
    slot = {st["name"]: i for i, st in enumerate(ds)}
    shifts = {st["shift"] for st in ds if st["shift"] is not None}
    missing = shifts - slot.keys()
    if missing:
        raise ValueError(f"{what}: a folded statistic's shift {sorted(missing)} is not in its pass")
    return tuple(RowStat(st["name"], st["reduction"], st["shift"],
                         slot[st["shift"]] if st["shift"] is not None else None, st["name"] in shifts)
                 for st in ds)


def _plan(d: Mapping[str, Any] | None, what: str) -> RowPlan | None:
    """A planned sweep over a row, typed; None where the op has none (a backward of nothing)."""
    if d is None:
        return None
    p = _take(d, {"pre", "passes", "final", "cached", "row_outputs"}, what)
    passes = []
    for q in p["passes"]:
        q = _take(q, _BODY | {"stats", "lets_after", "guard", "recheck"}, f"pass of {what}")
        passes.append(RowPass(**_body(q), stats=_stats(q["stats"], what),
                              lets_after=tuple(_let(x, what) for x in q["lets_after"]),
                              guard=decode_cond(q["guard"]) if q["guard"] is not None else None,
                              recheck=tuple(_let(x, what) for x in q["recheck"])))
    cached = None
    if p["cached"] is not None:
        c = _take(p["cached"], {"pass", "index", "final"}, f"cached final of {what}")
        cached = RowCached(pass_index=c["pass"], index=c["index"], final=_final(c["final"], what))
    return RowPlan(pre=tuple(_let(x, what) for x in p["pre"]), passes=tuple(passes),
                   final=_final(p["final"], what), cached=cached,
                   row_outputs=tuple(RowOutput(o["target"], _rowlevel(o["value"], what))
                                     for o in (_take(o, {"target", "value"}, what) for o in p["row_outputs"])))


def _loss(d: Mapping[str, Any], what: str) -> Loss:
    d = _take(d, {"attr", "count"}, what)
    return Loss(d["attr"], _rowlevel(d["count"], what) if d["count"] is not None else None)


@dataclass(frozen=True)
class PeerForm:
    """How the op's torch peer takes its arguments (semantics/kinds/rowwise.pl's peer_form/2)."""
    callee: str  # the dotted torch function
    dim_after_inputs: bool  # the inputs, then the row dim -1, by position
    normalized_shape: bool  # x, [n], the column inputs, then attrs: as torch.nn.functional's norms
    keywords: bool  # the inputs by position, the attrs by name


@dataclass(frozen=True)
class RowwiseDetails:
    """A rowwise op's record (Op.details): the roles of its inputs, its loss, its planned passes."""
    reference_py: str
    row_roles: RowRoles
    loss: Loss | None
    forward_plan: RowPlan  # passes over a row, see semantics/kinds/rowwise.pl
    backward_plan: RowPlan | None  # None where nothing is differentiable
    # The same with max-shifted sums of exp reduced online, in their shift's pass: the CUDA kernels'.
    online_forward_plan: RowPlan
    online_backward_plan: RowPlan | None
    # The same with each variance about a mean reduced with that mean (Welford): the CPU kernels'.
    cpu_forward_plan: RowPlan
    cpu_backward_plan: RowPlan | None
    row_gradients: tuple[Mapping[str, Any], ...]  # input, expr, derived: for comments
    saved_outputs: tuple[str, ...]  # outputs the backward reads
    peer_form: PeerForm | None  # None where the spec names no peer


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> RowwiseDetails:
    roles = _take(derived["row_roles"], {"element", "column", "index", "ignore", "output_is_element",
                                         "scalar_attrs", "column_init"}, f"row roles of {d['name']}")
    loss = derived["loss"]
    return RowwiseDetails(
        reference_py=emit_py.row_expr(decode(derived["reference"])),
        row_roles=RowRoles(
            element=tuple(roles["element"]), column=tuple(roles["column"]), index=tuple(roles["index"]),
            ignore=roles["ignore"], output_is_element=bool(roles["output_is_element"]),
            scalar_attrs=tuple(roles["scalar_attrs"]), column_init=_freeze(roles["column_init"])),
        loss=_loss(loss, f"loss of {d['name']}") if loss else None,
        forward_plan=_plan(derived["forward_plan"], f"forward plan of {d['name']}"),
        backward_plan=_plan(derived["backward_plan"], f"backward plan of {d['name']}"),
        online_forward_plan=_plan(derived["online_forward_plan"], f"online forward plan of {d['name']}"),
        online_backward_plan=_plan(derived["online_backward_plan"], f"online backward plan of {d['name']}"),
        cpu_forward_plan=_plan(derived["cpu_forward_plan"], f"CPU forward plan of {d['name']}"),
        cpu_backward_plan=_plan(derived["cpu_backward_plan"], f"CPU backward plan of {d['name']}"),
        row_gradients=_freeze(derived["gradients_text"]),
        saved_outputs=tuple(d["outputs"][:1]) if derived["reads_output"] else (),
        peer_form=PeerForm(**_take(derived["peer_form"], {"callee", "dim_after_inputs", "normalized_shape",
                                                          "keywords"}, f"peer form of {d['name']}"))
        if derived["peer_form"] else None,
    )


def _sweeps(plan: RowPlan) -> str:
    """A plan's sweeps over a row, for `grimoire info`: each statistic pass's reductions, then the outputs."""
    parts = []
    for i, p in enumerate(plan.passes, 1):
        stats = ", ".join(f"{s.reduction} {s.name}" for s in p.stats)
        when = " (only on a row whose scaled sum overflows)" if p.recheck else (" (for some attrs)" if p.guard else "")
        parts.append(f"{i}: {stats}{when}")
    if plan.final is not None:
        parts.append(f"{len(plan.passes) + 1}: the outputs")
    return "; ".join(parts)


def _info(op: Any) -> tuple[tuple[str, str], ...]:
    """The reference, the planned sweeps over a row, and each input's gradient over the row (sum/mean: row
    reductions), derived or given."""
    def sweeps(plan: RowPlan, variants: tuple[tuple[str, RowPlan], ...]) -> str:
        # The CPU's plans and CUDA's for rows too long for registers may sweep fewer times.
        fewer = [f"{who}: {_sweeps(v)}" for who, v in variants if len(v.passes) < len(plan.passes)]
        return _sweeps(plan) + "".join(f" ({f})" for f in fewer)

    def variants(cpu: RowPlan | None, online: RowPlan | None) -> tuple[tuple[str, RowPlan], ...]:
        return tuple((who, v) for who, v in (("CPU", cpu), ("CUDA rows too long for registers", online))
                     if v is not None)

    plans = (("forward sweeps", op.forward_plan, variants(op.cpu_forward_plan, op.online_forward_plan)),
             ("backward sweeps", op.backward_plan, variants(op.cpu_backward_plan, op.online_backward_plan)))
    return (*([("reference", op.reference_py)] if op.reference_py else []),
            *((k, sweeps(p, v)) for k, p, v in plans if p is not None),
            *backward_note(op, tuple((f"d/d{g['input']}", g["expr"] + ("" if g["derived"] else "  (given in the spec)"))
                                     for g in (op.row_gradients or ()))))


def _stored_grad(op: Any) -> StoredGrad | None:
    """The CUDA forward of a loss with one value per row (per_row_loss) also writes its input's gradient when
    that input needs one (<op>_forward_grad): its backward is the upstream gradient times d(loss_row)/dx, so
    the forward stores that product for an upstream gradient of 1 (over the mean's count) and the backward
    only scales it: the input is read once for both passes. Not for reduction "none"."""
    if not (op.per_row_loss and "cuda" in op.devices):
        return None
    return StoredGrad(op.row_roles.element[0], op.loss.attr)


def _test_value(op: Any, a: Attr) -> str:
    """A rowwise test's value for the attr, as Python: another choice of a str, -1 for the ignored
    index (a class index no row has), a float doubled, an int plus one, a bool flipped."""
    if a.is_str:
        others = [c for c in a.choices if c != a.default] or [a.default]
        return f'"{others[-1]}"'
    if a.name == op.row_roles.ignore:
        return "-1"
    if a.is_float:
        return str((a.default or 0.2) * 2)
    if a.is_int:
        return str((a.default or 1) + 1)
    return "False" if a.default else "True"


def _attr_draws(op: Any, a: Attr) -> str:
    """The values, as a Python tuple, rowwise property tests draw the attr from: its default and others
    (every choice of a str; -1 and 0, classes torch then ignores, for the ignored index)."""
    if a.is_str:
        return repr(tuple(a.choices))
    if a.name == op.row_roles.ignore:
        return f"({a.default}, -1, 0)"
    if a.is_float:
        return f"({a.py_default if a.has_default else '0.2'}, {(a.default or 0.2) * 2})"
    if a.is_int:
        return f"({a.default if a.has_default else 1}, {(a.default or 1) + 1})"
    return "(False, True)"


class RowwiseOp:
    """What a rowwise op adds to Op for its templates: the row kernels' signatures, the inputs a
    row pass reads, the loss's shapes, the register and streamed plans and what they share.
    Op reaches these through KindModel.view."""

    def __init__(self, op: Any) -> None:
        self.op = op

    def __getattr__(self, name: str) -> Any:  # the op's own fields and properties
        return getattr(self.op, name)

    @property
    def per_row_loss(self) -> bool:
        """Whether the op is a loss with one value per row of one element input (the one differentiated),
        whose backward reads no output and has no column gradients: its gradient is each row's upstream
        value times d(loss_row)/dx, which <op>_loss_grad_into computes for a linear_loss op."""
        r = self.row_roles
        return (self.loss is not None and not r.output_is_element
                and self.backward_plan is not None and len(r.element) == 1
                and tuple(self.differentiable) == r.element and not self.saved_outputs
                and not self.column_gradients)

    @property
    def column_targets(self) -> tuple[RowTarget, ...]:
        """The gradients the backward sums over rows, of the column inputs (weight, bias)."""
        return tuple(t for t in self.backward_plan.final.targets if t.kind == "column") if self.backward_plan else ()

    @property
    def column_gradients(self) -> bool:
        """Whether the backward sums gradients over rows for column inputs."""
        return bool(self.column_targets)

    def is_loss_reduction(self, attr: Attr) -> bool:
        """Whether attr is the loss's reduction choice (a per-row call passes "none" for it)."""
        return self.loss is not None and attr.name == self.loss.attr

    @property
    def forward_grad_schema(self) -> str:
        """<op>_forward_grad: the forward's value and the stored gradient ("" unless grad_in_forward)."""
        if not self.grad_in_forward:
            return ""
        head = self.schema.rsplit(" -> ", 1)[0]
        return self.name + "_forward_grad" + head[len(self.name):] + " -> (Tensor, Tensor)"

    @property
    def forward_grad_into_schema(self) -> str:
        """<op>_forward_grad_into: the forward's value, with the stored gradient written into the element
        input itself (a caller's inplace_backward=True): no buffer of its size is allocated ("" unless
        grad_in_forward)."""
        if not self.grad_in_forward:
            return ""
        x0 = self.row_roles.element[0]
        head = self.schema.rsplit(" -> ", 1)[0][len(self.name):]
        head = head.replace(f"(Tensor {x0},", f"(Tensor(a!) {x0},", 1)
        return self.name + "_forward_grad_into" + head + " -> Tensor"

    @property
    def scaled_grad_schema(self) -> str:
        """<op>_scaled_grad: a stored gradient times the upstream one ("" unless grad_in_forward)."""
        return f"{self.name}_scaled_grad(Tensor stored, Tensor grad) -> Tensor" if self.grad_in_forward else ""

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
    def backward_row_inputs(self) -> tuple[str, ...]:
        """The floating tensors a rowwise op's backward reads a row of or a column of: its element and
        column inputs, then the outputs it saved."""
        r = self.row_roles
        return (*r.element, *r.column, *self.saved_outputs)

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
    def forward_aligned_pointers(self) -> tuple[str, ...]:
        """The pointers a CUDA forward reads or writes as 16-byte packs (pack_aligned decides the path):
        the element inputs, and the output where the forward writes one per element."""
        out = (f"{self.outputs[0]}_out",) if self.forward_plan.final else ()
        return (*(f"{i}_data" for i in self.row_roles.element), *out)

    @property
    def backward_aligned_pointers(self) -> tuple[str, ...]:
        """The pointers a CUDA backward reads or writes as packs: its packed elements and the element
        gradients (column gradients are summed, not stored per element)."""
        targets = self.backward_plan.final.targets
        return (*(f"{i}_data" for i in self.backward_packed_elements),
                *(f"{t.name}_out" for t in targets if not t.is_column))

    @property
    def forward_grad_aligned_pointers(self) -> tuple[str, ...]:
        """The pointers the CUDA forward that stores its input's gradient reads or writes as packs."""
        return (*(f"{i}_data" for i in self.row_roles.element),
                *(f"{t.name}_out" for t in self.backward_plan.final.targets))

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
    def cpu_fallback_type(self) -> str:
        """The CPU scalar type a CUDA call computes in where the CPU kernel serves it (rows of no
        elements): the widest float the CPU kernel takes (a value over an empty set is the same in
        any dtype)."""
        cpu = self.scalar_types_on("cpu")
        return "Double" if "Double" in cpu else ("Float" if "Float" in cpu else cpu[0])

    @property
    def dim_follows_inputs(self) -> bool:
        """Whether the wrapper takes dim by position right after the inputs, as the op's torch peer does
        (torch.sum(x, dim, keepdim), torch.softmax(x, dim)): the peer passes the op's inputs, then the row
        dim -1, by position. Elsewhere dim is keyword-only. Not where an attr without a default would
        follow dim (Python allows none after one with a default)."""
        form = self.peer_form
        return bool(form and form.dim_after_inputs and all(a.has_default for a in self.attrs))

    @property
    def takes_normalized_shape(self) -> bool:
        """Whether the op's torch peer is a norm called as torch.nn.functional's are: the element input,
        its row's length as a normalized_shape (`[shape(x, -1)]`), the column inputs, then attrs in the
        op's order (by position or by name). The functional form then takes normalized_shape there."""
        return bool(self.peer_form and self.peer_form.normalized_shape)

    @property
    def functional_form(self) -> str:
        """How the package's functional module offers the op under its torch peer's name, as torch calls
        it: "dim" (the wrapper itself, whose dim follows the inputs), "normalized_shape" (a norm taking
        torch.nn.functional's normalized_shape, columns optional), "keywords" (the wrapper itself: the
        peer passes the inputs by position and every attr by name, as a loss's reduction), "" (not
        offered: the op is not named as its peer, or is called otherwise)."""
        if self.peer_callee.rsplit(".", 1)[-1] != self.name:
            return ""
        if self.dim_follows_inputs:
            return "dim"
        if self.takes_normalized_shape:
            return "normalized_shape"
        return "keywords" if self.peer_form.keywords else ""

    @property
    def functional_is_own(self) -> bool:
        """Whether the functional module offers the op's own function (functional_form "dim" with one
        dim, or "keywords" without index inputs)."""
        return ((self.functional_form == "dim" and not self.dims_together)
                or (self.functional_form == "keywords" and not self.row_roles.index))

    @property
    def functional_wraps(self) -> bool:
        """Whether the functional module defines its own function around the op's (functional_reduces_all or
        functional_classes_on_dim1): it imports the op's module under a private name."""
        return self.functional_reduces_all or self.functional_classes_on_dim1

    @property
    def functional_classes_on_dim1(self) -> bool:
        """Whether the functional module offers the op with its rows on dim 1, as torch's classification
        losses take (N, C, d1, ...) logits: a "keywords" op with index inputs (class targets)."""
        return self.functional_form == "keywords" and bool(self.row_roles.index)

    @property
    def functional_loss_signature(self) -> str:
        """The op's parameters, unannotated, for functional_classes_on_dim1 (the op's function has the
        types); the attrs by name only, as torch's third argument is something else (a class weight)."""
        return ", ".join((*self.inputs, "*", *(f"{a.name}={a.py_default}" if a.has_default else a.name
                                                for a in self.attrs),
                          *(("inplace_backward=False",) if self.grad_in_forward else ())))

    @property
    def functional_loss_call_args(self) -> tuple[str, ...]:
        """How functional_classes_on_dim1 passes its parameters on: the attrs by name, and the rows'
        dim, 1 for batched logits (the last for a single row of classes, as torch's)."""
        return (*self.inputs, *(f"{a}={a}" for a in self.attr_names),
                f"dim=1 if {self.row_roles.element[0]}.dim() >= 2 else -1",
                *(("inplace_backward=inplace_backward",) if self.grad_in_forward else ()))

    @property
    def functional_reduces_all(self) -> bool:
        """Whether the functional module offers the op with dim None by default, every dim reduced, as
        torch's reductions do (functional_form "dim" with dims_together)."""
        return self.functional_form == "dim" and self.dims_together

    @property
    def functional_signature(self) -> str:
        """The wrapper's parameters with dim None by default (functional_reduces_all), unannotated: the
        op's function, which it calls, has the types."""
        return ", ".join((*self.inputs, "dim=None", *(f"{a.name}={a.py_default}" for a in self.attrs), "*",
                          "dtype=None"))

    @property
    def functional_call_args(self) -> tuple[str, ...]:
        """How the functional form passes its parameters on to the op's wrapper: by name past dim."""
        return (*self.inputs, "dim", *(f"{a}={a}" for a in self.attr_names), "dtype=dtype")

    @property
    def functional_takes_shape(self) -> bool:
        """Whether the functional module offers over_normalized_shape (functional_form "normalized_shape")."""
        return self.functional_form == "normalized_shape"

    @property
    def peer_callee(self) -> str:
        """The dotted torch function the op's peer calls ("" without one)."""
        return self.peer_form.callee if self.peer_form else ""

    @property
    def dims_together(self) -> bool:
        """Whether dim may name several dims reduced as one row (a tuple or list; None: every dim), as the
        torch reduction the op's peer is: one value per row, no column or index inputs, no column index
        read, no loss, dim by position. The wrapper moves the dims last and flattens them into the row."""
        r = self.row_roles
        return (self.dim_follows_inputs and not r.output_is_element and not r.column and not r.index
                and not self.loss and not self.reference_reads_col)

    @property
    def wrapper_signature(self) -> str:
        """The Python wrapper's parameters: the op's own with dim (the row's dim, -1 by default) right
        after the inputs where dim_follows_inputs, and then torch's keyword-only dtype (the inputs are
        cast to it first); else dim keyword-only at the end."""
        dim = f"dim: {'Dims' if self.dims_together else 'int'} = -1"
        if self.dim_follows_inputs:
            return ", ".join((*self.inputs, dim, *self.py_params, "*", "dtype: Optional[torch.dtype] = None"))
        return f"{self.python_signature}, *, {dim}{self._inplace_param}"

    @property
    def _inplace_param(self) -> str:
        """The wrappers' last keyword of a grad_in_forward op: inplace_backward (its gradient may be written
        over the element input)."""
        return ", inplace_backward: bool = False" if self.grad_in_forward else ""

    @property
    def flat_call_args(self) -> tuple[str, ...]:
        """The op's arguments as the wrapper passes them for several dims reduced as one row: each (element)
        input with those dims flattened into its last, keepdim False (the wrapper puts the dims back)."""
        return (*(f"flatten_dims({i}, dims)" for i in self.inputs),
                *("False" if a == "keepdim" else a for a in self.attr_names))

    @property
    def takes_keepdim(self) -> bool:
        """Whether a rowwise op takes a keepdim attr: its output may keep the reduced dim as 1."""
        return "keepdim" in self.attr_names

    @property
    def caches_backward(self) -> bool:
        """Whether the CPU backward keeps its last statistic pass's values in its one element gradient, read
        back by the final pass (cross_entropy's exp(x - max): one exp an element, not two)."""
        return bool(self.backward_plan and self.backward_plan.cached)

    @property
    def caches_forward(self) -> bool:
        """Whether the CPU forward leaves its last statistic pass's values in the output, read back by the
        final pass: its plan caches them and the op is no loss (a loss's output is not per element)."""
        return bool(self.forward_plan.cached) and not self.loss

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

    @property
    def attrs_but_reduction(self) -> tuple[Attr, ...]:
        """The attrs less a loss's reduction choice: what a per-row entry takes."""
        return tuple(a for a in self.attrs if not self.is_loss_reduction(a))

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


MODELS = {"rowwise": KindModel(frozenset({"row_roles", "loss", "reference", "forward_plan", "backward_plan",
                                          "online_forward_plan", "online_backward_plan", "cpu_forward_plan",
                                          "cpu_backward_plan", "gradients_text",
                                          "reads_output", "value_names", "peer_form"}),
                               _build, derives_backward=True, info=_info,
                               without_backward={"backward_plan": None, "online_backward_plan": None,
                                                 "cpu_backward_plan": None}, view=RowwiseOp,
                               package_modules=("functional",),
                               # Its planned backward is one <op>_backward call: C++ autograd.
                               cpp_autograd=lambda op: op.backward_plan is not None,
                               saved_outputs=lambda op: op.saved_outputs, stored_grad=_stored_grad,
                               extra_schemas=lambda op: (op.forward_grad_schema, op.forward_grad_into_schema, op.scaled_grad_schema,
                                                         op.loss_grad_into_schema),
                               index_inputs=lambda op: op.row_roles.index, test_value=_test_value,
                               attr_draws=_attr_draws)}
