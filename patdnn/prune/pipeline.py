"""The whole pruning pipeline, resumable: dense training → plan + library → ADMM → hard prune →
masked retraining.

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

from patdnn.data import load_dataset
from patdnn.models import get_model
from patdnn.prune.admm import SchemeAdmm, rho_schedule, scheme_constraints
from patdnn.prune.checkpoint import load_checkpoint, save_checkpoint
from patdnn.prune.distributed import DistEnv, barrier, init_distributed, rank_device, shutdown, wrap_model
from patdnn.prune.export import export_program, save_patterns
from patdnn.prune.hardprune import hard_prune
from patdnn.prune.library import parse_library_spec, select_library
from patdnn.prune.masks import MaskEnforcer, mask_violations, pattern_masks
from patdnn.prune.planning import DEFAULT_SPEC, MAPPED_SPECS, check_spec, plan_text, pruned_layers, resolve_plan
from patdnn.prune.report import build_report, format_report
from patdnn.prune.train import evaluate, recalibrate_batchnorm, train_epoch
from patdnn.sparsity.plan import Plan, save_plan
from patdnn.sparsity.scheme import SchemeKind, parse_scheme

PHASES = ("dense", "admm", "retrain", "done")
# Settings a resumed run must share with the checkpoint (the rest, e.g. epochs, may change).
RESUME_KEYS = (
    "model",
    "data",
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
    model: str = "resnet20-cifar"
    data: str = "fashion-mnist"
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
    input_size: int | None = None  # None: 32 for vgg16-cifar (five 2x2 pools), else 28
    train_limit: int | None = None
    test_limit: int | None = None
    device: str = "cpu"
    threads: int | None = None
    seed: int = 0
    restart: bool = False

    def resolved_input_size(self) -> int:
        return self.input_size or (32 if self.model.startswith("vgg") else 28)

    def settings(self) -> dict[str, Any]:
        d = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}
        d["input_size"] = self.resolved_input_size()
        return d


def build_model(name: str, data: str) -> torch.nn.Module:
    """A model for `data` (its class count, 1 input channel)."""
    try:
        return get_model(name, num_classes=NUM_CLASSES[data], in_channels=1)
    except TypeError:
        raise ValueError(
            f"model {name!r} takes 3-channel ImageNet images; for {data} use resnet20-cifar or vgg16-cifar"
        ) from None


def make_optimizer(name: str, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}: expected sgd or adam")


def _pad(data: torch.utils.data.TensorDataset, size: int) -> torch.utils.data.TensorDataset:
    x, y = data.tensors
    extra = size - x.shape[-1]
    if extra <= 0:
        return data
    before = extra // 2
    x = torch.nn.functional.pad(x, (before, extra - before, before, extra - before), value=float(x.min()))
    return torch.utils.data.TensorDataset(x, y)


@dataclass
class _PhaseHooks:
    """What a phase adds to plain training."""

    begin_epoch: Callable[[int], None] = lambda epoch: None
    penalty: Callable[[], torch.Tensor] | None = None
    after_step: Callable[[int, torch.optim.Optimizer], None] = lambda step, optimizer: None
    epoch_notes: Callable[[], dict[str, Any]] = lambda: {}
    state: Callable[[], dict[str, Any]] = lambda: {}


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
        torch.manual_seed(config.seed)
        self.model = build_model(config.model, config.data).to(self.device)
        self.trainable = wrap_model(self.model, self.env, self.device)
        size = config.resolved_input_size()
        self.train = _pad(load_dataset(config.data, "train", config.train_limit), size)
        self.test = _pad(load_dataset(config.data, "test", config.test_limit), size)
        # rule / search map the trained dense model (after the dense phase); the others only need
        # the architecture, so a bad plan fails now, not after training
        self.plan: Plan | None = None if config.schemes in MAPPED_SPECS else self._resolve_plan()
        self.state = self._initial_state()
        if self.plan is None and self.state.get("plan") is not None:
            self.plan = {name: parse_scheme(text) for name, text in self.state["plan"].items()}
        if self.env.distributed:
            self.log(f"ranks: {self.env.world_size} ({torch.distributed.get_backend()})")
        self.started, self.elapsed_before = time.monotonic(), self.state["elapsed"]

    # -- bookkeeping ---------------------------------------------------------------------------

    def log(self, message: str) -> None:
        if self.env.is_main:
            self._log(message)
            with open(self.out / "train.log", "a") as f:
                f.write(message + "\n")

    def _initial_state(self) -> dict[str, Any]:
        settings = self.config.settings()
        state = None if self.config.restart else load_checkpoint(self.out / "checkpoint.pt")
        if state is None:
            return {
                "phase": "dense",
                "epoch": 0,
                "history": [],
                "accuracy": {},
                "library": None,
                "patterns": None,
                "elapsed": 0.0,
                "settings": settings,
            }
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
        state["settings"] = settings
        return state

    def save(self, **updates: Any) -> None:
        self.state.update(updates)
        self.state["model"] = self.model.state_dict()
        if self.env.is_main:
            self.state["elapsed"] = self.elapsed()
            save_checkpoint(self.out / "checkpoint.pt", self.state)
        barrier(self.env)

    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.started

    def _resolve_plan(self) -> Plan:
        c = self.config
        size = c.resolved_input_size()
        # the search's candidates and choices go to OUTDIR/search.json (one rank writes)
        options = {"progress": False, "log": self.out / "search.json" if self.env.is_main else None}
        return resolve_plan(c.schemes, self.model, c.connectivity, c.rate, (1, 1, size, size), options)

    def accuracy(self) -> float:
        return evaluate(self.model, self.test, self.device, self.env)

    def next_phase(self, phase: str, **updates: Any) -> None:
        self.state.pop("optimizer", None)
        self.state.pop("scheduler", None)
        self.save(phase=phase, epoch=0, **updates)

    # -- one training phase -------------------------------------------------------------------

    def train_phase(self, phase: str, epochs: int, lr: float, hooks: _PhaseHooks, cosine: bool = True) -> None:
        """`cosine`: decay the learning rate to 0 over the phase (else keep it constant)."""
        c = self.config
        optimizer = make_optimizer(c.optimizer, self.model.parameters(), lr, c.weight_decay)
        scheduler = (
            torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
            if cosine
            else torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
        )
        if "optimizer" in self.state:
            optimizer.load_state_dict(self.state["optimizer"])
            scheduler.load_state_dict(self.state["scheduler"])
        for epoch in range(self.state["epoch"], epochs):
            hooks.begin_epoch(epoch)
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
                hooks.penalty,
                lambda step: hooks.after_step(step, optimizer),
                f"{phase} {epoch + 1}/{epochs}",
            )
            scheduler.step()
            accuracy = self.accuracy()
            record = {
                "phase": phase,
                "epoch": epoch + 1,
                "loss": round(loss, 5),
                "test_accuracy": accuracy,
                "seconds": round(time.monotonic() - start, 1),
                **hooks.epoch_notes(),
            }
            self.state["history"].append(record)
            self.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
            self.save(
                epoch=epoch + 1, optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(), **hooks.state()
            )

    # -- the phases ---------------------------------------------------------------------------

    def dense(self) -> None:
        c = self.config
        if c.dense_checkpoint is not None:
            loaded = torch.load(c.dense_checkpoint, map_location="cpu", weights_only=False)
            try:
                self.model.load_state_dict(loaded.get("model", loaded) if isinstance(loaded, dict) else loaded)
            except (RuntimeError, AttributeError, TypeError) as e:
                first = str(e).strip().splitlines()[0]
                raise ValueError(f"{c.dense_checkpoint} does not fit {c.model}: {first}") from None
            self.log(f"dense model loaded from {c.dense_checkpoint}")
        else:
            self.train_phase("dense", c.dense_epochs, c.lr, _PhaseHooks())
        self.state["accuracy"]["dense"] = self.accuracy()
        self.log(f"dense test accuracy {self.state['accuracy']['dense']:.2f}%")
        if self.env.is_main:
            torch.save({"model": self.model.state_dict(), "settings": self.state["settings"]}, self.out / "dense.pt")
        if self.plan is None:
            self.plan = self._resolve_plan()
        kinds = {s.kind for s in pruned_layers(self.plan).values()}
        self.log(
            f"plan ({c.schemes}): "
            + ", ".join(f"{sum(s.kind == kind for s in self.plan.values())} {kind}" for kind in SchemeKind)
        )
        library = None
        if SchemeKind.PATTERN in kinds:
            library = select_library(self.model, c.patterns, c.entries)
            self.log(f"pattern library: {len(library)} patterns of {c.entries} entries")
        self.next_phase("admm", library=library, plan=plan_text(self.plan))

    def admm(self) -> None:
        c = self.config
        rhos = rho_schedule(c.rho_init, c.rho_max, c.admm_epochs)
        assert self.plan is not None
        modules, library = dict(self.model.named_modules()), self.state["library"]
        admm = SchemeAdmm(
            {name: modules[name] for name in pruned_layers(self.plan)},
            {name: scheme_constraints(s, library) for name, s in pruned_layers(self.plan).items()},
            c.rho_init,
        )
        if self.state.get("admm") is not None:
            admm.load_state_dict(self.state["admm"])
        steps = math.ceil(len(self.train) // self.env.world_size / max(1, c.batch_size // self.env.world_size))
        interval = max(1, steps // max(1, c.admm_updates_per_epoch))

        def after_step(step: int, _optimizer) -> None:
            if (step + 1) % interval == 0:
                admm.step()

        hooks = _PhaseHooks(
            begin_epoch=lambda epoch: admm.set_rho(rhos[epoch]),
            penalty=admm.penalty,
            after_step=after_step,
            epoch_notes=lambda: {"rho": admm.rho, **{f"residual_{k}": v for k, v in admm.residuals_by_kind().items()}},
            state=lambda: {"admm": admm.state_dict()},
        )
        # Constant learning rate: with a decayed one W stops following the Z's as ρ grows.
        self.train_phase("admm", c.admm_epochs, c.admm_lr, hooks, cosine=False)
        self.state["accuracy"]["admm"] = self.accuracy()
        patterns, block_masks = hard_prune(self.model, self.plan, library)
        recalibrate_batchnorm(self.model, self.train, self.device, self.env)
        self.state["accuracy"]["hard_pruned"] = self.accuracy()
        self.log(
            f"after ADMM {self.state['accuracy']['admm']:.2f}%, hard-pruned "
            f"{self.state['accuracy']['hard_pruned']:.2f}%"
        )
        self.next_phase("retrain", patterns=patterns, block_masks=block_masks, admm=None)

    def retrain(self) -> None:
        c = self.config
        masks = {**pattern_masks(self.state["patterns"]), **self.state.get("block_masks", {})}
        enforcer = MaskEnforcer(self.model, masks)
        hooks = _PhaseHooks(after_step=lambda step, optimizer: enforcer.after_step(optimizer))
        self.train_phase("retrain", c.retrain_epochs, c.retrain_lr, hooks)
        enforcer.remove()
        violations = mask_violations(self.model, masks)
        if violations:
            raise RuntimeError(f"masked retraining left {violations} pruned weights non-zero")
        self.state["accuracy"]["pruned"] = self.accuracy()
        self.next_phase("done")

    def finish(self) -> dict[str, Any]:
        patterns, plan = self.state["patterns"], self.plan
        assert plan is not None
        report = build_report(
            self.model,
            plan,
            patterns,
            self.state.get("block_masks", {}),
            self.state["accuracy"],
            self.state["settings"],
            self.state["history"],
            self.elapsed(),
        )
        if self.env.is_main:
            torch.save(self.model.state_dict(), self.out / "pruned.pt")
            save_patterns(self.out / "patterns.npz", patterns)
            save_plan(plan, self.out / "schemes.json")
            size = self.config.resolved_input_size()
            export_program(self.model.cpu(), torch.zeros(1, 1, size, size), self.out / "model.pt2")
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
