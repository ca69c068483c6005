"""Block-sparse layers (block.conv2d, block.linear) on OpenCL (PoCL here) vs PyTorch.

Weights are block-pruned with project_block and packed with pack_blocks; every case goes into ONE
function (one program build): odd sizes, channel counts that are not multiples of 4/8, Cout not a
multiple of the block's filters, empty filter blocks (and a layer with no weights left), 1x1 / 3x3
/ 1x3 kernels, stride 2, padding, bias + relu/relu6, per-layer schedules (ragged tiles, tiles that
divide the output so the input is read in place), linear layers with batch 1 and 3. Plus the fp16
fallback, the fp16 program type-checked by clang, and a whole block-pruned model via patdnn.compile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from op_cases import OpenCLRun, once, run_opencl
from test_opencl_layers import check_fp16_request, clang_type_check
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, i64

from patdnn.backend.opencl import emit_opencl
from patdnn.dialects import block
from patdnn.ir_builder import dense_f32
from patdnn.nn_builder import merge_functions, single_op_module
from patdnn.pipeline import default_pipeline, run_pipeline
from patdnn.sparsity import Scheme
from patdnn.sparsity.block import gemm_view, pack_blocks, project_block
from patdnn.target import Target
from patdnn.testing import need_toolchain


@dataclass(frozen=True)
class Case:
    name: str
    shape: tuple[int, ...]  # conv: (n, cin, h, w); linear: (n, k)
    cout: int
    block: tuple[int, int]
    kernel: tuple[int, int] = (1, 1)
    stride: int = 1
    padding: tuple[int, int] = (0, 0)
    bias: bool = True
    activation: str = "none"
    empty: tuple[int, ...] = ()  # filter blocks pruned away entirely
    schedule: dict | None = None  # `patdnn.opencl` of the layer

    @property
    def linear(self) -> bool:
        return len(self.shape) == 2


CASES = [
    Case("1x1-ragged-tile", (1, 13, 9, 7), 10, (4, 8), bias=True, activation="relu"),
    Case("1x1-in-place", (1, 16, 8, 8), 16, (8, 16), bias=False, empty=(1,), schedule={"tile_x": 4, "tile_y": 1}),
    Case(
        "3x3-pad1-relu6",
        (1, 6, 11, 9),
        9,
        (4, 9),
        (3, 3),
        1,
        (1, 1),
        True,
        "relu6",
        schedule={"tile_x": 3, "tile_y": 3, "wg_x": 2, "wg_y": 5},
    ),
    Case(
        "3x3-stride2-batch2",
        (2, 5, 13, 10),
        7,
        (4, 6),
        (3, 3),
        2,
        (1, 1),
        True,
        "relu",
        empty=(0,),
        schedule={"tile_x": 1, "tile_y": 1},
    ),
    Case("1x1-stride2-one-block", (1, 12, 9, 9), 12, (16, 4), stride=2, activation="relu"),
    Case("1x3-pad", (1, 3, 5, 6), 5, (2, 3), (1, 3), 1, (0, 1), False),
    Case("3x3-no-pad-default", (1, 7, 10, 12), 11, (4, 8), (3, 3)),
    Case("1x1-all-blocks-empty", (1, 3, 2, 3), 5, (4, 4), activation="relu", empty=(0, 1)),
    Case("fc-n1", (1, 37), 10, (4, 8), activation="relu"),
    Case(
        "fc-n3-ragged-rows", (3, 50), 13, (8, 16), bias=False, empty=(1,), schedule={"tile_x": 2, "wg_x": 4, "wg_y": 1}
    ),
    Case("fc-n3-relu6", (3, 20), 6, (2, 4), activation="relu6"),
]


def make_case(case: Case, index: int):
    """(module, input, expected output) of one case."""
    rng = np.random.default_rng(100 + index)
    rows, cols = case.block
    wshape = (case.cout, case.shape[1]) if case.linear else (case.cout, case.shape[1], *case.kernel)
    weight = project_block(rng.standard_normal(wshape).astype(np.float32), Scheme.blocks(rows, cols, 2.5))
    for b in case.empty:
        weight[b * rows : (b + 1) * rows] = 0
    offsets, columns, values = pack_blocks(gemm_view(weight), rows)
    bias = rng.standard_normal(case.cout).astype(np.float32) if case.bias else None
    x = rng.standard_normal(case.shape).astype(np.float32)
    wt, xt = torch.from_numpy(weight), torch.from_numpy(x)
    bt = torch.from_numpy(bias) if bias is not None else None
    with torch.no_grad():
        if case.linear:
            y = torch.nn.functional.linear(xt, wt, bt)
        else:
            y = torch.nn.functional.conv2d(xt, wt, bt, stride=case.stride, padding=case.padding)
        y = {"none": y, "relu": torch.relu(y), "relu6": torch.clamp(y, 0, 6)}[case.activation]
    expected = y.numpy()
    battr = dense_f32(bias) if bias is not None else None

    def make_op(ins, out):
        common = dict(
            block=case.block,
            offsets=offsets,
            columns=columns,
            weights=dense_f32(values),
            bias=battr,
            activation=case.activation,
        )
        if case.linear:
            op = block.LinearOp(ins[0], out, **common)
        else:
            op = block.Conv2dOp(ins[0], out, kernel=case.kernel, stride=case.stride, padding=case.padding, **common)
        if case.schedule:
            op.attributes["patdnn.opencl"] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in case.schedule.items()})
        return op

    return single_op_module([x.shape], expected.shape, make_op), x, expected


def build_and_run(tmp_path_factory) -> OpenCLRun:
    """Builds every case into one model and runs it once; a failure is re-raised by every test."""

    def build() -> OpenCLRun:
        made = [make_case(case, index) for index, case in enumerate(CASES)]
        expected = {case.name: y for case, (_, _, y) in zip(CASES, made)}
        return run_opencl(
            tmp_path_factory.mktemp("opencl-block"), [m for m, _, _ in made], [x for _, x, _ in made], expected
        )

    return once(("opencl-block",), build)  # type: ignore[return-value]


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_block_layer_matches_torch(case: str, tmp_path_factory):
    need_toolchain("opencl")
    actual, expected = build_and_run(tmp_path_factory).results[case]
    assert actual.shape == expected.shape
    error = float(np.abs(actual - expected).max())
    assert error <= 1e-5 * max(float(np.abs(expected).max()), 1.0), f"max abs error {error}"


def test_block_fp16_request_falls_back_to_fp32_without_half(tmp_path_factory, tmp_path):
    """PoCL has no cl_khr_fp16: asking for fp16 selects fp32, bit for bit; a device with half runs
    the same kernels on half buffers (float accumulation) within half precision of fp32."""
    need_toolchain("opencl")
    run = build_and_run(tmp_path_factory)
    check_fp16_request(run.model, run.inputs, run.results, tmp_path / "libblocks.so")


def test_block_kernels_map_filter_blocks_to_work_groups():
    """What the generated kernels promise, without a device: one kernel per layer, a 1x1 conv whose
    tile divides its output reads the input in place (no pdnn_pad), a padded one does not, a wide
    block shrinks the default tile, and the linear kernel splits columns over a work-group."""

    def kernels(*names):
        modules = [make_case(c, i)[0] for i, c in enumerate(CASES) if c.name in names]
        module = run_pipeline(merge_functions(modules), default_pipeline(Target.parse("opencl")))
        return emit_opencl(module, kernels_only=True), emit_opencl(module)

    source, host = kernels("1x1-in-place")
    assert source.count("__kernel") == 1 and '"pdnn_pad"' not in host
    assert "reqd_work_group_size(2, 8, 1)" in source  # 8x8 output, tile 4x1: 2 x 8 tiles of one filter block
    source, host = kernels("3x3-pad1-relu6")
    assert '"pdnn_pad"' in host and "padded input 14x11" in source and " > (float)6 ? (float)6 : " in source  # relu6
    source, _ = kernels("1x1-stride2-one-block")  # 16 filters: the 4x2 default tile shrinks to 2x1
    assert "tile 1x2" in source and "acc15_0_1" in source and "acc0_1_0" not in source
    source, _ = kernels("fc-n3-ragged-rows")
    assert "__local float part[16][4]" in source and "(min(n0 + 1, 2)) * 50" in source


def test_block_program_type_checks_as_fp16_with_clang(tmp_path_factory, tmp_path):
    """PoCL cannot build the half variant; clang checks it as OpenCL C 1.2 with cl_khr_fp16 on."""
    need_toolchain("opencl")
    source = build_and_run(tmp_path_factory).model.executable.with_name("model.c")
    for defines in ([], ["-DPDNN_FP16"]):
        clang_type_check(source, tmp_path / "program.cl", defines)


class BlockNet(torch.nn.Module):
    """A dense 3x3 stem, block-pruned 1x1 convs (one stride 2, Cout not a multiple of the block),
    global average pooling and a block-pruned classifier."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.pw1 = torch.nn.Conv2d(8, 24, 1)
        self.pw2 = torch.nn.Conv2d(24, 20, 1, stride=2)
        self.fc = torch.nn.Linear(20, 10)

    def forward(self, x):
        y = torch.relu(self.stem(x))
        y = torch.relu(self.pw1(y))
        y = torch.relu(self.pw2(y))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(y, 1), 1))


