"""custom: a user-written kernel's output shapes, sample inputs and Python reference."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, SpecError
from ..model import Custom, Dim, OutputShape, _take, relative
from . import KindModel


def _shapes(data) -> tuple[tuple[tuple[int, ...], ...], ...]:
    return tuple(tuple(tuple(shape) for shape in sample) for sample in data)


def _build(d: Mapping[str, Any], derived: Mapping[str, Any], root: Path) -> dict[str, Any]:
    c = _take(derived["custom"], {"shapes", "ranks", "min_dims", "samples", "bench_samples", "reference_line"},
              f"custom components of {d['name']}")
    shapes = tuple(
        OutputShape(s["output"], s["like"], tuple(Dim(x["size"], x["input"], x["dim"]) for x in s["dims"]))
        for s in (_take(s, {"output", "like", "dims"}, f"shape of {d['name']}") for s in c["shapes"]))
    reference = derived["reference_py"]
    _check_reference(reference, d, c["reference_line"] or d["line"], root)
    samples = _shapes(c["samples"])
    return {
        "reference_py": reference,
        "custom": Custom(shapes=shapes, ranks=tuple((r["input"], r["rank"]) for r in c["ranks"]),
                         min_dims=tuple((m["input"], m["dims"]) for m in c["min_dims"]), samples=samples,
                         bench_samples=_shapes(c["bench_samples"]) or samples[-1:]),
    }


# Builtins a reference may not name: each runs code, touches files or the interpreter's state.
_UNSAFE_BUILTINS = frozenset({"__import__", "eval", "exec", "compile", "open", "input", "breakpoint", "globals",
                              "locals", "vars", "getattr", "setattr", "delattr", "help", "exit", "quit",
                              "memoryview", "type", "object", "super", "classmethod", "staticmethod", "property"})


def _check_reference(expr: str, d: Mapping[str, Any], line: int, root: Path) -> None:
    """A custom op's reference is Python in a string: parse it here, so a typo is a spec error at its
    file:line rather than a failing generated test. Names must be inputs, attrs, torch, math or builtins."""

    def problem(message: str) -> SpecError:
        return SpecError([Diagnostic(relative(d["file"], root), line, f"reference of '{d['name']}': {message}")])

    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise problem(f"not a Python expression ({exc.msg} at column {exc.offset}): {expr}") from None
    # A spec is data: the reference may compute, never reach the interpreter (imports, eval, files, the
    # object graph through dunder attributes).
    for n in ast.walk(tree):
        name = n.id if isinstance(n, ast.Name) else n.attr if isinstance(n, ast.Attribute) else None
        dunder = name is not None and name.startswith("__") and name.endswith("__")
        if dunder or (isinstance(n, ast.Name) and name in _UNSAFE_BUILTINS):
            raise problem(f"'{name}' is not allowed: a reference computes the outputs from the inputs and attrs "
                          "with torch, math and plain Python, and reaches nothing else")
    known = set(d["inputs"]) | {a["name"] for a in d["attrs"]} | {"torch", "math"} | set(dir(builtins))
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in n.args.args}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in known | bound:
            raise problem(f"unknown name '{n.id}' (known: {', '.join(d['inputs'] + [a['name'] for a in d['attrs']])}, "
                          "torch, math)")


MODELS = {"custom": KindModel(frozenset({"reference_py", "custom"}), _build)}
