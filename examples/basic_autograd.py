"""Autograd through generated ops: gradients accumulate across backward calls, torch.no_grad()
records nothing, detach() cuts the graph, and a generated optimizer step runs outside autograd.

    python examples/basic_autograd.py
"""

from __future__ import annotations

import torch

import generated_ops


def main() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    x = torch.randn(5, requires_grad=True)

    # 1. Gradients accumulate in .grad until zeroed: two backward calls give twice the gradient.
    y = generated_ops.relu(generated_ops.parametric_swish(x, beta=1.5))
    y.sum().backward()
    once = x.grad.clone()
    generated_ops.relu(generated_ops.parametric_swish(x, beta=1.5)).sum().backward()
    assert torch.allclose(x.grad, 2 * once)
    print("after two backward calls, x.grad == 2 * (one call):", x.grad)
    x.grad = None

    # 2. Under torch.no_grad() nothing is recorded: the result needs no gradient.
    with torch.no_grad():
        z = generated_ops.parametric_swish(x)
    assert not z.requires_grad and z.grad_fn is None
    print("under no_grad: requires_grad =", z.requires_grad)

    # 3. detach() cuts the graph: the detached branch is a constant for backward.
    h = generated_ops.sigmoid(x)
    loss = (h * h.detach()).sum()  # d/dx = h.detach() * sigmoid'(x), not 2 * h * sigmoid'(x)
    loss.backward()
    s = torch.sigmoid(x.detach())
    assert torch.allclose(x.grad, s * s * (1 - s), atol=1e-6)
    print("with detach, x.grad == sigmoid(x) * sigmoid'(x):", x.grad)

    # 4. A generated optimizer step updates x in place, outside autograd.
    opt = generated_ops.SGD([x], lr=0.1, momentum=0.9)
    before = x.detach().clone()
    opt.step()
    assert torch.allclose(x.detach(), before - 0.1 * x.grad)
    print("after SGD step:", x.detach())
    return {"grad_twice": 2 * once, "x": x.detach()}


if __name__ == "__main__":
    main()
