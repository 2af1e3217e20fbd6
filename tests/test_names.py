"""A spec's value names against the names the generated code declares itself (grimoire/names.py).

A name the templates also declare (an attr `rows`, an input `tensors`) is refused at its file:line,
before anything is written. One the generated code uses only where the spec's name never goes (`config`,
declared in another function) is accepted, and that op is built and passes its generated tests: the
check is no stricter than the compiler. The bundled and conformance specs pass it (their generation
runs in the rest of the suite)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from typer.testing import CliRunner

from grimoire import cli, names

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})

EXTENSION = """
    entity(names_ops).
    component(names_ops, kind, extension).
    component(names_ops, doc, "Ops whose names the generated code may use itself.").
    component(names_ops, namespace, names_ops).
    component(names_ops, package, names_ops).
    """

# Names the rowwise and elementwise kernels declare in the scope the op's values go to; a rowwise op's
# stats are named in its kernels after the spec (mu_s, mu), so they are checked too.
CLASHING = {
    "row_locals.pl": """
        entity(row_locals).
        component(row_locals, kind, rowwise).
        component(row_locals, doc, "A layer norm whose names are the row kernel's own.").
        component(row_locals, input, j).
        component(row_locals, input, acc).
        component(row_locals, column_input, acc).
        component(row_locals, attr, rows: float = 1.0e-5).
        component(row_locals, output, y).
        component(row_locals, stat, mu = mean(j)).
        component(row_locals, stat, inv_n = mean((j - mu) ** 2)).
        component(row_locals, forward, y = (j - mu) * rsqrt(inv_n + rows) * acc).
        component(row_locals, peer, 'torch.nn.functional.layer_norm'(j, [shape(j, -1)], acc, none, rows)).
        component(row_locals, dtypes, [float32, float64]).
        component(row_locals, devices, [cpu, cuda]).
        """,
    "elem_locals.pl": """
        entity(elem_locals).
        component(elem_locals, kind, elementwise).
        component(elem_locals, doc, "A swish whose names are the elementwise kernel's own.").
        component(elem_locals, input, tensors).
        component(elem_locals, input, f).
        component(elem_locals, attr, dtype: float = 1.0).
        component(elem_locals, output, y).
        component(elem_locals, forward, y = tensors * sigmoid(dtype * f)).
        component(elem_locals, dtypes, [float32, float64]).
        component(elem_locals, devices, [cpu, cuda]).
        """,
}

# Names the elementwise code declares only in other functions (make_iter's config, broadcast_shape's
# shape) or not at all.
ELSEWHERE = """
    entity(elem_elsewhere).
    component(elem_elsewhere, kind, elementwise).
    component(elem_elsewhere, doc, "A swish whose names the generated code uses elsewhere.").
    component(elem_elsewhere, input, config).
    component(elem_elsewhere, input, shape).
    component(elem_elsewhere, attr, value: float = 1.5).
    component(elem_elsewhere, output, d).
    component(elem_elsewhere, forward, d = config * sigmoid(value * shape)).
    component(elem_elsewhere, dtypes, [float32, float64]).
    component(elem_elsewhere, devices, [cpu, cuda]).
    """


# A layer norm with stats of its own names, in a project with no op that takes an index input (the
# package then has no index_checks; the rowwise tests must not need them).
ROW_NAMED = """
    entity(row_named).
    component(row_named, kind, rowwise).
    component(row_named, doc, "A layer norm whose stats keep their names in the kernels.").
    component(row_named, input, h).
    component(row_named, input, gain).
    component(row_named, column_input, gain).
    component(row_named, attr, epsv: float = 1.0e-5).
    component(row_named, output, v).
    component(row_named, stat, mu = mean(h)).
    component(row_named, stat, var = mean((h - mu) ** 2)).
    component(row_named, forward, v = (h - mu) * rsqrt(var + epsv) * gain).
    component(row_named, peer, 'torch.nn.functional.layer_norm'(h, [shape(h, -1)], gain, none, epsv)).
    component(row_named, dtypes, [float32, float64]).
    component(row_named, devices, [cpu, cuda]).
    """


def project(tmp_path: Path, ops: dict[str, str]) -> Path:
    root = tmp_path / "names_project"
    files = {
        "pyproject.toml": '[tool.grimoire]\npackage = "names_ops"\n',
        "semantics/extension.pl": EXTENSION,
        **{f"semantics/ops/{n}": t for n, t in ops.items()},
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def test_names_the_kernels_declare_are_refused_at_their_line_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIMOIRE_ROOT", raising=False)
    root = project(tmp_path, CLASHING)
    result = runner.invoke(cli.app, ["generate", "--root", str(root)])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    for where, role, name in [
        ("row_locals.pl:4", "input", "j"),
        ("row_locals.pl:5", "input", "acc"),
        ("row_locals.pl:7", "attr", "rows"),
        ("elem_locals.pl:4", "input", "tensors"),
        ("elem_locals.pl:5", "input", "f"),
        ("elem_locals.pl:6", "attr", "dtype"),
    ]:
        assert (
            f"semantics/ops/{where}: error: {role} '{name}' of" in out
            and "is a name the generated code declares itself" in out
        ), out
        assert f"rename it, e.g. my_{name}" in out
    # A stat's scalar is <stat>_s: inv_n_s is the row kernel's 1 / n already.
    assert ("semantics/ops/row_locals.pl:10: error: stat 'inv_n' of 'row_locals' becomes 'inv_n_s' in the "
            "generated code, which declares that name already") in out
    assert "7 problem(s)" in out and "nothing was generated" in out
    assert not (root / "names_ops").exists()


def test_names_used_elsewhere_are_accepted_built_and_tested(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIMOIRE_ROOT", raising=False)
    root = project(tmp_path, {"elem_elsewhere.pl": ELSEWHERE, "row_named.pl": ROW_NAMED})
    generated = runner.invoke(cli.app, ["generate", "--root", str(root)])
    assert generated.exit_code == 0, generated.output
    tested = runner.invoke(cli.app, ["test", "--root", str(root)])  # builds, runs its tests
    assert tested.exit_code == 0, tested.output
    assert "ok elem_elsewhere" in " ".join(tested.output.split()), tested.output
    assert "ok row_named" in " ".join(tested.output.split()), tested.output
    assert "mu_s" in (root / "names_ops" / "csrc" / "row_named_cpu.cpp").read_text()


def test_cpp_scopes_separate_top_level_declarations():
    source = textwrap.dedent("""
        #include "grimoire.h"  // rows in a comment, "rows" in a string: neither declares anything
        namespace {
        constexpr int kRows = 4;
        int helper(int rows) { return rows + kRows; }
        struct Dims { int64_t m; };
        }  // namespace
        at::Tensor run(const at::Tensor& x, double eps) {
          const Dims d{.m = 1};
          auto s = x.sizes();  /* sizes after a dot is a member */
          return at::add(x, eps + d.m + helper(2));
        }
        """)
    scopes = names.cpp_scopes(source)
    assert {
        "kRows",
        "helper",
        "Dims",
        "run",
    } <= scopes.file and "rows" not in scopes.file
    helper, dims, run = (next(i for i in scopes.items if n in i) for n in ("rows", "m", "eps"))
    assert "kRows" in helper and "rows" not in run and {"x", "eps", "d", "s", "helper"} <= run
    assert "sizes" not in run and "add" not in run  # a member, a qualified name
    assert "m" in dims and "m" not in run  # .m names a member


def test_python_scopes_separate_functions():
    source = textwrap.dedent("""
        import torch
        LIMIT = 3
        def first(x, scale=1.0):
            y = torch.mul(x, scale)
            return y.sum(dim=-1)
        class Module:
            def forward(self, x):
                return first(x, scale=self.scale)
        """)
    scopes = names.python_scopes(source)
    assert {"torch", "LIMIT", "first", "Module"} <= scopes.file
    first, module = scopes.items
    assert {"x", "scale", "y", "torch"} <= first and "dim" not in first and "sum" not in first
    assert {
        "forward",
        "self",
        "x",
        "first",
    } <= module and "scale" not in module  # a keyword, an attribute


def test_collisions_map_stand_ins_back_to_the_spec_names():
    files = {
        "csrc/a.cpp": "void f(int zq0qz) { int zq0qz_data = 1; int rows = zq0qz + zq0qz_data; }\n"
        "void g(int zq1qz) { int j = zq1qz; }\n",
        "ops/a.py": "def h(zq2qz):\n    total = zq2qz\n    return total\n",
    }
    found = names.collisions(files, ["rows", "x", "total"])
    assert sorted((n, i) for n, i, _ in found) == [("rows", "rows"), ("total", "total")]
    # An input x and another input x_data: x's pointer and the other name meet in one function.
    files = {"csrc/b.cpp": "void f(const float* zq0qz_data, float zq1qz) { }\n"}
    assert [(n, i) for n, i, _ in names.collisions(files, ["x", "x_data"])] == [("x_data", "x_data")]
