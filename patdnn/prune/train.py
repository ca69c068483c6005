"""The training loop shared by all phases (dense, ADMM, masked retraining) and evaluation.

Data are map-style datasets of (image, label): in-memory tensors (a TensorDataset, sliced
directly) or any dataset with __len__ / __getitem__ (an image folder, a user's dataset; items are
stacked). Each epoch draws one permutation (the same on every rank, seeded by the epoch) and each
rank takes every world_size-th batch element, so all ranks run the same number of steps (DDP needs
that).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, TensorDataset
from tqdm import tqdm

from patdnn.prune.distributed import DistEnv, sum_over_ranks


def take(data: Dataset, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The items at `index` as one (images, labels) batch."""
    if isinstance(data, TensorDataset):
        x, y = data.tensors
        return x[index], y[index]
    items = [data[int(i)] for i in index]
    return torch.stack([torch.as_tensor(x) for x, _ in items]), torch.tensor([int(y) for _, y in items])


def batches(
    data: Dataset, batch_size: int, env: DistEnv, epoch: int | None = None, seed: int = 0
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """This rank's share of the batches; shuffled by (seed, epoch) unless epoch is None."""
    size = len(data)
    n = size - size % env.world_size  # equal shares: no rank waits for a missing step
    if epoch is None:
        order = torch.arange(n)
    else:
        order = torch.randperm(size, generator=torch.Generator().manual_seed(seed * 100003 + epoch))[:n]
    mine = order[env.rank :: env.world_size]
    step = max(1, batch_size // env.world_size)
    for start in range(0, len(mine), step):
        yield take(data, mine[start : start + step])


def augment(x: torch.Tensor, shift: int = 2) -> torch.Tensor:
    """Random horizontal flips and random translations by up to `shift` pixels (zero-padded)."""
    n, _, h, w = x.shape
    flip = torch.rand(n, device=x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (shift, shift, shift, shift), value=float(x.min()))
    dy = torch.randint(0, 2 * shift + 1, (n,), device=x.device)
    dx = torch.randint(0, 2 * shift + 1, (n,), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    samples = torch.arange(n, device=x.device)[:, None, None, None]
    channels = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[samples, channels, rows, cols]


def train_epoch(
    model: torch.nn.Module,
    data: Dataset,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    env: DistEnv,
    epoch: int,
    batch_size: int = 128,
    seed: int = 0,
    penalty: Callable[[], torch.Tensor] | None = None,
    after_step: Callable[[int], None] | None = None,
    description: str = "train",
) -> float:
    """One epoch of SGD on cross-entropy (+ `penalty()`); `after_step(i)` runs after step i.
    Returns the mean training loss (cross-entropy only) over all ranks."""
    model.train()
    total_steps = -(-(len(data) // env.world_size) // max(1, batch_size // env.world_size))
    loss_sum, count = 0.0, 0
    # Redirected to a log file, a bar redrawn 10 times a second would bloat it.
    bar = tqdm(
        batches(data, batch_size, env, epoch, seed),
        total=total_steps,
        desc=description,
        disable=not env.is_main,
        leave=False,
        dynamic_ncols=True,
        mininterval=0.5 if sys.stderr.isatty() else 30.0,
    )
    for step, (x, y) in enumerate(bar):
        x, y = augment(x.to(device)), y.to(device)
        loss = F.cross_entropy(model(x), y)
        objective = loss + penalty() if penalty is not None else loss
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        optimizer.step()
        if after_step is not None:
            after_step(step)
        loss_sum += float(loss.detach()) * len(y)
        count += len(y)
        bar.set_postfix(loss=f"{loss_sum / count:.4f}")
    loss_sum, count = sum_over_ranks([loss_sum, count], env)
    return loss_sum / max(count, 1)


@torch.no_grad()
def evaluate(model: torch.nn.Module, data: Dataset, device: torch.device, env: DistEnv, batch_size: int = 512) -> float:
    """Top-1 accuracy in percent over the whole of `data` (shared out over the ranks)."""
    model.eval()
    correct, total = 0, 0
    for x, y in batches(data, batch_size, env):
        correct += int((model(x.to(device)).argmax(1) == y.to(device)).sum())
        total += len(y)
    if env.distributed:  # the tail that did not divide evenly: rank 0 counts it
        tail = len(data) % env.world_size
        if tail and env.is_main:
            x, y = take(data, torch.arange(len(data) - tail, len(data)))
            correct += int((model(x.to(device)).argmax(1) == y.to(device)).sum())
            total += tail
    correct, total = sum_over_ranks([correct, total], env)
    return 100.0 * correct / max(total, 1)


@torch.no_grad()
def recalibrate_batchnorm(
    model: torch.nn.Module,
    data: Dataset,
    device: torch.device,
    env: DistEnv,
    max_batches: int = 50,
    batch_size: int = 256,
) -> None:
    """Re-estimates BatchNorm running statistics (cumulative average over up to `max_batches`).

    Hard pruning changes every activation's statistics at once; the stale running means and
    variances would otherwise make the eval-mode model near-useless until retraining has
    replaced them."""
    recalibrate_batchnorm_on(model, (x for x, _ in batches(data, batch_size, env, epoch=0)), device, max_batches)
    model.train()


@torch.no_grad()
def recalibrate_batchnorm_on(
    model: torch.nn.Module, inputs: Iterable, device: torch.device | None = None, max_batches: int = 50
) -> None:
    """`recalibrate_batchnorm` over any iterable of input batches (or of (input, target, ...)
    batches: the first element is the input); the model's train/eval mode is kept."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    if device is None:
        device = next(model.parameters()).device
    saved, training = [m.momentum for m in norms], model.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
    model.train()
    for index, batch in enumerate(inputs):
        if index == max_batches:
            break
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        model(x.to(device))
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    model.train(training)
