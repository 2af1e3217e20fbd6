"""The generated ops' DTensor sharding rules (generated_ops/_sharding.py), on two CPU processes (gloo):
elementwise and rowwise ops, forward and backward, on inputs sharded along several dims, each result
placed as its rule says and equal to torch's on the full tensors (tests/sharding_check.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(sys.platform != "linux", reason="two gloo processes through torchrun: run on Linux")
def test_ops_on_sharded_tensors_match_torch():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "tests/sharding_check.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ok = [line for line in proc.stdout.splitlines() if line.startswith("ok  ")]
    # 11 cases, each with its gradients: 27 checks, every one of which printed on rank 0.
    assert len(ok) == 27, proc.stdout
    # Both ranks ran every check (each raises on a mismatch) and left the process group.
    assert "rank 0 done" in proc.stdout and "rank 1 done" in proc.stdout, proc.stdout
