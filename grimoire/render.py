"""Stage 3 — render: the model through Jinja2 templates into the files of generated_ops/.

Rendering is pure (model in, file contents out); writing is separate and careful: everything is
rendered in memory first so a failed run writes nothing, a file is rewritten only when its content
changed (ninja rebuilds on mtime), and files no longer generated are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from . import __version__, escape, format
from .model import Extension, Op

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


def _environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
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
    env.globals["generator_version"] = __version__
    return env


def template_files(templates_dir: Path) -> list[Path]:
    """The templates that render output: every *.j2 but the scaffolding (SCAFFOLD_PREFIX) of the kinds."""
    return sorted(p for p in templates_dir.rglob("*.j2")
                  if p.is_file() and not (p.name.startswith(SCAFFOLD_PREFIX) and p.parent.parent.name == "kinds"))


# A per-op template named for a device ([op]_cuda.cu.j2, test_[op]_cuda.py.j2) is rendered only for ops
# that list that device, so no kernel or test exists for a backend the op does not have.
_DEVICE_TEMPLATE = re.compile(r"_(cpu|cuda)\.")


def _for_devices(template_name: str, devices: tuple[str, ...]) -> bool:
    m = _DEVICE_TEMPLATE.search(template_name)
    return m is None or m.group(1) in devices


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def runtime_files(templates_dir: Path) -> dict[str, Path]:
    """The runtime library that goes with these templates: runtime/ beside them, by file name."""
    folder = templates_dir.parent / "runtime"
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file()} if folder.is_dir() else {}


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


def render(ext: Extension, templates_dir: Path) -> Rendering:
    """Every file of the extension: each op's files from its kind's folder, the extension-wide files,
    then the runtime headers those include."""
    env = _environment(templates_dir)
    files: dict[str, str] = {}

    def emit(template: Path, out: str, **context) -> None:
        name = template.relative_to(templates_dir).as_posix()
        files[out] = env.get_template(name).render(ext=ext, **context)
        if out.endswith(".py"):
            files[out] = tidy_imports(files[out])

    for op in ext.ops:
        kind_dir = templates_dir / "kinds" / op.kind
        if not kind_dir.is_dir():
            raise FileNotFoundError(f"no templates for kind {op.kind!r}: expected {kind_dir}")
        for t in template_files(kind_dir):
            if not _for_devices(t.name, op.devices):
                continue
            out = t.relative_to(kind_dir).as_posix()[: -len(".j2")].replace("[op]", op.name)
            emit(t, out, op=op)
            if not files[out].strip():  # a template may render nothing for some ops (a CUDA file, no cuda)
                del files[out]
    # The extension-wide files last: the build script lists the kernel sources the kinds rendered (a kind
    # whose ops are Python over other ops', linear_loss, renders none).
    csrc = frozenset(p.removeprefix("csrc/") for p in files if p.startswith("csrc/"))
    ext_dir = templates_dir / "extension"
    for t in template_files(ext_dir):
        out = t.relative_to(ext_dir).as_posix()[: -len(".j2")]
        emit(t, out, csrc=csrc)
        if not files[out].strip():  # a file only some kinds need (_gemm.py) renders to nothing
            del files[out]
    runtime = runtime_files(templates_dir)
    for name, content in _runtime_needed(files, runtime).items():
        files[f"{RUNTIME_DIR}/{name}"] = content
    files = format.format_files(files, ext.package)
    files[MANIFEST] = _manifest(ext, templates_dir, files)
    return Rendering(tuple(RenderedFile(p, c) for p, c in sorted(files.items())))


def _manifest(ext: Extension, templates_dir: Path, files: dict[str, str]) -> str:
    root = templates_dir.parent
    data = {
        "generated_by": f"grimoire {__version__}",
        "extension": ext.name,
        "ops": [op.name for op in ext.ops],
        "specs": {s.path: s.sha256 for s in ext.sources},
        "templates": {t.relative_to(root).as_posix(): _hash(t.read_bytes()) for t in template_files(templates_dir)},
        "runtime": {p.relative_to(root).as_posix(): _hash(p.read_bytes())
                    for p in runtime_files(templates_dir).values()},
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
