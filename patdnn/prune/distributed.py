"""Running the training loop under `torchrun` (DistributedDataParallel) with no code changes.

torchrun sets WORLD_SIZE/RANK/LOCAL_RANK; with WORLD_SIZE > 1 we join the process group
(gloo on CPU, nccl on CUDA), wrap the model in DDP and give each rank its share of every batch
order. Every rank runs the same ADMM projections on the same (synchronised) weights, so ADMM
needs no extra communication; only rank 0 writes files and shows progress.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str) -> DistEnv:
    """The torchrun environment (joins the process group), or a single-process one."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistEnv()
    env = DistEnv(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device == "cuda" else "gloo")
    return env


def rank_device(device: str, env: DistEnv) -> torch.device:
    """cuda → this rank's GPU (LOCAL_RANK); cpu → cpu."""
    if device == "cuda":
        torch.cuda.set_device(env.local_rank)
        return torch.device("cuda", env.local_rank)
    return torch.device("cpu")


def wrap_model(model: torch.nn.Module, env: DistEnv, device: torch.device) -> torch.nn.Module:
    """DDP around `model` when distributed; the model itself otherwise."""
    if not env.distributed:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def sum_over_ranks(values: list[float], env: DistEnv) -> list[float]:
    """Element-wise sum of `values` over all ranks."""
    if not env.distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def barrier(env: DistEnv) -> None:
    if env.distributed:
        dist.barrier()


def shutdown(env: DistEnv) -> None:
    if env.distributed and dist.is_initialized():
        dist.destroy_process_group()
