"""Spec errors as data: every problem found in semantics/ names file:line and what to write instead."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    message: str
    kind: str = "error"

    def render(self, root: Path | None = None) -> str:
        file = self.file
        if root is not None and file not in ("", "unknown"):
            try:
                file = str(Path(file).resolve().relative_to(root.resolve()))
            except ValueError:
                pass
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {self.kind}: {self.message}"


class SpecError(Exception):
    """The specs cannot be turned into a model; nothing was generated."""

    def __init__(self, diagnostics: list[Diagnostic], root: Path | None = None):
        self.diagnostics = tuple(diagnostics)
        self.root = root
        super().__init__("\n".join(d.render(root) for d in self.diagnostics))
