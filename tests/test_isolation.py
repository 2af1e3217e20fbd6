"""Crash isolation (generated_ops/_isolation.py with grimoire's test runner, grimoire/validate.py): a test
whose kernel faults the GPU is blamed by op and test, and the other ops' CUDA tests still run and pass.

On the CPU the fault is simulated: a stand-in for the fault check reports a sticky error once a planted
test "faulted", and every later "CUDA" test of that process fails as it would in a poisoned context. On a
GPU a real one is planted: a Triton kernel that writes far out of bounds (skipped, visibly, elsewhere)."""

from __future__ import annotations

import importlib.util
import os
import sys
import textwrap
from pathlib import Path

import pytest

from grimoire import validate

ROOT = Path(__file__).resolve().parent.parent

CONFTEST = """
import fakegpu
import generated_ops._isolation as isolation
from generated_ops._isolation import pytest_runtest_makereport, pytest_runtest_setup, pytest_runtest_teardown

isolation.detect = fakegpu.detect
"""
FAKEGPU = """
poisoned = False

def fault():
    global poisoned
    poisoned = True

def detect():
    return "CUDA error: an illegal memory access was encountered (simulated)" if poisoned else None

def launch():  # a CUDA call: fails in a poisoned context, as every call does after a real fault
    if poisoned:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")
"""
BAD = """
import fakegpu

def test_a_fine_case_cuda():
    fakegpu.launch()

def test_b_faults_cuda():
    fakegpu.fault()
"""
GOOD = """
import pytest
import fakegpu

@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("i", range(3))
def test_works(device, i):
    if device == "cuda":
        fakegpu.launch()
"""


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    tests = tmp_path / "tests"
    tests.mkdir()
    for name, text in files.items():
        (tests / name).write_text(textwrap.dedent(text))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return tests


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(tmp_path / "tests")]))


def test_a_simulated_fault_is_blamed_and_the_others_run(tmp_path, env):
    # test_add_cuda.py runs after test_a_bad_op_cuda.py (alphabetical): in one process it would fail.
    tests = _project(tmp_path, {"conftest.py": CONFTEST, "fakegpu.py": FAKEGPU, "test_a_bad_op_cuda.py": BAD,
                                "test_add_cuda.py": GOOD, "test_relu.py": GOOD})
    result = validate.run_tests(tests, tmp_path / "junit.xml", cwd=tmp_path)
    by_name = {(c.module, c.test): c for c in result.cases}
    assert [f["op"] for f in result.faults] == ["a_bad_op"], result.faults
    assert "test_b_faults_cuda" in result.faults[0]["test"]
    faulted = by_name[("test_a_bad_op_cuda", "test_b_faults_cuda")]
    assert faulted.outcome == "failed" and "a_bad_op faulted the GPU" in faulted.detail
    assert by_name[("test_a_bad_op_cuda", "test_a_fine_case_cuda")].outcome == "passed"
    others = [c for c in result.cases if c.op in ("add", "relu")]
    assert len(others) == 12 and all(c.outcome == "passed" for c in others), others
    assert not result.ok
    lines = [line for _, line in validate.summary(result)]
    assert any(line.startswith("GPU fault: a_bad_op faulted the GPU") for line in lines), lines
    assert lines[-1].startswith("FAILED") and "a_bad_op" in lines[-1]


def test_without_a_fault_nothing_is_rerun(tmp_path, env):
    tests = _project(tmp_path, {"conftest.py": CONFTEST, "fakegpu.py": FAKEGPU, "test_add_cuda.py": GOOD})
    result = validate.run_tests(tests, tmp_path / "junit.xml", cwd=tmp_path)
    assert result.ok and not result.faults and len(result.cases) == 6


TRITON_BAD = """
import torch
import triton
import triton.language as tl

@triton.jit
def _write_far(ptr):
    tl.store(ptr + (1 << 40), 1.0)

def test_faults_cuda():
    x = torch.zeros(1, device="cuda")
    _write_far[(1,)](x)
    torch.cuda.synchronize()
"""
ADD_CUDA = """
import torch
import generated_ops

def test_add_cuda():
    x = torch.randn(1000, device="cuda")
    torch.testing.assert_close(generated_ops.add(x, x), x + x)
"""


def _gpu_and_triton() -> bool:
    import torch

    return torch.cuda.is_available() and importlib.util.find_spec("triton") is not None


@pytest.mark.skipif(not _gpu_and_triton(), reason="needs a GPU and Triton: plants a real device fault "
                    "(runs on the GPU machine)")
def test_a_real_gpu_fault_is_blamed_and_the_others_run(tmp_path, env):
    conftest = "from generated_ops._isolation import pytest_runtest_makereport, pytest_runtest_setup, " \
               "pytest_runtest_teardown\n"
    tests = _project(tmp_path, {"conftest.py": conftest, "test_a_faulty_cuda.py": TRITON_BAD,
                                "test_add_cuda.py": ADD_CUDA})
    result = validate.run_tests(tests, tmp_path / "junit.xml", cwd=tmp_path)
    assert [f["op"] for f in result.faults] == ["a_faulty"], (result.faults, result.cases)
    assert "illegal" in result.faults[0]["error"].lower() or "error" in result.faults[0]["error"].lower()
    add = [c for c in result.cases if c.op == "add"]
    assert [c.outcome for c in add] == ["passed"], add
    if importlib.util.find_spec("xdist"):  # xdist: the faulting worker exits, a fresh one runs the rest
        result = validate.run_tests(tests, tmp_path / "junit2.xml", ["-n", "1"], cwd=tmp_path)
        assert [c.outcome for c in result.cases if c.op == "add"] == ["passed"], result.cases
        assert any(c.op == "a_faulty" and c.outcome == "failed" for c in result.cases)
    print(f"python {sys.version.split()[0]}: real fault isolated: {result.faults}")


def test_summary_wraps_a_long_skip_reason_to_the_width():
    reason = "parametric_swish has no torch peer: its properties are checked against its own " \
             "composite reference only. Add a peer component to its spec to compare it with torch."
    cases = [validate.CaseResult("parametric_swish", "test_parametric_swish", f"t{i}", "skipped", reason)
             for i in range(3)]
    lines = [line for _, line in validate.summary(validate.Validation(0, tuple(cases)), width=80)]
    assert all(len(line) <= 80 for line in lines), lines
    skip = [line for line in lines if line.startswith("skipped    3: parametric_swish has no torch peer")]
    assert skip, lines
    # the rest of the reason follows on indented lines, every word of it
    rest = lines[lines.index(skip[0]):]
    assert " ".join(" ".join(rest).split()).count("compare it with torch.") == 1
