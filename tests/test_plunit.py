"""Run the PLUnit tests that sit beside the semantics files (semantics/**/*.plt) in a fresh swipl: load the
vocabulary and read the specs as knowledge.load does (grimoire/prolog/bridge.pl's grimoire_load/2), load
each .plt into the module of the .pl beside it (so that its tests reach that module's private helpers, as
tests written inside the module would), then run_tests."""

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
    code, data, refused = knowledge._sort_out(knowledge.spec_files(SEMANTICS), SEMANTICS)
    assert not refused, refused
    goal = (f"consult({_atom_list([knowledge.BRIDGE])[1:-1]}), "
            f"grimoire_load({_atom_list(code)}, {_atom_list(data)}), "
            "grimoire_messages_json(J), ( J == '[]' -> true ; print_message(error, format('~w', [J])) ), "
            f"forall(member(T, {_atom_list(PLT_FILES)}), load_beside(T)), "
            "( run_tests -> halt(0) ; halt(1) )")
    # load_beside(+Plt): Plt into the module its .pl defines (user for a file that is no module).
    helper = ("load_beside(T) :- file_name_extension(B, plt, T), file_name_extension(B, pl, F), "
              "( source_file_property(F, module(M)) -> true ; M = user ), load_files(M:T, []).")
    proc = subprocess.run(["swipl", "-g", f"assertz(({helper[:-1]}))", "-g", goal, "-t", "halt(2)"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    # A warning (choicepoint left, singleton in a test, ...) counts as a failure too.
    assert "Warning:" not in out and "ERROR" not in out, out
    passed = re.search(r"(?:All )?(\d+) tests? passed", out)
    assert passed and int(passed.group(1)) > 0, out
