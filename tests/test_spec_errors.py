"""Every broken spec in tests/broken_specs/ must fail to load with exactly one clear diagnostic
at the right file:line, through the library and through the CLI alike.

Each case is one file whose first line reads `% expect: <line> <substring of the message>`. It is
loaded beside the real core/, kinds/ and extension.pl, as semantics/ops/<case>.pl (the real ops are
left out so that only the case can be blamed); a case whose second line reads `% as: extension.pl`
replaces semantics/extension.pl instead (for the extension's own components).

The reserved-name lists of semantics/core/ecs.pl are data; the tests at the end check them against
what they stand for (Python's keywords and builtins, torch.nn.Module, torch's op namespaces, the
generated package's __init__.py), so that they cannot go stale.
"""

from __future__ import annotations

import builtins
import copy
import keyword
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grimoire import cli, knowledge, model, render
from grimoire.diagnostics import SpecError

ROOT = Path(__file__).resolve().parent.parent
SEMANTICS = ROOT / "semantics"
CASES = sorted((Path(__file__).parent / "broken_specs").glob("*.pl"))
EXPECT = re.compile(r"^% expect: (\d+) (.+)$")
AS = re.compile(r"^% as: (\S+)$")
ERROR_LINE = re.compile(r"^(\S+?):(\d+): (?:error|warning): ", re.MULTILINE)  # SWI-Prolog's warnings refuse a spec too


runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


def expectation(case: Path) -> tuple[int, str]:
    m = EXPECT.match(case.read_text().splitlines()[0])
    assert m, f"{case.name}: first line must read `% expect: <line> <message substring>`"
    return int(m.group(1)), m.group(2).strip()


def placement(case: Path) -> str:
    """Where the case goes under semantics/: ops/<case>.pl, or what its `% as:` line names."""
    lines = case.read_text().splitlines()
    m = AS.match(lines[1]) if len(lines) > 1 else None
    return m.group(1) if m else f"ops/{case.name}"


def semantics_with(tmp_path: Path, case: Path | None) -> Path:
    """A semantics folder: the real one without its ops (and .plt tests), plus the case."""
    target = tmp_path / "semantics"
    shutil.copytree(SEMANTICS, target, ignore=shutil.ignore_patterns("ops", "*.plt"))
    (target / "ops").mkdir()
    if case is not None:
        shutil.copy(case, target / placement(case))
    return target


def test_corpus_is_large_enough():
    assert len(CASES) >= 100


def test_scaffold_without_ops_loads(tmp_path):
    # If the bare scaffold failed, every case below would be blamed for it.
    knowledge.load(semantics_with(tmp_path, None))


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def wide_console(monkeypatch):
    """The CLI's consoles are made at import, before CliRunner's env: pin their width."""
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(cli.err, "width", 200)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_spec(case, tmp_path, wide_console):
    line, substring = expectation(case)
    where = placement(case)
    semantics = semantics_with(tmp_path, case)

    # The library (knowledge, then the model's own checks): one SpecError with one diagnostic at the
    # case's file:line.
    with pytest.raises(SpecError) as info:
        model.build_model(knowledge.load(semantics))
    diagnostics = info.value.diagnostics
    assert len(diagnostics) == 1, "\n".join(d.render() for d in diagnostics)
    d = diagnostics[0]
    assert Path(d.file).name == Path(where).name, d.render()
    assert d.line == line, d.render()
    assert substring in d.message, d.render()

    # The CLI: `grimoire generate` exits 2 with that one diagnostic, no traceback, and leaves the
    # output folder (already generated once: here a sentinel set of files) exactly as it was.
    out = tmp_path / "generated_ops"
    (out / "ops").mkdir(parents=True)
    (out / "__init__.py").write_text("# sentinel\n")
    (out / "ops" / "sentinel.py").write_text("SENTINEL = 1\n")
    (out / "manifest.json").write_text("{}\n")
    before = _snapshot(out)
    result = runner.invoke(cli.app, ["generate", "--root", str(tmp_path)])
    output = result.output
    assert result.exit_code == 2, output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), output
    assert "Traceback" not in output, output
    errors = ERROR_LINE.findall(output)
    assert errors == [(f"semantics/{where}", str(line))], output
    assert " ".join(substring.split()) in " ".join(output.split()), output  # rich wraps long lines
    assert _snapshot(out) == before, "the output folder changed"


def test_real_semantics_loads():
    # Runs after the broken cases, so it also shows that none of them left facts behind.
    model = knowledge.load(SEMANTICS).model
    assert {op["name"] for op in model["ops"]} >= {"parametric_swish", "fused_attention"}


