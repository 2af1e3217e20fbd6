"""Stage 6 — bench: run the generated pytest-benchmark suites, read their JSON, compare the generated
op with its peers (same run) and with a saved run (regressions), and export the results as Prolog facts.

Rendering the report (markdown + plots) is grimoire/report.py; this module never imports torch or
matplotlib, so reading and comparing results works on any machine.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

PEER_ORDER = ("eager", "compile")  # the usual peers first, library peers after them by name
REPORT_JSON = "benchmark.json"  # the run's data inside a report folder: what --compare and perceive read


@dataclass(frozen=True)
class Timing:
    """One benchmark: one implementation of one op, pass, shape and dtype."""

    op: str
    pass_: str
    impl: str
    shape: tuple[int, ...]
    dtype: str
    device: str
    median_s: float  # the reported time: CUDA-event device time on GPU, host clock on CPU
    iqr_s: float
    rounds: int
    bytes: int
    flops: int
    timer: str
    ceiling: Optional[str]  # "copy" | "matmul" | None
    ceiling_rate: Optional[float]  # GB/s for copy, TFLOP/s for matmul
    note: Optional[str]
    # On CUDA, bytes one call allocates beyond what is live before it, at its peak; None on the CPU.
    peak_bytes: int | None = None
    memory: bool = False  # the bench file asks the report to show peak memory (losses and norms)
    # The spec's bar at this case (bench_bar): the peer, and the speedup over it the op is to reach.
    bar: tuple[str, float] | None = None
    # Where one call's time goes (GRIMOIRE_BENCH_KERNELS): (name, microseconds a call, launches a call).
    kernels: tuple[tuple[str, float, float], ...] = ()

    @property
    def case(self) -> tuple:
        return (self.op, self.pass_, self.shape, self.dtype, self.device)

    @property
    def key(self) -> tuple:
        return (*self.case, self.impl)

    @property
    def gbps(self) -> Optional[float]:
        return self.bytes / self.median_s / 1e9 if self.bytes else None

    @property
    def tflops(self) -> Optional[float]:
        return self.flops / self.median_s / 1e12 if self.flops else None

    @property
    def rate(self) -> Optional[float]:
        """Throughput in the ceiling's unit (GB/s against a copy, TFLOP/s against a matmul)."""
        return {"copy": self.gbps, "matmul": self.tflops}.get(self.ceiling or "")

    @property
    def percent_of_ceiling(self) -> Optional[float]:
        r = self.rate
        return 100.0 * r / self.ceiling_rate if r is not None and self.ceiling_rate else None


@dataclass(frozen=True)
class Run:
    timings: tuple[Timing, ...]
    machine: dict  # pytest-benchmark's machine_info; machine["grimoire"] is what the harness recorded
    datetime: str
    source: str
    commit: str = ""  # from pytest-benchmark's commit_info: id, branch, dirty

    @property
    def env(self) -> dict:
        return self.machine.get("grimoire", {})

    @property
    def device(self) -> str:
        devices = sorted({t.device for t in self.timings})
        return ", ".join(devices) or self.env.get("device", "?")

    @property
    def tiny(self) -> bool:
        return bool(self.env.get("tiny"))


@dataclass(frozen=True)
class Row:
    """The generated op and its peers on one case; speedup = peer time / generated time."""

    ours: Timing
    peers: tuple[tuple[Timing, float], ...]

    def speedup(self, peer: str) -> Optional[float]:
        return next((s for t, s in self.peers if t.impl == peer), None)


@dataclass(frozen=True)
class Change:
    """One benchmark in a saved run and in this one; ratio = now / then (> 1: slower now)."""

    key: tuple
    base_s: float
    now_s: float
    regressed: bool  # only the generated op is gated; a peer's change says the machine changed
    vs_peers: float = 1.0  # ratio over the same case's peers' ratio (the machine's drift divided out)
    allowed: float = 0.0  # the largest vs_peers - 1 taken as noise: threshold, or the run's noise if larger

    @property
    def ratio(self) -> float:
        return self.now_s / self.base_s

    @property
    def label(self) -> str:
        op, pass_, shape, dtype, device, impl = self.key
        return f"{op} {pass_} {list(shape)} {dtype} {device} [{impl}]"


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------

