"""Expression trees: the terms the expression calculus (semantics/core/expr.pl) derives, as typed, frozen data.

Prolog hands an expression over as plain data (expr_data/2): a number, a name (a string), or
{"op": Op, "args": [...]}. decode() turns that into the nodes below and refuses anything else, so what
reaches grimoire/emit/ is only numbers, identifiers and the calculus's own operations. The emitters
(grimoire/emit/cpp.py, grimoire/emit/python.py) are the one place that turns these trees into code text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BINARY",
    "COMPARISONS",
    "REDUCTIONS",
    "UNARY",
    "BinOp",
    "Body",
    "Call",
    "Clamp",
    "Compare",
    "Cond",
    "Const",
    "Expr",
    "ExprError",
    "If",
    "Let",
    "Logic",
    "Name",
    "Neg",
    "Not",
    "Num",
    "Pow",
    "Reduce",
    "Tmp",
    "Where",
    "decode",
    "decode_body",
    "decode_cond",
    "decode_host",
    "decode_lets",
]

# The calculus's operations by the name expr_data/2 gives them. Unary functions: semantics/core/expr.pl's
# unary_fn/2 (tests/test_emit.py holds the two lists equal).
UNARY = frozenset({"exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "erf", "abs", "relu",
                   "softplus", "sign"})
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
COMPARISONS = frozenset({"gt", "lt", "ge", "le", "eq", "ne"})
REDUCTIONS = frozenset({"sum", "mean", "max", "min"})  # over a row (rowwise); one argument
CONSTANTS = {"pi": math.pi}  # expr.pl's constant_name/2
LOGIC = frozenset({"and", "or", "implies"})  # the optimizer's conditions: (A, B), (A ; B), (A -> B)

# ASCII identifiers only: anything else (a quote, a space, a non-ASCII letter) must never reach code.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ExprError(ValueError):
    """Data that is not an expression of the calculus: a bug in the rules, never a spec to render."""


@dataclass(frozen=True)
class Num:
    value: int | float

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise ExprError(f"not a number: {self.value!r}")
        if isinstance(self.value, float) and not math.isfinite(self.value):
            raise ExprError(f"not a finite number: {self.value!r}")


@dataclass(frozen=True)
class Name:
    id: str

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _IDENTIFIER.match(self.id):
            raise ExprError(f"not an identifier: {self.id!r}")


@dataclass(frozen=True)
class Const:
    """A named constant (pi): its value everywhere but the optimizer host's Python, which spells it math.pi."""
    name: str

    def __post_init__(self) -> None:
        if self.name not in CONSTANTS:
            raise ExprError(f"not a named constant: {self.name!r}")

    @property
    def value(self) -> float:
        return CONSTANTS[self.name]


@dataclass(frozen=True)
class Tmp:
    """A let-bound temporary of common-subexpression elimination (cse/3's tmp(I))."""
    index: int

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0:
            raise ExprError(f"not a temporary's index: {self.index!r}")


@dataclass(frozen=True)
class Neg:
    arg: Expr


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * /
    left: Expr
    right: Expr

    def __post_init__(self) -> None:
        if self.op not in BINARY.values():
            raise ExprError(f"not an arithmetic operator: {self.op!r}")


@dataclass(frozen=True)
class Pow:
    base: Expr
    exponent: Expr  # a Num: the grammar's powers are by a number; an optimizer host scalar's by any expression


@dataclass(frozen=True)
class Clamp:
    """max(A, C) / min(A, C): elementwise maximum / minimum with a number."""
    fn: str  # max | min
    arg: Expr
    bound: Num

    def __post_init__(self) -> None:
        if self.fn not in ("max", "min"):
            raise ExprError(f"not a clamp: {self.fn!r}")


@dataclass(frozen=True)
class Compare:
    op: str  # gt lt ge le eq ne
    left: Expr
    right: Expr

    def __post_init__(self) -> None:
        if self.op not in COMPARISONS:
            raise ExprError(f"not a comparison: {self.op!r}")


@dataclass(frozen=True)
class Where:
    cond: Compare
    then: Expr
    other: Expr


@dataclass(frozen=True)
class Call:
    """One of the unary functions."""
    fn: str
    arg: Expr

    def __post_init__(self) -> None:
        if self.fn not in UNARY:
            raise ExprError(f"not a unary function of the calculus: {self.fn!r}")


@dataclass(frozen=True)
class Reduce:
    """A reduction over the row (rowwise): sum, mean, max or min of an element expression."""
    fn: str
    arg: Expr

    def __post_init__(self) -> None:
        if self.fn not in REDUCTIONS:
            raise ExprError(f"not a row reduction: {self.fn!r}")


@dataclass(frozen=True)
class Not:
    """A condition's negation (\\+ A): optimizer host conditions only."""
    arg: Cond


@dataclass(frozen=True)
class Logic:
    """(A, B), (A ; B), (A -> B) of conditions: optimizer host conditions only."""
    op: str  # and | or | implies
    left: Cond
    right: Cond

    def __post_init__(self) -> None:
        if self.op not in LOGIC:
            raise ExprError(f"not a connective: {self.op!r}")


@dataclass(frozen=True)
class If:
    """if(Cond, A, B) of an optimizer host scalar: A where the condition over the attrs holds, else B."""
    cond: Cond
    then: Expr
    other: Expr


# A condition over the attrs: a bool attr, a comparison, or connectives of those.
Cond = Name | Compare | Not | Logic
Expr = Num | Const | Name | Tmp | Neg | BinOp | Pow | Clamp | Compare | Where | Call | Reduce | If


