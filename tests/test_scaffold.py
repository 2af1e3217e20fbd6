"""Scaffolding: `grimoire new-op` (every kind, every refusal), the `conjure(new_op(...))` spell, the
custom kind's spec checks, and `grimoire new-extension`'s refusals. Nothing here compiles: the one
build of scaffolded ops is in test_scaffold_build.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from grimoire import build, cli, knowledge, model, render

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(cli.err, "width", 200)


@pytest.fixture(autouse=True)
def home(tmp_path_factory, monkeypatch):
    """cookiecutter must not write its replay files into the real home."""
    path = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(path))
    return path


def invoke(*args: str):
    return runner.invoke(cli.app, list(args))


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def known_kinds(root: Path) -> list[str]:
    return sorted(k["name"] for k in knowledge.scaffold_facts(root / "semantics", "probe")["kinds"])


def test_every_kind_known_to_prolog_has_an_example_spec(root):
    kinds = known_kinds(root)
    assert {"elementwise", "attention", "custom"} <= set(kinds)
    for kind in kinds:
        assert (root / "templates" / "kinds" / kind / "example_spec.pl.j2").is_file(), kind


def test_scaffolding_templates_are_not_rendered(root):
    ext = model.build_model(knowledge.load(root / "semantics"))
    rendering = render.render(ext, root / "templates")
    assert not [f.path for f in rendering.files if "example" in f.path]
    manifest = json.loads(next(f.content for f in rendering.files if f.path == "manifest.json"))
    assert manifest["templates"] and not [t for t in manifest["templates"] if "/example_" in t]
    assert not [t for t in manifest["templates"] if "new_extension" in t]


def test_new_op_of_every_kind_generates(tmp_project: Path, root):
    for kind in known_kinds(root):
        r = invoke("new-op", f"my_{kind}", "--kind", kind, "--root", str(tmp_project))
        assert r.exit_code == 0, r.output
        assert f"wrote semantics/ops/my_{kind}.pl" in r.output and "grimoire generate && grimoire build" in r.output
        spec = (tmp_project / "semantics" / "ops" / f"my_{kind}.pl").read_text()
        assert f"entity(my_{kind})." in spec and "%" in spec  # commented
    assert (tmp_project / "kernels" / "my_custom.cpp").is_file() and (tmp_project / "kernels" / "my_custom.cu").is_file()
    r = invoke("generate", "--root", str(tmp_project))
    assert r.exit_code == 0, r.output
    out = tmp_project / "generated_ops"
    for kind in known_kinds(root):
        assert (out / "tests" / f"test_my_{kind}.py").is_file(), kind
    header = (out / "csrc" / "my_custom_custom.h").read_text()
    assert "void forward_cpu(const at::Tensor& x, double alpha, at::Tensor& y);" in header
    assert "my_custom.cpp" in (out / "_build.py").read_text()
    assert not (out / "csrc" / "my_custom_cuda.cu").exists()  # the example lists no cuda: nothing rendered


@pytest.mark.parametrize("name", ["Bad-Name", "MyOp", "class", "grad_x", "tmp_y", "1op", "torch"])
def test_new_op_refuses_unusable_names(tmp_project: Path, name):
    before = files(tmp_project)
    r = invoke("new-op", name, "--kind", "elementwise", "--root", str(tmp_project))
    assert r.exit_code == 2 and "is not usable" in r.output, r.output
    assert files(tmp_project) == before


@pytest.mark.parametrize("name, where", [
    ("generated_ops", "semantics/extension.pl:"),
    ("parametric_swish_backward", "the backward of op parametric_swish"),
    # the package's own modules and exports: an op named so would overwrite them (profiler: its test file too)
    ("profiler", "the generated package has its own generated_ops.profiler"),
    ("optim", "the generated package has its own generated_ops.optim"),
    ("o_p_s", "its module class would be 'OPS', and the generated package has its own generated_ops.OPS"),
    # another op's export: its module or optimizer class
    ("adam", "its module class would be 'Adam', and op 'adam_step' exports it too (semantics/ops/adam_step.pl:"),
])
def test_new_op_refuses_taken_names_even_with_force(tmp_project: Path, name, where):
    before = files(tmp_project)
    r = invoke("new-op", name, "--kind", "elementwise", "--force", "--root", str(tmp_project))
    assert r.exit_code == 2 and "already taken" in r.output and where in r.output, r.output
    assert files(tmp_project) == before


def test_generate_refuses_an_export_taken_twice(tmp_project: Path):
    """Written by hand, past new-op: an op whose name or module class the package already exports."""
    ops = tmp_project / "semantics" / "ops"
    swish = (ops / "parametric_swish.pl").read_text()
    line = next(i for i, ln in enumerate(swish.splitlines(), 1) if ln.startswith("entity("))
    (ops / "profiler.pl").write_text(swish.replace("parametric_swish", "profiler").replace("ParametricSwish", "Prof"))
    r = invoke("generate", "--root", str(tmp_project))
    assert r.exit_code == 2, r.output
    assert (f"semantics/ops/profiler.pl:{line}: error: op name 'profiler' is not usable: 'profiler' is a name the "
            "generated package defines at its top level: choose another name, e.g. my_profiler.") in r.output
    (ops / "profiler.pl").unlink()
    (ops / "parametric_swish_2.pl").write_text(swish.replace("parametric_swish", "parametric_swish_2")
                                               .replace("ParametricSwish", "Adam"))
    r = invoke("generate", "--root", str(tmp_project))
    assert r.exit_code == 2, r.output
    assert (f"semantics/ops/parametric_swish_2.pl:{line}: error: class 'Adam' of 'parametric_swish_2' is taken: "
            "op 'adam_step' exports it too (semantics/ops/adam_step.pl:") in r.output
    assert not (tmp_project / "generated_ops").exists()


def test_new_op_refuses_an_existing_op_unless_forced(tmp_project: Path):
    before = files(tmp_project)
    r = invoke("new-op", "parametric_swish", "--kind", "elementwise", "--root", str(tmp_project))
    assert r.exit_code == 2 and "already taken: declared at semantics/ops/parametric_swish.pl:" in r.output
    assert files(tmp_project) == before
    r = invoke("new-op", "parametric_swish", "--kind", "elementwise", "--force", "--root", str(tmp_project))
    assert r.exit_code == 0, r.output
    assert "alpha * x / (1 + abs(x))" in (tmp_project / "semantics" / "ops" / "parametric_swish.pl").read_text()


def test_new_op_refuses_an_unknown_kind(tmp_project: Path):
    before = files(tmp_project)
    r = invoke("new-op", "my_op", "--kind", "pointwise", "--root", str(tmp_project))
    assert r.exit_code == 2 and "unknown kind 'pointwise'; kinds: attention, conv, custom, elementwise, flash_attention, gemm" in r.output
    assert files(tmp_project) == before


def test_new_op_refuses_existing_files_unless_forced(tmp_project: Path):
    kernel = tmp_project / "kernels" / "my_op.cpp"
    kernel.parent.mkdir()
    kernel.write_text("// mine\n")
    r = invoke("new-op", "my_op", "--kind", "custom", "--root", str(tmp_project))
    assert r.exit_code == 2 and "kernels/my_op.cpp already exist(s): pass --force" in r.output, r.output
    assert kernel.read_text() == "// mine\n" and not (tmp_project / "semantics" / "ops" / "my_op.pl").exists()
    r = invoke("new-op", "my_op", "--kind", "custom", "--force", "--root", str(tmp_project))
    assert r.exit_code == 0, r.output
    assert "my_op_kernels::forward_cpu" in kernel.read_text()


def test_new_op_refuses_a_kind_without_example(tmp_project: Path):
    (tmp_project / "templates" / "kinds" / "attention" / "example_spec.pl.j2").unlink()
    r = invoke("new-op", "my_op", "--kind", "attention", "--root", str(tmp_project))
    assert r.exit_code == 2 and "has no example spec" in r.output, r.output


def test_new_op_takes_back_a_broken_example(tmp_project: Path):
    example = tmp_project / "templates" / "kinds" / "elementwise" / "example_spec.pl.j2"
    example.write_text(example.read_text().replace("abs(x)", "abs(z)"))
    before = files(tmp_project / "semantics")
    r = invoke("new-op", "my_op", "--kind", "elementwise", "--root", str(tmp_project))
    assert r.exit_code == 2 and "does not load" in r.output and "unknown name 'z'" in r.output, r.output
    assert files(tmp_project / "semantics") == before


def test_new_op_reports_broken_specs_first(tmp_project: Path):
    spec = tmp_project / "semantics" / "ops" / "parametric_swish.pl"
    spec.write_text(spec.read_text().replace("sigmoid(beta * x)", "sigmoid(gamma * x)"))
    r = invoke("new-op", "my_op", "--kind", "elementwise", "--root", str(tmp_project))
    assert r.exit_code == 2 and "semantics/ops/parametric_swish.pl:" in r.output and "nothing was written" in r.output
    assert not (tmp_project / "semantics" / "ops" / "my_op.pl").exists()


def test_cast_new_op(tmp_project: Path):
    r = invoke("cast", "conjure(new_op(my_op, custom))", "--root", str(tmp_project))
    assert r.exit_code == 0, r.output
    assert "conjure(new_op(my_op, custom)): new_op(my_op, custom)" in r.output
    assert (tmp_project / "semantics" / "ops" / "my_op.pl").is_file() and (tmp_project / "kernels" / "my_op.cpp").is_file()
    r = invoke("cast", "conjure(new_op(my_op, custom))", "--root", str(tmp_project))
    assert r.exit_code == 2 and "already taken" in r.output
    r = invoke("cast", "conjure(new_op(Name, custom))", "--root", str(tmp_project))
    assert r.exit_code == 2 and "has a variable" in r.output
    r = invoke("cast", "conjure(teleport)", "--root", str(tmp_project))
    assert r.exit_code == 2 and "conjure(new_op(A,B))" in r.output


def test_custom_reference_must_be_python(tmp_project: Path):
    invoke("new-op", "my_op", "--kind", "custom", "--root", str(tmp_project))
    spec = tmp_project / "semantics" / "ops" / "my_op.pl"
    text = spec.read_text()
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "reference," in ln)
    spec.write_text(text.replace('"alpha * x.sum(dim=1)"', '"alpha * x.sum(dim=1"'))
    r = invoke("generate", "--root", str(tmp_project))
    assert r.exit_code == 2 and f"semantics/ops/my_op.pl:{line}: error: reference of 'my_op': not a Python" in r.output
    spec.write_text(text.replace('"alpha * x.sum(dim=1)"', '"beta * x.sum(dim=1)"'))
    r = invoke("generate", "--root", str(tmp_project))
    assert r.exit_code == 2 and "unknown name 'beta' (known: x, alpha, torch, math)" in r.output, r.output
    assert not (tmp_project / "generated_ops").exists()


def test_generate_refuses_a_package_that_is_not_the_output_folder(tmp_project: Path):
    (tmp_project / "pyproject.toml").write_text('[tool.grimoire]\npackage = "other"\n')
    r = invoke("generate", "--root", str(tmp_project))
    assert r.exit_code == 2 and "package is 'generated_ops' but this project writes other/" in r.output


def test_compiler_errors_name_the_users_file_and_line(tmp_path: Path):
    log = "\n".join([
        f"[1/3] c++ -c {tmp_path}/kernels/my_op.cpp -o my_op.o",
        f"{tmp_path}/generated_ops/csrc/my_op_cpu.cpp:9:3: error: something generated",
        f"{tmp_path}/kernels/my_op.cpp: In function 'void my_op_kernels::forward_cpu()':",
        f"{tmp_path}/kernels/my_op.cpp:12:5: error: 'retrun' was not declared in this scope",
        "   12 |     retrun;",
        "      |     ^~~~~~",
        f"{tmp_path}/kernels/my_op.cpp:12:5: error: 'retrun' was not declared in this scope",
        "   12 |     retrun;",
        "      |     ^~~~~~",
        f"{tmp_path}/kernels/my_op.cu(7): error: identifier \"oops\" is undefined",
        "ninja: build stopped: subcommand failed.",
    ])
    assert build.compiler_errors(log, tmp_path).splitlines() == [
        "kernels/my_op.cpp:12:5: error: 'retrun' was not declared in this scope",
        "   12 |     retrun;",
        "      |     ^~~~~~",
        'kernels/my_op.cu:7: error: identifier "oops" is undefined',
        "generated_ops/csrc/my_op_cpu.cpp:9:3: error: something generated",
    ]
    assert build.compiler_errors("no diagnostics\nat all") == "no diagnostics\nat all"


def test_new_extension_refuses_a_non_empty_folder(tmp_path: Path, home: Path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "mine.txt").write_text("keep\n")
    r = invoke("new-extension", str(target))
    assert r.exit_code == 2 and "exists and is not an empty folder" in r.output
    assert files(target) == {"mine.txt": b"keep\n"}
    assert not any(home.iterdir())


@pytest.mark.parametrize("folder, package", [("class", None), ("x", "torch"), ("x", "kernels"), ("1st", None),
                                             ("x", "Bad")])
def test_new_extension_refuses_unusable_packages(tmp_path: Path, folder, package):
    args = ["new-extension", str(tmp_path / folder)] + (["--package", package] if package else [])
    r = invoke(*args)
    assert r.exit_code == 2 and "is not usable" in r.output, r.output
    assert not (tmp_path / folder).exists()


def test_new_extension_pins_the_build_torch_to_its_own(tmp_path: Path):
    """A plain `pip wheel .` builds in an isolated environment from [build-system] requires: an unpinned
    torch there is the newest one, and the wheel would then require that torch, not the project's."""
    import importlib.metadata
    import tomllib

    r = invoke("new-extension", str(tmp_path / "pinned"))
    assert r.exit_code == 0, r.output
    torch = "torch==" + importlib.metadata.version("torch").split("+")[0]
    requires = tomllib.loads((tmp_path / "pinned" / "pyproject.toml").read_text())["build-system"]["requires"]
    assert torch in requires, requires
    assert f"TORCH_SPEC ?= {torch}" in (tmp_path / "pinned" / "Makefile").read_text()


