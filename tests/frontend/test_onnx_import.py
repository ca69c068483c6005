"""ONNX models in (patdnn.frontend.onnx_import): files from torch's TorchScript exporter
(`dynamo=False`), from its dynamo exporter (`dynamo=True`) and built with `onnx.helper`, compiled
with `patdnn.compile(onnx, x)` or `patdnnc model.onnx --build`, match PyTorch to 1e-4 of the output
scale; pattern-pruned convs are recovered from the zeros and keep torch's module names, so
`patterns=` and `schemes=` keyed by those names apply; unsupported ops and attributes are one line
naming the node."""

from __future__ import annotations

import contextlib
import io
import subprocess
import warnings

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
from test_compile_models import assert_matches, pruned_model
from torch import nn

import patdnn
from patdnn.frontend import ModelFileError, UnsupportedLayerError, import_onnx
from patdnn.models import randomize_batchnorm
from patdnn.prune import one_shot_pattern_prune
from patdnn.sparsity.scheme import parse_scheme
from patdnn.testing import need_toolchain
from patdnn.tools import patdnnc

TOLERANCE = 1e-4  # of the output scale


def export(model: nn.Module, x: torch.Tensor, path, dynamo: bool, dynamic_batch: bool = False):
    """`model` at `x` as an ONNX file, by torch's TorchScript (dynamo=False) or dynamo exporter."""
    kwargs: dict = {"dynamo": dynamo}
    if dynamic_batch and dynamo:
        kwargs["dynamic_shapes"] = ({0: torch.export.Dim("batch")},)
    elif dynamic_batch:
        kwargs |= {"input_names": ["x"], "dynamic_axes": {"x": {0: "batch"}}}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), **kwargs)
    return path


