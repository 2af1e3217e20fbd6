"""The grimoire CLI through typer.testing.CliRunner, with a fixed terminal width and no colour."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grimoire import __version__, cli

ROOT = Path(__file__).resolve().parent.parent

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


def test_info_shows_the_out_and_in_place_forms(root):
    r = invoke("info", "add", "--root", str(root))
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.replace("│", " ").split())
    assert "out=None)" in flat and "add_(x, y, alpha: float = 1.0): writes x" in flat, r.output
    assert "add_out(Tensor x, Tensor y, float alpha=1.0, *, Tensor(a!) out) -> ()" in flat, r.output


def test_info_shows_each_devices_dtypes(root):
    r = invoke("info", "flash_attention", "--root", str(root))
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.replace("│", " ").split())
    assert "cpu: float32, float64; cuda: float16, bfloat16, float32, float64" in flat, r.output


@pytest.mark.parametrize("op, expected", [
    ("layer_norm", ["d/dx", "d/dweight", "d/dbias", "mean(pow(x-mean(x),2))"]),  # rowwise, derived per input
    ("fused_linear_gelu", ["act gelu_tanh", "dL/dz = g*(0.5*(1+tanh("]),  # the activation's derivative
    ("flash_attention", ["backward kernels"]),
    ("fused_linear_cross_entropy", ["d/dx = G @ weight", "d/dweight = G^T @ x", "d/dbias"]),  # linear_loss
])
def test_info_shows_every_kinds_gradients_whole(root, op, expected):
    r = invoke("info", op, "--root", str(root))
    assert r.exit_code == 0, r.output
    flat = "".join(ch for ch in r.output if ch not in "│ \n")  # the table's wrapping undone
    for text in expected:
        assert text.replace(" ", "") in flat, (text, r.output)
    assert "…" not in r.output  # wrapped, never cut


def test_info_shows_a_rowwise_ops_sweeps(root):
    # layer_norm's backward: its mean alone, then its variance with the two unscaled sums (grad_y read
    # there), the recheck of the scaled sums, the outputs. A planner change that adds a sweep fails here.
    r = invoke("info", "layer_norm", "--root", str(root))
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.replace("│", " ").split())
    assert "forward sweeps 1: mean mu; 2: mean var; 3: the outputs" in flat, r.output
    assert ("backward sweeps 1: mean mu; 2: mean var, sum tmp_s2_unscaled, sum tmp_s3_unscaled; "
            "3: sum tmp_s2, sum tmp_s3 (only on a row whose scaled sum overflows); 4: the outputs") in flat, r.output
    r = invoke("info", "softmax", "--root", str(root))
    flat = " ".join(r.output.replace("│", " ").split())
    assert "(CUDA rows too long for registers: 1: max tmp_s0, sum_exp tmp_s1; 2: the outputs)" in flat, r.output


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
    assert "0 files written" in again.output
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
    assert "'tpu' is not one of 'cpu', 'cuda'" in r.output  # a Typer choice, listed in --help


def test_version_option():
    r = invoke("--version")
    assert r.exit_code == 0 and r.output.strip() == f"grimoire {__version__}"
    assert invoke("version").output.strip() == f"grimoire {__version__}"


# `grimoire test` on a fake pytest run: the junit XML below, written where pytest would write it.
JUNIT = (
    '<testsuites><testsuite>'
    + "".join(f'<testcase classname="generated_ops.tests.test_{op}" name="test_reference[cpu-float{b}]"/>'
              for op in ("add", "gelu", "gelu_tanh", "fused_linear_gelu", "layer_norm") for b in (32, 64))
    + '<testcase classname="generated_ops.tests.test_layer_norm" name="test_gradcheck[cpu]">'
      '<failure message="gradcheck failed"/></testcase>'
    + '<testcase classname="generated_ops.tests.test_gelu_tanh_cuda" name="test_stream[float16]">'
      '<failure message="boom"/></testcase>'
    + '<testcase classname="generated_ops.tests.test_gelu_properties" name="test_forward">'
      '<skipped message="property tests need Hypothesis"/></testcase>'
    + '<testcase classname="generated_ops.tests.test_layer_norm_cuda" name="test_stream[bfloat16]">'
      '<skipped message="CUDA is not available"/></testcase>'
    + '</testsuite></testsuites>')


@pytest.fixture
def fake_tests(tmp_path: Path, monkeypatch):
    """A project whose generated tests 'ran' with JUNIT's results (pytest exit code 1)."""
    import subprocess

    from grimoire import validate

    (tmp_path / "semantics").mkdir()
    (tmp_path / "generated_ops" / "tests").mkdir(parents=True)
    (tmp_path / "generated_ops" / "manifest.json").write_text(
        '{"ops": ["add", "gelu", "gelu_tanh", "fused_linear_gelu", "layer_norm"]}')
    monkeypatch.setattr(cli, "step_build", lambda project, verbose=False: None)

    def fake_pytest(cmd, **kwargs):
        junit = next(a for a in cmd if a.startswith("--junitxml=")).split("=", 1)[1]
        Path(junit).write_text(JUNIT)
        return subprocess.CompletedProcess(cmd, 1 if "<failure" in JUNIT else 0)

    monkeypatch.setattr(validate.subprocess, "run", fake_pytest)
    return tmp_path


