"""Scaffolding: new ops and new extension projects that build and pass their tests as written.

`new_op` writes a commented spec under semantics/ops/ (and, for a kind that has them, the kernel files
under kernels/) from the kind's own example templates, templates/kinds/<kind>/example_*.j2: the kinds
come from Prolog (op_kind/2), so a new kind is scaffoldable as soon as it ships its example_spec.pl.j2.
`new_extension` makes a standalone project from the cookiecutter template templates/new_extension;
that template holds no op template: its example op is written by new_op, from the same examples.
"""

from __future__ import annotations

import importlib.metadata
import keyword
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .diagnostics import SpecError
from .project import BUNDLED_TEMPLATES, Project

NEW_EXTENSION_TEMPLATE = "new_extension"
DEFAULT_EXAMPLE_OP = "scaled_softsign"
# Package names that would collide with the project's own folders or with what it imports.
_TAKEN_PACKAGES = {"semantics", "kernels", "tests", "templates", "build", "dist", "torch", "generator", "grimoire"}


class ScaffoldError(Exception):
    """A refusal: the name, kind or target is wrong; nothing was written."""


@dataclass(frozen=True)
class Scaffold:
    root: Path
    written: tuple[Path, ...]
    next_steps: tuple[str, ...]


def _examples(templates: Path, kind: str) -> dict[str, Path]:
    """The kind's scaffolding templates by what they become: spec, or a kernel file extension."""
    found = {}
    for t in sorted((templates / "kinds" / kind).glob("example_*.j2")):
        stem = t.name[len("example_"):-len(".j2")]  # spec.pl, kernel.cpp, kernel.cu
        found["spec" if stem == "spec.pl" else stem.partition(".")[2] if stem.startswith("kernel.") else stem] = t
    return found


def _targets(project: Project, name: str, examples: dict[str, Path]) -> dict[Path, Path]:
    targets = {}
    for what, template in examples.items():
        if what == "spec":
            targets[project.semantics / "ops" / f"{name}.pl"] = template
        else:
            targets[project.kernels / f"{name}.{what}"] = template
    return targets


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def new_op(root: Path, name: str, kind: str, *, force: bool = False) -> Scaffold:
    """Write a working example op of this kind named `name`. Raises ScaffoldError (nothing written) on an
    unusable or taken name, an unknown kind, or files that exist (unless force), SpecError on broken specs."""
    from . import knowledge, model, render

    project = Project.discover(root)
    facts = knowledge.scaffold_facts(project.semantics, name)
    kinds = sorted(k["name"] for k in facts["kinds"])
    if not facts["valid"]:
        raise ScaffoldError(f"op name {name!r} is not usable: write a lower_snake_case identifier (letters, digits, "
                            "underscores, starting with a letter) that is not a C++ or Python keyword nor reserved "
                            "(grad_*, tmp_*, self, torch, out, ...), e.g. my_op")
    if kind not in kinds:
        raise ScaffoldError(f"unknown kind {kind!r}; kinds: {', '.join(kinds)}")
    # The kind's templates: the project's own (a kind it defines) or grimoire's.
    templates = next((r for r in project.templates if (r / "kinds" / kind).is_dir()), project.templates[-1])
    examples = _examples(templates, kind)
    if "spec" not in examples:
        raise ScaffoldError(f"kind {kind!r} has no example spec to scaffold from: expected "
                            f"{templates / 'kinds' / kind / 'example_spec.pl.j2'}")
    targets = _targets(project, name, examples)
    spec_path = next(t for t, tpl in targets.items() if tpl == examples["spec"])
    taken = facts["taken"]
    if taken:  # --force may rewrite the op's own file, never take a name declared elsewhere
        if not (force and taken["what"] == "declared" and Path(taken["file"]).resolve() == spec_path.resolve()):
            raise ScaffoldError(f"op name {name!r} is already taken: {taken['what']} at "
                                f"{_rel(Path(taken['file']), project.root)}:{taken['line']}")
    ext = model.build_model(knowledge.load(project.semantics))  # what the package exports already
    for export in dict.fromkeys((name, facts["module"])):
        why = model.export_clash(export, name, ext.ops, ext.package)
        if why:
            what = "" if export == name else f"its module class would be {export!r}, and "
            raise ScaffoldError(f"op name {name!r} is already taken: {what}{why}")
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise ScaffoldError(f"{', '.join(_rel(t, project.root) for t in existing)} already exist(s): "
                            "pass --force to overwrite")

    env = render._environment(render._roots(templates))
    context = {"name": name, "module": facts["module"], "kind": kind,
               "package": facts["package"] or project.output_name}
    contents = {t: env.get_template(tpl.relative_to(templates).as_posix()).render(**context)
                for t, tpl in targets.items()}
    before = {t: t.read_bytes() if t.exists() else None for t in targets}
    for target, text in contents.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    try:  # the example must be valid as written; if the kind's example is broken, take it back
        model.build_model(knowledge.load(project.semantics))
    except SpecError as exc:
        for target, old in before.items():
            target.write_bytes(old) if old is not None else target.unlink()
        raise ScaffoldError(f"the example of kind {kind!r} does not load, so nothing was written "
                            f"(fix {_rel(examples['spec'], templates.parent)}):\n{exc}") from None
    return Scaffold(project.root, tuple(contents), _next_steps(project, name, kind, targets))


