"""Data-parallel training with generated ops: the digits MLP of train_digits.py (generated
fused_linear_relu, linear, cross_entropy and Adam) on several processes through torch.distributed,
wrapped in DistributedDataParallel (--fsdp: FSDP2's fully_shard instead). Each process trains on its own
shard of every batch; DDP averages the gradients, so the replicas stay equal. On CPU it uses gloo, on
GPUs nccl (one process per GPU).

    torchrun --standalone --nproc-per-node 2 examples/train_ddp.py             # 2 CPU processes, gloo
    torchrun --standalone --nproc-per-node 2 examples/train_ddp.py --fsdp      # FSDP2 instead of DDP

Rank 0 prints the loss of the first and the last epoch, the test accuracy, and whether every replica
ended with the same parameters (it checks by gathering a checksum of every process's parameters).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import generated_ops

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_digits import MLP, accuracy, load  # noqa: E402  (the same model and data)


def _checksum(model: torch.nn.Module) -> torch.Tensor:
    """One float64 per parameter tensor (its sum and sum of squares), full tensors even under FSDP."""
    values = []
    for p in model.parameters():
        full = p.full_tensor() if hasattr(p, "full_tensor") else p.detach()
        values += [full.double().sum(), full.double().square().sum()]
    return torch.stack(values)


def train(epochs: int, batch_size: int, lr: float, seed: int, fsdp: bool) -> dict:
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if torch.cuda.is_available() \
        else torch.device("cpu")
    torch.manual_seed(seed)  # the same initial parameters on every process (DDP also broadcasts rank 0's)
    x_train, y_train, x_test, y_test = (t.to(device) for t in load(seed))
    model = MLP().to(device)
    if fsdp:
        from torch.distributed.fsdp import fully_shard

        fully_shard(model)
        net = model
    else:
        net = DistributedDataParallel(model)
    opt = generated_ops.Adam(net.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed + epoch)).to(device)
        total, batches = torch.zeros((), device=device), 0
        for i in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[i:i + batch_size][rank::world]  # this process's share of the global batch
            loss = generated_ops.cross_entropy(net(x_train[idx]), y_train[idx], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, batches = total + loss.detach(), batches + 1
        dist.all_reduce(total)
        losses.append(total.item() / batches / world)
    sums = _checksum(model)
    gathered = [torch.empty_like(sums) for _ in range(world)]
    dist.all_gather(gathered, sums)
    same = all(torch.equal(gathered[0], g) for g in gathered[1:])
    with torch.no_grad():
        acc = accuracy(net, x_test, y_test) if not fsdp else accuracy(model, x_test, y_test)
    return {"first_loss": losses[0], "last_loss": losses[-1], "test_accuracy": acc, "replicas_equal": same,
            "world_size": world}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch, split over the processes")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fsdp", action="store_true", help="shard with FSDP2's fully_shard instead of DDP")
    args = parser.parse_args()
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        result = train(args.epochs, args.batch_size, args.lr, args.seed, args.fsdp)
        if dist.get_rank() == 0:
            print(f"{'FSDP2' if args.fsdp else 'DDP'} on {result['world_size']} processes: loss "
                  f"{result['first_loss']:.4f} -> {result['last_loss']:.4f}, test accuracy "
                  f"{result['test_accuracy']:.4f}, replicas equal: {result['replicas_equal']}")
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
    # Leave without interpreter finalization: gloo's worker threads can outlive it and abort the process
    # ("terminate called without an active exception") after training has finished and been reported.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
