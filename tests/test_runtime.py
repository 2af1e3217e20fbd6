"""The runtime library (runtime/): plain C++/CUDA headers that every generated extension copies verbatim.

Each header compiles on its own (a translation unit that includes only it) with warnings as errors: the
C++ ones against the CPU torch in .venv, the CUDA ones with nvcc against the CUDA torch in .venv-cuda,
for sm_90 (no GPU needed). The rendering copies exactly the headers the generated sources include,
byte for byte. Where no CUDA toolkit or .venv-cuda exists the CUDA cases are skipped with the reason;
under CI=true they fail instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from grimoire import render

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "runtime"
CUDA_HOME = Path(os.environ.get("GRIMOIRE_CUDA_HOME", "/usr/local/cuda"))
CUDA_PYTHON = ROOT / ".venv-cuda" / "bin" / "python"
HEADERS = sorted(p.name for p in RUNTIME.iterdir())


def _torch_includes(python: Path | str) -> list[str]:
    code = "from torch.utils.cpp_extension import include_paths; print('\\n'.join(include_paths()))"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    return [a for p in out.split() for a in ("-isystem", p)]


def _torch_library_dirs(python: Path | str) -> list[str]:
    code = "from torch.utils.cpp_extension import library_paths; print('\\n'.join(library_paths()))"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.split()


def _torch_libraries(python: Path | str) -> list[str]:
    """Linker arguments for a host program that calls into libtorch (c10's error machinery)."""
    return [*(f"-L{d}" for d in _torch_library_dirs(python)), "-lc10", "-ltorch_cpu"]


def _library_includes(python: Path, farm: Path) -> list[str]:
    """Headers torch's CUDA headers include (cusparse.h, ...) that the toolkit lacks, from the nvidia
    wheels: linked into one folder searched after the toolkit, as generated_ops/_build.py does."""
    code = "import nvidia, sys; print('\\n'.join(nvidia.__path__))"
    roots = subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.split()
    for root in roots:
        for include in sorted(Path(root).glob("*/include")):
            for header in include.iterdir():
                link = farm / header.name
                if not (CUDA_HOME / "include" / header.name).exists() and not os.path.lexists(link):
                    farm.mkdir(parents=True, exist_ok=True)
                    link.symlink_to(header)
    return ["-isystem", str(farm)] if farm.is_dir() else []


def test_runtime_has_the_headers_and_no_template_syntax():
    assert {"grimoire.h", "grimoire_cuda.cuh"} <= set(HEADERS)
    for name in HEADERS:
        assert name.endswith((".h", ".cuh")), f"runtime/{name}: only headers belong in the runtime library"
        text = (RUNTIME / name).read_text()
        assert "#pragma once" in text, f"runtime/{name} has no include guard"
        assert "{{" not in text and "{% " not in text, f"runtime/{name} holds Jinja syntax: it is not a template"


@pytest.mark.parametrize("name", [h for h in HEADERS if h.endswith(".h")])
def test_cpp_header_compiles_alone(name, tmp_path):
    unit = tmp_path / "unit.cpp"
    unit.write_text(f'#include "{name}"\n')
    cmd = ["g++", "-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", f"-I{RUNTIME}",
           *_torch_includes(sys.executable), str(unit)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"runtime/{name} does not compile on its own:\n{proc.stderr[-4000:]}"


@pytest.mark.parametrize("name", [h for h in HEADERS if h.endswith(".cuh")])
def test_cuda_header_compiles_alone(name, tmp_path):
    missing = None
    if not (CUDA_HOME / "bin" / "nvcc").exists():
        missing = f"no CUDA toolkit at {CUDA_HOME} (set GRIMOIRE_CUDA_HOME)"
    elif not CUDA_PYTHON.exists():
        missing = "no .venv-cuda with the CUDA build of torch (run `make setup-cuda`)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"runtime CUDA header check: {missing} (CI=true: it must run)")
        pytest.skip(f"runtime CUDA header check SKIPPED: {missing}")
    unit = tmp_path / "unit.cu"
    unit.write_text(f'#include "{name}"\n')
    cmd = [str(CUDA_HOME / "bin" / "nvcc"), "-std=c++20", "-arch=sm_90", "-c", str(unit), "-o",
           str(tmp_path / "unit.o"), "-Xcompiler", "-Wall,-Wextra,-Werror", f"-I{RUNTIME}",
           *_torch_includes(CUDA_PYTHON), *_library_includes(CUDA_PYTHON, tmp_path / "include")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, f"runtime/{name} does not compile on its own:\n{proc.stderr[-4000:]}"


def test_rendering_copies_exactly_the_included_headers_verbatim():
    """generated_ops/csrc holds a runtime header iff a generated source includes it (directly or through
    another runtime header), byte for byte as in runtime/."""
    csrc = ROOT / "generated_ops" / "csrc"
    files = {f"csrc/{p.name}": p.read_text() for p in csrc.iterdir() if p.name not in HEADERS}
    needed = render._runtime_needed(files, render.runtime_files(ROOT / "templates"))
    present = {p.name for p in csrc.iterdir() if p.name in HEADERS}
    assert present == set(needed), f"copied {sorted(present)}, included {sorted(needed)}"
    for name in present:
        assert (csrc / name).read_bytes() == (RUNTIME / name).read_bytes(), f"csrc/{name} differs from runtime/"


def test_only_what_is_included_is_copied():
    """A source that includes grimoire_rowwise.cuh brings it and what it includes; nothing else comes."""
    runtime = render.runtime_files(ROOT / "templates")
    needed = render._runtime_needed({"csrc/x_cuda.cu": '#include "grimoire_rowwise.cuh"\n'}, runtime)
    assert "grimoire_rowwise.cuh" in needed and "grimoire_flash.cuh" not in needed
    assert render._runtime_needed({"csrc/x_cpu.cpp": "#include <vector>\n"}, runtime) == {}


_ONLINE_PROGRAM = r"""
#include "grimoire_online.h"
#include <cstdio>
#include <vector>
using grimoire::rowwise::online_chunk;
using grimoire::rowwise::online_max_sum;
using grimoire::rowwise::online_combine;
using grimoire::rowwise::online_sum_exp;
constexpr int kChunk = 4;
// Each line of stdin: threads chunked n b_0 ... b_{n-1}. The row is split as a kernel splits it: term j
// to thread j % threads, or (chunked) chunk c of kChunk terms to thread c % threads and the terms after
// the last whole chunk one by one, as a streamed pass reads 16-byte packs. Each thread steps through
// its terms (online_max_sum) or chunks (online_chunk), the partials combine pairwise as a warp's
// butterfly does; printed: the max and the sum of exp(b - max) as %a.
int main() {
  int threads, chunked;
  long n;
  while (std::scanf("%d %d %ld", &threads, &chunked, &n) == 3) {
    std::vector<double> b(n);
    for (long j = 0; j < n; ++j) std::scanf("%lf", &b[j]);
    std::vector<double> m(threads, -INFINITY), s(threads, 0.0);
    const long whole = chunked ? n / kChunk : 0;
    for (long c = 0; c < whole; ++c) {
      double chunk[kChunk];
      for (int i = 0; i < kChunk; ++i) chunk[i] = b[c * kChunk + i];
      online_chunk(m[c % threads], s[c % threads], chunk);
    }
    for (long j = whole * kChunk; j < n; ++j) online_max_sum(m[j % threads], s[j % threads], b[j]);
    for (int step = 1; step < threads; step *= 2)
      for (int t = 0; t + step < threads; t += 2 * step) online_combine(m[t], s[t], m[t + step], s[t + step]);
    std::printf("%a %a\n", m[0], online_sum_exp(s[0], m[0], n));
  }
}
"""


def test_online_max_and_sum_of_exp_equal_the_two_pass_sum(tmp_path):
    """grimoire_online.h, as the GPU plans use it for sum(exp(b - max(b))): whatever the split over threads,
    a term or a chunk at a time, the same max and (to rounding) the same sum as max first, then the sum of
    exp(b - max), including rows of -inf, chunks of -inf, rows with +inf or NaN (NaN, as the two passes
    give), one element, and empty rows."""
    import math
    import random

    src = tmp_path / "online.cpp"
    src.write_text(_ONLINE_PROGRAM)
    exe = tmp_path / "online"
    cmd = ["g++", "-std=c++20", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{RUNTIME}",
           *_torch_includes(sys.executable), str(src), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]

    rng = random.Random(0)
    inf, nan = math.inf, math.nan
    rows = [[], [-inf], [-inf, -inf, -inf], [3.0], [inf], [1.0, inf, 2.0], [1.0, nan, 2.0], [-inf, 0.0, -inf],
            [700.0, -700.0, 0.0], [1e308, -1e308], [nan, -inf], [-inf, inf],
            [-inf] * 4 + [1.0, 2.0, 3.0, 4.0] + [-inf] * 5, [5.0, 1.0, 2.0, 3.0] + [-inf] * 4 + [9.0]]
    for _ in range(300):
        n = rng.choice([1, 2, 5, 31, 32, 33, 100, 1000])
        row = [rng.choice([rng.uniform(-50, 50), rng.gauss(0, 1) * 1e3]) for _ in range(n)]
        for _ in range(rng.choice([0, 0, 1, 3])):  # masks: some -inf, rarely +inf or NaN
            row[rng.randrange(n)] = rng.choice([-inf, -inf, -inf, inf, nan])
        rows.append(row)
    cases = [(t, c, row) for row in rows for t in (1, 4, 32) for c in (0, 1)]
    stdin = "".join(f"{t} {c} {len(row)} " + " ".join(repr(v) for v in row) + "\n" for t, c, row in cases)
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=True).stdout.split("\n")
    for (t, c, row), line in zip(cases, out):
        m, s = (float.fromhex(v) for v in line.split())
        top = -inf
        for b in row:  # RowMax: NaN wins, else the larger
            top = b if (b != b or b > top) else top
        terms = [math.exp(b - top) if not (math.isnan(b - top) or math.isinf(top) and b == top) else nan
                 for b in row]
        want = math.fsum(terms) if all(x == x for x in terms) else nan
        where = f"row {row[:8]}... over {t} threads, {'in chunks' if c else 'a term at a time'}"
        assert (m == top) or (math.isnan(m) and math.isnan(top)), f"{where}: max {m}, want {top}"
        if math.isnan(want):
            assert math.isnan(s), f"{where}: sum {s}, want NaN (as the two passes give)"
        else:
            assert math.isclose(s, want, rel_tol=1e-12, abs_tol=0.0), f"{where}: sum {s}, want {want}"


_MOMENTS_PROGRAM = r"""
#include "grimoire.h"
#include <cstdio>
#include <vector>
// Each line of stdin: n, then n values. Prints the row's mean and m2 / n (%a) as the CPU kernels reduce
// a mean and a variance about it in one pass (grimoire::Moments over float vectors, then the tail).
int main() {
  using Vec = at::vec::Vectorized<float>;
  constexpr long kW = Vec::size();
  long n;
  while (std::scanf("%ld", &n) == 1) {
    std::vector<float> x(n);
    for (long i = 0; i < n; ++i) {
      double v;
      if (std::scanf("%lf", &v) != 1) return 1;
      x[i] = static_cast<float>(v);
    }
    grimoire::Moments<Vec> m;
    long j = 0;
    if (n >= kW) m.start(Vec::loadu(x.data()));
    for (; j + kW <= n; j += kW) m.step(Vec::loadu(x.data() + j));
    grimoire::MomentRow<float> row = grimoire::moment_lanes(m);
    for (; j < n; ++j) row.step(x[j]);
    std::printf("%a %a\n", row.ref + row.rel / static_cast<float>(grimoire::kMomentScale), row.var());
  }
}
"""


def test_one_pass_variance_equals_the_two_pass_one(tmp_path):
    """grimoire.h's Moments, moment_lanes and MomentRow, as the CPU plans reduce a variance with its mean (rowwise.pl's
    moments/3): the variance of float rows to float rounding, exactly 0 for a row of equal terms (also of
    1e4, whose squares' rounding a sum of squares would show), NaN for a row holding +-inf or NaN (as the
    two passes give), and for rows of +-1e38, where the squared deviations overflow, inf or the right
    value, never NaN. Rows of 1 to 1000 terms: shorter than a vector, whole chunks, a tail."""
    import math
    import random
    import struct

    src = tmp_path / "moments.cpp"
    src.write_text(_MOMENTS_PROGRAM)
    exe = tmp_path / "moments"
    cmd = ["g++", "-std=c++20", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{RUNTIME}",
           *_torch_includes(sys.executable), str(src), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]

    def f32(v: float) -> float:
        return struct.unpack("f", struct.pack("f", v))[0]

    rng = random.Random(0)
    inf, nan = math.inf, math.nan
    rows = [[3.0], [1e4] * 9, [1e4] * 200, [-2.5] * 67, [1.0, inf, 2.0], [nan, 1.0], [inf] * 20, [-inf, 1.0] * 40,
            [1e38, -1e38] * 5, [1e38] * 3 + [0.0] * 70, [1e19, -1e19] * 50, [1e6] + [0.0] * 99]
    for _ in range(300):
        n = rng.choice([1, 2, 7, 8, 9, 63, 64, 65, 200, 1000])
        center, spread = rng.choice([(0.0, 1.0), (1e4, 1.0), (-3e3, 1e-2), (0.0, 1e15)])
        rows.append([f32(center + spread * rng.gauss(0, 1)) for _ in range(n)])
        rows.append([f32(float(i)) for i in range(n)])  # a ramp: the mean drifts along the row
    stdin = "".join(f"{len(r)} " + " ".join(repr(v) for v in r) + "\n" for r in rows)
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=True).stdout.split("\n")
    for row, line in zip(rows, out):
        mean, var = (float.fromhex(v) for v in line.split())
        where = f"row {row[:6]}... of {len(row)}"
        if not all(math.isfinite(v) for v in row):
            assert math.isnan(var), f"{where}: variance {var}, want NaN (as the two passes give)"
            continue
        mu = math.fsum(row) / len(row)
        want = math.fsum((v - mu) ** 2 for v in row) / len(row)
        if all(v == row[0] for v in row):
            assert (mean, var) == (row[0], 0.0), f"{where}: mean {mean}, variance {var}; want {row[0]} and 0"
            continue
        assert not math.isnan(var), f"{where}: variance NaN of a finite row (want {want})"
        if max(abs(v - mu) for v in row) > 1.8e19:  # a squared deviation overflows float: inf is allowed
            assert var == inf or math.isclose(var, want, rel_tol=1e-4), f"{where}: variance {var}, want {want}"
            continue
        # No further from the exact variance than the two passes in float are (their mean's rounding to
        # its magnitude alone costs a relative (ulp(mean) / std)^2), and 1e-5 relative.
        two_pass = f32(0.0)
        mu32 = f32(0.0)
        for v in row:
            mu32 = f32(mu32 + f32(v / len(row)))
        for v in row:
            two_pass = f32(two_pass + f32(f32(f32(v - mu32) ** 2) / len(row)))
        assert math.isclose(mean, mu, rel_tol=1e-5, abs_tol=1e-5 * math.sqrt(want)), f"{where}: mean {mean}, want {mu}"
        assert abs(var - want) <= 2 * abs(two_pass - want) + 1e-5 * want, (
            f"{where}: variance {var}, want {want} (the two passes in float: {two_pass})")


_MATH_FUNCTIONS = ("exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tanh", "erf", "abs", "square", "sigmoid",
                   "relu", "softplus", "sign")
_MATH_PROGRAM = r"""
#include "grimoire.h"
#include <cstdio>
#include <vector>
// Each line of stdin: one value. For each function of the expression grammar, printed as %a: the float
// scalar, the float Vectorized (the value in every lane; lane 0 and the last lane), the double scalar.
template <typename F>
void row(double v, F f) {
  using Vf = at::vec::Vectorized<float>;
  const Vf r = f(Vf(static_cast<float>(v)));
  float lanes[Vf::size()];
  r.store(lanes);
  std::printf("%a %a %a %a ", f(static_cast<float>(v)), lanes[0], lanes[Vf::size() - 1], f(v));
}
int main() {
  double v;
  while (std::scanf("%lf", &v) == 1) {
#define GRIMOIRE_ROW(name) row(v, [](auto x) { return grimoire::name(x); });
    GRIMOIRE_ROW(exp) GRIMOIRE_ROW(log) GRIMOIRE_ROW(log1p) GRIMOIRE_ROW(sqrt) GRIMOIRE_ROW(rsqrt)
    GRIMOIRE_ROW(sin) GRIMOIRE_ROW(cos) GRIMOIRE_ROW(tanh) GRIMOIRE_ROW(erf) GRIMOIRE_ROW(abs)
    GRIMOIRE_ROW(square) GRIMOIRE_ROW(sigmoid) GRIMOIRE_ROW(relu) GRIMOIRE_ROW(softplus) GRIMOIRE_ROW(sign)
    std::printf("\n");
  }
}
"""


def test_math_helpers_agree_with_torch(tmp_path):
    """grimoire.h's functions of the expression grammar, on their own: for float scalars, float vectors and
    double scalars, the value torch's own function gives (torch.exp, ..., F.softplus), at the edges too: +-0,
    +-inf, NaN, subnormals, the overflow points of exp, softplus's threshold. NaN where torch gives NaN,
    the same infinities, finite values to a few ulp (exp_u20 is torch's softmax exp)."""
    import math

    import torch

    src = tmp_path / "math.cpp"
    src.write_text(_MATH_PROGRAM)
    exe = tmp_path / "math"
    cmd = ["g++", "-std=c++20", "-O1", f"-I{RUNTIME}", *_torch_includes(sys.executable), str(src), "-o", str(exe),
           *_torch_libraries(sys.executable)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]

    values = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 3.25, -7.0, 19.5, 20.0, 20.5, -20.0, 88.0, 89.0, -87.0, -104.0,
              -120.0, 1e-30, -1e-30, 1e-45, 1e30, -1e30, 3.0e38, math.inf, -math.inf, math.nan, 1e-8, 0.1, 710.0,
              -745.0]
    stdin = "".join(f"{v!r}\n" for v in values)
    env = {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(_torch_library_dirs(sys.executable))}
    out = subprocess.run([str(exe)], input=stdin, capture_output=True, text=True, check=True, env=env).stdout
    peers = {"softplus": torch.nn.functional.softplus}
    lines = out.strip().split("\n")
    assert len(lines) == len(values), f"{len(lines)} lines printed for {len(values)} values"
    for v, line in zip(values, lines):
        fields = [float.fromhex(t) for t in line.split()]
        assert len(fields) == 4 * len(_MATH_FUNCTIONS), line
        for i, name in enumerate(_MATH_FUNCTIONS):
            peer = peers[name] if name in peers else getattr(torch, name)
            f_scalar, f_lane0, f_lane_last, d_scalar = fields[4 * i:4 * i + 4]
            for got, dtype, what in ((f_scalar, torch.float32, "float scalar"), (f_lane0, torch.float32, "float vector"),
                                     (f_lane_last, torch.float32, "float vector (last lane)"),
                                     (d_scalar, torch.float64, "double scalar")):
                want = peer(torch.tensor([v], dtype=dtype)).item()
                where = f"grimoire::{name}({v!r}) as {what}: {got!r}, torch gives {want!r}"
                if math.isnan(want):
                    assert math.isnan(got), where
                elif math.isinf(want):
                    assert got == want, where
                else:
                    tiny = torch.finfo(dtype).tiny
                    rel = 4 * torch.finfo(dtype).eps
                    assert math.isclose(got, want, rel_tol=rel, abs_tol=8 * tiny), where
