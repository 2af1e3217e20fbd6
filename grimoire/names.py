"""Stage 2b — names: a spec's value names against the names the generated code declares itself.

An input called `rows` or an attr called `j` is a valid spec name, but a kind's template may declare a
local of that name: the generated code would then not compile, or worse, read the wrong value. No hand
kept list of a kind's locals can be complete (a project's own kind has its own), so each op is rendered
a second time with every input, output and attr name replaced by a stand-in that no template spells.
In that rendering, every identifier without a stand-in is the generated code's own, and every one with
a stand-in is derived from a spec name (`x_data`, `grad_y`). Putting the real names back, an identifier
derived from a spec name must be neither one of the code's own nor one derived from another spec name
where the two meet: in one function (C++ or Python), or one of them declared at file scope.

A name a kind requires by its spelling is the kind's: one whose stand-in the kind's rules or templates
cannot take (attention's `scale`) is left as it is, and one a template spells itself where the spec's
would go (a Python name read and bound nowhere) is not blamed. The rendering is not formatted nor
written; it costs about what the real one does.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, SpecError

# A stand-in for spec name i: lower_snake, so any check of the model still passes it, and spelt the
# way no template's own identifier is.
_STAND_IN = "zq{}qz"
_STAND_IN_RE = re.compile(r"zq(\d+)qz")
# Keys whose values are not value names: what says which op it is and where (at the top), an expression's
# function, a peer's (dotted) function.
_OP_KEYS = {"name", "kind", "doc", "file", "line", "extension", "module", "dtypes", "devices"}
_NOT_NAMES = {"op", "doc", "reduction", "function"}
_KEYED_BY_NAME = {"test_ranges", "column_init"}
# Data with names of its own: an activation's formulas are over its own z, y and g.
_OWN_NAMES = {"activations"}

# C++ as its tokens: comments, literals and preprocessor lines are not code that declares names.
_CPP_SKIP = re.compile(
    r"""//[^\n]*|/\*.*?\*/|R"([^(\s]*)\(.*?\)\1"|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'"""
    r"""|^[ \t]*#(?:[^\n]*\\\n)*[^\n]*""",
    re.DOTALL | re.MULTILINE,
)
# An identifier, unless it names a member (after . or ->) or sits in a qualified name (after ::); and
# the punctuation that delimits scopes.
_CPP_TOKEN = re.compile(r"(?<![\w.>:])(?<!->)(?<!::)([A-Za-z_]\w*)|[A-Za-z_]\w*|([{}();])")


@dataclass(frozen=True)
class Scopes:
    """A C++ source's identifiers by where they can clash: `file` those its top-level declarations
    declare (function, type and variable names: seen from everywhere below), `items` each top-level
    declaration's own (a function's parameters and body), namespaces opened through."""

    file: frozenset[str]
    items: tuple[frozenset[str], ...]


def cpp_scopes(source: str) -> Scopes:
    code = _CPP_SKIP.sub(" ", source)
    file: set[str] = set()
    items: list[frozenset[str]] = []
    item: set[str] = set()
    head: list[str] = []  # the current item's identifiers before its body, outside parentheses
    braces: list[bool] = []  # per open brace: whether it opened a namespace (transparent)
    depth = parens = 0  # braces of the current item; parentheses at its top level
    for m in _CPP_TOKEN.finditer(code):
        name, punct = m.group(1), m.group(2)
        if name:
            item.add(name)
            if depth == 0 and parens == 0:
                head.append(name)
        elif punct == "(":
            parens += 1 if depth == 0 else 0
        elif punct == ")":
            parens -= 1 if depth == 0 and parens else 0
        elif punct == "{":
            if depth == 0 and parens == 0 and "namespace" in head:
                braces.append(True)
                item, head = set(), []
                continue
            braces.append(False)
            depth += 1
        elif punct in ("}", ";"):
            if punct == "}":
                if braces and braces.pop():
                    continue  # a namespace closes
                depth -= 1
            if depth == 0 and parens == 0:  # a top-level declaration ends
                file.update(h for h in head if h not in ("namespace", "using"))
                if item:
                    items.append(frozenset(item))
                item, head = set(), []
    if item:
        items.append(frozenset(item))
    return Scopes(frozenset(file), tuple(items))