def test_project_template_holds_no_op_template(root):
    template = root / "templates" / "new_extension"
    assert (template / "cookiecutter.json").is_file()
    for p in template.rglob("*"):
        if p.is_file():
            text = p.read_text()
            assert not p.name.endswith(".j2") and "TORCH_LIBRARY_IMPL(" not in text and "register_fake(" not in text, p


def test_new_extension_names_the_generator_portably(tmp_path: Path, root: Path):
    """By default the project installs grimoire by version from the package index, and no file holds a
    path of this machine (the checkout, the temp folder, HOME); --generator writes the user's choice."""
    import tomllib

    from grimoire import __version__

    r = invoke("new-extension", str(tmp_path / "portable"))
    assert r.exit_code == 0, r.output
    project = tmp_path / "portable"
    for rel, data in files(project).items():
        text = data.decode(errors="replace")
        for machine_path in (str(root), str(tmp_path), "file://"):
            assert machine_path not in text, f"{rel} holds {machine_path!r}"
    spec = f"torch-grimoire=={__version__}"
    assert f"GRIMOIRE_SPEC ?= {spec}" in (project / "Makefile").read_text()
    dev = tomllib.loads((project / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert spec in dev
    # A path or a bare URL is no PEP 508 requirement (setuptools refuses the pyproject.toml): the dev extra
    # names the distribution, the Makefile the user's choice.
    for name, chosen in (("url", "git+https://example.org/grimoire.git@v0.1.0"),
                         ("wheel", "../wheelhouse/torch_grimoire-0.1.0-py3-none-any.whl")):
        r = invoke("new-extension", str(tmp_path / name), "--generator", chosen)
        assert r.exit_code == 0, r.output
        assert f"GRIMOIRE_SPEC ?= {chosen}" in (tmp_path / name / "Makefile").read_text()
        dev = tomllib.loads((tmp_path / name / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
        assert dev == ["torch-grimoire", "pytest>=8"], dev
    r = invoke("new-extension", str(tmp_path / "pinned"), "--generator", "torch-grimoire>=0.1,<0.2")
    assert r.exit_code == 0, r.output
    dev = tomllib.loads((tmp_path / "pinned" / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert dev == ["torch-grimoire>=0.1,<0.2", "pytest>=8"], dev
    r = invoke("new-extension", str(tmp_path / "bad"), "--generator", 'x"y')
    assert r.exit_code == 2 and "is not a requirement" in r.output and not (tmp_path / "bad").exists()


def test_the_wheel_lists_every_subpackage_of_grimoire(root):
    """pyproject.toml names grimoire's packages one by one: a new subpackage left out installs a grimoire
    that fails on import (a project built against the wheel is the test that finds it, minutes later)."""
    import tomllib

    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "grimoire").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
