"""Small modules of today's CNNs through patdnn.compile, outputs equal PyTorch's: a ShuffleNet-V2
unit (chunk, concat, channel shuffle), a ConvNeXt block (LayerNorm2d, a channels-last LayerNorm
and linear layers between permutes), pre-activation blocks (BatchNorm → ReLU → conv, BatchNorm
after a pool, BatchNorm2d(affine=False), BatchNorm folded into the 1x1 conv it feeds), and the
general layout ops (slices, selects, permutes, concatenation and softmax along other axes, means
over channels). Random weights and BatchNorm statistics, odd channel counts and sizes, batch 2.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import patdnn
from patdnn.frontend import UnsupportedLayerError, import_module
from patdnn.models import randomize_batchnorm
from patdnn.testing import need_toolchain

warnings.filterwarnings("ignore", category=FutureWarning)


def conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, relu: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, *([nn.ReLU()] if relu else []))


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """torchvision's shufflenetv2.channel_shuffle."""
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class ShuffleUnit(nn.Module):
    """torchvision's InvertedResidual (ShuffleNet-V2), stride 1 then stride 2."""

    def __init__(self, channels: int):
        super().__init__()
        half = channels // 2
        self.branch = nn.Sequential(
            conv_bn(half, half, 1), conv_bn(half, half, 3, groups=half, relu=False), conv_bn(half, half, 1)
        )
        self.down1 = nn.Sequential(
            conv_bn(channels, channels, 3, 2, groups=channels, relu=False), conv_bn(channels, half, 1)
        )
        self.down2 = nn.Sequential(
            conv_bn(channels, half, 1), conv_bn(half, half, 3, 2, groups=half, relu=False), conv_bn(half, half, 1)
        )

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        x = channel_shuffle(torch.cat((x1, self.branch(x2)), dim=1), 2)
        return channel_shuffle(torch.cat((self.down1(x), self.down2(x)), dim=1), 2)


class LayerNorm2d(nn.LayerNorm):
    """torchvision.models.convnext.LayerNorm2d."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """torchvision's CNBlock (layer scale and GELU left out) after a LayerNorm2d stem."""

    def __init__(self, dim: int):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dim, 2, 2), LayerNorm2d(dim, eps=1e-6))
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.fc1, self.act, self.fc2 = nn.Linear(dim, 4 * dim), nn.ReLU(), nn.Linear(4 * dim, dim)
        self.head_norm = LayerNorm2d(dim, elementwise_affine=False)

    def forward(self, x):
        x = self.stem(x)
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.fc2(self.act(self.fc1(self.norm(y))))
        return self.head_norm(x + y.permute(0, 3, 1, 2))


class PreActBlock(nn.Module):
    """Pre-activation ResNet / DenseNet layers: BN → ReLU → conv, a BN feeding a 1x1 conv (folded
    into it), BN after a pool, BN(affine=False) after an add."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.bn_fold, self.conv_1x1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 1, bias=False)
        self.pool, self.bn_pool = nn.MaxPool2d(2), nn.BatchNorm2d(cout)
        self.bn_plain = nn.BatchNorm2d(cout, affine=False)

    def forward(self, x):
        y = self.conv2(torch.relu(self.bn2(self.conv1(torch.relu(self.bn1(x))))))
        z = self.bn_plain(y + self.conv_1x1(self.bn_fold(x)))
        return nn.functional.relu6(self.bn_pool(self.pool(z)))


class LayoutOps(nn.Module):
    """Slices, selects, permutes, transposes, splits, concatenation, softmax and means along other axes."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(5, 6, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)  # (2, 6, 7, 9)
        a, b, c = torch.split(y, [1, 2, 3], dim=1)
        pooled = b[:, :, ::3].mean(1, keepdim=True)  # (2, 1, 3, 9)
        rows = torch.cat([c[:, :, 1:], torch.cat([pooled] * 3, dim=1)], dim=2)  # (2, 3, 9, 9)
        cols = y.transpose(2, 3)[:, :, 2:7:2].permute(0, 1, 3, 2)  # (2, 6, 7, 3)
        s = torch.log_softmax(rows, dim=1) + torch.softmax(rows, dim=2)
        m = y.mean(dim=1)  # (2, 7, 9)
        first = y[:, 0] + a.squeeze(1)
        return torch.cat([s.flatten(1), cols.flatten(1), (m + first).flatten(1)], dim=1)


