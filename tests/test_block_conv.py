"""Block-sparse layers (block.conv2d / block.linear): generated C vs PyTorch on every ISA, the
frontend's plans and auto-detection, the LR's block ops and `prune` lines, patdnnc --schemes.

Numerics: all kernel cases go into ONE module (one function: every case's input, then its
output), built once per ISA and run with 1 and 2 threads; each case must match torch (max error
<= 1e-4 of the output scale). Shapes are odd on purpose: channel counts that are not multiples of
the vector width, Cout not a multiple of R (a partial last block), empty blocks, 1x1 (direct) and
3x3 / strided / padded (gathered rows), several pixel chunks, batch 2, and a few random shapes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from xdsl.builder import ImplicitBuilder
from xdsl.dialects import func
from xdsl.dialects.builtin import MemRefType, ModuleOp, StringAttr, f32

from patdnn.build import build_module
from patdnn.dialects import block
from patdnn.frontend import import_module
from patdnn.frontend.to_ir import detect_block_rows
from patdnn.lr import LrSyntaxError, load_plan, lr_to_ir, parse_lr, print_lr, prune_plan
from patdnn.nn_builder import weights_attrs
from patdnn.sparsity.block import gemm_view, pack_blocks, project_block
from patdnn.sparsity.scheme import PRUNE_ATTR, Scheme, SchemeError, parse_scheme
from patdnn.target import Target
from patdnn.testing import need_toolchain
from patdnn.tools import patdnnc


@dataclass(frozen=True)
class Case:
    cin: int
    cout: int
    hw: tuple[int, int] = (1, 1)  # (0, 0): a linear layer
    k: int = 1
    stride: int = 1
    pad: int = 0
    rows: int = 8
    n: int = 1
    act: str = "none"
    bias: bool = True
    empty: bool = False  # the second filter block keeps nothing

    @property
    def linear(self) -> bool:
        return self.hw == (0, 0)


def _random_cases(seed: int, count: int) -> dict[str, Case]:
    rng = np.random.default_rng(seed)
    cases = {}
    for i in range(count):
        k = int(rng.choice([1, 3]))
        cases[f"random{i}"] = Case(
            int(rng.integers(3, 40)),
            int(rng.integers(3, 40)),
            (int(rng.integers(3, 15)), int(rng.integers(3, 15))),
            k,
            int(rng.integers(1, 3)),
            int(rng.integers(0, 2)) if k == 3 else 0,
            int(rng.choice([4, 8, 16])),
            act=str(rng.choice(["none", "relu", "relu6"])),
            bias=bool(rng.integers(0, 2)),
        )
    return cases


CASES: dict[str, Case] = {
    "1x1_partial_block_relu": Case(13, 21, (7, 9), act="relu", empty=True),
    "1x1_r16_batch2_relu6": Case(37, 35, (5, 11), rows=16, n=2, act="relu6"),
    "1x1_r4_chunks": Case(300, 20, (30, 30), rows=4, bias=False),  # several pixel chunks per image
    "1x1_stride2": Case(9, 12, (9, 9), stride=2, rows=4),
    "1x1_pad1": Case(6, 8, (5, 4), pad=1, rows=8, act="relu"),
    "3x3_pad1_r4_nobias": Case(6, 10, (9, 7), k=3, pad=1, rows=4, bias=False),
    "3x3_stride2_pad1_empty": Case(11, 19, (13, 10), k=3, stride=2, pad=1, act="relu", empty=True),
    "3x3_nopad_batch2": Case(5, 7, (6, 8), k=3, rows=8, n=2),
    "linear_n1": Case(50, 21, (0, 0), rows=8, act="relu", empty=True),
    "linear_n3_r4": Case(37, 10, (0, 0), rows=4, n=3, act="relu6"),
    "linear_n1_r16_nobias": Case(64, 40, (0, 0), rows=16, bias=False),
    **_random_cases(6, 4),
}
QEMU_CASES = ("3x3_stride2_pad1_empty", "linear_n3_r4")


@dataclass
class Data:
    x: np.ndarray
    weight: np.ndarray  # pruned, dense layout
    bias: np.ndarray | None
    expected: np.ndarray


def make_data(case: Case, seed: int) -> Data:
    rng = np.random.default_rng(seed)
    shape = (case.n, case.cin) if case.linear else (case.n, case.cin, *case.hw)
    x = (rng.standard_normal(shape) * (4.0 if case.act == "relu6" else 1.0)).astype(np.float32)
    wshape = (case.cout, case.cin) if case.linear else (case.cout, case.cin, case.k, case.k)
    weight = (rng.standard_normal(wshape) / np.sqrt(np.prod(wshape[1:]))).astype(np.float32)
    weight = project_block(weight, Scheme.blocks(case.rows, 8, 3.0))
    if case.empty:
        weight[case.rows : 2 * case.rows] = 0.0
    bias = rng.standard_normal(case.cout).astype(np.float32) if case.bias else None
    tx, tw, tb = torch.from_numpy(x), torch.from_numpy(weight), None if bias is None else torch.from_numpy(bias)
    y = F.linear(tx, tw, tb) if case.linear else F.conv2d(tx, tw, tb, case.stride, case.pad)
    y = {"none": y, "relu": torch.relu(y), "relu6": torch.clamp(y, 0.0, 6.0)}[case.act]
    return Data(x, weight, bias, y.numpy())


def block_op(case: Case, data: Data, x, y):
    offsets, columns, values = pack_blocks(gemm_view(data.weight), case.rows)
    wattr, battr = weights_attrs([values, data.bias])
    if case.linear:
        return block.LinearOp(x, y, [case.rows, 8], offsets, columns, wattr, battr, case.act)
    return block.Conv2dOp(x, y, [case.rows, 8], offsets, columns, wattr, battr, case.k, case.stride, case.pad, case.act)


def cases_module(names: list[str]) -> tuple[ModuleOp, list[Data]]:
    datas = [make_data(CASES[name], seed) for seed, name in enumerate(names)]
    types = [MemRefType(f32, d.x.shape) for d in datas] + [MemRefType(f32, d.expected.shape) for d in datas]
    module = ModuleOp([])
    with ImplicitBuilder(module.body):
        fn = func.FuncOp("cases", (types, ()))
    args = fn.body.block.args
    with ImplicitBuilder(fn.body):
        for i, (name, data) in enumerate(zip(names, datas)):
            block_op(CASES[name], data, args[i], args[len(names) + i]).attributes["layer"] = StringAttr(name)
        func.ReturnOp()
    module.verify()
    return module, datas


def check_outputs(names: list[str], datas: list[Data], outputs: list[np.ndarray], what: str) -> None:
    failures = []
    for name, data, got in zip(names, datas, outputs):
        scale = max(1.0, float(np.abs(data.expected).max()))
        error = float(np.abs(got - data.expected).max()) / scale
        if not error <= 1e-4:
            failures.append(f"{name}: relative max error {error:.2e}")
    assert not failures, f"{what}: " + "; ".join(failures)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cache = {}

    def get(isa: str, target: str = "host", names: tuple[str, ...] = tuple(CASES)):
        key = (isa, target, names)
        if key not in cache:
            module, datas = cases_module(list(names))
            outdir = tmp_path_factory.mktemp(f"block-{isa}-{target}")
            cache[key] = (
                build_module(module, outdir, Target(isa=isa, platform=target), pipeline="plan-buffers"),
                datas,
            )
        return cache[key]

    return get


@pytest.mark.parametrize("isa", ["avx512", "avx2", "neon", "scalar"])
def test_block_kernels_match_torch(built, isa):
    need_toolchain("host", isa)
    model, datas = built(isa)
    for threads in (1, 2):
        outputs = model.run(*[d.x for d in datas], threads=threads)
        check_outputs(list(CASES), datas, outputs, f"{isa}, {threads} thread(s)")


def test_neon_on_aarch64_matches_simde_bit_for_bit(built):
    need_toolchain("aarch64")
    need_toolchain("host", "neon")
    arm, datas = built("neon", "aarch64", QEMU_CASES)
    host, _ = built("neon", "host", QEMU_CASES)
    inputs = [d.x for d in datas]
    on_arm = arm.run(*inputs, threads=2)
    check_outputs(list(QEMU_CASES), datas, on_arm, "neon on aarch64 (qemu)")
    for a, b in zip(on_arm, host.run(*inputs, threads=2)):
        np.testing.assert_array_equal(a, b)


def test_register_tiles_fit_the_register_file():
    from patdnn.backend.c.block import register_tile
    from patdnn.isa import ISAS

    assert register_tile(ISAS["avx512"], 8, 3136) == (8, 3)  # 24 accumulators + 3 inputs + 1 weight
    assert register_tile(ISAS["avx2"], 16, 3136) == (8, 1)  # 16 rows do not fit 16 registers: 2 halves
    assert register_tile(ISAS["neon"], 4, 5) == (4, 2)  # capped by the pixels
    for isa in ISAS.values():
        for rows in (1, 2, 4, 8, 16, 32):
            r, v = register_tile(isa, rows, 10_000)
            assert rows % r == 0 and r * v + v + 1 <= isa.registers


# -- frontend ------------------------------------------------------------------------------------------


class Net(torch.nn.Module):
    """A 3x3 stem, two block-pruned 1x1 convs (one strided), a depthwise conv and a block-pruned FC."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 24, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(24)
        self.pw1 = torch.nn.Conv2d(24, 40, 1)
        self.dw = torch.nn.Conv2d(40, 40, 3, padding=1, groups=40)
        self.pw2 = torch.nn.Conv2d(40, 36, 1, stride=2)
        self.fc = torch.nn.Linear(36, 11)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = torch.nn.functional.relu6(self.pw1(x))
        x = self.pw2(torch.relu(self.dw(x)))
        return self.fc(x.mean((2, 3)))


