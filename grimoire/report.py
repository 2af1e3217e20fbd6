"""Stage 6b — report: a benchmark run as markdown a reader understands without context, plus PNG plots.

Input is only what grimoire/bench.py read from a pytest-benchmark JSON, so a run timed elsewhere (a
GPU machine with torch alone) renders here. matplotlib runs headless (Agg); without it the report has
no plots. Nothing here needs Prolog, so the GPU machine renders its own run too:

    python -m grimoire.report RUN.json OUT_DIR        # what `grimoire bench --from-json RUN.json` writes
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import tables
from .bench import Change, Row, Run, Timing, fmt_num, fmt_time, peer_order

SPEEDUP_PNG = "speedup.png"
BANDWIDTH_PNG = "bandwidth.png"
THROUGHPUT_PNG = "throughput.png"

PEER_WORDS = {
    "eager": "the same op written as plain PyTorch (what you would write without grimoire)",
    "compile": "that plain PyTorch code under `torch.compile` (inductor)",
}


@dataclass(frozen=True)
class Comparison:
    """A saved run this one was compared with."""

    base: Run
    changes: tuple[Change, ...]
    threshold_pct: float

    @property
    def regressions(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.regressed)


def write(out_dir: Path, run: Run, rows: list[Row], *, title: str, rendered_by: str,
          comparison: Optional[Comparison] = None) -> Path:
    """Write report.md and its plots into out_dir; returns the markdown's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        plots = plot_all(out_dir, rows)
    except ImportError as exc:  # a GPU machine with torch alone: the tables still tell everything
        print(f"no plots: {exc}", file=sys.stderr)
        plots = []
    md = out_dir / "report.md"
    md.write_text(markdown(run, rows, title=title, rendered_by=rendered_by, plots=plots, comparison=comparison))
    return md


# ---------------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------------

