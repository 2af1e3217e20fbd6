"""benchmarks/gpu/report.py's check of the GPU performance bars on a harness JSON (no GPU: a synthetic JSON)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_report():
    spec = importlib.util.spec_from_file_location("gpu_report", ROOT / "benchmarks/gpu/report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def bench(op, pass_, impl, median, shape=(4096, 4096), dtype="float32", **extra):
    info = {"op": op, "pass_": pass_, "impl": impl, "shape": list(shape), "dtype": dtype, **extra}
    return {"extra_info": info, "stats": {"median": median}}


def copy_bench(op, pass_, impl, median, **kw):
    # 1e9 bytes against a 1000 GB/s copy: 1 ms is 100% of copy.
    return bench(op, pass_, impl, median, bytes=10**9, ceiling="copy", ceiling_rate=1000.0, **kw)


def test_bars_on_the_harness_json(tmp_path):
    r = load_report()
    data = {"benchmarks": [
        copy_bench("softmax", "forward", "generated", 1.0e-3),      # 100% of copy, 1.2x compile: met
        copy_bench("softmax", "forward", "compile", 1.2e-3),
        copy_bench("softmax", "backward", "generated", 1.25e-3),    # 80% of copy: missed
        copy_bench("softmax", "backward", "compile", 2.0e-3),
        copy_bench("adam_step", "step", "generated", 1.05e-3),      # 95%, but 0.95x torch fused: missed
        copy_bench("adam_step", "step", "torch_fused", 1.0e-3),
        copy_bench("relu", "forward", "generated", 1.0e-3),         # 100%, 0.99x compile: at par
        copy_bench("relu", "forward", "compile", 0.99e-3),
        bench("fused_attention", "forward", "generated", 1.0e-3, shape=r.ATTENTION_SHAPE, ceiling="matmul"),
        bench("fused_attention", "forward", "eager", 1.6e-3, shape=r.ATTENTION_SHAPE, ceiling="matmul"),
        bench("fused_attention", "forward", "generated", 1.0e-3, shape=(8, 512, 64), ceiling="matmul"),
        bench("gemm", "forward", "generated", 1.0e-3, ceiling="matmul"),  # compute-bound: no bar here
    ]}
    rows = r.harness_targets(data)
    verdicts = {(op, pass_): (round(frac, 2) if frac is not None else None, peer, round(vs, 2), met)
                for op, pass_, _, _, frac, peer, vs, met in rows}
    assert verdicts == {
        ("softmax", "forward"): (1.0, "compile", 1.2, "met"),
        ("softmax", "backward"): (0.8, "compile", 1.6, "MISSED (copy)"),
        ("adam_step", "step"): (0.95, "torch_fused", 0.95, "MISSED (peer)"),
        ("relu", "forward"): (1.0, "compile", 0.99, "at par"),
        ("fused_attention", "forward"): (None, "eager", 1.6, "met"),
    }
    table = r.harness_targets_table(rows)
    assert "Of 5 cases: 2 met, 1 at par, 2 missed (1 only the copy bar, 1 only the peer, 0 both)." in table
    assert table.count("| MISSED (") == 2

    # The report prints the section when the run left a harness.json.
    (tmp_path / "harness.json").write_text(json.dumps(data))
    import contextlib
    import io
    import sys

    buf = io.StringIO()
    argv = sys.argv
    try:
        sys.argv = ["report.py", str(tmp_path)]
        with contextlib.redirect_stdout(buf):
            assert r.main() == 0
    finally:
        sys.argv = argv
    assert "## Targets on the generated benchmark suite" in buf.getvalue() and "| softmax | backward |" in buf.getvalue()


def test_test_grid_places_each_case_on_its_device(tmp_path):
    r = load_report()
    (tmp_path / "junit.xml").write_text(
        '<testsuites><testsuite>'
        '<testcase classname="generated_ops.tests.test_softmax" name="test_reference[cpu-float32]"/>'
        '<testcase classname="generated_ops.tests.test_softmax" name="test_cuda_launch_paths[(3, 1000)-torch.bfloat16]"/>'
        '<testcase classname="generated_ops.tests.test_relu_cuda" name="test_stream[float16]">'
        '<failure message="boom"/></testcase>'
        '</testsuite></testsuites>')
    grid, failures = r.test_grid(tmp_path / "junit.xml")
    assert grid[("softmax", "cpu", "float32")]["passed"] == 1
    assert grid[("softmax", "cuda", "bfloat16")]["passed"] == 1  # CUDA-only test in the op's common file
    assert grid[("relu", "cuda", "float16")]["failed"] == 1
    assert list(failures) == ["test_relu_cuda::test_stream[float16]"]
