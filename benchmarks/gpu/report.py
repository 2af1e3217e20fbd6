"""The GPU report in markdown: the machine, the build, pass/fail of the generated tests per op x device x
dtype (from pytest's junit XML), and the benchmark table (from bench_gpu.py's JSON), targets checked.

    python benchmarks/gpu/report.py OUT_DIR > OUT_DIR/report.md
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))  # grimoire's validate: stdlib only, no Prolog
from bench_gpu import Row, table  # noqa: E402

from grimoire.validate import parse_junit  # noqa: E402  (the one reader of pytest's junit XML)

DTYPES = ("float64", "float32", "float16", "bfloat16")
MEMORY_BOUND = {"parametric_swish"}
COPY_TARGET, ATTENTION_TARGET = 0.90, 1.5


def test_grid(junit: Path) -> tuple[dict, dict]:
    """(op, device, dtype) -> outcome -> count, and the failures' names and messages."""
    grid: dict = defaultdict(lambda: defaultdict(int))
    failures: dict = {}
    for case in parse_junit(junit):
        name = case.test
        params = name[name.index("[") + 1:-1] if "[" in name else ""
        cuda_test = name.startswith("test_cuda_")  # a CUDA-only test in an op's common file (launch paths)
        on_cuda = case.module.endswith("_cuda") or cuda_test or "cuda" in params.split("-")
        device = "cuda" if on_cuda else ("cpu" if "cpu" in params.split("-") else "?")
        dtype = next((d for d in DTYPES if re.search(rf"\b{d}\b", params)), "float64" if "gradcheck" in name else "-")
        if case.outcome == "failed":
            failures[f"{case.module}::{name}"] = case.detail[:200]
        grid[(case.module[len("test_"):].removesuffix("_cuda"), device, dtype)][case.outcome] += 1
    return grid, failures


def grid_table(grid: dict) -> str:
    lines = ["| op | device | dtype | passed | failed | skipped |", "|---|---|---|---|---|---|"]
    order = {d: i for i, d in enumerate(DTYPES + ("-",))}
    for (op, dev, dt) in sorted(grid, key=lambda k: (k[0], k[1], order.get(k[2], 9))):
        c = grid[(op, dev, dt)]
        lines.append(f"| {op} | {dev} | {dt} | {c['passed']} | {c['failed']} | {c['skipped']} |")
    return "\n".join(lines)


def targets(rows: list[Row]) -> list[str]:
    copy = next(r for r in rows if r.impl == "copy")
    cases: dict = defaultdict(dict)
    for r in rows:
        if r.impl != "copy" and r.pass_ != "part":
            cases[(r.op, r.pass_, r.dtype)][r.impl] = r
    out = []
    for (op, pass_, dtype), impls in cases.items():
        ours, eager, comp = impls["generated"], impls["eager"], impls["compile"]
        if op in MEMORY_BOUND:
            frac, vs = ours.gbps / copy.gbps, comp.ms / ours.ms
            ok = frac >= COPY_TARGET and vs >= 1.0
            out.append(f"- {op} {pass_} {dtype}: {100 * frac:.0f}% of copy (target {100 * COPY_TARGET:.0f}%), "
                       f"{vs:.2f}x torch.compile (target 1.0x): {'met' if ok else 'MISSED'}")
        elif op == "fused_attention" and pass_ == "forward":
            vs = eager.ms / ours.ms
            out.append(f"- {op} {pass_} {dtype}: {vs:.2f}x the eager composite (target {ATTENTION_TARGET}x): "
                       f"{'met' if vs >= ATTENTION_TARGET else 'MISSED'}")
    return out


# The peer each memory-bound op must match (>= 1.0x): torch.compile, or for the optimizer steps torch's
# fused implementation.
BAR_PEERS = ("compile", "torch_fused")
ATTENTION_SHAPE = [4, 16, 2048, 64]
# Within this of the bar peer counts as 'at par', not met: two kernels at the copy rate differ by this much
# from one run to the next.
PAR = 0.02


def verdict(frac, vs, bar=1.0) -> str:
    """met, at par, or which bar was missed: MISSED (copy), MISSED (peer) or MISSED (both)."""
    copy_ok = frac is None or frac >= COPY_TARGET
    peer_ok = vs is None or vs >= bar
    if copy_ok and peer_ok:
        return "met"
    if copy_ok and vs >= bar * (1 - PAR):
        return "at par"
    return "MISSED (" + ("peer" if copy_ok else "copy" if peer_ok else "both") + ")"