class Odd(nn.Module):
    """Odd H/W, channel counts 3/12/20/7/27, stride 2 with padding 0, BN, a depthwise conv, ReLU6,
    a residual add, concat, max and avg pooling, a linear head and softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 12, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(12)
        self.conv2 = nn.Conv2d(12, 20, 3, stride=2, padding=0)
        self.dw = nn.Conv2d(20, 20, 3, padding=1, groups=20, bias=False)
        self.bn2 = nn.BatchNorm2d(20)
        self.act = nn.ReLU6()
        self.pw = nn.Conv2d(20, 7, 1)
        self.pool = nn.MaxPool2d(2)
        self.avg = nn.AvgPool2d(2, stride=1)
        self.fc = nn.Linear(27 * 2 * 2, 5)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.conv2(y))
        z = self.act(self.bn2(self.dw(y))) + y
        y = torch.cat([self.pw(z), y], 1)
        y = self.avg(self.pool(y))
        return torch.softmax(self.fc(y.view(y.size(0), -1)), -1)  # Shape, Gather, ... under a dynamic batch


SHAPE = (3, 15, 13)  # C, H, W of Odd's input


def odd_model() -> tuple[nn.Module, dict]:
    torch.manual_seed(0)
    model = randomize_batchnorm(Odd().eval())
    return model, one_shot_pattern_prune(model, num_patterns=4, connectivity=2.0, skip_first=False)


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """The pattern-pruned Odd model, its pruner's patterns, and its ONNX files by both exporters
    (the TorchScript one with a dynamic batch)."""
    model, patterns = odd_model()
    folder = tmp_path_factory.mktemp("odd")
    x = torch.randn(1, *SHAPE)
    files = {
        "torchscript": export(model, x, folder / "ts.onnx", dynamo=False, dynamic_batch=True),
        "dynamo": export(model, x, folder / "dynamo.onnx", dynamo=True),
    }
    return model, patterns, files


def pattern_convs(outdir) -> int:
    return (outdir / "model.c").read_text().count("_filters(void *arg")


@pytest.mark.parametrize("exporter,batch", [("torchscript", 2), ("dynamo", 1)])
def test_odd_shapes_match_pytorch(odd, exporter, batch, tmp_path):
    """A dynamic-batch file compiles at the example's batch (2); both pruned 3x3 convs (conv1,
    conv2) become pattern convs, recovered from the zeros."""
    need_toolchain("host")
    model, _, files = odd
    x = torch.randn(batch, *SHAPE)
    compiled = patdnn.compile(files[exporter], x, outdir=tmp_path)
    with torch.no_grad():
        assert_matches(compiled(x), model(x), TOLERANCE)
    assert pattern_convs(tmp_path) == 2


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_layer_names_are_torch_module_paths(odd, exporter):
    """Plans and pattern files keyed by module name apply to the ONNX file too: the pruner's
    (library, ids) per conv, and a plan making conv2 dense."""
    model, patterns, files = odd
    ir = str(import_onnx(files[exporter], (1, *SHAPE), patterns=patterns))
    for name in ("conv1", "conv2", "dw", "pw", "fc"):
        assert f'layer = "{name}"' in ir, name
    assert ir.count("pattern.conv2d") == 2
    plan = {"conv2": parse_scheme("dense")}
    ir = str(import_onnx(files[exporter], (1, *SHAPE), schemes=plan))
    assert ir.count("pattern.conv2d") == 1 and 'patdnn.prune = "dense"' in ir


@pytest.mark.parametrize("name,shape", [("resnet20-cifar", (2, 3, 16, 16)), ("mobilenet-v2", (1, 3, 32, 32))])
def test_shipped_models_match_pytorch(name, shape, tmp_path):
    """Shipped models, pattern-pruned, by the TorchScript exporter with a dynamic batch (compiled
    at the example's); every pruned 3x3 conv is a pattern conv."""
    need_toolchain("host")
    model = pruned_model(name)
    x = torch.randn(*shape)
    path = export(model, x[:1], tmp_path / "m.onnx", dynamo=False, dynamic_batch=True)
    compiled = patdnn.compile(path, x, outdir=tmp_path / "out")
    with torch.no_grad():
        assert_matches(compiled(x), model(x), TOLERANCE)
    assert pattern_convs(tmp_path / "out") == len(model.pattern_layers)


def test_patdnnc_builds_a_dynamic_batch_file_at_batch_1(odd, tmp_path, capsys):
    """patdnnc model.onnx --build: the dynamic batch becomes 1, with a note; the runner's output is
    PyTorch's."""
    need_toolchain("host")
    model, _, files = odd
    out = tmp_path / "out"
    assert patdnnc.main([str(files["torchscript"]), "-o", str(out), "--build"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "dynamic batch 'batch': compiling for batch 1" in notes[0], notes
    x = torch.randn(1, *SHAPE)
    x.numpy().tofile(tmp_path / "in.bin")
    run = subprocess.run(
        [str(out / "model_run"), "--weights-dir", str(out), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    y = torch.from_numpy(np.fromfile(tmp_path / "out.bin", dtype=np.float32).reshape(1, 5))
    with torch.no_grad():
        assert_matches(y, model(x), TOLERANCE)


# -- models built with onnx.helper ------------------------------------------------------------------


def _const(name: str, value) -> TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def _weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "w": rng.standard_normal((4, 3, 3, 3)),
        "b": rng.standard_normal(4),
        "scale": rng.uniform(0.5, 1.5, 4),
        "shift": rng.uniform(-0.2, 0.2, 4),
        "mean": rng.uniform(-0.2, 0.2, 4),
        "var": rng.uniform(0.5, 1.5, 4),
        "lo": np.float32(0),
        "hi": np.float32(6),
        "fc": rng.standard_normal((4, 6)),
        "fc_b": rng.standard_normal(6),
    }


HELPER_WEIGHTS = _weights()
HELPER_NODES = [
    helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
    helper.make_node("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["n"], epsilon=1e-3),
    helper.make_node("Clip", ["n", "lo", "hi"], ["r6"], name="relu6"),
    helper.make_node("MaxPool", ["r6"], ["mp"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    helper.make_node("AveragePool", ["mp"], ["ap"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1),
    helper.make_node("Relu", ["ap"], ["ar"]),
    helper.make_node("Add", ["mp", "ar"], ["s"]),
    helper.make_node("Dropout", ["s"], ["d"]),
    helper.make_node("Identity", ["d"], ["i"]),
    helper.make_node("ReduceMean", ["i"], ["m"], axes=[2, 3], keepdims=0),
    helper.make_node("MatMul", ["m", "fc"], ["mm"]),
    helper.make_node("Add", ["mm", "fc_b"], ["lin"]),
    helper.make_node("Softmax", ["lin"], ["y"], axis=1),
]


def helper_model(opset: int = 17, nodes: list | None = None, initializers: list | None = None) -> onnx.ModelProto:
    """x: batch x 3 x 9 x 9 (a symbolic batch) → Conv → BatchNormalization → Clip(0, 6) → MaxPool
    (pads 1, stride 2) → AveragePool (pads 1, count_include_pad) → Relu, added to the MaxPool →
    Dropout → Identity → ReduceMean(H, W, keepdims 0) → MatMul + Add → Softmax (HELPER_NODES, with
    HELPER_WEIGHTS); or `nodes` on x with `initializers`."""
    if nodes is None:
        nodes, initializers = HELPER_NODES, [_const(k, v) for k, v in HELPER_WEIGHTS.items()]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 9, 9])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        initializers or [],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def helper_reference(w: dict, x: torch.Tensor) -> torch.Tensor:
    t = {k: torch.tensor(np.asarray(v), dtype=torch.float32) for k, v in w.items()}
    c = F.conv2d(x, t["w"], t["b"], padding=1)
    n = F.batch_norm(c, t["mean"], t["var"], t["scale"], t["shift"], eps=1e-3)
    mp = F.max_pool2d(n.clamp(0, 6), 3, 2, 1)
    s = mp + F.relu(F.avg_pool2d(mp, 3, 1, 1, count_include_pad=True))
    return torch.softmax(s.mean((2, 3)) @ t["fc"] + t["fc_b"], -1)


def test_helper_built_model_matches_pytorch(tmp_path):
    need_toolchain("host")
    model = helper_model()
    x = torch.randn(2, 3, 9, 9)
    compiled = patdnn.compile(model, x, outdir=tmp_path)
    assert_matches(compiled(x), helper_reference(HELPER_WEIGHTS, x), TOLERANCE)


def _one_node(op: str, **attrs) -> onnx.ModelProto:
    w = _const("w", np.ones((2, 3, 3, 3)))
    node = helper.make_node(op, ["x", "w"] if op == "Conv" else ["x"], ["y"], name=f"the_{op.lower()}", **attrs)
    return helper_model(nodes=[node], initializers=[w])


@pytest.mark.parametrize(
    "model,message",
    [
        (_one_node("Softplus"), "unsupported layer 'the_softplus' (ONNX Softplus)"),
        (
            helper_model(nodes=[helper.make_node("Reshape", ["x", "x"], ["y"], name="r")]),
            "'r' (ONNX Reshape): the shape is not a constant",
        ),
        (_one_node("Shape"), "the ONNX model's output 'y' is a constant (it does not depend on the input)"),
        (_one_node("Conv", dilations=[2, 2]), "'the_conv' (ONNX Conv): dilations [2, 2]"),
        (_one_node("Conv", auto_pad="SAME_UPPER"), "'the_conv' (ONNX Conv): auto_pad SAME_UPPER"),
        (_one_node("Conv", pads=[0, 0, 1, 1]), "'the_conv' (ONNX Conv): asymmetric pads [0, 0, 1, 1]"),
        (_one_node("MaxPool", kernel_shape=[2, 2], ceil_mode=1), "'the_maxpool' (ONNX MaxPool): ceil_mode 1"),
        (
            helper_model(opset=11, nodes=[helper.make_node("Softmax", ["x"], ["y"], name="the_softmax", axis=1)]),
            "'the_softmax' (ONNX Softmax): opset 11 softmax over the flattened axes 1.. (only the last)",
        ),
        (helper_model(opset=9), "opset 9; patdnn reads opsets 11-23"),
    ],
    ids=[
        "op",
        "reshape",
        "constant-output",
        "dilation",
        "same-pad",
        "asymmetric-pad",
        "ceil-mode",
        "softmax-axis",
        "opset",
    ],
)
def test_unsupported_is_one_line_naming_the_node(model, message):
    with pytest.raises((UnsupportedLayerError, ModelFileError)) as error:
        import_onnx(model, (1, 3, 9, 9))
    text = str(error.value)
    assert message in text and "\n" not in text, text


def test_input_shape_must_agree_with_the_static_dims():
    with pytest.raises(ModelFileError, match=r"input is batchx3x9x9, the input shape asked for is 1x3x8x9"):
        import_onnx(helper_model(), (1, 3, 8, 9))
    with pytest.raises(ModelFileError, match=r"symbolic dims \(batchx3x9x9\)"):
        import_onnx(helper_model())
