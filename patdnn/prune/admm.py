"""Extended ADMM for pattern + connectivity pruning (PatDNN §4).

Minimises  loss(W) + ρ/2 ‖W − Z + U‖² + ρ/2 ‖W − Y + V‖²  over the prunable convs' weights W,
where Z lies in the pattern set (every kernel fits one library pattern) and Y in the
connectivity set (at most N / rate non-zero kernels per layer). SGD handles W; an ADMM step
sets Z and Y to the Euclidean projections of W + U and W + V and updates the scaled duals
U += W − Z, V += W − Y. ρ grows over training so W is driven into both sets before hard pruning.
"""

from __future__ import annotations

import numpy as np
import torch

from patdnn.patterns import apply_patterns, pattern_projection, strongest_kernels


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


class Admm:
    """ADMM state (Z, Y, U, V per conv) for the convs in `convs` (name → Conv2d)."""

    def __init__(self, convs: dict[str, torch.nn.Conv2d], library: np.ndarray, rate: float, rho: float):
        self.weights = {name: conv.weight for name, conv in convs.items()}
        self.library, self.rate, self.rho = library, rate, rho
        zeros = {name: torch.zeros_like(w, requires_grad=False) for name, w in self.weights.items()}
        self.U = {name: z.clone() for name, z in zeros.items()}
        self.V = {name: z.clone() for name, z in zeros.items()}
        self.Z: dict[str, torch.Tensor] = {}
        self.Y: dict[str, torch.Tensor] = {}
        self._project()  # Z, Y start as the projections of W (U = V = 0)

    def penalty(self) -> torch.Tensor:
        """ρ/2 Σ (‖W − Z + U‖² + ‖W − Y + V‖²), differentiable in W."""
        total = sum((w - self.Z[n] + self.U[n]).pow(2).sum() + (w - self.Y[n] + self.V[n]).pow(2).sum()
                    for n, w in self.weights.items())
        return 0.5 * self.rho * total

    @torch.no_grad()
    def _project(self) -> None:
        for name, w in self.weights.items():
            self.Z[name] = self._to_tensor(project_to_patterns(self._numpy(w + self.U[name]), self.library), w)
            self.Y[name] = self._to_tensor(project_to_connectivity(self._numpy(w + self.V[name]), self.rate), w)

    @torch.no_grad()
    def step(self) -> None:
        """One ADMM step: Z, Y ← projections of W + U, W + V; then the dual updates."""
        self._project()
        for name, w in self.weights.items():
            self.U[name] += w - self.Z[name]
            self.V[name] += w - self.Y[name]

    @torch.no_grad()
    def set_rho(self, rho: float) -> None:
        """Changes ρ; the scaled duals (U = λ/ρ) are rescaled so the multipliers λ stay put."""
        for name in self.weights:
            self.U[name] *= self.rho / rho
            self.V[name] *= self.rho / rho
        self.rho = rho

    @torch.no_grad()
    def residuals(self) -> tuple[float, float]:
        """Relative primal residuals ‖W − Z‖/‖W‖ and ‖W − Y‖/‖W‖ over all convs (→ 0 at convergence)."""
        norm = sum(w.pow(2).sum() for w in self.weights.values()).sqrt()
        rz = sum((w - self.Z[n]).pow(2).sum() for n, w in self.weights.items()).sqrt()
        ry = sum((w - self.Y[n]).pow(2).sum() for n, w in self.weights.items()).sqrt()
        return float(rz / norm), float(ry / norm)

    def state_dict(self) -> dict:
        return {"rho": self.rho, "Z": self.Z, "Y": self.Y, "U": self.U, "V": self.V}

    def load_state_dict(self, state: dict) -> None:
        self.rho = state["rho"]
        for key in ("Z", "Y", "U", "V"):
            target = getattr(self, key)
            for name, w in self.weights.items():
                target[name] = state[key][name].to(w.device)

    @staticmethod
    def _numpy(t: torch.Tensor) -> np.ndarray:
        return t.detach().cpu().numpy()

    @staticmethod
    def _to_tensor(a: np.ndarray, like: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(a).to(device=like.device, dtype=like.dtype)
