"""Per-layer latency of a (layer shape, scheme) on the host: modelled or measured.

**Modelled** (`CostModel`), a roofline with per-kind efficiencies, in ms:

    t = max(kept FLOPs / (peak * threads * eff), bytes moved / (bandwidth * threads)) + t_call
    eff = kind efficiency * lane use * (stride-2 factor, pattern) * (block-size factor, block)

* kept FLOPs: 2 * kept weights * output positions (patdnn.sparsity.layers.kept_weights);
* peak: the measured per-core FP32 FMA peak (benchmarks/results/peak.json: 180.7 GFLOP/s
  AVX-512, 94.7 AVX2 — SIMDe's NEON runs on AVX2 — on the development Xeon);
* lane use = Wo / (vector width * ceil(Wo / vector width)): our pattern and dense convs vectorise
  along output rows, so a 7-wide output wastes 9 of 16 AVX-512 lanes;
* kind efficiencies (fraction of peak on the non-zero work, 1 thread, AVX-512 Xeon):
  pattern 0.23 (benchmarks/results/layers.json, VGG-16 conv2-13: 0.20-0.24 of peak; ResNet-50's 3x3s
  are lower by lane use and stride 2, which the factors reproduce within 1.6x), stride-2 pattern
  x0.55 (ResNet-50's x.0.conv2); dense 1x1 / linear 0.45 and depthwise 0.03 (models.json: with
  these the whole-model sums are VGG-16 185 / ResNet-50 92 / MobileNet-V2 21 ms against 202 / 91 /
  23 ms measured; pools, adds and reshapes are not modelled); dense KxK 0.17, block 0.55 on 1x1 /
  linear and 0.33 on KxK (the kept input rows are gathered first), times 1.0 for 8x16 blocks and
  0.85 for 4x16 / 16x32 (single layers measured with MeasuredLatency on a shared 2-core machine,
  ResNet-50 shapes: dense 3x3 0.16-0.34, block 1x1 0.38-0.63, block 3x3 0.21-0.38 — refit from
  benchmarks/results/schemes.json once bench_schemes.py has run on a quiet machine);
  block kernels vectorise over output pixels (lane use over Ho*Wo), the others along rows (Wo);
* bytes: input + output activations + kept weights (4 bytes each), at 6 GB/s per core (VGG-16's
  FC weights stream at about that rate; small-channel layers are decided by this term);
* t_call: 0.005 ms per layer (the generated driver's loop set-up and thread hand-off).

**Measured** (`MeasuredLatency`): compiles the layer alone as a torch module with the scheme
applied (pattern layers via the one-shot pattern projection, block layers via project_block)
through `patdnn.compile(..., target=best_host_isa(), schemes=...)` and takes the median of a few
runs. With a `patdnn.compile` that lacks `schemes=` (before the block backend), block layers
fall back to the model and say so (source "model: compiler has no schemes= yet"). Results are cached in a JSON log
(PATDNN_SCHEME_LOG or ~/.cache/patdnn/scheme_latency.json) keyed by ISA, threads, layer
signature and scheme, as the auto-tuner's log is: a later run reuses them without compiling.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from patdnn.sparsity.apply import apply_plan
from patdnn.sparsity.layers import LayerShape, check_fits, kept_flops, kept_weights
from patdnn.sparsity.scheme import Scheme, SchemeKind
from patdnn.toolchain import best_host_isa

PEAK_GFLOPS = {"avx512": 180.7, "avx2": 94.7, "neon": 94.7, "scalar": 12.0}  # per core, peak.json
VECTOR_WIDTH = {"avx512": 16, "avx2": 8, "neon": 4, "scalar": 1}
BLOCK_SIZE_FACTOR = {(8, 16): 1.0, (4, 16): 0.85, (16, 32): 0.85}  # other sizes: 0.8


def lane_use(extent: int, width: int) -> float:
    """Used fraction of the vector lanes when `extent` elements run `width` at a time."""
    return extent / (width * math.ceil(extent / width))


@dataclass(frozen=True)
class CostModel:
    isa: str = "avx512"
    threads: int = 1
    eff_pattern: float = 0.23
    eff_dense: float = 0.45  # 1x1 convs and linears
    eff_dense_kxk: float = 0.17
    eff_depthwise: float = 0.03
    eff_block: float = 0.55  # 1x1 convs and linears
    eff_block_kxk: float = 0.33
    stride2_pattern: float = 0.55
    bandwidth_gbs: float = 6.0
    call_ms: float = 0.005

    def efficiency(self, layer: LayerShape, scheme: Scheme) -> float:
        width = VECTOR_WIDTH.get(self.isa, 1)
        pointwise = layer.kind == "linear" or layer.kernel == (1, 1)
        if scheme.kind == SchemeKind.BLOCK:
            block = BLOCK_SIZE_FACTOR.get(scheme.block, 0.8)
            return (self.eff_block if pointwise else self.eff_block_kxk) * block * lane_use(layer.positions, width)
        lanes = lane_use(layer.out_hw[1], width) if layer.kind == "conv" else 1.0
        if scheme.kind == SchemeKind.PATTERN:
            return self.eff_pattern * lanes * (self.stride2_pattern if layer.stride > 1 else 1.0)
        if layer.depthwise:
            return self.eff_depthwise * lanes
        return (self.eff_dense if pointwise else self.eff_dense_kxk) * lanes

    def latency_ms(self, layer: LayerShape, scheme: Scheme) -> float:
        check_fits(layer, scheme)
        peak = PEAK_GFLOPS.get(self.isa, PEAK_GFLOPS["scalar"]) * 1e6  # FLOP per ms
        compute = kept_flops(layer, scheme) / (peak * self.threads * self.efficiency(layer, scheme))
        activations = layer.cin * layer.in_hw[0] * layer.in_hw[1] + layer.cout * layer.positions
        memory = 4 * (activations + kept_weights(layer, scheme)) / (self.bandwidth_gbs * 1e6 * self.threads)
        return max(compute, memory) + self.call_ms


def default_log_path() -> Path:
    env = os.environ.get("PATDNN_SCHEME_LOG")
    return Path(env) if env else Path.home() / ".cache" / "patdnn" / "scheme_latency.json"


def layer_signature(layer: LayerShape) -> str:
    if layer.kind == "linear":
        return f"fc{layer.cin}->{layer.cout}"
    return (
        f"conv{layer.cin}x{layer.in_hw[0]}x{layer.in_hw[1]}->{layer.cout}x{layer.out_hw[0]}x{layer.out_hw[1]}"
        f"/k{layer.kernel[0]}x{layer.kernel[1]}s{layer.stride}p{layer.padding[0]}x{layer.padding[1]}g{layer.groups}"
    )


def compiler_takes_schemes() -> bool:
    """Whether this patdnn.compile has the compiler helper's `schemes=` (block layers compiled as such)."""
    from patdnn.api import compile as compile_model  # patdnn.compile is a lazy (*args, **kwargs) wrapper

    return "schemes" in inspect.signature(compile_model).parameters


