"""The examples run: the digits MLP (generated relu, cross_entropy and Adam) learns, on a smaller
budget than the full run, and the autograd walkthrough's own assertions hold."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_train_digits_learns_with_a_small_budget():
    digits = _load("train_digits")
    # Six epochs instead of twenty; the full run reaches >= 97% (98.1-98.3% over seeds 0-2).
    result = digits.train(epochs=6, seed=0, progress=False)
    assert result["test_accuracy"] >= 0.95, result
    assert result["train_loss"] < 0.6, result


def test_train_digits_uses_generated_ops_for_layers_loss_and_optimizer():
    text = (EXAMPLES / "train_digits.py").read_text()
    for op in ("fused_linear_relu", "linear", "cross_entropy", "Adam"):
        assert f"generated_ops.{op}(" in text, op
    for torch_op in ("F.linear", "F.relu", "F.cross_entropy", "torch.relu", "torch.optim.Adam", "nn.Linear("):
        assert torch_op not in text, torch_op


def test_basic_autograd_walkthrough():
    out = _load("basic_autograd").main()
    assert out["grad_twice"].shape == out["x"].shape == (5,)
