"""Command-line friction and CLI / LR user mistakes (issue 20, "Meet users where they are").

Every mistake is one clear line (`tool: error: ...`, exit status 1) — an LR mistake its located
`FILE:LINE:COL: message` plus the line and a caret — never a traceback, never a silently wrong
result; every value the compiler changes is one `note: ...` line on stderr.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import StringAttr

from patdnn.ir_builder import pattern_conv_module
from patdnn.passes import get_all_passes
from patdnn.pipeline import parse_pipeline
from patdnn.testing import need_toolchain
from patdnn.tools import patdnnc

ROOT = Path(__file__).resolve().parents[2]
RESNET20 = ROOT / "examples" / "resnet20_cifar.lr"
LIBRARY = np.array([[[0, 1, 0], [1, 1, 1], [0, 0, 0]], [[0, 1, 0], [1, 1, 0], [0, 1, 0]]], np.float32)


def one_line_error(err: str, tool: str, *needles: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"{tool}: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)
    return lines[0]


def layer_mlir(folder: Path, width: int = 15, name: str = "conv1", blob: bool = True) -> Path:
    """A one-layer .mlir (2 -> 3 channels, 15x`width`), its weights in `folder/layer.weights`."""
    rng = np.random.default_rng(0)
    ids = np.array([[0, 1], [1, -1], [0, 0]])
    module = pattern_conv_module(
        rng.standard_normal((3, 2, 3, 3)).astype(np.float32),
        ids,
        LIBRARY,
        (1, 2, 15, width),
        bias=rng.standard_normal(3).astype(np.float32),
        blob_path=folder / "layer.weights" if blob else None,
    )
    next(op for op in module.walk() if op.name == "pattern.conv2d").attributes["layer"] = StringAttr(name)
    path = folder / "layer.mlir"
    path.write_text(str(module) + "\n")
    return path


def run_tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=300)


# -- 1. patdnnc prints exactly the files it wrote ------------------------------------------------------


def listing(out: Path, stdout: str) -> tuple[list[str], list[str]]:
    printed = sorted(Path(line).name for line in stdout.splitlines())
    assert all(Path(line).parent == out for line in stdout.splitlines()), stdout
    return printed, sorted(p.name for p in out.iterdir())


def test_patdnnc_build_lists_every_file_and_leaves_no_objects(tmp_path, capsys):
    need_toolchain("host", "scalar")
    model, out = layer_mlir(tmp_path), tmp_path / "out"
    assert patdnnc.main([str(model), "-o", str(out), "--target", "scalar", "--build"]) == 0
    printed, present = listing(out, capsys.readouterr().out)
    assert printed == present == sorted(["model.mlir", "layer.weights", "model.c", "libmodel.a", "model_run"])


@pytest.mark.parametrize("emit", ["mlir", "lr", "c"])
def test_patdnnc_lists_the_blobs_it_writes(tmp_path, capsys, emit):
    out = tmp_path / "out"
    assert patdnnc.main([str(RESNET20), "-o", str(out), "--emit", emit, "--target", "avx2"]) == 0
    printed, present = listing(out, capsys.readouterr().out)
    expected = {
        "mlir": ["model.mlir"],
        "lr": ["model.mlir", "model.lr", "model.lr.weights"],
        "c": ["model.mlir", "model.c"],
    }
    assert printed == present == sorted(expected[emit] + ["resnet20_cifar.lr.weights"])


def test_patdnnc_does_not_list_a_blob_already_in_outdir(tmp_path, capsys):
    model = layer_mlir(tmp_path)
    assert patdnnc.main([str(model), "-o", str(tmp_path), "--emit", "mlir"]) == 0
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / "model.mlir")]


# -- 2. --emit lr shows the schedule tile-tune chose, and it round-trips --------------------------------


@pytest.mark.parametrize("target", ["avx2", "neon"])
def test_emit_lr_shows_each_pattern_layers_schedule_and_round_trips(tmp_path, target):
    assert patdnnc.main([str(RESNET20), "-o", str(tmp_path / "lr"), "--emit", "lr", "--target", target]) == 0
    text = (tmp_path / "lr" / "model.lr").read_text()
    layers = re.findall(r"^layer .*?^}", text, re.M | re.S)
    pattern_layers = [layer for layer in layers if " pattern_conv2d " in layer]
    assert pattern_layers and all(
        re.search(r"^  schedule tile_x \d+ tile_y \d+ channel_block \d+", layer, re.M) for layer in pattern_layers
    )
    assert not any("schedule" in layer for layer in layers if " pattern_conv2d " not in layer)
    # compiling the printed LR gives the code the original compiles to (the blob's name aside)
    assert patdnnc.main([str(tmp_path / "lr" / "model.lr"), "-o", str(tmp_path / "a"), "--target", target]) == 0
    assert patdnnc.main([str(RESNET20), "-o", str(tmp_path / "b"), "--target", target]) == 0
    code = (tmp_path / "a" / "model.c").read_text().replace('"model.lr.weights"', '"resnet20_cifar.lr.weights"')
    assert code == (tmp_path / "b" / "model.c").read_text()


# -- 3. changed schedule values are a note, from patdnn-opt and patdnnc -----------------------------------


NOTE_7 = "note: layer 'conv1': tile_x 7 rounded up to 8 (a multiple of the 4-lane vector)"
NOTES_4096 = [
    "note: layer 'conv1': tile_y 64 clamped to 15 (the layer's output rows)",
    "note: layer 'conv1': tile_x 4096 reduced to 16 (the layer's 15 output columns, rounded up to the 4-lane vector)",
]


@pytest.mark.parametrize(("options", "notes"), [("tile_x=7", [NOTE_7]), ("tile_x=4096 tile_y=64", NOTES_4096)])
def test_patdnn_opt_notes_changed_schedule_values(tmp_path, options, notes):
    model = layer_mlir(tmp_path, width=15 if "4096" in options else 32)
    result = run_tool(
        "patdnn.tools.patdnn_opt", str(model), "-p", f"tile-tune{{{options}}},lower-pattern-to-kernel", "-t", "neon"
    )
    assert result.returncode == 0, result.stderr
    assert "conv0_conv1_filters" in result.stdout  # the C was printed
    assert result.stderr.splitlines() == notes


def lr_with_schedule(tmp_path: Path, schedule: str) -> Path:
    """The ResNet-20 LR with `schedule` on layer "layer1.0.conv1" (16 channels, 32x32)."""
    text = RESNET20.read_text()
    head = text.index('layer "layer1.0.conv1"')
    storage = text.index("  storage fkw", head)
    (tmp_path / "resnet20_cifar.lr.weights").write_bytes((RESNET20.parent / "resnet20_cifar.lr.weights").read_bytes())
    lr = tmp_path / "m.lr"
    lr.write_text(text[:storage] + f"  schedule {schedule}\n" + text[storage:])
    return lr


@pytest.mark.parametrize(
    ("schedule", "notes"),
    [
        ("tile_x 7", ["note: layer 'layer1.0.conv1': tile_x 7 rounded up to 8 (a multiple of the 4-lane vector)"]),
        (
            "tile_x 4096 tile_y 64",
            [
                "note: layer 'layer1.0.conv1': tile_y 64 clamped to 32 (the layer's output rows)",
                "note: layer 'layer1.0.conv1': tile_x 4096 reduced to 32 (the layer's 32 output columns, "
                "rounded up to the 4-lane vector)",
            ],
        ),
    ],
)
def test_patdnnc_notes_changed_schedule_values(tmp_path, capsys, schedule, notes):
    lr = lr_with_schedule(tmp_path, schedule)
    assert patdnnc.main([str(lr), "-o", str(tmp_path / "out"), "--target", "neon"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if line.startswith("note:")] == notes


# -- 4. patdnn-opt --help documents patdnn's passes, options and targets ----------------------------------


def test_patdnn_opt_help_lists_patdnn_passes_options_and_targets():
    result = run_tool("patdnn.tools.patdnn_opt", "--help")
    assert result.returncode == 0, result.stderr
    section = result.stdout[result.stdout.index("patdnn passes") :]
    for name, factory in get_all_passes().items():
        cls = factory()
        first = " ".join(cls.__doc__.split("\n\n")[0].split())
        assert f"  {name}: {first}" in section
        for option in cls.__dataclass_fields__:
            if option != "name":
                assert re.search(rf"^      {option}=", section, re.M), (name, option)
    assert "tile_x=0: Output columns per register tile for every layer (0: rule or tuner)." in section
    targets = section[section.index("patdnn targets") :]
    for text in ("auto", "neon{platform=aarch64}", "avx512{threads=2}", "opencl{precision=fp16 device=nvidia}"):
        assert text in targets
    assert "kernels_only=false" in targets and "target options: isa, platform, threads, precision, device" in targets
    assert "--print-op-generic" in result.stdout  # xDSL's options are still there ...


def test_patdnn_opt_xdsl_options_still_work(tmp_path):
    result = run_tool("patdnn.tools.patdnn_opt", str(layer_mlir(tmp_path)), "--print-op-generic")
    assert result.returncode == 0 and '"pattern.conv2d"' in result.stdout, result.stderr  # ... and work


# -- 5. a pass option of the wrong type names the pass and the option -------------------------------------

WRONG = {
    int: ("abc", "an integer, got 'abc'"),
    bool: ("abc", "true or false, got 'abc'"),
    str: ("3", "a string, got 3"),
}


def option_cases():
    from typing import get_type_hints

    for name, factory in get_all_passes().items():
        cls = factory()
        for option, kind in get_type_hints(cls).items():
            if option in cls.__dataclass_fields__ and option != "name" and kind in WRONG:
                yield name, option, kind


@pytest.mark.parametrize(("name", "option", "kind"), list(option_cases()))
def test_every_pass_option_of_the_wrong_type_is_named(name, option, kind):
    value, said = WRONG[kind]
    with pytest.raises(ValueError) as e:
        parse_pipeline(f"{name}{{{option}={value}}}")
    assert str(e.value) == f"{name}: option {option} takes {said}"


def test_patdnn_opt_pass_option_of_the_wrong_type(tmp_path):
    result = run_tool("patdnn.tools.patdnn_opt", str(layer_mlir(tmp_path)), "-p", "tile-tune{tile_x=abc}")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == ["error: tile-tune: option tile_x takes an integer, got 'abc'"]


def test_unknown_pass_option_lists_the_options():
    with pytest.raises(ValueError, match=r'^tile-tune: no option "tilex" \(its options: "isa", "tile_x", '):
        parse_pipeline("tile-tune{tilex=8}")


# -- 6. an .mlir's blobs are checked when it is compiled ---------------------------------------------------


@pytest.mark.parametrize("damage", ["missing", "short", "changed"])
def test_patdnnc_checks_an_mlir_models_blob(tmp_path, capsys, damage):
    model = layer_mlir(tmp_path)
    blob = tmp_path / "layer.weights"
    data = blob.read_bytes()
    if damage == "missing":
        blob.unlink()
    elif damage == "short":
        blob.write_bytes(data[:-4])
    else:
        blob.write_bytes(data[:-4] + b"\0\0\0\1")
    assert patdnnc.main([str(model), "-o", str(tmp_path / "out"), "--emit", "mlir"]) == 1
    message = {
        "missing": f"{model} references weights blob {blob}, which does not exist (put it beside the IR)",
        "short": f"{model}: weights blob {blob} holds {len(data) - 4} bytes, the IR reads up to byte {len(data)}",
        "changed": f"{model}: weights blob {blob} has sha256 ",
    }[damage]
    one_line_error(capsys.readouterr().err, "patdnnc", message)


# -- 7. --patterns on a file that is not a patterns.npz ------------------------------------------------------


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    import torch

    from patdnn.prune.export import export_program

    path = tmp_path_factory.mktemp("pt2") / "model.pt2"
    export_program(torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1)), torch.randn(1, 2, 6, 6), path)
    return path


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not numpy\n", "not a numpy file at all"),
        (b"", "the file is empty"),
        ("npy", "a single numpy array (.npy), not an .npz archive"),
        ("nolib", "it has no 'library' array"),
    ],
)
def test_patdnnc_patterns_file_that_is_not_a_patterns_npz(program, tmp_path, capsys, content, why):
    path = tmp_path / "patterns.npz"
    if content == "npy":
        with path.open("wb") as f:
            np.save(f, np.zeros(3))
    elif content == "nolib":
        np.savez(path, ids=np.zeros(3))
    else:
        path.write_bytes(content)
    assert patdnnc.main([str(program), "-o", str(tmp_path / "o"), "--emit", "mlir", "--patterns", str(path)]) == 1
    one_line_error(capsys.readouterr().err, "patdnnc", f"{path}: not a patterns.npz written by patdnn prune: {why}")


# -- 8. patdnn prune / map: numeric options out of range ----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prune", "--entries", "10"], "patdnn prune: error: argument --entries: 10 is out of range (allowed: 1..9)"),
        (["prune", "--entries", "0"], "patdnn prune: error: argument --entries: 0 is out of range (allowed: 1..9)"),
        (
            ["prune", "--entries", "x"],
            "patdnn prune: error: argument --entries: 'x' is not a whole number (allowed: 1..9)",
        ),
        (
            ["prune", "--connectivity", "0.5"],
            "patdnn prune: error: argument --connectivity: 0.5 is out of range (allowed: >= 1)",
        ),
        (
            ["prune", "--connectivity", "nan"],
            "patdnn prune: error: argument --connectivity: nan is out of range (allowed: >= 1)",
        ),
        (["prune", "--rate", "0"], "patdnn prune: error: argument --rate: 0 is out of range (allowed: >= 1)"),
        (
            ["prune", "--batch-size", "0"],
            "patdnn prune: error: argument --batch-size: 0 is out of range (allowed: >= 1)",
        ),
        (["prune", "--lr", "-1"], "patdnn prune: error: argument --lr: -1 is out of range (allowed: > 0)"),
        (
            ["prune", "--admm-updates", "0"],
            "patdnn prune: error: argument --admm-updates: 0 is out of range (allowed: >= 1)",
        ),
        (["prune", "--threads", "0"], "patdnn prune: error: argument --threads: 0 is out of range (allowed: >= 1)"),
        (["prune", "--patterns", "0"], "patdnn: error: library size 0 out of range 1..56 for 4-entry patterns"),
        (["prune", "--patterns", "57"], "patdnn: error: library size 57 out of range 1..56 for 4-entry patterns"),
        (["prune", "--rho", "2", "1"], "patdnn: error: --rho 2.0 1.0: START must be <= END"),
        (
            ["map", "--model", "resnet20-cifar", "--method", "rule", "--rate", "0.5"],
            "patdnn map: error: argument --rate: 0.5 is out of range (allowed: >= 1)",
        ),
        (
            ["map", "--model", "resnet20-cifar", "--method", "rule", "--rate", "2", "--threads", "0"],
            "patdnn map: error: argument --threads: 0 is out of range (allowed: >= 1)",
        ),
        (
            ["map", "--model", "resnet20-cifar", "--method", "search", "--rate", "2", "--budget", "0"],
            "patdnn map: error: argument --budget: 0 is out of range (allowed: > 0)",
        ),
    ],
)
def test_patdnn_numeric_options_say_the_allowed_range(tmp_path, capsys, argv, message):
    from patdnn.tools import patdnn_cli

    try:
        code = patdnn_cli.main([*argv, "-o", str(tmp_path / "out" / ("plan.json" if argv[0] == "map" else ""))])
    except SystemExit as e:
        code = e.code
    assert code == 1
    line = one_line_error(capsys.readouterr().err, message.split(": error: ")[0])
    assert line.startswith(message), line
    assert not (tmp_path / "out").exists()


def test_prune_library_rejects_impossible_entries():
    from patdnn.prune.library import parse_library_spec

    with pytest.raises(ValueError, match=r"^entries 10 out of range 1\.\.9"):
        parse_library_spec(8, 10)


# -- 9. LR storage segments: aligned, and no two sharing a byte ---------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "weights @1792 +1136",
            "weights @1796 +1136",
            'layer "layer1.0.conv1": weights segment @1796 +1136 does not start at a multiple of 64 bytes',
        ),
        (
            "weights @1792 +1136",
            "weights @1728 +1136",
            'layer "layer1.0.conv1": weights segment @1728 +1136 overlaps layer "conv1"\'s bias segment @1728 +64',
        ),
        ("ids @3008 +256", "ids @2880 +256", 'layer "layer1.0.conv1": ids segment @2880 +256 overlaps its weights'),
    ],
)
def test_lr_segments_that_overlap_or_are_misaligned(tmp_path, capsys, old, new, message):
    lr = lr_with_schedule(tmp_path, "tile_x 8")
    text = lr.read_text()
    assert text.count(old) == 1
    lr.write_text(text.replace(old, new))
    assert patdnnc.main([str(lr), "-o", str(tmp_path / "out"), "--emit", "mlir"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith(f"patdnnc: error: {lr}:14:3: {message}"), err
    assert err.splitlines()[1].strip().startswith("storage fkw")  # the LR line, then the caret


# -- 10. benchmarks without matplotlib ----------------------------------------------------------------------


def test_peak_without_matplotlib_writes_results_and_says_why_there_is_no_plot(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    from benchmarks import peak

    run = {"threads": 1, "iters": 1, "gflops_all_runs": [10.0], "gflops": 10.0, "gflops_per_core": 10.0}
    result = {
        "machine": {},
        "load_start": 0,
        "load_end": 0,
        "isas": {"avx2": {"threads": {"1": run}, "gflops_per_core": 10.0}},
    }
    peak.write_results(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["peak.json", "peak.md"]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(
        "note: peak.png not plotted: the plot needs matplotlib, from the bench extra (pip install -e '.[bench]')"
    )