def test_test_summary_fits_80_columns_failures_first(fake_tests, monkeypatch):
    monkeypatch.setattr(cli.console, "width", 80)
    r = invoke("test", "--root", str(fake_tests))
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), r.stdout
    ops = [line.split()[1] for line in lines if line.split() and line.split()[0] in ("FAIL", "ok", "skip")]
    assert ops == ["gelu_tanh", "layer_norm", "add", "fused_linear_gelu", "gelu"]  # failing first, then by name
    at = next(i for i, line in enumerate(lines) if line.startswith("FAIL  layer_norm"))
    assert "2 passed" in lines[at] and "1 failed" in lines[at] and "1 skipped" in lines[at]
    assert lines[at + 1].strip() == "test_gradcheck[cpu]"  # the failing tests by name, under their op
    assert "test_gelu_tanh_cuda::test_stream[float16]" in r.stdout
    assert lines[-1].startswith("FAILED: 2 failed, 10 passed, 2 skipped in 5 ops; failing: gelu_tanh, layer_norm")
    assert "some generated tests failed" in r.stderr


def test_test_json_has_per_op_counts(fake_tests):
    r = invoke("test", "--json", "--root", str(fake_tests))
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["ok"] is False and data["totals"] == {"passed": 10, "failed": 2, "skipped": 2}
    ops = {o["op"]: o for o in data["ops"]}
    assert set(ops) == {"add", "gelu", "gelu_tanh", "fused_linear_gelu", "layer_norm"}
    assert (ops["layer_norm"]["passed"], ops["layer_norm"]["failed"], ops["layer_norm"]["skipped"]) == (2, 1, 1)
    assert ops["layer_norm"]["failures"] == [{"test": "test_gradcheck[cpu]", "message": "gradcheck failed"}]
    assert ops["add"]["status"] == "ok" and ops["add"]["failures"] == []
    assert {"reason": "CUDA is not available", "count": 1} in data["skipped"]


def test_test_json_all_passed_exits_0(fake_tests, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "JUNIT", JUNIT.replace("<failure", "<skipped"))
    r = invoke("test", "--json", "--root", str(fake_tests))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ok"] is True


def test_piped_output_is_not_hard_wrapped(tmp_project: Path):
    """At COLUMNS=80 into a pipe, a diagnostic longer than 80 columns stays one line."""
    long = "gamma_" + "x" * 90
    spec = tmp_project / "semantics" / "ops" / "parametric_swish.pl"
    spec.write_text(spec.read_text().replace("sigmoid(beta * x)", f"sigmoid({long} * x)"))
    r = subprocess.run([sys.executable, "-m", "grimoire.cli", "generate", "--root", str(tmp_project)],
                       capture_output=True, text=True, env=dict(os.environ, COLUMNS="80"), cwd=ROOT, timeout=300)
    assert r.returncode == 2, r.stderr
    line = next(line for line in r.stderr.splitlines() if "semantics/ops/parametric_swish.pl:" in line)
    assert f"unknown name '{long}'" in line and len(line) > 80


def test_doctor_lists_components():
    r = invoke("doctor")
    assert "swipl" in r.output and "torch" in r.output and "pyswip" in r.output
    assert r.exit_code == (0 if shutil.which("swipl") else 1)


def test_build_is_incremental(root):
    """The committed extension builds, and a second build is a no-op that reports so."""
    from grimoire import build

    build.build(root / "generated_ops")
    again = build.build(root / "generated_ops")
    assert not again.rebuilt
    assert again.library.exists()
