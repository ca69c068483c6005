"""Fused conv chains (fuse-conv-chain → nn.conv_chain → runtime/ops_chain.c) against PyTorch and
against the same model unfused.

MobileNet-style blocks of randomized (seeded) shapes — odd H/W, channel counts off the vector
width, expand / depthwise kxk (stride 2, dilation 2) / project, with and without the residual, a
chain without expand, one without project (the depthwise feeds a squeeze-excitation), one headed
by a 3x3 stride-2 stem instead of the 1x1 expand, batch 2, several activations — compiled by
`patdnn.compile` for each host ISA: the output must match torch, the fused build must give the
unfused build's bits whatever the thread count, and the generated C and the per-op profile must
show the chain. Bands of 1 and 3 rows (the pass's budget, the rows and the scratch set by hand)
exercise the rows a band keeps for the next; one chain runs on aarch64 under qemu and must give the
bits of NEON through SIMDe on the host. Fused, MobileNet-V2's peak activation memory (the arena,
the chains' scratch in it) is never above the unfused one's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from op_cases import assert_close
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

import patdnn
from patdnn.build import build_host_library
from patdnn.dialects import nn
from patdnn.frontend import import_module
from patdnn.models import get_model, randomize_batchnorm
from patdnn.passes.fuse_conv_chain import resize_chain
from patdnn.pipeline import default_pipeline, replace_pass, run_pipeline, without_pass
from patdnn.runners import HostModel
from patdnn.target import Target
from patdnn.testing import need_toolchain

ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "relu6": torch.nn.ReLU6,
    "hardswish": torch.nn.Hardswish,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.1),
    "none": torch.nn.Identity,
}
# odd sizes; tall enough that with 2 threads the chains' slots stay below the tensors they replace
# (else fuse-conv-chain leaves a chain unfused), narrow widths for the row tails
HEIGHTS, WIDTHS = range(17, 42, 2), range(7, 24, 2)
CHANNELS = (5, 13, 24, 36)  # none a multiple of 16 (the widest vector): padded lanes everywhere
MID_CHANNELS = (13, 24, 36, 72)  # 72: more than one 64-channel register block on AVX-512
THREADS = (1, 2, 3)


@dataclass(frozen=True)
class Chain:
    name: str
    kernel: int = 3
    stride: int = 1
    dilation: int = 1
    expand: bool = True
    head: int = 1  # the expand's kernel: 3 = a network's stem (3x3 stride 2, any ungrouped conv heads a chain)
    project: bool = True
    residual: bool = False  # x + block(x): needs stride 1 and cin == cout
    squeeze: bool = False  # a squeeze-excitation scales the depthwise's output (read twice: no project in the chain)
    act: str = "relu6"  # after the expand and the depthwise
    batch: int = 1
    target: str = "auto"
    seed: int = 0

    def fused_layers(self) -> str:
        """The profile label of the fused chain: its conv layers joined by '+'."""
        parts = ["expand"] * self.expand + ["dw"] + ["project"] * self.project
        return "+".join(parts)


class Block(torch.nn.Module):
    """An inverted residual (or the part of it `chain` names), BN-free: convs with bias."""

    def __init__(self, chain: Chain, cin: int, cmid: int, cout: int):
        super().__init__()
        k, d = chain.kernel, chain.dilation
        self.chain = chain
        head = chain.head
        self.expand = torch.nn.Conv2d(cin, cmid, head, 1 + (head > 1), head // 2) if chain.expand else None
        self.dw = torch.nn.Conv2d(cmid, cmid, k, chain.stride, padding=k // 2 * d, dilation=d, groups=cmid)
        self.squeeze = torch.nn.Conv2d(cmid, cmid, 1) if chain.squeeze else None
        self.project = torch.nn.Conv2d(cmid, cout, 1) if chain.project else None
        self.act = ACTIVATIONS[chain.act]()

    def forward(self, x):
        y = x if self.expand is None else self.act(self.expand(x))
        y = self.act(self.dw(y))
        if self.squeeze is not None:
            y = y * torch.sigmoid(self.squeeze(y.mean((2, 3), keepdim=True)))
        if self.project is not None:
            y = self.project(y)
        return x + y if self.chain.residual else y


def make_block(chain: Chain) -> tuple[Block, torch.Tensor]:
    """The block with shapes drawn from the chain's seed, and a random input."""
    rng = np.random.default_rng(chain.seed)
    h, w = int(rng.choice(HEIGHTS)), int(rng.choice(WIDTHS))
    cin = 3 if chain.head > 1 else int(rng.choice(CHANNELS))  # a stem reads an RGB image
    cmid = int(rng.choice(MID_CHANNELS)) if chain.expand else cin
    cout = cin if chain.residual else int(rng.choice(CHANNELS))
    torch.manual_seed(chain.seed)
    block = Block(chain, cin, cmid, cout).eval()
    x = torch.from_numpy(rng.standard_normal((chain.batch, cin, h, w)).astype(np.float32))
    return block, x


