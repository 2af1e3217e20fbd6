"""How fast the generator itself is (targets: generate all ops < 1 s; no-op build < 2 s).

Run with `.venv/bin/python -m pytest benchmarks --benchmark-only`. These are benchmarks, not tests:
they report times and assert nothing about them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grimoire import build, knowledge, model, render

ROOT = Path(__file__).resolve().parent.parent


def _generate() -> None:
    ext = model.build_model(knowledge.load(ROOT / "semantics"))
    render.write(render.render(ext, ROOT / "templates"), ROOT / "generated_ops")


def test_generate_in_process(benchmark):
    """Consult the specs, run the checks, render and write-if-changed, in a warm process."""
    benchmark(_generate)


def test_generate_cli(benchmark):
    """`grimoire generate` as a user runs it: a fresh process each time."""
    benchmark.pedantic(lambda: subprocess.run([sys.executable, "-m", "grimoire.cli", "generate"], cwd=ROOT,
                                              check=True, capture_output=True), rounds=5)


def test_noop_build_cli(benchmark):
    """`grimoire build` with nothing changed: a fresh process each time."""
    build.build(ROOT / "generated_ops")
    benchmark.pedantic(lambda: subprocess.run([sys.executable, "-m", "grimoire.cli", "build"], cwd=ROOT,
                                              check=True, capture_output=True), rounds=5)
