"""The layers a pruning plan talks about: their shapes (from one forward pass) and, per scheme,
exactly how many weights they keep — the arithmetic shared by the rule-based mapping, the
search, the latency model and the CLI's table (no weights needed, only shapes) — and the convs
of a model that pattern pruning applies to (`pattern_convs`, `prunable_convs`, `depthwise_convs`).

`prunable` layers are the ones a plan may prune: every conv with groups == 1 and every linear,
except the first conv when it reads the image (<= 4 input channels, as PatDNN and
`prunable_convs` leave it dense). Depthwise / grouped convs are always dense.
The overall compression rate of a plan is counted over the prunable layers only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from patdnn.sparsity.scheme import Scheme, SchemeError, SchemeKind

PATTERN_ENTRIES = 4  # kept weights per 3x3 kernel (PatDNN's 4-entry patterns, centre included)


def is_prunable(kind: str, groups: int, cin: int, first: bool) -> bool:
    """The one definition of a prunable layer (the module docstring), shared with the pruner."""
    return kind == "linear" or (groups == 1 and not (first and cin <= 4))


def pattern_convs(model: torch.nn.Module) -> dict[str, torch.nn.Conv2d]:
    """The convolutions pattern pruning applies to: 3x3, not grouped, any dilation (a dilated
    kernel keeps the same 3x3 mask, its taps spread by the dilation)."""
    return {
        name: m
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) and m.groups == 1
    }


def prunable_convs(model: torch.nn.Module, skip_first: bool = True) -> dict[str, torch.nn.Conv2d]:
    """The 3x3 convs that get patterns. `skip_first`: leave the first conv dense when it reads
    an image (<= 4 input channels: little to gain, accuracy to lose), as PatDNN does."""
    convs = pattern_convs(model)
    first = next(iter(convs), None)
    if skip_first and first is not None and convs[first].in_channels <= 4:
        del convs[first]
    return convs


def depthwise_convs(model: torch.nn.Module) -> dict[str, torch.nn.Conv2d]:
    """The depthwise 3x3 convs (one input channel per group), e.g. most of MobileNet-V2's 3x3 kernels."""
    return {
        name: m
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Conv2d)
        and m.kernel_size == (3, 3)
        and m.groups > 1
        and m.groups == m.in_channels
        and m.dilation == (1, 1)
    }


