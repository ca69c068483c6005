"""Extended ADMM over per-layer constraint sets (PatDNN §4, generalised to Gong et al.'s schemes).

Each pruned layer's weight W has a list of constraint sets S_k, each with an auxiliary Z_k and a
scaled dual U_k, and the training loss gets  ρ/2 Σ_k ‖W − Z_k + U_k‖².  SGD handles W; an ADMM
step sets Z_k to the Euclidean projection of W + U_k onto S_k and updates U_k += W − Z_k. ρ grows
over training so W is driven into every set before hard pruning.

  pattern layer: two sets, "pattern" (every kernel fits one library pattern) and "connectivity"
                 (at most N / rate non-zero kernels) — PatDNN's Z/U and Y/V
  block layer:   one set, "block" (`patdnn.sparsity.block.project_block`)
  dense layer:   none

Z and U are keyed by set kind, then layer; residuals are reported per kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from patdnn.sparsity.block import project_block
from patdnn.sparsity.patterns import apply_patterns, pattern_projection, strongest_kernels
from patdnn.sparsity.scheme import Scheme, SchemeKind


def project_to_patterns(weight: np.ndarray, library: np.ndarray) -> np.ndarray:
    """Euclidean projection onto 'every kernel follows one library pattern'."""
    return apply_patterns(weight, pattern_projection(weight, library), library)


def project_to_connectivity(weight: np.ndarray, rate: float) -> np.ndarray:
    """Euclidean projection onto 'at most round(N / rate) non-zero kernels'."""
    return (weight * strongest_kernels(weight, rate)[:, :, None, None]).astype(np.float32)


def rho_schedule(rho_init: float, rho_max: float, steps: int) -> list[float]:
    """Geometrically increasing ρ over `steps` phases (epochs), from rho_init to rho_max."""
    if steps <= 1:
        return [rho_init] * max(steps, 0)
    ratio = (rho_max / rho_init) ** (1.0 / (steps - 1))
    return [rho_init * ratio**i for i in range(steps)]


@dataclass(frozen=True)
class Constraint:
    """One constraint set: its kind (residuals are reported per kind) and its Euclidean projection."""

    kind: str
    project: Callable[[np.ndarray], np.ndarray]


def scheme_constraints(scheme: Scheme, library: np.ndarray | None) -> list[Constraint]:
    """The constraint sets of a layer's scheme."""
    if scheme.kind == SchemeKind.PATTERN:
        if library is None:
            raise ValueError("pattern layers need a pattern library")
        return [
            Constraint("pattern", lambda w: project_to_patterns(w, library)),
            Constraint("connectivity", lambda w: project_to_connectivity(w, scheme.rate)),
        ]
    if scheme.kind == SchemeKind.BLOCK:
        return [Constraint("block", lambda w: project_block(w, scheme))]
    return []


class SchemeAdmm:
    """ADMM state for `layers` (name → module with .weight), each with its constraint sets."""

    def __init__(self, layers: dict[str, torch.nn.Module], constraints: dict[str, list[Constraint]], rho: float):
        self.weights = {name: layer.weight for name, layer in layers.items() if constraints.get(name)}
        self.constraints = {name: constraints[name] for name in self.weights}
        self.kinds = list(dict.fromkeys(c.kind for cs in self.constraints.values() for c in cs))
        self.rho = rho
        self.Zs: dict[str, dict[str, torch.Tensor]] = {kind: {} for kind in self.kinds}
        self.Us: dict[str, dict[str, torch.Tensor]] = {kind: {} for kind in self.kinds}
        for name, w in self.weights.items():
            for c in self.constraints[name]:
                self.Us[c.kind][name] = torch.zeros_like(w, requires_grad=False)
        self._project()  # every Z starts as the projection of W (U = 0)

    def penalty(self) -> torch.Tensor:
        """ρ/2 Σ_layers Σ_sets ‖W − Z + U‖², differentiable in W."""
        total = sum(
            sum((w - self.Zs[c.kind][n] + self.Us[c.kind][n]).pow(2).sum() for c in self.constraints[n])
            for n, w in self.weights.items()
        )
        return 0.5 * self.rho * total

    @torch.no_grad()
    def _project(self) -> None:
        for name, w in self.weights.items():
            for c in self.constraints[name]:
                self.Zs[c.kind][name] = self._to_tensor(c.project(self._numpy(w + self.Us[c.kind][name])), w)

    @torch.no_grad()
    def step(self) -> None:
        """One ADMM step: every Z ← projection of W + U onto its set; then the dual updates."""
        self._project()
        for name, w in self.weights.items():
            for c in self.constraints[name]:
                self.Us[c.kind][name] += w - self.Zs[c.kind][name]

    @torch.no_grad()
    def set_rho(self, rho: float) -> None:
        """Changes ρ; the scaled duals (U = λ/ρ) are rescaled so the multipliers λ stay put."""
        for duals in self.Us.values():
            for u in duals.values():
                u *= self.rho / rho
        self.rho = rho

    @torch.no_grad()
    def residual(self, kind: str) -> float:
        """Relative primal residual ‖W − Z‖/‖W‖ over the layers with a set of this kind (→ 0)."""
        aux = self.Zs[kind]
        norm = sum(self.weights[n].pow(2).sum() for n in aux).sqrt()
        return float(sum((self.weights[n] - z).pow(2).sum() for n, z in aux.items()).sqrt() / norm)

    def residuals_by_kind(self) -> dict[str, float]:
        return {kind: self.residual(kind) for kind in self.kinds}

    def state_dict(self) -> dict:
        return {"rho": self.rho, "Z": self.Zs, "U": self.Us}

    def load_state_dict(self, state: dict) -> None:
        self.rho = state["rho"]
        for key, target in (("Z", self.Zs), ("U", self.Us)):
            for kind, tensors in target.items():
                for name in tensors:
                    tensors[name] = state[key][kind][name].to(self.weights[name].device)

    @staticmethod
    def _numpy(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().numpy()

    @staticmethod
    def _to_tensor(a: np.ndarray, like: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(a).to(device=like.device, dtype=like.dtype)


class Admm(SchemeAdmm):
    """PatDNN's ADMM: every conv in `convs` gets `pattern <rate>x`; Z/U (pattern) and Y/V
    (connectivity) as in the paper."""

    def __init__(self, convs: dict[str, torch.nn.Conv2d], library: np.ndarray, rate: float, rho: float):
        scheme = Scheme.pattern(rate)
        super().__init__(convs, {name: scheme_constraints(scheme, library) for name in convs}, rho)

    Z = property(lambda self: self.Zs["pattern"])
    Y = property(lambda self: self.Zs["connectivity"])
    U = property(lambda self: self.Us["pattern"])
    V = property(lambda self: self.Us["connectivity"])

    def residuals(self) -> tuple[float, float]:
        """Relative primal residuals ‖W − Z‖/‖W‖ and ‖W − Y‖/‖W‖ over all convs (→ 0 at convergence)."""
        return self.residual("pattern"), self.residual("connectivity")
