"""A PyTorch Lightning callback that prunes the LightningModule with a `Pruner`.

Lightning is not a dependency: the class derives from `lightning.pytorch.Callback` (or
`pytorch_lightning.Callback`) when one is installed and is a plain object otherwise; it only
uses Lightning's hook names and `trainer.optimizers` / `trainer.num_training_batches` /
`trainer.train_dataloader`. Set `max_epochs` to `callback.spec`'s total epochs.

    callback = PruningCallback(PruneSpec(dense_epochs=0, admm_epochs=3, retrain_epochs=3))
    Trainer(max_epochs=6, callbacks=[callback]).fit(module, train_loader)
    result = callback.result()   # pruned module, plan, library, pattern ids
"""

from __future__ import annotations

import math
from typing import Any

from patdnn.prune.pruner import Pruner, PruneResult, PruneSpec

try:  # pragma: no cover - depends on what is installed
    from lightning.pytorch import Callback as _Base
except ImportError:  # pragma: no cover
    try:
        from pytorch_lightning import Callback as _Base
    except ImportError:
        _Base = object


class PruningCallback(_Base):  # type: ignore[misc, valid-type]
    """Prunes `pl_module` over the fit: `spec`'s dense → ADMM → retrain epochs. The ADMM penalty's
    gradient is added before each optimizer step (`on_before_optimizer_step`, after AMP
    unscaling); BatchNorm statistics are re-estimated on the training batches after hard pruning.
    `pruner_options` go to `Pruner` (e.g. input_shape for rule / search)."""

    def __init__(self, spec: PruneSpec | None = None, *, recalibrate: bool = True, **pruner_options: Any):
        super().__init__()
        self.spec = spec or PruneSpec()
        self.recalibrate = recalibrate
        self.pruner_options = pruner_options
        self.pruner: Pruner | None = None
        self._state: dict[str, Any] | None = None

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        steps = getattr(trainer, "num_training_batches", None)
        steps = int(steps) if isinstance(steps, (int, float)) and math.isfinite(steps) and steps > 0 else None
        calibration = (lambda: self._calibrate(trainer, pl_module)) if self.recalibrate else None
        options = {"steps_per_epoch": steps, "calibration": calibration, **self.pruner_options}
        self.pruner = Pruner(pl_module, self.spec, **options)
        if self._state is not None:  # restored from a Lightning checkpoint
            self.pruner.load_state_dict(self._state)
            self._state = None
        for optimizer in getattr(trainer, "optimizers", []):
            self.pruner.attach(optimizer)

    @staticmethod
    def _calibrate(trainer: Any, pl_module: Any) -> None:
        from patdnn.prune.train import recalibrate_batchnorm_on

        loader = getattr(trainer, "train_dataloader", None)
        if loader is not None:
            recalibrate_batchnorm_on(pl_module, loader)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        assert self.pruner is not None
        self.pruner.begin_epoch()

    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        assert self.pruner is not None
        self.pruner.add_penalty_grad()

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        assert self.pruner is not None
        self.pruner.end_epoch()

    def state_dict(self) -> dict[str, Any]:
        return self.pruner.state_dict() if self.pruner is not None else dict(self._state or {})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._state = dict(state_dict)

    def result(self) -> PruneResult:
        """The pruned module and the compiler's inputs (after the fit)."""
        if self.pruner is None:
            raise RuntimeError("PruningCallback.result(): the fit has not started")
        return self.pruner.result()
