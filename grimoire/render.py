"""Stage 3 — render: the model through Jinja2 templates into the files of generated_ops/.

Rendering is pure (model in, file contents out, Python formatted by stage 3b, grimoire/format.py, so
that what is compared with generated_ops/ is what would be written); writing is separate and careful: everything is
rendered in memory first so a failed run writes nothing, a file is rewritten only when its content
changed (ninja rebuilds on mtime), and files no longer generated are removed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

from . import __version__, escape, format
from .emit import cpp as emit_cpp
from .model import Extension

# Folders under the output that belong to the build or to tools, never to the rendering.
IGNORED_DIRS = {"_build", "_lib", "__pycache__", ".pytest_cache", ".benchmarks", "build", "dist"}
IGNORED_SUFFIXES = (".egg-info", ".pyc", ".so")
MANIFEST = "manifest.json"
# The runtime library: static C++/CUDA headers (runtime/ beside templates/) copied verbatim into csrc/
# when a rendered source includes them, directly or through another runtime header. A kind declares the
# runtime it needs by its templates' #include lines; nothing here names a kind.
RUNTIME_DIR = "csrc"
_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)"', re.M)
# A template's imports that only some of its ops use end in a bare `# noqa: F401` (tidy_imports keeps
# the names the rendered module reads); a marked import with a reason after the mark is there for its
# side effects or to re-export, and stays.
_MAYBE_UNUSED = re.compile(r"^(?:import (?P<mod>[\w.]+)(?: as (?P<alias>\w+))?|from (?P<src>[\w.]+) import "
                           r"(?P<names>[\w, ]+?))  # noqa: F401\n", re.M)
# Scaffolding, not output: templates/kinds/<kind>/example_spec.pl.j2 (and example_kernel.*.j2) are what
# `grimoire new-op` writes into semantics/ and kernels/. They are excluded here explicitly, so they are
# never rendered into generated_ops/ nor hashed into its manifest (editing one changes no generated file).
SCAFFOLD_PREFIX = "example_"
# templates/kinds/<kind>/package/: files rendered once into the package when it has ops of the kind.
PACKAGE_DIR = "package"
# Partials: a folder named so, anywhere under kinds/<kind>/ or extension/, holds the pieces that folder's
# templates import or include (macros, the parts of a long template). They are never rendered as output
# themselves, but they are templates of the output all the same: hashed into the manifest, overlaid by a
# project's templates/ file by file like any other (the Jinja loader searches the roots in order).
PARTIALS_DIR = "partials"


class RenderError(Exception):
    """A template failed to render, or rendered what its formatter cannot read: says which and where."""


def _template_place(exc: BaseException, name: str) -> str:
    """file:line of the template where a Jinja error arose (Jinja maps its frames to template lines)."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        return f"{exc.filename or name}:{exc.lineno}"
    place = name
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            place = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return place


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative to the output folder
    content: str


@dataclass(frozen=True)
class Rendering:
    files: tuple[RenderedFile, ...]

    def paths(self) -> set[str]:
        return {f.path for f in self.files}


@dataclass(frozen=True)
class WriteReport:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class Drift:
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    stale: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing or self.stale)