def benchmarked_ops(bench_dir: Path) -> list[str]:
    """The ops with a benchmark file (bench_<op>.py) in bench_dir."""
    return sorted(p.stem[len("bench_"):] for p in bench_dir.glob("bench_*.py"))


def check_ops(requested: list[str], known: list[str]) -> None:
    """Raise BenchError naming the first requested op that has no benchmark (close matches listed first)."""
    import difflib

    for name in requested:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
            close += sorted({k for k in known if name in k or k in name} - set(close))
            listed = close + [k for k in known if k not in close]
            raise BenchError(f"unknown op {name!r}; ops: {', '.join(listed)}")


def pytest_command(bench_dir: Path, json_out: Path, *, ops: list[str] | None = None, tiny: bool = False,
                   save: str | None = None, storage: Path | None = None, compare: Path | None = None,
                   extra_args: list[str] | None = None) -> list[str]:
    """pytest-benchmark over bench_dir, or over the files of `ops` alone (an op by its exact name: `relu`
    does not select fused_linear_relu)."""
    targets = [str(bench_dir / f"bench_{op}.py") for op in dict.fromkeys(ops)] if ops else [str(bench_dir)]
    cmd = [sys.executable, "-m", "pytest", *targets, "--benchmark-only", f"--benchmark-json={json_out}",
           "-p", "no:cacheprovider", "-q", "-o", "python_files=bench_*.py",
           "--benchmark-columns=median,iqr,rounds", "--benchmark-sort=name"]
    if tiny:  # the tooling's tests: a few quick rounds, nothing to read into the numbers
        cmd += ["--benchmark-max-time=0.05", "--benchmark-min-rounds=5", "--benchmark-warmup=off"]
    else:  # at least 10 rounds even for the slowest peer, so one disturbed round cannot move the median
        cmd += ["--benchmark-min-rounds=10"]
    if save:
        cmd += [f"--benchmark-save={save}", f"--benchmark-storage=file://{storage}"]
    if compare:
        cmd += [f"--benchmark-compare={compare}"]
    return cmd + list(extra_args or [])


def run_benchmarks(cmd: list[str], *, cwd: Path, device: str, tiny: bool, impls: list[str] | None,
                   command: str) -> int:
    env = dict(os.environ, GRIMOIRE_BENCH_DEVICE=device, GRIMOIRE_BENCH_COMMAND=command)
    if tiny:
        env["GRIMOIRE_BENCH_TINY"] = "1"
    if impls:
        env["GRIMOIRE_BENCH_IMPLS"] = ",".join(impls)
    return subprocess.run(cmd, cwd=cwd, env=env).returncode


# ---------------------------------------------------------------------------------------------------
# Reading and comparing
# ---------------------------------------------------------------------------------------------------

