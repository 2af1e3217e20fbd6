"""Specs are data: loading a project's specs runs nothing written in them, reads no other
file, and never hangs. The one-diagnostic cases live in tests/broken_specs/data_*.pl; these tests check
what a diagnostic alone cannot show (that nothing ran, that a loop stops in time) and what needs a
project of its own (a trusted kind folder, a misnamed file)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grimoire import cli, knowledge
from grimoire.diagnostics import SpecError

ROOT = Path(__file__).resolve().parent.parent
SEMANTICS = ROOT / "semantics"

OP = """entity(my_op).
component(my_op, kind, elementwise).
component(my_op, doc, "Doubles x.").
component(my_op, input, x).
component(my_op, output, y).
component(my_op, forward, y = x * 2).
"""

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(cli.err, "width", 200)


@pytest.fixture
def short_limits(monkeypatch):
    """Limits low enough that a loop stops in well under a second of inferences."""
    monkeypatch.setattr(knowledge, "TIME_LIMIT_S", 2)
    monkeypatch.setattr(knowledge, "INFERENCE_LIMIT", 20_000_000)


def project(tmp_path: Path, spec: str, *, vocabulary: bool = False, name: str = "my_op.pl") -> Path:
    """A project as `grimoire new-extension` makes one (extension.pl and ops/, grimoire's own vocabulary),
    or with a copy of the vocabulary folders when asked, plus one spec file."""
    sem = tmp_path / "semantics"
    (sem / "ops").mkdir(parents=True)
    shutil.copy(SEMANTICS / "extension.pl", sem / "extension.pl")
    if vocabulary:
        for layer in ("core", "kinds"):
            shutil.copytree(SEMANTICS / layer, sem / layer, ignore=shutil.ignore_patterns("*.plt"))
    (sem / "ops" / name).write_text(spec)
    return sem


def diagnostics(sem: Path) -> list:
    with pytest.raises(SpecError) as info:
        knowledge.load(sem)
    return list(info.value.diagnostics)


def test_grimoire_own_vocabulary_serves_a_new_project(tmp_path):
    model = knowledge.load(project(tmp_path, OP)).model
    assert [op["name"] for op in model["ops"]] == ["my_op"]


@pytest.mark.parametrize("directive", [
    ":- shell('touch {m}').",
    ":- initialization(shell('touch {m}')).",
    ":- initialization(shell('touch {m}'), now).",
    ":- assertz((entity(X) :- shell('touch {m}'), X = none)).",
    "component(my_op, devices, D) :- shell('touch {m}'), D = [cpu].",
    "term_expansion(_, _) :- shell('touch {m}').",
])
def test_nothing_in_a_spec_runs(tmp_path, directive):
    marker = tmp_path / "ran"
    sem = project(tmp_path, OP + directive.format(m=marker) + "\n")
    found = diagnostics(sem)
    assert len(found) == 1 and found[0].line == 7, found
    # Nor through the CLI: generate, generate --check and list load the specs too.
    for args in (["generate"], ["generate", "--check"], ["list"]):
        result = runner.invoke(cli.app, [*args, "--root", str(tmp_path)])
        assert result.exit_code == 2, result.output
        assert "semantics/ops/my_op.pl:7: error: " in result.output, result.output
    assert not marker.exists(), "a spec's code ran while loading"


def test_include_reads_no_other_file(tmp_path):
    other = tmp_path / "other.pl"
    other.write_text("this is not prolog(\n")  # read, it would be a syntax error of its own
    sem = project(tmp_path, OP + f":- include('{other}').\n")
    found = diagnostics(sem)
    assert len(found) == 1, found
    assert Path(found[0].file).name == "my_op.pl" and found[0].line == 7
    assert "cannot load or include another file" in found[0].message


def test_misspelled_entity_is_blamed_where_written(tmp_path):
    spec = OP.replace("entity(my_op).", "entiy(my_op).")
    found = diagnostics(project(tmp_path, spec))
    assert [(d.line, Path(d.file).name) for d in found] == [(1, "my_op.pl")], found
    assert "entiy/1 is not part of the spec vocabulary" in found[0].message
    assert "entity(Name) and component(Entity, Key, Value)" in found[0].message
    assert "Did you mean entity(my_op)?" in found[0].message


def test_syntax_errors_say_where_and_the_rest_is_still_read(tmp_path):
    spec = OP + "component(my_op, dtypes, [float32).\nfoo(bar).\n"
    found = sorted(diagnostics(project(tmp_path, spec)), key=lambda d: d.line)
    assert [d.line for d in found] == [7, 8], found
    assert "Syntax error" in found[0].message and "foo/1" in found[1].message


@pytest.mark.parametrize("suffix", [".pro", ".prolog", ".P"])
def test_prolog_file_with_another_suffix_is_reported(tmp_path, suffix):
    sem = project(tmp_path, OP)
    (sem / "ops" / f"other_op{suffix}").write_text(OP.replace("my_op", "other_op"))
    found = diagnostics(sem)
    assert len(found) == 1, found
    assert Path(found[0].file).name == f"other_op{suffix}"
    assert "not loaded: rename to other_op.pl" in found[0].message


def test_plunit_files_beside_the_vocabulary_are_allowed(tmp_path):
    sem = project(tmp_path, OP, vocabulary=True)
    shutil.copy(SEMANTICS / "kinds" / "rowwise.plt", sem / "kinds" / "rowwise.plt")
    knowledge.load(sem)


# ------------------------------------------------------------------------------------------------
# A project's own vocabulary: code, run only when the project says it trusts it
# ------------------------------------------------------------------------------------------------

TOY_KIND = """% A kind with CPU kernels only.
:- module(toy_cpu_only, []).
ecs:op_kind(toy_cpu_only, "a kind with CPU kernels only").
ecs:kind_device(toy_cpu_only, cpu).
"""
TOY_OP = """entity(my_op).
component(my_op, kind, toy_cpu_only).
component(my_op, doc, "Doubles x.").
component(my_op, input, x).
component(my_op, output, y).
component(my_op, dtypes, [float32]).
component(my_op, devices, [cpu, cuda]).
"""


def test_copies_of_grimoire_vocabulary_are_trusted(tmp_path):
    knowledge.load(project(tmp_path, OP, vocabulary=True))


def test_own_kind_file_needs_trust_kinds(tmp_path):
    sem = project(tmp_path, TOY_OP, vocabulary=True)
    marker = tmp_path / "ran"
    (sem / "kinds" / "toy.pl").write_text(TOY_KIND + f":- shell('touch {marker}').\n")
    found = diagnostics(sem)
    assert len(found) == 1, found
    assert Path(found[0].file).name == "toy.pl"
    assert "trust_kinds = true" in found[0].message and "[tool.grimoire]" in found[0].message
    assert not marker.exists()


def test_own_modified_core_file_needs_trust_kinds(tmp_path):
    sem = project(tmp_path, OP, vocabulary=True)
    ecs = sem / "core" / "ecs.pl"
    ecs.write_text(ecs.read_text() + "\n% edited\n")
    found = diagnostics(sem)
    assert [(Path(d.file).name, "semantics/core/" in d.message) for d in found] == [("ecs.pl", True)], found


def test_trusted_kind_file_is_run(tmp_path):
    """With trust_kinds, the project's kind runs, and its facts feed the checks (the devices check that
    tests/broken_specs/device_without_backend.pl used to exercise from inside an op file)."""
    sem = project(tmp_path, TOY_OP, vocabulary=True)
    (sem / "kinds" / "toy.pl").write_text(TOY_KIND)
    (tmp_path / "pyproject.toml").write_text('[tool.grimoire]\ntrust_kinds = true\n')
    found = diagnostics(sem)
    assert [(Path(d.file).name, d.line) for d in found] == [("my_op.pl", 7)], found
    assert "lists cuda, but kind toy_cpu_only has kernels only for cpu" in found[0].message


def test_a_kind_file_that_is_no_module_is_refused_at_its_first_term(tmp_path):
    """The hooks are the ecs module's: a kind written as plain clauses (the interface before modules) would
    define op_kind/2 and the rest in user, hiding every other kind. It is refused, unloaded, saying what to
    write instead, and nothing else is reported."""
    sem = project(tmp_path, TOY_OP, vocabulary=True)
    (sem / "kinds" / "toy.pl").write_text('% An old-style kind.\n\nop_kind(toy_cpu_only, "a kind").\n'
                                         "kind_device(toy_cpu_only, cpu).\n")
    (tmp_path / "pyproject.toml").write_text('[tool.grimoire]\ntrust_kinds = true\n')
    found = diagnostics(sem)
    assert [(Path(d.file).name, d.line) for d in found] == [("toy.pl", 3)], found
    assert ":- module(toy, [])." in found[0].message and "ecs:op_kind(toy, " in found[0].message, found[0].message
    # The next load of a project without it is not affected by the refused file.
    knowledge.load(project(tmp_path / "clean", OP))


def test_a_project_kind_leaves_no_hook_behind(tmp_path):
    """A project's kind is unloaded before the next project loads: its kind is not one of the next's."""
    sem = project(tmp_path / "with", TOY_OP, vocabulary=True)
    (sem / "kinds" / "toy.pl").write_text(TOY_KIND)
    (tmp_path / "with" / "pyproject.toml").write_text('[tool.grimoire]\ntrust_kinds = true\n')
    diagnostics(sem)
    kinds = knowledge.scaffold_facts(project(tmp_path / "without", OP), "new_op")["kinds"]
    assert "rowwise" in {k["name"] for k in kinds} and "toy_cpu_only" not in {k["name"] for k in kinds}


def test_trust_kinds_false_is_no_trust(tmp_path):
    sem = project(tmp_path, TOY_OP, vocabulary=True)
    (sem / "kinds" / "toy.pl").write_text(TOY_KIND)
    (tmp_path / "pyproject.toml").write_text('[tool.grimoire]\ntrust_kinds = "yes"\n')
    assert "trust_kinds = true" in diagnostics(sem)[0].message


# ------------------------------------------------------------------------------------------------
# Limits: a query that runs away stops with a diagnostic or an error, never a hang
# ------------------------------------------------------------------------------------------------

LOOPING_KIND = """% A trusted kind whose rules run away for one op.
:- module(looping, []).
ecs:op_kind(looping, "a kind whose check loops").
ecs:kind_device(looping, cpu).
ecs:kind_violation(looping, Op-entity(Op)-"never") :- Op == check_loops, repeat, fail.
ecs:kind_derived(looping, Op, schema_hint-x) :- Op == derive_loops, repeat, fail.
"""


def looping_project(tmp_path: Path, op: str) -> Path:
    spec = f"""entity({op}).