def test_block_pruned_model_compiles_for_opencl(tmp_path):
    """patdnn.compile(..., target="opencl") of block-pruned 1x1 convs + FC (blocks detected from the
    zeros, and one layer named in a pruning plan): every block-pruned layer becomes a generated block
    kernel, and the model matches PyTorch."""
    need_toolchain("opencl")
    import patdnn

    torch.manual_seed(4)
    model = BlockNet().eval()
    with torch.no_grad():
        for layer, scheme in (
            (model.pw1, Scheme.blocks(4, 8, 4)),
            (model.pw2, Scheme.blocks(8, 8, 3)),
            (model.fc, Scheme.blocks(4, 5, 2)),
        ):
            layer.weight.copy_(torch.from_numpy(project_block(layer.weight.numpy(), scheme)))
    x = torch.randn(2, 3, 9, 11)
    compiled = patdnn.compile(
        model,
        x,
        target="opencl",
        outdir=tmp_path,
        device=os.environ.get("PATDNN_OPENCL_DEVICE", "pocl"),
        schemes={"pw2": Scheme.blocks(8, 8, 3)},
    )
    source = (tmp_path / "model.c").read_text()
    assert source.count("/* bconv") == 2 and source.count("/* bfc") == 1, "three block kernels"
    planned = "24 -> 20 channels, 9x11 -> 5x6, kernel [1, 1], stride [2, 2], padding [0, 0], relu; 3 filter blocks of 8"
    assert planned in source, "pw2 follows the plan's 8-filter blocks"
    with torch.no_grad():
        expected = model(x)
    actual = compiled(x)
    assert float((actual - expected).abs().max()) <= 1e-4 * max(float(expected.abs().max()), 1.0)