PLAN = {"pw1": "block 8x16 4x", "pw2": "block 4x8 3x", "fc": "block 8x8 2x"}


def pruned_net() -> Net:
    torch.manual_seed(0)
    net = Net().eval()
    with torch.no_grad():
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 2.0)
        for name, text in PLAN.items():
            layer = getattr(net, name)
            layer.weight.copy_(torch.from_numpy(project_block(layer.weight.numpy(), parse_scheme(text))))
    return net


def ops_by_layer(module) -> dict[str, object]:
    return {str(op.attributes["layer"].data): op for op in module.walk() if "layer" in op.attributes}


def test_detect_block_rows():
    rng = np.random.default_rng(0)
    dense = rng.standard_normal((64, 32, 1, 1)).astype(np.float32)
    assert detect_block_rows(dense) is None
    assert detect_block_rows(project_block(dense, Scheme.blocks(8, 16, 4))) == 8  # 16 would keep ~1.75x more
    assert detect_block_rows(project_block(dense, Scheme.blocks(16, 16, 4))) == 16
    assert detect_block_rows(project_block(dense, Scheme.blocks(8, 16, 1.5))) is None  # keeps 2/3


def test_frontend_detects_block_layers_and_matches_torch(tmp_path):
    need_toolchain("host", "avx512")
    import patdnn

    net, x = pruned_net(), torch.randn(1, 3, 13, 11)
    ops = ops_by_layer(import_module(net, x))
    assert [ops[n].name for n in ("stem", "pw1", "dw", "pw2", "fc")] == [
        "nn.conv2d",
        "block.conv2d",
        "nn.conv2d",
        "block.conv2d",
        "block.linear",
    ]
    assert block.block_rows(ops["pw1"]) == 8 and PRUNE_ATTR not in ops["pw1"].attributes
    compiled = patdnn.compile(net, x, isa="avx512", threads=2, outdir=tmp_path)
    with torch.no_grad():
        expected = net(x)
    torch.testing.assert_close(compiled(x), expected, atol=1e-4, rtol=1e-4)


