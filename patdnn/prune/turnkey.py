"""`prune_model`: the whole PatDNN method on a user's module and data in one call.

Dense training (optional) → library + plan → extended ADMM → hard pruning (+ BatchNorm
re-estimated) → masked retraining, each phase with a fresh optimizer (`PruneSpec`: cosine
learning rate for dense and retraining, constant for ADMM), all through a `Pruner`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F

from patdnn.prune.pruner import Pruner, PruneResult, PruneSpec, phase_optimizer, top1_accuracy


def _split(batch: Any) -> tuple[torch.Tensor, Any]:
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return batch[0], batch[1]
    raise ValueError(f"a training batch is (input, target, ...), got {type(batch).__name__}")


def prune_model(
    model: torch.nn.Module,
    train: Iterable,
    val: Iterable | None = None,
    loss_fn: Callable[[torch.Tensor, Any], torch.Tensor] = F.cross_entropy,
    spec: PruneSpec | None = None,
    *,
    metric: Callable[[torch.nn.Module, Iterable], float] | None = None,
    input_shape: tuple[int, ...] | None = None,
    log: Callable[[str], None] | None = None,
) -> PruneResult:
    """Prunes `model` in place on `train` (any re-iterable of (input, target) batches, e.g. a
    DataLoader) and returns a `PruneResult` (the model, plan, library, pattern ids, block masks,
    metrics per phase, per-epoch history). `metric(model, val)` scores each phase (default:
    top-1 accuracy in % when `val` is given); `input_shape` (default: the first batch's, batch 1)
    is what rule / search map the model at."""
    spec = spec or PruneSpec()
    if metric is None and val is not None:
        metric = top1_accuracy
    device = next(model.parameters()).device
    if input_shape is None:
        x, _ = _split(next(iter(train)))
        input_shape = (1, *x.shape[1:])
    steps = len(train) if hasattr(train, "__len__") else None  # type: ignore[arg-type]
    pruner = Pruner(model, spec, input_shape=input_shape, steps_per_epoch=steps, calibration=train, schedule=False)
    metrics: dict[str, float] = {}
    history: list[dict[str, Any]] = []

    def score(name: str) -> float | None:
        if metric is None or val is None:
            return None
        metrics[name] = value = float(metric(model, val))
        return value

    def phase(name: str) -> None:
        epochs = spec.epochs(name)
        optimizer, scheduler = phase_optimizer(spec, name, model.parameters())
        for epoch in range(epochs):
            start, loss_sum, count = time.monotonic(), 0.0, 0
            pruner.begin_epoch(epoch)
            model.train()
            for batch in train:
                x, y = _split(batch)
                x = x.to(device)
                y = y.to(device) if isinstance(y, torch.Tensor) else y
                loss = loss_fn(model(x), y)
                objective = pruner.loss(loss)
                optimizer.zero_grad(set_to_none=True)
                objective.backward()
                optimizer.step()
                pruner.after_step(optimizer)
                loss_sum, count = loss_sum + float(loss.detach()), count + 1
            notes = pruner.notes()
            pruner.end_epoch()
            scheduler.step()
            record = {"phase": name, "epoch": epoch + 1, "loss": loss_sum / max(count, 1), **notes}
            value = score("_epoch")
            if value is not None:
                record["metric"] = value
            record["seconds"] = round(time.monotonic() - start, 2)
            history.append(record)
            if log is not None:
                log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))

    phase("dense")
    score("dense")
    pruner.start_admm()
    phase("admm")
    score("admm")
    pruner.hard_prune()
    score("hard_pruned")
    phase("retrain")
    pruner.finish()
    score("pruned")
    metrics.pop("_epoch", None)
    return pruner.result(metrics, history)