# ------------------------------------------------------------------------------------------------
# The reserved-name lists (semantics/core/ecs.pl, reserved_list/2) against what they stand for
# ------------------------------------------------------------------------------------------------

def reserved(namespace: str) -> set[str]:
    if shutil.which("swipl") is None:
        pytest.skip("swipl (SWI-Prolog) is not on PATH")
    ecs = SEMANTICS / "core" / "ecs.pl"
    goal = (f"consult('{ecs}'), reserved_list({namespace}, Ws), "
            "forall(member(W, Ws), (write(W), nl)), halt")
    proc = subprocess.run(["swipl", "-q", "-g", goal, "-t", "halt(1)"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_python_keywords_are_reserved():
    assert set(keyword.kwlist) <= reserved("python_keyword")
    assert set(keyword.softkwlist) <= reserved("python_soft_keyword")


def test_python_builtins_are_reserved():
    names = {n for n in dir(builtins) if not n.startswith("_")}
    assert names - reserved("python_builtin") == set()


def test_module_attributes_are_reserved():
    torch = pytest.importorskip("torch")
    names = {n for n in dir(torch.nn.Module()) if not n.startswith("_")}
    assert names - reserved("module_attribute") == set()


def test_torch_namespaces_are_reserved():
    torch = pytest.importorskip("torch")
    # torch's own, in a fresh interpreter: this one may have loaded extensions (generated_ops, test libraries).
    out = subprocess.run([sys.executable, "-c", "import torch; print('\\n'.join(sorted("
                          "{n.split('::')[0] for n in torch._C._dispatch_get_all_op_names()} | "
                          "{n for n in dir(torch.ops) if not n.startswith('__')})))"],
                         capture_output=True, text=True, check=True).stdout
    namespaces = set(out.split())
    assert namespaces - reserved("torch_namespace") == set()


def test_package_names_are_reserved():
    """Every name templates/extension/ puts at the generated package's top level: its public modules and
    folders, and what __init__.py.j2 imports by name."""
    ext = ROOT / "templates" / "extension"
    names = {p.name.removesuffix(".j2").removesuffix(".py") for p in ext.iterdir()
             if not p.name.startswith("_") and p.name != render.PARTIALS_DIR}  # partials render no file
    init = (ext / "__init__.py.j2").read_text()
    for m in re.finditer(r"^from \S+ import ([^#\n]+)", init, re.MULTILINE):
        names |= {n.strip() for n in m.group(1).split(",") if "{" not in n and n.strip()}
    names |= set(re.findall(r"^(\w+) = ", init, re.MULTILINE))
    names = {n for n in names if not n.startswith("_")}  # no spec name may start with _ (ecs.pl)
    assert names - reserved("package_name") == set()


@pytest.fixture(scope="module")
def bundled_model():
    return knowledge.load(SEMANTICS).model


@pytest.mark.parametrize("op, key", [("softmax", "backward_plan"), ("softmax", "forward_plan"),
                                     ("gelu", "gradients"), ("gelu", "backward_schema")])
def test_underived_piece_is_a_spec_error(op, key, bundled_model):
    """Where the rules cannot derive a piece of an op's generated code (an expression no renderer knows), the
    op is refused at its file:line: never generated with the piece left out (a kernel that does not write its
    output, a differentiable op silently without gradients)."""
    entry = copy.deepcopy(next(o for o in bundled_model["ops"] if o["name"] == op))
    entry["derived"] = {k: v for k, v in entry["derived"].items() if k != key}
    with pytest.raises(SpecError) as err:
        model._op(entry, SEMANTICS.parent)
    message = str(err.value)
    assert f"semantics/ops/{op}.pl:" in message and key in message and "could not derive" in message, message


def test_c_macros_are_reserved(tmp_path):
    """The lower-case macros the generated C++ sees (torch's headers and the C library under them): a value
    name spelt like one would be expanded by the preprocessor."""
    torch = pytest.importorskip("torch")
    from torch.utils import cpp_extension

    if shutil.which("g++") is None:
        pytest.skip("g++ is not on PATH: cannot list the macros the generated C++ sees")
    source = tmp_path / "macros.cpp"
    source.write_text("#include <torch/extension.h>\n#include <ATen/native/cpu/Loops.h>\n")
    import sysconfig

    includes = [*cpp_extension.include_paths(), sysconfig.get_paths()["include"]]
    out = subprocess.run(["g++", "-std=c++17", "-dM", "-E", *(f"-I{i}" for i in includes), str(source)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    macros = {m.group(1) for m in re.finditer(r"^#define ([a-z]\w*)", out, re.MULTILINE)}
    assert macros, "g++ -dM -E listed no lower-case macro: the check reads nothing"
    assert macros - reserved("c_macro") == set()
