"""The grimoire CLI through typer.testing.CliRunner, with a fixed terminal width and no colour."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator import cli

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """The consoles are made at import, before CliRunner's env: pin their width for stable output."""
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(cli.err, "width", 200)


def invoke(*args: str):
    return runner.invoke(cli.app, list(args))


def test_list_shows_every_op(root):
    r = invoke("list", "--root", str(root))
    assert r.exit_code == 0, r.output
    assert "parametric_swish" in r.output and "fused_attention" in r.output


def test_info_shows_schema_and_gradient(root):
    r = invoke("info", "parametric_swish", "--root", str(root))
    assert r.exit_code == 0, r.output
    assert "parametric_swish(Tensor x, float beta=1.0) -> Tensor" in r.output
    assert "d/dx" in r.output


def test_info_unknown_op_exits_2(root):
    r = invoke("info", "nope", "--root", str(root))
    assert r.exit_code == 2
    assert "no op named 'nope'" in r.output


def test_generate_check_on_committed_tree(root):
    r = invoke("generate", "--check", "--root", str(root))
    assert r.exit_code == 0, r.output
    assert "up to date" in r.output


def test_generate_then_check_in_a_fresh_project(tmp_project: Path):
    r = invoke("generate", "--root", str(tmp_project))
    assert r.exit_code == 0, r.output
    assert (tmp_project / "generated_ops" / "csrc" / "parametric_swish_cpu.cpp").exists()
    again = invoke("generate", "--root", str(tmp_project))
    assert "0 written" in again.output
    (tmp_project / "generated_ops" / "ops" / "parametric_swish.py").write_text("edited\n")
    r = invoke("generate", "--check", "--root", str(tmp_project))
    assert r.exit_code == 1
    assert "changed: generated_ops/ops/parametric_swish.py" in r.output


def test_bad_spec_exits_2_and_writes_nothing(tmp_project: Path):
    invoke("generate", "--root", str(tmp_project))
    before = {p: p.read_bytes() for p in (tmp_project / "generated_ops").rglob("*") if p.is_file()}
    spec = tmp_project / "semantics" / "ops" / "parametric_swish.pl"
    spec.write_text(spec.read_text().replace("sigmoid(beta * x)", "sigmoid(gamma * x)"))
    r = invoke("generate", "--root", str(tmp_project))
    assert r.exit_code == 2
    assert "semantics/ops/parametric_swish.pl:" in r.output and "unknown name 'gamma'" in r.output
    after = {p: p.read_bytes() for p in (tmp_project / "generated_ops").rglob("*") if p.is_file()}
    assert before == after


def test_perceive_prints_solutions(root):
    r = invoke("perceive", "component(Op, kind, attention)", "--root", str(root))
    assert r.exit_code == 0, r.output
    assert "Op = fused_attention." in r.output


def test_perceive_operation_info(root):
    r = invoke("perceive", "operation_info(parametric_swish)", "--root", str(root))
    assert r.exit_code == 0
    assert "forward: y=x*sigmoid(beta*x)" in r.output


def test_perceive_no_solution_exits_1(root):
    r = invoke("perceive", "component(nothing, kind, _)", "--root", str(root))
    assert r.exit_code == 1 and "false." in r.output


def test_perceive_bad_query_exits_2(root):
    r = invoke("perceive", "component(", "--root", str(root))
    assert r.exit_code == 2 and "Syntax error" in r.output


def test_cast_unknown_spell_exits_2(root):
    r = invoke("cast", "conjure(teleport)", "--root", str(root))
    assert r.exit_code == 2
    assert "conjure(build_extension)" in r.output


def test_cast_generate(tmp_project: Path):
    r = invoke("cast", "conjure(generate)", "--root", str(tmp_project))
    assert r.exit_code == 0, r.output
    assert "conjure(generate): generate" in r.output
    assert (tmp_project / "generated_ops" / "manifest.json").exists()


def test_bench_rejects_unknown_device(root):
    r = invoke("bench", "--device", "tpu", "--root", str(root))
    assert r.exit_code == 2


def test_doctor_lists_components():
    r = invoke("doctor")
    assert "swipl" in r.output and "torch" in r.output and "pyswip" in r.output
    assert r.exit_code == (0 if shutil.which("swipl") else 1)


def test_build_is_incremental(root):
    """The committed extension builds, and a second build is a no-op that reports so."""
    from generator import build

    build.build(root / "generated_ops")
    again = build.build(root / "generated_ops")
    assert not again.rebuilt
    assert again.library.exists()
