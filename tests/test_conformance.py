"""The spec-language conformance suite (tests/conformance/README.md): toy ops combining the spec components
the way a user's own specs may, where the bundled ops never do.

Its generated tests are not run from here: pytest collects tests/conformance/conformance_ops/tests with the
rest of tests/ (tests/conformance/conftest.py puts the package on sys.path, builds it at collection and
prints the results per kind at the end of the session), so each generated case runs once. These tests check
what that collection relies on: the committed package is what the specs and templates give today, it builds
and loads on the CPU, every spec has its generated tests, and the specs still cover the combinations the
suite promises (so that removing or editing an op cannot silently drop one).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grimoire import cli, knowledge, model

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "tests" / "conformance"
PACKAGE = SUITE / "conformance_ops"

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


@pytest.fixture(scope="module")
def ext() -> model.Extension:
    return model.build_model(knowledge.load(SUITE / "semantics"))


def test_committed_package_is_up_to_date(monkeypatch):
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(cli.err, "width", 200)
    r = runner.invoke(cli.app, ["generate", "--check", "--root", str(SUITE)])
    assert r.exit_code == 0, (r.output + "\nregenerate it: cd tests/conformance && grimoire generate")
    assert "up to date" in r.output


def test_it_builds_and_loads_on_the_cpu(ext):
    if str(SUITE) not in sys.path:
        sys.path.insert(0, str(SUITE))
    pkg = importlib.import_module("conformance_ops")  # builds where out of date (ccache makes a rebuild quick)
    import torch

    for op in ext.ops:
        assert hasattr(torch.ops.conformance_ops, op.name), op.name
        assert callable(getattr(pkg, op.name))
    assert importlib.import_module("conformance_ops._build").is_fresh()


def test_every_op_has_its_generated_tests(ext):
    tests = {p.name for p in (PACKAGE / "tests").glob("test_*.py")}
    for op in ext.ops:
        assert f"test_{op.name}.py" in tests, op.name
        assert f"test_{op.name}_properties.py" in tests, op.name


def test_the_specs_cover_the_promised_combinations(ext):
    kinds = {k["name"] for k in knowledge.scaffold_facts(SUITE / "semantics", "probe")["kinds"]}
    covered = {op.kind for op in ext.ops}
    assert kinds <= covered, f"kinds without a conformance op: {sorted(kinds - covered)}"

    # Every op runs where its kind has kernels: CUDA wherever the kind has them (all kinds today).
    assert all("cuda" in op.devices for op in ext.ops)

    def relation(op):
        cpu, cuda = set(op.dtypes_on("cpu")), set(op.dtypes_on("cuda"))
        return ("same" if cpu == cuda else "subset" if cuda < cpu else "superset" if cuda > cpu
                else "disjoint" if not cpu & cuda else "overlap")

    for kind in ("elementwise", "rowwise"):
        relations = {relation(op) for op in ext.ops if op.kind == kind}
        assert {"subset", "superset", "disjoint"} <= relations, (kind, relations)
        assert all(op.peer for op in ext.ops if op.kind == kind), f"{kind} ops without a peer"

    # Attrs: required ones (no default) beside defaulted ones, and choice attrs (of a loss, of an activation).
    assert any(not a.has_default for op in ext.ops if op.kind == "elementwise" for a in op.attrs)
    assert any(not a.has_default for op in ext.ops if op.kind == "rowwise" for a in op.attrs)
    assert any(not a.has_default for op in ext.ops if op.kind == "custom" for a in op.attrs)
    assert any(a.choices and a.default != a.choices[0] for op in ext.ops for a in op.attrs)
    assert {1, 2, 3} <= {len(op.inputs) for op in ext.ops if op.kind == "elementwise"}
    # out= forms: one beside a required attr, one over CPU and CUDA dtypes that are disjoint.
    elementwise = [op for op in ext.ops if op.kind == "elementwise"]
    outs = [op for op in elementwise if op.out_schema]
    assert any(not a.has_default for op in outs for a in op.attrs), "an out= form with a required attr"
    assert any(relation(op) == "disjoint" for op in outs), "an out= form with disjoint CPU and CUDA dtypes"
    assert any(op.inplace_form and len(op.inputs) == 3 for op in elementwise), "an in-place form of three inputs"

    rowwise = [op for op in ext.ops if op.kind == "rowwise"]
    assert any(op.row_roles.column for op in rowwise), "a column input"
    assert any(op.row_roles.index for op in rowwise), "an index input"
    assert any(not op.row_roles.output_is_element and op.loss is None for op in rowwise), "one value per row"
    assert any(op.loss and not op.row_roles.output_is_element for op in rowwise), "a row-output loss"
    assert any(op.loss and op.row_roles.output_is_element for op in rowwise), "an element-output loss"

    assert any(op.epilogue and op.epilogue.act_attr for op in ext.ops if op.kind == "gemm")
    assert any(op.epilogue and not op.epilogue.bias for op in ext.ops if op.kind == "conv")
    assert any(op.custom and len(op.outputs) > 1 and set(op.differentiable) < set(op.inputs)
               for op in ext.ops if op.kind == "custom")
    assert all((SUITE / "kernels" / f"{op.name}{suffix}").is_file()
               for op in ext.ops if op.kind == "custom" for suffix in (".cpp", ".cu"))
