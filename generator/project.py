"""Where a grimoire project keeps its specs, templates and output."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    root: Path
    output_name: str = "generated_ops"

    @property
    def semantics(self) -> Path:
        return self.root / "semantics"

    @property
    def templates(self) -> Path:
        local = self.root / "templates"
        return local if (local / "kinds").is_dir() else BUNDLED_TEMPLATES

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
                return cls(candidate)
        return cls(here)


# Templates shipped with the generator (the repository's own templates/ folder).
BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
