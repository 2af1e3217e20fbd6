"""The benchmark tooling without running benchmarks: reading runs, peer and regression comparisons,
Prolog facts, the markdown + PNG report (CPU and CUDA runs), and the generated harness's helpers
(its CUDA timing path driven by fake events, since CI has no GPU)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from grimoire import bench, report

ROOT = Path(__file__).resolve().parent.parent


def bench_entry(op, pass_, impl, median, *, shape=(1024,), dtype="float32", device="cpu", bytes_=0, flops=0,
                ceiling=None, ceiling_rate=None, note=None, tiny=False):
    """One benchmark as the generated suite writes it (pytest-benchmark JSON + the harness's extra_info)."""
    return {
        "group": f"{op} {pass_} {list(shape)} {dtype} {device}",
        "name": f"test_{pass_}[{impl}]",
        "fullname": f"generated_ops/benchmarks/bench_{op}.py::test_{pass_}[{impl}-{dtype}-{shape}]",
        "stats": {"median": median, "iqr": median / 50, "rounds": 20, "mean": median, "min": median * 0.9,
                  "max": median * 1.2, "data": [median] * 20},
        "extra_info": {"op": op, "pass_": pass_, "impl": impl, "shape": list(shape), "dtype": dtype,
                       "device": device, "bytes": bytes_, "flops": flops, "note": note, "tiny": tiny,
                       "timer": "cuda_event" if device == "cuda" else "host", "ceiling": ceiling,
                       "ceiling_rate": ceiling_rate, "ceiling_unit": {"copy": "GB/s", "matmul": "TFLOP/s"}.get(ceiling)},
    }


def run_json(entries, *, device="cpu", tiny=False, when="2026-11-22T10:00:00+00:00"):
    grimoire = {"device": device, "torch": "2.11.0+cu130" if device == "cuda" else "2.13.0+cpu", "threads": 2,
                "tiny": tiny, "timer": "cuda_event" if device == "cuda" else "host",
                "command": f"grimoire bench --device {device}", "cpus": 2, "load_start": 1.5, "load_end": 2.5}
    if device == "cuda":
        grimoire.update(gpu="NVIDIA H200", cuda="13.0", gpu_memory_gib=139.8, triton="3.5.0")
    return {"machine_info": {"python_version": "3.11.7", "node": "somehost", "cpu": {"brand_raw": "Test CPU"},
                             "grimoire": grimoire},
            "commit_info": {"id": "0123456789abcdef", "branch": "issue-7", "dirty": False},
            "datetime": when, "version": "5.3.1", "benchmarks": entries}


def cpu_entries(scale_generated=1.0):
    mb = 3 * 4 * 16_777_216
    return [
        bench_entry("parametric_swish", "forward", "generated", 0.030 * scale_generated, shape=(16_777_216,),
                    bytes_=2 * 64 << 20, ceiling="copy", ceiling_rate=10.0),
        bench_entry("parametric_swish", "forward", "eager", 0.078, shape=(16_777_216,), bytes_=2 * 64 << 20,
                    ceiling="copy", ceiling_rate=10.0),
        bench_entry("parametric_swish", "forward", "compile", 0.034, shape=(16_777_216,), bytes_=2 * 64 << 20,
                    ceiling="copy", ceiling_rate=10.0),
        bench_entry("parametric_swish", "backward", "generated", 0.029, shape=(16_777_216,), bytes_=mb,
                    ceiling="copy", ceiling_rate=9.0),
        bench_entry("parametric_swish", "backward", "eager", 0.120, shape=(16_777_216,), bytes_=mb,
                    ceiling="copy", ceiling_rate=9.0),
        bench_entry("fused_attention", "forward", "generated", 0.0048, shape=(8, 512, 64), flops=536_870_912,
                    ceiling="matmul", ceiling_rate=0.2),
        bench_entry("fused_attention", "forward", "sdpa", 0.0030, shape=(8, 512, 64), flops=536_870_912,
                    ceiling="matmul", ceiling_rate=0.2, note="does not return the attention weights"),
        bench_entry("fused_attention", "forward", "eager", 0.0058, shape=(8, 512, 64), flops=536_870_912,
                    ceiling="matmul", ceiling_rate=0.2),
    ]


def write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


# ---------------------------------------------------------------------------------------------------
# Reading and comparing
# ---------------------------------------------------------------------------------------------------

def test_speedup_is_peer_time_over_generated_time(tmp_path):
    run = bench.load_run(write(tmp_path / "r.json", run_json(cpu_entries())))
    rows = {(r.ours.op, r.ours.pass_): r for r in bench.compare(run)}
    fwd = rows[("parametric_swish", "forward")]
    assert [t.impl for t, _ in fwd.peers] == ["eager", "compile"]  # the usual peers first
    assert fwd.speedup("eager") == pytest.approx(0.078 / 0.030)
    assert fwd.speedup("compile") == pytest.approx(0.034 / 0.030)
    attn = rows[("fused_attention", "forward")]
    assert [t.impl for t, _ in attn.peers] == ["eager", "sdpa"]
    assert attn.speedup("sdpa") == pytest.approx(0.625)


def test_rates_and_percent_of_ceiling(tmp_path):
    run = bench.load_run(write(tmp_path / "r.json", run_json(cpu_entries())))
    t = next(x for x in run.timings if x.op == "parametric_swish" and x.pass_ == "forward" and x.impl == "generated")
    assert t.gbps == pytest.approx((128 << 20) / 0.030 / 1e9)
    assert t.percent_of_ceiling == pytest.approx(100 * t.gbps / 10.0)
    a = next(x for x in run.timings if x.op == "fused_attention" and x.impl == "generated")
    assert a.tflops == pytest.approx(536_870_912 / 0.0048 / 1e12)
    assert a.rate == a.tflops and a.percent_of_ceiling == pytest.approx(100 * a.tflops / 0.2)


def test_load_run_rejects_foreign_json(tmp_path):
    with pytest.raises(bench.BenchError, match="not a pytest-benchmark JSON"):
        bench.load_run(write(tmp_path / "x.json", {"benchmarks": [{"stats": {}}]}))


def _scaled(entries, factors):
    """The entries with each implementation's median multiplied by factors[impl] (or by a function of it)."""
    for e in entries:
        f = factors.get(e["extra_info"]["impl"], 1.0)
        e["stats"]["median"] *= f(e) if callable(f) else f
    return entries


def test_changes_gate_only_the_generated_op(tmp_path):
    base = bench.load_run(write(tmp_path / "base.json", run_json(cpu_entries())))
    now = bench.load_run(write(tmp_path / "now.json", run_json(cpu_entries(scale_generated=1.5))))
    changes = bench.changes(base, now, threshold_pct=10)
    regressed = [c for c in changes if c.regressed]
    assert [c.label for c in regressed] == ["parametric_swish forward [16777216] float32 cpu [generated]"]
    assert regressed[0].ratio == pytest.approx(1.5) and regressed[0].vs_peers == pytest.approx(1.5)
    assert changes[0] is regressed[0]  # regressions listed first
    assert not [c for c in bench.changes(base, now, threshold_pct=60) if c.regressed]


def test_a_machine_that_got_slower_is_not_a_regression(tmp_path):
    """Everything 1.5x slower, peers included: the generated op did not regress against them."""
    base = bench.load_run(write(tmp_path / "base.json", run_json(cpu_entries())))
    slower = _scaled(cpu_entries(scale_generated=1.5), {"eager": 1.5, "compile": 1.5, "sdpa": 1.5})
    now = bench.load_run(write(tmp_path / "now.json", run_json(slower)))
    changes = bench.changes(base, now, threshold_pct=10)
    swish = next(c for c in changes if c.key[0] == "parametric_swish" and c.key[1] == "forward"
                 and c.key[5] == "generated")
    assert swish.ratio == pytest.approx(1.5) and swish.vs_peers == pytest.approx(1.0) and not swish.regressed


def test_noise_of_the_run_is_not_a_regression(tmp_path):
    """Peers moving +-40% across the run (nothing changed but the machine's mood): +17% on ours is within
    that noise; +150% is not."""
    moves = iter([1.4, 0.6, 1.35, 0.7, 1.3, 0.65, 1.4, 0.62])
    entries = [e for e in cpu_entries()]
    base = bench.load_run(write(tmp_path / "base.json", run_json(entries)))
    noisy = _scaled(cpu_entries(scale_generated=1.17), {"eager": lambda e: next(moves), "compile": lambda e: next(moves),
                                                        "sdpa": lambda e: next(moves)})
    changes = bench.changes(base, bench.load_run(write(tmp_path / "now.json", run_json(noisy))), threshold_pct=10)
    assert not any(c.regressed for c in changes), [(c.label, c.vs_peers, c.allowed) for c in changes]
    assert all(c.allowed > 0.17 for c in changes if c.key[5] == "generated")
    moves = iter([1.4, 0.6, 1.35, 0.7, 1.3, 0.65, 1.4, 0.62])
    worse = _scaled(cpu_entries(scale_generated=4.0), {"eager": lambda e: next(moves), "compile": lambda e: next(moves),
                                                       "sdpa": lambda e: next(moves)})
    changes = bench.changes(base, bench.load_run(write(tmp_path / "worse.json", run_json(worse))), threshold_pct=10)
    assert [c.key[0] for c in changes if c.regressed] == ["parametric_swish"]


def test_unchanged_run_has_no_regression(tmp_path):
    path = write(tmp_path / "r.json", run_json(cpu_entries()))
    changes = bench.changes(bench.load_run(path), bench.load_run(path), threshold_pct=1)
    assert len(changes) == 8 and not any(c.regressed for c in changes)


def test_trimmed_drops_samples_and_host_name(tmp_path):
    data = json.loads(bench.trimmed(write(tmp_path / "r.json", run_json(cpu_entries()))))
    assert all("data" not in b["stats"] for b in data["benchmarks"])
    assert "node" not in data["machine_info"]
    assert data["benchmarks"][0]["stats"]["median"] == pytest.approx(0.030)


def test_resolve_saved_by_name_path_and_error(tmp_path):
    saved = write(tmp_path / "benchmarks" / "results" / "cpu" / bench.REPORT_JSON, run_json(cpu_entries()))
    assert bench.resolve_saved(tmp_path, "cpu") == saved
    assert bench.resolve_saved(tmp_path, str(saved)) == saved
    assert bench.resolve_saved(tmp_path, str(saved.parent)) == saved
    with pytest.raises(bench.BenchError, match="no saved run named 'gpu'; saved runs: cpu"):
        bench.resolve_saved(tmp_path, "gpu")


def test_latest_saved_is_newest_non_tiny(tmp_path):
    reports = tmp_path / "benchmarks" / "reports"
    write(tmp_path / "benchmarks" / "results" / "cpu" / bench.REPORT_JSON,
          run_json(cpu_entries(), when="2026-11-20T00:00:00"))
    newer = write(reports / "mine" / bench.REPORT_JSON, run_json(cpu_entries(), when="2026-11-21T00:00:00"))
    write(reports / "smoke" / bench.REPORT_JSON, run_json(cpu_entries(), tiny=True, when="2026-11-23T00:00:00"))
    assert bench.latest_saved(tmp_path) == newer
    assert bench.latest_saved(tmp_path / "nowhere") is None


def test_prolog_facts(tmp_path):
    run = bench.load_run(write(tmp_path / "r.json", run_json(cpu_entries())))
    facts = bench.prolog_facts(run, "cpu")
    assert "benchmark_result(parametric_swish, forward, [16777216], float32, eager, 2.600)." in facts
    assert "benchmark_result(fused_attention, forward, [8, 512, 64], float32, sdpa, 0.625)." in facts
    assert "benchmark_time(parametric_swish, forward, [16777216], float32, generated, 0.03)." in facts
    assert facts.count("benchmark_ceiling_pct(") == 8
    assert bench._atom("NVIDIA H200") == "'NVIDIA H200'" and bench._atom("eager") == "eager"


# ---------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------

def test_cpu_report_markdown_and_plots(tmp_path):
    run = bench.load_run(write(tmp_path / "r.json", run_json(cpu_entries())))
    rows = bench.compare(run)
    md = report.write(tmp_path / "out", run, rows, title="cpu", rendered_by="grimoire bench --device cpu").read_text()
    assert md.startswith("# Benchmark report: cpu\n")
    assert "## How to read this" in md and "peer time / generated time" in md
    assert "| pass | shape | dtype | generated | eager | compile | generated GB/s | ceiling GB/s | % of ceiling |" in md
    assert "| forward | [16777216] | float32 | 30 ms | 78 ms (**2.60x**) | 34 ms (**1.13x**) | 4.47 | 10 | 45% |" in md
    assert "| generated | eager | sdpa | generated TFLOP/s | ceiling TFLOP/s | % of ceiling |" in md
    assert "3 ms (0.63x)" in md  # slower than a peer: no bold
    assert "`sdpa`: does not return the attention weights." in md
    assert "| CPU | Test CPU; torch threads: 2 |" in md
    assert "| commit | 0123456789ab (issue-7) |" in md
    assert "| load | 1-minute load average 1.5 at the start, 2.5 at the end, on 2 CPUs; the run itself adds up to 2" in md
    assert "Tiny shapes" not in md
    ops = sorted({r.ours.op for r in rows})
    for png in (report.SPEEDUP_PNG, report.BANDWIDTH_PNG, report.THROUGHPUT_PNG, *map(report.speedup_png, ops)):
        data = (tmp_path / "out" / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, png
        assert f"]({png})" in md
        # A size a person can open: at most 1000 x 1600 pixels whatever the number of cases.
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width <= 1000 and height <= 1600, (png, width, height)


def test_cuda_report_from_synthetic_gpu_run(tmp_path):
    """The GPU report is rendered here from JSON fetched back from the GPU machine: check that path."""
    n = 64 << 20
    entries = [
        bench_entry("parametric_swish", "forward", impl, t, shape=(n,), dtype="bfloat16", device="cuda",
                    bytes_=4 * n, ceiling="copy", ceiling_rate=4275.0)
        for impl, t in (("generated", 70e-6), ("eager", 230e-6), ("compile", 68e-6))
    ]
    run = bench.load_run(write(tmp_path / "gpu.json", run_json(entries, device="cuda")))
    assert run.device == "cuda" and not run.tiny
    md = report.write(tmp_path / "gpu", run, bench.compare(run), title="gpu",
                      rendered_by="grimoire bench --from-json gpu.json --save gpu").read_text()
    assert "CUDA events around each call, L2 cache flushed before it" in md
    assert "| GPU | NVIDIA H200 (139.8 GiB) |" in md
    assert "torch 2.11.0+cu130, CUDA 13.0, triton 3.5.0" in md
    assert "| forward | [67108864] | bfloat16 | 70 µs | 230 µs (**3.29x**) | 68 µs (0.97x) | 3.83e+03 | 4.28e+03 | 90% |" in md
    assert "rendered by `grimoire bench --from-json gpu.json --save gpu`" in md
    assert (tmp_path / "gpu" / report.BANDWIDTH_PNG).is_file()
    assert not (tmp_path / "gpu" / report.THROUGHPUT_PNG).exists()  # no compute-bound op in this run


def test_tiny_run_is_labelled_and_comparison_section(tmp_path):
    base = bench.load_run(write(tmp_path / "b.json", run_json(cpu_entries(), tiny=True)))
    now = bench.load_run(write(tmp_path / "n.json", run_json(cpu_entries(scale_generated=2.0), tiny=True)))
    comp = report.Comparison(base, tuple(bench.changes(base, now, 10)), 10)
    md = report.markdown(now, bench.compare(now), title="t", rendered_by="x", plots=[], comparison=comp)
    assert "**Tiny shapes**" in md
    assert "**1 regression(s).**" in md
    assert ("| parametric_swish forward [16777216] float32 cpu [generated] | 30 ms | 60 ms | +100% | +100% | 10% "
            "| **REGRESSED** |") in md


# ---------------------------------------------------------------------------------------------------
# The generated harness (generated_ops/benchmarks/_harness.py), loaded alone: torch + pytest only
# ---------------------------------------------------------------------------------------------------

def load_harness(monkeypatch, **env):
    for k in ("GRIMOIRE_BENCH_DEVICE", "GRIMOIRE_BENCH_TINY", "GRIMOIRE_BENCH_DTYPES", "GRIMOIRE_BENCH_IMPLS"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    path = ROOT / "generated_ops" / "benchmarks" / "_harness.py"
    spec = importlib.util.spec_from_file_location("harness_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_harness_shapes_dtypes_impls(monkeypatch):
    h = load_harness(monkeypatch)
    assert h.shapes([(16_777_216,)], default=(1,)) == [(16_777_216,)]
    assert h.shapes([], default=(8, 512, 64)) == [(8, 512, 64)]
    assert h.dtypes([torch.float32, torch.float64]) == [torch.float32]
    assert h.dtypes([torch.float64]) == [torch.float64]
    assert h.impls(["generated", "eager", "compile"]) == ["generated", "eager", "compile"]
    h = load_harness(monkeypatch, GRIMOIRE_BENCH_TINY="1", GRIMOIRE_BENCH_DTYPES="bfloat16,float64",
                     GRIMOIRE_BENCH_IMPLS="generated,eager")
    small = h.shapes([(16_777_216,), (8, 512, 64)], default=(1,))
    assert small[0] == (4096,) and len(small[1]) == 3
    assert all(s[0] * s[1] * s[2] <= h.TINY_NUMEL for s in small[1:])
    assert h.dtypes([torch.float32, torch.float64, torch.bfloat16]) == [torch.float64, torch.bfloat16]
    assert h.impls(["generated", "eager", "compile"]) == ["generated", "eager"]


def test_harness_kernels_on_cpu(monkeypatch):
    """Where a call's time goes: its operators by their own time a call, largest first, the rest summed."""
    h = load_harness(monkeypatch, GRIMOIRE_BENCH_TINY="1")
    x = torch.randn(256, 256)
    rows = h.kernels(lambda: (x @ x).mul(2).relu().sum().neg().exp().log1p().abs().sqrt(), "cpu", calls=2)
    names = [name for name, _, _ in rows]
    assert "aten::mm" in names and len(rows) <= h.KERNELS_SHOWN + 1
    assert names[-1] == "(others)"  # ten operators, six shown
    times = [us for _, us, _ in rows[:-1]]
    assert times == sorted(times, reverse=True) and all(us > 0 for us in times)
    assert all(n == 1 for name, _, n in rows[:-1] if name == "aten::mm")  # one launch a call


def test_harness_ceilings_on_cpu(monkeypatch):
    h = load_harness(monkeypatch, GRIMOIRE_BENCH_TINY="1")
    copy = h.ceiling("copy", torch.float32, "cpu", bytes_moved=1 << 16)
    assert copy["ceiling"] == "copy" and copy["ceiling_unit"] == "GB/s" and copy["ceiling_rate"] > 0
    assert copy["ceiling_work"] == 1 << 16
    # Square matmuls of a multiple of 256 (cuBLAS runs odd sizes far under its peak), at least 256.
    mm = h.ceiling("matmul", torch.float32, "cpu", flops=2 * 64 ** 3)
    assert mm["ceiling_unit"] == "TFLOP/s" and mm["ceiling_work"] == 2 * 256 ** 3 and mm["ceiling_rate"] > 0
    assert h.ceiling("matmul", torch.float32, "cpu", flops=2 * 400 ** 3)["ceiling_work"] == 2 * 512 ** 3
    assert h.ceiling("none", torch.float32, "cpu") == {"ceiling": None}
    assert h.default_ceiling(100, 0) == "copy" and h.default_ceiling(100, 5) == "matmul"
    with pytest.raises(ValueError, match="needs bytes_moved"):
        h.ceiling("copy", torch.float32, "cpu")
    with pytest.raises(ValueError, match="must be one of"):
        h.ceiling("roofline", torch.float32, "cpu", bytes_moved=8)


def test_matmul_ceiling_is_the_best_square_size_on_cuda(monkeypatch):
    # On CUDA the matmul ceiling is the library's best rate over the matched size, 4096 and 8192, so an
    # op at an awkward size is not measured against a slow cuBLAS kernel (the harness is loaded without
    # tiny mode; _measured is replaced, so no GPU is needed).
    h = load_harness(monkeypatch)
    rates = {3328: 120.0, 4096: 760.0, 8192: 670.0}
    asked = []

    def measured(kind, dtype, device, size, tf32):
        assert tf32 is (dtype == torch.float32)  # asked for TF32 below; only float32 has it
        asked.append(size)
        return {"ceiling": kind, "ceiling_rate": rates[size], "ceiling_work": 2 * size ** 3}

    monkeypatch.setattr(h, "_measured", measured)
    best = h.ceiling("matmul", torch.bfloat16, "cuda", flops=2 * 8192 * 1024 * 4096, tf32=True)
    assert sorted(asked) == [3328, 4096, 8192]
    assert best["ceiling_rate"] == 760.0 and best["ceiling_work"] == 2 * 4096 ** 3
    asked.clear()
    assert h.ceiling("matmul", torch.float32, "cpu", flops=2 * 3328 ** 3, tf32=True)["ceiling_rate"] == 120.0
    assert asked == [3328]  # on the CPU only the matched size: a 8192 matmul there takes minutes


class FakeEvent:
    """Stands in for torch.cuda.Event: every timed call takes 0.5 ms of 'device time'."""

    def __init__(self, enable_timing=False):
        assert enable_timing

    def record(self):
        pass

    def synchronize(self):
        pass

    def elapsed_time(self, other):
        return 0.5


def test_harness_cuda_event_path_with_fake_events(monkeypatch):
    h = load_harness(monkeypatch, GRIMOIRE_BENCH_DEVICE="cuda")
    flushes, calls = [], []
    monkeypatch.setattr(h.torch.cuda, "Event", FakeEvent)
    monkeypatch.setattr(h.torch.cuda, "synchronize", lambda: None)
    monkeypatch.setattr(h, "flush_l2", lambda: flushes.append(1))
    fn = lambda: calls.append(1)  # noqa: E731
    assert h.cuda_event_seconds(fn) == pytest.approx(5e-4) and flushes == [1]
    before = h.event_clock()
    target = h.event_round(fn)
    target()
    target()
    assert h.EventClock.now == before and len(h.EventClock.pending) == 2  # queued, not yet read
    assert h.event_clock() - before == pytest.approx(1e-3)  # the clock moves by event time only
    assert h.EventClock.pending == []
    assert h.event_rounds(fn) == max(10, min(500, int(h.TIME_BUDGET_S / 5e-4)) // h.ROUND_CALLS)
    f0, c0 = len(flushes), len(calls)
    assert h.median_seconds(fn, "cuda") == pytest.approx(5e-4)
    timed, warm = len(flushes) - f0, len(calls) - c0 - (len(flushes) - f0)
    assert timed == 3 + h.event_rounds(fn) and warm >= 2  # timed calls flush L2 first; warm-up calls do not


FAKE_CUDA_BENCH = '''
import pytest
import torch

from generated_ops.benchmarks import _harness as H


class FakeEvent:
    def __init__(self, enable_timing=False):
        pass

    def record(self):
        pass

    def synchronize(self):
        pass

    def elapsed_time(self, other):
        return 0.5  # ms


torch.cuda.Event = FakeEvent
torch.cuda.synchronize = lambda: None
# The allocator's statistics: 100 bytes live before a call, 4196 at its peak.
torch.cuda.memory_allocated = lambda: 100
torch.cuda.reset_peak_memory_stats = lambda: None
torch.cuda.max_memory_allocated = lambda: 4196
H.flush_l2 = lambda: None


@pytest.fixture
def device():
    return "cuda"  # overrides the conftest's, which skips without a GPU


def test_fake(run):
    x = torch.randn(1000)
    run(lambda: torch.sin(x), op="fake", pass_="forward", impl="generated", shape=(1000,), dtype=torch.float32,
        bytes_moved=8000, ceiling="none")
'''


def test_run_fixture_cuda_path_reports_event_time(tmp_path):
    """The generated conftest's `run` on its CUDA path (fake events, no GPU): pytest-benchmark's statistics
    are the event times (0.5 ms per call here), not the host time around them."""
    import os
    import subprocess
    import sys

    (tmp_path / "bench_fake.py").write_text(FAKE_CUDA_BENCH)
    out = tmp_path / "run.json"
    env = dict(os.environ, GRIMOIRE_BENCH_DEVICE="cuda", GRIMOIRE_BENCH_TINY="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path / "bench_fake.py"), "-q", "-p",
                           "generated_ops.benchmarks.conftest", "-p", "no:cacheprovider", "--benchmark-only",
                           f"--benchmark-json={out}", "-o", "python_files=bench_*.py"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    b = data["benchmarks"][0]
    assert b["options"]["timer"] == "event_clock"
    assert b["stats"]["median"] == pytest.approx(5e-4) and b["stats"]["max"] == pytest.approx(5e-4)
    # tiny time budget / event time, in rounds of ROUND_CALLS queued calls (at least 3 rounds)
    assert b["stats"]["rounds"] == max(3, int(0.02 / 5e-4) // 8) and b["stats"]["iterations"] == 8
    assert b["extra_info"]["timer"] == "cuda_event_queued" and b["extra_info"]["device"] == "cuda"
    assert b["extra_info"]["peak_bytes"] == 4096  # beyond what was live before the call
    assert data["machine_info"]["grimoire"]["timer"] == "cuda_event_queued"
    run = bench.load_run(out)
    assert run.timings[0].median_s == pytest.approx(5e-4) and run.timings[0].ceiling is None


def test_pytest_command_selects_op_files_exactly(tmp_path):
    cmd = bench.pytest_command(tmp_path, tmp_path / "o.json", ops=["relu", "gelu", "relu"])
    assert [a for a in cmd if a.startswith(str(tmp_path)) and a.endswith(".py")] == [
        str(tmp_path / "bench_relu.py"), str(tmp_path / "bench_gelu.py")]
    assert "-k" not in cmd
    assert str(tmp_path) in bench.pytest_command(tmp_path, tmp_path / "o.json")  # no ops: the whole folder


def test_check_ops_names_close_matches_first(tmp_path):
    for op in ("add", "fused_linear_relu", "gelu", "relu"):
        (tmp_path / f"bench_{op}.py").write_text("")
    known = bench.benchmarked_ops(tmp_path)
    assert known == ["add", "fused_linear_relu", "gelu", "relu"]
    bench.check_ops(["relu", "gelu"], known)
    with pytest.raises(bench.BenchError, match=r"^unknown op 'relux'; ops: relu, .*add"):
        bench.check_ops(["relu", "relux"], known)


# ---------------------------------------------------------------------------------------------------
# Library peers, peak memory and the losses' forward+backward pass
# ---------------------------------------------------------------------------------------------------

FAKE_PEER = ("def double(x, scale=2):\n    return x * scale\n\n\n"
             "def picky(x):\n    raise ValueError('no rows over 512 columns\\nmore detail')\n")


def test_library_peers_import_or_are_left_out_saying_why(monkeypatch, tmp_path):
    (tmp_path / "fakepeer.py").write_text(FAKE_PEER)
    (tmp_path / "brokenpeer.py").write_text("raise RuntimeError('needs a GPU\\nand more')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    h = load_harness(monkeypatch)
    found = h.library_peers("softmax", {"fake": ("fakepeer.double", ("cpu", "cuda")),
                                        "gpu_only": ("fakepeer.double", ("cuda",)),
                                        "missing": ("no_such_peer_module.f", ("cpu",)),
                                        "broken": ("brokenpeer.f", ("cpu",))})
    assert list(found) == ["fake"] and found["fake"](3) == 6
    h.library_peers("rms_norm", {"missing": ("no_such_peer_module.g", ("cpu",))})
    assert h.left_out() == [
        ("library peer missing left out of softmax, rms_norm: ModuleNotFoundError: No module named "
         "'no_such_peer_module'"),
        "library peer broken left out of softmax: RuntimeError: needs a GPU",
    ]
    assert h.environment("pytest")["left_out"] == h.left_out()
    # GRIMOIRE_BENCH_IMPLS leaves a peer out without importing it: nothing to say about it.
    h = load_harness(monkeypatch, GRIMOIRE_BENCH_IMPLS="generated")
    assert h.library_peers("softmax", {"missing": ("no_such_peer_module.f", ("cpu",))}) == {} and h.left_out() == []


def test_peak_bytes_is_none_on_the_cpu(monkeypatch):
    h = load_harness(monkeypatch)
    calls = []
    assert h.peak_bytes(lambda: calls.append(1), "cpu") is None and calls == []


PEER_BENCH = '''
import pytest
import torch

from generated_ops.benchmarks import _harness as H

LIBRARY = H.library_peers("fakeop", {"fake": ("fakepeer.double", ("cpu",)),
                                     "picky": ("fakepeer.picky", ("cpu",)),
                                     "missing": ("no_such_peer_module.f", ("cpu",))})
IMPLS = H.impls(["generated", *LIBRARY])


@pytest.mark.parametrize("impl", IMPLS)
def test_forward(run, impl):
    x = torch.randn(1000)
    fn = (lambda: x * 2) if impl == "generated" else (lambda: LIBRARY[impl](x))
    run(fn, op="fakeop", pass_="forward", impl=impl, shape=(1000,), dtype=torch.float32, bytes_moved=8000,
        memory=True)
'''


def test_a_library_peer_runs_beside_the_op_and_a_missing_one_is_named(tmp_path):
    """A tiny CPU run through the generated conftest: the peer that imports is timed in the same run,
    the one that does not is named once in the summary and in the JSON, one that refuses the case is
    skipped saying why; the CPU records no peak memory, and the report says so."""
    import os
    import subprocess
    import sys

    (tmp_path / "fakepeer.py").write_text(FAKE_PEER)
    (tmp_path / "bench_peer.py").write_text(PEER_BENCH)
    out = tmp_path / "run.json"
    env = dict(os.environ, GRIMOIRE_BENCH_DEVICE="cpu", GRIMOIRE_BENCH_TINY="1", GRIMOIRE_BENCH_KERNELS="1",
               PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    env.pop("GRIMOIRE_BENCH_IMPLS", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path / "bench_peer.py"), "-q", "-rs", "-p",
                           "generated_ops.benchmarks.conftest", "-p", "no:cacheprovider", "--benchmark-only",
                           f"--benchmark-json={out}", "-o", "python_files=bench_*.py",
                           "--benchmark-max-time=0.01", "--benchmark-min-rounds=3", "--benchmark-warmup=off"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = "library peer missing left out of fakeop: ModuleNotFoundError: No module named 'no_such_peer_module'"
    assert proc.stdout.count(line) == 1
    assert "peer picky refuses this case: ValueError: no rows over 512 columns" in proc.stdout
    assert "1 skipped" in proc.stdout
    data = json.loads(out.read_text())
    assert sorted(b["extra_info"]["impl"] for b in data["benchmarks"]) == ["fake", "generated"]
    assert all(b["extra_info"]["peak_bytes"] is None and b["extra_info"]["memory"] for b in data["benchmarks"])
    assert data["machine_info"]["grimoire"]["left_out"] == [line]
    run = bench.load_run(out)
    (row,) = bench.compare(run)
    assert [p.impl for p, _ in row.peers] == ["fake"]
    md = report.markdown(run, [row], title="t", rendered_by="", plots=[])
    assert f"| left out | {line} |" in md
    assert "Peak memory: measured on CUDA only" in md
    # GRIMOIRE_BENCH_KERNELS=1: where each call's time went, and the report's table of it.
    assert all(b["extra_info"]["kernels"] for b in data["benchmarks"])
    assert row.ours.kernels and all(us >= 0 for _, us, _ in row.ours.kernels)
    assert "Where the generated op's time goes" in md and "| operator |" in md


def test_losses_have_a_forward_backward_pass():
    """One training step's loss (the loss, then its gradients) is a pass of every loss's bench file, and
    of no other rowwise op's."""
    bench_dir = ROOT / "generated_ops" / "benchmarks"
    for op in ("cross_entropy", "mse_loss", "fused_linear_cross_entropy"):
        assert 'pass_="forward+backward"' in (bench_dir / f"bench_{op}.py").read_text(), op
    for op in ("softmax", "rms_norm", "layer_norm"):
        assert "forward+backward" not in (bench_dir / f"bench_{op}.py").read_text(), op


def test_cross_entropy_step_runs_tiny(tmp_path):
    import os
    import subprocess

    out = tmp_path / "run.json"
    env = dict(os.environ, GRIMOIRE_BENCH_DEVICE="cpu", GRIMOIRE_BENCH_TINY="1", GRIMOIRE_BENCH_DTYPES="float32",
               GRIMOIRE_BENCH_IMPLS="generated,eager,liger")
    cmd = bench.pytest_command(ROOT / "generated_ops" / "benchmarks", out, ops=["cross_entropy"], tiny=True,
                               extra_args=["-k", "forward_backward"])
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = bench.load_run(out)
    assert {(t.pass_, t.impl) for t in run.timings} == {("forward+backward", "generated"),
                                                        ("forward+backward", "eager")}  # liger: CUDA only
    assert all(t.memory and t.peak_bytes is None for t in run.timings)


def test_report_shows_peak_memory_and_the_gpu_bars(tmp_path):
    def entry(op, pass_, impl, median, peak, shape=(8192, 32000), bar=None, **kw):
        e = bench_entry(op, pass_, impl, median, shape=shape, device="cuda", **kw)
        e["extra_info"].update(peak_bytes=peak, memory=op != "relu")
        if bar:  # the spec's bench_bar, as the harness records it on the generated op's case
            e["extra_info"].update(bar_peer=bar[0], bar_ratio=bar[1])
        return e

    copy = {"bytes_": 10**9, "ceiling": "copy", "ceiling_rate": 1000.0}  # 1 ms is 100% of the copy
    entries = [
        entry("cross_entropy", "forward+backward", "generated", 1.0e-3, 64 * 10**6, **copy),
        entry("cross_entropy", "forward+backward", "compile", 1.2e-3, 1_100 * 10**6, **copy),
        entry("cross_entropy", "forward+backward", "liger", 1.1e-3, 32 * 10**6, **copy),
        entry("cross_entropy", "backward", "generated", 1.25e-3, 0, **copy),  # 80% of the copy: missed
        entry("cross_entropy", "backward", "compile", 2.0e-3, 0, **copy),
        entry("relu", "forward", "generated", 1.0e-3, 0, **copy),  # 0.99x compile: at par
        entry("relu", "forward", "compile", 0.99e-3, 0, **copy),
        entry("adam_step/Adam", "step", "generated", 1.05e-3, None, **copy),  # 95%, 0.95x torch fused
        entry("adam_step/Adam", "step", "torch_fused", 1.0e-3, None, **copy),
        entry("fused_attention", "forward", "generated", 1.0e-3, None, shape=(4, 16, 2048, 64), ceiling="matmul",
              bar=("eager", 1.5)),
        entry("fused_attention", "forward", "eager", 1.6e-3, None, shape=(4, 16, 2048, 64), ceiling="matmul"),
        # A bar the speedup falls short of: 1.25x eager for 1.5x.
        entry("fused_attention", "backward", "generated", 1.0e-3, None, shape=(4, 16, 2048, 64), ceiling="matmul",
              bar=("eager", 1.5)),
        entry("fused_attention", "backward", "eager", 1.25e-3, None, shape=(4, 16, 2048, 64), ceiling="matmul"),
    ]
    run = bench.load_run(write(tmp_path / "run.json", run_json(entries, device="cuda")))
    rows = bench.compare(run)
    md = report.markdown(run, rows, title="gpu", rendered_by="", plots=[])
    section = md[md.index("## cross_entropy"):md.index("## fused_attention")]
    assert "| forward+backward | [8192, 32000] | float32 | 64 | 1,100 | 32 |" in section
    assert "Peak memory" not in md[md.index("## relu"):]  # relu did not ask for it
    verdicts = {(r.ours.op, r.ours.pass_): v for r, _, _, _, v in report.bars(rows)}
    assert verdicts == {("cross_entropy", "forward+backward"): "met", ("cross_entropy", "backward"): "MISSED (copy)",
                        ("relu", "forward"): "at par", ("adam_step/Adam", "step"): "MISSED (peer)",
                        ("fused_attention", "forward"): "met", ("fused_attention", "backward"): "MISSED (peer)"}
    assert "Of 6 cases: 2 met, 1 at par, 3 missed (1 only the copy bar, 2 only the peer, 0 both)." in md
    assert "fused_attention forward at [4, 16, 2048, 64]: >= 1.5x eager" in md


def test_report_entry_point_needs_no_prolog(tmp_path):
    import subprocess
    import sys

    src = write(tmp_path / "run.json", run_json(cpu_entries()))
    code = ("import sys; sys.modules['pyswip'] = None; from grimoire import report; "
            f"sys.exit(report.main([{str(src)!r}, {str(tmp_path / 'out')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "## parametric_swish" in (tmp_path / "out" / "report.md").read_text()
    assert bench.load_run(tmp_path / "out" / "benchmark.json").timings
