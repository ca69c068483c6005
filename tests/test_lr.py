"""LR, the layerwise representation: text round trips, IR → LR → IR equivalence, checked data
(blob sha256, `kernels K of T`), located syntax errors without tracebacks, patdnnc hooks."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, DictionaryAttr, IntegerAttr, StringAttr, i64

from patdnn.dialects.common import BlobRefAttr
from patdnn.frontend import import_module
from patdnn.lr import LrError, LrSyntaxError, format_lr, lr_to_ir, parse_lr, print_lr
from patdnn.lr.parser import GRAMMAR
from patdnn.lr.syntax import OPS, SCHEDULE_ATTR, SCHEDULE_KEYS
from patdnn.sparsity.block import project_block
from patdnn.sparsity.patterns import random_pattern_layer
from patdnn.sparsity.scheme import parse_scheme
from patdnn.testing import need_toolchain
from patdnn.tools import patdnnc

warnings.filterwarnings("ignore", category=FutureWarning)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RESNET20 = EXAMPLES / "resnet20_cifar.lr"


class Tiny(nn.Module):
    """Every LR op kind: pattern conv, dense/depthwise conv, block-sparse 1x1 conv, add, concat,
    max/avg pool, relu6, adaptive average pool, reshape, block-sparse and dense linear, softmax, and a
    learned constant (broadcast from (1, 16, 1, 1))."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 8, 1)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.avg = nn.AvgPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.bfc = nn.Linear(16, 12)
        self.fc = nn.Linear(12, 5)
        self.shift = nn.Parameter(torch.randn(1, 16, 1, 1))

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        s = torch.relu(y + self.pw(self.dw(y)))
        c = nn.functional.relu6(self.pool(torch.cat([s, y], 1) + self.shift))
        return torch.softmax(self.fc(torch.relu(self.bfc(torch.flatten(self.gap(self.avg(c)), 1)))), 1)


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    model = Tiny().eval()
    weight, _, _ = random_pattern_layer(np.random.default_rng(0), 8, 4, num_patterns=4, connectivity=2.0)
    with torch.no_grad():
        model.conv.weight.copy_(torch.from_numpy(weight))
        model.bn.running_mean.uniform_(-0.2, 0.2)
        model.bn.running_var.uniform_(0.5, 1.5)
        for layer, scheme in ((model.pw, "block 4x4 2x"), (model.bfc, "block 4x8 2x")):  # block ops
            layer.weight.copy_(torch.from_numpy(project_block(layer.weight.numpy(), parse_scheme(scheme))))
    return model


def tiny_ir(weights_path: Path | None = None):
    return import_module(tiny_model(), torch.randn(1, 4, 8, 8), weights_path=weights_path)


def canonical(module, weights_dir: Path) -> list:
    """Ops, operand structure, types, properties and attributes; weights/bias as f32 arrays."""
    fn = next(op for op in module.ops if isinstance(op, func.FuncOp))
    ids: dict = {}

    def vid(value) -> int:
        return ids.setdefault(value, len(ids))

    def weights(attr) -> list[float]:
        if isinstance(attr, BlobRefAttr):
            data = (weights_dir / attr.file.data).read_bytes()[attr.offset.data : attr.offset.data + attr.size.data]
            return np.frombuffer(data, "<f4").tolist()
        assert isinstance(attr, DenseIntOrFPElementsAttr)
        return np.frombuffer(attr.data.data, "<f4").tolist()

    def attr(value):
        return sorted((k, str(v)) for k, v in value.data.items()) if isinstance(value, DictionaryAttr) else str(value)

    result: list = [fn.sym_name.data, str(fn.function_type), [vid(a) for a in fn.body.block.args]]
    for op in fn.body.block.ops:
        props = {k: weights(v) if k in ("weights", "bias") else str(v) for k, v in op.properties.items()}
        result.append(
            (
                op.name,
                [vid(v) for v in op.operands],
                [str(v.type) for v in op.operands],
                [vid(r) for r in op.results],
                [str(r.type) for r in op.results],
                props,
                {k: attr(v) for k, v in op.attributes.items()},
            )
        )
    return result


# -- round trips -------------------------------------------------------------------------------------


def test_resnet20_example_round_trips():
    text = RESNET20.read_text()
    model = parse_lr(text, str(RESNET20))
    assert format_lr(model) == text
    assert text.count("pattern_conv2d") == 18 and (EXAMPLES / model.weights_file).stat().st_size < 2_000_000
    module = lr_to_ir(model, EXAMPLES)
    assert sum(op.name == "pattern.conv2d" for op in module.walk()) == 18


