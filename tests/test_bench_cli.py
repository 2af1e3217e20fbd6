"""`grimoire bench` end to end: rendering a run timed elsewhere, the --compare gate (on scaled JSON, and on
a real tiny run against a deliberately slowed kernel), `perceive` over saved results, and `cast`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grimoire import bench, cli

from test_bench import cpu_entries, run_json, write

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(cli.err, "width", 200)


def invoke(*args: str):
    return runner.invoke(cli.app, [str(a) for a in args])


def test_from_json_renders_report_plots_and_data(root, tmp_path):
    run = write(tmp_path / "run.json", run_json(cpu_entries()))
    r = invoke("bench", "--from-json", run, "--out", tmp_path / "rep", "--root", root)
    assert r.exit_code == 0, r.output
    assert "parametric_swish" in r.output and "eager 78 ms (2.60x)" in r.output
    out = tmp_path / "rep"
    md = (out / "report.md").read_text()
    assert f"rendered by `grimoire bench --from-json {run} --out {out}`" in md
    assert {"speedup.png", "bandwidth.png", "throughput.png", "benchmark.json"} <= {p.name for p in out.iterdir()}
    assert "data" not in json.loads((out / "benchmark.json").read_text())["benchmarks"][0]["stats"]


def test_compare_fails_naming_the_regressed_benchmark(root, tmp_path):
    base = write(tmp_path / "base" / "benchmark.json", run_json(cpu_entries()))
    slow = write(tmp_path / "slow.json", run_json(cpu_entries(scale_generated=1.5)))
    r = invoke("bench", "--from-json", slow, "--compare", base.parent, "--out", tmp_path / "rep", "--root", root)
    assert r.exit_code == 1, r.output
    assert "regression: parametric_swish forward [16777216] float32 cpu [generated]: 30 ms -> 45 ms (+50%" in r.output
    assert "1 benchmark(s) regressed" in r.output
    assert "**REGRESSED**" in (tmp_path / "rep" / "report.md").read_text()
    r = invoke("bench", "--from-json", slow, "--compare", base, "--threshold", "60", "--out", tmp_path / "rep",
               "--root", root)
    assert r.exit_code == 0, r.output


def test_compare_unchanged_passes(root, tmp_path):
    base = write(tmp_path / "base.json", run_json(cpu_entries()))
    r = invoke("bench", "--from-json", base, "--compare", base, "--out", tmp_path / "rep", "--root", root)
    assert r.exit_code == 0, r.output
    assert "no regression against" in r.output and "8 benchmarks compared" in r.output


def test_bench_command_line_errors(root, tmp_path):
    r = invoke("bench", "--from-json", tmp_path / "missing.json", "--root", root)
    assert r.exit_code == 2 and "no file" in r.output
    r = invoke("bench", "--compare", "no_such_run_xyz", "--root", root)
    assert r.exit_code == 2 and "no saved run named 'no_such_run_xyz'" in r.output
    r = invoke("bench", "--threshold", "0", "--root", root)
    assert r.exit_code == 2
    other = write(tmp_path / "o.json", run_json(cpu_entries()))
    gpu = run_json(cpu_entries())
    for b in gpu["benchmarks"]:
        b["extra_info"]["device"] = "cuda"
    r = invoke("bench", "--from-json", write(tmp_path / "g.json", gpu), "--compare", other, "--out", tmp_path / "rep",
               "--root", root)
    assert r.exit_code == 2 and "nothing to compare" in r.output


def test_compare_catches_a_deliberately_slowed_kernel(root, tmp_path, monkeypatch):
    """Two real (tiny) runs: the second with the generated parametric_swish slowed by a sleep
    (tests/bench_slow_plugin.py, loaded into the benchmark run through PYTEST_ADDOPTS)."""
    args = ["bench", "parametric_swish", "--tiny", "--impl", "generated", "--impl", "eager", "--root", root]
    r = invoke(*args, "--out", tmp_path / "base")
    assert r.exit_code == 0, r.output
    assert "tiny shapes" in r.output and "parametric_swish" in r.output
    assert "Tiny shapes" in (tmp_path / "base" / "report.md").read_text()
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p bench_slow_plugin")
    r = invoke(*args, "--out", tmp_path / "slow", "--compare", tmp_path / "base")
    assert r.exit_code == 1, r.output
    assert "regression: parametric_swish forward [4096] float32 cpu [generated]" in r.output
    assert "[eager]" not in "".join(line for line in r.output.splitlines() if line.startswith("regression:"))


def test_perceive_answers_from_the_latest_saved_run(tmp_project: Path):
    r = invoke("perceive", "benchmark_result(Op, Shape, Speedup)", "--root", tmp_project)
    assert r.exit_code == 1 and "false." in r.output  # no saved run yet
    write(tmp_project / "benchmarks" / "results" / "cpu" / bench.REPORT_JSON, run_json(cpu_entries()))
    r = invoke("perceive", "benchmark_result(Op, Shape, Speedup)", "--root", tmp_project)
    assert r.exit_code == 0, r.output
    assert "Op = parametric_swish, Shape = [16777216], Speedup = 2.6." in r.output
    assert "Op = fused_attention, Shape = [8,512,64], Speedup = 1.208." in r.output
    r = invoke("perceive", "benchmark_result(parametric_swish, backward, _, float32, Peer, S)", "--root", tmp_project)
    assert "Peer = eager, S = 4.138." in r.output
    r = invoke("perceive", "benchmark_run(Name, Device, _, Source)", "--root", tmp_project)
    assert "Name = cpu, Device = cpu, Source = \"benchmarks/results/cpu/benchmark.json\"." in r.output
    r = invoke("perceive", "benchmark_ceiling_pct(parametric_swish, forward, _, _, generated, P), P > 40",
               "--root", tmp_project)
    assert r.exit_code == 0 and "P = 44.7." in r.output


def test_cast_run_benchmarks_generates_builds_then_benches(root, monkeypatch):
    done = []
    monkeypatch.setattr(cli, "STEPS", {k: (lambda p, k=k: done.append(k)) for k in cli.STEPS})
    r = invoke("cast", "conjure(run_benchmarks)", "--root", root)
    assert r.exit_code == 0, r.output
    assert "conjure(run_benchmarks): generate -> build -> bench" in r.output
    assert done == ["generate", "build", "bench"]


def test_bench_selects_ops_by_exact_name(root, monkeypatch):
    """`bench relu` runs bench_relu.py alone, not fused_linear_relu's (no -k substring match)."""
    seen = []

    def fake_run(cmd, **kwargs):
        seen.append(cmd)
        return 5  # nothing collected: stops before reading any JSON

    monkeypatch.setattr(bench, "run_benchmarks", fake_run)
    r = invoke("bench", "relu", "--tiny", "--root", root)
    assert r.exit_code == 2 and seen, r.output
    targets = [a for a in seen[0] if a.startswith(str(root)) and a.endswith(".py")]
    assert targets == [str(root / "generated_ops" / "benchmarks" / "bench_relu.py")]
    assert "-k" not in seen[0]


def test_bench_unknown_op_exits_2_listing_close_matches_first(root, monkeypatch):
    monkeypatch.setattr(bench, "run_benchmarks", lambda *a, **k: pytest.fail("ran the benchmarks"))
    r = invoke("bench", "relu", "fused_relu", "--root", root)
    assert r.exit_code == 2
    assert "unknown op 'fused_relu'; ops: fused_linear_relu, " in r.output
    listed = r.output.split("ops: ", 1)[1].replace("\n", "").split(", ")
    assert "parametric_swish" in listed and listed.index("fused_linear_relu") < listed.index("add")
