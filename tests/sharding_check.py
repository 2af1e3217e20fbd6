"""The generated ops on DTensors: each result and gradient against torch's on the full tensors.

Run by tests/test_sharding.py as

    torchrun --standalone --nproc_per_node 2 tests/sharding_check.py

(gloo, CPU). Every rank checks; rank 0 prints one line per case.
"""

from __future__ import annotations

import os
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.distributed.tensor import (
    DeviceMesh,
    Partial,
    Replicate,
    Shard,
    distribute_tensor,
)

import generated_ops as G


def leaf(t: torch.Tensor, mesh, placement) -> torch.Tensor:
    return distribute_tensor(t.detach().clone(), mesh, [placement]).requires_grad_()


def check(name: str, ours, theirs, rank: int) -> None:
    ours = ours.full_tensor() if hasattr(ours, "full_tensor") else ours
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5, msg=lambda m: f"{name}: {m}")
    if rank == 0:
        print(f"ok  {name}")


def run(fn, peer, inputs, placements, mesh, rank, name, expect, grad_of=None):
    """fn on DTensors placed as `placements`, peer on the full tensors: the result's placement (the
    sharding rule ran where the inputs lie, nothing was gathered first), its values, then the
    gradients of a weighted sum of the result with respect to the floating inputs."""
    grad_of = grad_of if grad_of is not None else [i for i, t in enumerate(inputs) if t.is_floating_point()]
    ours_in = [leaf(t, mesh, p) if i in grad_of else distribute_tensor(t, mesh, [p]) for i, (t, p)
               in enumerate(zip(inputs, placements))]
    theirs_in = [t.detach().clone().requires_grad_(i in grad_of) for i, t in enumerate(inputs)]
    ours, theirs = fn(*ours_in), peer(*theirs_in)
    assert tuple(ours.placements) == (expect,), f"{name}: placed {ours.placements}, expected {expect}"
    check(name, ours, theirs.detach(), rank)
    # Distinct nonzero weights (a scalar result gets 1): every gradient element is checked, none is 0.
    weight = (torch.arange(theirs.numel(), dtype=theirs.dtype) + 1).reshape(theirs.shape) / theirs.numel()
    (ours * distribute_tensor(weight, mesh, [Replicate()])).sum().backward()
    (theirs * weight).sum().backward()
    for i in grad_of:
        check(f"{name} d/d{i}", ours_in[i].grad, theirs_in[i].grad, rank)


def main() -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    mesh = DeviceMesh("cpu", list(range(dist.get_world_size())))
    torch.manual_seed(0)
    x = torch.randn(8, 6, 10)
    y = torch.randn(8, 6, 10)
    b = torch.randn(10)
    w = torch.randn(10)
    target = torch.randint(0, 10, (8, 6))

    # elementwise: both operands sharded alike; a broadcast operand replicated (its gradient a partial sum)
    run(G.add, torch.add, [x, y], [Shard(0), Shard(0)], mesh, rank, "add, rows sharded", Shard(0))
    run(G.mul, torch.mul, [x, b], [Shard(2), Shard(0)], mesh, rank, "mul, last dim sharded, both operands", Shard(2))
    run(G.mul, torch.mul, [x, b], [Shard(0), Replicate()], mesh, rank, "mul, broadcast operand replicated", Shard(0))
    run(G.gelu, lambda t: F.gelu(t), [x], [Shard(1)], mesh, rank, "gelu, dim 1 sharded", Shard(1))
    # rowwise: rows sharded along any dim but the last; column inputs replicated
    run(G.softmax, lambda t: torch.softmax(t, -1), [x], [Shard(0)], mesh, rank, "softmax, dim 0 sharded", Shard(0))
    run(G.layer_norm, lambda t, w_, b_: F.layer_norm(t, [10], w_, b_), [x, w, b],
        [Shard(1), Replicate(), Replicate()], mesh, rank, "layer_norm, weight and bias replicated", Shard(1))
    run(lambda t: G.sum(t), lambda t: t.sum(-1), [x], [Shard(0)], mesh, rank, "sum over rows, dim 0 sharded", Shard(0))
    run(lambda t, u: G.cross_entropy(t.flatten(0, 1), u.flatten()),
        lambda t, u: F.cross_entropy(t.flatten(0, 1), u.flatten()),
        [x, target], [Shard(0), Shard(0)], mesh, rank, "cross_entropy, default reduction (mean)", Replicate())
    for reduction in ("none", "sum", "mean"):
        run(lambda t, u, r=reduction: G.cross_entropy(t.flatten(0, 1), u.flatten(), reduction=r),
            lambda t, u, r=reduction: F.cross_entropy(t.flatten(0, 1), u.flatten(), reduction=r),
            [x, target], [Shard(0), Shard(0)], mesh, rank, f"cross_entropy reduction={reduction}",
            {"none": Shard(0), "sum": Partial(), "mean": Replicate()}[reduction])
    dist.barrier()
    dist.destroy_process_group()
    print(f"rank {rank} done", flush=True)


if __name__ == "__main__":
    main()
    # Leave without interpreter finalization: gloo's worker threads can outlive it and abort the process
    # ("terminate called without an active exception") after every check has passed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
