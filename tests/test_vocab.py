"""`grimoire vocab`: the spec-language reference made from the vocabulary, and docs/spec-language.md in
step with it."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from grimoire import cli, knowledge, vocab

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _vocab():
    return knowledge.vocabulary(ROOT / "semantics")


def test_every_component_and_kind_is_listed_within_80_columns():
    r = runner.invoke(cli.app, ["vocab", "--root", str(ROOT)])
    assert r.exit_code == 0, r.output
    text = r.output
    # Every component the vocabulary declares, read from the Prolog sources themselves.
    sources = "".join(p.read_text() for p in (ROOT / "semantics").glob("*/*.pl") if p.parent.name in ("core", "kinds"))
    keys = set(re.findall(r"^component_spec\(([a-z]\w*),", sources, re.M))
    keys |= set(re.findall(r"^ecs:kind_component\(\w+, (\w+),", sources, re.M))
    kinds = set(re.findall(r"^ecs:op_kind\((\w+),", sources, re.M))
    assert len(keys) > 30 and len(kinds) >= 8
    listed = set(re.findall(r"^ {2,6}(\w+)  \[", text, re.M))
    assert keys <= listed, f"not in grimoire vocab: {sorted(keys - listed)}"
    assert kinds <= set(re.findall(r"^  (\w+)$", text, re.M)), text
    for word in ("unary functions:", "row reductions", "attr types:", "RESERVED NAMES", "python_keyword"):
        assert word in text
    assert "exp" in text and "training" in text  # a unary function; a reserved module attribute
    too_long = [line for line in text.splitlines() if len(line) > 80]
    assert not too_long, too_long


def test_docs_page_is_made_from_the_vocabulary():
    page = ROOT / "docs" / "spec-language.md"
    assert page.read_text() == vocab.markdown(_vocab()), (
        "docs/spec-language.md is out of date: run `grimoire vocab --markdown > docs/spec-language.md`")


def test_reserved_words_match_the_checks():
    """The reference lists what name_problem/3 refuses: a word from each list is refused as an op name."""
    v = _vocab()
    lists = {r["namespace"]: r["words"] for r in v["reserved"]}
    assert "class" in lists["python_keyword"] and "aten" in lists["torch_namespace"]
    op_namespaces = next(r["namespaces"] for r in v["roles"] if r["role"] == "op")
    assert "python_keyword" in op_namespaces and v["max_name_length"] == 64
