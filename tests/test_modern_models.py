"""The CNNs people deploy today, compiled: MobileNet-V3 Small/Large, EfficientNet-B0, ShuffleNet-V2,
ConvNeXt, a YOLO-style detector, UNet (transposed-conv and bilinear) and DeepLab-V3, vs PyTorch.

Small widths and non-square inputs (real sizes at 224x224 are `slow`), seeded random weights,
randomised norms and layer scales, every 3x3 non-depthwise conv pattern-pruned (8-pattern library,
connectivity 3.6x) and the other prunable convs / linears (but the classifier) block-pruned. One
build per (model, target, batch), shared by the tests; the default matrix covers every model on the
fastest host ISA at batch 2, each other ISA on two models at batch 1, NEON under qemu bit-identical
to SIMDe, and (tests/opencl/test_opencl_modern_models.py) every model on OpenCL; `slow` runs the
whole cross product.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from test_compile_models import assert_matches

import patdnn
from patdnn.models import get_model, randomize_batchnorm
from patdnn.prune.planning import default_block_layers
from patdnn.sparsity.apply import apply_plan
from patdnn.sparsity.layers import prunable_convs
from patdnn.sparsity.scheme import Scheme
from patdnn.testing import need_toolchain
from patdnn.toolchain import best_host_isa

warnings.filterwarnings("ignore", category=FutureWarning)

TOLERANCE = 1e-4  # of the output scale
BLOCK_SCHEME = Scheme.blocks(4, 4, 3)  # what the non-3x3 layers get (the compiler detects it from the weights)

#: model → (small constructor kwargs, batch-2 non-square input shape): odd channel counts, every block kind.
SMALL = {
    "mobilenet-v3-small": ({"width_mult": 0.3, "round_nearest": 1, "num_classes": 10}, (2, 3, 40, 56)),
    "mobilenet-v3-large": ({"width_mult": 0.2, "round_nearest": 1, "num_classes": 10}, (2, 3, 40, 56)),
    "efficientnet-b0": (
        {"width_mult": 0.25, "depth_mult": 0.34, "round_nearest": 1, "num_classes": 10},
        (2, 3, 40, 56),
    ),
    "shufflenet-v2": (
        {"stages_out_channels": (12, 20, 36, 44, 56), "stages_repeats": (2, 2, 1), "num_classes": 10},
        (2, 3, 40, 56),
    ),
    "convnext-tiny": ({"widths": (12, 20, 28), "depths": (1, 2, 1), "num_classes": 10}, (2, 3, 36, 52)),
    "yolo": ({"num_classes": 3, "width_mult": 0.08, "depth_mult": 0.34}, (2, 3, 64, 96)),
    "unet": ({"num_classes": 3, "base_channels": 5, "depth": 3}, (2, 3, 24, 40)),
    "unet-bilinear": ({"num_classes": 3, "base_channels": 6, "depth": 3, "bilinear": True}, (2, 3, 24, 40)),
    "deeplab-v3": (
        {"num_classes": 3, "width": 6, "blocks": 1, "aspp_channels": 10, "atrous_rates": (2, 3, 4)},
        (2, 3, 48, 80),
    ),
}
VARIANTS = {"unet-bilinear": "unet"}  # test case → registered model
#: each host ISA but the fastest on two models (batch 1), together every op family (YOLO's SiLU,
#: split and nearest upsampling are EfficientNet's, ShuffleNet's and UNet's too).
OTHER_ISAS = [
    ("scalar", "mobilenet-v3-small"),
    ("scalar", "deeplab-v3"),
    ("neon", "unet"),
    ("neon", "efficientnet-b0"),
    ("avx2", "convnext-tiny"),
    ("avx2", "shufflenet-v2"),
]
#: MobileNet-V3 Large repeats Small's blocks: only in the slow runs.
REPEATS = {"mobilenet-v3-large"}
#: transposed convs, pattern convs, pools, concatenation (UNet); SiLU / sigmoid, squeeze-and-
#: excitation, 5x5 depthwise convs (EfficientNet). Both share the neon builds above; every model
#: runs under qemu in the slow set.
QEMU_MODELS = ["unet", "efficientnet-b0"]
AARCH64 = "neon{platform=aarch64}"


def block_and_pattern_prune(model: torch.nn.Module, connectivity: float = 3.6) -> list[str]:
    """Prunes `model` in place: its 3x3 convs (groups 1) to patterns, the other prunable layers but
    the classifier and dilated convs (block kernels have no dilation) to BLOCK_SCHEME; returns the
    pattern-pruned layer names."""
    pattern_layers = sorted(prunable_convs(model))
    modules = dict(model.named_modules())
    plan = {
        name: BLOCK_SCHEME
        for name in default_block_layers(model)
        if name not in pattern_layers and getattr(modules[name], "dilation", (1, 1)) == (1, 1)
    }
    plan.update({name: Scheme.pattern(connectivity) for name in pattern_layers})
    apply_plan(model, plan)
    return pattern_layers


def pruned_model(name: str, seed: int = 0, **kwargs) -> torch.nn.Module:
    """The registered model in eval mode, seeded, norms and layer scales randomised, pruned
    (`model.pattern_layers`: the pattern-pruned convs)."""
    torch.manual_seed(seed)
    model = randomize_batchnorm(get_model(name, **kwargs).eval())
    with torch.no_grad():
        for parameter_name, p in model.named_parameters():
            if parameter_name.endswith("layer_scale"):  # ConvNeXt's 1e-6 would hide the blocks
                p.uniform_(0.5, 1.5)
    model.pattern_layers = block_and_pattern_prune(model)
    return model


def pruned_small_model(case: str) -> torch.nn.Module:
    return pruned_model(VARIANTS.get(case, case), **SMALL[case][0])


def input_shape(case: str, batch: int) -> tuple[int, ...]:
    return (batch, *SMALL[case][1][1:])


_BUILDS: dict[tuple, tuple] = {}


def build(case: str, target: str, batch: int, tmp_path_factory) -> tuple:
    """(model, compiled, input, outdir), built once per (case, target, batch) in this session."""
    key = (case, target, batch)
    if key not in _BUILDS:
        model = pruned_small_model(case)
        torch.manual_seed(1)
        x = torch.randn(*input_shape(case, batch))
        outdir = tmp_path_factory.mktemp(re.sub(r"\W+", "-", f"{case}-{target}-{batch}"))
        _BUILDS[key] = (model, patdnn.compile(model, x, target=target, outdir=outdir, threads=2), x, outdir)
    return _BUILDS[key]


def check_matches_pytorch(model, compiled, x) -> None:
    with torch.no_grad():
        assert_matches(compiled(x), model(x), tolerance=TOLERANCE)
        assert_matches(compiled(x * 0.5 + 0.1), model(x * 0.5 + 0.1), tolerance=TOLERANCE)  # reusable


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in REPEATS else c for c in SMALL])
def test_fastest_host_isa_batch2_matches_pytorch(case, tmp_path_factory):
    isa = best_host_isa()
    need_toolchain("host", isa)
    model, compiled, x, outdir = build(case, isa, 2, tmp_path_factory)
    check_matches_pytorch(model, compiled, x)
    # Every pruned 3x3 conv became a pattern conv.
    assert (outdir / "model.c").read_text().count("_filters(void *arg") == len(model.pattern_layers)


@pytest.mark.parametrize("isa,case", OTHER_ISAS, ids=[f"{isa}-{case}" for isa, case in OTHER_ISAS])
def test_other_host_isas_batch1_match_pytorch(isa, case, tmp_path_factory):
    need_toolchain("host", isa)
    check_matches_pytorch(*build(case, isa, 1, tmp_path_factory)[:3])


@pytest.mark.qemu
@pytest.mark.parametrize("case", QEMU_MODELS)
def test_aarch64_under_qemu_is_bit_identical_to_simde(case, tmp_path_factory):
    """The NEON kernels on aarch64 (qemu) give SIMDe's bits on the host (shares the neon build above)."""
    need_toolchain("aarch64")
    need_toolchain("host", "neon")
    model, on_arm, x, _ = build(case, AARCH64, 1, tmp_path_factory)
    on_host = build(case, "neon", 1, tmp_path_factory)[1]
    y = on_arm(x).numpy()
    np.testing.assert_array_equal(y.view(np.uint32), on_host(x).numpy().view(np.uint32))
    with torch.no_grad():
        assert_matches(torch.from_numpy(y), model(x), tolerance=TOLERANCE)


