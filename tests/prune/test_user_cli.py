"""`patdnn prune` / `patdnn map` on a user's model (`--model FILE.py:FUNCTION`, a module saved
whole) and data (`--data imagefolder:DIR`, `--data FILE.py:FUNCTION`): outputs, masks, resume after
a stop, and each user mistake as one line with exit status 1."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import NET_SOURCE, write_image_folder

from patdnn.prune import load_patterns, mask_violations, pattern_masks
from patdnn.tools.patdnn_cli import main

QUICK = ["--batch-size", "8", "--threads", "1", "--patterns", "4", "--connectivity", "2", "--lr", "0.05"]


def _patdnn(capsys, *args) -> tuple[int, str, str]:
    try:
        status = main([str(a) for a in args])
    except SystemExit as e:
        status = e.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _net(net_file, **kwargs):
    namespace: dict = {}
    exec(NET_SOURCE, namespace)
    return namespace["make_net"](**kwargs)


@pytest.fixture(scope="module")
def cli_run(image_folder, net_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "out"
    args = ["prune", "--model", f"{net_file}:make_net", "--data", f"imagefolder:{image_folder}", "-o", out]
    args += ["--dense-epochs", "2", "--admm-epochs", "1", "--retrain-epochs", "1", *QUICK]
    assert main([str(a) for a in args]) == 0
    return out, args


def test_prune_a_user_model_on_an_image_folder(cli_run, net_file):
    out, _ = cli_run
    for name in ("report.json", "report.txt", "train.log", "dense.pt", "pruned.pt", "patterns.npz", "schemes.json"):
        assert (out / name).exists(), name
    assert (out / "model.pt2").exists()
    report = json.loads((out / "report.json").read_text())
    assert [r["layer"] for r in report["layers"]] == ["conv2"]
    assert report["compression"]["connectivity_rate"] == pytest.approx(2.0)
    assert set(report["accuracy"]) == {"dense", "admm", "hard_pruned", "pruned"}
    model = _net(net_file, in_channels=1, num_classes=3)  # channels and classes came from the folder
    model.load_state_dict(torch.load(out / "pruned.pt"))
    assert mask_violations(model, pattern_masks(load_patterns(out / "patterns.npz"))) == 0
    exported = torch.export.load(str(out / "model.pt2"))
    assert tuple(exported.module()(torch.zeros(1, 1, 12, 12)).shape) == (1, 3)


def test_a_user_run_resumes_after_a_stop(image_folder, net_file, tmp_path, monkeypatch, capsys):
    import patdnn.prune.pipeline as pipeline

    out = tmp_path / "o"
    args = ["prune", "--model", f"{net_file}:make_net", "--data", f"imagefolder:{image_folder}", "-o", out]
    args += ["--dense-epochs", "2", "--admm-epochs", "1", "--retrain-epochs", "1", *QUICK]
    real, calls = pipeline.train_epoch, []

    def stopped(*a, **k):
        calls.append(1)
        if len(calls) == 3:  # during the ADMM epoch
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(pipeline, "train_epoch", stopped)
    status, _, err = _patdnn(capsys, *args)
    assert status == 130 and "resume" in err
    monkeypatch.setattr(pipeline, "train_epoch", real)
    assert _patdnn(capsys, *args)[0] == 0
    report = json.loads((out / "report.json").read_text())
    assert [(h["phase"], h["epoch"]) for h in report["history"]] == [
        ("dense", 1),
        ("dense", 2),
        ("admm", 1),
        ("retrain", 1),
    ]
    status, _, err = _patdnn(capsys, *[a if a != "2" else "3" for a in args[:-2]], "--crop", "10")
    assert status == 1 and "crop" in err and len(err.strip().splitlines()) == 1


def test_data_factory_and_a_module_saved_whole(tmp_path, capsys, monkeypatch):
    data_file = tmp_path / "mydata.py"
    data_file.write_text(
        "import torch\n"
        "from torch.utils.data import TensorDataset\n"
        "def splits():\n"
        "    g = torch.Generator().manual_seed(0)\n"
        "    x, y = torch.randn(48, 3, 10, 10, generator=g), torch.arange(48) % 4\n"
        "    x[y == 1] += 1.0\n"
        "    return TensorDataset(x[:40], y[:40]), TensorDataset(x[40:], y[40:])\n"
    )
    # a module saved whole needs its class importable when loaded: the user's own package
    (tmp_path / "user_tinynet.py").write_text(NET_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import user_tinynet

    torch.save(user_tinynet.make_net(in_channels=3, num_classes=4), tmp_path / "whole.pt")
    out = tmp_path / "o"
    args = ["prune", "--model", tmp_path / "whole.pt", "--data", f"{data_file}:splits", "-o", out]
    status, _, err = _patdnn(
        capsys, *args, "--dense-epochs", "0", "--admm-epochs", "1", "--retrain-epochs", "1", *QUICK
    )
    assert status == 0, err
    report = json.loads((out / "report.json").read_text())
    assert report["layers"][0]["shape"] == [16, 8, 3, 3]
    assert json.loads((out / "schemes.json").read_text())["layers"]["conv2"] == "pattern 2x"


def test_map_a_user_model(image_folder, net_file, tmp_path, capsys):
    plan = tmp_path / "plan.json"
    args = ["map", "--model", f"{net_file}:make_net", "--data", f"imagefolder:{image_folder}", "--method", "rule"]
    status, out, err = _patdnn(capsys, *args, "--rate", "2", "-o", plan)
    assert status == 0, err
    assert "conv2" in out and set(json.loads(plan.read_text())["layers"]) == {"conv1", "conv2", "fc"}
    status, _, err = _patdnn(
        capsys, "map", "--model", f"{net_file}:make_net", "--method", "rule", "--rate", "2", "-o", plan
    )
    assert status == 1 and "--input-size" in err


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory, image_folder):
    root = tmp_path_factory.mktemp("mistakes")
    (root / "empty" / "no-images").mkdir(parents=True)
    mixed = write_image_folder(root / "mixed", per_class=5)
    write_image_folder(root / "rgb", per_class=1, mode="RGB")
    (root / "rgb" / "checker" / "000.png").rename(mixed / "checker" / "rgb.png")
    torch.save(torch.nn.Linear(2, 2).state_dict(), root / "other.pt")
    torch.save({"conv1.weight": torch.zeros(1)}, root / "state.pt")
    return root


@pytest.mark.parametrize(
    "model, data, extra, message",
    [
        ("{net}:build", "imagefolder:{images}", [], "does not define a function 'build'; it defines"),
        ("{net}:not_a_module", "imagefolder:{images}", [], "returned list, not a torch.nn.Module"),
        ("{net}", "imagefolder:{images}", [], "name the function"),
        ("{root}/missing.py:make", "imagefolder:{images}", [], "does not exist"),
        ("{root}/net.pt2", "imagefolder:{images}", [], "torch.export program cannot be trained"),
        ("{root}/state.pt", "imagefolder:{images}", [], "holds a state_dict, not a module"),
        ("alexnet", "imagefolder:{images}", [], "unknown model 'alexnet'"),
        ("{net}:make_net", "imagefolder:{root}/empty", [], "has no classes"),
        ("{net}:make_net", "imagefolder:{root}/nowhere", [], "does not exist"),
        ("{net}:make_net", "imagefolder:{root}/mixed", [], "mixed modes (L: 12"),
        ("{net}:make_net", "imagefolder:{images}", ["--checkpoint", "{root}/other.pt"], "does not fit"),
        ("{net}:make_net", "imagefolder:{images}", ["--input-size", "32"], "--input-size pads Fashion-MNIST"),
        ("{net}:make_net", "imagefolder:{images}", ["--crop", "20"], "larger than the image"),
        ("{net}:make_net", "cifar10", [], "unknown data 'cifar10'"),
        ("{net}:make_net", "{root}/nodata.py:f", [], "data file"),
    ],
)
def test_user_mistakes_are_one_line(capsys, mistakes, image_folder, net_file, tmp_path, model, data, extra, message):
    names = {"net": net_file, "images": image_folder, "root": mistakes}
    args = ["prune", "--model", model.format(**names), "--data", data.format(**names), "-o", tmp_path / "o"]
    status, _, err = _patdnn(capsys, *args, *(a.format(**names) for a in extra), "--dense-epochs", "0")
    lines = err.strip().splitlines()
    assert status == 1 and len(lines) == 1 and message in lines[0], err
