"""Latency of a pattern-pruned model on an OpenCL device against dense PyTorch, in one run.

    python -m benchmarks.opencl_bench --model resnet18 --size 224 --device nvidia [--precision fp16]

Whole model: median wall time of `compiled(x)` (input upload, every kernel, output download) and
of the dense PyTorch model on the best device torch has here (CUDA when available, else the CPU:
the report says which). Per layer: the median OpenCL profiling time of each layer's kernels
(runtime/opencl.c events), and of the same module in PyTorch (forward hooks, synchronised).
Ratios are dense PyTorch / patdnn (> 1: patdnn is faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch


def _median_ms(fn: Callable[[], object], iters: int, sync: Callable[[], None]) -> float:
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def _torch_layer_times(
    model: torch.nn.Module, x: torch.Tensor, names: set[str], iters: int, sync: Callable[[], None]
) -> dict[str, float]:
    """Median ms per named module of `model` (forward hooks around each)."""
    samples: dict[str, list[float]] = {name: [] for name in names}
    starts: dict[str, float] = {}
    hooks = []
    for name, module in model.named_modules():
        if name in names and not any(True for _ in module.children()):  # leaves: same work as the op

            def pre(_m, _i, name=name):
                sync()
                starts[name] = time.perf_counter()

            def post(_m, _i, _o, name=name):
                sync()
                samples[name].append((time.perf_counter() - starts[name]) * 1e3)

            hooks += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    try:
        with torch.no_grad():
            for _ in range(iters):
                model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return {name: statistics.median(values) for name, values in samples.items() if values}


def bench_compiled(model: torch.nn.Module, compiled, x: torch.Tensor, iters: int = 20) -> dict:
    """The report of one model: whole-model and per-layer medians and ratios (see the docstring)."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    dense = model.to(device)
    x_dense = x.to(device)
    with torch.no_grad():
        for _ in range(3):  # warm-up: kernel builds, caches
            compiled(x)
            dense(x_dense)
        sync()
        ours_ms = _median_ms(lambda: compiled(x), iters, lambda: None)
        torch_ms = _median_ms(lambda: dense(x_dense), iters, sync)
    layer_samples: dict[str, list[float]] = {}
    for _ in range(iters):
        compiled(x)
        for name, ms in compiled.layer_times().items():
            layer_samples.setdefault(name, []).append(ms)
    layers = {name: statistics.median(values) for name, values in layer_samples.items()}
    torch_layers = _torch_layer_times(dense, x_dense, set(layers), iters, sync)
    return {
        "opencl_device": compiled.device,
        "precision": compiled.precision,
        "torch_device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "model_ms": ours_ms,
        "torch_ms": torch_ms,
        "layers": [(name, ms, torch_layers.get(name)) for name, ms in layers.items()],
    }


def format_report(report: dict) -> str:
    lines = [
        f"OpenCL device: {report['opencl_device']} ({report['precision']}); dense PyTorch on {report['torch_device']}",
        f"whole model: patdnn {report['model_ms']:.3f} ms, dense PyTorch {report['torch_ms']:.3f} ms, "
        f"ratio {report['torch_ms'] / report['model_ms']:.2f}x",
        "",
        "| layer | patdnn ms | PyTorch ms | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, ms, torch_ms in report["layers"]:
        ratio = f"{torch_ms / ms:.2f}x" if torch_ms and ms > 0 else "-"
        lines.append(
            f"| {name} | {ms:.3f} | {torch_ms:.3f} | {ratio} |" if torch_ms else f"| {name} | {ms:.3f} | - | - |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.opencl_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", default="resnet18", help="a patdnn.models name (default: resnet18)")
    parser.add_argument("--size", type=int, default=224, help="input height and width (default: 224)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument(
        "--device", default=None, help="OpenCL device selector (default: $PATDNN_OPENCL_DEVICE, first GPU)"
    )
    parser.add_argument("--precision", default=None, choices=["fp32", "fp16"])
    parser.add_argument("--iters", type=int, default=20)
    args = parser.parse_args(argv)

    import patdnn
    from patdnn.models import get_model
    from patdnn.prune import one_shot_pattern_prune
    from patdnn.runners import RunError

    torch.manual_seed(0)
    model = get_model(args.model).eval()
    one_shot_pattern_prune(model, num_patterns=8, connectivity=3.6)
    x = torch.randn(args.batch, 3, args.size, args.size)
    try:
        compiled = patdnn.compile(model, x, target="opencl", device=args.device, precision=args.precision)
    except RunError as e:
        print(f"opencl_bench: error: {e}", file=sys.stderr)
        return 1
    with torch.no_grad():
        error = float((compiled(x) - model(x)).abs().max())
    print(format_report(bench_compiled(model, compiled, x, args.iters)))
    print(f"\nmax abs error vs PyTorch: {error:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