@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("isa", ["scalar", "neon", "avx2", "avx512"])
@pytest.mark.parametrize("case", list(SMALL))
def test_every_model_isa_and_batch(case, isa, batch, tmp_path_factory):
    need_toolchain("host", isa)
    check_matches_pytorch(*build(case, isa, batch, tmp_path_factory)[:3])


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.parametrize("case", [c for c in SMALL if c not in QEMU_MODELS])
def test_every_model_under_qemu(case, tmp_path_factory):
    need_toolchain("aarch64")
    check_matches_pytorch(*build(case, AARCH64, 1, tmp_path_factory)[:3])


REAL_SIZE = ["mobilenet-v3-small", "mobilenet-v3-large", "efficientnet-b0", "shufflenet-v2", "convnext-tiny"]
REAL_SIZE += ["yolo", "unet", "deeplab-v3"]


@pytest.mark.slow
@pytest.mark.parametrize("name", REAL_SIZE)
def test_real_size_models_at_224(name, tmp_path):
    need_toolchain("host")
    model = pruned_model(name)
    x = torch.randn(1, 3, 224, 224)
    compiled = patdnn.compile(model, x, outdir=tmp_path, threads=2)
    with torch.no_grad():
        assert_matches(compiled(x), model(x), tolerance=TOLERANCE)


