"""Every broken spec in tests/broken_specs/ must fail to load with exactly one clear diagnostic
at the right file:line. Each case is one op file whose first line reads
`% expect: <line> <substring of the message>`; it is loaded beside the real core/, kinds/ and
extension.pl (the real ops are left out so that only the case can be blamed)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator import knowledge
from generator.diagnostics import SpecError

ROOT = Path(__file__).resolve().parent.parent
SEMANTICS = ROOT / "semantics"
CASES = sorted((Path(__file__).parent / "broken_specs").glob("*.pl"))
EXPECT = re.compile(r"^% expect: (\d+) (.+)$")


def expectation(case: Path) -> tuple[int, str]:
    m = EXPECT.match(case.read_text().splitlines()[0])
    assert m, f"{case.name}: first line must read `% expect: <line> <message substring>`"
    return int(m.group(1)), m.group(2).strip()


def semantics_with(tmp_path: Path, case: Path | None) -> Path:
    """A semantics folder: the real one without its ops (and .plt tests), plus the case in ops/."""
    target = tmp_path / "semantics"
    shutil.copytree(SEMANTICS, target, ignore=shutil.ignore_patterns("ops", "*.plt"))
    (target / "ops").mkdir()
    if case is not None:
        shutil.copy(case, target / "ops" / case.name)
    return target


def test_corpus_is_large_enough():
    assert len(CASES) >= 12


def test_scaffold_without_ops_loads(tmp_path):
    # If the bare scaffold failed, every case below would be blamed for it.
    knowledge.load(semantics_with(tmp_path, None))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_spec(case, tmp_path):
    line, substring = expectation(case)
    with pytest.raises(SpecError) as info:
        knowledge.load(semantics_with(tmp_path, case))
    diagnostics = info.value.diagnostics
    assert len(diagnostics) == 1, "\n".join(d.render() for d in diagnostics)
    d = diagnostics[0]
    assert Path(d.file).name == case.name, d.render()
    assert d.line == line, d.render()
    assert substring in d.message, d.render()


def test_real_semantics_loads():
    # Runs after the broken cases, so it also shows that none of them left facts behind.
    model = knowledge.load(SEMANTICS).model
    assert {op["name"] for op in model["ops"]} >= {"parametric_swish", "fused_attention"}
