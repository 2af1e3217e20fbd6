"""The optimizer kind from spec to model: schema with alias annotations, specialised programs,
host values, classes, and the kind's example spec (for `grimoire new-op --kind optimizer`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import pytest

from grimoire import knowledge, model, render


@pytest.fixture(scope="module")
def ext(request):
    root = Path(__file__).resolve().parent.parent
    return model.build_model(knowledge.load(root / "semantics"))


def test_adam_schema_declares_every_mutated_list(ext):
    adam = ext.op("adam_step")
    assert adam.kind == "optimizer"
    assert adam.schema.startswith(
        "adam_step(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] exp_avgs, Tensor(c!)[] exp_avg_sqs, "
        "Tensor(d!)[] max_exp_avg_sqs, Tensor(e!)[] state_steps, float lr=0.001, ")
    assert adam.schema.endswith("bool decoupled_weight_decay=False) -> ()")
    assert adam.optimizer.lists == ("params", "grads", "exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs", "state_steps")
    assert adam.exports == ("adam_step", "Adam", "AdamW")


def test_programs_touch_only_the_states_they_need(ext):
    o = ext.op("adam_step").optimizer
    amsgrad = [p for p in o.programs if p.uses("max_exp_avg_sq")]
    assert amsgrad and len(amsgrad) < len(o.programs)  # without amsgrad the third state is not touched
    assert all(any(t.name == "max_exp_avg_sq" and t.written for t in p.tensors) for p in amsgrad)
    assert -1 in o.variant_programs  # contradictory conditions compile to nothing
    assert len(o.variant_programs) == 2 ** len(o.conditions)
    sgd = ext.op("sgd_step").optimizer
    assert [c.text for c in sgd.requires][-1] == "if nesterov then momentum > 0 and dampening == 0"


def test_constants_are_lifted_to_the_host(ext):
    o = ext.op("adam_step").optimizer
    lifted = {h.name: h.py for h in o.host if h.name.startswith("tmp_u")}
    assert "(1 - beta1)" in lifted.values() and "(1 - beta2)" in lifted.values()
    # (1 - beta1) is never computed per element: only through tmp_u* (beta1 itself is a uniform, which
    # the lerp's second form, gd - (gd - exp_avg) * beta1, reads)
    assert all("1 - beta1" not in line for p in o.programs for line in p.cpp)


def test_classes_group_and_fix_attrs(ext):
    adam, adamw = ext.op("adam_step").optimizer.classes
    assert [p.name for p in adam.params] == ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize",
                                              "decoupled_weight_decay"]
    assert adam.params[1].attrs == ("beta1", "beta2") and adam.params[1].py_default == "(0.9, 0.999)"
    assert adamw.fixed == (("decoupled_weight_decay", "True"),)
    assert next(p for p in adamw.params if p.name == "weight_decay").py_default == "0.01"


def test_example_spec_loads_and_renders(tmp_path):
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "semantics", tmp_path / "semantics", ignore=shutil.ignore_patterns("ops", "*.plt"))
    (tmp_path / "semantics" / "ops").mkdir()
    text = (root / "templates" / "kinds" / "optimizer" / "example_spec.pl.j2").read_text()
    spec = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).render(
        name="momentum_sgd", module="MomentumSGD")
    (tmp_path / "semantics" / "ops" / "momentum_sgd.pl").write_text(spec)
    ext = model.build_model(knowledge.load(tmp_path / "semantics"))
    op = ext.op("momentum_sgd")
    assert op.exports == ("momentum_sgd", "MomentumSGD")
    paths = render.render(ext, root / "templates").paths()
    assert {"csrc/momentum_sgd_cpu.cpp", "ops/momentum_sgd.py", "tests/test_momentum_sgd.py",
            "benchmarks/bench_momentum_sgd.py", "optim.py"} <= paths
    assert not any("example_spec" in p for p in paths)


@pytest.fixture(scope="module")
def rendered(ext):
    root = Path(__file__).resolve().parent.parent
    return {f.path: f.content for f in render.render(ext, root / "templates").files}


def test_bundled_optimizers_have_cuda_kernels_and_tests(ext, rendered):
    for name in ("adam_step", "sgd_step"):
        op = ext.op(name)
        assert op.devices == ("cpu", "cuda")
        assert op.dtypes_on("cuda") == ("float32", "float64", "float16", "bfloat16")
        assert {f"csrc/{name}_cuda.cu", f"tests/test_{name}_cuda.py"} <= set(rendered)
        assert f'"{name}_cuda.cu"' in rendered["_build.py"]


def test_cuda_kernel_keeps_the_step_on_the_device(rendered):
    """Graph-capture safety, statically: no host synchronisation or host copy in the CUDA source, every
    launch on the current stream and checked, the launch table by value within the parameter limit."""
    import re

    for name in ("adam_step", "sgd_step"):
        src = rendered[f"csrc/{name}_cuda.cu"]
        code = "\n".join(line.split("//")[0] for line in src.splitlines())  # comments say what is avoided
        for banned in (".item", "cudaMemcpy", "Synchronize", ".cpu()", "kCPU", "to(at::", "local_scalar"):
            assert banned not in code, f"{name}_cuda.cu: {banned}"
        launches = re.findall(r"<<<.*?>>>\([^;]*\);\n\s*(\S+)", code)
        assert len(launches) == 2 and all(x.startswith("C10_CUDA_KERNEL_LAUNCH_CHECK") for x in launches)
        assert code.count("<<<") == 2 and code.count("at::cuda::getCurrentCUDAStream()") == 1
        assert "0, stream>>>" in code and "const __grid_constant__ Launch<" in code
        assert 'static_assert(sizeof(L) <= kLaunchBytes' in code and "kLaunchBytes = 4096" in code
        assert "c10::cuda::CUDAGuard" in code and "check_no_aliasing" in code


def _flat(text: str) -> str:
    """C++ with its layout dropped: clang-format wraps a long statement where it likes."""
    return " ".join(text.split())


def test_cuda_kernel_computes_host_scalars_from_the_device_step(ext, rendered):
    src = _flat(rendered["csrc/adam_step_cuda.cu"])
    o = ext.op("adam_step").optimizer
    device_fn = src[src.index("GRIMOIRE_DEVICE Host host_values(double step"):]
    device_fn = device_fn[: device_fn.index(" } ")]
    for h in o.host:
        assert _flat(f"const V {h.name} = {h.cpp};") in device_fn
    assert "host_values(step_after(tmp_l.step[t], tmp_l.flags[t]), tmp_l.attrs)" in src
    # The same program text as on the CPU, over V = float, double or HalfMath.
    cpu = _flat(rendered["csrc/adam_step_cpu.cpp"])
    for p in o.programs:
        for line in p.cpp:
            assert _flat(line) in src and _flat(line) in cpu
