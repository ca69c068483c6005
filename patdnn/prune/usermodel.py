"""Models by spec, as `patdnn prune` / `patdnn map` take them (`--model`):

  NAME               a built-in architecture (patdnn.models)
  FILE.py:FUNCTION   a Python function returning an nn.Module; it is given `in_channels` and
                     `num_classes` (from the data) when its signature takes them
  MODEL.pt           a module saved whole (torch.save(model, ...))

`--checkpoint` then loads trained weights (a state_dict, or a dict with 'model' as patdnn
prune's dense.pt). Each mistake is a one-line ValueError.
"""

from __future__ import annotations

from pathlib import Path

import torch

from patdnn.data.sources import call_with_known, load_python_factory
from patdnn.models import MODELS, get_model

WHOLE_MODULE_SUFFIXES = (".pt", ".pth")


def build_model(spec: str, in_channels: int | None = None, num_classes: int | None = None) -> torch.nn.Module:
    """The module `spec` names (module docstring), for `in_channels` / `num_classes` if known."""
    if spec in MODELS:
        kwargs = {"num_classes": num_classes} if num_classes is not None else {}
        if in_channels not in (None, 3):
            kwargs["in_channels"] = in_channels
        try:
            return get_model(spec, **kwargs)
        except TypeError:
            raise ValueError(
                f"model {spec!r} takes 3-channel ImageNet images; for {in_channels}-channel data use "
                f"resnet20-cifar or vgg16-cifar, or your own FILE.py:FUNCTION"
            ) from None
    path = Path(spec)
    if ":" in spec and spec.rpartition(":")[0].endswith(".py"):
        file, name, factory = load_python_factory(spec, "model")
        made = call_with_known(factory, in_channels=in_channels, num_classes=num_classes)
        if not isinstance(made, torch.nn.Module):
            raise ValueError(f"{file}:{name} returned {type(made).__name__}, not a torch.nn.Module")
        return made
    if path.suffix == ".py":
        raise ValueError(f"--model {spec}: name the function that builds the model, e.g. {spec}:make_model")
    if path.suffix == ".pt2":
        raise ValueError(
            f"--model {spec}: a torch.export program cannot be trained; give FILE.py:FUNCTION or a module "
            f"saved whole (torch.save(model, 'model.pt'))"
        )
    if path.suffix in WHOLE_MODULE_SUFFIXES:
        if not path.is_file():
            raise ValueError(f"model file {path} does not exist")
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:
            raise ValueError(f"{path}: not a saved torch module ({type(e).__name__}: {e})") from None
        if isinstance(loaded, dict):
            raise ValueError(
                f"{path} holds a state_dict, not a module: give the architecture as FILE.py:FUNCTION "
                f"and these weights with --checkpoint {path}"
            )
        if not isinstance(loaded, torch.nn.Module):
            raise ValueError(f"{path} holds a {type(loaded).__name__}, not a torch.nn.Module")
        return loaded
    raise ValueError(
        f"unknown model {spec!r}: expected a built-in name ({', '.join(sorted(MODELS))}), FILE.py:FUNCTION or a saved MODEL.pt"
    )


def load_weights(model: torch.nn.Module, checkpoint: Path, model_name: str) -> None:
    """Loads a state_dict (or a dict with 'model') into `model`; one line if it does not fit."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise ValueError(f"checkpoint {checkpoint} does not exist")
    loaded = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if isinstance(loaded, torch.nn.Module):
        loaded = loaded.state_dict()
    state = loaded.get("model", loaded) if isinstance(loaded, dict) else loaded
    try:
        model.load_state_dict(state)
    except (RuntimeError, AttributeError, TypeError) as e:
        first = str(e).strip().splitlines()[0]
        raise ValueError(f"{checkpoint} does not fit {model_name}: {first}") from None


def check_fits(model: torch.nn.Module, input_shape: tuple[int, ...], num_classes: int, model_name: str) -> None:
    """The model runs on one (1, C, H, W) input and gives `num_classes` outputs, or one line."""
    device = next(model.parameters()).device
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.zeros(1, *input_shape, device=device))
    except Exception as e:
        shape = "x".join(map(str, input_shape))
        raise ValueError(f"{model_name} does not run on a {shape} input: {str(e).strip().splitlines()[0]}") from None
    finally:
        model.train(training)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] != num_classes:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{model_name} gives outputs of shape {got}; the data has {num_classes} classes")
