"""A kind is a plugin: a project adds one of its own — one rule file, semantics/kinds/toy.pl, and one
template folder, templates/kinds/toy/ — and grimoire generates, builds and tests an op of it beside
the bundled kinds' ops, with nothing of grimoire changed. What the kind's rules derive beyond the
common components reaches its templates as op.derived.

The project lives in a temporary folder outside this repository; `grimoire test` builds its extension
(one kernel and the registration, about a minute on 2 cores) and runs the generated tests."""

from __future__ import annotations

import json
import re
import textwrap

from typer.testing import CliRunner

from grimoire import cli

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})

FILES = {
    "pyproject.toml": """
        [tool.grimoire]
        package = "toy_ops"
        trust_kinds = true  # semantics/kinds/toy.pl is code grimoire runs
        """,
    "semantics/extension.pl": """
        entity(toy_ops).
        component(toy_ops, kind, extension).
        component(toy_ops, doc, "A project with a kind of its own.").
        component(toy_ops, namespace, toy_ops).
        component(toy_ops, package, toy_ops).
        """,
    # The kind: y = x * factor, on CPU. Its one derived component of its own is the factor's default.
    # A kind is a module: its helpers stay private, and it fills the core's hooks as ecs:<hook>.
    "semantics/kinds/toy.pl": """
        :- module(toy, []).
        :- use_module(semantics(core/ecs)).

        ecs:op_kind(toy, "a project's own kind: its input times a factor").
        ecs:kind_requires(toy, input).
        ecs:kind_requires(toy, output).
        ecs:kind_device(toy, cpu).
        ecs:kind_device_dtypes(toy, cpu, [float32, float64]).
        ecs:kind_violation(toy, E-entity(E)-Msg) :-
            \\+ factor_default(E, _),
            format(string(Msg), "toy op '~w' needs the attr factor: float = <default>.", [E]).
        ecs:kind_derived(toy, E, factor_default-D) :- factor_default(E, D).

        factor_default(E, D) :- component(E, attr, factor: float = D).
        """,
    "semantics/ops/triple.pl": """
        entity(triple).
        component(triple, kind, toy).
        component(triple, doc, "x times a factor, 3 by default.").
        component(triple, input, x).
        component(triple, output, y).
        component(triple, attr, factor: float = 3.0).
        component(triple, dtypes, [float32, float64]).
        component(triple, devices, [cpu]).
        component(triple, extension, toy_ops).
        """,
    "templates/kinds/toy/csrc/[op]_cpu.cpp.j2": """
        {% import "common/macros.j2" as m %}
        {{ m.cpp_banner(op.spec_file) }}
        #include <ATen/ATen.h>
        #include <torch/library.h>

        namespace {

        at::Tensor {{ op.name }}_cpu(const at::Tensor& x, double factor) {
          TORCH_CHECK(x.device().is_cpu(), "{{ op.name }}: x must be a CPU tensor");
          return x * factor;
        }

        }  // namespace

        TORCH_LIBRARY_IMPL({{ ext.namespace }}, CPU, m) { m.impl("{{ op.name }}", &{{ op.name }}_cpu); }
        """,
    "templates/kinds/toy/ops/[op].py.j2": '''
        {% import "common/macros.j2" as m %}
        {{ m.py_banner(op.spec_file) }}
        """{{ op.name }}: {{ op.doc | py_docstring }}"""

        from __future__ import annotations

        import torch
        from torch import Tensor, nn

        _NAME = "{{ ext.namespace }}::{{ op.name }}"
        FACTOR_DEFAULT = {{ op.derived.factor_default }}


        def {{ op.name }}({{ op.python_signature }}) -> Tensor:
            return torch.ops.{{ ext.namespace }}.{{ op.name }}({{ op.inputs[0] }}, factor)


        @torch.library.register_fake(_NAME)
        def _fake({{ op.python_signature }}) -> Tensor:
            return torch.empty_like({{ op.inputs[0] }})


        def _setup_context(ctx, inputs, output) -> None:
            ctx.factor = inputs[1]


        def _backward(ctx, grad: Tensor):
            return grad * ctx.factor, None


        torch.library.register_autograd(_NAME, _backward, setup_context=_setup_context)


        {% include "kinds/toy/partials/module.py.j2" %}
        ''',
    # A partial: included by the kind's module template, never rendered as a file of its own.
    "templates/kinds/toy/partials/module.py.j2": """
        class {{ op.module }}(nn.Module):
            def __init__(self, factor: float = FACTOR_DEFAULT) -> None:
                super().__init__()
                self.factor = factor

            def forward(self, x: Tensor) -> Tensor:
                return {{ op.name }}(x, self.factor)
        """,
    "templates/kinds/toy/tests/test_[op].py.j2": '''
        {% import "common/macros.j2" as m %}
        {{ m.py_banner(op.spec_file) }}
        import pytest
        import torch

        from {{ ext.package }} import {{ op.module }}, {{ op.name }}


        @pytest.mark.parametrize("dtype", [{% for t in op.torch_dtypes %}{{ t }}, {% endfor %}])
        def test_matches_torch(dtype):
            x = torch.randn(4, 5, dtype=dtype, requires_grad=True)
            y = {{ op.name }}(x)
            torch.testing.assert_close(y, x * {{ op.derived.factor_default }})
            y.sum().backward()
            torch.testing.assert_close(x.grad, torch.full_like(x, {{ op.derived.factor_default }}))
            torch.testing.assert_close({{ op.module }}(factor=-2.0)(x), x * -2.0)


        def test_opcheck():
            torch.library.opcheck(torch.ops.{{ ext.namespace }}.{{ op.name }}.default,
                                  (torch.randn(3, 2, dtype=torch.float64, requires_grad=True), 0.5))


        def test_cuda_tensor_refused():
            if not torch.cuda.is_available():
                pytest.skip("no CUDA device: the toy kind has no CUDA kernel to refuse from")
            with pytest.raises(NotImplementedError):
                {{ op.name }}(torch.ones(2, device="cuda"))
        ''',
}


