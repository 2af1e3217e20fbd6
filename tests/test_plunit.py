"""Run the PLUnit tests that sit beside the semantics files (semantics/**/*.plt) in a fresh swipl:
consult every spec in the order knowledge.load uses, consult each .plt, then run_tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grimoire import knowledge

ROOT = Path(__file__).resolve().parent.parent
SEMANTICS = ROOT / "semantics"
PLT_FILES = sorted(SEMANTICS.rglob("*.plt"))


def _atom_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("\\", "\\\\").replace("'", "\\'") + "'" for p in paths) + "]"


@pytest.mark.skipif(shutil.which("swipl") is None, reason="swipl (SWI-Prolog) is not on PATH")
def test_plunit():
    assert PLT_FILES, "no .plt files under semantics/"
    # consult, not load_test_files/1: the latter loads the units where they cannot see the
    # user-module predicates the specs define.
    goal = (f"maplist(consult, {_atom_list(knowledge.spec_files(SEMANTICS))}), "
            f"maplist(consult, {_atom_list(PLT_FILES)}), "
            "( run_tests -> halt(0) ; halt(1) )")
    proc = subprocess.run(["swipl", "-g", goal, "-t", "halt(2)"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    # A warning (choicepoint left, singleton in a test, ...) counts as a failure too.
    assert "Warning:" not in out and "ERROR" not in out, out
    passed = re.search(r"(?:All )?(\d+) tests? passed", out)
    assert passed and int(passed.group(1)) > 0, out
