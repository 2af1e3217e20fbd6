"""Stage 6 — bench: run the generated pytest-benchmark suites and report ratios measured in one run."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Timing:
    group: str
    op: str
    pass_: str
    impl: str
    shape: tuple[int, ...]
    dtype: str
    device: str
    median_s: float
    bytes: int
    flops: int


@dataclass(frozen=True)
class Comparison:
    group: str
    op: str
    pass_: str
    shape: tuple[int, ...]
    dtype: str
    device: str
    ours_s: float
    peers: tuple[tuple[str, float, float], ...]  # (peer, median seconds, speedup = peer / ours)
    gbps: float | None
    tflops: float | None


def run_benchmarks(bench_dir: Path, json_out: Path, *, ops: list[str] | None = None, device: str = "cpu",
                   cwd: Path, extra_args: list[str] | None = None) -> int:
    json_out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pytest", str(bench_dir), "--benchmark-only", f"--benchmark-json={json_out}",
           "-p", "no:cacheprovider", "-q", "-o", "python_files=bench_*.py", "--benchmark-columns=median,iqr,rounds",
           "--benchmark-sort=name", *(extra_args or [])]
    if ops:
        cmd += ["-k", " or ".join(ops)]
    env = dict(__import__("os").environ, GRIMOIRE_BENCH_DEVICE=device)
    return subprocess.run(cmd, cwd=cwd, env=env).returncode


def load_timings(json_path: Path) -> tuple[list[Timing], dict]:
    data = json.loads(json_path.read_text())
    timings = []
    for b in data.get("benchmarks", []):
        x = b["extra_info"]
        timings.append(Timing(b["group"], x["op"], x["pass_"], x["impl"], tuple(x["shape"]), x["dtype"],
                              x["device"], b["stats"]["median"], int(x.get("bytes", 0)), int(x.get("flops", 0))))
    return timings, data.get("machine_info", {})


def compare(timings: list[Timing]) -> list[Comparison]:
    by_group: dict[str, dict[str, Timing]] = defaultdict(dict)
    for t in timings:
        by_group[t.group][t.impl] = t
    out = []
    for group, impls in sorted(by_group.items()):
        ours = impls.get("generated")
        if ours is None:
            continue
        peers = tuple((name, t.median_s, t.median_s / ours.median_s)
                      for name, t in sorted(impls.items()) if name != "generated")
        gbps = ours.bytes / ours.median_s / 1e9 if ours.bytes else None
        tflops = ours.flops / ours.median_s / 1e12 if ours.flops else None
        out.append(Comparison(group, ours.op, ours.pass_, ours.shape, ours.dtype, ours.device, ours.median_s,
                              peers, gbps, tflops))
    return out


def environment() -> dict[str, str]:
    import importlib.metadata as md

    return {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(), "torch": md.version("torch")}


def markdown(comparisons: list[Comparison], env: dict[str, str], command: str) -> str:
    lines = ["# Benchmark report", "", f"Produced by `{command}`.", "",
             "Medians from pytest-benchmark; speedup = peer median / generated median, measured in the same run.",
             "", "| " + " | ".join(f"{k}: {v}" for k, v in env.items()) + " |", "|" + "---|" * len(env), "",
             "| op | pass | shape | dtype | device | generated | peer | peer time | speedup | GB/s | TFLOP/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in comparisons:
        for peer, t, s in c.peers:
            lines.append(f"| {c.op} | {c.pass_} | {list(c.shape)} | {c.dtype} | {c.device} | {_ms(c.ours_s)} | "
                         f"{peer} | {_ms(t)} | {s:.2f}x | {_num(c.gbps)} | {_num(c.tflops)} |")
    return "\n".join(lines) + "\n"


def _ms(s: float) -> str:
    return f"{s * 1e3:.3f} ms"


def _num(x: float | None) -> str:
    return f"{x:.3g}" if x is not None else "-"
