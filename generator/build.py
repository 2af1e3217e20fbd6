"""Stage 4 — build: compile generated_ops/ by running its own generated builder (torch + ninja only).

The builder runs in one child process, so this process never imports torch, and a no-op build costs
one Python start and a stamp comparison.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


class BuildError(Exception):
    def __init__(self, log: str):
        self.log = log
        super().__init__(log)


@dataclass(frozen=True)
class BuildResult:
    library: Path
    seconds: float
    rebuilt: bool


def build(output_dir: Path, *, verbose: bool = False, force: bool = False) -> BuildResult:
    builder = output_dir / "_build.py"
    if not builder.exists():
        raise BuildError(f"{builder} is missing: run `grimoire generate` first")
    start = time.perf_counter()
    cmd = [sys.executable, str(builder)] + (["--verbose"] if verbose else []) + (["--force"] if force else [])
    if verbose:
        proc = subprocess.run(cmd, text=True, stdout=subprocess.PIPE)
        log = proc.stdout
    else:
        proc = subprocess.run(cmd, text=True, capture_output=True)
        log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise BuildError(_compiler_errors(log))
    status, _, library = log.strip().splitlines()[-1].partition(" ")
    return BuildResult(Path(library), time.perf_counter() - start, rebuilt=status == "built")


def _compiler_errors(log: str) -> str:
    """The lines a person needs: compiler diagnostics first, else the tail of the log."""
    lines = log.splitlines()
    errors = [ln for ln in lines if ": error:" in ln or ": fatal error:" in ln or "error:" in ln[:12]]
    return "\n".join(errors[:40]) if errors else "\n".join(lines[-40:])
