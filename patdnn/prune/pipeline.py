"""The whole pruning pipeline, resumable: dense training → plan + library → ADMM → hard prune →
masked retraining, on any model and data (`--model NAME | FILE.py:FUNCTION | MODEL.pt`,
`--data fashion-mnist | imagefolder:DIR | FILE.py:FUNCTION`).

The pruning itself is a `patdnn.prune.pruner.Pruner` (the API a user's own loop uses); this
driver adds the data, DistributedDataParallel, per-epoch checkpoints, the report and the outputs.

The plan (`--schemes`, see `patdnn.prune.planning`) gives each conv/linear layer its scheme:
pattern (PatDNN), block (Gong et al.) or dense; ADMM, hard pruning, masks and the report follow
it per layer. Each phase runs epoch by epoch; after every epoch the state (phase, epoch, model,
optimizer, scheduler, ADMM variables, plan, library/patterns/block masks, history) is saved to
OUTDIR/checkpoint.pt, so a killed run continues where it stopped when started again with the
same settings.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from patdnn.data.sources import FASHION_MNIST, DataSplits, load_data
from patdnn.prune.checkpoint import load_checkpoint, save_checkpoint
from patdnn.prune.distributed import DistEnv, barrier, init_distributed, rank_device, shutdown, wrap_model
from patdnn.prune.library import parse_library_spec
from patdnn.prune.planning import DEFAULT_SPEC, check_spec, plan_text
from patdnn.prune.pruner import PHASES, Pruner, phase_optimizer, save_outputs, spec_from
from patdnn.prune.report import build_report, format_report
from patdnn.prune.train import evaluate, recalibrate_batchnorm, train_epoch
from patdnn.prune.usermodel import build_model as build_user_model
from patdnn.prune.usermodel import check_fits, load_weights
from patdnn.sparsity.plan import Plan
from patdnn.sparsity.scheme import SchemeKind

# Settings a resumed run must share with the checkpoint (the rest, e.g. epochs, may change).
RESUME_KEYS = (
    "model",
    "checkpoint",
    "data",
    "resize",
    "crop",
    "mean",
    "std",
    "patterns",
    "entries",
    "connectivity",
    "schemes",
    "rate",
    "input_size",
    "train_limit",
    "seed",
)
NUM_CLASSES = {"fashion-mnist": 10}


@dataclass
class PruneConfig:
    output: Path
    # a built-in name, FILE.py:FUNCTION or a module saved whole (patdnn.prune.usermodel)
    model: str = "resnet20-cifar"
    checkpoint: Path | None = None  # initial weights of the model (then dense_epochs of training)
    # fashion-mnist, imagefolder:DIR or FILE.py:FUNCTION (patdnn.data.sources)
    data: str = "fashion-mnist"
    resize: int | None = None  # imagefolder: shorter side resized to this
    crop: int | None = None  # imagefolder: centre crop
    mean: tuple[float, ...] | None = None  # imagefolder: per-channel normalisation (default: measured)
    std: tuple[float, ...] | None = None
    patterns: str = "8"  # library: a count K, a fixed library name, or a .npy file
    entries: int = 4  # kept weights per 3x3 kernel
    connectivity: float = 3.6  # kernels kept per layer: 1 / connectivity
    schemes: str = DEFAULT_SPEC  # the plan: patterns, blocks:RxC:RATE, rule, search, or a .json/.lr file
    rate: float | None = None  # overall weight compression target of rule / search
    dense_epochs: int = 4
    admm_epochs: int = 3
    retrain_epochs: int = 3
    dense_checkpoint: Path | None = None
    optimizer: str = "sgd"
    lr: float = 0.1
    admm_lr: float = 0.01
    retrain_lr: float = 0.01
    weight_decay: float = 5e-4
    batch_size: int = 128
    # ρ must come to dominate the loss curvature, and lr·ρ·(steps between ADMM steps) ≫ 1 so W
    # follows Z − U and Y − V; a smaller ρ leaves the duals to grow while W stays put.
    rho_init: float = 0.05
    rho_max: float = 2.0
    admm_updates_per_epoch: int = 2
    input_size: int | None = None  # Fashion-MNIST padding; None: 32 for vgg16-cifar (five 2x2 pools), else 28
    train_limit: int | None = None
    test_limit: int | None = None
    device: str = "cpu"
    threads: int | None = None
    seed: int = 0
    restart: bool = False

    def resolved_input_size(self) -> int | None:
        if self.data != FASHION_MNIST:
            return self.input_size  # other data: its own size (--resize / --crop)
        return self.input_size or (32 if self.model.startswith("vgg") else 28)

    def settings(self) -> dict[str, Any]:
        d = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}
        d["input_size"] = self.resolved_input_size()
        for key in ("mean", "std"):
            d[key] = list(d[key]) if d[key] is not None else None
        return d


def build_model(
    name: str,
    data: str = FASHION_MNIST,
    in_channels: int | None = None,
    num_classes: int | None = None,
    checkpoint: Path | None = None,
) -> torch.nn.Module:
    """The model `name` names (see `patdnn.prune.usermodel`) for `data` (Fashion-MNIST: 1 input
    channel, 10 classes), with the weights of `checkpoint` if given."""
    if data in NUM_CLASSES:
        in_channels, num_classes = in_channels or 1, num_classes or NUM_CLASSES[data]
    model = build_user_model(name, in_channels, num_classes)
    if checkpoint is not None:
        load_weights(model, checkpoint, name)
    return model


class _Run:
    def __init__(self, config: PruneConfig, log: Callable[[str], None]):
        self.config = config
        parse_library_spec(config.patterns, config.entries)  # a bad library fails now, not after training
        check_spec(config.schemes, config.rate)
        self.env: DistEnv = init_distributed(config.device)
        self.device = rank_device(config.device, self.env)
        self.out = Path(config.output)
        self._log = log
        if self.env.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            if config.restart:
                (self.out / "train.log").unlink(missing_ok=True)
        barrier(self.env)
        # Fashion-MNIST's shape is known without reading it (a wrong model fails first); other
        # data give the model its input channels and class count
        splits = None if config.data == FASHION_MNIST else self._load_data()
        channels, classes = (
            (1, NUM_CLASSES[FASHION_MNIST]) if splits is None else (splits.input_shape[0], splits.num_classes)
        )
        torch.manual_seed(config.seed)
        self.model = build_model(config.model, config.data, channels, classes, config.checkpoint).to(self.device)
        self.trainable = wrap_model(self.model, self.env, self.device)
        self.splits = splits or self._load_data()
        self.train, self.test = self.splits.train, self.splits.test
        self.input_shape = (1, *self.splits.input_shape)
        check_fits(self.model, self.splits.input_shape, self.splits.num_classes, config.model)
        # rule / search map the trained dense model (after the dense phase); the others only need
        # the architecture, so a bad plan fails now, not after training
        self.pruner = Pruner(
            self.model,
            spec_from(config),
            input_shape=self.input_shape,
            steps_per_epoch=math.ceil(
                len(self.train) // self.env.world_size / max(1, config.batch_size // self.env.world_size)
            ),
            calibration=lambda: recalibrate_batchnorm(self.model, self.train, self.device, self.env),
            schedule=False,  # this driver switches phases (and saves a checkpoint after each epoch)
            # the search's candidates and choices go to OUTDIR/search.json (one rank writes)
            mapper_options={"progress": False, "log": self.out / "search.json" if self.env.is_main else None},
        )
        self.state = self._initial_state()
        if self.env.distributed:
            self.log(f"ranks: {self.env.world_size} ({torch.distributed.get_backend()})")
        self.started, self.elapsed_before = time.monotonic(), self.state["elapsed"]

    def _load_data(self) -> DataSplits:
        c = self.config
        return load_data(
            c.data,
            input_size=c.resolved_input_size(),
            resize=c.resize,
            crop=c.crop,
            mean=c.mean,
            std=c.std,
            train_limit=c.train_limit,
            test_limit=c.test_limit,
        )

    # -- bookkeeping ---------------------------------------------------------------------------

    def log(self, message: str) -> None:
        if self.env.is_main:
            self._log(message)
            with open(self.out / "train.log", "a") as f:
                f.write(message + "\n")

    @property
    def plan(self) -> Plan | None:
        return self.pruner.plan

    def _initial_state(self) -> dict[str, Any]:
        settings = self.config.settings()
        state = None if self.config.restart else load_checkpoint(self.out / "checkpoint.pt")
        if state is None:
            return {"history": [], "accuracy": {}, "elapsed": 0.0, "settings": settings, **self.pruner.state_dict()}
        defaults = {f.name: f.default for f in dataclasses.fields(PruneConfig)}  # keys older runs lack
        changed = [k for k in RESUME_KEYS if state["settings"].get(k, defaults.get(k)) != settings[k]]
        if not changed and self.plan is not None and state.get("plan") not in (None, plan_text(self.plan)):
            changed = [f"plan (the layers' schemes in {self.config.schemes})"]
        if changed:
            raise ValueError(
                f"{self.out / 'checkpoint.pt'} was made with different {', '.join(changed)}: "
                f"use the same settings to resume, or --restart"
            )
        self.model.load_state_dict(state["model"])
        self.pruner.load_state_dict(state)
        state["settings"] = settings
        return state

    def save(self, **updates: Any) -> None:
        self.state.update(self.pruner.state_dict())
        self.state.update(updates)
        self.state["model"] = self.model.state_dict()
        if self.env.is_main:
            self.state["elapsed"] = self.elapsed()
            save_checkpoint(self.out / "checkpoint.pt", self.state)
        barrier(self.env)

    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.started

    def accuracy(self) -> float:
        return evaluate(self.model, self.test, self.device, self.env)

    def next_phase(self) -> None:
        """Saves the pruner's new phase (epoch 0, a fresh optimizer)."""
        self.state.pop("optimizer", None)
        self.state.pop("scheduler", None)
        self.save()

    # -- one training phase -------------------------------------------------------------------

    def train_phase(self, phase: str) -> None:
        c, pruner = self.config, self.pruner
        epochs = pruner.spec.epochs(phase)
        optimizer, scheduler = phase_optimizer(pruner.spec, phase, self.model.parameters())
        if "optimizer" in self.state:
            optimizer.load_state_dict(self.state["optimizer"])
            scheduler.load_state_dict(self.state["scheduler"])
        for epoch in range(self.state["epoch"], epochs):
            pruner.begin_epoch(epoch)
            start = time.monotonic()
            loss = train_epoch(
                self.trainable,
                self.train,
                optimizer,
                self.device,
                self.env,
                epoch,
                c.batch_size,
                c.seed + PHASES.index(phase),
                pruner.penalty if phase == "admm" else None,
                lambda step: pruner.after_step(optimizer),
                f"{phase} {epoch + 1}/{epochs}",
            )
            notes = pruner.notes()
            pruner.end_epoch()
            scheduler.step()
            accuracy = self.accuracy()
            record = {
                "phase": phase,
                "epoch": epoch + 1,
                "loss": round(loss, 5),
                "test_accuracy": accuracy,
                "seconds": round(time.monotonic() - start, 1),
                **notes,
            }
            self.state["history"].append(record)
            self.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
            self.save(optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict())

    # -- the phases ---------------------------------------------------------------------------

    def dense(self) -> None:
        c = self.config
        if c.dense_checkpoint is not None:
            load_weights(self.model, c.dense_checkpoint, c.model)
            self.log(f"dense model loaded from {c.dense_checkpoint}")
        else:
            self.train_phase("dense")
        self.state["accuracy"]["dense"] = self.accuracy()
        self.log(f"dense test accuracy {self.state['accuracy']['dense']:.2f}%")
        if self.env.is_main:
            torch.save({"model": self.model.state_dict(), "settings": self.state["settings"]}, self.out / "dense.pt")
        self.pruner.start_admm()  # the plan (rule / search: mapped now), the library, ADMM's Z's
        plan = self.pruner.plan
        assert plan is not None
        self.log(
            f"plan ({c.schemes}): "
            + ", ".join(f"{sum(s.kind == kind for s in plan.values())} {kind}" for kind in SchemeKind)
        )
        if self.pruner.library is not None:
            self.log(f"pattern library: {len(self.pruner.library)} patterns of {c.entries} entries")
        self.next_phase()

    def admm(self) -> None:
        self.train_phase("admm")
        self.state["accuracy"]["admm"] = self.accuracy()
        self.pruner.hard_prune()  # + BatchNorm statistics re-estimated
        self.state["accuracy"]["hard_pruned"] = self.accuracy()
        self.log(
            f"after ADMM {self.state['accuracy']['admm']:.2f}%, hard-pruned "
            f"{self.state['accuracy']['hard_pruned']:.2f}%"
        )
        self.next_phase()

    def retrain(self) -> None:
        self.train_phase("retrain")
        self.pruner.finish()  # raises if a pruned weight is non-zero
        self.state["accuracy"]["pruned"] = self.accuracy()
        self.next_phase()

    def finish(self) -> dict[str, Any]:
        patterns, plan = self.pruner.patterns, self.plan
        assert plan is not None
        report = build_report(
            self.model,
            plan,
            patterns,
            self.pruner.block_masks,
            self.state["accuracy"],
            self.state["settings"],
            self.state["history"],
            self.elapsed(),
        )
        if self.env.is_main:
            save_outputs(self.model, plan, patterns, self.out, torch.zeros(self.input_shape))
            (self.out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
            table = format_report(report)
            (self.out / "report.txt").write_text(table + "\n")
            self.log(table)
            with_patterns = f" --patterns {self.out}/patterns.npz" if patterns else ""
            self.log(
                f"compile with: patdnnc {self.out}/model.pt2{with_patterns} --schemes {self.out}/schemes.json -o build/"
            )
        return report


def run_pruning(config: PruneConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Runs (or resumes) the pipeline; writes OUTDIR/{dense.pt, pruned.pt, patterns.npz, schemes.json,
    model.pt2, report.json, report.txt, train.log, checkpoint.pt}; returns the report."""
    if config.threads:
        torch.set_num_threads(config.threads)
    run = _Run(config, log)
    try:
        phases = {"dense": run.dense, "admm": run.admm, "retrain": run.retrain}
        while run.state["phase"] != "done":
            phases[run.state["phase"]]()
        return run.finish()
    finally:
        shutdown(run.env)
