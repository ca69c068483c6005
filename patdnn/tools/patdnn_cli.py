"""`patdnn`: the project's command line. Subcommands:

  patdnn prune   train (or load) a dense CNN, choose each layer's pruning scheme (pattern, block or
                 dense), prune with extended ADMM, hard-prune and retrain with fixed masks
  patdnn map     choose each layer's pruning scheme (rule- or search-based mapping) and write
                 the plan (see `patdnn map --help`)

Example (ResNet-20 on Fashion-MNIST, 8 patterns, 3.6x connectivity):

  patdnn prune --model resnet20-cifar --data fashion-mnist --patterns 8 --connectivity 3.6 \\
      --dense-epochs 4 --admm-epochs 3 --retrain-epochs 3 -o out/

Your own model and data (input channels and classes come from the data):

  patdnn prune --model mynet.py:make_net --data imagefolder:photos --resize 36 --crop 32 -o out/

Per-layer schemes (Gong et al.): --schemes blocks:8x16:4 (block-punched pruning of every
prunable layer but the classifier), --schemes rule --rate 6 / --schemes search --rate 6 (the
scheme-mapping methods), or --schemes plan.json (a plan file: {"layers": {"<module path>":
"pattern 3.6x" | "block 8x16 4x [rows]" | "dense"}}). The default, patterns, is PatDNN's.

OUTDIR then holds report.txt/report.json (per-layer scheme, kept kernels and weights, pattern
histogram, compression, accuracy before/after), train.log (one line per epoch), dense.pt,
pruned.pt, patterns.npz (library + per-layer pattern ids), schemes.json (the plan applied) and
model.pt2; compile the result with

  patdnnc out/model.pt2 --patterns out/patterns.npz --schemes out/schemes.json -o build/

A run that is stopped resumes from OUTDIR/checkpoint.pt when started again with the same
settings (--restart starts over). Under
`torchrun --standalone --nproc-per-node N -m patdnn.tools.patdnn_cli prune ...` the same command
trains with DistributedDataParallel (gloo on CPU, nccl with --device cuda).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from patdnn.models import MODELS
from patdnn.tools.map_cli import _rate, add_image_options, add_map_parser, number


class _Parser(argparse.ArgumentParser):
    """Bad options are user mistakes: one line and exit status 1 (argparse's default is 2 plus usage)."""

    def error(self, message: str):
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(1)


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown, epilog kept as written."""


_positive_rate = _rate  # >= 1: 1 keeps every weight
_count = number(int, 0)
_positive = number(float, above=0)


def add_prune_parser(subparsers) -> None:
    from patdnn.prune.library import FIXED_LIBRARIES

    p = subparsers.add_parser(
        "prune",
        help="pattern + connectivity pruning with extended ADMM and masked retraining",
        description="Train or load a dense model, choose a pattern library, run extended ADMM "
        "(pattern + connectivity constraints), hard-prune, retrain with masks, report.",
        epilog=__doc__[__doc__.index("Example") :],
        formatter_class=_Formatter,
    )
    p.add_argument(
        "--model",
        default="resnet20-cifar",
        metavar="SPEC",
        help=f"a built-in architecture ({', '.join(sorted(MODELS))}; 1-channel data: the -cifar ones), "
        "FILE.py:FUNCTION (your function returning an nn.Module; given in_channels and num_classes when "
        "it takes them) or MODEL.pt (a module saved whole)",
    )
    p.add_argument(
        "--checkpoint", type=Path, metavar="PT", help="initial weights of --model (a state_dict or a dict with 'model')"
    )
    p.add_argument(
        "--data",
        default="fashion-mnist",
        metavar="SPEC",
        help="fashion-mnist, imagefolder:DIR (DIR/CLASS/IMAGE, or DIR/train/ and DIR/test/ or val/; "
        "read with Pillow) or FILE.py:FUNCTION (returns (train, test) datasets of (CxHxW tensor, class))",
    )
    add_image_options(p)
    p.add_argument(
        "--mean",
        type=float,
        nargs="+",
        metavar="M",
        help="imagefolder: per-channel mean of the [0, 1] pixels (default: the training images')",
    )
    p.add_argument(
        "--std",
        type=number(float, above=0),
        nargs="+",
        metavar="S",
        help="imagefolder: per-channel std (default: measured)",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder (also holds the checkpoint)")
    p.add_argument(
        "--patterns",
        default="8",
        help=f"pattern library: K (top-K natural patterns of the dense model; PatDNN uses "
        f"4, 6, 8 or 12), {', '.join(FIXED_LIBRARIES)}, or a .npy file of (P, 3, 3) 0/1 masks",
    )
    p.add_argument("--entries", type=number(int, 1, 9), default=4, help="kept weights per 3x3 kernel (centre included)")
    p.add_argument(
        "--connectivity",
        type=_positive_rate,
        default=3.6,
        help="connectivity pruning rate: each layer keeps 1/RATE of its kernels",
    )
    p.add_argument(
        "--schemes",
        default="patterns",
        metavar="SPEC",
        help="per-layer pruning schemes: patterns (every 3x3 conv but the first: pattern + "
        "connectivity), blocks:ROWSxCOLS:RATE[:rows] (every prunable layer but the "
        "classifier), rule or search (mapped at --rate), or a plan file (.json or .lr)",
    )
    p.add_argument(
        "--rate",
        type=_positive_rate,
        help="overall weight compression target over the prunable layers, for --schemes rule/search",
    )
    p.add_argument("--dense-epochs", type=_count, default=4, help="epochs of dense training")
    p.add_argument(
        "--dense-checkpoint", type=Path, help="start from this dense state_dict (or a dense.pt) instead of training"
    )
    p.add_argument("--admm-epochs", type=_count, default=3, help="epochs of ADMM training")
    p.add_argument("--retrain-epochs", type=_count, default=3, help="epochs of masked retraining")
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"], help="sgd: momentum 0.9, Nesterov")
    p.add_argument("--lr", type=_positive, default=0.1, help="dense learning rate (cosine decay per phase)")
    p.add_argument("--admm-lr", type=_positive, default=0.01, help="ADMM learning rate (constant)")
    p.add_argument("--retrain-lr", type=_positive, default=0.01, help="masked retraining learning rate")
    p.add_argument("--weight-decay", type=number(float, 0), default=5e-4, help="L2 weight decay (all phases)")
    p.add_argument("--batch-size", type=number(int, 1), default=128, help="global batch size (split over ranks)")
    p.add_argument(
        "--rho",
        type=_positive,
        nargs=2,
        default=(0.05, 2.0),
        metavar=("START", "END"),
        help="ADMM penalty ρ, increased geometrically per ADMM epoch from START to END",
    )
    p.add_argument(
        "--admm-updates", type=number(int, 1), default=2, help="ADMM steps (Z/Y projections and dual updates) per epoch"
    )
    p.add_argument(
        "--input-size",
        type=int,
        choices=[28, 32],
        help="fashion-mnist: pad images to this size (default: 32 for vgg16-cifar, else 28)",
    )
    p.add_argument("--train-limit", type=number(int, 1), help="use only the first N training images")
    p.add_argument("--test-limit", type=number(int, 1), help="use only the first N test images")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument(
        "--threads",
        type=number(int, 1),
        help="torch CPU threads (None: torch's choice; on a busy machine 1 can be much faster than 2)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in OUTDIR")
    p.set_defaults(run=run_prune)


def run_prune(args: argparse.Namespace) -> int:
    import torch

    from patdnn.prune.pipeline import PruneConfig, run_pruning

    if args.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available (this torch is CPU-only or no GPU)")
    if args.rho[0] > args.rho[1]:
        raise ValueError(f"--rho {args.rho[0]} {args.rho[1]}: START must be <= END (ρ grows during ADMM)")
    if args.dense_checkpoint is not None and not args.dense_checkpoint.exists():
        raise ValueError(f"dense checkpoint {args.dense_checkpoint} does not exist")
    if args.checkpoint is not None and not args.checkpoint.exists():
        raise ValueError(f"checkpoint {args.checkpoint} does not exist")
    config = PruneConfig(
        output=args.output,
        model=args.model,
        checkpoint=args.checkpoint,
        data=args.data,
        resize=args.resize,
        crop=args.crop,
        mean=tuple(args.mean) if args.mean else None,
        std=tuple(args.std) if args.std else None,
        patterns=args.patterns,
        entries=args.entries,
        connectivity=args.connectivity,
        schemes=args.schemes,
        rate=args.rate,
        dense_epochs=args.dense_epochs,
        admm_epochs=args.admm_epochs,
        retrain_epochs=args.retrain_epochs,
        dense_checkpoint=args.dense_checkpoint,
        optimizer=args.optimizer,
        lr=args.lr,
        admm_lr=args.admm_lr,
        retrain_lr=args.retrain_lr,
        weight_decay=args.weight_decay,
        batch_size=args.batch_size,
        rho_init=args.rho[0],
        rho_max=args.rho[1],
        admm_updates_per_epoch=args.admm_updates,
        input_size=args.input_size,
        train_limit=args.train_limit,
        test_limit=args.test_limit,
        device=args.device,
        threads=args.threads,
        seed=args.seed,
        restart=args.restart,
    )
    run_pruning(config, log=lambda line: print(line, file=sys.stderr, flush=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="patdnn", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    add_prune_parser(subparsers)
    add_map_parser(subparsers)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as e:  # user mistakes: one line, no traceback
        print(f"patdnn: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("patdnn: interrupted (resume with the same command)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
