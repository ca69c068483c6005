"""Compiled pattern convolutions equal torch.nn.functional.conv2d on the masked dense weights.

Randomized shapes (seeded): channel counts that are not multiples of 4, odd H/W, stride 2,
padding 0, filters whose kernels are all removed, bias + relu/relu6, libraries of 4–12 patterns
and of other entry counts, dilated kernels (2 and 3, both loop forms, tall register tiles) — on the host (NEON through SIMDe, and scalar C) and on aarch64 under
qemu; the SIMDe and aarch64 results must be bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, i64

from patdnn.build import build_module
from patdnn.dialects import pattern
from patdnn.ir_builder import pattern_conv_module
from patdnn.runners import BuiltModel, RunError
from patdnn.sparsity.patterns import random_pattern_layer
from patdnn.target import Target
from patdnn.testing import need_toolchain


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    cin: int
    cout: int
    h: int
    w: int
    stride: int = 1
    padding: int = 1
    patterns: int = 8
    entries: int = 4
    connectivity: float = 3.6
    bias: bool = False
    activation: str = "none"
    empty_filters: int = 0  # filters with every kernel removed
    blob: bool = False
    seed: int = 0
    dilation: int = 1
    schedule: tuple[tuple[str, int], ...] = ()  # the layer's patdnn.schedule (else the ISA's rule)


def _random_cases(count: int) -> list[Case]:
    rng = np.random.default_rng(2024)
    cases = []
    for i in range(count):
        cases.append(
            Case(
                name=f"random{i}",
                n=int(rng.integers(1, 3)),
                cin=int(rng.integers(1, 19)),
                cout=int(rng.integers(1, 19)),
                h=int(rng.integers(3, 20)),
                w=int(rng.integers(3, 24)),
                stride=int(rng.choice([1, 2])),
                padding=int(rng.choice([0, 1])),
                patterns=int(rng.choice([4, 6, 8, 12])),
                connectivity=float(rng.choice([1.0, 2.0, 3.6])),
                bias=bool(rng.integers(0, 2)),
                activation=str(rng.choice(["none", "relu", "relu6"])),
                empty_filters=int(rng.integers(0, 2)),
                blob=bool(rng.integers(0, 2)),
                seed=i,
            )
        )
    return cases


CASES = [
    Case("c3_odd", 1, 3, 5, 7, 9),
    Case("c13_stride2", 1, 13, 7, 11, 13, stride=2),
    Case("pad0", 1, 6, 9, 8, 10, padding=0),
    Case("stride2_pad0", 1, 5, 6, 9, 15, stride=2, padding=0),
    Case("bias_relu", 1, 8, 8, 10, 10, bias=True, activation="relu"),
    Case("bias_relu6", 2, 7, 5, 6, 17, bias=True, activation="relu6", blob=True),
    Case("empty_filters", 1, 9, 6, 7, 7, empty_filters=3, bias=True),
    Case("all_removed", 1, 4, 4, 5, 5, empty_filters=4, bias=True, activation="relu"),
    Case("dense_conn", 1, 5, 3, 6, 6, connectivity=1.0, patterns=12),
    Case("entries5", 1, 6, 7, 9, 11, entries=5, patterns=6),
    Case("entries2", 1, 3, 4, 6, 5, entries=2, patterns=4),
    Case("wide_row", 1, 2, 3, 3, 37, blob=True),
    *_random_cases(12),
]
DILATED_CASES = [  # DeepLab's atrous 3x3s: the pattern spread with the dilation
    Case("dil2_same", 1, 5, 6, 11, 13, padding=2, dilation=2),
    Case("dil3_stride2", 2, 7, 5, 14, 17, stride=2, padding=3, dilation=3, bias=True, activation="relu"),
    Case("dil2_pad1_tall", 1, 3, 9, 10, 9, padding=1, dilation=2, schedule=(("tile_y", 3),)),
    Case(
        "dil3_tap_list",
        1,
        10,
        7,
        13,
        12,
        padding=3,
        dilation=3,
        bias=True,
        activation="relu6",
        blob=True,
        schedule=(("tile_y", 2), ("channel_block", 4), ("filter_group", 2)),
    ),
]
CASES += DILATED_CASES
QEMU_CASES = [c for c in CASES if c.n * c.cin * c.h * c.w <= 2000][:10] + DILATED_CASES[:3]


def make_layer(case: Case):
    rng = np.random.default_rng(case.seed + 1000)
    weight, ids, library = random_pattern_layer(
        rng, case.cout, case.cin, case.patterns, case.connectivity, entries=case.entries
    )
    if case.empty_filters:
        ids[: case.empty_filters] = -1
        weight[: case.empty_filters] = 0.0
    bias = rng.standard_normal(case.cout).astype(np.float32) if case.bias else None
    x = rng.standard_normal((case.n, case.cin, case.h, case.w)).astype(np.float32)
    return weight, ids, library, bias, x


def reference(case: Case, weight, bias, x) -> np.ndarray:
    y = torch.nn.functional.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(weight),
        None if bias is None else torch.from_numpy(bias),
        stride=case.stride,
        padding=case.padding,
        dilation=case.dilation,
    )
    if case.activation == "relu":
        y = torch.relu(y)
    elif case.activation == "relu6":
        y = torch.clamp(y, 0.0, 6.0)
    return y.numpy()


def case_module(case: Case, blob_path) -> tuple[ModuleOp, np.ndarray, np.ndarray]:
    """The case's layer as a module, its input and torch's output (`blob_path`: for `case.blob`)."""
    weight, ids, library, bias, x = make_layer(case)
    module = pattern_conv_module(
        weight,
        ids,
        library,
        x.shape,
        stride=case.stride,
        padding=case.padding,
        bias=bias,
        activation=case.activation,
        blob_path=blob_path if case.blob else None,
        dilation=case.dilation,
    )
    if case.schedule:
        conv = next(op for op in module.walk() if isinstance(op, pattern.Conv2dOp))
        conv.attributes[pattern.SCHEDULE_ATTR] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in case.schedule})
    return module, x, reference(case, weight, bias, x)


def compile_case(
    case: Case, tmp_path, isa: str, platform: str, pipeline=None
) -> tuple[BuiltModel, np.ndarray, np.ndarray]:
    module, x, expected = case_module(case, tmp_path / "layer.weights")
    model = build_module(
        module,
        tmp_path / f"{isa}-{platform}",
        Target(isa=isa, platform=platform),
        weights_dir=tmp_path,
        pipeline=pipeline,
    )
    return model, x, expected


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    scale = max(float(np.abs(expected).max()), 1.0)
    error = float(np.abs(actual - expected).max())
    assert error <= 1e-5 * scale, f"max abs error {error} (output scale {scale})"


@pytest.mark.parametrize("isa", ["neon", "scalar", "avx2", "avx512"])  # x86 ISAs: their rule-based schedules
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_host_matches_torch(case: Case, isa: str, tmp_path):
    need_toolchain("host", isa)
    model, x, expected = compile_case(case, tmp_path, isa, "host")
    (actual,) = model.run(x, threads=2)
    assert actual.shape == expected.shape
    assert_close(actual, expected)


@pytest.mark.qemu
@pytest.mark.parametrize("case", QEMU_CASES, ids=lambda c: c.name)
def test_aarch64_matches_torch_and_is_bit_identical_to_simde(case: Case, tmp_path):
    need_toolchain("aarch64")
    need_toolchain("host")
    arm, x, expected = compile_case(case, tmp_path, "neon", "aarch64")
    (on_arm,) = arm.run(x, threads=2)
    assert_close(on_arm, expected)
    host, _, _ = compile_case(case, tmp_path, "neon", "host")
    (on_host,) = host.run(x, threads=1)
    np.testing.assert_array_equal(on_arm.view(np.uint32), on_host.view(np.uint32))


def test_vgg_sized_layer_64x64_56x56(tmp_path):
    """The foundation issue's acceptance layer: 64→64, 3x3 on 56x56, 8 patterns, connectivity 3.6x."""
    need_toolchain("host")
    case = Case("vgg64", 1, 64, 64, 56, 56, bias=True, activation="relu", blob=True, seed=7)
    model, x, expected = compile_case(case, tmp_path, "neon", "host")
    (actual,) = model.run(x, threads=2)
    scale = float(np.abs(expected).max())
    assert float(np.abs(actual - expected).max()) <= 1e-4 * scale
    weight, ids, *_ = make_layer(case)
    kept = int((ids >= 0).sum())
    assert abs(ids.size / kept - 3.6) < 0.05  # the layer really is 3.6x connectivity-pruned


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_compiled_model_rejects_a_damaged_weights_blob(damage: str, tmp_path):
    need_toolchain("host")
    case = Case("blob", 1, 4, 4, 6, 6, bias=True, blob=True)
    model, x, _ = compile_case(case, tmp_path, "neon", "host")
    blob = tmp_path / "layer.weights"
    data = bytearray(blob.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 3] ^= 0x40
    blob.write_bytes(bytes(data))
    with pytest.raises(RunError, match="truncated" if damage == "truncate" else "corrupted: sha256"):
        model.run(x)