@functools.lru_cache(maxsize=4)  # names.py renders each op again: the parsed templates are kept
def _environment(roots: tuple[Path, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(r) for r in roots]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    # Every spec string that reaches generated code goes through one of these (grimoire/escape.py).
    for name in escape.__all__:
        env.filters[name] = getattr(escape, name)
    env.filters["py_tuple"] = lambda t: repr(tuple(t))
    env.filters["cpp_bool"] = lambda b: "true" if b else "false"
    env.filters["scalar_type_list"] = emit_cpp.scalar_type_list
    # A partial's text as it is, not rendered: the static part of a generated file (most of the build
    # script) kept in a file of its own, free to hold braces and hashes Jinja would read as its syntax.
    # Less its last newline: the template's `{{ verbatim(...) }}` line ends with one.
    env.globals["verbatim"] = lambda name: env.loader.get_source(env, name)[0].removesuffix("\n")
    env.globals["generator_version"] = __version__
    return env


def template_files(templates_dir: Path) -> list[Path]:
    """The templates the output depends on: every *.j2 but the scaffolding (SCAFFOLD_PREFIX) of the kinds,
    and every file of a partials/ folder (static source a template takes with verbatim(), e.g. the checks a
    kind's tests share, kept as plain Python). Partials (is_partial) are read by the others, never rendered
    on their own."""
    def wanted(p: Path) -> bool:
        if not p.is_file():
            return False
        if p.suffix != ".j2":
            return is_partial(p.relative_to(templates_dir).as_posix()) and p.suffix != ".pyc"
        return not (p.name.startswith(SCAFFOLD_PREFIX) and p.parent.parent.name == "kinds")
    return sorted(p for p in templates_dir.rglob("*") if wanted(p))


def is_partial(name: str) -> bool:
    """Whether the template at this path (relative to its root) is a partial: under a PARTIALS_DIR folder."""
    return PARTIALS_DIR in Path(name).parent.parts


# A per-op template named for a device ([op]_cuda.cu.j2, test_[op]_cuda.py.j2) is rendered only for ops
# that list that device, so no kernel or test exists for a backend the op does not have.
_DEVICE_TEMPLATE = re.compile(r"_(cpu|cuda)\.")


def _for_devices(template_name: str, devices: tuple[str, ...]) -> bool:
    m = _DEVICE_TEMPLATE.search(template_name)
    return m is None or m.group(1) in devices


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def runtime_files(templates: Path | Sequence[Path]) -> dict[str, Path]:
    """The runtime library that goes with these templates: runtime/ beside them, by file name (the
    first folder's where several have a file)."""
    found: dict[str, Path] = {}
    for root in _roots(templates):
        folder = root.parent / "runtime"
        for p in sorted(folder.iterdir()) if folder.is_dir() else ():
            if p.is_file():
                found.setdefault(p.name, p)
    return found


def _runtime_needed(files: dict[str, str], runtime: dict[str, Path]) -> dict[str, str]:
    """The runtime headers the rendered C++/CUDA sources include, transitively, with their contents."""
    needed: dict[str, str] = {}
    todo = [c for p, c in files.items() if p.startswith(RUNTIME_DIR + "/")]
    while todo:
        for name in _INCLUDE.findall(todo.pop()):
            if name in runtime and name not in needed:
                needed[name] = runtime[name].read_text()
                todo.append(needed[name])
    return needed


def tidy_imports(text: str) -> str:
    """A rendered Python module with its maybe-unused imports (a bare `# noqa: F401` in the template)
    cut to the names the rest of the module reads, and the mark dropped: each generated file imports
    what it uses, as a hand-written one would."""
    def uses(pattern: str, line: str) -> bool:
        return re.search(pattern, text.replace(line, "", 1)) is not None

    def keep(m: re.Match) -> str:
        line = m.group(0)
        if m.group("mod"):  # a module, read as module.name (or alias.name)
            bound = m.group("alias") or m.group("mod")
            alias = f" as {m.group('alias')}" if m.group("alias") else ""
            return f"import {m.group('mod')}{alias}\n" if uses(rf"\b{re.escape(bound)}\.\w", line) else ""
        names = [n.strip() for n in m.group("names").split(",") if uses(rf"(?<![.\w]){n.strip()}\b", line)]
        return f"from {m.group('src')} import {', '.join(names)}\n" if names else ""

    tidied = _MAYBE_UNUSED.sub(keep, text)
    # A group of imports cut whole leaves two blank lines before the next import: one is enough.
    return re.sub(r"\n\n\n+(?=(import|from) )", "\n\n", tidied)


def _roots(templates: Path | Sequence[Path]) -> tuple[Path, ...]:
    paths = (templates,) if isinstance(templates, Path) else tuple(templates)
    return tuple(dict.fromkeys(paths))


def _overlay(roots: tuple[Path, ...], folder: str) -> dict[str, Path]:
    """The templates under `folder` of every root that render a file (partials left out), by path relative
    to their root (their Jinja name), the first root's file where several have it (a project's templates/
    overlays grimoire's, file by file)."""
    found: dict[str, Path] = {}
    for root in roots:
        base = root / folder
        for t in template_files(base) if base.is_dir() else ():
            name = t.relative_to(root).as_posix()
            if not is_partial(name):
                found.setdefault(name, t)
    return dict(sorted(found.items()))


def render(ext: Extension, templates: Path | Sequence[Path], *, finished: bool = True) -> Rendering | dict[str, str]:
    """Every file of the extension: each op's files from its kind's folder, each kind's package-wide
    files, the extension-wide files, then the runtime headers those include.

    `templates` is grimoire's templates/ folder, or several searched in order (a project's own first:
    a kind of its own, or its version of any of grimoire's templates). Unfinished (`finished=False`),
    the templates' output alone, as a dict of path to text: no runtime headers, formatting nor manifest
    (grimoire/names.py reads the names the templates declare)."""
    roots = _roots(templates)
    env = _environment(roots)
    files: dict[str, str] = {}

    def emit(name: str, out: str, **context) -> None:
        try:
            files[out] = env.get_template(name).render(ext=ext, **context)
        except jinja2.TemplateError as exc:
            what = f" for op '{context['op'].name}'" if "op" in context else ""
            raise RenderError(f"{_template_place(exc, name)}: {exc.message or exc}{what}; "
                              f"nothing was written") from exc
        if out.endswith(".py"):
            files[out] = tidy_imports(files[out])

    for op in ext.ops:
        kind = f"kinds/{op.kind}/"
        per_op = {n: t for n, t in _overlay(roots, kind).items() if not n.startswith(kind + PACKAGE_DIR + "/")}
        if not per_op:
            raise FileNotFoundError(f"no templates for kind {op.kind!r}: expected "
                                    f"{' or '.join(str(r / 'kinds' / op.kind) for r in roots)}")
        for name, t in per_op.items():
            if not _for_devices(t.name, op.devices):
                continue
            out = name[len(kind): -len(".j2")].replace("[op]", op.name)
            emit(name, out, op=op)
            if not files[out].strip():  # a template may render nothing for some ops (a CUDA file, no cuda)
                del files[out]
    # A kind's package-wide files (its property-test helpers, a backend switch), once for all its ops.
    for kind in ext.package_kinds:
        package = f"kinds/{kind}/{PACKAGE_DIR}/"
        kind_ops = tuple(op for op in ext.ops if op.kind == kind)
        for name in _overlay(roots, package):
            out = name[len(package): -len(".j2")]
            if out in files:
                raise ValueError(f"{name} renders {out}, which another template renders too")
            emit(name, out, kind_ops=kind_ops)
    # The extension-wide files last: the build script lists the kernel sources the kinds rendered (a kind
    # whose ops are Python over other ops' renders none).
    # In the order rendered: each op's, then the kinds' package-wide ones.
    csrc = tuple(p.removeprefix("csrc/") for p in files if p.startswith("csrc/"))
    for name in _overlay(roots, "extension"):
        out = name[len("extension/"): -len(".j2")]
        emit(name, out, csrc=csrc)
        if not files[out].strip():  # a file only some kinds need (_properties_attention.py) renders to nothing
            del files[out]
    if not finished:
        return files
    runtime = runtime_files(roots)
    for name, content in _runtime_needed(files, runtime).items():
        files[f"{RUNTIME_DIR}/{name}"] = content
    try:
        files = format.format_files(files, ext.package)
    except format.FormatError as exc:
        raise RenderError(f"{exc}\nnothing was written") from exc
    files[MANIFEST] = _manifest(ext, roots, files)
    return Rendering(tuple(RenderedFile(p, c) for p, c in sorted(files.items())))


def _manifest(ext: Extension, roots: tuple[Path, ...], files: dict[str, str]) -> str:
    # Templates and runtime files by path from their root's parent; grimoire's own marked as such where a
    # project's templates come first.
    def key(root: Path, p: Path) -> str:
        rel = p.relative_to(root.parent).as_posix()
        return rel if root == roots[0] else f"grimoire:{rel}"

    templates = {}
    for root in roots:
        templates.update({key(root, t): _hash(t.read_bytes()) for t in template_files(root)})
    runtime = {}
    for root in roots:
        runtime.update({key(root, p): _hash(p.read_bytes()) for p in runtime_files((root,)).values()})
    data = {
        "generated_by": f"grimoire {__version__}",
        "extension": ext.name,
        "ops": [op.name for op in ext.ops],
        "specs": {s.path: s.sha256 for s in ext.sources},
        "templates": templates,
        "runtime": runtime,
        "files": {p: _hash(c.encode()) for p, c in sorted(files.items())},
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _on_disk(out_dir: Path) -> set[str]:
    found = set()
    if not out_dir.exists():
        return found
    for dirpath, dirnames, filenames in os.walk(out_dir):
        dirnames[:] = [d for d in dirnames if d not in IGNORED_DIRS and not d.endswith(IGNORED_SUFFIXES)]
        for f in filenames:
            if not f.endswith(IGNORED_SUFFIXES):
                found.add((Path(dirpath) / f).relative_to(out_dir).as_posix())
    return found


def drift(rendering: Rendering, out_dir: Path) -> Drift:
    """How generated_ops/ differs from what the specs and templates give."""
    changed, missing = [], []
    for f in rendering.files:
        p = out_dir / f.path
        if not p.exists():
            missing.append(f.path)
        elif p.read_text() != f.content:
            changed.append(f.path)
    stale = sorted(_on_disk(out_dir) - rendering.paths())
    return Drift(tuple(changed), tuple(missing), tuple(stale))


class WriteError(Exception):
    """generated_ops/ could not be written; nothing in it was replaced or removed."""


def write(rendering: Rendering, out_dir: Path) -> WriteReport:
    """Write changed files atomically, leave identical ones untouched (mtime kept), remove stale ones.

    All or nothing: every changed file is first written to a temporary file beside its target, named
    after it and longer (so an OS error, a name too long or a full disk, happens there), and only when
    all of them are written are existing files replaced and stale ones removed. On an error the temporary
    files and the folders made for them are removed and WriteError says what failed; out_dir is as it was."""
    # mkstemp makes 0600 files; written output gets the mode an ordinary write would (0666 less umask).
    umask = os.umask(0)
    os.umask(umask)
    unchanged: list[str] = []
    staged: list[tuple[str, str, Path]] = []  # (relative path, temporary file, target)
    made_dirs: list[Path] = []
    try:
        for f in rendering.files:
            p = out_dir / f.path
            if p.is_file() and p.read_text() == f.content:
                unchanged.append(f.path)
                continue
            for d in reversed((p.parent, *p.parent.parents)):
                if not d.exists():
                    d.mkdir()
                    made_dirs.append(d)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.")
            staged.append((f.path, tmp, p))
            with os.fdopen(fd, "w") as fh:
                fh.write(f.content)
            os.chmod(tmp, 0o666 & ~umask)
    except OSError as exc:
        _discard(staged, made_dirs)
        what = exc.filename or out_dir
        raise WriteError(f"could not write {what}: {exc.strerror or exc}; nothing in {out_dir} was changed") from exc
    written = []
    for rel, tmp, p in staged:
        os.replace(tmp, p)
        written.append(rel)
    removed = sorted(_on_disk(out_dir) - rendering.paths())
    for r in removed:
        (out_dir / r).unlink()
    for dirpath, dirnames, filenames in sorted(os.walk(out_dir), reverse=True):
        d = Path(dirpath)
        if d != out_dir and not any(d.iterdir()) and d.name not in IGNORED_DIRS:
            d.rmdir()
    return WriteReport(tuple(written), tuple(unchanged), tuple(removed))


def _discard(staged: list[tuple[str, str, Path]], made_dirs: list[Path]) -> None:
    for _, tmp, _ in staged:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    for d in reversed(made_dirs):
        try:
            d.rmdir()
        except OSError:
            pass