@pytest.mark.parametrize("inline", [True, False], ids=["inline-weights", "blob-weights"])
def test_ir_lr_ir_is_equivalent_for_every_op_kind(tmp_path, inline):
    module = tiny_ir(None if inline else tmp_path / "model.weights")
    ops = {op.name for op in module.walk()}
    assert {spec.ir_name for spec in OPS.values()} <= ops  # the model has every LR op kind
    conv = next(op for op in module.walk() if op.name == "pattern.conv2d")
    conv.attributes[SCHEDULE_ATTR] = DictionaryAttr(
        {"device": StringAttr("cpu"), "tile_x": IntegerAttr(16, i64), "loop_order": StringAttr("cohw")}
    )
    lr = print_lr(module, tmp_path, tmp_path / "out" / "model.lr")
    text = lr.read_text()
    assert 'schedule tile_x 16 loop_order "cohw" device "cpu"' in text  # fixed key order
    assert "%in -> %t0" in text and "-> %out [1, 5]" in text
    back = lr_to_ir(parse_lr(text, str(lr)), lr.parent)
    assert canonical(back, lr.parent) == canonical(module, tmp_path)
    # … and LR → IR → LR reproduces the text and the blob byte for byte.
    again = print_lr(back, lr.parent, tmp_path / "again" / "model.lr")
    assert again.read_text() == text
    assert (again.parent / "model.lr.weights").read_bytes() == (lr.parent / "model.lr.weights").read_bytes()


def test_text_is_free_form_inside_bodies_and_comments_are_ignored(tmp_path):
    lr = print_lr(tiny_ir(), tmp_path, tmp_path / "model.lr")
    text = lr.read_text()
    messy = text.replace(" {\n  ", " {  # body\n\n\t").replace("\n}", "   # end\n  }").replace(" padding", "\n padding")
    assert messy != text
    assert format_lr(parse_lr(messy)) == text