def test_plan_chooses_ops_and_sets_the_prune_attribute(tmp_path):
    net, x = pruned_net(), torch.randn(1, 3, 9, 9)
    plan = {"pw1": Scheme.dense(), "pw2": parse_scheme("block 4x8 3x"), "fc": parse_scheme("block 4x8 2x")}
    ops = ops_by_layer(import_module(net, x, schemes=plan))
    assert ops["pw1"].name == "nn.conv2d" and ops["pw1"].attributes[PRUNE_ATTR] == StringAttr("dense")
    assert ops["pw2"].name == "block.conv2d" and list(ops["pw2"].block.get_values()) == [4, 8]
    assert ops["fc"].name == "block.linear" and block.block_rows(ops["fc"]) == 4
    assert ops["fc"].attributes[PRUNE_ATTR] == StringAttr("block 4x8 2x")
    assert PRUNE_ATTR not in ops["stem"].attributes


@pytest.mark.parametrize(
    "plan,message",
    [
        ({"pw3": "dense", "fc": "dense"}, r"names 1 layer\(s\) the model has no conv/linear layer for: 'pw3'"),
        (
            {"dw": "block 8x16 4x"},
            r"layer 'dw': the plan says 'block 8x16 4x', but block pruning needs a conv with "
            r"groups 1 \(this one has groups 40\)",
        ),
        (
            {"pw1": "pattern 3.6x"},
            r"layer 'pw1': the plan says 'pattern 3.6x', but its weights \[40, 24, 1, 1\] are "
            r"not pattern-pruned 3x3 kernels",
        ),
    ],
)
def test_bad_plans_are_clear_errors(plan, message):
    with pytest.raises(SchemeError, match=message):
        import_module(pruned_net(), torch.randn(1, 3, 8, 8), schemes={k: parse_scheme(v) for k, v in plan.items()})


# -- LR ------------------------------------------------------------------------------------------------