@dataclass(frozen=True)
class LayerShape:
    name: str  # module path (as in the LR, the plan and the pruner)
    kind: str  # "conv" | "linear"
    cin: int
    cout: int
    kernel: tuple[int, int]
    stride: int
    groups: int
    in_hw: tuple[int, int]  # (1, 1) for linear layers
    out_hw: tuple[int, int]
    first: bool = False  # the first conv of the network (reads the image)
    padding: tuple[int, int] = (0, 0)

    @property
    def weights(self) -> int:
        return self.cout * (self.cin // self.groups) * self.kernel[0] * self.kernel[1]

    @property
    def gemm_cols(self) -> int:
        """Columns of the GEMM view (Cin/groups * KH * KW), see patdnn.sparsity.block."""
        return self.weights // self.cout

    @property
    def positions(self) -> int:
        return self.out_hw[0] * self.out_hw[1]

    @property
    def flops(self) -> int:
        """Dense FLOPs (2 per multiply-add)."""
        return 2 * self.weights * self.positions

    @property
    def depthwise(self) -> bool:
        return self.kind == "conv" and self.groups > 1 and self.groups == self.cin

    @property
    def is_3x3(self) -> bool:
        return self.kind == "conv" and self.kernel == (3, 3) and self.groups == 1

    @property
    def prunable(self) -> bool:
        return is_prunable(self.kind, self.groups, self.cin, self.first)

    def describe(self) -> str:
        if self.kind == "linear":
            return f"fc {self.cin}->{self.cout}"
        k = f"{self.kernel[0]}x{self.kernel[1]}"
        dw = " dw" if self.depthwise else f" g{self.groups}" if self.groups > 1 else ""
        stride = f" /{self.stride}" if self.stride > 1 else ""
        return f"{k}{dw} {self.cin}->{self.cout} @{self.in_hw[0]}{stride}"


def model_layers(model: torch.nn.Module, input_shape: tuple[int, ...]) -> list[LayerShape]:
    """Every Conv2d and Linear of `model` in execution order, with the shapes of one forward pass
    on zeros of `input_shape` (e.g. (1, 3, 224, 224))."""
    shapes: dict[str, tuple] = {}
    modules = {name: m for name, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))}

    def hook(name):
        def record(_module, inputs, output):
            shapes.setdefault(name, (tuple(inputs[0].shape), tuple(output.shape)))

        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in modules.items()]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(input_shape))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    layers = []
    for name in shapes:  # dict order = execution order
        m, (ins, outs) = modules[name], shapes[name]
        if isinstance(m, torch.nn.Conv2d):
            layers.append(
                LayerShape(
                    name,
                    "conv",
                    m.in_channels,
                    m.out_channels,
                    tuple(m.kernel_size),
                    m.stride[0],
                    m.groups,
                    tuple(ins[2:4]),
                    tuple(outs[2:4]),
                    first=not layers,
                    padding=tuple(m.padding),
                )
            )
        else:
            layers.append(
                LayerShape(
                    name, "linear", m.in_features, m.out_features, (1, 1), 1, 1, (1, 1), (1, 1), first=not layers
                )
            )
    return layers


def _kept(size: int, rate: float) -> int:
    """As patdnn.sparsity.block / patdnn.sparsity.patterns.strongest_kernels: round(size / rate), at least 1."""
    return max(1, min(size, int(round(size / rate))))


def check_fits(layer: LayerShape, scheme: Scheme) -> None:
    if scheme.kind == SchemeKind.PATTERN and not layer.is_3x3:
        raise SchemeError(
            f"layer '{layer.name}' ({layer.describe()}): pattern pruning needs a 3x3 conv "
            f"with groups 1, got scheme '{scheme}'"
        )
    if scheme.kind != SchemeKind.DENSE and not layer.prunable:
        raise SchemeError(
            f"layer '{layer.name}' ({layer.describe()}) is not prunable (depthwise, grouped "
            f"or the image-reading first conv): its scheme must be dense, got '{scheme}'"
        )


def kept_weights(layer: LayerShape, scheme: Scheme) -> int:
    """Exactly how many weights the layer keeps under the scheme (the projections' rounding)."""
    if scheme.kind == SchemeKind.DENSE:
        return layer.weights
    if scheme.kind == SchemeKind.PATTERN:
        return _kept(layer.cout * layer.cin, scheme.rate) * PATTERN_ENTRIES
    rows, cols = scheme.block
    row_sizes = [min(rows, layer.cout - r) for r in range(0, layer.cout, rows)]
    col_sizes = [min(cols, layer.gemm_cols - c) for c in range(0, layer.gemm_cols, cols)]
    if scheme.structure.value == "columns":
        return sum(row_sizes) * sum(_kept(c, scheme.rate) for c in col_sizes)
    return sum(_kept(r, scheme.rate) for r in row_sizes) * sum(col_sizes)


def kept_flops(layer: LayerShape, scheme: Scheme) -> int:
    return 2 * kept_weights(layer, scheme) * layer.positions


def plan_rate(layers: list[LayerShape], plan: dict[str, Scheme]) -> float:
    """The plan's overall weight compression over the prunable layers (layers missing from the
    plan count as dense)."""
    prunable = [layer for layer in layers if layer.prunable]
    total = sum(layer.weights for layer in prunable)
    kept = sum(kept_weights(layer, plan.get(layer.name, Scheme.dense())) for layer in prunable)
    return total / max(kept, 1)