def single_layer_module(layer: LayerShape, seed: int = 0) -> torch.nn.Module:
    """The layer alone (random weights, no bias), as child "0" of a Sequential: plans name it "0"."""
    torch.manual_seed(seed)
    if layer.kind == "linear":
        module = torch.nn.Linear(layer.cin, layer.cout, bias=False)
    else:
        module = torch.nn.Conv2d(
            layer.cin, layer.cout, layer.kernel, layer.stride, layer.padding, groups=layer.groups, bias=False
        )
    return torch.nn.Sequential(module).eval()


def example_input(layer: LayerShape) -> torch.Tensor:
    return torch.randn(1, layer.cin) if layer.kind == "linear" else torch.randn(1, layer.cin, *layer.in_hw)


class MeasuredLatency:
    """Times (layer, scheme) pairs compiled alone on the host; falls back to `model` where it
    cannot measure (block layers before the compiler has `schemes=`, or the time budget spent)."""

    def __init__(
        self,
        isa: str | None = None,
        threads: int = 1,
        log: str | Path | None = None,
        runs: int = 9,
        model: CostModel | None = None,
    ):
        self.isa, self.threads, self.runs = isa or best_host_isa(), threads, runs
        self.model = model or CostModel(self.isa, threads)
        self.log_path = Path(log) if log else default_log_path()
        self.log: dict = json.loads(self.log_path.read_text()) if self.log_path.is_file() else {}
        self.schemes_supported = compiler_takes_schemes()

    def key(self, layer: LayerShape, scheme: Scheme) -> str:
        return f"{self.isa}/t{self.threads}/{layer_signature(layer)}/{scheme}"

    def latency(self, layer: LayerShape, scheme: Scheme, deadline: float | None = None) -> tuple[float, str]:
        """(ms, source): source is "measured", "log" (measured earlier) or "model: <why>"."""
        check_fits(layer, scheme)
        key = self.key(layer, scheme)
        if key in self.log:
            return self.log[key]["ms"], "log"
        if scheme.kind == SchemeKind.BLOCK and not self.schemes_supported:
            return self.model.latency_ms(layer, scheme), "model: compiler has no schemes= yet"
        if deadline is not None and time.monotonic() >= deadline:
            return self.model.latency_ms(layer, scheme), "model: time budget spent"
        ms = self._measure(layer, scheme)
        self.log[key] = {
            "ms": ms,
            "modelled_ms": self.model.latency_ms(layer, scheme),
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        self._save()
        return ms, "measured"

    def _measure(self, layer: LayerShape, scheme: Scheme) -> float:
        import patdnn

        module = single_layer_module(layer)
        x = example_input(layer)
        plan = {"0": scheme}
        patterns = apply_plan(module, plan)
        extra = {"schemes": plan} if self.schemes_supported else {}
        with tempfile.TemporaryDirectory(prefix="patdnn-scheme-") as tmp:
            compiled = patdnn.compile(
                module, x, target=self.isa, threads=self.threads, outdir=Path(tmp), patterns=patterns or None, **extra
            )
            xn = x.numpy()
            times = []
            for i in range(self.runs + 2):
                start = time.perf_counter()
                compiled.run(xn)
                if i >= 2:  # two warm-up calls
                    times.append((time.perf_counter() - start) * 1e3)
            del compiled
        return float(np.median(times))

    def _save(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.log_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.log, indent=1, sort_keys=True))
        tmp.replace(self.log_path)
