"""Python API and frontend mistakes become one clear line; constant operands work end to end.

* Constants: `conv(x) + self.p` (same shape, or broadcast from (1, C, 1, 1) / (C, 1, 1) / a number:
  the frontend broadcasts the constant, so `nn.add` keeps one shape on every target),
  `torch.cat([y, self.buffer.expand(...)], 1)`, a model whose output is a constant, a constant used
  twice — vs PyTorch on the host ISAs and on OpenCL, odd shapes, batch 2; the LR round trip.
  Broadcasting a non-constant operand is refused (one line naming the layer and the shapes).
* A model whose output is its input (nn.Identity) compiles to one copy.
* Mistakes: one table of (case, exception, message regex), each a one-line message.
* compile leaves the caller's training flags alone; compiled models take numpy (and return numpy).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import patdnn
from patdnn.frontend import ModelInputError, ModelTypeError, UnsupportedLayerError, import_module
from patdnn.lr import format_lr, lr_to_ir, module_to_lr, parse_lr
from patdnn.prune import one_shot_pattern_prune
from patdnn.runners.inputs import model_input
from patdnn.target import TargetError
from patdnn.testing import need_toolchain

warnings.filterwarnings("ignore", category=FutureWarning)


# -- constants ------------------------------------------------------------------------------------


class AddParam(nn.Module):
    """relu(conv(x) + p): a learned tensor of `shape` (the conv output's, or broadcastable)."""

    def __init__(self, shape, cin=3, cout=5):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.p = nn.Parameter(torch.randn(*shape))

    def forward(self, x):
        return torch.relu(self.conv(x) + self.p)


class ConstFirst(nn.Module):
    """p + conv(x), then minus a number and minus a constant: constants on either side, sub."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.p = nn.Parameter(torch.randn(1, 4, 1, 1))
        self.register_buffer("q", torch.randn(4, 5, 7))

    def forward(self, x):
        return (self.p + self.conv(x) - 0.5) - self.q


class CatBuffer(nn.Module):
    """cat([conv(x), buffer expanded to the batch, buffer again], 1): folded expand, one constant twice."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 3, 1)
        self.register_buffer("b", torch.randn(1, 3, 5, 7))

    def forward(self, x):
        b = self.b.expand(x.shape[0], -1, -1, -1)
        return torch.cat([self.conv(x), b, torch.relu(self.conv2(x)) + b], 1)


class ConstantOutput(nn.Module):
    """The output is a constant (folded from two buffers): copied into the output."""

    def __init__(self):
        super().__init__()
        self.register_buffer("a", torch.randn(2, 3))
        self.register_buffer("b", torch.randn(2, 3))

    def forward(self, x):
        return torch.cat([self.a, self.b * 2], 1)


class ForwardConstant(nn.Module):
    """A tensor built in forward (torch.full) is a constant too."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return torch.cat([self.conv(x), torch.full((x.shape[0], 2, 5, 7), 0.25)], 1)


CONSTANT_CASES = {
    "add_param_same_shape": (lambda: AddParam((2, 5, 5, 7)), (2, 3, 5, 7)),
    "add_param_broadcast_1c11": (lambda: AddParam((1, 5, 1, 1)), (2, 3, 5, 7)),
    "add_param_broadcast_c11": (lambda: AddParam((5, 1, 1)), (2, 3, 5, 7)),
    "add_constants_both_sides_and_sub": (ConstFirst, (2, 3, 5, 7)),
    "cat_buffer_batch2": (CatBuffer, (2, 3, 5, 7)),
    "constant_output": (ConstantOutput, (2, 3)),
    "constant_built_in_forward": (ForwardConstant, (2, 3, 5, 7)),
}


def assert_close(actual, expected, tolerance=1e-4):
    assert tuple(actual.shape) == tuple(expected.shape)
    scale = max(float(expected.abs().max()), 1.0)
    assert float((actual - expected).abs().max()) <= tolerance * scale


def check_against_torch(case: str, target: str, tmp_path) -> None:
    make, shape = CONSTANT_CASES[case]
    torch.manual_seed(0)
    model = make().eval()
    x = torch.randn(*shape)
    compiled = patdnn.compile(model, x, target=target, outdir=tmp_path)
    with torch.no_grad():
        assert_close(compiled(x), model(x))
        assert_close(compiled(x * 0.5 - 1), model(x * 0.5 - 1))  # the bound constants survive a run


@pytest.mark.parametrize("isa", ["scalar", "neon", "avx512"])
@pytest.mark.parametrize("case", sorted(CONSTANT_CASES))
def test_constants_match_torch_on_the_host(case, isa, tmp_path):
    need_toolchain("host", isa)
    check_against_torch(case, isa, tmp_path)


@pytest.mark.parametrize("case", sorted(CONSTANT_CASES))
def test_constants_match_torch_on_opencl(case, tmp_path):
    need_toolchain("opencl")
    check_against_torch(case, "opencl", tmp_path)


def test_a_constant_buffer_is_bound_to_its_weights_not_copied(tmp_path):
    """plan-buffers gives it no arena bytes; the C reads the weights in place, the add reads them."""
    need_toolchain("host", "scalar")
    torch.manual_seed(0)
    patdnn.compile(CatBuffer().eval(), torch.randn(1, 3, 5, 7), target="scalar", outdir=tmp_path)
    code = (tmp_path / "model.c").read_text()
    assert "read in place" in code and "((float *)nn" in code
    assert "pdnn_copy(" not in code


def test_constant_layer_in_the_graph_and_the_ir():
    torch.manual_seed(0)
    ir = str(import_module(CatBuffer().eval(), torch.randn(2, 3, 5, 7)))
    assert ir.count("nn.constant outs(") == 1  # one constant, materialised once, used twice
    assert 'layer = "b"' in ir  # named after the buffer


def test_constants_round_trip_through_the_lr(tmp_path):
    torch.manual_seed(0)
    model = AddParam((1, 5, 1, 1)).eval()
    x = torch.randn(2, 3, 5, 7)
    ir = import_module(model, x, weights_path=tmp_path / "model.weights")
    lr, payload = module_to_lr(ir, tmp_path, "model.lr.weights")
    (tmp_path / "model.lr.weights").write_bytes(payload)
    text = format_lr(lr)
    assert re.search(r'layer "p" constant -> %t\d+ \[2, 5, 5, 7\] \{ storage dense weights @\d+ \+1400 \}', text)
    again = lr_to_ir(parse_lr(text, "model.lr"), tmp_path)
    assert format_lr(module_to_lr(again, tmp_path, "model.lr.weights")[0]) == text


def test_floor_division_is_refused_with_the_layer():
    """Broadcasting element-wise ops compile (nn.binary); a rounding division does not."""

    class FloorDiv(nn.Module):
        def forward(self, x):
            return torch.div(x, x.mean((2, 3), keepdim=True), rounding_mode="floor")

    with pytest.raises(UnsupportedLayerError, match=r"^unsupported layer 'div' \(FloorDiv → aten.div.Tensor_mode\)$"):
        import_module(FloorDiv(), torch.randn(1, 3, 5, 5))


# -- a model whose output is its input ---------------------------------------------------------------


@pytest.mark.parametrize("target", ["scalar", "opencl"])
def test_identity_compiles_to_a_copy(target, tmp_path):
    need_toolchain("opencl") if target == "opencl" else need_toolchain("host", target)
    x = torch.randn(2, 3, 5, 7)
    compiled = patdnn.compile(nn.Identity(), x, target=target, outdir=tmp_path)
    assert torch.equal(compiled(x), x)
    assert torch.equal(compiled(-x), -x)
    assert "nn.reshape" in str(import_module(nn.Identity(), x))


# -- mistakes: one line each ---------------------------------------------------------------------------


class TwoInputs(nn.Module):
    def forward(self, x, y):
        return x + y


class Pair(nn.Module):
    def forward(self, x):
        return x, x


class MeanOfSpreadDims(nn.Module):
    def forward(self, x):
        return x.mean((1, 3))


class Permute7d(nn.Module):
    def forward(self, x):
        return x.view(1, 1, 3, 1, 5, 1, 5).transpose(0, 6).reshape(1, 3, 5, 5)


class OverlappingView(nn.Module):
    def forward(self, x):
        return x.as_strided((1, 3, 4, 4), (75, 25, 5, 1)) * 2.0  # a 4x4 window of each 5x5 plane


class ReturnsNumber(nn.Module):
    def forward(self, x):
        return 3


class DataDependent(nn.Module):
    def forward(self, x):
        return x if x.sum() > 0 else -x


X = torch.randn(1, 3, 5, 5)
CONV = lambda: nn.Conv2d(3, 4, 3, padding=1)  # noqa: E731


def _compile(model, x=None, **kwargs):
    return lambda tmp: patdnn.compile(model, X if x is None else x, outdir=kwargs.pop("outdir", tmp), **kwargs)


def _file_outdir(tmp):
    (tmp / "file").write_text("")
    return patdnn.compile(CONV(), X, outdir=tmp / "file")


MISTAKES = {
    "input_3d": (
        _compile(CONV(), torch.randn(3, 5, 5)),
        ModelInputError,
        r"shape \(3, 5, 5\), expected a 4-d NCHW .*unsqueeze\(0\)",
    ),
    "input_batch_0": (
        _compile(CONV(), torch.randn(0, 3, 5, 5)),
        ModelInputError,
        r"shape \(0, 3, 5, 5\), expected .*every size >= 1",
    ),
    "input_int64": (
        _compile(CONV(), torch.ones(1, 3, 5, 5, dtype=torch.int64)),
        ModelInputError,
        r"dtype torch.int64, expected .*float32",
    ),
    "input_not_a_tensor": (
        _compile(CONV(), [1.0, 2.0]),
        ModelTypeError,
        r"the example input is a list, expected one tensor",
    ),
    "input_on_another_device": (
        _compile(CONV(), torch.empty(1, 3, 5, 5, device="meta")),
        ModelInputError,
        r"on meta: patdnn traces on the CPU",
    ),
    "model_not_a_module": (
        _compile(lambda x: x),
        ModelTypeError,
        r"the model is a function, expected a torch.nn.Module",
    ),
    "two_inputs": (
        _compile(TwoInputs()),
        ModelInputError,
        r"TwoInputs.forward does not take one tensor input: missing a required argument: 'y'",
    ),
    "tuple_output": (_compile(Pair()), UnsupportedLayerError, r"'output' \(model output\): 2 outputs, expected 1"),
    "number_output": (
        _compile(ReturnsNumber()),
        UnsupportedLayerError,
        r"'output' \(model output\): int, not a tensor",
    ),
    "data_dependent_control_flow": (
        _compile(DataDependent()),
        ModelInputError,
        r"^torch.export cannot trace the model: \w+",
    ),
    "mean_of_spread_dims": (
        _compile(MeanOfSpreadDims()),
        UnsupportedLayerError,
        r"^unsupported layer 'mean' .*mean over dims \[1, 3\] \(only contiguous dims\)",
    ),
    "permute_7d": (
        _compile(Permute7d()),
        UnsupportedLayerError,
        r"^unsupported layer 'permute' .*a permute of a 7-d tensor \(at most 6-d\)",
    ),
    "as_strided_view": (
        _compile(OverlappingView()),
        UnsupportedLayerError,
        r"^unsupported layer .*as_strided to sizes \[1, 3, 4, 4\] strides \[75, 25, 5, 1\] \(a view of memory\)",
    ),
    "padding_reflect": (
        _compile(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"))),
        UnsupportedLayerError,
        r"^unsupported layer '0' \(Conv2d\): padding_mode='reflect'",
    ),
    "padding_replicate": (
        _compile(nn.Conv2d(3, 4, 3, padding=1, padding_mode="replicate")),
        UnsupportedLayerError,
        r"\(Conv2d\): padding_mode='replicate'",
    ),
    "padding_circular": (
        _compile(nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular")),
        UnsupportedLayerError,
        r"\(Conv2d\): padding_mode='circular'",
    ),
    "threads_0": (_compile(CONV(), threads=0), TargetError, r"threads must be a whole number >= 1, got 0"),
    "outdir_is_a_file": (_file_outdir, ValueError, r"outdir .*file is a file, expected a folder"),
    "one_shot_prune_without_3x3": (
        lambda tmp: one_shot_pattern_prune(nn.Sequential(nn.Conv2d(3, 4, 1), nn.Linear(4, 2))),
        ValueError,
        r"^no 3x3 convolution to pattern-prune in Sequential",
    ),
}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_mistake_is_one_line(case, tmp_path):
    run, error, pattern = MISTAKES[case]
    with pytest.raises(error) as info:
        run(tmp_path)
    message = str(info.value)
    assert "\n" not in message and re.search(pattern, message), message


# -- compile and the caller's module; calling compiled models ----------------------------------------


def test_compile_keeps_the_callers_training_flag_and_weights(tmp_path):
    need_toolchain("host", "scalar")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5))
    model.train()
    model[3].eval()  # mixed flags come back as they were
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(2, 3, 5, 7)
    compiled = patdnn.compile(model, x, target="scalar", outdir=tmp_path)
    assert model.training and model[1].training and not model[3].training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    model.eval()
    with torch.no_grad():
        assert_close(compiled(x), model(x))


def test_compiled_models_take_numpy_and_say_what_they_take(tmp_path):
    need_toolchain("host", "scalar")
    torch.manual_seed(0)
    model = CONV().eval()
    compiled = patdnn.compile(model, X, target="scalar", outdir=tmp_path)
    y = compiled(X.numpy())
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    with torch.no_grad():
        assert_close(torch.from_numpy(y), model(X))
    assert isinstance(compiled(X), torch.Tensor)
    for bad, error, pattern in [
        (
            torch.randn(2, 3, 5, 5),
            ValueError,
            r"^the input has shape \(2, 3, 5, 5\), the model was compiled for \(1, 3, 5, 5\)$",
        ),
        (np.ones((1, 3, 5, 5), np.int32), TypeError, r"^the input has dtype int32, expected a floating type"),
        (X.long(), TypeError, r"^the input has dtype torch.int64, expected a floating type"),
        (
            [1.0],
            TypeError,
            r"^a compiled model takes a torch.Tensor or a numpy array of shape \(1, 3, 5, 5\), got list$",
        ),
    ]:
        with pytest.raises(error, match=pattern):
            compiled(bad)


def test_the_input_check_is_shared_by_every_runner():
    """HostModel, OpenCLModel (a HostModel) and QemuModel all call patdnn.runners.inputs.model_input."""
    from patdnn.runners import executable, host

    assert host.model_input is model_input and executable.model_input is model_input
    array, is_torch = model_input(np.ones((2, 3)), (2, 3))
    assert array.dtype == np.float32 and array.flags.c_contiguous and not is_torch
    array, is_torch = model_input(torch.ones(2, 3, dtype=torch.float64, requires_grad=True), (2, 3))
    assert array.dtype == np.float32 and is_torch


def test_opencl_model_takes_numpy(tmp_path):
    need_toolchain("opencl")
    torch.manual_seed(0)
    model = AddParam((1, 5, 1, 1)).eval()
    x = torch.randn(2, 3, 5, 7)
    compiled = patdnn.compile(model, x, target="opencl", outdir=tmp_path)
    y = compiled(x.numpy())
    assert isinstance(y, np.ndarray)
    with torch.no_grad():
        assert_close(torch.from_numpy(y), model(x))
    with pytest.raises(ValueError, match=r"^the input has shape \(1, 3, 5, 7\)"):
        compiled(x[:1].numpy())