def test_lr_round_trip_with_block_ops_and_prune_lines(tmp_path):
    net, x = pruned_net(), torch.randn(1, 3, 9, 9)
    plan = {name: parse_scheme(text) for name, text in PLAN.items()} | {"stem": Scheme.dense()}
    module = import_module(net, x, weights_path=tmp_path / "model.weights", schemes=plan)
    lr = print_lr(module, tmp_path, tmp_path / "model.lr")
    text = lr.read_text()
    assert "prune block 8x16 4x\n}" in text and "prune dense\n" in text
    pw2 = pack_blocks(gemm_view(net.pw2.weight.detach().numpy()), 4)[0]
    assert f"block 4x8 columns {pw2[-1]} of {(len(pw2) - 1) * 40}\n" in text
    assert "storage block weights @" in text and " columns @" in text and " offsets @" in text
    again = lr_to_ir(parse_lr(text, str(lr)), tmp_path)
    assert str(again) == str(lr_to_ir(parse_lr(text, str(lr)), tmp_path))
    ops, before = ops_by_layer(again), ops_by_layer(module)
    for name in ("pw1", "pw2", "fc"):
        for prop in ("block", "offsets", "columns"):
            assert str(ops[name].properties[prop]) == str(before[name].properties[prop]), (name, prop)
        assert ops[name].attributes[PRUNE_ATTR] == before[name].attributes[PRUNE_ATTR]
    assert print_lr(again, tmp_path, tmp_path / "again" / "model.lr").read_text() == text
    assert prune_plan(text, "model.lr") == plan
    assert load_plan(lr) == plan


def test_lr_block_errors_are_located(tmp_path):
    module = import_module(
        pruned_net(),
        torch.randn(1, 3, 9, 9),
        weights_path=tmp_path / "model.weights",
        schemes={"pw1": parse_scheme("block 8x16 4x")},
    )
    text = print_lr(module, tmp_path, tmp_path / "model.lr").read_text()
    with pytest.raises(LrSyntaxError, match=r"model.lr:\d+:3: prune: cannot read pruning scheme 'block 8x16'"):
        prune_plan(text.replace("prune block 8x16 4x", "prune block 8x16"), "model.lr")
    kept = int(text.split("block 8x16 columns ")[1].split()[0])
    wrong = text.replace(f"block 8x16 columns {kept} ", f"block 8x16 columns {kept + 1} ", 1)
    with pytest.raises(
        Exception,
        match=rf'model.lr:\d+:3: layer "pw1": `columns {kept + 1} of \d+`: the column '
        rf"lists keep {kept} of",
    ):
        lr_to_ir(parse_lr(wrong, "model.lr"), tmp_path)
    no_offsets = re.sub(r" offsets @\d+ \+\d+", "", text, count=1)
    with pytest.raises(LrSyntaxError, match=r"model.lr:\d+:3: `storage block` needs `offsets`"):
        parse_lr(no_offsets, "model.lr")


# -- patdnnc --schemes ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def program_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pt2") / "net.pt2"
    with torch.no_grad():
        torch.export.save(torch.export.export(pruned_net(), (torch.randn(1, 3, 8, 8),), strict=False), str(path))
    return path


@pytest.mark.parametrize(
    "content,message",
    [
        ('{"layers": {"pw1": "block 8x16"}}', r"plan.json: layer 'pw1': cannot read pruning scheme 'block 8x16'"),
        ('{"layers": [1, 2]}', r'plan.json: expected an object \{"layers"'),
        ("{oops", r"plan.json:1:2: not valid JSON"),
        ('{"layers": {"conv9": "dense"}}', r"names 1 layer\(s\) the model has no conv/linear layer for: 'conv9'"),
    ],
)
def test_patdnnc_bad_schemes_file_is_one_clear_error(program_file, tmp_path, capsys, content, message):
    plan = tmp_path / "plan.json"
    plan.write_text(content)
    assert patdnnc.main([str(program_file), "-o", str(tmp_path / "out"), "--emit", "mlir", "--schemes", str(plan)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("patdnnc: error: ") and "Traceback" not in err
    assert re.search(message, err), err


def test_patdnnc_schemes_plan_reaches_the_ir(program_file, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"layers": {"pw1": "dense", "fc": "block 8x8 2x"}}))
    out = tmp_path / "out"
    assert patdnnc.main([str(program_file), "-o", str(out), "--emit", "mlir", "--schemes", str(plan)]) == 0
    text = (out / "model.mlir").read_text()
    assert 'patdnn.prune = "dense"' in text and 'patdnn.prune = "block 8x8 2x"' in text
    assert text.count("block.conv2d") == 1 and text.count("block.linear") == 1  # pw2 still detected
