"""`patdnn map`: choose each layer's pruning scheme (Gong et al.'s rule-based or search-based
mapping) and write the plan.

Examples:

  patdnn map --model resnet50 --method rule --rate 6 -o plan.json
  patdnn map --model resnet20-cifar --checkpoint out/dense.pt --method search --rate 6 \\
      --latency measured --budget 600 --log search.json -o plan.json
  patdnn map --model mobilenet-v2 --method search --rate 4 -o model.lr

A .json output is the plan ({"layers": {"<module path>": "<scheme>"}}) that `patdnn prune
--schemes plan.json`, `patdnnc --schemes plan.json` and `patdnn.compile(..., schemes=)` read.
A .lr output is the LR of the model one-shot pruned by the plan (magnitude projection, no
retraining), each conv/linear with its `prune <scheme>` line, plus its weights blob beside it.

Without --checkpoint the weights are random (seeded): the search's accuracy proxy (the squared
norm each projection removes) then only ranks structures; give the trained dense model for a
meaningful search. The -cifar models are built as `patdnn prune` builds them (1 input channel,
10 classes, 28x28 — 32x32 for vgg16-cifar); the ImageNet ones take 3x224x224.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from patdnn.models import MODELS


def number(kind: type = int, low: float | None = None, high: float | None = None, above: float | None = None):
    """An argparse `type=` for a number in a range (`low <= x <= high`, or `x > above`): a value
    outside it, or not a number, is one line saying the allowed range."""
    bounds = [f">= {low}" if low is not None else "", f"> {above}" if above is not None else ""]
    allowed = f"{low}..{high}" if low is not None and high is not None else " and ".join(b for b in bounds if b)
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun} (allowed: {allowed})") from None
        if (
            value != value  # NaN
            or (low is not None and value < low)
            or (high is not None and value > high)
            or (above is not None and value <= above)
        ):
            raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: {allowed})")
        return value

    return parse


def _rate(text: str) -> float:
    value = number(float, 1)(text)
    if value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text}: the rate is a finite number >= 1 (how many times fewer weights)")
    return value


_positive = number(float, above=0)


def add_image_options(p: argparse.ArgumentParser) -> None:
    """--resize / --crop of `--data imagefolder:DIR` (patdnn prune and patdnn map)."""
    p.add_argument("--resize", type=number(int, 1), metavar="N", help="imagefolder: resize the shorter side to N")
    p.add_argument("--crop", type=number(int, 1), metavar="N", help="imagefolder: centre crop NxN (after --resize)")


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown, epilog kept as written."""


def add_map_parser(subparsers, formatter=_Formatter) -> None:
    p = subparsers.add_parser(
        "map",
        help="choose each layer's pruning scheme (rule- or search-based mapping) and write the plan",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("Examples") :],
        formatter_class=formatter,
    )
    p.add_argument(
        "--model",
        required=True,
        metavar="SPEC",
        help=f"a built-in architecture ({', '.join(sorted(MODELS))}), FILE.py:FUNCTION (your function "
        "returning an nn.Module) or MODEL.pt (a module saved whole)",
    )
    p.add_argument(
        "--data",
        metavar="SPEC",
        help="take input channels, image size and class count from this data (as patdnn prune's --data: "
        "fashion-mnist, imagefolder:DIR, FILE.py:FUNCTION)",
    )
    add_image_options(p)
    p.add_argument(
        "--checkpoint", type=Path, metavar="PT", help="trained dense weights (a state_dict or patdnn prune's dense.pt)"
    )
    p.add_argument(
        "--input-size",
        type=number(int, 1),
        metavar="N",
        help="input height = width (default: 224, 28 for -cifar, 32 for vgg16-cifar)",
    )
    p.add_argument(
        "--in-channels",
        type=number(int, 1),
        metavar="C",
        help="input channels (default: from --checkpoint, else 1 for -cifar, 3)",
    )
    p.add_argument(
        "--method",
        required=True,
        choices=["rule", "search"],
        help="rule: the rules table of patdnn.mapping.rules; search: latency + λ·proxy under the rate",
    )
    p.add_argument(
        "--rate", type=_rate, metavar="R", required=True, help="overall weight compression over the prunable layers"
    )
    p.add_argument(
        "--latency",
        default="model",
        choices=["model", "measured"],
        help="search: per-layer latency from the cost model or from single-layer compiles on this host",
    )
    p.add_argument(
        "--lambda",
        dest="lam",
        type=number(float, 0),
        metavar="λ",
        default=1.0,
        help="search: weight of the accuracy proxy against the latency (0: fastest plan)",
    )
    p.add_argument(
        "--budget",
        type=_positive,
        metavar="SECONDS",
        help="search, --latency measured: seconds of measuring, then the model",
    )
    p.add_argument("--threads", type=number(int, 1), default=1, help="threads the latency is modelled / measured for")
    p.add_argument(
        "--isa", choices=["avx512", "avx2", "neon", "scalar"], help="ISA of the latency (default: best host ISA)"
    )
    p.add_argument(
        "--log", type=Path, metavar="FILE", help="search: write every candidate and the choice per layer (JSON)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights (without --checkpoint)")
    p.add_argument(
        "-o", "--output", type=Path, metavar="FILE", required=True, help="plan.json, or model.lr (LR with prune lines)"
    )
    p.set_defaults(run=run_map)