def reference(block: Block, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return block(x).numpy()


def runs_by_threads(model: HostModel, x: np.ndarray) -> dict[int, np.ndarray]:
    """The model's output with each of THREADS threads (contexts on the same library)."""
    library, weights = model.library_path, model.library_path.parent
    models = {t: HostModel(library, weights, model.input_shape, model.output_shape, threads=t) for t in THREADS}
    return {t: m.run(x) for t, m in models.items()}


def assert_same_bits(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    np.testing.assert_array_equal(actual.view(np.uint32), expected.view(np.uint32), err_msg=what)


def chain_calls(outdir: Path) -> int:
    return (outdir / "model.c").read_text().count("pdnn_conv_chain(")


# the last arguments of a pdnn_conv_chain call: rows, the scratch (its buffer, slots, slot floats)
CHAIN_BANDS = re.compile(r"pdnn_conv_chain\(.*, (\d+), \w+, (\d+), (\d+)\);")


def chain_bands(outdir: Path) -> tuple[int, int, int]:
    """The generated C's one chain call: (rows, slots, floats per slot)."""
    (call,) = CHAIN_BANDS.findall((outdir / "model.c").read_text())
    return tuple(int(v) for v in call)


CASES = [
    Chain("residual_k3_batch2", residual=True, batch=2, seed=1),
    Chain("k5_stride2_hardswish_avx2", kernel=5, stride=2, act="hardswish", target="avx2", seed=2),
    Chain("dilated_residual_relu_neon", dilation=2, residual=True, act="relu", target="neon", seed=3),
    Chain("no_expand_stride2_scalar", expand=False, stride=2, act="none", batch=2, target="scalar", seed=4),
    Chain("squeeze_no_project_k5", kernel=5, squeeze=True, project=False, act="leaky_relu", batch=2, seed=5),
    Chain("stem_head_3x3_stride2", head=3, batch=2, act="relu", seed=9),
]


@pytest.mark.parametrize("chain", CASES, ids=lambda c: c.name)
def test_fused_chain_matches_torch_and_unfused_bits(chain: Chain, tmp_path):
    need_toolchain("host", Target.parse(chain.target).isa)
    block, x = make_block(chain)
    expected = reference(block, x)
    compiled = {
        fuse: patdnn.compile(block, x, target=chain.target, threads=2, fuse=fuse, outdir=tmp_path / f"fuse_{fuse}")
        for fuse in (True, False)
    }
    assert chain_calls(tmp_path / "fuse_True") == 1
    assert "pdnn_conv_chain" not in (tmp_path / "fuse_False" / "model.c").read_text()
    unfused = compiled[False].run(x.numpy())
    assert_close(unfused, expected)
    by_threads = runs_by_threads(compiled[True], x.numpy())
    assert_close(by_threads[2], expected)
    for t, y in by_threads.items():
        assert_same_bits(y, unfused, f"fused with {t} threads vs unfused")
    fused_times, unfused_times = compiled[True].layer_times(), compiled[False].layer_times()
    assert chain.fused_layers() in fused_times, fused_times
    assert not any("+" in label for label in unfused_times), unfused_times
    assert set(chain.fused_layers().split("+")) <= set(unfused_times), unfused_times


BAND_CASES = [  # (chain, rows): None = the pass's own choice with no budget (1 row per band)
    (Chain("bands_k3_stride2_batch2", stride=2, batch=2, act="hardswish", seed=6), None),
    (Chain("bands_dilated_residual", dilation=2, residual=True, seed=7), 3),
]


def build_with_rows(block: Block, x: torch.Tensor, rows: int | None, outdir: Path) -> tuple[HostModel, list[int]]:
    """The fused model with a zero scratch budget (so one output row per band), or `rows` rows
    (set before plan-buffers, which then places the scratch they need), and its scratch's shape."""
    target = Target.parse("auto").with_threads(2)
    module = import_module(block, x, weights_path=outdir / "model.weights")
    pipeline = replace_pass(default_pipeline(target), name="fuse-conv-chain", budget_kib=0)
    run_pipeline(module, without_pass(pipeline, "plan-buffers"))
    (chain_op,) = [op for op in module.walk() if isinstance(op, nn.ConvChainOp)]
    assert chain_op.rows.value.data == 1
    if rows is not None:
        resize_chain(chain_op, rows)
    run_pipeline(module, [p for p in pipeline if p.name == "plan-buffers"])
    library = build_host_library(module, outdir, target, pipeline=())
    model = HostModel(library, outdir, tuple(x.shape), reference(block, x).shape, threads=2)
    return model, list(chain_op.scratch.type.get_shape())


@pytest.mark.parametrize("chain,rows", BAND_CASES, ids=[c.name for c, _ in BAND_CASES])
def test_small_bands_give_the_unfused_bits(chain: Chain, rows: int | None, tmp_path):
    need_toolchain("host", Target.parse("auto").isa)
    block, x = make_block(chain)
    expected = reference(block, x)
    unfused = patdnn.compile(block, x, threads=2, fuse=False, outdir=tmp_path / "unfused").run(x.numpy())
    fused, scratch = build_with_rows(block, x, rows, tmp_path / "fused")
    # the C call gets the IR's bands and scratch (the runtime aborts if a slot is short)
    assert chain_bands(tmp_path / "fused") == (rows or 1, 2, scratch[1])
    for t, y in runs_by_threads(fused, x.numpy()).items():
        assert_close(y, expected)
        assert_same_bits(y, unfused, f"{rows or 1}-row bands with {t} threads vs unfused")


@pytest.mark.qemu
def test_aarch64_chain_gives_the_simde_bits(tmp_path):
    need_toolchain("aarch64")
    need_toolchain("host", "neon")
    block, x = make_block(Chain("aarch64", residual=True, seed=8))
    expected = reference(block, x)
    outputs = {}
    for target in ("neon{platform=aarch64}", "neon"):
        outdir = tmp_path / ("arm" if "aarch64" in target else "host")
        outputs[target] = patdnn.compile(block, x, target=target, threads=2, outdir=outdir)(x.numpy())
        assert chain_calls(outdir) == 1
    assert_close(outputs["neon{platform=aarch64}"], expected)
    assert_same_bits(outputs["neon{platform=aarch64}"], outputs["neon"], "aarch64 vs SIMDe")


def peak_memory_and_chains(module: ModuleOp) -> tuple[int, int]:
    """The compiled function's arena (peak activation memory: plan-buffers' `patdnn.arena_bytes`,
    the chains' scratch in it) and its number of nn.conv_chain ops."""
    (fn,) = [op for op in module.ops if isinstance(op, func.FuncOp) and not op.is_declaration]
    chains = sum(isinstance(op, nn.ConvChainOp) for op in fn.walk())
    return fn.attributes["patdnn.arena_bytes"].value.data, chains


def test_fusion_never_raises_mobilenet_v2_peak_memory(tmp_path):
    torch.manual_seed(0)
    model = randomize_batchnorm(get_model("mobilenet-v2").eval())
    imported = import_module(model, torch.randn(1, 3, 64, 64), weights_path=tmp_path / "w")
    for threads in (1, 2):
        target = Target.parse("auto").with_threads(threads)
        fused, unfused = (
            peak_memory_and_chains(run_pipeline(imported.clone(), default_pipeline(target, fuse=fuse)))
            for fuse in (True, False)
        )
        assert fused[1] >= 10 and unfused[1] == 0, (threads, fused, unfused)
        assert fused[0] <= unfused[0], f"{threads} threads: fused arena {fused[0]} > unfused {unfused[0]}"
