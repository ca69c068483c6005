"""`patdnn prune --schemes PLAN` end to end on a tiny run: a mixed plan (pattern + block columns +
block rows + dense), its outputs (schemes.json, report, masks), resume, and the default plan."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import run_patdnn

from patdnn.data import fashion_mnist_root
from patdnn.lr import load_plan
from patdnn.prune import load_patterns, mask_violations, pattern_masks
from patdnn.prune.pipeline import build_model
from patdnn.sparsity import Scheme, parse_scheme
from patdnn.sparsity.block import project_block
from patdnn.sparsity.layers import kept_weights, model_layers
from patdnn.sparsity.plan import save_plan

PLAN = {
    "layer1.0.conv1": Scheme.pattern(2.0),
    "layer2.0.conv2": Scheme.pattern(2.0),
    "layer2.1.conv1": Scheme.blocks(8, 16, 4),
    "layer3.0.downsample.0": Scheme.blocks(4, 8, 2),
    "layer3.2.conv2": Scheme.blocks(8, 16, 2, "rows"),
    "fc": Scheme.blocks(2, 16, 2),
}
TINY = (
    "--train-limit 256 --test-limit 100 --dense-epochs 1 --admm-epochs 1 --retrain-epochs 1 --batch-size 64 --threads 1"
)
TINY = TINY.split()


def _patdnn(capsys, *args: str) -> tuple[int, str]:
    status, _, err = run_patdnn(capsys, *args)
    return status, err


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    if not (fashion_mnist_root() / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    root = tmp_path_factory.mktemp("schemes")
    save_plan(PLAN, root / "plan.json")
    from patdnn.tools.patdnn_cli import main

    assert main(["prune", "-o", str(root / "out"), "--schemes", str(root / "plan.json"), *TINY]) == 0
    return root


def test_schemes_json_is_the_plan_applied(mixed_run):
    applied = load_plan(mixed_run / "out" / "schemes.json")
    model = build_model("resnet20-cifar", "fashion-mnist")
    assert list(applied) == [n for n, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert {n: s for n, s in applied.items() if s != Scheme.dense()} == PLAN
    log = (mixed_run / "out" / "train.log").read_text()
    assert "residual_pattern=" in log and "residual_connectivity=" in log and "residual_block=" in log
    assert f"--schemes {mixed_run / 'out'}/schemes.json" in log


def test_pruned_weights_have_each_layers_structure(mixed_run):
    model = build_model("resnet20-cifar", "fashion-mnist")
    model.load_state_dict(torch.load(mixed_run / "out" / "pruned.pt"))
    modules, shapes = dict(model.named_modules()), {layer.name: layer for layer in model_layers(model, (1, 1, 28, 28))}
    patterns = load_patterns(mixed_run / "out" / "patterns.npz")
    assert set(patterns) == {"layer1.0.conv1", "layer2.0.conv2"}
    assert mask_violations(model, pattern_masks(patterns)) == 0
    for name, scheme in PLAN.items():
        if scheme.kind == "block":
            w = modules[name].weight.detach().numpy()
            np.testing.assert_array_equal(project_block(w, scheme), w, err_msg=name)  # in the block set
            assert int((w != 0).sum()) == kept_weights(shapes[name], scheme), name
    dense = modules["layer1.1.conv1"].weight
    assert int((dense != 0).sum()) == dense.numel()


def test_report_per_layer_and_overall(mixed_run):
    report = json.loads((mixed_run / "out" / "report.json").read_text())
    rows = {r["layer"]: r for r in report["layers"]}
    assert set(rows) == set(PLAN)
    assert rows["fc"]["scheme"] == "block 2x16 2x" and rows["fc"]["kept_fraction"] == pytest.approx(0.5)
    assert "kernels" not in rows["fc"] and rows["layer2.1.conv1"]["kept_fraction"] == pytest.approx(0.25)
    assert rows["layer1.0.conv1"]["kept_weights"] == 16 * 16 // 2 * 4  # half the kernels, 4 entries each
    c = report["compression"]
    assert c["kept_weights"] == sum(r["kept_weights"] for r in rows.values())
    pruned_away = c["pruned_weights"] - c["kept_weights"]
    assert c["kept_layer_weights"] == c["layer_weights"] - pruned_away
    assert c["layers_rate"] == pytest.approx(c["layer_weights"] / c["kept_layer_weights"])
    text = (mixed_run / "out" / "report.txt").read_text()
    assert "block 8x16 2x rows" in text and "dense layers (16): conv1, " in text  # 22 conv/linear − 6


def test_resume_refuses_another_plan(mixed_run, capsys):
    other = mixed_run / "other.json"
    save_plan({**PLAN, "fc": Scheme.blocks(2, 16, 4)}, other)
    status, err = _patdnn(capsys, "prune", "-o", str(mixed_run / "out"), "--schemes", str(other), *TINY)
    assert status == 1 and "different schemes" in err
    # the same plan under another file name: the plan is what must match, so rewrite ours in place
    save_plan({**PLAN, "fc": Scheme.blocks(2, 16, 4)}, mixed_run / "plan.json")
    status, err = _patdnn(
        capsys, "prune", "-o", str(mixed_run / "out"), "--schemes", str(mixed_run / "plan.json"), *TINY
    )
    assert status == 1 and "different plan" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--schemes", "blocks:8x16"], "blocks:ROWSxCOLS:RATE"),
        (["--schemes", "rule"], "needs the overall target --rate"),
        (["--schemes", "rule", "--rate", "0.5"], "--rate"),
        (["--schemes", "nope.json"], "does not exist"),
    ],
)
def test_scheme_mistakes_are_one_line(prune_mistake, args, message):
    prune_mistake(args, message)


def test_bad_layer_in_plan_fails_before_training(capsys, tmp_path):
    (tmp_path / "p.json").write_text(json.dumps({"layers": {"layer9.conv": "block 8x16 4x"}}))
    status, err = _patdnn(
        capsys,
        "prune",
        "-o",
        str(tmp_path / "o"),
        "--schemes",
        str(tmp_path / "p.json"),
        "--train-limit",
        "64",
        "--test-limit",
        "64",
    )
    assert status == 1 and "layer 'layer9.conv' does not exist" in err
    assert not (tmp_path / "o" / "dense.pt").exists()  # failed before the dense phase


def test_default_plan_is_patterns(capsys, tmp_path):
    """Without --schemes: PatDNN's plan, recorded in the settings and schemes.json."""
    if not (fashion_mnist_root() / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    out = tmp_path / "o"
    status, err = _patdnn(
        capsys,
        "prune",
        "-o",
        str(out),
        *TINY[:4],
        "--dense-epochs",
        "1",
        "--admm-epochs",
        "0",
        "--retrain-epochs",
        "0",
        "--threads",
        "1",
    )
    assert status == 0, err
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["schemes"] == "patterns" and report["settings"]["rate"] is None
    assert {parse_scheme(t) for t in report["schemes"].values()} == {Scheme.dense(), Scheme.pattern(3.6)}
    assert len(load_patterns(out / "patterns.npz")) == 18
    assert report["compression"]["connectivity_rate"] == pytest.approx(3.6, rel=0.01)
