"""Stage 1 — knowledge: load semantics/ into SWI-Prolog (through pyswip), refuse any spec that
prints an error or warning or breaks a check, and hand the model on as plain JSON data.

Specs are data: the vocabulary (semantics/core, semantics/kinds: one Prolog module a file) is code and
is loaded, but only grimoire's own copy of it, or a project's that its pyproject.toml trusts; every other
file under semantics/ is read term by term (grimoire/prolog/bridge.pl) and only the vocabulary's facts
are kept.
Every query over the specs runs under a time and an inference limit.

pyswip drives one engine per process: this module owns it, keeps it on the calling thread, reloads
files by forgetting the previous set first, and exhausts every query it opens so none is left half-read.
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
# Suffixes of Prolog source that are not read: a spec must be a .pl file. (.plt files beside the
# vocabulary are its PLUnit tests, run by tests/test_plunit.py, and stay allowed.)
_MISNAMED = (".pro", ".prolog", ".P", ".PL", ".Pl", ".pL")

# Every query over the specs stops after this many seconds or inferences (about 50 million a second):
# checking all 29 bundled ops takes under half a million, exporting them as many; a looping rule or a
# runaway expression becomes a diagnostic instead of a hang.
TIME_LIMIT_S = 20
INFERENCE_LIMIT = 200_000_000

_lock = threading.Lock()


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
    """The generator's own core/ and kinds/ files that the project has no file of the same name for (a
    project made by `grimoire new-extension` holds only its extension and its ops, and may add a kind of
    its own, semantics/kinds/<kind>.pl, beside grimoire's)."""
    if BUNDLED_SEMANTICS.resolve() == semantics_dir.resolve():
        return []
    return sorted(p for layer in _LAYERS for p in (BUNDLED_SEMANTICS / layer).rglob("*.pl")
                  if p.is_file() and not (semantics_dir / p.relative_to(BUNDLED_SEMANTICS)).exists())


