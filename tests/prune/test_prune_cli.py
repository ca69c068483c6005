"""`patdnn prune` from the command line: help, user mistakes (one line, exit 1), torchrun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import torch
from conftest import run_patdnn

from patdnn.data import fashion_mnist_root
from patdnn.prune import load_patterns, mask_violations, pattern_masks
from patdnn.prune.pipeline import build_model


def test_help_explains_the_pipeline(capsys):
    status, out, _ = run_patdnn(capsys, "prune", "--help")
    assert status == 0
    for option in (
        "--patterns",
        "--connectivity",
        "--admm-epochs",
        "--retrain-epochs",
        "--dense-checkpoint",
        "--device",
        "--restart",
        "pconv-cross",
    ):
        assert option in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "alexnet"], "alexnet"),
        (["--model", "resnet18"], "3-channel"),
        (["--connectivity", "0.5"], "connectivity"),
        (["--patterns", "99"], "library size 99"),
        (["--patterns", "nope"], "nope"),
        (["--dense-checkpoint", "/nonexistent/dense.pt"], "does not exist"),
        (["--data", "cifar10"], "cifar10"),
        (["--dense-epochs", "-1"], "-1"),
    ],
)
def test_user_mistakes_are_one_line(prune_mistake, args, message):
    prune_mistake(args, message)


def test_missing_dataset_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATDNN_FASHION_MNIST", str(tmp_path))
    status, _, err = run_patdnn(capsys, "prune", "-o", str(tmp_path / "o"))
    assert status == 1
    assert "dataset-fashion-mnist" in err and len(err.strip().splitlines()) == 1


def test_torchrun_two_processes_gloo(tmp_path):
    """The unchanged command under torchrun: 2 CPU ranks, DistributedDataParallel over gloo."""
    if not (fashion_mnist_root() / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    out = tmp_path / "ddp"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "patdnn.tools.patdnn_cli",
        "prune",
        "-o",
        str(out),
        *"--train-limit 256 --test-limit 101 --dense-epochs 1 --admm-epochs 1 --retrain-epochs 1".split(),
        *"--batch-size 64 --threads 1".split(),
    ]
    # own session: on a hang, the workers are killed with torchrun (not left behind)
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        _, stderr = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("torchrun did not finish in 180 s")
    assert process.returncode == 0, stderr[-3000:]
    log = (out / "train.log").read_text()
    assert "ranks: 2 (gloo)" in log
    report = json.loads((out / "report.json").read_text())
    assert len(report["history"]) == 3
    model = build_model("resnet20-cifar", "fashion-mnist")
    model.load_state_dict(torch.load(out / "pruned.pt"))
    assert mask_violations(model, pattern_masks(load_patterns(out / "patterns.npz"))) == 0
