"""What every op's bench file shares: shapes and dtypes to run, timers, and the ceilings.

Needs torch and pytest-benchmark only (no generator, no Prolog, no matplotlib), so the suite runs on a
machine that has just a GPU and torch. Settings come from the environment (`grimoire bench` sets them):

  GRIMOIRE_BENCH_DEVICE  cpu | cuda                      (default cpu)
  GRIMOIRE_BENCH_TINY    1: shrink every shape to <= 4096 elements (tests of the tooling; numbers mean nothing)
  GRIMOIRE_BENCH_DTYPES  e.g. "bfloat16,float32": only these of each op's dtypes
  GRIMOIRE_BENCH_IMPLS   e.g. "generated,eager": only these implementations
  GRIMOIRE_BENCH_COMMAND the command line to record in the results (else the pytest invocation)
  GRIMOIRE_BENCH_KERNELS 1: also record where one call's time goes (extra_info kernels: the kernels, or
                         on the CPU the operators, by their own time under torch.profiler), which the
                         report shows under each op's table; the timed rounds run unprofiled

Library peers (a spec's bench_peer, e.g. Liger-Kernel's functions) are imported when their op's bench
file is collected; one that does not import is left out of the run, and the run's summary (and its
JSON's machine_info) says why in one line.
Peak memory (extra_info peak_bytes): on CUDA, the bytes one call allocates beyond what is live before
it, at the call's peak (torch.cuda.max_memory_allocated); None on the CPU, which keeps no allocator
statistics.
"""

from __future__ import annotations

import importlib
import math
import os
import statistics
import time
from typing import ClassVar

import pytest
import torch

DEVICE = os.environ.get("GRIMOIRE_BENCH_DEVICE", "cpu")
TINY = os.environ.get("GRIMOIRE_BENCH_TINY", "") not in ("", "0")
TINY_NUMEL = 4096
KERNELS = os.environ.get("GRIMOIRE_BENCH_KERNELS", "") not in ("", "0")
KERNELS_SHOWN = 6  # the most time-consuming kernels of a call kept, the rest summed into one entry
# Seconds spent timing one ceiling (and, on CUDA, one benchmark): long enough for a stable median.
TIME_BUDGET_S = 0.02 if TINY else 0.3
WARMUP_S = 0.0 if TINY else 0.1
# On CUDA, inputs are evicted from L2 before each timed call by writing a buffer larger than any L2 so far.
L2_FLUSH_BYTES = 256 << 20


def dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _env_list(name: str) -> list[str] | None:
    raw = os.environ.get(name, "").strip()
    return [w.strip() for w in raw.split(",") if w.strip()] if raw else None


# ---------------------------------------------------------------------------------------------------
# What to run: parametrization helpers for the bench files
# ---------------------------------------------------------------------------------------------------