def build_model(name: str, checkpoint: Path | None, in_channels: int | None, seed: int, num_classes: int | None = None):
    """(model in eval mode, its input channels, whether the weights are trained)."""
    import torch

    from patdnn.models import get_model
    from patdnn.prune.usermodel import build_model as build_user_model

    state = None
    if checkpoint is not None:
        if not checkpoint.is_file():
            raise ValueError(f"checkpoint {checkpoint} does not exist")
        loaded = torch.load(checkpoint, map_location="cpu", weights_only=False)
        state = loaded.get("model", loaded) if isinstance(loaded, dict) else loaded
        if not isinstance(state, dict):
            raise ValueError(
                f"{checkpoint}: expected a state_dict (or a dict with 'model'), got {type(state).__name__}"
            )
    tensors = [v for v in (state or {}).values() if hasattr(v, "dim")]
    convs, fcs = [t for t in tensors if t.dim() == 4], [t for t in tensors if t.dim() == 2]
    channels = in_channels or (convs[0].shape[1] if convs else 1 if name.endswith("-cifar") else 3)
    kwargs = {"num_classes": fcs[-1].shape[0]} if fcs else {"num_classes": 10} if name.endswith("-cifar") else {}
    if num_classes is not None:
        kwargs = {"num_classes": num_classes}
    torch.manual_seed(seed)
    if name not in MODELS:  # the user's own model (patdnn.prune.usermodel)
        model = build_user_model(name, channels, kwargs.get("num_classes"))
    else:
        try:
            model = get_model(name, **kwargs, **({"in_channels": channels} if channels != 3 else {}))
        except TypeError:
            raise ValueError(f"model {name} takes 3-channel images (got {channels} input channels)") from None
    if state is not None:
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise ValueError(f"{checkpoint} does not fit {name}: {str(e).strip().splitlines()[0]}") from None
    return model.eval(), channels, state is not None


def default_input_size(name: str) -> int:
    return 32 if name == "vgg16-cifar" else 28 if name.endswith("-cifar") else 224


def layer_table(layers, plan, latencies: dict[str, float]) -> str:
    from patdnn.sparsity.layers import kept_weights

    head = f"{'layer':<28} {'shape':<26} {'MFLOPs':>9} {'scheme':<20} {'kept':>6} {'est. ms':>8}"
    lines = [head, "-" * len(head)]
    for layer in layers:
        scheme = plan[layer.name]
        kept = kept_weights(layer, scheme) / layer.weights
        lines.append(
            f"{layer.name:<28} {layer.describe():<26} {layer.flops / 1e6:>9.1f} {str(scheme):<20} "
            f"{100 * kept:>5.1f}% {latencies[layer.name]:>8.3f}"
        )
    return "\n".join(lines)


