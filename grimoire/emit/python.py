"""Python text of expression trees: the PyTorch reference composites of generated ops, every operation
parenthesised, numbers spelt as SWI-Prolog writes them (the spelling generated files have always had)."""

from __future__ import annotations

from decimal import Decimal

from ..expr import (
    BinOp,
    Call,
    Clamp,
    Compare,
    Expr,
    ExprError,
    Name,
    Neg,
    Num,
    Pow,
    Reduce,
    Tmp,
    Where,
)

__all__ = ["TORCH", "expr", "name", "number", "row_expr"]

# Each unary function of the calculus as torch computes it.
TORCH = {"exp": "torch.exp", "log": "torch.log", "log1p": "torch.log1p", "sqrt": "torch.sqrt",
         "rsqrt": "torch.rsqrt", "sin": "torch.sin", "cos": "torch.cos", "tanh": "torch.tanh",
         "sigmoid": "torch.sigmoid", "erf": "torch.erf", "abs": "torch.abs", "relu": "torch.relu",
         "softplus": "torch.nn.functional.softplus", "sign": "torch.sign"}
_CMP = {"gt": ">", "lt": "<", "ge": ">=", "le": "<=", "eq": "==", "ne": "!="}
_REDUCE = {"sum": "torch.sum", "mean": "torch.mean", "max": "torch.amax", "min": "torch.amin"}


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

    if isinstance(e, Num):
        return number(e.value)
    if isinstance(e, Name):
        return name(e.id)
    if isinstance(e, Neg):
        return f"(-{go(e.arg)})"
    if isinstance(e, Pow):
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
        return f"{_REDUCE[e.fn]}({go(e.arg)}, -1, keepdim=True)"
    if isinstance(e, (Compare, Reduce, Tmp)):
        raise ExprError(f"{type(e).__name__} has no Python value of its own here: {e!r}")
    raise ExprError(f"not an expression tree: {e!r}")


def expr(e: Expr) -> str:
    """The PyTorch reference of an elementwise expression."""
    return _render(e, row=False)


def row_expr(e: Expr) -> str:
    """The PyTorch reference of a rowwise expression: row reductions keep the reduced dim."""
    return _render(e, row=True)
