"""Model files that are not what patdnnc (or patdnn.compile) can read: each is one line,
`patdnnc: error: ...`, exit status 1, no traceback, saying what the file looks like (from its
content: magic bytes, zip members, first text bytes, not only its suffix)."""

from __future__ import annotations

import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

import patdnn
from patdnn.frontend import ModelFileError, ModelTypeError
from patdnn.tools import patdnnc

NEEDED = "patdnnc needs torch.export (torch.export.save) or ONNX"


def onnx_model(op: str = "Relu", height: int | str = 8) -> onnx.ModelProto:
    """x (1 x 3 x height x 8) → Conv → `op`."""
    w = numpy_helper.from_array(np.ones((2, 3, 3, 3), np.float32), "conv.weight")
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1]),
        helper.make_node(op, ["c"], ["y"], name=f"the_{op.lower()}"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, height, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """One file of each kind: the real ones and the broken ones, named by what they are."""
    folder = tmp_path_factory.mktemp("files")
    conv = torch.nn.Conv2d(3, 2, 3).eval()
    x = torch.randn(1, 3, 8, 8)
    made = {name: folder / name for name in ("program.pt2", "model.onnx")}
    torch.export.save(torch.export.export(conv, (x,)), str(made["program.pt2"]))
    onnx.save(onnx_model(), str(made["model.onnx"]))
    program, model = made["program.pt2"].read_bytes(), made["model.onnx"].read_bytes()
    torch.save(conv.state_dict(), str(folder / "state_dict.pt2"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(conv, x), str(folder / "torchscript.pt2"))
    contents = {
        "random.pt2": np.random.default_rng(0).bytes(3000),
        "text.pt2": b"hello, this is not a model\n",
        "truncated.pt2": program[: len(program) // 2],
        "onnx.pt2": model,
        "random.onnx": b"\x00\x17" + np.random.default_rng(1).bytes(3000),
        "truncated.onnx": model[: len(model) // 2],
        "empty.onnx": b"",
        "program.onnx": program,
        "model.mlir": model,
        "model.pt": (folder / "torchscript.pt2").read_bytes(),
        "softplus.onnx": onnx_model("Softplus").SerializeToString(),
        "symbolic.onnx": onnx_model(height="H").SerializeToString(),
        "opset9.onnx": helper.make_model(
            onnx_model().graph, opset_imports=[helper.make_opsetid("", 9)]
        ).SerializeToString(),
    }
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    with zipfile.ZipFile(folder / "fake.pt2", "w") as archive:  # looks like a program, is not one
        archive.writestr("fake/archive_format", "pt2")
    (folder / "a_folder").mkdir()
    return {path.name: path for path in folder.iterdir()}


CASES = [
    ("a_folder", "is a directory, not a model file"),
    ("random.pt2", "is not a torch.export program (torch.export.save): it looks like binary data"),
    ("text.pt2", "it looks like a text file"),
    ("truncated.pt2", "it looks like a truncated or damaged zip archive"),
    ("state_dict.pt2", f"it looks like a torch.save file (a state_dict or a pickled module, not a program): {NEEDED}"),
    ("torchscript.pt2", f"it looks like a TorchScript file: {NEEDED}"),
    ("onnx.pt2", "it looks like an ONNX model (rename it onnx.onnx)"),
    ("fake.pt2", "fake.pt2: torch.export.load cannot read it"),
    ("random.onnx", "is not an ONNX model: it looks like binary data that does not parse as an ONNX ModelProto"),
    ("truncated.onnx", "does not parse as an ONNX ModelProto (truncated or damaged?)"),
    ("empty.onnx", "it looks like an empty file"),
    ("program.onnx", "it looks like a torch.export program (torch.export.save) (rename it program.pt2)"),
    ("model.mlir", "is not MLIR text (patdnn IR): it looks like an ONNX model (rename it model.onnx)"),
    (
        "model.pt",
        f"unsupported model suffix '.pt' (expected .pt2, .onnx, .mlir, .lr); it looks like a TorchScript file: {NEEDED}",
    ),
    ("softplus.onnx", "unsupported layer 'the_softplus' (ONNX Softplus)"),
    ("symbolic.onnx", "the input has symbolic sizes (1x3xHx8): give --input-shape N,C,H,W"),
    ("opset9.onnx", "the ONNX model uses opset 9; patdnn reads opsets 11-23"),
]


@pytest.mark.parametrize("name,message", CASES, ids=[c[0] for c in CASES])
def test_patdnnc_says_what_a_model_file_is(files, name, message, tmp_path, capsys):
    assert patdnnc.main([str(files[name]), "-o", str(tmp_path / "out"), "--emit", "mlir"]) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("patdnnc: error: ") and message in lines[0], err


def test_the_real_files_compile(files, tmp_path):
    for name in ("program.pt2", "model.onnx"):
        assert patdnnc.main([str(files[name]), "-o", str(tmp_path / name), "--emit", "mlir"]) == 0
    assert 'layer = "conv"' in (tmp_path / "model.onnx" / "model.mlir").read_text()  # /conv/Conv's module


def test_no_traceback_from_the_console_script(files, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "patdnn.tools.patdnnc", str(files["a_folder"]), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"patdnnc: error: {files['a_folder']} is a directory, not a model file (.pt2, .onnx, .mlir, .lr)"
    ]


@pytest.mark.parametrize(
    "name,error,message",
    [
        ("program.pt2", ModelFileError, "a torch.export program (torch.export.save), not an ONNX model"),
        ("truncated.onnx", ModelFileError, "does not parse as an ONNX ModelProto"),
        ("torchscript.pt2", ModelFileError, "a TorchScript file"),
        (None, ModelTypeError, "the model is a int, expected a torch.nn.Module, an onnx.ModelProto or the path"),
    ],
)
def test_compile_says_what_a_model_file_is(files, name, error, message):
    with pytest.raises(error) as raised:
        patdnn.compile(files[name] if name else 7, torch.randn(1, 3, 8, 8))
    assert message in str(raised.value) and "\n" not in str(raised.value), raised.value
