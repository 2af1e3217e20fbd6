"""Python text of expression trees: the PyTorch reference composites of generated ops, every operation
parenthesised, numbers spelt as SWI-Prolog writes them (the spelling generated files have always had)."""

from __future__ import annotations

from decimal import Decimal

from ..expr import (
    BinOp,
    Call,
    Clamp,
    Compare,
    Cond,
    Const,
    Expr,
    ExprError,
    If,
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

__all__ = ["EXTREME", "MATH", "TORCH", "cond", "expr", "host", "name", "number", "row_expr"]

# Each unary function of the calculus as torch computes it.
TORCH = {"exp": "torch.exp", "log": "torch.log", "log1p": "torch.log1p", "sqrt": "torch.sqrt",
         "rsqrt": "torch.rsqrt", "sin": "torch.sin", "cos": "torch.cos", "tanh": "torch.tanh",
         "sigmoid": "torch.sigmoid", "erf": "torch.erf", "abs": "torch.abs", "relu": "torch.relu",
         "softplus": "torch.nn.functional.softplus", "sign": "torch.sign"}
_CMP = {"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "eq": "==", "ne": "!="}
# The host's functions on Python floats (the optimizer's scalars, computed once per step in double).
MATH = {"sqrt": "math.sqrt", "exp": "math.exp", "log": "math.log", "log1p": "math.log1p", "abs": "abs",
        "sin": "math.sin", "cos": "math.cos", "tanh": "math.tanh", "erf": "math.erf"}
_REDUCE = {"sum": "torch.sum", "mean": "torch.mean"}
# torch.amax/amin raise on an empty row; the kernels give the reduction's identity (-inf / +inf), and so
# does _row_extreme, which a rowwise op's module defines where its reference reads one.
EXTREME = "_row_extreme"


def number(value: float) -> str:
    """A Python literal of the number, as SWI-Prolog's ~w writes it: the shortest digits that read back the
    same double, positional from 1e-4 up to 1e15, else d.ddde+X; always a '.0' in a float."""
    n = Num(value)  # refuses bools, NaN and infinities
    if isinstance(n.value, int):
        return str(n.value)
    sign, digits, exp = Decimal(repr(n.value)).as_tuple()
    if n.value == 0 or -4 <= len(digits) + exp - 1 < 15:
        return repr(n.value)  # Python spells this range positionally too, with its shortest digits
    point = len(digits) + exp - 1  # the decimal exponent of the leading digit
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    mantissa = mantissa[0] + "." + (mantissa[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}e{point:+d}"


def name(identifier: str) -> str:
    return Name(identifier).id  # refuses anything that is not an ASCII identifier


def _render(e: Expr, row: bool) -> str:
    def go(x: Expr) -> str:
        return _render(x, row)

    if isinstance(e, (Num, Const)):
        return number(e.value)
    if isinstance(e, Name):
        return name(e.id)
    if isinstance(e, Neg):
        return f"(-{go(e.arg)})"
    if isinstance(e, Pow) and isinstance(e.exponent, Num):
        return f"torch.pow({go(e.base)}, {number(e.exponent.value)})"
    if isinstance(e, Clamp):
        # max(A, C) bounds A from below: clamp_min.
        return f"torch.clamp_{'min' if e.fn == 'max' else 'max'}({go(e.arg)}, {number(e.bound.value)})"
    if isinstance(e, Where):
        c = e.cond
        cond = f"{go(c.left)} {_CMP[c.op]} {go(c.right)}"
        # A condition over attrs alone is a Python bool, which torch.where refuses: in a row reference,
        # as_tensor makes it a tensor on the row's device (col's); a tensor condition passes unchanged.
        if row:
            cond = f"torch.as_tensor({cond}, device=col.device)"
        return f"torch.where({cond}, {go(e.then)}, {go(e.other)})"
    if isinstance(e, BinOp):
        return f"({go(e.left)} {e.op} {go(e.right)})"
    if isinstance(e, Call):
        return f"{TORCH[e.fn]}({go(e.arg)})"
    if isinstance(e, Reduce) and row:
        if e.fn in ("max", "min"):
            return f"{EXTREME}({go(e.arg)}, largest={e.fn == 'max'})"
        return f"{_REDUCE[e.fn]}({go(e.arg)}, -1, keepdim=True)"
    if isinstance(e, (Compare, Reduce, Tmp, If, Pow)):
        raise ExprError(f"{type(e).__name__} has no Python value of its own here: {e!r}")
    raise ExprError(f"not an expression tree: {e!r}")


def expr(e: Expr) -> str:
    """The PyTorch reference of an elementwise expression."""
    return _render(e, row=False)


def row_expr(e: Expr) -> str:
    """The PyTorch reference of a rowwise expression: row reductions keep the reduced dim."""
    return _render(e, row=True)


def host(e: Expr) -> str:
    """Python over floats of an optimizer host value (a spec scalar, a lifted constant): what the generated
    optimizer computes once per step, the C++ host's twin."""
    if isinstance(e, Const):
        return f"math.{e.name}"
    if isinstance(e, (Num, Name)):
        return _render(e, row=False)
    if isinstance(e, (If, Where)):
        return f"({host(e.then)} if {cond(e.cond)} else {host(e.other)})"
    if isinstance(e, Neg):
        return f"(-{host(e.arg)})"
    if isinstance(e, Pow):
        return f"({host(e.base)} ** {host(e.exponent)})"
    if isinstance(e, Clamp):
        return f"{e.fn}({host(e.arg)}, {host(e.bound)})"
    if isinstance(e, BinOp):
        return f"({host(e.left)} {e.op} {host(e.right)})"
    if isinstance(e, Call):
        a = host(e.arg)
        if e.fn in MATH:
            return f"{MATH[e.fn]}({a})"
        # The functions math lacks, as floats compute them.
        composed = {"sigmoid": f"(1.0 / (1.0 + math.exp(-{a})))", "relu": f"max({a}, 0.0)",
                    "softplus": f"math.log1p(math.exp({a}))", "sign": f"float(({a} > 0) - ({a} < 0))",
                    "rsqrt": f"(1.0 / math.sqrt({a}))"}
        if e.fn in composed:
            return composed[e.fn]
    raise ExprError(f"not a host expression: {e!r}")


def cond(c: Cond) -> str:
    """Python of a condition over the attrs: a bool attr through bool(), connectives as words."""
    if isinstance(c, Name):
        return f"bool({name(c.id)})"
    if isinstance(c, Not):
        return f"(not {cond(c.arg)})"
    if isinstance(c, Logic):
        a, b = cond(c.left), cond(c.right)
        return {"and": f"({a} and {b})", "or": f"({a} or {b})", "implies": f"(not {a} or {b})"}[c.op]
    if isinstance(c, Compare):
        return f"({host(c.left)} {_CMP[c.op]} {host(c.right)})"
    raise ExprError(f"not a condition: {c!r}")


def stored_grad_when(tensor: str, reduction: str) -> str:
    """When a loss's forward stores its input's gradient (model.StoredGrad), as emit.cpp's stored_grad_when."""
    return f'{tensor}.is_cuda and {tensor}.dtype != torch.float16 and {reduction} != "none"'