def _spec_names(op: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(role, name) of each value name the spec chose, in spec order: inputs, outputs, attrs, and those its
    kind derives as value_names (a rowwise op's stats)."""
    seen: dict[str, str] = {}
    for n in op["inputs"]:
        seen.setdefault(n, "input")
    for n in op["outputs"]:
        seen.setdefault(n, "output")
    for a in op["attrs"]:
        seen.setdefault(a["name"], "attr")
    for v in op["derived"].get("value_names", ()):
        seen.setdefault(v["name"], v["role"])
    return [(role, n) for n, role in seen.items()]


def _stand_in(data: Any, subst: Mapping[str, str], word: re.Pattern[str], key: str | None = None) -> Any:
    """The op's exported data with each spec name replaced by its stand-in, wherever it is a value name
    (grad_<name> too: the incoming gradient of an output)."""
    if key in _OWN_NAMES:
        return data
    if isinstance(data, str):
        if key in _NOT_NAMES:
            return data
        return word.sub(lambda m: m.group(1) + subst[m.group(2)], data)
    if isinstance(data, Mapping):  # keyed by name only where it says so (test_ranges); else by role
        return {
            (subst.get(k, k) if key in _KEYED_BY_NAME else k): _stand_in(v, subst, word, k) for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [_stand_in(v, subst, word, key) for v in data]
    return data


def _read_and_bound(node: ast.AST) -> tuple[set[str], set[str]]:
    """The names a Python node reads and those it binds (assignment targets, parameters, defs, classes,
    imports); attribute names and keyword labels are neither."""
    read: set[str] = set()
    bound: set[str] = set()
    for m in ast.walk(node):
        if isinstance(m, ast.Name):
            (read if isinstance(m.ctx, ast.Load) else bound).add(m.id)
        elif isinstance(m, ast.arg):
            bound.add(m.arg)
        elif isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(m.name)
        elif isinstance(m, ast.alias):
            bound.add((m.asname or m.name).split(".")[0])
    return read, bound


def _names_in(node: ast.AST) -> set[str]:
    read, bound = _read_and_bound(node)
    return read | bound


@functools.lru_cache(maxsize=128)  # python_scopes and python_free_names read the same files
def _parse(source: str) -> ast.Module:
    return ast.parse(source)


def python_scopes(source: str) -> Scopes:
    """A Python module's names the same way: `file` the names its top level binds (imports, functions,
    classes, assignments), `items` each top-level function's or class's names (parameters, locals and
    what they read). Attribute names and keyword labels are not names in scope."""
    file: set[str] = set()
    items: list[frozenset[str]] = []
    for node in _parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            file.add(node.name)
            items.append(frozenset(_names_in(node)))
        else:  # an import, assignment or statement at the top: what it binds and reads is module-wide
            file |= _names_in(node)
    return Scopes(frozenset(file), tuple(items))


def python_free_names(source: str) -> set[str]:
    """The names a Python function reads but that neither it nor the module binds (by assignment,
    parameter, def, class or import) and that are not builtins. In a stand-in rendering, such a name is a
    spec name a template spelt itself: the kind requires that name (a toy kind's `factor`), and it is not
    the spec's to change."""
    import builtins

    tree = _parse(source)
    module = {getattr(n, "name", None) for n in tree.body} | set(dir(builtins))
    for n in tree.body:
        if isinstance(n, ast.Import | ast.ImportFrom | ast.Assign | ast.AnnAssign):
            module |= _read_and_bound(n)[1]
    free: set[str] = set()
    for f in tree.body:  # each top-level function, and each method of a top-level class
        for g in [f] if not isinstance(f, ast.ClassDef) else f.body:
            if isinstance(g, ast.FunctionDef | ast.AsyncFunctionDef):
                read, bound = _read_and_bound(g)
                free |= read - bound - module
    return free


def _scopes(path: str, text: str) -> Scopes | None:
    if path.endswith((".cpp", ".cu", ".cuh", ".h")):
        return cpp_scopes(text)
    if path.endswith(".py"):
        try:
            return python_scopes(text)
        except SyntaxError:  # the real rendering's formatter says where; nothing to read here
            return None
    return None


def collisions(files: Mapping[str, str], names: Sequence[str]) -> list[tuple[str, str, str]]:
    """(spec name, identifier, file) for each clash in a stand-in rendering: an identifier derived from a
    spec name that is also the code's own, or that another spec name's identifier becomes too, where
    the two can meet (in one top-level declaration, or one of them declared at file scope)."""

    def real(i: str) -> str:
        return _STAND_IN_RE.sub(lambda m: names[int(m.group(1))], i)

    found: dict[tuple[str, str], str] = {}
    for path, text in files.items():
        scopes = _scopes(path, text) if _STAND_IN_RE.search(text) else None
        if scopes is None:
            continue
        file_own = {i for i in scopes.file if not _STAND_IN_RE.search(i)}
        file_derived = {real(i): i for i in scopes.file if _STAND_IN_RE.search(i)}
        for ids in scopes.items:
            own = file_own | {i for i in ids if not _STAND_IN_RE.search(i)}
            derived = dict(file_derived)
            for i in sorted(i for i in ids if _STAND_IN_RE.search(i)):
                r = real(i)
                if r in own or derived.setdefault(r, i) != i:
                    found.setdefault((names[int(_STAND_IN_RE.search(i).group(1))], r), path)
    return [(n, ident, path) for (n, ident), path in found.items()]


def _render_stand_ins(
    op: Mapping[str, Any],
    ext_data: Mapping[str, Any],
    names: Sequence[str],
    replace: frozenset[str],
    root: Path,
    templates: Path | Sequence[Path],
) -> dict[str, str] | None:
    """The op's files with the names in `replace` stood in for; None where the kind cannot do without
    one of their spellings (it requires an attr by name, say)."""
    from . import model, render

    subst = {n: _STAND_IN.format(i) for i, n in enumerate(names) if n in replace}
    if not subst:
        return None
    word = re.compile(
        r"(?<![\w.])(grad_|)(" + "|".join(map(re.escape, sorted(subst, key=len, reverse=True))) + r")(?!\w)"
    )
    renamed = {k: v if k in _OP_KEYS else _stand_in(v, subst, word, k) for k, v in op.items()}
    try:
        ext = model.build_model_data({"extensions": [ext_data], "ops": [renamed]}, root)
        return render.render(ext, templates, finished=False)
    except (
        model.ModelError,
        SpecError,
        render.RenderError,
        LookupError,
        ValueError,
        TypeError,
    ):
        return None  # the kind reads one of these names' spelling


def _free(text: str) -> set[str]:
    try:
        return python_free_names(text)
    except SyntaxError:
        return set()


def _line(op: Mapping[str, Any], role: str, name: str) -> int:
    """The line of the component that declares the name, where the spec writes it plainly; else the op's."""
    fact = re.compile(rf"^\s*component\(\s*'?{re.escape(op['name'])}'?\s*,\s*{role}\s*,\s*'?{re.escape(name)}\b")
    try:
        lines = Path(op["file"]).read_text().splitlines()
    except OSError:
        return op["line"]
    return next((i for i, text in enumerate(lines, 1) if fact.match(text)), op["line"])


def check(knowledge_model: Mapping[str, Any], root: Path, templates: Path | Sequence[Path]) -> None:
    """Raise SpecError naming each op whose input, output or attr name the generated code already uses.

    A name a kind requires by its spelling (attention's scale, a linear loss's loss op) cannot be stood
    in for: it is left as it is, and the other names are checked."""
    from . import model

    problems: list[Diagnostic] = []
    ext_data = knowledge_model["extensions"][0]
    for op in knowledge_model["ops"]:
        spec = _spec_names(op)
        names = [n for _, n in spec]
        files = _render_stand_ins(op, ext_data, names, frozenset(names), root, templates)
        if files is None:
            free = frozenset(
                n for n in names if _render_stand_ins(op, ext_data, names, frozenset([n]), root, templates) is not None
            )
            files = _render_stand_ins(op, ext_data, names, free, root, templates)
        if files is None:
            continue
        roles = {n: r for r, n in spec}
        found = collisions(files, names)
        if found:  # a name the kind's own templates spell is the kind's, not the spec's to change
            fixed = {n for path, text in files.items() if path.endswith(".py") for n in _free(text) & set(names)}
            found = [c for c in found if c[0] not in fixed]
        for name, ident, path in found:
            what = (
                "is a name the generated code declares itself"
                if ident == name
                else f"becomes '{ident}' in the generated code, which declares that name already"
            )
            problems.append(
                Diagnostic(
                    model.relative(op["file"], root),
                    _line(op, roles[name], name),
                    f"{roles[name]} '{name}' of '{op['name']}' {what} (in {path}): rename it, e.g. my_{name}",
                )
            )
    if problems:
        raise SpecError(sorted(problems, key=lambda d: (d.file, d.line)))
