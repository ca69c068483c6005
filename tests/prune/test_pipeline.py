"""The whole pipeline on a Fashion-MNIST subset (the short version of the README's recorded run):
dense training → 8-pattern library → ADMM → hard prune (3.6x connectivity) → masked retraining,
then the pruned model compiled by patdnnc with the pruner's patterns, checked against PyTorch on
real test images."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest
import torch

from patdnn.data import fashion_mnist_root, load_dataset
from patdnn.prune import load_patterns, mask_violations, pattern_masks
from patdnn.prune.pipeline import PruneConfig, build_model, run_pruning
from patdnn.testing import need_toolchain

TRAIN, TEST = 2048, 500


@pytest.fixture(scope="module")
def pruned_run(tmp_path_factory):
    if not (fashion_mnist_root() / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    out = tmp_path_factory.mktemp("prune")
    config = PruneConfig(
        output=out,
        model="resnet20-cifar",
        patterns="8",
        connectivity=3.6,
        dense_epochs=3,
        admm_epochs=1,
        retrain_epochs=2,
        train_limit=TRAIN,
        test_limit=TEST,
        threads=1,
    )
    report = run_pruning(config, log=lambda line: None)
    return out, config, report


def test_masks_hold_and_accuracy_beats_chance(pruned_run):
    out, _, report = pruned_run
    model = build_model("resnet20-cifar", "fashion-mnist")
    model.load_state_dict(torch.load(out / "pruned.pt"))
    patterns = load_patterns(out / "patterns.npz")
    assert len(patterns) == 18  # every 3x3 conv but the first (1 input channel)
    assert mask_violations(model, pattern_masks(patterns)) == 0
    library = next(iter(patterns.values()))[0]
    assert library.shape == (8, 3, 3)
    assert report["accuracy"]["pruned"] > 40.0  # chance is 10%
    assert report["compression"]["connectivity_rate"] == pytest.approx(3.6, rel=0.01)
    assert report["compression"]["pruned_conv_rate"] == pytest.approx(3.6 * 9 / 4, rel=0.01)
    assert sum(report["pattern_histogram"]) == sum(r["kept_kernels"] for r in report["layers"])


def test_outputs_and_resume(pruned_run):
    out, config, report = pruned_run
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["accuracy"] == report["accuracy"]
    assert set(on_disk["accuracy"]) == {"dense", "admm", "hard_pruned", "pruned"}
    assert "pattern histogram" in (out / "report.txt").read_text()
    epochs = [line for line in (out / "train.log").read_text().splitlines() if line.startswith("phase=")]
    assert len(epochs) == 3 + 1 + 2
    # a finished run resumes to the same result without training again
    again = run_pruning(config, log=lambda line: None)
    assert again["accuracy"] == report["accuracy"] and len(again["history"]) == len(report["history"])


def test_resume_refuses_other_settings(pruned_run):
    out, config, _ = pruned_run
    other = PruneConfig(**{**config.__dict__, "connectivity": 2.0})
    with pytest.raises(ValueError, match="connectivity"):
        run_pruning(other, log=lambda line: None)


def test_patdnnc_compiles_the_pruned_model_and_matches_pytorch(pruned_run, tmp_path):
    need_toolchain("host")
    out, _, _ = pruned_run
    build = tmp_path / "build"
    result = subprocess.run(
        [
            "patdnnc",
            str(out / "model.pt2"),
            "--patterns",
            str(out / "patterns.npz"),
            "-o",
            str(build),
            "--build",
            "host",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # the IR's pattern convs use exactly the pruner's library
    library = next(iter(load_patterns(out / "patterns.npz").values()))[0]
    ours = {"|".join("".join(str(int(v)) for v in row) for row in pattern) for pattern in library}
    in_ir = re.findall(r"#pattern.library<3x3, \[([^\]]*)\]", (build / "model.mlir").read_text())
    assert len(in_ir) == 18
    assert set().union(*({p.strip(' "') for p in layer.split(",")} for layer in in_ir)) == ours
    model = build_model("resnet20-cifar", "fashion-mnist").eval()
    model.load_state_dict(torch.load(out / "pruned.pt"))
    images, labels = load_dataset("fashion-mnist", "test", limit=8).tensors
    for i, image in enumerate(images):
        image[None].numpy().tofile(tmp_path / "in.bin")
        run = subprocess.run(
            [
                str(build / "model_run"),
                "--weights-dir",
                str(build),
                str(tmp_path / "in.bin"),
                str(tmp_path / "out.bin"),
            ],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        got = np.fromfile(tmp_path / "out.bin", dtype=np.float32)
        with torch.no_grad():
            expected = model(image[None]).numpy().ravel()
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3, err_msg=f"test image {i}")


def test_pruning_from_a_dense_checkpoint(pruned_run, tmp_path):
    out, config, report = pruned_run
    again = PruneConfig(
        **{
            **config.__dict__,
            "output": tmp_path / "from-dense",
            "dense_checkpoint": out / "dense.pt",
            "dense_epochs": 0,
            "admm_epochs": 0,
            "retrain_epochs": 0,
        }
    )
    result = run_pruning(again, log=lambda line: None)
    assert result["accuracy"]["dense"] == report["accuracy"]["dense"]  # the same dense model, not retrained
    assert not [h for h in result["history"] if h["phase"] == "dense"]


def test_dense_checkpoint_of_another_model_is_a_clear_error(tmp_path):
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "other.pt")
    config = PruneConfig(output=tmp_path / "o", dense_checkpoint=tmp_path / "other.pt", train_limit=64, test_limit=64)
    with pytest.raises(ValueError, match="does not fit resnet20-cifar"):
        run_pruning(config, log=lambda line: None)


def test_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    import patdnn.prune.pipeline as pipeline

    config = PruneConfig(
        output=tmp_path / "o",
        dense_epochs=2,
        admm_epochs=1,
        retrain_epochs=1,
        train_limit=256,
        test_limit=100,
        threads=1,
    )
    real_train_epoch, calls = pipeline.train_epoch, []

    def interrupted(*args, **kwargs):
        calls.append(kwargs)
        if len(calls) == 3:  # the ADMM epoch
            raise KeyboardInterrupt
        return real_train_epoch(*args, **kwargs)

    monkeypatch.setattr(pipeline, "train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_pruning(config, log=lambda line: None)
    monkeypatch.setattr(pipeline, "train_epoch", real_train_epoch)
    report = run_pruning(config, log=lambda line: None)
    assert [(h["phase"], h["epoch"]) for h in report["history"]] == [
        ("dense", 1),
        ("dense", 2),
        ("admm", 1),
        ("retrain", 1),
    ]