# The definitions themselves (no compiler).


def test_stochastic_depth_drops_rows_in_training_only():
    from patdnn.models._layers import StochasticDepth

    torch.manual_seed(0)
    x = torch.ones(64, 3, 2, 2)
    layer = StochasticDepth(0.5, "row")
    kept = layer.train()(x)[:, 0, 0, 0]
    assert set(kept.tolist()) == {0.0, 2.0}  # dropped, or kept and rescaled by 1 / (1 - p)
    assert torch.equal(layer.eval()(x), x)
    with pytest.raises(ValueError, match="stochastic depth"):
        StochasticDepth(1.5)


def test_yolo_output_splits_into_the_three_scales():
    from patdnn.models.yolo import split_predictions

    model = pruned_small_model("yolo")
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        maps = split_predictions(model(x), model.no, 64, 96)
    assert [tuple(m.shape) for m in maps] == [(1, 7, 8, 12), (1, 7, 4, 6), (1, 7, 2, 3)]


def test_unet_pads_odd_sizes_to_the_skip():
    model = get_model("unet", base_channels=4, depth=2).eval()
    with torch.no_grad():
        assert tuple(model(torch.randn(1, 3, 13, 18)).shape) == (1, 2, 13, 18)


def test_shufflenet_rejects_unknown_width():
    with pytest.raises(ValueError, match="ShuffleNet-V2 widths"):
        get_model("shufflenet-v2", width_mult=0.7)


@pytest.mark.parametrize("name", ["mobilenet-v3-small", "convnext-tiny", "yolo", "deeplab-v3"])
def test_patdnn_map_accepts_the_new_models(name, tmp_path, capsys):
    from patdnn.tools.patdnn_cli import main

    out = tmp_path / "plan.json"
    assert main(["map", "--model", name, "--method", "rule", "--rate", "4", "--input-size", "64", "-o", str(out)]) == 0
    assert out.is_file() and "overall:" in capsys.readouterr().out
