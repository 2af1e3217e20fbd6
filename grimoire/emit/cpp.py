"""C++ text of expression trees: expressions over a type V (the opmath scalar or at::vec::Vectorized), with
the helpers of runtime/grimoire.h in grimoire::, every literal a V, every operation parenthesised."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..expr import (
    UNARY,
    BinOp,
    Body,
    Call,
    Clamp,
    Compare,
    Cond,
    Const,
    Expr,
    ExprError,
    If,
    Let,
    Logic,
    Name,
    Neg,
    Not,
    Num,
    Pow,
    Reduce,
    Tmp,
    Where,
)

__all__ = ["Param", "Signature", "body", "cond", "expr", "host", "in_ptr", "let_lines", "name", "number", "out_ptr",
           "rowlevel", "scalar_type_list"]


@dataclass(frozen=True)
class Param:
    """One parameter of a generated C++ function: its type as C++ spells it, and its name."""
    type: str
    name: str


@dataclass(frozen=True)
class Signature:
    """A generated function's parameters: declared (`params`) and passed on under the same names (`args`),
    so a kernel's declaration and its launches cannot disagree."""
    parts: tuple[Param, ...]

    @property
    def params(self) -> str:
        return ", ".join(f"{p.type} {p.name}" for p in self.parts)

    @property
    def args(self) -> str:
        return ", ".join(p.name for p in self.parts)

    def __add__(self, other: Signature) -> Signature:
        return Signature(self.parts + other.parts)


def function_type(returns: str, param_types: Iterable[str]) -> str:
    """A C++ function type, as c10's typed<...>() takes it."""
    return f"{returns}({', '.join(param_types)})"


def tensors_type(n: int) -> str:
    """What a C++ function returning n tensors returns: one tensor, or a tuple of them."""
    return "at::Tensor" if n == 1 else "std::tuple<" + ", ".join(["at::Tensor"] * n) + ">"


def tensors_value(names: Iterable[str]) -> str:
    """The return value of tensors_type(len(names)): the one tensor, or a braced tuple of them."""
    names = tuple(names)
    return names[0] if len(names) == 1 else "{" + ", ".join(names) + "}"


def in_ptr(element: str, restrict: bool = True) -> str:
    """A kernel's read-only pointer to elements of a type (__restrict__: no other pointer aliases it)."""
    return f"const {element}*" + (" __restrict__" if restrict else "")


def out_ptr(element: str, restrict: bool = True) -> str:
    """A kernel's pointer it writes elements through."""
    return f"{element}*" + (" __restrict__" if restrict else "")


def scalar_type_list(types: Iterable[str]) -> str:
    """The dtypes an AT_DISPATCH_V2 dispatches to: `at::ScalarType::Float, at::ScalarType::Half`."""
    return ", ".join(f"at::ScalarType::{Name(t).id}" for t in types)


def number(value: float) -> str:
    """A literal of type V: integers as written, floats with 17 significant digits (a double's every bit)."""
    n = Num(value)  # refuses bools, NaN and infinities
    return f"V({n.value})" if isinstance(n.value, int) else f"V({n.value:.17g})"


def name(identifier: str, scalars: frozenset[str] = frozenset()) -> str:
    """A name as C++ reads it: a row-level scalar R is the opmath variable R_s."""
    n = Name(identifier)  # refuses anything that is not an ASCII identifier
    return n.id + "_s" if n.id in scalars else n.id