def _next_steps(project: Project, name: str, kind: str, targets: dict[Path, Path]) -> tuple[str, ...]:
    spec = next(t for t in targets if t.suffix == ".pl")
    steps = [f"edit {_rel(spec, project.root)}: the doc, inputs, attrs and what it computes (its comments say how)"]
    kernels = [_rel(t, project.root) for t in targets if t.suffix != ".pl"]
    if kernels:
        steps.append(f"write the kernel bodies in {' and '.join(kernels)}, against "
                     f"{project.output_name}/csrc/{name}_custom.h (written by grimoire generate)")
    steps.append("grimoire generate && grimoire build && grimoire test")
    return tuple(steps)


# ----------------------------------------------------------------------------------------------
# New extension projects (cookiecutter)
# ----------------------------------------------------------------------------------------------

def package_name(path: Path) -> str:
    return re.sub(r"[^0-9a-zA-Z_]", "_", path.name).lower()


def _check_package(package: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", package) or keyword.iskeyword(package) or package in _TAKEN_PACKAGES:
        raise ScaffoldError(f"package name {package!r} is not usable: give a lower_snake_case Python identifier that "
                            f"is not a keyword nor one of {', '.join(sorted(_TAKEN_PACKAGES))} (--package NAME)")


DISTRIBUTION = "torch-grimoire"  # grimoire's name on the package index (plain "grimoire" is another project)


def generator_requirement(chosen: str | None = None) -> str:
    """How a new project installs grimoire: the requirement the user chose (a version such as
    torch-grimoire==0.1.0, a path to a checkout or a wheel, a git+https:// URL), else this version from the
    package index. Nothing of this machine (no checkout path) is written unless the user gives it."""
    if chosen is None:
        return f"{DISTRIBUTION}=={__version__}"
    chosen = chosen.strip()
    if not chosen or "\n" in chosen or '"' in chosen:
        raise ScaffoldError(f"--generator {chosen!r} is not a requirement: give a version "
                            f"({DISTRIBUTION}=={__version__}), a path or a URL")
    return chosen


def dev_requirement(requirement: str) -> str:
    """The generator as pyproject.toml's `dev` extra names it, which must be a PEP 508 requirement:
    a version (torch-grimoire==0.1.0) is kept; a path or a bare URL (git+https://...) is not one, so
    the extra names the distribution alone and the Makefile's GRIMOIRE_SPEC holds the path or URL. A
    path never reaches the project's metadata nor its wheel's."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return DISTRIBUTION
    return requirement if parsed.url is None else DISTRIBUTION


def torch_requirement() -> str:
    try:
        return "torch==" + importlib.metadata.version("torch").split("+")[0]
    except importlib.metadata.PackageNotFoundError:
        return "torch"


def new_extension(path: Path, *, package: str | None = None, example_op: str = DEFAULT_EXAMPLE_OP,
                  generator: str | None = None) -> Scaffold:
    """A standalone extension project at `path` (new or empty), from templates/new_extension."""
    path = path.expanduser().absolute()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise ScaffoldError(f"{path} exists and is not an empty folder: choose a new one")
    package = package or package_name(path)
    _check_package(package)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", example_op) or keyword.iskeyword(example_op):
        raise ScaffoldError(f"example op name {example_op!r} is not usable: give a lower_snake_case identifier")
    template = BUNDLED_TEMPLATES / NEW_EXTENSION_TEMPLATE
    requirement = generator_requirement(generator)
    context = {"project_slug": path.name, "package": package, "example_op": example_op,
               "grimoire_requirement": requirement, "grimoire_dev_requirement": dev_requirement(requirement),
               "torch_requirement": torch_requirement()}
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.main import cookiecutter

    with tempfile.TemporaryDirectory(prefix="grimoire-cookiecutter-") as tmp:
        # Our own config: cookiecutter's replay file and cache go to a scratch folder, not under HOME,
        # and a user's ~/.cookiecutterrc cannot change the project.
        config = Path(tmp) / "config.yaml"
        config.write_text(f"replay_dir: '{tmp}/replay'\ncookiecutters_dir: '{tmp}/cookiecutters'\n")
        try:
            out = cookiecutter(str(template), no_input=True, extra_context=context, output_dir=str(path.parent),
                               overwrite_if_exists=path.exists(), config_file=str(config))
        except CookiecutterException as exc:
            if path.exists() and not any(path.iterdir()):
                shutil.rmtree(path)
            raise ScaffoldError(f"cookiecutter could not make {path}: {exc}") from None
    root = Path(out)
    written = tuple(sorted(p for p in root.rglob("*") if p.is_file()))
    return Scaffold(root, written, (f"cd {path}", "make test    # set up, generate, build, run every test",
                                    "make wheel   # build the wheel; check it installs and imports without grimoire"))
