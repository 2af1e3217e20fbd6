"""Where a grimoire project keeps its specs, templates and output."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUTPUT = "generated_ops"


@dataclass(frozen=True)
class Project:
    root: Path
    output_name: str = DEFAULT_OUTPUT  # the generated package's folder: the extension's Python package

    @property
    def kernels(self) -> Path:
        """Where the user writes the kernel bodies of custom ops (kernels/<op>.cpp, .cu)."""
        return self.root / "kernels"

    @property
    def semantics(self) -> Path:
        return self.root / "semantics"

    @property
    def templates(self) -> tuple[Path, ...]:
        """Where templates are looked up, the first match winning: the project's own templates/ (a kind
        of its own, templates/kinds/<kind>/, or its version of any of grimoire's), then grimoire's."""
        local = self.root / "templates"
        if local.is_dir() and local.resolve() != BUNDLED_TEMPLATES.resolve():
            return (local, BUNDLED_TEMPLATES)
        return (BUNDLED_TEMPLATES,)

    @property
    def output(self) -> Path:
        return self.root / self.output_name

    @property
    def state(self) -> Path:
        """Scratch space for run artefacts (junit XML, benchmark JSON); ignored by git."""
        return self.root / ".grimoire"

    @classmethod
    def discover(cls, start: Path | None = None) -> "Project":
        """The nearest folder, from start upwards, that has a semantics/ folder."""
        env = os.environ.get("GRIMOIRE_ROOT")
        here = Path(env) if env else (start or Path.cwd())
        here = here.resolve()
        for candidate in (here, *here.parents):
            if (candidate / "semantics").is_dir():
                return cls(candidate, configured_package(candidate) or DEFAULT_OUTPUT)
        return cls(here, configured_package(here) or DEFAULT_OUTPUT)


def configured_package(root: Path) -> str | None:
    """`[tool.grimoire] package = "name"` in the project's pyproject.toml: the generated package's folder
    (a project made by `grimoire new-extension` names its own; this repository keeps generated_ops)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    text = path.read_text()
    try:
        import tomllib
    except ImportError:  # Python 3.10: the one key we need, read by hand
        section = re.search(r"^\[tool\.grimoire\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        found = section and re.search(r'^package\s*=\s*"([^"]+)"', section.group(1), re.M)
        return found.group(1) if found else None
    return tomllib.loads(text).get("tool", {}).get("grimoire", {}).get("package")


def _bundled(name: str) -> Path:
    """A folder shipped with the generator: inside the package when installed from a wheel
    (pyproject.toml maps it there), beside it in a source checkout or an editable install."""
    here = Path(__file__).resolve().parent
    inside = here / name
    return inside if inside.is_dir() else here.parent / name


# Templates shipped with the generator (the repository's own templates/ folder).
BUNDLED_TEMPLATES = _bundled("templates")
# The spec vocabulary shipped with the generator: semantics/core and semantics/kinds (not its ops).
BUNDLED_SEMANTICS = _bundled("semantics")