def run_map(args: argparse.Namespace) -> int:
    import torch

    from patdnn.mapping.latency import CostModel
    from patdnn.mapping.rules import rule_plan
    from patdnn.mapping.search import search
    from patdnn.sparsity.layers import model_layers, plan_rate
    from patdnn.sparsity.plan import save_plan
    from patdnn.sparsity.scheme import Scheme, SchemeError
    from patdnn.toolchain import best_host_isa

    if args.output.suffix not in (".json", ".lr"):
        raise ValueError(f"-o {args.output}: expected a .json plan or a .lr file")
    if args.method == "rule" and (args.latency != "model" or args.log or args.budget):
        raise ValueError("--latency/--log/--budget are options of --method search")
    if args.data is None and (args.resize or args.crop):
        raise ValueError("--resize/--crop go with --data imagefolder:DIR")
    if args.data is not None:
        from patdnn.data.sources import load_data

        splits = load_data(args.data, input_size=args.input_size, resize=args.resize, crop=args.crop)
        channels, height, width = splits.input_shape
        model, channels, trained = build_model(args.model, args.checkpoint, channels, args.seed, splits.num_classes)
        shape = (1, channels, height, width)
    else:
        model, channels, trained = build_model(args.model, args.checkpoint, args.in_channels, args.seed)
        if args.model not in MODELS and args.input_size is None:
            raise ValueError(f"--model {args.model}: give its input size (--input-size N) or its data (--data SPEC)")
        size = args.input_size or default_input_size(args.model)
        shape = (1, channels, size, size)
    isa = args.isa or best_host_isa()
    try:
        layers = model_layers(model, shape)
    except RuntimeError as e:
        raise ValueError(
            f"{args.model} does not run on a {'x'.join(map(str, shape[1:]))} input: {str(e).strip().splitlines()[0]}"
        ) from None
    cost = CostModel(isa, args.threads)
    try:
        if args.method == "rule":
            plan = rule_plan(model, shape, args.rate, layers, isa=isa)
            latencies = {layer.name: cost.latency_ms(layer, plan[layer.name]) for layer in layers}
            dense_ms = sum(cost.latency_ms(layer, Scheme.dense()) for layer in layers)
        else:
            result = search(
                model,
                shape,
                args.rate,
                args.latency,
                args.budget,
                log=args.log,
                lam=args.lam,
                isa=isa,
                threads=args.threads,
                layers=layers,
            )
            plan = result.plan
            latencies = {name: c.latency_ms for name, c in result.chosen.items()}
            # candidates[...][0] is dense: measured like the choices (or modelled when they are)
            dense_ms = sum(
                result.candidates[n][0].latency_ms if n in result.candidates else c.latency_ms
                for n, c in result.chosen.items()
            )
    except SchemeError as e:
        raise ValueError(str(e)) from None
    print(layer_table(layers, plan, latencies))
    print(
        f"\noverall: {plan_rate(layers, plan):.2f}x fewer weights over the prunable layers (target {args.rate}x); "
        f"estimated {sum(latencies.values()):.2f} ms vs {dense_ms:.2f} ms dense ({args.latency} latency, {isa}, "
        f"{args.threads} thread(s), convs and linears only)"
    )
    if not trained and args.method == "search":
        print("note: random weights (no --checkpoint): the accuracy proxy only ranks structures", file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.output.suffix == ".json":
        save_plan(plan, args.output)
    else:
        write_lr(model, torch.randn(shape), plan, args.output)
    print(f"wrote {args.output}")
    return 0


def write_lr(model, example, plan, out_lr: Path) -> None:
    """The model one-shot pruned by `plan`, as LR with `prune` lines (and its weights blob)."""
    from patdnn.frontend import import_module
    from patdnn.lr import print_lr
    from patdnn.sparsity.apply import apply_plan
    from patdnn.sparsity.scheme import SchemeKind

    patterns = apply_plan(model, plan)
    pruned = {name: s for name, s in plan.items() if s.kind != SchemeKind.DENSE}
    with tempfile.TemporaryDirectory(prefix="patdnn-map-") as tmp:
        ir = import_module(model, example, weights_path=Path(tmp) / "model.weights", patterns=patterns, schemes=pruned)
        print_lr(ir, tmp, out_lr)