def write_project(project, files: dict[str, str]):
    for rel, text in files.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(textwrap.dedent(text).lstrip("\n"))
    return project


def test_a_project_kind_generates_builds_and_passes_its_tests(tmp_path, monkeypatch):
    project = write_project(tmp_path / "toy_project", FILES)
    monkeypatch.delenv("GRIMOIRE_ROOT", raising=False)

    listed = runner.invoke(cli.app, ["list", "--root", str(project)])
    assert listed.exit_code == 0, listed.output
    assert "triple" in listed.output and "toy" in listed.output

    generated = runner.invoke(cli.app, ["generate", "--root", str(project)])
    assert generated.exit_code == 0, generated.output
    out = project / "toy_ops"
    assert (out / "csrc" / "triple_cpu.cpp").is_file() and (out / "ops" / "triple.py").is_file()
    assert "FACTOR_DEFAULT = 3.0" in (out / "ops" / "triple.py").read_text()  # op.derived, from the kind's rule
    # The kind's files and only they: no other kind's (no rowwise property helpers, no gemm switch).
    assert not (out / "_properties_rowwise.py").exists() and not (out / "_gemm.py").exists()
    assert not (out / "csrc" / "gemm_backend.cpp").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert "templates/kinds/toy/ops/[op].py.j2" in manifest["templates"]
    assert "grimoire:templates/extension/__init__.py.j2" in manifest["templates"]

    tested = runner.invoke(cli.app, ["test", "--root", str(project)])
    assert tested.exit_code == 0, tested.output
    # The op's three tests (the CUDA one skips visibly without a device) and nothing failed.
    assert re.search(r"ok\s+triple\s+3 passed\s+0 failed", tested.output), tested.output


def test_a_project_kinds_partial_is_included_not_rendered(tmp_path, monkeypatch):
    project = write_project(tmp_path / "toy_project", FILES)
    monkeypatch.delenv("GRIMOIRE_ROOT", raising=False)
    generated = runner.invoke(cli.app, ["generate", "--root", str(project)])
    assert generated.exit_code == 0, generated.output
    out = project / "toy_ops"
    assert "class Triple(nn.Module):" in (out / "ops" / "triple.py").read_text()
    assert not [p for p in out.rglob("*") if "partials" in p.parts or p.name.startswith("module.py")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert "templates/kinds/toy/partials/module.py.j2" in manifest["templates"]


def test_a_project_kind_without_trust_is_refused(tmp_path):
    project = write_project(tmp_path / "untrusted", {**FILES, "pyproject.toml": '[tool.grimoire]\npackage = "toy_ops"\n'})
    result = runner.invoke(cli.app, ["generate", "--root", str(project)])
    assert result.exit_code != 0
    assert "trust_kinds = true" in result.output
    assert not (project / "toy_ops").exists()


def test_a_broken_kind_template_is_reported_at_its_line_and_writes_nothing(tmp_path):
    # A name the model does not have: the error names the template and its line, not a traceback.
    broken = FILES["templates/kinds/toy/ops/[op].py.j2"].replace("{{ op.derived.factor_default }}",
                                                                  "{{ op.derived.no_such_key }}")
    project = write_project(tmp_path / "broken", {**FILES, "templates/kinds/toy/ops/[op].py.j2": broken})
    result = runner.invoke(cli.app, ["generate", "--root", str(project)])
    assert result.exit_code == 2, result.output
    assert re.search(r"templates/kinds/toy/ops/\[op\]\.py\.j2:\d+: .*no_such_key.* for op 'triple'", result.output), \
        result.output
    assert "Traceback" not in result.output and not (project / "toy_ops").exists()


def test_a_kind_template_that_renders_no_python_is_reported_and_writes_nothing(tmp_path):
    broken = FILES["templates/kinds/toy/ops/[op].py.j2"].replace("def {{ op.name }}(", "def {{ op.name }}((")
    project = write_project(tmp_path / "syntax", {**FILES, "templates/kinds/toy/ops/[op].py.j2": broken})
    result = runner.invoke(cli.app, ["generate", "--root", str(project)])
    assert result.exit_code == 2, result.output
    assert "ops/triple.py" in result.output and "nothing was written" in result.output, result.output
    assert "Traceback" not in result.output and not (project / "toy_ops").exists()
