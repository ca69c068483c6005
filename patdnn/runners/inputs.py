"""The one check of what a compiled model is called with (HostModel, OpenCLModel, QemuModel):
`model(x)` takes a torch.Tensor or a numpy array of the compiled input shape with a floating
dtype (converted to float32), and returns the same kind: torch for torch, numpy for numpy.
Anything else is a one-line TypeError / ValueError."""

from __future__ import annotations

from typing import Any

import numpy as np


def model_input(x: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    """`x` as a C-contiguous float32 array of `shape`, and whether it came as a torch tensor."""
    is_torch = type(x).__module__.startswith("torch") and hasattr(x, "detach")
    if is_torch:
        x = x.detach().cpu().float().numpy() if x.dtype.is_floating_point else x.detach().cpu()
    if not isinstance(x, np.ndarray) and not is_torch:
        raise TypeError(
            f"a compiled model takes a torch.Tensor or a numpy array of shape {shape}, got {type(x).__name__}"
        )
    dtype = getattr(x, "dtype", None)
    if not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)):
        raise TypeError(
            f"the input has dtype {dtype}, expected a floating type (float32; x.float() / x.astype(np.float32))"
        )
    if tuple(x.shape) != tuple(shape):
        raise ValueError(f"the input has shape {tuple(x.shape)}, the model was compiled for {tuple(shape)}")
    return np.ascontiguousarray(x, dtype=np.float32), is_torch


def model_output(y: np.ndarray, is_torch: bool) -> Any:
    """The output in the kind the input came in."""
    if not is_torch:
        return y
    import torch

    return torch.from_numpy(y)
