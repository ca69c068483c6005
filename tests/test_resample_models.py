"""Convolution variants, resampling and pooling modes through the whole compiler: a small network
with DeepLab's atrous 3x3s (pattern-pruned by the pruner: its patterns stay at the dilation), a
dilated depthwise conv, bilinear and nearest upsampling, a transposed conv and GoogLeNet's
ceil_mode pooling, imported from torch and compiled for every host ISA and OpenCL, vs PyTorch;
and the one-line refusals of what stays unsupported."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import patdnn
from patdnn.dialects import nn as nn_dialect
from patdnn.dialects import pattern
from patdnn.dialects.common import kernel_ids
from patdnn.frontend.errors import UnsupportedLayerError
from patdnn.frontend.torch_import import import_module
from patdnn.prune.oneshot import one_shot_pattern_prune
from patdnn.sparsity.layers import prunable_convs
from patdnn.sparsity.scheme import SchemeError, parse_scheme
from patdnn.testing import need_toolchain


class AtrousNet(nn.Module):
    """ASPP-like branches (3x3, dilation = padding 2 and 3), a decoder upsampling back."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 12, 3, padding=1)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.aspp2 = nn.Conv2d(12, 10, 3, padding=2, dilation=2, bias=False)
        self.bn2 = nn.BatchNorm2d(10)
        self.aspp3 = nn.Conv2d(12, 10, 3, padding=3, dilation=3)
        self.dw = nn.Conv2d(20, 20, 3, padding=2, dilation=2, groups=20)
        self.project = nn.Conv2d(20, 9, 1)
        self.avg = nn.AvgPool2d(3, 1, padding=1, count_include_pad=False)
        self.up = nn.ConvTranspose2d(9, 6, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        y = self.pool(F.relu(self.stem(x)))
        y = torch.cat([F.relu(self.bn2(self.aspp2(y))), F.relu(self.aspp3(y))], 1)
        y = self.avg(self.project(F.relu6(self.dw(y))))
        y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
        y = F.relu(self.up(y))
        return F.interpolate(y, size=(x.shape[2], x.shape[3]), mode="nearest")


@pytest.fixture(scope="module")
def pruned():
    torch.manual_seed(0)
    model = AtrousNet()
    for bn in [model.bn2]:
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
    model.eval()
    patterns = one_shot_pattern_prune(model, num_patterns=6, connectivity=2.0)
    return model, patterns


def test_pruner_takes_the_dilated_3x3_convs(pruned):
    model, patterns = pruned
    assert set(prunable_convs(model)) == {"aspp2", "aspp3"}  # the image-reading stem stays dense
    assert set(patterns) == {"aspp2", "aspp3"}
    for name, (library, ids) in patterns.items():
        weight = getattr(model, name).weight.detach().numpy()
        masks = np.where(ids[..., None, None] >= 0, library[np.maximum(ids, 0)], 0.0)
        assert not np.any(weight[masks == 0]), name  # the kept entries lie inside each kernel's pattern


def test_import_keeps_the_patterns_at_the_dilation(pruned):
    model, patterns = pruned
    x = torch.randn(1, 3, 21, 19)
    module = import_module(model, x, patterns=patterns)
    convs = {op.attributes["layer"].data: op for op in module.walk() if isinstance(op, pattern.Conv2dOp)}
    assert set(convs) == {"aspp2", "aspp3"}
    assert list(convs["aspp2"].dilation.get_values()) == [2, 2]
    assert list(convs["aspp3"].dilation.get_values()) == [3, 3]
    np.testing.assert_array_equal(kernel_ids(convs["aspp3"]), patterns["aspp3"][1])
    # without the pruner's ids, the patterns are recovered from the zeros (the same dilated convs)
    detected = import_module(model, x)
    assert sum(isinstance(op, pattern.Conv2dOp) for op in detected.walk()) == 2
    kinds = {type(op) for op in module.walk()}
    assert {nn_dialect.ConvTranspose2dOp, nn_dialect.Upsample2dOp, nn_dialect.Pool2dOp} <= kinds


@pytest.mark.parametrize("target", ["scalar", "neon", "avx2", "avx512", "opencl"])
def test_compiled_network_matches_pytorch(pruned, target, tmp_path):
    need_toolchain("opencl") if target == "opencl" else need_toolchain("host", target)
    model, patterns = pruned
    x = torch.randn(2, 3, 21, 19)
    compiled = patdnn.compile(model, x, target=target, outdir=tmp_path, patterns=patterns, threads=2)
    with torch.no_grad():
        expected = model(x)
    actual = torch.as_tensor(np.asarray(compiled(x)))
    assert actual.shape == expected.shape
    error, scale = float((actual - expected).abs().max()), float(expected.abs().max())
    assert error <= 1e-4 * scale, f"max abs error {error} (output scale {scale})"


class _One(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


@pytest.mark.parametrize(
    "layer,message",
    [
        (nn.AvgPool2d(3, 2, divisor_override=4), "divisor_override=4"),
        (nn.Upsample(scale_factor=2, mode="bicubic"), "(Upsample → aten."),  # decomposed: index ops
    ],
    ids=["divisor_override", "bicubic"],
)
def test_unsupported_variants_are_one_line(layer, message):
    with pytest.raises(UnsupportedLayerError) as info:
        import_module(_One(layer), torch.randn(1, 3, 9, 9))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_block_plan_on_a_dilated_conv_is_one_line(pruned):
    model, _ = pruned
    with pytest.raises(SchemeError) as info:
        import_module(model, torch.randn(1, 3, 21, 19), schemes={"aspp3": parse_scheme("block 4x16 2x")})
    message = str(info.value)
    assert "'aspp3'" in message and "block pruning of a dilated conv" in message and "\n" not in message


def test_pooling_flags_that_change_nothing_keep_the_fast_pooling():
    """ceil_mode where the output size is floor mode's, count_include_pad=False without padding:
    the same windows, so the importer drops the flags (the runtime keeps its fast pooling)."""
    net = nn.Sequential(nn.MaxPool2d(3, 2, ceil_mode=True), nn.AvgPool2d(3, 1, count_include_pad=False))
    pools = [op for op in import_module(net, torch.randn(1, 2, 15, 15)).walk() if isinstance(op, nn_dialect.Pool2dOp)]
    assert [op.is_plain() for op in pools] == [True, True]
    odd = [op for op in import_module(net, torch.randn(1, 2, 14, 15)).walk() if isinstance(op, nn_dialect.Pool2dOp)]
    assert odd[0].ceil_mode is not None  # 14 rows: ceil gives 7, floor 6