class LinearOnPermuted(nn.Module):
    """A linear layer on a permuted (not contiguous) tensor: torch's matmul becomes expand → bmm."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(7, 9)

    def forward(self, x):
        return self.fc(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _randomized(model: nn.Module, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.3)
    return randomize_batchnorm(model.eval())


MODULES = {
    "shufflenet_v2_unit": (lambda: ShuffleUnit(24), (2, 24, 9, 11)),
    "convnext_block": (lambda: ConvNeXtBlock(19), (2, 3, 22, 18)),
    "preact_block": (lambda: PreActBlock(7, 11), (2, 7, 9, 13)),
    "layout_ops": (LayoutOps, (2, 5, 7, 9)),
    "linear_on_permuted": (LinearOnPermuted, (2, 7, 5, 3)),
}


def assert_matches(actual, expected, tolerance: float = 1e-4) -> None:
    scale = float(expected.abs().max())
    error = float((torch.as_tensor(actual) - expected).abs().max())
    assert actual.shape == expected.shape
    assert error <= tolerance * scale, f"max abs error {error}, output scale {scale}"


@pytest.mark.parametrize("target", ["auto", "opencl"])
@pytest.mark.parametrize("name", list(MODULES))
def test_module_matches_pytorch(name, target, tmp_path):
    need_toolchain("opencl" if target == "opencl" else "host")
    factory, shape = MODULES[name]
    model = _randomized(factory(), 0)
    x = torch.randn(*shape)
    compiled = patdnn.compile(model, x, outdir=tmp_path, threads=2, target=target)
    with torch.no_grad():
        assert_matches(compiled(x), model(x))


def _ops(model: nn.Module, shape: tuple[int, ...]) -> list[str]:
    module = import_module(_randomized(model, 0), torch.randn(*shape))
    return [op.name for op in module.walk() if op.name.startswith(("nn.", "pattern.", "block."))]


def test_shuffle_unit_becomes_slices_and_channel_shuffles():
    ops = _ops(ShuffleUnit(24), (2, 24, 9, 11))
    assert ops.count("nn.slice") == 2 and ops.count("nn.channel_shuffle") == 2
    assert "nn.permute" not in ops and "nn.reshape" not in ops


def test_layer_norm_2d_loses_its_permutes():
    ops = _ops(nn.Sequential(nn.Conv2d(3, 8, 1), LayerNorm2d(8)), (1, 3, 5, 5))
    assert ops == ["nn.conv2d", "nn.layer_norm"]


def test_convnext_block_runs_on_nchw():
    """permute → LayerNorm → Linear → ReLU → Linear → permute: a layer_norm over channels and two
    1x1 convolutions (the ReLU fused into the first), no permute, reshape or linear layer left."""
    ops = _ops(ConvNeXtBlock(19), (2, 3, 22, 18))
    assert ops == [
        "nn.conv2d",
        "nn.layer_norm",
        "nn.conv2d",
        "nn.layer_norm",
        "nn.conv2d",
        "nn.conv2d",
        "nn.add",
        "nn.layer_norm",
    ]


class _Branching(nn.Module):
    """A channels-last tensor used twice: the permutes stay."""

    def __init__(self):
        super().__init__()
        self.norm, self.fc = nn.LayerNorm(6), nn.Linear(6, 6)

    def forward(self, x):
        y = self.norm(x.permute(0, 2, 3, 1))
        return (self.fc(y) + y).permute(0, 3, 1, 2)


def test_a_branching_channels_last_run_keeps_its_permutes(tmp_path):
    need_toolchain("host")
    model = _randomized(_Branching(), 2)
    assert _ops(model, (2, 6, 3, 5)).count("nn.permute") == 2
    x = torch.randn(2, 6, 3, 5)
    with torch.no_grad():
        assert_matches(patdnn.compile(model, x, outdir=tmp_path, target="scalar")(x), model(x))


def test_batchnorms_without_a_conv_before_them():
    """BN → ReLU: a scale_shift with the ReLU fused; BN → unpadded conv: folded into it; BN after
    a pool or an add: a scale_shift."""
    ops = _ops(PreActBlock(7, 11), (2, 7, 9, 13))
    assert ops == [
        "nn.scale_shift",
        "nn.conv2d",
        "nn.conv2d",
        "nn.conv2d",
        "nn.add",
        "nn.scale_shift",
        "nn.pool2d",
        "nn.scale_shift",
    ]
    module = import_module(_randomized(PreActBlock(7, 11), 0), torch.randn(2, 7, 9, 13))
    acts = [op.activation.data.value for op in module.walk() if op.name == "nn.scale_shift"]
    assert acts == ["relu", "none", "relu6"]


def test_batchnorm_before_a_padded_conv_is_not_folded_into_it():
    ops = _ops(nn.Sequential(nn.BatchNorm2d(4), nn.Conv2d(4, 5, 3, padding=1)), (1, 4, 6, 6))
    assert ops == ["nn.scale_shift", "nn.conv2d"]


def test_batchnorm1d_folds_into_the_linear_layer_it_feeds(tmp_path):
    need_toolchain("host")
    model = _randomized(nn.Sequential(nn.BatchNorm1d(13), nn.Linear(13, 5)), 1)
    x = torch.randn(2, 13)
    assert _ops(model, (2, 13)) == ["nn.linear"]
    with torch.no_grad():
        assert_matches(patdnn.compile(model, x, outdir=tmp_path, target="scalar")(x), model(x))


class _Broadcast(nn.Module):
    def forward(self, x):
        return x[:, :1].expand(-1, 3, -1, -1) + x[:, :3]


def test_a_broadcast_of_a_tensor_is_one_line():
    with pytest.raises(UnsupportedLayerError, match="expand"):
        import_module(_Broadcast(), torch.randn(1, 4, 3, 3))
