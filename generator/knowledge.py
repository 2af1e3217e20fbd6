"""Stage 1 — knowledge: consult semantics/ with SWI-Prolog (through pyswip), refuse any spec that
prints an error or warning or breaks a check, and hand the model on as plain JSON data.

pyswip drives one engine per process: this module owns it, keeps it on the calling thread, reloads
files by unloading the previous set first, and exhausts every query it opens so none is left half-read.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, SpecError
from .project import BUNDLED_SEMANTICS

BRIDGE = Path(__file__).with_name("prolog") / "bridge.pl"
# Load order matters only for the vocabulary: core first, then kinds, then everything else.
_LAYERS = ("core", "kinds")

_lock = threading.Lock()
_loaded: list[str] = []


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the semantics folder's parent (the project root)
    sha256: str


@dataclass(frozen=True)
class Knowledge:
    """What the specs say, as data: the exported model and the files it came from."""

    model: dict[str, Any]
    sources: tuple[SourceFile, ...]
    semantics_dir: Path


@dataclass(frozen=True)
class Solutions:
    printed: str
    bindings: tuple[tuple[str, ...], ...]


def _bundled_layers(semantics_dir: Path) -> list[Path]:
    """The generator's own core/ and kinds/ for a project that has none of its own (a project made by
    `grimoire new-extension` holds only its extension and its ops; the vocabulary comes with grimoire)."""
    if BUNDLED_SEMANTICS.resolve() == semantics_dir.resolve():
        return []
    return sorted(p for layer in _LAYERS if not (semantics_dir / layer).is_dir()
                  for p in (BUNDLED_SEMANTICS / layer).rglob("*.pl") if p.is_file())


def spec_files(semantics_dir: Path) -> list[Path]:
    """Every .pl file under semantics/, core vocabulary first, then kinds, then the specs."""
    files = sorted(p for p in semantics_dir.rglob("*.pl") if p.is_file())

    def layer(p: Path) -> tuple[int, str]:
        base = semantics_dir if p.is_relative_to(semantics_dir) else BUNDLED_SEMANTICS
        rel = p.relative_to(base).parts
        rank = _LAYERS.index(rel[0]) if len(rel) > 1 and rel[0] in _LAYERS else len(_LAYERS)
        return rank, str(p)

    return sorted(_bundled_layers(semantics_dir) + files, key=layer)


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _prolog():
    try:
        from pyswip import Prolog
    except Exception as exc:  # ImportError, or libswipl missing
        raise SpecError([Diagnostic("", 0, f"cannot start SWI-Prolog through pyswip ({exc}); "
                                    "install it with `make setup` or `apt-get install swi-prolog-nox`")]) from exc
    return Prolog


def _one(query: str, var: str) -> str:
    prolog = _prolog()
    rows = list(prolog.query(query, maxresult=1))  # list() exhausts and closes the query
    if not rows:
        raise RuntimeError(f"Prolog query failed: {query}")
    value = rows[0][var]
    return value.decode() if isinstance(value, bytes) else str(value)


def _consult(files: list[Path]) -> list[Diagnostic]:
    prolog = _prolog()
    for old in reversed(_loaded):
        list(prolog.query(f"unload_file({_quote(old)})"))
    _loaded.clear()
    if not list(prolog.query("current_predicate(grimoire_consult/1)")):
        list(prolog.query(f"consult({_quote(str(BRIDGE))})"))
    names = [str(f.resolve()) for f in files]
    list(prolog.query(f"grimoire_consult([{', '.join(map(_quote, names))}])"))
    _loaded.extend(names)
    messages = json.loads(_one("grimoire_messages_json(J)", "J"))
    return [Diagnostic(m["file"], int(m["line"]), _strip_place(m["message"], m["file"]), m["kind"])
            for m in messages]


def _strip_place(message: str, file: str) -> str:
    """SWI-Prolog starts some messages with "file:line:col: "; the diagnostic already says where."""
    return re.sub(r"^" + re.escape(file) + r":\d+(:\d+)?:\s*", "", message)


def load(semantics_dir: Path) -> Knowledge:
    """Consult every spec, run every check, and export the model. Raises SpecError on any problem."""
    semantics_dir = semantics_dir.resolve()
    root = semantics_dir.parent
    files = spec_files(semantics_dir)
    if not any(f.is_relative_to(semantics_dir) for f in files):  # the bundled vocabulary alone is no project
        raise SpecError([Diagnostic(str(semantics_dir), 0, "no .pl files: write specs under semantics/")], root)
    with _lock:
        problems = _consult(files)
        if problems:
            raise SpecError(problems, root)
        violations = json.loads(_one("grimoire_violations_json(J)", "J"))
        if violations:
            raise SpecError([Diagnostic(v["file"], int(v["line"]), v["message"]) for v in violations], root)
        model = json.loads(_one("grimoire_model_json(J)", "J"))
    sources = tuple(
        SourceFile(str(f.relative_to(root)) if f.is_relative_to(root)
                   else "grimoire:" + str(f.relative_to(BUNDLED_SEMANTICS.parent)),
                   hashlib.sha256(f.read_bytes()).hexdigest())
        for f in sorted(files) if f.is_file()
    )
    return Knowledge(model=model, sources=sources, semantics_dir=semantics_dir)


def perceive(semantics_dir: Path, query: str) -> Solutions:
    """Answer any Prolog query over the specs (loaded as they are; spec problems are reported first)."""
    load(semantics_dir)
    with _lock:
        result = json.loads(_one(f"grimoire_perceive({_quote(query)}, J)", "J"))
    if not result["ok"]:
        raise ValueError(result["error"])
    return Solutions(result["printed"], tuple(tuple(s) for s in result["solutions"]))


def plan(semantics_dir: Path, spell: str) -> list[tuple[str, ...]]:
    """The steps a spell such as conjure(build_extension) stands for, derived by the rules in semantics/core;
    each step is its name and its arguments (conjure(new_op(my_op, custom)) -> ("new_op", "my_op", "custom"))."""
    load(semantics_dir)
    with _lock:
        result = json.loads(_one(f"grimoire_plan_json({_quote(spell)}, J)", "J"))
    if not result["ok"]:
        raise ValueError(result["error"])
    return [tuple(step) for step in result["steps"]]


def scaffold_facts(semantics_dir: Path, name: str) -> dict[str, Any]:
    """What `grimoire new-op` must know about a proposed op name: the kinds (op_kind/2), whether the name
    is a usable identifier, where it is already taken, its module name, and the extension's package."""
    load(semantics_dir)
    with _lock:
        return json.loads(_one(f"grimoire_scaffold_json({_quote(name)}, J)", "J"))