def markdown(run: Run, rows: list[Row], *, title: str, rendered_by: str, plots: list[str],
             comparison: Optional[Comparison] = None) -> str:
    env = run.env
    cuda = run.device == "cuda"
    out = [f"# Benchmark report: {title}", ""]
    timed_by = env.get("command") or "pytest on the generated suite"
    out.append(f"Timed by `{timed_by}` on {run.datetime[:19].replace('T', ' ')} UTC"
               + (f"; rendered by `{rendered_by}`." if rendered_by and rendered_by != timed_by else "."))
    out.append("")
    if run.tiny:
        out += ["> **Tiny shapes** (GRIMOIRE_BENCH_TINY): every shape was shrunk to a few thousand elements to",
                "> test the tooling. These numbers say nothing about performance.", ""]
    out += _how_to_read(rows, cuda)
    out += _machine(run)
    for op in sorted({r.ours.op for r in rows}):
        out += _op_table(op, [r for r in rows if r.ours.op == op])
        if speedup_png(op) in plots:
            out += [f"![{op}: speedup over each peer, per case, log scale]({speedup_png(op)})", ""]
    if cuda:
        out += _bars(rows)
    if comparison is not None:
        out += _comparison(comparison)
    if plots:
        out += ["## Plots", ""]
        captions = {
            SPEEDUP_PNG: "Speedup of each generated op over each peer, the geometric mean of its cases, log scale "
                         "(right of 1: generated faster); each op's section has its cases.",
            BANDWIDTH_PNG: "Memory-bound ops: achieved GB/s against bytes moved per call, each implementation, with "
                           "the device-copy ceiling measured at the same sizes.",
            THROUGHPUT_PNG: "Compute-bound ops: achieved TFLOP/s against FLOPs per call, with the library-matmul "
                            "ceiling measured at the same sizes.",
        }
        for p in plots:
            if p in captions:  # the per-op figures sit in their ops' sections
                out += [f"![{captions[p]}]({p})", "", f"*{captions[p]}*", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _how_to_read(rows: list[Row], cuda: bool) -> list[str]:
    peers = peer_order({p.impl for r in rows for p, _ in r.peers})
    words = [f"`{p}`: {PEER_WORDS[p]}" for p in peers if p in PEER_WORDS]
    words += [f"`{p}`: a library implementation" for p in peers if p not in PEER_WORDS]
    timer = ("CUDA events around each call, L2 cache flushed before it, calls queued back to back (8 a round, "
             "one synchronization a round), median of the rounds' mean call" if cuda else
             "the host clock (pytest-benchmark), median of the rounds")
    return [
        "## How to read this",
        "",
        "Each row times the generated op (`generated`) and its peers on the same inputs, one after another in the",
        "same process. Peers: " + ("; ".join(words) or "none") + ".",
        "",
        "- **time**: " + timer + ".",
        "- **speedup** = peer time / generated time, shown after each peer's time: **above 1.00x the generated op "
        "is faster**, below it slower.",
        "- **% of ceiling**: the generated op's throughput as a share of what this machine reached in the same run "
        "on plain work of the same size: a device copy moving as many bytes (memory-bound ops, GB/s = bytes read "
        "+ written / time) or the library matmul of as many FLOPs (compute-bound ops, TFLOP/s).",
        "",
    ]


def _machine(run: Run) -> list[str]:
    env, m = run.env, run.machine
    cpu = (m.get("cpu") or {}).get("brand_raw") or m.get("processor") or m.get("machine") or "?"
    rows = [("device", run.device)]
    if env.get("gpu"):
        rows.append(("GPU", f"{env['gpu']} ({env.get('gpu_memory_gib', '?')} GiB)"))
    rows.append(("CPU", f"{cpu}; torch threads: {env.get('threads', '?')}"))
    versions = f"torch {env.get('torch', '?')}"
    if env.get("cuda"):
        versions += f", CUDA {env['cuda']}"
    if env.get("triton"):
        versions += f", triton {env['triton']}"
    versions += f", Python {m.get('python_version', '?')}"
    rows.append(("versions", versions))
    if env.get("load_start") is not None:
        rows.append(("load", f"1-minute load average {env['load_start']} at the start, {env.get('load_end')} at the "
                             f"end, on {env.get('cpus', '?')} CPUs; the run itself adds up to {env.get('threads', '?')} (its "
                             "threads), the rest is other work sharing the machine"))
    rows.append(("timer", {"cuda_event": "CUDA events (L2 flushed before each call, a synchronization after it)",
                           "cuda_event_queued": "CUDA events (L2 flushed before each call, 8 calls queued a round)",
                           "host": "host clock (pytest-benchmark)"}.get(env.get("timer", "host"), env.get("timer"))))
    if run.commit:
        rows.append(("commit", run.commit))
    for line in env.get("left_out") or []:
        rows.append(("left out", line))
    return ["## Machine", ""] + tables.markdown(["", ""], rows) + [""]


def _op_table(op: str, rows: list[Row]) -> list[str]:
    peers = peer_order({p.impl for r in rows for p, _ in r.peers})
    ceilings = sorted({r.ours.ceiling for r in rows if r.ours.ceiling})
    unit = {"copy": "GB/s", "matmul": "TFLOP/s"}
    out = [f"## {op}", ""]
    if ceilings:
        c = ceilings[0]
        out += [("Memory-bound: the ceiling is a device copy moving as many bytes." if c == "copy" else
                 "Compute-bound: the ceiling is the library matmul of as many FLOPs."), ""]
    head = ["pass", "shape", "dtype", "generated"] + peers
    if ceilings:
        u = unit[ceilings[0]]
        head += [f"generated {u}", f"ceiling {u}", "% of ceiling"]
    body = []
    for r in rows:
        o = r.ours
        cells = [o.pass_, _shape(o.shape), o.dtype, fmt_time(o.median_s)]
        by_peer = {t.impl: (t, s) for t, s in r.peers}
        for p in peers:
            if p in by_peer:
                t, s = by_peer[p]
                cells.append(f"{fmt_time(t.median_s)} ({'**' if s >= 1 else ''}{s:.2f}x{'**' if s >= 1 else ''})")
            else:
                cells.append("-")
        if ceilings:
            pct = o.percent_of_ceiling
            cells += [fmt_num(o.rate), fmt_num(o.ceiling_rate), "-" if pct is None else f"{pct:.0f}%"]
        body.append(cells)
    out += tables.markdown(head, body)
    notes = sorted({(t.impl, t.note) for r in rows for t, _ in r.peers if t.note})
    out.append("")
    out += _memory_table(rows, peers)
    out += _kernel_table(rows)
    for impl, note in notes:
        out += [f"`{impl}`: {note}.", ""]
    return out


def _kernel_table(rows: list[Row]) -> list[str]:
    """Where the generated op's time goes, where the run recorded it (GRIMOIRE_BENCH_KERNELS=1): its
    kernels (on the CPU, operators) by their own time a call, largest first."""
    shown = [r for r in rows if r.ours.kernels]
    if not shown:
        return []
    what = "kernel" if shown[0].ours.device == "cuda" else "operator"
    body = []
    for r in shown:
        o = r.ours
        call = o.median_s * 1e6
        parts = [(_short(name), us, f"{n:g}") for name, us, n in o.kernels]
        gap = call - sum(us for _, us, _ in o.kernels)
        if gap > 0:  # the timed call's rest: launches and host work the device waited for
            parts.append(("(not in a " + what + ")", gap, ""))
        for i, (name, us, n) in enumerate(parts):
            case = [o.pass_, _shape(o.shape), o.dtype] if i == 0 else ["", "", ""]
            body.append([*case, name, f"{us:,.1f}", f"{100 * us / call:.0f}%", n])
    out = [f"Where the generated op's time goes: a call's {what}s by their own time (torch.profiler, "
           f"outside the timed rounds), as a share of the timed call; what no {what} accounts for is "
           "launch gaps and host work:", ""]
    return out + tables.markdown(["pass", "shape", "dtype", what, "µs", "of the call", "launches"], body) + [""]


def _short(name: str, width: int = 60) -> str:
    """A kernel's name, its template arguments and parameters elided, to fit a table column."""
    name = name.replace("(anonymous namespace)::", "").removeprefix("void ")
    for open_, close in (("<", ">"), ("(", ")")):
        depth, kept = 0, []
        for ch in name:
            if ch == open_:
                depth += 1
                if depth == 1:
                    kept.append(open_ + "…")
                continue
            if ch == close and depth:
                depth -= 1
                if depth == 0:
                    kept.append(close)
                continue
            if depth == 0:
                kept.append(ch)
        name = "".join(kept)
    return name if len(name) <= width else name[: width - 1] + "…"


def _mb(t: Timing | None) -> str:
    return "-" if t is None or t.peak_bytes is None else f"{t.peak_bytes / 1e6:,.0f}"


def _memory_table(rows: list[Row], peers: list[str]) -> list[str]:
    """Peak memory of the cases whose bench file asks for it (losses and norms), in MB beyond the live
    tensors; on the CPU there is none to show (no allocator statistics)."""
    shown = [r for r in rows if r.ours.memory]
    if not shown:
        return []
    if all(t.peak_bytes is None for r in shown for t in (r.ours, *(p for p, _ in r.peers))):
        return ["Peak memory: measured on CUDA only (the CPU keeps no allocator statistics).", ""]
    out = [("Peak memory of one call, MB allocated beyond the tensors live before it (inputs, retained "
            "graph), at its peak:"), ""]
    body = []
    for r in shown:
        by_peer = {t.impl: t for t, _ in r.peers}
        body.append([r.ours.pass_, _shape(r.ours.shape), r.ours.dtype, _mb(r.ours),
                     *(_mb(by_peer.get(p)) for p in peers)])
    return out + tables.markdown(["pass", "shape", "dtype", "generated", *peers], body) + [""]


# The GPU performance bars: a memory-bound case (ceiling: copy) reaches COPY_BAR of the copy measured in
# the same run and is at least as fast as its bar peer (torch.compile; for optimizers torch's fused
# step); a case a spec sets a bar at (bench_bar: fused_attention's forward at 1.5x eager) meets it.
COPY_BAR = 0.90
BAR_PEERS = ("compile", "torch_fused")
# Within this of the bar peer counts as 'at par', not missed: two kernels at the copy rate differ by this
# much from one run to the next.
PAR = 0.02


def verdict(frac: float | None, vs: float | None, bar: float = 1.0) -> str:
    """met, at par, or which bar was missed: MISSED (copy), MISSED (peer) or MISSED (both)."""
    copy_ok = frac is None or frac >= COPY_BAR
    peer_ok = vs is None or vs >= bar
    if copy_ok and peer_ok:
        return "met"
    if copy_ok and vs is not None and vs >= bar * (1 - PAR):
        return "at par"
    return "MISSED (" + ("peer" if copy_ok else "copy" if peer_ok else "both") + ")"


def bars(rows: list[Row]) -> list[tuple]:
    """One (row, fraction of copy or None, bar peer, its speedup, verdict) per case a bar applies to."""
    out = []
    for r in rows:
        o = r.ours
        frac = o.percent_of_ceiling / 100 if o.ceiling == "copy" and o.percent_of_ceiling is not None else None
        if o.bar and r.speedup(o.bar[0]) is not None:  # the spec's bar (bench_bar), and the copy's if any
            peer, ratio = o.bar
        elif frac is not None:
            peer, ratio = next((p for p in BAR_PEERS if r.speedup(p) is not None), None), 1.0
        else:
            continue
        vs = r.speedup(peer) if peer else None
        out.append((r, frac, peer, vs, verdict(frac, vs, ratio)))
    return out


def _spec_bars(checked: list[tuple]) -> str:
    named = sorted({f"{r.ours.op} {r.ours.pass_} at {_shape(r.ours.shape)}: >= {r.ours.bar[1]}x {r.ours.bar[0]}"
                    for r, *_ in checked if r.ours.bar})
    return f" ({'; '.join(named)})" if named else ""


def _bars(rows: list[Row]) -> list[str]:
    checked = bars(rows)
    if not checked:
        return []

    def count(prefix: str) -> int:
        return sum(v.startswith(prefix) for *_, v in checked)

    out = ["## Performance bars", "",
           (f"Memory-bound cases: >= {100 * COPY_BAR:.0f}% of the copy and >= 1.00x their bar peer (torch.compile; "
           f"optimizers: torch's fused step); a case its spec sets a bar at (bench_bar): the speedup it names"
           f"{_spec_bars(checked)}. *at par*: the copy bar met and within {100 * PAR:.0f}% of the peer. "
           f"Of {len(checked)} cases: {count('met')} met, {count('at par')} at par, {count('MISSED')} missed "
           f"({count('MISSED (copy)')} only the copy bar, {count('MISSED (peer)')} only the peer, "
           f"{count('MISSED (both)')} both)."), ""]
    body = [[r.ours.op, r.ours.pass_, _shape(r.ours.shape), r.ours.dtype,
             "-" if frac is None else f"{100 * frac:.0f}%", "-" if vs is None else f"{vs:.2f}x {peer}", v]
            for r, frac, peer, vs, v in checked]
    return out + tables.markdown(["op", "pass", "shape", "dtype", "% of copy", "vs bar peer", ""], body) + [""]


def _comparison(c: Comparison) -> list[str]:
    out = [f"## Compared with a saved run: {c.base.source}", "",
           f"Timed {c.base.datetime[:19].replace('T', ' ')} UTC. A **generated** op is a regression (the "
           f"command exits 1) when it got slower than the same case's peers did (*vs peers*: its change over "
           f"theirs, so a machine that changed divides out) by more than {c.threshold_pct:g}% and more than the "
           "run's own noise (*allowed*: three robust deviations of the peers' changes over the whole run, plus "
           "the op's own spread).", ""]
    if not c.changes:
        return out + ["No benchmark of this run is in the saved run.", ""]
    out += [f"**{len(c.regressions)} regression(s).**" if c.regressions else "**No regression.**", ""]
    body = []
    for ch in c.changes:
        gated = ch.key[5] == "generated"
        body.append([ch.label, fmt_time(ch.base_s), fmt_time(ch.now_s), f"{100 * (ch.ratio - 1):+.0f}%",
                     f"{100 * (ch.vs_peers - 1):+.0f}%" if gated else "", f"{100 * ch.allowed:.0f}%" if gated else "",
                     "**REGRESSED**" if ch.regressed else ""])
    out += tables.markdown(["benchmark", "then", "now", "change", "vs peers", "allowed", ""], body)
    return out + [""]


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


# ---------------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------------

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def speedup_png(op: str) -> str:
    """The file of one op's speedup figure (an optimizer's rows are named op/Class)."""
    return "speedup_" + "".join(c if c.isalnum() or c in "_-." else "_" for c in op) + ".png"


def plot_all(out_dir: Path, rows: list[Row]) -> list[str]:
    """Write the plots the rows call for; returns their file names: the overview, the ceilings, then
    one speedup figure per op (which its section of the report shows)."""
    for stale in (SPEEDUP_PNG, BANDWIDTH_PNG, THROUGHPUT_PNG, *(p.name for p in out_dir.glob("speedup_*.png"))):
        (out_dir / stale).unlink(missing_ok=True)
    written = []
    if any(r.peers for r in rows):
        plot_overview(rows, out_dir / SPEEDUP_PNG)
        written.append(SPEEDUP_PNG)
    for ceiling, name in (("copy", BANDWIDTH_PNG), ("matmul", THROUGHPUT_PNG)):
        chosen = [r for r in rows if r.ours.ceiling == ceiling and r.ours.rate is not None]
        if chosen:
            plot_rates(chosen, ceiling, out_dir / name)
            written.append(name)
    for op in sorted({r.ours.op for r in rows}):
        mine = [r for r in rows if r.ours.op == op and r.peers]
        if mine:
            plot_speedup(mine, out_dir / speedup_png(op), title=f"{op}: generated vs its peers")
            written.append(speedup_png(op))
    return written


def _label(r: Row) -> str:
    o = r.ours
    return f"{o.op} {o.pass_}\n{_shape(o.shape)} {o.dtype}"


def _log_speedup_axis(ax, values: list[float]) -> None:
    """A log x axis around parity, wide enough for every bar, labelled as multiples."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    lo, hi = min([1.0, *values]), max([1.0, *values])
    ax.set_xscale("log")
    ax.set_xlim(lo / 1.6, hi * 1.6)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if lo / 1.6 <= t <= hi * 1.6]
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}x"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--", label="parity (1x)")
    ax.set_xlabel("speedup = peer time / generated time, log scale   (> 1: the generated op is faster)")


def plot_speedup(rows: list[Row], path: Path, *, title: str) -> None:
    """One op's cases, a group of bars per case (one per peer), on a log axis: a figure of a few
    inches whatever the number of ops."""
    plt = _pyplot()
    peers = peer_order({p.impl for r in rows for p, _ in r.peers})
    height = 0.8 / max(1, len(peers))
    fig, ax = plt.subplots(figsize=(9, min(12.0, 1.4 + 0.45 * len(rows) * max(1, len(peers)))))
    values = []
    for j, peer in enumerate(peers):
        ys, xs = [], []
        for i, r in enumerate(rows):
            s = r.speedup(peer)
            if s is not None:
                ys.append(i + (j - (len(peers) - 1) / 2) * height)
                xs.append(s)
        bars = ax.barh(ys, [x - 1 for x in xs], left=1, height=height * 0.9, label=f"vs {peer}")  # from parity
        ax.bar_label(bars, labels=[f"{x:.2f}x" for x in xs], padding=3, fontsize=8)
        values += xs
    _log_speedup_axis(ax, values)
    ax.set_yticks(range(len(rows)), [f"{r.ours.pass_} {_shape(r.ours.shape)} {r.ours.dtype}" for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)  # outside: never over a bar
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_overview(rows: list[Row], path: Path) -> None:
    """Every op in one figure: its geometric-mean speedup over each peer it was timed against, across
    its cases (a bar an op and peer), on a log axis; the per-op figures have the cases."""
    plt = _pyplot()
    peers = peer_order({p.impl for r in rows for p, _ in r.peers})
    colors = {p: f"C{i % 10}" for i, p in enumerate(peers)}
    ops = sorted({r.ours.op for r in rows if r.peers})
    fig, ax = plt.subplots(figsize=(9, min(14.0, 1.4 + 0.55 * len(ops))))
    values, labelled = [], set()
    for i, op in enumerate(ops):
        means = []
        for peer in peers:
            got = [s for r in rows if r.ours.op == op for s in [r.speedup(peer)] if s is not None and s > 0]
            if got:
                means.append((peer, math.exp(sum(math.log(g) for g in got) / len(got))))
        height = 0.8 / max(1, len(means))  # the peers this op has share its row
        for j, (peer, m) in enumerate(means):
            y = i + (j - (len(means) - 1) / 2) * height
            bars = ax.barh([y], [m - 1], left=1, height=height * 0.9, color=colors[peer],
                           label=None if peer in labelled else f"vs {peer}")  # from parity
            ax.bar_label(bars, labels=[f"{m:.2f}x"], padding=3, fontsize=7)
            labelled.add(peer)
            values.append(m)
    _log_speedup_axis(ax, values)
    ax.set_yticks(range(len(ops)), ops, fontsize=8)
    ax.invert_yaxis()
    ax.set_title("Generated ops vs their peers: geometric mean over each op's cases, same run")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_rates(rows: list[Row], ceiling: str, path: Path) -> None:
    plt = _pyplot()
    copy = ceiling == "copy"
    unit = "GB/s" if copy else "TFLOP/s"

    def work(t):
        return t.bytes if copy else t.flops

    from matplotlib.ticker import EngFormatter, NullFormatter

    fig, ax = plt.subplots(figsize=(9, 5.5))
    impls = ["generated", *peer_order({p.impl for r in rows for p, _ in r.peers})]
    markers = dict(zip(impls, "o^sDvP*X"))
    for impl in impls:
        pts = [(work(t), t.rate) for r in rows for t in (r.ours, *(p for p, _ in r.peers))
               if t.impl == impl and t.rate is not None]
        if pts:
            ax.scatter(*zip(*pts), marker=markers.get(impl, "o"), s=60 if impl == "generated" else 35,
                       label=impl, zorder=3)
    for r in rows:
        ax.annotate(f"{r.ours.op} {r.ours.pass_}", (work(r.ours), r.ours.rate), textcoords="offset points",
                    xytext=(6, -10), fontsize=7)
    ceil = sorted({(work(r.ours), r.ours.ceiling_rate) for r in rows if r.ours.ceiling_rate})
    if ceil:
        xs, ys = zip(*ceil)
        ax.plot(xs, ys, color="black", linestyle="--", marker="_", markersize=25, linewidth=1,
                label=("device copy" if copy else "library matmul") + " (ceiling, same run)", zorder=2)
    ax.set_xscale("log")
    ax.set_xticks(sorted({work(r.ours) for r in rows}))  # label the sizes measured, whatever the decade
    ax.xaxis.set_major_formatter(EngFormatter(unit="B" if copy else "FLOP", places=1))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.margins(x=0.15)
    ax.set_xlabel(("bytes moved per call (read + written)" if copy else "FLOPs per call") + ", log scale")
    ax.set_ylabel(f"achieved {unit}")
    ax.set_ylim(bottom=0)
    ax.set_title(("Bandwidth" if copy else "Throughput") + " vs size against the ceiling measured in the same run")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """python -m grimoire.report RUN.json OUT_DIR: the report of a run, on a machine without Prolog."""
    from .bench import BenchError, compare, load_run, trimmed

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m grimoire.report RUN.json OUT_DIR", file=sys.stderr)
        return 2
    try:
        run = load_run(Path(args[0]))
    except BenchError as exc:
        print(exc, file=sys.stderr)
        return 2
    out_dir = Path(args[1])
    md = write(out_dir, run, compare(run), title=out_dir.name, rendered_by="python -m grimoire.report")
    (out_dir / "benchmark.json").write_text(trimmed(Path(args[0])))
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
