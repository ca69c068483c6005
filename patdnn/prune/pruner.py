"""Pruning *your* model in *your* training loop: the `Pruner`.

A `Pruner` holds everything PatDNN's method adds to plain training, for any `nn.Module`:

  dense    nothing (train as usual, or start from trained weights: dense_epochs 0)
  admm     the plan (`--schemes` spec, resolved on the model) and the pattern library (from the
           trained weights), extended ADMM: the penalty ρ/2 Σ‖W − Z + U‖² (`loss(l)`, or added
           to the gradient by `add_penalty_grad()`), Z/U updates every `admm_interval` steps,
           ρ growing per epoch
  retrain  hard pruning (+ BatchNorm statistics re-estimated), then the masks enforced on the
           gradients (tensor hooks), the weights and every optimizer state tensor after each step
  done     masks checked; `result()` gives the pruned module, library, pattern ids and plan

`begin_epoch()` / `after_step(optimizer)` / `end_epoch()` are the three calls a loop makes
(`attach(optimizer)` makes the second one an optimizer step hook); with `schedule=True` (the
default) `end_epoch()` also switches phase after `dense_epochs`, `admm_epochs` and
`retrain_epochs`. A driver that switches phases itself (`patdnn prune`'s pipeline,
`prune_model`) passes `schedule=False` and calls `start_admm()`, `hard_prune()`, `finish()`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from patdnn.prune.admm import SchemeAdmm, rho_schedule, scheme_constraints
from patdnn.prune.export import export_program, save_patterns
from patdnn.prune.hardprune import hard_prune
from patdnn.prune.library import parse_library_spec, select_library
from patdnn.prune.masks import MaskEnforcer, mask_violations, pattern_masks
from patdnn.prune.planning import DEFAULT_SPEC, MAPPED_SPECS, check_spec, plan_text, pruned_layers, resolve_plan
from patdnn.prune.train import recalibrate_batchnorm_on
from patdnn.sparsity.patterns import PatternInfo
from patdnn.sparsity.plan import Plan, save_plan
from patdnn.sparsity.scheme import SchemeKind, parse_scheme

PHASES = ("dense", "admm", "retrain", "done")


@dataclass
class PruneSpec:
    """What to prune and how long; the training fields are used by `prune_model` (and the CLI)."""

    schemes: str = DEFAULT_SPEC  # patterns, blocks:RxC:RATE[:rows], rule, search, or a .json / .lr plan
    patterns: str | int = "8"  # library: a count K, a fixed library name, or a .npy file
    entries: int = 4  # kept weights per 3x3 kernel
    connectivity: float = 3.6  # pattern layers keep 1 / connectivity of their kernels
    rate: float | None = None  # overall weight compression target of rule / search
    dense_epochs: int = 0
    admm_epochs: int = 3
    retrain_epochs: int = 3
    rho_init: float = 0.05
    rho_max: float = 2.0
    admm_updates_per_epoch: int = 2
    # training (prune_model): "sgd" (momentum 0.9, Nesterov), "adam", or (params, lr) -> Optimizer
    optimizer: str | Callable[..., torch.optim.Optimizer] = "sgd"
    lr: float = 0.1  # dense, cosine decay
    admm_lr: float = 0.01  # constant: with a decayed one W stops following the Z's as ρ grows
    retrain_lr: float = 0.01  # cosine decay
    weight_decay: float = 5e-4

    def epochs(self, phase: str) -> int:
        return {"dense": self.dense_epochs, "admm": self.admm_epochs, "retrain": self.retrain_epochs}.get(phase, 0)


def make_optimizer(name, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if callable(name):
        return name(params, lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}: expected sgd or adam")


def phase_optimizer(spec: PruneSpec, phase: str, params) -> tuple[torch.optim.Optimizer, Any]:
    """The optimizer and learning-rate schedule of one phase: cosine decay to 0 over the phase
    (dense, retrain) or constant (ADMM)."""
    lr = {"dense": spec.lr, "admm": spec.admm_lr, "retrain": spec.retrain_lr}[phase]
    optimizer = make_optimizer(spec.optimizer, params, lr, spec.weight_decay)
    if phase == "admm":
        return optimizer, torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
    return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(spec.epochs(phase), 1))


@dataclass
class PruneResult:
    """The pruned module and what the compiler needs: the plan, the library and each pattern
    layer's ids (`patdnnc --patterns`), the block layers' masks; metrics per phase, history."""

    model: torch.nn.Module
    plan: Plan
    library: np.ndarray | None
    patterns: dict[str, PatternInfo]
    block_masks: dict[str, torch.Tensor]
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def masks(self) -> dict[str, torch.Tensor]:
        return {**pattern_masks(self.patterns), **self.block_masks}

    def save(self, output: Path, example_input: torch.Tensor) -> None:
        """OUTPUT/{pruned.pt, patterns.npz, schemes.json, model.pt2} (see `save_outputs`)."""
        save_outputs(self.model, self.plan, self.patterns, Path(output), example_input)


def save_outputs(
    model: torch.nn.Module, plan: Plan, patterns: dict[str, PatternInfo], output: Path, example_input: torch.Tensor
) -> None:
    """pruned.pt (state_dict), patterns.npz (library + ids), schemes.json (the plan) and model.pt2
    (torch.export, for `patdnnc OUTPUT/model.pt2 --patterns OUTPUT/patterns.npz --schemes ...`)."""
    output.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), output / "pruned.pt")
    save_patterns(output / "patterns.npz", patterns)
    save_plan(plan, output / "schemes.json")
    device = next(model.parameters()).device
    training = model.training
    export_program(model.cpu(), example_input.cpu(), output / "model.pt2")
    model.to(device).train(training)


class Pruner:
    """Pattern / block pruning of `model` by `spec` inside any training loop (module docstring).

    `input_shape` (1, C, H, W): needed by the rule / search mappings. `steps_per_epoch` (e.g.
    len(train_loader)) or `admm_interval`: how often ADMM's Z/U step runs (default: every
    steps/admm_updates_per_epoch steps; unknown: learnt from the first epoch, else once per
    epoch). `calibration`: batches (or a function) to re-estimate BatchNorm statistics after
    hard pruning."""

    def __init__(
        self,
        model: torch.nn.Module,
        spec: PruneSpec | None = None,
        *,
        input_shape: tuple[int, ...] | None = None,
        steps_per_epoch: int | None = None,
        admm_interval: int | None = None,
        calibration: Iterable | Callable[[], None] | None = None,
        schedule: bool = True,
        mapper_options: dict[str, Any] | None = None,
    ):
        self.model = model
        self.spec = spec = spec or PruneSpec()
        parse_library_spec(spec.patterns, spec.entries)  # a bad library fails now, not after training
        check_spec(spec.schemes, spec.rate)
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.steps_per_epoch = steps_per_epoch
        self.admm_interval = admm_interval
        self.calibration = calibration
        self.schedule = schedule
        self.mapper_options = mapper_options
        self.phase, self.epoch = "dense", 0  # epochs done in this phase
        # rule / search map the trained model (at start_admm); the others only need the
        # architecture, so a bad plan fails now
        self.plan: Plan | None = None if spec.schemes in MAPPED_SPECS else self._resolve_plan()
        self.library: np.ndarray | None = None
        self.patterns: dict[str, PatternInfo] = {}
        self.block_masks: dict[str, torch.Tensor] = {}
        self.admm: SchemeAdmm | None = None
        self.enforcer: MaskEnforcer | None = None
        self._rhos = rho_schedule(spec.rho_init, spec.rho_max, spec.admm_epochs)
        self._step, self._last_epoch_steps = 0, None
        self._optimizers: list[torch.optim.Optimizer] = []
        self._handles: list[Any] = []

    # -- phases ---------------------------------------------------------------------------------

    @property
    def total_epochs(self) -> int:
        s = self.spec
        return s.dense_epochs + s.admm_epochs + s.retrain_epochs

    def _resolve_plan(self) -> Plan:
        s = self.spec
        if s.schemes in MAPPED_SPECS and self.input_shape is None:
            raise ValueError(f"schemes {s.schemes!r} maps the model at its input shape: give input_shape")
        return resolve_plan(s.schemes, self.model, s.connectivity, s.rate, self.input_shape or (), self.mapper_options)

    def start_admm(self) -> None:
        """dense → admm: the plan (rule / search: mapped now), the library (top-K natural
        patterns of the current weights), ADMM's Z's (projections of W) and U's (0)."""
        if self.plan is None:
            self.plan = self._resolve_plan()
        if self.library is None and pruned_layers(self.plan, SchemeKind.PATTERN):
            self.library = select_library(self.model, self.spec.patterns, self.spec.entries)
        self.admm = self._make_admm()
        self.phase, self.epoch = "admm", 0

    def _make_admm(self) -> SchemeAdmm:
        assert self.plan is not None
        modules, layers = dict(self.model.named_modules()), pruned_layers(self.plan)
        return SchemeAdmm(
            {name: modules[name] for name in layers},
            {name: scheme_constraints(s, self.library) for name, s in layers.items()},
            self.spec.rho_init,
        )

    @torch.no_grad()
    def hard_prune(self, calibration: Iterable | Callable[[], None] | None = None) -> None:
        """admm → retrain: every pruned layer projected onto its scheme, BatchNorm statistics
        re-estimated (on `calibration`, else the constructor's), masks enforced from now on."""
        if self.phase == "dense":
            self.start_admm()  # no ADMM epochs: a one-shot projection
        assert self.plan is not None
        self.patterns, self.block_masks = hard_prune(self.model, self.plan, self.library)
        self.admm = None
        calibration = calibration if calibration is not None else self.calibration
        if callable(calibration):
            calibration()
        elif calibration is not None:
            recalibrate_batchnorm_on(self.model, calibration)
        self._enforce()
        for optimizer in self._optimizers:  # momentum left from ADMM must not regrow a pruned weight
            assert self.enforcer is not None
            self.enforcer.after_step(optimizer)
        self.phase, self.epoch = "retrain", 0

    def _enforce(self) -> None:
        self.enforcer = MaskEnforcer(self.model, self.masks())

    def masks(self) -> dict[str, torch.Tensor]:
        """{layer: 0/1 mask} of every pruned layer (after hard pruning)."""
        return {**pattern_masks(self.patterns), **self.block_masks}

    def finish(self) -> None:
        """retrain → done: mask hooks removed, the masks checked on the weights."""
        if self.phase in ("dense", "admm"):
            self.hard_prune()
        if self.enforcer is not None:
            self.enforcer.remove()
            self.enforcer = None
        for handle in self._handles:
            handle.remove()
        self._handles, self._optimizers = [], []
        violations = mask_violations(self.model, self.masks())
        if violations:
            raise RuntimeError(f"masked retraining left {violations} pruned weights non-zero")
        self.phase, self.epoch = "done", 0

    def _advance(self) -> None:
        """Switches phase while the current one has run its epochs (schedule=True)."""
        while self.phase != "done" and self.epoch >= self.spec.epochs(self.phase):
            {"dense": self.start_admm, "admm": self.hard_prune, "retrain": self.finish}[self.phase]()

    # -- the loop's calls -----------------------------------------------------------------------

    def begin_epoch(self, epoch: int | None = None) -> None:
        """Before an epoch (`epoch`: epochs done in this phase, when a driver resumes one)."""
        if self.schedule:
            self._advance()
        if epoch is not None:
            self.epoch = epoch
        self._step = 0
        if self.phase == "admm" and self.admm is not None and self._rhos:
            self.admm.set_rho(self._rhos[min(self.epoch, len(self._rhos) - 1)])

    def penalty(self) -> torch.Tensor:
        """ρ/2 Σ‖W − Z + U‖² in the ADMM phase (differentiable in W), else 0."""
        if self.phase == "admm" and self.admm is not None:
            return self.admm.penalty()
        return torch.zeros(())

    def loss(self, loss: torch.Tensor) -> torch.Tensor:
        """`loss` + the ADMM penalty (in the ADMM phase)."""
        return loss + self.admm.penalty() if self.phase == "admm" and self.admm is not None else loss

    @torch.no_grad()
    def add_penalty_grad(self) -> None:
        """Adds the penalty's gradient ρ Σ_k (W − Z_k + U_k) to each pruned weight's .grad (for
        loops whose loss cannot be changed, e.g. a Lightning callback); call before the step."""
        if self.phase != "admm" or self.admm is None:
            return
        admm = self.admm
        for name, w in admm.weights.items():
            g = sum(w - admm.Zs[c.kind][name] + admm.Us[c.kind][name] for c in admm.constraints[name])
            g = admm.rho * g
            w.grad = g if w.grad is None else w.grad + g

    def _interval(self) -> int | None:
        if self.admm_interval:
            return self.admm_interval
        steps = self.steps_per_epoch or self._last_epoch_steps
        return max(1, steps // max(1, self.spec.admm_updates_per_epoch)) if steps else None

    def after_step(self, optimizer: torch.optim.Optimizer | None = None) -> None:
        """After each optimizer step: ADMM's Z/U step every interval (admm); the masks on the
        weights and on `optimizer`'s state (retrain)."""
        self._step += 1
        if self.phase == "admm" and self.admm is not None:
            interval = self._interval()
            if interval is not None and self._step % interval == 0:
                self.admm.step()
        elif self.phase == "retrain" and self.enforcer is not None:
            if optimizer is not None:
                self.enforcer.after_step(optimizer)
            else:
                self.enforcer.apply_to_weights()

    def end_epoch(self) -> None:
        """After an epoch; with schedule=True switches phase when this one has run its epochs
        (after the last ADMM epoch: hard pruning)."""
        if self.phase == "admm" and self.admm is not None and self._interval() is None:
            self.admm.step()  # steps per epoch unknown: one ADMM step per epoch
        self._last_epoch_steps = self._step or self._last_epoch_steps
        if self.phase != "done":
            self.epoch += 1
        if self.schedule:
            self._advance()

    def attach(self, optimizer: torch.optim.Optimizer, penalty_grad: bool = False) -> torch.optim.Optimizer:
        """Hooks `optimizer`: `after_step` runs after each of its steps; with `penalty_grad` the
        ADMM penalty's gradient is added before each step (then do not also add `loss`)."""
        self._optimizers.append(optimizer)
        self._handles.append(optimizer.register_step_post_hook(lambda opt, args, kwargs: self.after_step(opt)))
        if penalty_grad:
            self._handles.append(optimizer.register_step_pre_hook(lambda opt, args, kwargs: self.add_penalty_grad()))
        if self.enforcer is not None:
            self.enforcer.after_step(optimizer)
        return optimizer

    def notes(self) -> dict[str, Any]:
        """ρ and the relative residuals per constraint kind (ADMM phase), for an epoch's log."""
        if self.phase != "admm" or self.admm is None:
            return {}
        return {"rho": self.admm.rho, **{f"residual_{k}": v for k, v in self.admm.residuals_by_kind().items()}}

    def result(self, metrics: dict[str, float] | None = None, history: list | None = None) -> PruneResult:
        """The pruned model and the compiler's inputs (finishes the run if needed)."""
        if self.phase != "done":
            self.finish()
        assert self.plan is not None
        return PruneResult(
            self.model, self.plan, self.library, self.patterns, self.block_masks, metrics or {}, history or []
        )

    # -- checkpoints ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The pruner's part of a checkpoint (the model's weights are the caller's)."""
        return {
            "phase": self.phase,
            "epoch": self.epoch,
            "plan": plan_text(self.plan) if self.plan is not None else None,
            "library": self.library,
            "admm": self.admm.state_dict() if self.admm is not None else None,
            "patterns": self.patterns or None,
            "block_masks": self.block_masks,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores `state_dict()` (load the model's weights first)."""
        if state.get("plan") is not None:
            self.plan = {name: parse_scheme(text) for name, text in state["plan"].items()}
        self.library = state.get("library")
        self.patterns = state.get("patterns") or {}
        self.block_masks = state.get("block_masks") or {}
        self.phase, self.epoch = state["phase"], state.get("epoch", 0)
        if self.phase == "admm":
            self.admm = self._make_admm()
            if state.get("admm") is not None:
                self.admm.load_state_dict(state["admm"])
        elif self.phase == "retrain":
            self._enforce()


def top1_accuracy(model: torch.nn.Module, batches: Iterable) -> float:
    """Top-1 accuracy in percent of `model` over (input, label) batches."""
    device = next(model.parameters()).device
    training = model.training
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y, *_ in batches:
            correct += int((model(x.to(device)).argmax(1) == y.to(device)).sum())
            total += len(y)
    model.train(training)
    return 100.0 * correct / max(total, 1)


def spec_from(config: Any) -> PruneSpec:
    """A PruneSpec from any object with (some of) its fields, e.g. `PruneConfig`."""
    return PruneSpec(
        **{f.name: getattr(config, f.name) for f in dataclasses.fields(PruneSpec) if hasattr(config, f.name)}
    )