def harness_targets(data: dict) -> list[tuple]:
    """The performance bars checked on the harness JSON (the generated suite on CUDA): every memory-bound case
    (ceiling: copy) against 90% of the copy measured in the same run and >= 1.0x its bar peer; the
    weights-returning attention's forward at ATTENTION_SHAPE against 1.5x eager. One row a case:
    (op, pass, shape, dtype, fraction of copy or None, peer name, peer speedup, verdict)."""
    cases: dict = defaultdict(dict)
    for b in data["benchmarks"]:
        e = b["extra_info"]
        cases[(e["op"], e["pass_"], tuple(e["shape"]), e["dtype"])][e["impl"]] = (b["stats"]["median"], e)
    rows = []
    for (op, pass_, shape, dtype), impls in sorted(cases.items()):
        if "generated" not in impls:
            continue
        t, e = impls["generated"]
        if e.get("ceiling") == "copy" and e.get("ceiling_rate"):
            frac = e["bytes"] / t / 1e9 / e["ceiling_rate"]
            peer = next((p for p in BAR_PEERS if p in impls), None)
            vs = impls[peer][0] / t if peer else None
            rows.append((op, pass_, shape, dtype, frac, peer, vs, verdict(frac, vs)))
        elif op == "fused_attention" and pass_ == "forward" and list(shape) == ATTENTION_SHAPE and "eager" in impls:
            vs = impls["eager"][0] / t
            rows.append((op, pass_, shape, dtype, None, "eager", vs, verdict(None, vs, ATTENTION_TARGET)))
    return rows


def harness_targets_table(rows: list[tuple]) -> str:
    def count(prefix):
        return sum(r[7].startswith(prefix) for r in rows)

    lines = [f"Bars: memory-bound >= {100 * COPY_TARGET:.0f}% of copy and >= 1.0x compile (optimizers: "
             f"torch fused); fused_attention forward at {'x'.join(map(str, ATTENTION_SHAPE))} >= "
             f"{ATTENTION_TARGET}x eager; 'at par': >= {100 * COPY_TARGET:.0f}% of copy and within {100 * PAR:.0f}% of "
             f"the peer. Of {len(rows)} cases: {count('met')} met, {count('at par')} at par, "
             f"{count('MISSED')} missed ({count('MISSED (copy)')} only the copy bar, {count('MISSED (peer)')} only "
             f"the peer, {count('MISSED (both)')} both).", "",
             "| op | pass | shape | dtype | % of copy | vs bar peer | |", "|---|---|---|---|---|---|---|"]
    for op, pass_, shape, dtype, frac, peer, vs, v in rows:
        pct = f"{100 * frac:.0f}%" if frac is not None else "-"
        vs_s = f"{vs:.2f}x {peer}" if vs is not None else "-"
        lines.append(f"| {op} | {pass_} | {'x'.join(map(str, shape))} | {dtype} | {pct} | {vs_s} | "
                     f"{v} |")
    return "\n".join(lines)


def main() -> int:
    out = Path(sys.argv[1])
    env = (out / "env.txt").read_text() if (out / "env.txt").exists() else ""
    build = (out / "build_time.txt").read_text().strip() if (out / "build_time.txt").exists() else "?"
    print("# GPU report\n")
    print("Produced by `benchmarks/gpu/run_all.sh` on the GPU machine: build, the whole generated test suite on "
          "CUDA, then `benchmarks/gpu/bench_gpu.py` and the generated benchmark suite.\n")
    print("## Machine\n\n```\n" + env.strip() + "\n```\n")
    print(f"Build of generated_ops (CPU + CUDA sources, MAX_JOBS as set): {build}\n")
    if (out / "junit.xml").exists():
        grid, failures = test_grid(out / "junit.xml")
        total = defaultdict(int)
        for c in grid.values():
            for k, n in c.items():
                total[k] += n
        print(f"## Generated tests: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped\n")
        print(grid_table(grid) + "\n")
        for name, msg in failures.items():
            print(f"- FAILED {name}: {msg}")
        print()
    if (out / "bench.json").exists():
        data = json.loads((out / "bench.json").read_text())
        rows = [Row(**{k: v for k, v in r.items() if k not in ("gbps", "tflops")}) for r in data["rows"]]
        print("## Benchmarks\n")
        print(f"`{json.dumps(data['meta'])}`\n")
        print("Ratios are peer median / generated median (>1: generated faster). Times in ms, CUDA events, "
              "median. GB/s counts each input read once and each output written once.\n")
        print(table(rows) + "\n")
        print("Targets:\n")
        print("\n".join(targets(rows)))
    if (out / "harness.json").exists():
        print("\n## Targets on the generated benchmark suite (harness.json)\n")
        print(harness_targets_table(harness_targets(json.loads((out / "harness.json").read_text()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
