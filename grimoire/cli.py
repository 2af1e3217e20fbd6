"""The `grimoire` command: drives every stage, and speaks Prolog (`perceive`, `cast`).

Exit codes: 0 success; 1 a check failed (tests, drift, benchmark regression, build); 2 the specs or
the command line are wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .diagnostics import SpecError
from .kinds import model_of
from .project import Project

app = typer.Typer(
    name="grimoire",
    help="Generate, build, validate and benchmark PyTorch C++/CUDA extensions from Prolog op specs.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

PIPED_WIDTH = 1000  # "no limit" for lines written into a pipe or file (never split a file:line message)
TABLE_WIDTH = 80  # a table written into a pipe or file wraps its cells to this width (or $COLUMNS)


def _console(stderr: bool = False) -> Console:
    """On a terminal, rich wraps at its width. Piped, rich would wrap at 80 columns, splitting `file:line:
    error:` lines in a log: there lines are never wrapped (soft wrap), and tables take the width they need
    (up to $COLUMNS where that is set)."""
    stream = sys.stderr if stderr else sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty:
        return Console(stderr=stderr, highlight=False)
    return Console(stderr=stderr, highlight=False, soft_wrap=True,
                   width=None if os.environ.get("COLUMNS", "").isdigit() else PIPED_WIDTH)


console = _console()
err = _console(stderr=True)


def _print_table(table: Table) -> None:
    """A table at the terminal's width, or piped at $COLUMNS / TABLE_WIDTH: long cells wrap inside it
    instead of making every line as wide as the longest cell."""
    piped = console.width >= PIPED_WIDTH
    console.print(table, width=TABLE_WIDTH if piped else None)


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"


ROOT_OPTION = typer.Option(None, "--root", help="Project folder (holding semantics/); default: nearest upwards.")


def _project(root: Optional[Path]) -> Project:
    return Project.discover(root)


def _fail(message: str, code: int = 1) -> "typer.Exit":
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


@contextmanager
def _spec_errors(project: Project, consequence: str = ""):
    """Report spec problems (file:line each) and bad queries, and exit 2. Never a traceback: an error that
    escaped the checks (SWI-Prolog's, or the model's) is reported as one line and exits 2 as well."""
    from .model import ModelError

    try:
        yield
    except SpecError as exc:
        for d in exc.diagnostics:
            err.print(d.render(project.root), markup=False)
        err.print(f"[red]{len(exc.diagnostics)} problem(s) in the specs{consequence}.[/red]")
        raise typer.Exit(2)
    except ModelError as exc:
        raise _fail(f"the specs passed every check but their model is inconsistent ({exc}); this is a gap in "
                    f"grimoire's checks: please report it with the spec{consequence}", 2)
    except ValueError as exc:
        raise _fail(str(exc), 2)
    except Exception as exc:
        if type(exc).__name__ != "PrologError":  # pyswip's, raised for an uncaught Prolog exception
            raise
        raise _fail(f"SWI-Prolog raised an error while reading the specs: {exc}{consequence}", 2)


def _load_model(project: Project, check_names: bool = False):
    from . import knowledge, model, names

    with _spec_errors(project, "; nothing was generated"):
        known = knowledge.load(project.semantics)
        ext = model.build_model(known)
        if check_names:  # before anything is written: a name the generated code uses itself
            names.check(known.model, known.semantics_dir.parent, project.templates)
        return ext


# ----------------------------------------------------------------------------------------------
# Steps shared by the commands and by `cast`
# ----------------------------------------------------------------------------------------------

def step_generate(project: Project, check: bool = False) -> None:
    from . import render

    start = time.perf_counter()
    ext = _load_model(project, check_names=True)
    if ext.package != project.output_name:  # the generated code imports itself by its package name
        raise _fail(f"the extension's package is {ext.package!r} but this project writes {project.output_name}/: "
                    "make [tool.grimoire] package in pyproject.toml and the extension's package component agree", 2)
    try:
        rendering = render.render(ext, project.templates)
    except render.RenderError as exc:
        raise _fail(str(exc), 2) from None
    if check:
        drift = render.drift(rendering, project.output)
        if drift:
            for label, paths in (("changed", drift.changed), ("missing", drift.missing), ("stale", drift.stale)):
                for p in paths:
                    err.print(f"  {label}: {project.output_name}/{p}", markup=False)
            raise _fail(f"{project.output_name}/ is out of date with the specs and templates: run `grimoire generate`")
        console.print(f"{project.output_name}/ is up to date ({len(rendering.files)} files, "
                      f"{time.perf_counter() - start:.2f} s)")
        return
    try:
        report = render.write(rendering, project.output)
    except render.WriteError as exc:
        raise _fail(str(exc))
    console.print(f"generated {len(ext.ops)} ops into {project.output_name}/ "
                  f"({time.perf_counter() - start:.2f} s):\n  {len(report.written)} files written, "
                  f"{len(report.unchanged)} unchanged, {len(report.removed)} removed")
    for p in report.written:
        console.print(f"  wrote   {project.output_name}/{p}", markup=False)
    for p in report.removed:
        console.print(f"  removed {project.output_name}/{p}", markup=False)


def step_build(project: Project, verbose: bool = False, force: bool = False) -> None:
    from . import build

    try:
        with console.status("building the extension (torch.utils.cpp_extension + ninja)…"):
            result = build.build(project.output, verbose=verbose, force=force)
    except build.BuildError as exc:
        err.print(exc.log, markup=False, soft_wrap=True)  # compiler lines stay whole
        raise _fail("the build failed (compiler output above)")
    what = "built" if result.rebuilt else "up to date"
    console.print(f"{what}: {result.library} ({result.seconds:.2f} s)")


def step_test(project: Project, pytest_args: Optional[List[str]] = None, verbose: bool = False,
              as_json: bool = False) -> None:
    """Run the generated tests and print the per-op summary (or, as_json, the results as JSON on stdout,
    pytest's own output going to stderr)."""
    from . import validate

    tests = project.output / "tests"
    if not tests.is_dir():
        raise _fail(f"{tests} is missing: run `grimoire generate` first")
    result = validate.run_tests(tests, project.state / "junit.xml", pytest_args, cwd=project.root,
                                quiet=not verbose, ops=validate.known_ops(project.output), pytest_to_stderr=as_json)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        sys.stdout.flush()
    else:
        _print_validation(result)
    if not result.ok:
        raise _fail("some generated tests failed" if result.cases else "no generated test ran")


_SUMMARY_STYLE = {"fail": "bold red", "ok": "", "skip": "dim", "total": "bold"}


def _print_validation(result) -> None:
    """Failing ops first, one line per op, the total last: readable at 80 columns and in a log."""
    from .validate import summary

    console.print()
    for kind, line in summary(result, width=min(console.width, 100)):
        style = "bold red" if kind == "total" and line.startswith("FAILED") else _SUMMARY_STYLE[kind]
        console.print(line, markup=False, style=style or None)


def step_bench(project: Project, ops: Optional[List[str]] = None, device: str = "cpu",
               name: Optional[str] = None, compare: Optional[str] = None, threshold: float = 10.0,
               from_json: Optional[Path] = None, out: Optional[Path] = None, tiny: bool = False,
               impls: Optional[List[str]] = None, command: str = "grimoire bench") -> None:
    """Run the generated benchmarks (or read a run's JSON), print and write the report, gate regressions."""
    from . import bench, report

    try:
        base = bench.load_run(bench.resolve_saved(project.root, compare)) if compare else None
    except bench.BenchError as exc:
        raise _fail(str(exc), 2)
    if from_json is not None:
        json_path = from_json
        if not json_path.is_file():
            raise _fail(f"--from-json: no file {json_path}", 2)
    else:
        json_path = project.state / "bench" / f"{name or 'latest'}.json"
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.unlink(missing_ok=True)
        if ops:
            try:
                bench.check_ops(ops, bench.benchmarked_ops(project.output / "benchmarks"))
            except bench.BenchError as exc:
                raise _fail(str(exc), 2)
        cmd = bench.pytest_command(project.output / "benchmarks", json_path, ops=ops, tiny=tiny, save=name,
                                   storage=project.state / "benchmarks",
                                   compare=Path(base.source).resolve() if base else None)
        code = bench.run_benchmarks(cmd, cwd=project.root, device=device, tiny=tiny, impls=impls, command=command)
        if code == 5:
            raise _fail("no benchmark matched" + (f" {' '.join(ops)}" if ops else ""), 2)
        if code != 0 or not json_path.exists():
            raise _fail(f"the benchmarks failed (pytest exit code {code})")
    try:
        run = bench.load_run(json_path)
    except bench.BenchError as exc:
        raise _fail(str(exc), 2)
    rows = bench.compare(run)
    _print_bench(rows, run)
    comparison = None
    if base is not None:
        comparison = report.Comparison(base, tuple(bench.changes(base, run, threshold)), threshold)
        if not comparison.changes:
            raise _fail(f"nothing to compare: no benchmark of this run is in {base.source}", 2)
    report_dir = out or project.root / "benchmarks" / "reports" / (name or "latest")
    report_dir.mkdir(parents=True, exist_ok=True)
    data = report_dir / bench.REPORT_JSON
    if not (data.exists() and data.resolve() == json_path.resolve()):
        data.write_text(bench.trimmed(json_path))
    md = report.write(report_dir, run, rows, title=name or run.device, rendered_by=command, comparison=comparison)
    console.print(f"report: {md}", markup=False)
    if comparison is not None:
        for c in comparison.regressions:
            err.print(f"regression: {c.label}: {bench.fmt_time(c.base_s)} -> {bench.fmt_time(c.now_s)} "
                      f"({100 * (c.ratio - 1):+.0f}%; {100 * (c.vs_peers - 1):+.0f}% against its peers, beyond "
                      f"the {100 * c.allowed:.0f}% the threshold and this run's noise allow)", markup=False)
        if comparison.regressions:
            raise _fail(f"{len(comparison.regressions)} benchmark(s) regressed against {base.source}")
        console.print(f"no regression against {base.source} (threshold {threshold:g}% or the run's noise, "
                      f"against the peers timed with it; {len(comparison.changes)} benchmarks compared)", markup=False)


def step_new_op(project: Project, name: str, kind: str, force: bool = False) -> None:
    from . import scaffold

    with _spec_errors(project, "; nothing was written"):
        try:
            result = scaffold.new_op(project.root, name, kind, force=force)
        except scaffold.ScaffoldError as exc:
            raise _fail(str(exc), 2)
    for p in result.written:
        console.print(f"  wrote {scaffold._rel(p, result.root)}", markup=False)
    console.print("next:")
    for i, s in enumerate(result.next_steps, 1):
        console.print(f"  {i}. {s}", markup=False)



def _print_bench(rows, run) -> None:
    from .bench import fmt_num, fmt_time

    table = Table(title=f"benchmarks ({run.device}{', tiny shapes' if run.tiny else ''}): "
                        "speedup = peer time / generated time")
    table.add_column("op", no_wrap=True)
    for col in ("pass", "shape", "dtype", "generated", "peers: time (speedup)", "% of ceiling"):
        table.add_column(col, overflow="fold")
    for r in rows:
        o = r.ours
        peers = ", ".join(f"{t.impl} {fmt_time(t.median_s)} ({s:.2f}x)" for t, s in r.peers)
        pct = o.percent_of_ceiling
        table.add_row(o.op, o.pass_, str(list(o.shape)), o.dtype, fmt_time(o.median_s), peers,
                      "-" if pct is None else f"{pct:.0f}% of {o.ceiling} ({fmt_num(o.ceiling_rate)})")
    _print_table(table)


STEPS = {"generate": step_generate, "build": step_build, "test": step_test,
         "bench": lambda project: step_bench(project, command='grimoire cast "conjure(run_benchmarks)"'),
         "new_op": step_new_op}


# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------

@app.command("list")
def list_ops(root: Optional[Path] = ROOT_OPTION) -> None:
    """List the ops the specs declare."""
    project = _project(root)
    ext = _load_model(project)
    table = Table(title=f"torch.ops.{ext.namespace}: {len(ext.ops)} ops (grimoire info OP: the rest)", box=None,
                  padding=(0, 1), title_justify="left")
    # One short line per op: names and the spec stay whole; attrs, dtypes and devices are in `info`.
    table.add_column("op", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("inputs -> outputs", overflow="fold")
    table.add_column("spec", no_wrap=True)
    for op in ext.ops:
        spec = str(op.location).removeprefix("semantics/ops/")  # the usual folder goes without saying
        table.add_row(op.name, op.kind, f"{', '.join(op.inputs) or '-'} -> {', '.join(op.outputs) or '(in place)'}",
                      spec)
    _print_table(table)


@app.command()
def info(op: str = typer.Argument(..., help="The op's name."), root: Optional[Path] = ROOT_OPTION) -> None:
    """Show everything the specs say and derive about one op."""
    project = _project(root)
    ext = _load_model(project)
    try:
        o = ext.op(op)
    except KeyError:
        raise _fail(f"no op named {op!r}; ops: {', '.join(x.name for x in ext.ops)}", 2)
    rows = dict([("kind", o.kind), ("doc", o.doc), ("spec", str(o.location)), ("schema", o.schema),
                 ("backward schema", o.backward_schema or "-"), ("python", f"{o.name}({o.python_signature})"),
                 *([("module", o.module)] if o.module in o.exports else []),
                 ("dtypes", "; ".join(f"{dev}: {', '.join(ds)}" for dev, ds in o.device_dtypes)),
                 ("devices", ", ".join(o.devices)),
                 ("differentiable", ", ".join(o.differentiable) or "-")])
    # The kind's own rows (its reference, its gradients, its classes) follow; one labelled as a common
    # row replaces it in place (the python call, with an out= keyword).
    rows.update(model_of(o.kind).info(o))
    table = Table(show_header=False, title=o.name)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # long gradients wrap, whole, never cut
    for k, v in rows.items():
        table.add_row(k, v)
    _print_table(table)


@app.command()
def vocab(markdown: bool = typer.Option(False, "--markdown", help="Print the reference as the Markdown of "
                                        "docs/spec-language.md instead of text."),
          root: Optional[Path] = ROOT_OPTION) -> None:
    """The spec language: every component with its meaning and cardinality, the kinds, the expression
    grammar, attr types and the reserved names, read from the vocabulary (semantics/core and kinds)."""
    from . import knowledge
    from . import vocab as vocab_mod
    from .project import BUNDLED_SEMANTICS

    project = _project(root)
    semantics = project.semantics if project.semantics.is_dir() else BUNDLED_SEMANTICS
    with _spec_errors(project):
        v = knowledge.vocabulary(semantics)
    out = vocab_mod.markdown(v) if markdown else vocab_mod.text(v)  # 80 columns: for a terminal and a pipe alike
    sys.stdout.write(out)


@app.command()
def generate(check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if generated_ops/ differs."),
             root: Optional[Path] = ROOT_OPTION) -> None:
    """Render the specs into generated_ops/ (only changed files are written)."""
    step_generate(_project(root), check=check)


@app.command()
def build(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the compiler commands."),
          force: bool = typer.Option(False, "--force", help="Rebuild even when nothing changed."),
          root: Optional[Path] = ROOT_OPTION) -> None:
    """Compile generated_ops/ (incremental; a no-op build returns at once)."""
    step_build(_project(root), verbose=verbose, force=force)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(ctx: typer.Context, verbose: bool = typer.Option(False, "--verbose", "-v"),
         as_json: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout (per op: counts "
                                      "and failing tests); everything else goes to stderr."),
         root: Optional[Path] = ROOT_OPTION) -> None:
    """Build the extension where it is out of date, then run the generated tests and print a summary: failing
    ops first, one line per op, the total last. Extra arguments go to pytest. Exit 1 if a test failed."""
    global console
    project = _project(root)
    shown = console
    if as_json:  # stdout is the JSON's alone
        console = err
    try:
        # Built here rather than on the tests' first import, so a compile error reads as `grimoire build`'s
        # (the user's file:line first), not as a pytest collection error.
        step_build(project, verbose=verbose)
        step_test(project, list(ctx.args), verbose=verbose, as_json=as_json)
    finally:
        console = shown


@app.command()
def bench(ops: Optional[List[str]] = typer.Argument(None, help="Only these ops."),
          device: Device = typer.Option(Device.cpu, "--device", help="Where the ops run."),
          save: Optional[str] = typer.Option(None, "--save", help="Name of the saved run and of its report folder."),
          compare: Optional[str] = typer.Option(None, "--compare", help="A saved run (name or JSON path) to "
                                                "compare with; exit 1 if a generated op got slower."),
          threshold: float = typer.Option(10.0, "--threshold", help="Regression threshold for --compare, percent."),
          from_json: Optional[Path] = typer.Option(None, "--from-json", help="Render the report of a run timed "
                                                   "elsewhere (its pytest-benchmark JSON); runs nothing."),
          out: Optional[Path] = typer.Option(None, "--out", help="Report folder (default benchmarks/reports/NAME)."),
          tiny: bool = typer.Option(False, "--tiny", help="Shrink every shape to a few thousand elements and time "
                                    "briefly: checks the tooling; the numbers mean nothing."),
          impl: Optional[List[str]] = typer.Option(None, "--impl", help="Only these implementations (repeatable): "
                                                   "generated, eager, compile or a library peer."),
          root: Optional[Path] = ROOT_OPTION) -> None:
    """Benchmark the generated ops against their peers; write a markdown report with plots."""
    device = device.value
    if threshold <= 0:
        raise _fail(f"--threshold must be a positive percentage, got {threshold:g}", 2)
    words = ["grimoire bench", *(ops or [])] + ([] if from_json else [f"--device {device}"])
    for flag, value in (("--save", save), ("--compare", compare), ("--from-json", from_json), ("--out", out)):
        if value is not None:
            words.append(f"{flag} {value}")
    words += ["--tiny"] * tiny + [f"--impl {i}" for i in impl or []]
    step_bench(_project(root), ops, device, save, compare=compare, threshold=threshold, from_json=from_json,
               out=out, tiny=tiny, impls=impl, command=" ".join(words))


@app.command()
def perceive(query: str = typer.Argument(..., help="Any Prolog query, e.g. \"component(Op, kind, K)\"."),
             root: Optional[Path] = ROOT_OPTION) -> None:
    """Ask the specs a question in Prolog; prints what the query printed and each solution."""
    from . import knowledge

    project = _project(root)
    with _spec_errors(project):
        answer = knowledge.perceive(project.semantics, query, facts=_benchmark_facts(project))
    if answer.printed:
        console.print(answer.printed.rstrip("\n"), markup=False)
    if not answer.bindings:
        console.print("false.")
        raise typer.Exit(1)
    for sol in answer.bindings:
        console.print(", ".join(sol) + "." if sol else "true.", markup=False)


def _benchmark_facts(project: Project) -> Optional[Path]:
    """The latest saved benchmark run as Prolog facts (.grimoire/bench/facts.pl), for perceive."""
    from . import bench

    latest = bench.latest_saved(project.root)
    if latest is None:
        return None
    try:
        run = bench.load_run(latest)
    except bench.BenchError:
        return None
    facts = project.state / "bench" / "facts.pl"
    facts.parent.mkdir(parents=True, exist_ok=True)
    rel = latest.relative_to(project.root) if latest.is_relative_to(project.root) else latest
    facts.write_text(bench.prolog_facts(bench.Run(run.timings, run.machine, run.datetime, str(rel)),
                                        latest.parent.name))
    return facts


@app.command()
def cast(spell: str = typer.Argument(..., help="A spell such as conjure(build_extension)."),
         root: Optional[Path] = ROOT_OPTION) -> None:
    """Perform an action named in Prolog: conjure(generate | build_extension | run_tests | run_benchmarks |
    new_op(Name, Kind))."""
    from . import knowledge

    project = _project(root)
    with _spec_errors(project):
        steps = knowledge.plan(project.semantics, spell)
    shown = [name + (f"({', '.join(args)})" if args else "") for name, *args in steps]
    console.print(f"{spell}: {' -> '.join(shown)}", markup=False)
    for name, *args in steps:
        STEPS[name](project, *args)


@app.command("new-op")
def new_op(name: str = typer.Argument(..., help="The op's name, a lower_snake_case identifier."),
           kind: str = typer.Option(..., "--kind", "-k", help="Its kind: elementwise, attention, custom, ... "
                                    "(`grimoire perceive \"op_kind(K, _)\"` lists them)."),
           force: bool = typer.Option(False, "--force", help="Overwrite the files if they exist."),
           root: Optional[Path] = ROOT_OPTION) -> None:
    """Scaffold an op: a commented spec in semantics/ops/ (and kernels/ for a custom op), valid as written."""
    step_new_op(_project(root), name, kind, force=force)


@app.command("new-extension")
def new_extension(path: Path = typer.Argument(..., help="The new project's folder (new, or empty)."),
                  package: Optional[str] = typer.Option(None, "--package",
                                                        help="Its Python package and torch.ops namespace "
                                                             "(default: the folder's name)."),
                  example_op: str = typer.Option("scaled_softsign", "--example-op", help="Its example op's name."),
                  generator: Optional[str] = typer.Option(
                      None, "--generator", help="How the project installs grimoire: a version "
                      "(torch-grimoire==0.1.0, the default), a path to a checkout or wheel, or a git+https:// URL. "
                      "`make setup GRIMOIRE_SPEC=...` overrides it later.")) -> None:
    """Make a standalone extension project (cookiecutter): specs, tests, Makefile, pyproject, flake.nix."""
    from . import scaffold

    try:
        result = scaffold.new_extension(path, package=package, example_op=example_op, generator=generator)
    except scaffold.ScaffoldError as exc:
        raise _fail(str(exc), 2)
    console.print(f"made {result.root} ({len(result.written)} files)", markup=False)
    console.print("next:")
    for s in result.next_steps:
        console.print(f"  {s}", markup=False)


@app.command()
def doctor() -> None:
    """What is installed, what is missing, and how to get it."""
    import importlib.metadata as md

    rows = []

    def pkg(name: str, hint: str) -> None:
        try:
            rows.append((name, md.version(name), ""))
        except md.PackageNotFoundError:
            rows.append((name, "missing", hint))

    rows.append(("python", sys.version.split()[0], ""))
    rows.append(("grimoire", __version__, ""))
    for name in ("torch", "jinja2", "typer", "pyswip", "pytest", "pytest-benchmark", "cookiecutter", "ninja"):
        pkg(name, "make setup (or pip install -e .)")
    swipl = shutil.which("swipl")
    rows.append(("swipl", _version([swipl, "--version"]) if swipl else "missing",
                 "" if swipl else "apt-get install swi-prolog-nox"))
    cxx = shutil.which(os.environ.get("CXX", "c++"))
    rows.append(("c++", _version([cxx, "--version"]) if cxx else "missing", "" if cxx else "apt-get install g++"))
    nvcc = shutil.which("nvcc") or (Path(os.environ.get("CUDA_HOME", "/usr/local/cuda")) / "bin" / "nvcc")
    has_nvcc = Path(nvcc).exists()
    rows.append(("nvcc", _version([str(nvcc), "--version"]) if has_nvcc else "missing",
                 "" if has_nvcc else "optional: CUDA toolkit, for CUDA kernels"))
    try:
        probe = subprocess.run([sys.executable, "-c", "import torch;print(torch.version.cuda, torch.cuda.is_available())"],
                               capture_output=True, text=True, timeout=60).stdout.split()
        rows.append(("torch CUDA", f"build {probe[0]}, device available: {probe[1]}", ""))
    except Exception:
        pass
    table = Table(title="grimoire doctor")
    for col in ("component", "version", "to fix"):
        table.add_column(col)
    missing = 0
    for name, version, hint in rows:
        table.add_row(name, version, hint)
        missing += version == "missing" and not hint.startswith("optional")
    _print_table(table)
    raise typer.Exit(1 if missing else 0)


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()
    except Exception:
        return "unknown"
    return (out[-1] if cmd[0].endswith("nvcc") else out[0])[:60] if out else "unknown"


@app.command()
def version() -> None:
    """Print the generator's version."""
    console.print(f"grimoire {__version__}")


def _print_version(value: bool) -> None:
    if value:
        console.print(f"grimoire {__version__}", markup=False)
        raise typer.Exit(0)


@app.callback()
def _options(version_: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                           help="Print the generator's version and exit.")) -> None:
    """Generate, build, validate and benchmark PyTorch C++/CUDA extensions from Prolog op specs."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