component({op}, kind, looping).
component({op}, doc, "Loops.").
component({op}, input, x).
component({op}, output, y).
"""
    sem = project(tmp_path, spec, vocabulary=True, name=f"{op}.pl")
    (sem / "kinds" / "looping.pl").write_text(LOOPING_KIND)
    (tmp_path / "pyproject.toml").write_text('[tool.grimoire]\ntrust_kinds = true\n')
    return sem


def test_a_looping_check_is_blamed_on_its_op(tmp_path, short_limits):
    start = time.monotonic()
    found = diagnostics(looping_project(tmp_path, "check_loops"))
    assert time.monotonic() - start < 10
    assert [(Path(d.file).name, d.line) for d in found] == [("check_loops.pl", 1)], found
    assert "checking 'check_loops' did not finish within" in found[0].message


def test_a_looping_derivation_is_blamed_on_its_op(tmp_path, short_limits):
    start = time.monotonic()
    found = diagnostics(looping_project(tmp_path, "derive_loops"))
    assert time.monotonic() - start < 15
    assert [(Path(d.file).name, d.line) for d in found] == [("derive_loops.pl", 1)], found
    assert "deriving the generated code of 'derive_loops' did not finish within" in found[0].message


@pytest.mark.parametrize("query", [
    "repeat, fail",
    "between(1, inf, X), X < 0",
    "length(L, N), N < 0",
])
def test_perceive_with_a_looping_query_stops(query, short_limits):
    start = time.monotonic()
    with pytest.raises(ValueError, match="did not finish within"):
        knowledge.perceive(SEMANTICS, query)
    assert time.monotonic() - start < 10


def test_a_swallowed_limit_still_stops(monkeypatch):
    """A catch-all inside the query swallows the first time-limit exception; the alarm fires again."""
    monkeypatch.setattr(knowledge, "TIME_LIMIT_S", 1)
    monkeypatch.setattr(knowledge, "INFERENCE_LIMIT", 10**15)
    start = time.monotonic()
    with pytest.raises(ValueError, match="did not finish within 1 s"):
        knowledge.perceive(SEMANTICS, "catch((repeat, fail), _, true), repeat, fail")
    assert time.monotonic() - start < 5


def test_perceive_cli_reports_the_loop(short_limits):
    result = runner.invoke(cli.app, ["perceive", "repeat, fail", "--root", str(ROOT)])
    assert result.exit_code == 2, result.output
    assert "the query did not finish within" in result.output and "Traceback" not in result.output


def test_perceive_still_answers_and_stops_at_500_solutions():
    answer = knowledge.perceive(SEMANTICS, "between(1, inf, X)")
    assert len(answer.bindings) == 500 and answer.bindings[0] == ("X = 1",)


def test_real_specs_load_fast():
    knowledge.load(SEMANTICS)  # warm: the engine and the bridge
    start = time.monotonic()
    knowledge.load(SEMANTICS)
    assert time.monotonic() - start < 1.0