def expr(e: Expr, scalars: frozenset[str] = frozenset()) -> str:
    """C++ for e. Names in `scalars` get the _s suffix of row-level code (rowwise)."""
    def go(x: Expr) -> str:
        return expr(x, scalars)

    if isinstance(e, (Num, Const)):
        return number(e.value)
    if isinstance(e, Name):
        return name(e.id, scalars)
    if isinstance(e, Tmp):
        return f"tmp_{Tmp(e.index).index}"
    if isinstance(e, Neg):
        return f"(-{go(e.arg)})"
    if isinstance(e, Pow):
        if not isinstance(e.exponent, Num):
            raise ExprError(f"a power by an expression is a host scalar's (host()): {e!r}")
        n = e.exponent.value
        # Small integer and half-integer powers become multiplications and roots: pow() is the slowest path.
        if isinstance(n, int) and n == 2:
            return f"grimoire::square({go(e.base)})"
        if isinstance(n, int) and 3 <= n <= 8:
            return f"grimoire::ipow<{n}>({go(e.base)})"
        if isinstance(n, int) and n == -1:
            return f"(V(1) / {go(e.base)})"
        if n == 0.5:
            return f"grimoire::sqrt({go(e.base)})"
        if n == -0.5:
            return f"grimoire::rsqrt({go(e.base)})"
        return f"grimoire::pow({go(e.base)}, {go(e.exponent)})"
    if isinstance(e, Clamp):
        fn = {"max": "maximum", "min": "minimum"}[e.fn]
        return f"grimoire::{fn}({go(e.arg)}, {go(e.bound)})"
    if isinstance(e, Where):
        c = e.cond
        return f"grimoire::where(grimoire::{c.op}({go(c.left)}, {go(c.right)}), {go(e.then)}, {go(e.other)})"
    if isinstance(e, BinOp):
        return f"({go(e.left)} {e.op} {go(e.right)})"
    if isinstance(e, Call) and e.fn in UNARY:
        return f"grimoire::{e.fn}({go(e.arg)})"
    if isinstance(e, (Compare, Reduce, If)):
        raise ExprError(f"{type(e).__name__} has no C++ value of its own here: {e!r}")
    raise ExprError(f"not an expression tree: {e!r}")


def let_lines(lets: Iterable[Let], scalars: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """`const V tmp_I = ...;` for each let, in order."""
    return tuple(f"const V {expr(let.tmp)} = {expr(let.value, scalars)};" for let in lets)


def body(b: Body, scalars: frozenset[str] = frozenset()) -> tuple[tuple[str, ...], str]:
    """The let lines and the result expression of a body."""
    return let_lines(b.lets, scalars), expr(b.result, scalars)


def rowlevel(b: Body, scalars: frozenset[str]) -> str:
    """A row-level value on opmath scalars (named R_s) as one C++ expression: an immediately called lambda."""
    lets, result = body(b, scalars)
    return f"[&] {{ {' '.join(lets)} return static_cast<opmath_t>({result}); }}()"


_CMP = {"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "eq": "==", "ne": "!="}


def host(e: Expr) -> str:
    """C++ over V = double of an optimizer host scalar: if/3 a conditional expression, every power pow()
    (the exponent is often the step count), the functions as grimoire:: helpers."""
    if isinstance(e, (Num, Const, Name)):
        return expr(e)
    if isinstance(e, If):
        return f"({cond(e.cond)} ? {host(e.then)} : {host(e.other)})"
    if isinstance(e, Neg):
        return f"(-{host(e.arg)})"
    if isinstance(e, BinOp):
        return f"({host(e.left)} {e.op} {host(e.right)})"
    if isinstance(e, Pow):
        return f"grimoire::pow({host(e.base)}, {host(e.exponent)})"
    if isinstance(e, Call):
        return f"grimoire::{e.fn}({host(e.arg)})"
    raise ExprError(f"not a host expression: {e!r}")


def cond(c: Cond) -> str:
    """C++ of a condition over the attrs (bools and doubles on the host)."""
    if isinstance(c, Name):
        return name(c.id)
    if isinstance(c, Not):
        return f"(!{cond(c.arg)})"
    if isinstance(c, Logic):
        a, b = cond(c.left), cond(c.right)
        return {"and": f"({a} && {b})", "or": f"({a} || {b})", "implies": f"(!{a} || {b})"}[c.op]
    if isinstance(c, Compare):
        return f"({host(c.left)} {_CMP[c.op]} {host(c.right)})"
    raise ExprError(f"not a condition: {c!r}")


def stored_grad_when(tensor: str, reduction: str) -> str:
    """When a loss's forward stores its input's gradient (model.StoredGrad): a CUDA tensor not in float16,
    and a reduction that is not "none"."""
    return (f'{tensor}.is_cuda() && {tensor}.scalar_type() != at::ScalarType::Half && {reduction} != "none"')