def load_run(path: Path) -> Run:
    """A pytest-benchmark JSON written by the generated suite (or a report's trimmed copy of one)."""
    try:
        data = json.loads(Path(path).read_text())
        timings = tuple(_timing(b) for b in data["benchmarks"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BenchError(f"{path}: not a pytest-benchmark JSON of the generated suite ({exc!r})") from exc
    machine = dict(data.get("machine_info", {}))
    if any(b.get("extra_info", {}).get("tiny") for b in data["benchmarks"]):
        machine["grimoire"] = dict(machine.get("grimoire", {}), tiny=True)
    c = data.get("commit_info") or {}
    commit = (f"{str(c.get('id', ''))[:12]} ({c.get('branch', '?')}{', uncommitted changes' if c.get('dirty') else ''})"
              if c.get("id") else "")
    return Run(timings, machine, str(data.get("datetime", "")), str(path), commit)


def _timing(b: dict) -> Timing:
    x, st = b["extra_info"], b["stats"]
    rate = x.get("ceiling_rate")
    return Timing(op=x["op"], pass_=x["pass_"], impl=x["impl"], shape=tuple(x["shape"]), dtype=x["dtype"],
                  device=x["device"], median_s=float(st["median"]), iqr_s=float(st.get("iqr", 0.0)),
                  rounds=int(st.get("rounds", 0)), bytes=int(x.get("bytes") or 0), flops=int(x.get("flops") or 0),
                  timer=x.get("timer", "host"), ceiling=x.get("ceiling"),
                  ceiling_rate=float(rate) if rate else None, note=x.get("note"),
                  peak_bytes=None if x.get("peak_bytes") is None else int(x["peak_bytes"]),
                  memory=bool(x.get("memory")),
                  bar=(str(x["bar_peer"]), float(x["bar_ratio"])) if x.get("bar_peer") else None,
                  kernels=tuple((str(k), float(us), float(n)) for k, us, n in x.get("kernels") or ()))


def peer_order(names) -> list[str]:
    names = set(names) - {"generated"}
    return [p for p in PEER_ORDER if p in names] + sorted(names - set(PEER_ORDER))


def compare(run: Run | list[Timing]) -> list[Row]:
    """Per case (op, pass, shape, dtype, device): the generated op and each peer's speedup over it."""
    timings = run.timings if isinstance(run, Run) else run
    by_case: dict[tuple, dict[str, Timing]] = defaultdict(dict)
    for t in timings:
        by_case[t.case][t.impl] = t
    rows = []
    for case in sorted(by_case, key=lambda c: (c[0], c[1] != "forward", c[1], c[3], _size(c[2]), c[4])):
        impls = by_case[case]
        ours = impls.get("generated")
        if ours is None:
            continue
        peers = tuple((impls[p], impls[p].median_s / ours.median_s) for p in peer_order(impls))
        rows.append(Row(ours, peers))
    return rows


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def changes(base: Run, now: Run, threshold_pct: float) -> list[Change]:
    """Every benchmark present in both runs. The generated op regressed when it got slower than its peers
    did, by more than the threshold and more than the run's own noise:

    - vs peers: its now/then ratio over the geometric mean of the same case's peers' ratios (eager and
      compile ran in the same process, so a machine that got slower or faster divides out);
    - noise: three robust standard deviations of log(now/then) over every peer benchmark of the run (how
      far timings move with nothing changed), plus the generated op's own interquartile spread, then
      and now.
    """
    then = {t.key: t for t in base.timings}
    pairs = [(t, then[t.key]) for t in now.timings if t.key in then and then[t.key].median_s > 0 and t.median_s > 0]
    peer_logs: dict[tuple, list[float]] = defaultdict(list)
    for t, b in pairs:
        if t.impl != "generated":
            peer_logs[t.case].append(math.log(t.median_s / b.median_s))
    every = sorted(x for xs in peer_logs.values() for x in xs)
    spread = 0.0
    if len(every) >= 3:
        mid = every[len(every) // 2]
        spread = 1.4826 * sorted(abs(x - mid) for x in every)[len(every) // 2]
    out = []
    for t, b in pairs:
        ratio = t.median_s / b.median_s
        logs = peer_logs.get(t.case, [])
        drift = math.exp(sum(logs) / len(logs)) if logs else 1.0
        own = t.iqr_s / t.median_s + b.iqr_s / b.median_s
        allowed = max(threshold_pct / 100, math.exp(3 * spread + own) - 1)
        vs_peers = ratio / drift
        out.append(Change(t.key, b.median_s, t.median_s, regressed=t.impl == "generated" and vs_peers > 1 + allowed,
                          vs_peers=vs_peers, allowed=allowed))
    return sorted(out, key=lambda c: (not c.regressed, c.key[5] != "generated", c.key))


# ---------------------------------------------------------------------------------------------------
# Where runs are kept
# ---------------------------------------------------------------------------------------------------

def report_dirs(root: Path) -> list[Path]:
    """Folders that hold saved runs: benchmarks/reports/<name>/ (written here) and benchmarks/results/<name>/
    (committed)."""
    return [root / "benchmarks" / "reports", root / "benchmarks" / "results"]


def resolve_saved(root: Path, name: str) -> Path:
    """A saved run by path or by name (benchmarks/reports/NAME, benchmarks/results/NAME, or
    pytest-benchmark's storage under .grimoire/benchmarks)."""
    p = Path(name)
    if p.is_file():
        return p
    if p.is_dir() and (p / REPORT_JSON).is_file():
        return p / REPORT_JSON
    for d in report_dirs(root):
        if (d / name / REPORT_JSON).is_file():
            return d / name / REPORT_JSON
    stored = sorted((root / ".grimoire" / "benchmarks").glob(f"*/[0-9][0-9][0-9][0-9]_{name}.json"))
    if stored:
        return stored[-1]
    known = sorted({q.parent.name for d in report_dirs(root) for q in d.glob(f"*/{REPORT_JSON}")})
    raise BenchError(f"no saved run named {name!r}" + (f"; saved runs: {', '.join(known)}" if known else
                                                       "; save one with `grimoire bench --save NAME`"))


def latest_saved(root: Path) -> Optional[Path]:
    """The newest saved run (by the time it was measured), tiny runs excepted: what perceive answers from."""
    best: tuple[str, Path] | None = None
    for d in report_dirs(root):
        for p in d.glob(f"*/{REPORT_JSON}"):
            try:
                data = json.loads(p.read_text())
            except (OSError, ValueError):
                continue
            if data.get("machine_info", {}).get("grimoire", {}).get("tiny"):
                continue
            stamp = str(data.get("datetime", ""))
            if best is None or stamp > best[0]:
                best = (stamp, p)
    return best[1] if best else None


def trimmed(json_path: Path) -> str:
    """The run without pytest-benchmark's per-round samples: small enough to commit beside a report."""
    data = json.loads(Path(json_path).read_text())
    for b in data.get("benchmarks", []):
        b.get("stats", {}).pop("data", None)
    data.get("machine_info", {}).pop("node", None)  # the host's name says nothing about the numbers
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


# ---------------------------------------------------------------------------------------------------
# Prolog facts (grimoire perceive "benchmark_result(Op, Shape, Speedup)")
# ---------------------------------------------------------------------------------------------------

def prolog_facts(run: Run, name: str) -> str:
    """The run as facts that grimoire/prolog/bridge.pl asserts:
    benchmark_run(Name, Device, Datetime, Source), benchmark_result(Op, Pass, Shape, Dtype, Peer, Speedup),
    benchmark_time(Op, Pass, Shape, Dtype, Impl, Seconds), benchmark_ceiling_pct(Op, Pass, Shape, Dtype, Impl, Pct)."""
    lines = [f"% Benchmark facts from {run.source}, generated by grimoire; do not edit.",
             f"benchmark_run({_atom(name)}, {_atom(run.device)}, {_str(run.datetime)}, {_str(run.source)})."]
    for t in run.timings:
        head = f"{_atom(t.op)}, {_atom(t.pass_)}, {list(t.shape)}, {_atom(t.dtype)}, {_atom(t.impl)}"
        lines.append(f"benchmark_time({head}, {t.median_s:.6g}).")
        if t.percent_of_ceiling is not None:
            lines.append(f"benchmark_ceiling_pct({head}, {t.percent_of_ceiling:.3g}).")
    for row in compare(run):
        o = row.ours
        for peer, s in row.peers:
            lines.append(f"benchmark_result({_atom(o.op)}, {_atom(o.pass_)}, {list(o.shape)}, {_atom(o.dtype)}, "
                         f"{_atom(peer.impl)}, {s:.3f}).")
    return "\n".join(lines) + "\n"


def _atom(s: str) -> str:
    return s if re.fullmatch(r"[a-z][a-zA-Z0-9_]*", s) else "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------------
# Formatting shared by the CLI table and the report
# ---------------------------------------------------------------------------------------------------

def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def fmt_num(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:.3g}"