def test_lr_ir_compiles_and_matches_pytorch(tmp_path):
    need_toolchain("host")
    from patdnn.build import build_module

    model = tiny_model()
    lr = print_lr(tiny_ir(), tmp_path, tmp_path / "model.lr")
    module = lr_to_ir(parse_lr(lr.read_text()), tmp_path)
    built = build_module(module, tmp_path / "build", weights_dir=tmp_path)
    x = np.random.default_rng(1).standard_normal((1, 4, 8, 8)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(built.run(x)[0], expected, atol=1e-5)


# -- checked data ----------------------------------------------------------------------------------


@pytest.fixture
def written(tmp_path) -> Path:
    return print_lr(tiny_ir(), tmp_path, tmp_path / "model.lr")


def test_blob_sha_mismatch_is_an_error(written):
    blob = written.parent / "model.lr.weights"
    data = bytearray(blob.read_bytes())
    data[5] ^= 1
    blob.write_bytes(bytes(data))
    with pytest.raises(LrError, match=r"sha256 [0-9a-f]{64}, expected [0-9a-f]{64}"):
        lr_to_ir(parse_lr(written.read_text(), str(written)), written.parent)


def test_printer_checks_the_blobs_the_ir_references(tmp_path):
    module = tiny_ir(tmp_path / "model.weights")
    (tmp_path / "model.weights").write_bytes(b"\0" + (tmp_path / "model.weights").read_bytes()[1:])
    with pytest.raises(LrError, match="model.weights has sha256"):
        print_lr(module, tmp_path, tmp_path / "model.lr")


@pytest.mark.parametrize(
    "old,new,message",
    [
        (r"kernels (\d+) of", lambda m: f"kernels {int(m.group(1)) - 1} of", r"the ids keep \d+ kernels"),
        (
            r"of (\d+) connectivity",
            lambda m: f"of {int(m.group(1)) + 1} connectivity",
            r"the layer has 8x4 = 32 kernels",
        ),
        (r"connectivity [0-9.]+x", "connectivity 9.99x", r"does not match 32 / \d+ = [0-9.]+x"),
    ],
)
def test_wrong_kernel_counts_are_errors_naming_the_layer(written, old, new, message):
    text = re.sub(old, new, written.read_text(), count=1)
    with pytest.raises(LrError, match=message) as info:
        lr_to_ir(parse_lr(text, "model.lr"), written.parent)
    assert str(info.value).startswith("model.lr:8:3:") and 'layer "conv"' in str(info.value)


def test_ops_that_do_not_fit_the_shapes_are_located_errors(written):
    text = written.read_text().replace("groups 8", "groups 3")
    with pytest.raises(LrError, match=r'model.lr:\d+:1: layer "dw": groups 3 must be >= 1 and divide'):
        lr_to_ir(parse_lr(text, "model.lr"), written.parent)


def test_undefined_values_are_errors(written):
    text = written.read_text().replace("%t0 -> %t1", "%t9 -> %t1", 1)
    with pytest.raises(LrError, match=r"reads %t9, which no earlier layer writes"):
        lr_to_ir(parse_lr(text, "model.lr"), written.parent)


# -- syntax errors ---------------------------------------------------------------------------------

SMALL = """\
# patdnn LR v1
model "m" input [1, 2, 4, 4] output [1, 2, 4, 4] weights "w" sha256 "%s"
layer "act" activation %%in -> %%out [1, 2, 4, 4] {
  activation relu
}
""" % ("0" * 64)
SMALL_PRINTED = (
    SMALL.replace("\nmodel", "\n\nmodel")
    .replace("\nlayer", "\n\nlayer")
    .replace(" {\n  activation relu\n}", " { activation relu }")
)


def syntax_error(text: str) -> str:
    with pytest.raises(LrSyntaxError) as info:
        parse_lr(text, "bad.lr")
    return str(info.value)


def test_small_text_parses():
    assert format_lr(parse_lr(SMALL)) == SMALL_PRINTED
    assert format_lr(parse_lr(SMALL_PRINTED)) == SMALL_PRINTED


def test_missing_closing_brace():
    message = syntax_error(SMALL.replace("}", ""))
    first, line, caret = message.splitlines()
    assert re.fullmatch(r"bad.lr:4:18: expected one of .*'\}', got end of file", first)
    assert line == "    activation relu" and caret == "  " + " " * 17 + "^"


def test_unknown_op_name():
    message = syntax_error(SMALL.replace("activation %", "relu %"))
    assert message.splitlines()[0] == (
        "bad.lr:3:13: expected one of 'activation', 'adaptive_avg_pool2d', 'add', 'block_conv2d', "
        "'block_linear', 'concat', 'constant', 'conv2d', 'linear', 'pattern_conv2d', 'pool2d', 'reshape', "
        "'softmax', "
        "got 'relu'"
    )
    assert message.splitlines()[2] == "  " + " " * 12 + "^"


def test_bad_shape_list():
    message = syntax_error(SMALL.replace("-> %out [1, 2, 4, 4]", "-> %out [1, 2, 4,]"))
    assert message.splitlines()[0] == "bad.lr:3:45: expected one of an integer, got ']'"
    message = syntax_error(SMALL.replace("input [1, 2, 4, 4]", "input [1, 2 4, 4]"))
    assert message.splitlines()[0] == "bad.lr:2:23: expected one of ',', ']', got '4'"


def test_body_fields_are_checked():
    assert "bad.lr:4:19: `groups` is not a field of activation" in syntax_error(
        SMALL.replace("relu\n", "relu groups 2\n")
    )
    assert 'bad.lr:5:1: layer "act": activation needs `activation`' in syntax_error(
        SMALL.replace("activation relu", "")
    )
    assert "bad.lr:4:19: `activation` is given twice" in syntax_error(
        SMALL.replace("relu\n", "relu activation relu6\n")
    )
    assert 'schedule `tile_x` takes an integer, got "a"' in syntax_error(
        SMALL.replace("relu\n", 'relu schedule tile_x "a"\n')
    )
    assert "must be 64 lower-case hex digits" in syntax_error(SMALL.replace("0" * 64, "0" * 63))


def test_grammar_and_tables_agree():
    grammar = GRAMMAR.read_text()

    def alternatives(rule: str) -> set[str]:
        body = re.search(rf"^!{rule}:(.*?)(?=^\S)", grammar, re.M | re.S).group(1)
        return set(re.findall(r'"(\w+)"', body))

    assert alternatives("op_name") == set(OPS)
    assert alternatives("sched_key") == set(SCHEDULE_KEYS)


# -- patdnnc ---------------------------------------------------------------------------------------


def test_patdnnc_emits_lr_and_reads_it_back(tmp_path, capsys):
    assert patdnnc.main([str(RESNET20), "-o", str(tmp_path / "a"), "--emit", "lr"]) == 0
    text = (tmp_path / "a" / "model.lr").read_text()
    # the example plus each pattern layer's schedule (tile-tune's, for the target: the last line of its body)
    schedules = re.findall(
        r"^  schedule tile_x \d+ tile_y \d+ channel_block \d+( filter_group \d+)?\n(?=})", text, re.M
    )
    assert len(schedules) == RESNET20.read_text().count(" pattern_conv2d ")
    without = re.sub(r"^  schedule .*\n", "", text, flags=re.M)
    assert without == RESNET20.read_text().replace('"resnet20_cifar.lr.weights"', '"model.lr.weights"')
    assert patdnnc.main([str(tmp_path / "a" / "model.lr"), "-o", str(tmp_path / "b"), "--emit", "mlir"]) == 0
    assert (tmp_path / "b" / "model.lr.weights").exists()
    other = tmp_path / "other.bin"
    other.write_bytes((EXAMPLES / "resnet20_cifar.lr.weights").read_bytes())
    assert patdnnc.main([str(RESNET20), "--weights", str(other), "-o", str(tmp_path / "c"), "--emit", "mlir"]) == 0
    assert '#pattern.blob<"other.bin"' in (tmp_path / "c" / "model.mlir").read_text()


@pytest.mark.parametrize("damage", ["syntax", "blob"])
def test_patdnnc_reports_lr_errors_without_traceback(tmp_path, damage):
    lr, blob = tmp_path / "m.lr", tmp_path / "resnet20_cifar.lr.weights"
    text, data = RESNET20.read_text(), (EXAMPLES / blob.name).read_bytes()
    lr.write_text(text.replace("adaptive_avg_pool2d", "adaptive_pool") if damage == "syntax" else text)
    blob.write_bytes(data[:-1] if damage == "blob" else data)
    result = subprocess.run(
        [sys.executable, "-m", "patdnn.tools.patdnnc", str(lr), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    expected = "expected one of" if damage == "syntax" else "has sha256"
    assert result.stderr.startswith(f"patdnnc: error: {lr}:") and expected in result.stderr
