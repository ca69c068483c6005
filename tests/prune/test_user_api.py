"""Pruning a user's own network on a user's own data through the library API: `prune_model`
(turnkey), a hand-written loop with a `Pruner`, and the Lightning-style `PruningCallback` driven by
a small fake trainer. The network is not in patdnn.models; the data are real PNG files."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from patdnn.data import image_folder_splits
from patdnn.data.sources import load_python_factory
from patdnn.prune import (
    Pruner,
    PruneSpec,
    PruningCallback,
    load_patterns,
    mask_violations,
    pattern_masks,
    prune_model,
    top1_accuracy,
)
from patdnn.testing import need_toolchain

SPEC = dict(patterns="4", connectivity=2.0, lr=0.05, admm_lr=0.02, retrain_lr=0.02, weight_decay=1e-4)


def make_net(net_file, **kwargs):
    return load_python_factory(f"{net_file}:make_net", "model")[2](**kwargs)


@pytest.fixture(scope="module")
def loaders(image_folder):
    train, test = image_folder_splits(image_folder)
    assert (len(train), len(test), train.channels, train.classes) == (30, 6, 1, ["checker", "columns", "stripes"])
    return DataLoader(train, batch_size=6, shuffle=True), DataLoader(test, batch_size=6)


@pytest.fixture(scope="module")
def turnkey(net_file, loaders):
    torch.manual_seed(0)
    model = make_net(net_file, in_channels=1, num_classes=3)
    train, val = loaders
    spec = PruneSpec(dense_epochs=4, admm_epochs=2, retrain_epochs=2, **SPEC)
    lines = []
    result = prune_model(model, train, val, torch.nn.functional.cross_entropy, spec, log=lines.append)
    return model, result, lines


def test_turnkey_prunes_the_user_network(turnkey):
    model, result, lines = turnkey
    assert result.model is model
    assert list(result.patterns) == ["conv2"]  # conv1 reads the image and stays dense
    assert {str(s) for s in result.plan.values()} == {"dense", "pattern 2x"}
    library, ids = result.patterns["conv2"]
    assert library.shape == (4, 3, 3) and ids.shape == (16, 8)
    assert (ids >= 0).sum() == 64  # half of the 128 kernels kept
    assert mask_violations(model, result.masks()) == 0
    assert set(result.metrics) == {"dense", "admm", "hard_pruned", "pruned"}
    assert [h["phase"] for h in result.history] == ["dense"] * 4 + ["admm"] * 2 + ["retrain"] * 2
    assert "rho" in result.history[4] and "residual_pattern" in result.history[4]
    assert len(lines) == 8


def test_saved_model_keeps_masks_and_compiles_to_the_same_outputs(turnkey, net_file, loaders, tmp_path):
    model, result, _ = turnkey
    result.save(tmp_path / "out", torch.zeros(1, 1, 12, 12))
    for name in ("pruned.pt", "patterns.npz", "schemes.json", "model.pt2"):
        assert (tmp_path / "out" / name).exists()
    fresh = make_net(net_file, num_classes=3)
    fresh.load_state_dict(torch.load(tmp_path / "out" / "pruned.pt"))
    patterns = load_patterns(tmp_path / "out" / "patterns.npz")
    assert mask_violations(fresh, pattern_masks(patterns)) == 0
    need_toolchain("host")
    build = tmp_path / "build"
    command = ["patdnnc", str(tmp_path / "out" / "model.pt2"), "--patterns", str(tmp_path / "out" / "patterns.npz")]
    compiled = subprocess.run([*command, "-o", str(build), "--build", "host"], capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr
    assert "pattern.conv2d" in (build / "model.mlir").read_text()
    fresh.eval()
    images, _ = next(iter(loaders[1]))
    for image in images[:3]:
        image[None].numpy().tofile(tmp_path / "in.bin")
        run = subprocess.run(
            [str(build / "model_run"), "--weights-dir", str(build), str(tmp_path / "in.bin"), str(tmp_path / "o.bin")],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, run.stderr
        with torch.no_grad():
            expected = fresh(image[None]).numpy().ravel()
        np.testing.assert_allclose(np.fromfile(tmp_path / "o.bin", np.float32), expected, rtol=1e-3, atol=1e-4)


def test_hand_written_loop_with_a_pruner(net_file, loaders):
    torch.manual_seed(1)
    model = make_net(net_file, num_classes=3)
    train, val = loaders
    # --- what a user adds to their loop: four lines ---
    pruner = Pruner(model, PruneSpec(dense_epochs=3, admm_epochs=2, retrain_epochs=2, **SPEC), calibration=train)
    optimizer = pruner.attach(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4))
    phases = []
    for _ in range(pruner.total_epochs):
        pruner.begin_epoch()
        phases.append(pruner.phase)
        model.train()
        for x, y in train:
            loss = pruner.loss(torch.nn.functional.cross_entropy(model(x), y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()  # + ADMM's Z/U steps, or the masks on weights and momentum
        pruner.end_epoch()  # switches phase; hard-prunes after the last ADMM epoch
    result = pruner.result()
    assert phases == ["dense"] * 3 + ["admm"] * 2 + ["retrain"] * 2 and pruner.phase == "done"
    masks = result.masks()
    assert list(masks) == ["conv2"] and mask_violations(model, masks) == 0
    momentum = optimizer.state[model.conv2.weight]["momentum_buffer"]
    assert not momentum[masks["conv2"] == 0].any()  # the optimizer state is masked too
    assert top1_accuracy(model, val) >= 0.0
    # after the run the hooks are gone: plain training may move pruned weights again
    loss = torch.nn.functional.cross_entropy(model(next(iter(train))[0]), next(iter(train))[1])
    loss.backward()
    assert model.conv2.weight.grad[masks["conv2"] == 0].abs().sum() > 0


def test_pruner_state_resumes_mid_admm(net_file, loaders):
    train, _ = loaders
    torch.manual_seed(2)
    model = make_net(net_file, num_classes=3)
    spec = PruneSpec(dense_epochs=0, admm_epochs=3, retrain_epochs=1, **SPEC)
    pruner = Pruner(model, spec, steps_per_epoch=len(train))
    optimizer = pruner.attach(torch.optim.SGD(model.parameters(), lr=0.02))
    pruner.begin_epoch()
    for x, y in train:
        optimizer.zero_grad()
        pruner.loss(torch.nn.functional.cross_entropy(model(x), y)).backward()
        optimizer.step()
    pruner.end_epoch()
    state, weights = pruner.state_dict(), {k: v.clone() for k, v in model.state_dict().items()}
    again = make_net(net_file, num_classes=3)
    again.load_state_dict(weights)
    resumed = Pruner(again, spec, steps_per_epoch=len(train))
    resumed.load_state_dict(state)
    assert (resumed.phase, resumed.epoch) == ("admm", 1)
    for kind, tensors in pruner.admm.Zs.items():
        for name, z in tensors.items():
            assert torch.equal(resumed.admm.Zs[kind][name], z)
            assert torch.equal(resumed.admm.Us[kind][name], pruner.admm.Us[kind][name])
    assert torch.allclose(resumed.penalty(), pruner.penalty())


def test_penalty_gradient_equals_the_penalty_loss(net_file):
    torch.manual_seed(3)
    model = make_net(net_file, num_classes=3)
    pruner = Pruner(model, PruneSpec(**SPEC))
    pruner.start_admm()
    pruner.admm.set_rho(0.7)
    pruner.penalty().backward()
    by_loss = model.conv2.weight.grad.clone()
    model.zero_grad(set_to_none=True)
    pruner.add_penalty_grad()
    torch.testing.assert_close(model.conv2.weight.grad, by_loss)


class FakeTrainer:
    """Calls a callback's hooks in PyTorch Lightning's order (fit → epochs → batches)."""

    def __init__(self, max_epochs: int, loader, optimizer):
        self.max_epochs, self.train_dataloader, self.optimizers = max_epochs, loader, [optimizer]
        self.num_training_batches = len(loader)

    def fit(self, module, callback):
        optimizer = self.optimizers[0]
        callback.on_fit_start(self, module)
        for _ in range(self.max_epochs):
            callback.on_train_epoch_start(self, module)
            module.train()
            for x, y in self.train_dataloader:
                loss = torch.nn.functional.cross_entropy(module(x), y)  # training_step
                optimizer.zero_grad()
                loss.backward()
                callback.on_before_optimizer_step(self, module, optimizer)
                optimizer.step()
            callback.on_train_epoch_end(self, module)


def test_lightning_callback_with_a_fake_trainer(net_file, loaders):
    torch.manual_seed(4)
    model = make_net(net_file, num_classes=3)
    train, _ = loaders
    callback = PruningCallback(PruneSpec(dense_epochs=2, admm_epochs=2, retrain_epochs=1, **SPEC))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    FakeTrainer(5, train, optimizer).fit(model, callback)
    result = callback.result()
    assert callback.pruner.phase == "done"
    assert list(result.patterns) == ["conv2"] and mask_violations(model, result.masks()) == 0
    assert set(callback.state_dict()) >= {"phase", "plan", "library", "patterns"}