def trusts_kinds(root: Path) -> bool:
    """`[tool.grimoire] trust_kinds = true` in the project's pyproject.toml: its own semantics/core and
    semantics/kinds are code grimoire may run (consult). Without it, only grimoire's own copy is run."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return False
    import tomllib

    try:
        return tomllib.loads(path.read_text()).get("tool", {}).get("grimoire", {}).get("trust_kinds") is True
    except tomllib.TOMLDecodeError:
        return False


def _layer_of(path: Path, semantics_dir: Path) -> str | None:
    """"core" or "kinds" for a vocabulary file (of the project or grimoire's), else None."""
    base = semantics_dir if path.is_relative_to(semantics_dir) else BUNDLED_SEMANTICS
    rel = path.relative_to(base).parts
    return rel[0] if len(rel) > 1 and rel[0] in _LAYERS else None


def _is_bundled_code(path: Path, semantics_dir: Path) -> bool:
    """A vocabulary file grimoire ships, or a byte-identical copy of one at the same place in the
    project (a project copied from this repository): running it runs nothing the user wrote."""
    path = path.resolve()
    if path.is_relative_to(BUNDLED_SEMANTICS.resolve()):
        return True
    twin = BUNDLED_SEMANTICS / path.relative_to(semantics_dir)
    return twin.is_file() and twin.read_bytes() == path.read_bytes()


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


def _atoms(files: list[Path]) -> str:
    return "[" + ", ".join(_quote(str(f.resolve())) for f in files) + "]"


def _consult(code: list[Path], data: list[Path]) -> list[Diagnostic]:
    """Load the vocabulary (code), read the specs (data); what either printed or refused."""
    prolog = _prolog()
    if not list(prolog.query("current_predicate(grimoire_load/2)")):
        list(prolog.query(f"consult({_quote(str(BRIDGE))})"))
    list(prolog.query(f"grimoire_set_limits({TIME_LIMIT_S}, {INFERENCE_LIMIT})"))
    list(prolog.query(f"grimoire_load({_atoms(code)}, {_atoms(data)})"))
    messages = json.loads(_one("grimoire_messages_json(J)", "J"))
    return [Diagnostic(m["file"], int(m["line"]), _strip_place(m["message"], m["file"]), m["kind"])
            for m in messages]


def _sort_out(files: list[Path], semantics_dir: Path) -> tuple[list[Path], list[Path], list[Diagnostic]]:
    """Split the files into code to consult and data to read, refusing a vocabulary file of the project
    that the project does not trust, and any Prolog-looking file that is not a .pl file. A project's
    unchanged copy of a vocabulary file is grimoire's own: grimoire's file is loaded in its place. Where
    the project is not trusted, none of its vocabulary files runs (grimoire's own stands in for a changed
    one too, so that the refusal is the one problem reported)."""
    trusted = trusts_kinds(semantics_dir.parent)
    code: list[Path] = []
    data: list[Path] = []
    problems: list[Diagnostic] = []
    for f in files:
        layer = _layer_of(f, semantics_dir)
        twin = BUNDLED_SEMANTICS / f.relative_to(semantics_dir) if f.is_relative_to(semantics_dir) else None
        if layer is None:
            data.append(f)
        elif twin is not None and _is_bundled_code(f, semantics_dir):
            code.append(twin)  # the same bytes: grimoire's own file, loaded once for every project
        elif trusted or twin is None:
            code.append(f)
        else:
            if twin.is_file():
                code.append(twin)
            problems.append(Diagnostic(str(f), 0, (
                f"not loaded: semantics/{layer}/ is vocabulary code, and grimoire runs a project's own only "
                f"when the project trusts it: add `trust_kinds = true` under [tool.grimoire] in "
                f"pyproject.toml, or remove semantics/{layer}/ to use grimoire's own")))
    for f in sorted(p for p in semantics_dir.rglob("*") if p.suffix in _MISNAMED and p.is_file()):
        problems.append(Diagnostic(str(f), 0, f"not loaded: rename to {f.stem}.pl (grimoire reads only .pl "
                                              "files under semantics/)"))
    return code, data, problems


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
    code, data, refused = _sort_out(files, semantics_dir)
    with _lock:
        problems = refused + _consult(code, data)
        if problems:
            raise SpecError(problems, root)
        violations = json.loads(_one("grimoire_violations_json(J)", "J"))
        if violations:
            raise SpecError([_located(v, semantics_dir) for v in violations], root)
        model = json.loads(_one("grimoire_model_json(J)", "J"))
        runaway = model.pop("problems")
        if runaway:
            raise SpecError([_located(p, semantics_dir) for p in runaway], root)
    sources = tuple(
        SourceFile(str(f.relative_to(root)) if f.is_relative_to(root)
                   else "grimoire:" + str(f.relative_to(BUNDLED_SEMANTICS.parent)),
                   hashlib.sha256(f.read_bytes()).hexdigest())
        for f in sorted(files) if f.is_file()
    )
    return Knowledge(model=model, sources=sources, semantics_dir=semantics_dir)


def _located(v: dict[str, Any], semantics_dir: Path) -> Diagnostic:
    """A violation as a diagnostic; one that no fact can be blamed for names the semantics folder."""
    return Diagnostic(v["file"] or str(semantics_dir), int(v["line"]), v["message"])


def perceive(semantics_dir: Path, query: str, facts: Path | None = None) -> Solutions:
    """Answer any Prolog query over the specs (loaded as they are; spec problems are reported first) and,
    when given, a file of benchmark facts (grimoire/bench.py's prolog_facts)."""
    load(semantics_dir)
    with _lock:
        list(_prolog().query(f"grimoire_load_benchmarks({_quote(str(facts) if facts else '')})"))
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


def vocabulary(semantics_dir: Path) -> dict[str, Any]:
    """The spec language as the vocabulary (semantics/core, semantics/kinds) defines it: components, kinds,
    expression grammar, types and reserved names (bridge.pl's vocab_json). The project's own specs are
    not read: a broken spec does not hide the reference."""
    semantics_dir = semantics_dir.resolve()
    code, _data, problems = _sort_out(spec_files(semantics_dir), semantics_dir)
    with _lock:
        problems += [d for d in _consult(code, []) if d.kind == "error"]
        if problems:
            raise SpecError(problems, semantics_dir.parent)
        result = json.loads(_one("grimoire_vocab_json(J)", "J"))
    if result.get("ok") is False:
        raise ValueError(result["error"])
    result["kinds"].sort(key=lambda k: k["name"])  # a reconsult may reorder the kinds' facts
    result["limits"] = {"time_s": TIME_LIMIT_S, "inferences": INFERENCE_LIMIT}
    return result
