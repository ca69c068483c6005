"""`patdnn map`: plans from the command line, the per-layer table, LR output, clear errors."""

import pytest
import torch

from patdnn.lr import load_plan
from patdnn.sparsity.layers import model_layers, plan_rate
from patdnn.sparsity.scheme import SchemeKind
from patdnn.tools.patdnn_cli import main


@pytest.mark.parametrize("method", ["rule", "search"])
def test_map_writes_a_plan_meeting_the_rate(tmp_path, capsys, method):
    out = tmp_path / "plan.json"
    assert main(["map", "--model", "resnet20-cifar", "--method", method, "--rate", "4", "-o", str(out)]) == 0
    plan = load_plan(out)
    from patdnn.models import get_model

    layers = model_layers(get_model("resnet20-cifar", in_channels=1), (1, 1, 28, 28))
    assert set(plan) == {layer.name for layer in layers}
    assert plan_rate(layers, plan) == pytest.approx(4, rel=0.12)
    table = capsys.readouterr().out
    assert "layer1.0.conv1" in table and "est. ms" in table and "overall:" in table


def test_map_uses_a_checkpoint_and_writes_lr_with_prune_lines(tmp_path):
    from patdnn.models import get_model

    torch.manual_seed(3)
    torch.save({"model": get_model("resnet20-cifar", in_channels=1).state_dict()}, tmp_path / "dense.pt")
    out = tmp_path / "model.lr"
    assert (
        main(
            [
                "map",
                "--model",
                "resnet20-cifar",
                "--checkpoint",
                str(tmp_path / "dense.pt"),
                "--method",
                "rule",
                "--rate",
                "4",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    text = out.read_text()
    assert "prune pattern" in text and (tmp_path / "model.lr.weights").stat().st_size > 0
    plan = load_plan(out)  # the LR's prune lines read back as the plan
    assert any(s.kind == SchemeKind.PATTERN for s in plan.values())


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--method", "rule", "--rate", "4", "-o", "p.txt"], "expected a .json plan or a .lr"),
        (["--method", "rule", "--rate", "500", "-o", "p.json"], "out of reach"),
        (["--method", "rule", "--rate", "4", "--latency", "measured", "-o", "p.json"], "options of --method search"),
        (["--method", "search", "--rate", "4", "--checkpoint", "missing.pt", "-o", "p.json"], "does not exist"),
    ],
)
def test_map_errors_are_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["map", "--model", "resnet20-cifar", *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
