"""The recorded ResNet-20 / Fashion-MNIST run (docs/pruning.md) through the library API instead of
the `patdnn prune` pipeline: `prune_model` on plain batches, with the pipeline's augmentation
(flips, ±2 px shifts), batch 128 and optimizer settings, so the accuracies can be compared.

    OMP_NUM_THREADS=1 nice -n 10 python3 examples/prune_with_api.py --threads 1 -o out-api/

`--limit N` uses the first N training images (a quick check); writes OUT/{pruned.pt,
patterns.npz, schemes.json, model.pt2, metrics.json}.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from patdnn.data import load_fashion_mnist
from patdnn.models import get_model
from patdnn.prune import PruneSpec, prune_model
from patdnn.prune.train import augment


class Batches:
    """Shuffled (augmented) batches of a TensorDataset, re-iterable, with a length."""

    def __init__(self, data, batch_size: int, train: bool, seed: int = 0):
        self.data, self.batch_size, self.train, self.epoch, self.seed = data, batch_size, train, 0, seed

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        x, y = self.data.tensors
        order = torch.arange(len(x))
        if self.train:
            order = torch.randperm(len(x), generator=torch.Generator().manual_seed(self.seed * 100003 + self.epoch))
            self.epoch += 1
        for start in range(0, len(x), self.batch_size):
            index = order[start : start + self.batch_size]
            yield (augment(x[index]) if self.train else x[index]), y[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--model", default="resnet20-cifar")
    parser.add_argument("--epochs", type=int, nargs=3, default=(6, 4, 6), metavar=("DENSE", "ADMM", "RETRAIN"))
    parser.add_argument("--limit", type=int)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = get_model(args.model, num_classes=10, in_channels=1)
    train, test = load_fashion_mnist("train", limit=args.limit), load_fashion_mnist("test")
    dense, admm, retrain = args.epochs
    spec = PruneSpec(patterns="8", connectivity=3.6, dense_epochs=dense, admm_epochs=admm, retrain_epochs=retrain)
    result = prune_model(model, Batches(train, 128, True), Batches(test, 512, False), spec=spec, log=print)
    result.save(args.output, torch.zeros(1, 1, 28, 28))
    (args.output / "metrics.json").write_text(
        json.dumps({"metrics": result.metrics, "history": result.history}, indent=1)
    )
    print(result.metrics)


if __name__ == "__main__":
    main()