def shrink(shape: tuple[int, ...], limit: int = TINY_NUMEL) -> tuple[int, ...]:
    """Halve the largest dimension until the shape holds at most `limit` elements (rank is kept)."""
    s = list(shape)
    while math.prod(s) > limit:
        i = max(range(len(s)), key=lambda j: s[j])
        s[i] = max(1, s[i] // 2)
    return tuple(s)


def shapes(declared, default) -> list[tuple[int, ...]]:
    """The spec's bench shapes (or the kind's default), shrunk in tiny mode."""
    chosen = [tuple(s) for s in declared] or [tuple(default)]
    return [shrink(s) for s in chosen] if TINY else chosen


def dtypes(declared) -> list:
    """The spec's dtypes worth timing: all but float64 (kept only when it is all there is), or
    those named in GRIMOIRE_BENCH_DTYPES."""
    wanted = _env_list("GRIMOIRE_BENCH_DTYPES")
    if wanted is not None:
        return [d for d in declared if dtype_name(d) in wanted]
    return [d for d in declared if d != torch.float64] or list(declared[:1])


def device_shapes(by_device: dict, default) -> list[tuple[int, ...]]:
    """The bench shapes for the device being benchmarked (a spec's cuda(shape(...)) / cpu(shape(...)), else its
    common ones), shrunk in tiny mode."""
    return shapes(by_device.get(DEVICE, ()), default)


def device_dtypes(by_device: dict) -> list:
    """dtypes() of the kernels of the device being benchmarked (cuda_dtypes on CUDA)."""
    return dtypes(list(by_device.get(DEVICE, ())))


def impls(declared) -> list[str]:
    """The implementations to time ("generated" and its peers), filtered by GRIMOIRE_BENCH_IMPLS."""
    wanted = _env_list("GRIMOIRE_BENCH_IMPLS")
    return [i for i in declared if wanted is None or i in wanted]


# Library peers left out of this run: (peer, op, why), one each; see left_out().
LEFT_OUT: list[tuple[str, str, str]] = []


def import_function(path: str):
    """The function a dotted path names: its longest importable module prefix, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            # Only this prefix missing moves the cut left; a module that fails inside is the answer.
            if cut == 1 or exc.name != module:
                raise
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(f"{path!r} names no module and function")


def library_peers(op: str, declared: dict) -> dict:
    """The spec's library peers, {name: (dotted function, devices)}, that run on this device and import
    here, as {name: function}. One that does not import is left out of the run (LEFT_OUT says why); one
    the spec runs on another device, or GRIMOIRE_BENCH_IMPLS leaves out, is not this run's."""
    wanted = _env_list("GRIMOIRE_BENCH_IMPLS")
    found = {}
    for name, (path, devices) in declared.items():
        if DEVICE not in devices or (wanted is not None and name not in wanted):
            continue
        try:
            found[name] = import_function(path)
        # What a library's import raises: missing, or failing to load its compiled parts or its GPU stack.
        except (ImportError, AttributeError, RuntimeError, OSError, ValueError, TypeError) as exc:
            why = (str(exc).splitlines() or [""])[0][:100]
            LEFT_OUT.append((name, op, f"{type(exc).__name__}: {why}"))
    return found


def left_out() -> list[str]:
    """One line per library peer left out of the run (and reason), naming the ops it would have raced."""
    ops: dict[tuple[str, str], list[str]] = {}
    for name, op, why in LEFT_OUT:
        ops.setdefault((name, why), []).append(op)
    return [f"library peer {name} left out of {', '.join(o)}: {why}" for (name, why), o in ops.items()]


def kernels(fn, device: str, calls: int = 3) -> list[list]:
    """Where one call of fn spends its time: [name, microseconds a call, launches a call] of its most
    time-consuming kernels (CUDA: device time; CPU: the operators' own host time), largest first, the
    rest as one "(others)" entry. From torch.profiler over `calls` calls after the warm-up; the
    timed rounds never run under the profiler."""
    from torch.profiler import ProfilerActivity, profile

    cuda = device == "cuda"
    activities = [ProfilerActivity.CUDA] if cuda else [ProfilerActivity.CPU]
    if cuda:
        torch.cuda.synchronize()
    with profile(activities=activities) as prof:
        for _ in range(calls):
            fn()
        if cuda:
            torch.cuda.synchronize()
    rows = []
    for e in prof.key_averages():
        us = (e.self_device_time_total if cuda else e.self_cpu_time_total) / calls
        if us > 0:
            rows.append([e.key, round(us, 2), round(e.count / calls, 2)])
    rows.sort(key=lambda r: -r[1])
    shown, rest = rows[:KERNELS_SHOWN], rows[KERNELS_SHOWN:]
    if rest:
        shown.append(["(others)", round(sum(r[1] for r in rest), 2), round(sum(r[2] for r in rest), 2)])
    return shown


def peak_bytes(fn, device: str) -> int | None:
    """The bytes one call of fn allocates beyond what is live before it, at the call's peak, on CUDA;
    None on the CPU (no allocator statistics)."""
    if device != "cuda":
        return None
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return int(torch.cuda.max_memory_allocated() - base)


def only_on(devices, op: str):
    """A module mark: skip, saying why, when the op has no kernel for the device being benchmarked."""
    return pytest.mark.skipif(DEVICE not in devices,
                              reason=f"{op} has no {DEVICE} kernel (spec devices: {', '.join(devices)})")


# ---------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------

_flush_buffer: dict[str, torch.Tensor] = {}


def flush_l2() -> None:
    buf = _flush_buffer.get("cuda")
    if buf is None:
        buf = _flush_buffer["cuda"] = torch.empty(L2_FLUSH_BYTES, dtype=torch.int8, device="cuda")
    buf.zero_()


def cuda_event_seconds(fn) -> float:
    """One call of fn on a cold L2, timed by CUDA events on the current stream."""
    flush_l2()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3


class EventClock:
    """A clock that advances only by CUDA-event time. pytest-benchmark reads it before and after each
    round, so its statistics (and --benchmark-compare) are the device times, not host time spent on
    flushing L2 or synchronizing. A round queues ROUND_CALLS timed calls back to back, as
    triton.testing.do_bench does, and the reading at its end synchronizes once: the host may run
    ahead of the device, so its launch latency shows only where the host is slower than the device."""

    now = 0.0
    pending: ClassVar[list] = []


# Calls a CUDA round queues before it synchronizes (pytest-benchmark's `iterations`).
ROUND_CALLS = 8


def event_clock() -> float:
    if EventClock.pending:
        torch.cuda.synchronize()
        EventClock.now += sum(s.elapsed_time(e) for s, e in EventClock.pending) / 1e3
        EventClock.pending.clear()
    return EventClock.now


def event_round(fn):
    """A pytest-benchmark target: one call on a cold L2, queued between two CUDA events that
    event_clock() reads at the end of the round."""

    def target():
        flush_l2()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        EventClock.pending.append((start, end))

    return target


def event_rounds(fn) -> int:
    """How many rounds of ROUND_CALLS calls fill the time budget, from three timed calls (at least 10
    rounds, at most 500 calls)."""
    est = statistics.median(cuda_event_seconds(fn) for _ in range(3))
    lo = 3 if TINY else 10
    return max(lo, min(500, int(TIME_BUDGET_S / max(est, 1e-6))) // ROUND_CALLS)


def warm_up(fn, device: str) -> None:
    """Untimed calls: the first compiles (torch.compile) and allocates; a few more settle caches and
    lazily loaded code. At least two calls, then until WARMUP_S has passed (at most 20 calls)."""
    t0 = time.perf_counter()
    for i in range(20):
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        if i >= 1 and time.perf_counter() - t0 > WARMUP_S:
            break


def median_seconds(fn, device: str) -> float:
    """Median time of fn: CUDA events on a cold L2 on the GPU, the host clock on the CPU."""
    warm_up(fn, device)
    if device == "cuda":
        return statistics.median(cuda_event_seconds(fn) for _ in range(event_rounds(fn)))
    times, spent = [], 0.0
    while len(times) < 5 or (spent < TIME_BUDGET_S and len(times) < 200):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
    return statistics.median(times)


