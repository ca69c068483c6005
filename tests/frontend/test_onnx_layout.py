"""The layout / normalisation modules of tests/test_compile_layout_models.py through ONNX, from
torch's TorchScript and dynamo exporters: Transpose, Split, Slice, Concat on other axes,
LayerNormalization, Softmax / LogSoftmax on an axis, ReduceMean over channels, BatchNormalization
without a conv before it."""

from __future__ import annotations

import pytest
import torch
from test_compile_layout_models import MODULES, _randomized, assert_matches
from test_onnx_import import export

import patdnn
from patdnn.testing import need_toolchain


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("name", list(MODULES))
def test_onnx_export_of_the_module_matches_pytorch(name, dynamo, tmp_path):
    need_toolchain("host")
    factory, shape = MODULES[name]
    model = _randomized(factory(), 0)
    x = torch.randn(*shape)
    path = export(model, x, tmp_path / "model.onnx", dynamo=dynamo)
    compiled = patdnn.compile(path, x, outdir=tmp_path / "build", threads=2)
    with torch.no_grad():
        assert_matches(compiled(x), model(x))