@dataclass(frozen=True)
class Let:
    tmp: Tmp
    value: Expr


@dataclass(frozen=True)
class Body:
    """An expression after common-subexpression elimination: temporaries in dependency order, then the result."""
    lets: tuple[Let, ...]
    result: Expr

    def inlined(self) -> Expr:
        """The expression before elimination: each temporary replaced by its value."""
        values = {let.tmp: let.value for let in self.lets}

        def sub(e: Any) -> Any:
            if isinstance(e, Tmp):
                return sub(values[e]) if e in values else e
            if isinstance(e, (Num, Const, Name)):
                return e
            return type(e)(**{f: sub(getattr(e, f)) if not isinstance(getattr(e, f), str) else getattr(e, f)
                              for f in e.__dataclass_fields__})

        return sub(self.result)


def names_in(e: Any) -> set[str]:
    """The names an expression tree reads (inputs, attrs, row scalars)."""
    if isinstance(e, Name):
        return {e.id}
    if not hasattr(e, "__dataclass_fields__"):
        return set()
    out: set[str] = set()
    for f in e.__dataclass_fields__:
        v = getattr(e, f)
        for x in (v if isinstance(v, tuple) else (v,)):
            out |= names_in(x)
    return out


def _args(d: Mapping[str, Any], n: int) -> list[Any]:
    args = d.get("args")
    if not isinstance(args, list) or len(args) != n:
        raise ExprError(f"{d.get('op')!r} takes {n} argument(s): {d!r}")
    return args


def decode(data: Any, host: bool = False) -> Expr:
    """The expression tree of expr_data/2's data; ExprError for anything outside the calculus. `host`: an
    optimizer host scalar, which may also have if/3 and powers by an expression (pow(beta1, step))."""
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return Num(data)
    if isinstance(data, str):
        return Name(data)
    if not isinstance(data, Mapping) or set(data) != {"op", "args"}:
        raise ExprError(f"not an expression: {data!r}")
    op = data["op"]
    arity = len(data["args"]) if isinstance(data["args"], list) else -1
    if op in BINARY:
        a, b = _args(data, 2)
        return BinOp(BINARY[op], decode(a, host), decode(b, host))
    if op in COMPARISONS:
        a, b = _args(data, 2)
        return Compare(op, decode(a, host), decode(b, host))
    if op == "neg":
        return Neg(decode(_args(data, 1)[0], host))
    if op == "tmp":
        return Tmp(_args(data, 1)[0])
    if op == "const":
        return Const(_args(data, 1)[0])
    if op == "pow" and host:
        a, n = _args(data, 2)
        return Pow(decode(a, host), decode(n, host))
    if op == "if" and host:
        c, a, b = _args(data, 3)
        return If(decode_cond(c), decode(a, host), decode(b, host))
    if op == "pow" or op in ("max", "min") and arity == 2:
        a, n = _args(data, 2)
        bound = decode(n)
        if not isinstance(bound, Num):
            raise ExprError(f"{op}'s second argument must be a number: {data!r}")
        return Pow(decode(a, host), bound) if op == "pow" else Clamp(op, decode(a, host), bound)
    if op == "where":
        c, a, b = _args(data, 3)
        cond = decode(c)
        if not isinstance(cond, Compare):
            raise ExprError(f"where's condition must be a comparison: {data!r}")
        return Where(cond, decode(a, host), decode(b, host))
    if op in UNARY:
        return Call(op, decode(_args(data, 1)[0], host))
    if op in REDUCTIONS:
        return Reduce(op, decode(_args(data, 1)[0], host))
    raise ExprError(f"not an operation of the calculus: {op!r}")


def decode_lets(data: Any) -> tuple[Let, ...]:
    """The lets of expr.pl's lets_data/2: [[I, Expr], ...]."""
    if not isinstance(data, (list, tuple)):
        raise ExprError(f"not a list of lets: {data!r}")
    lets = []
    for pair in data:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ExprError(f"not a let: {pair!r}")
        lets.append(Let(Tmp(pair[0]), decode(pair[1])))
    return tuple(lets)


def decode_body(data: Mapping[str, Any]) -> Body:
    """A Body from expr.pl's body_data/2: {"lets": [[I, Expr], ...], "result": Expr}."""
    if not isinstance(data, Mapping) or set(data) != {"lets", "result"}:
        raise ExprError(f"not a let-bound body: {data!r}")
    return Body(decode_lets(data["lets"]), decode(data["result"]))


def decode_host(data: Any) -> Expr:
    """An optimizer host scalar (spec scalars, lifted constants): decode/2 with if/3 and any power."""
    return decode(data, host=True)


def decode_cond(data: Any) -> Cond:
    """A condition over the attrs (the optimizer's if/3 and requires): a bool attr, a comparison of host
    expressions, or not / and / or / implies of conditions."""
    if isinstance(data, str):
        return Name(data)
    if isinstance(data, Mapping) and data.get("op") == "not":
        return Not(decode_cond(_args(data, 1)[0]))
    if isinstance(data, Mapping) and data.get("op") in LOGIC:
        a, b = _args(data, 2)
        return Logic(data["op"], decode_cond(a), decode_cond(b))
    if isinstance(data, Mapping) and data.get("op") in COMPARISONS:
        a, b = _args(data, 2)
        return Compare(data["op"], decode_host(a), decode_host(b))
    raise ExprError(f"not a condition: {data!r}")
