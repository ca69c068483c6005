"""The `patdnn-opt` command line: exit codes, diagnostics on stderr, --help, -o.

User mistakes (bad IR, a failing verifier, an unknown pass, a malformed option string, an
unknown isa, a missing file) must end with a non-zero exit code and a short diagnostic on stderr
that names the problem, never with a Python traceback.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def conv_ir(
    out: str = "1x2x5x5",
    stride: str = "[1, 1]",
    activation: str = "relu",
    library: str = '3x3, ["010|111|000", "010|110|010"]',
    kernels: str = "[[0, 1], [-1, 0]]",
) -> str:
    """One pattern convolution in a function (line 2: the op, line 3: the library)."""
    return f"""\
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<{out}xf32>) {{
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<{out}xf32>) stride {stride} padding [1, 1] activation {activation}
      library #pattern.library<{library}>
      kernels {kernels}
      weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}}
"""


VALID = conv_ir()


def _command() -> list[str]:
    exe = shutil.which("patdnn-opt")
    return [exe] if exe else [sys.executable, "-m", "patdnn.tools.patdnn_opt"]


def run_opt(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_command(), *args], input=stdin, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def valid_file(tmp_path: Path) -> Path:
    path = tmp_path / "layer.mlir"
    path.write_text(VALID)
    return path


def write(tmp_path: Path, text: str, name: str = "bad.mlir") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_diagnostic(result: subprocess.CompletedProcess[str], *needles: str, max_lines: int = 30) -> None:
    """A failed run: exit code 1, nothing on stdout, stderr names the problem, no traceback."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
    assert result.stdout == "", result.stdout
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)
    assert 0 < len(result.stderr.strip().splitlines()) <= max_lines, result.stderr


# -- the happy path ---------------------------------------------------------------------------


def test_valid_ir_round_trips(valid_file: Path) -> None:
    result = run_opt(str(valid_file))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "kernels [[0, 1], [-1, 0]]" in result.stdout
    assert 'library #pattern.library<3x3, ["010|111|000", "010|110|010"]>' in result.stdout


def test_reads_stdin() -> None:
    result = run_opt("-p", "lower-pattern-to-kernel", stdin=VALID)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("kernel.pattern_body") == 2
    assert "pattern.conv2d" not in result.stdout


def test_output_file(valid_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "layer.c"
    result = run_opt(str(valid_file), "-p", "lower-pattern-to-kernel", "-t", "c{isa=neon}", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # everything went to the file
    text = out.read_text()
    assert '#include "patdnn_neon.h"' in text
    assert "vfmaq_f32(" in text
    assert "const pdnn_model_desc patdnn_model = {" in text
    assert "void model_run(pdnn_ctx *ctx, const float *in, float *out)" in text  # the plain C entry point
    assert text.endswith("}\n")  # the whole file was written


def test_output_file_ir(valid_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "lowered.mlir"
    result = run_opt(str(valid_file), "-p", "lower-pattern-to-kernel{tile_x=8}", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "tile_x = 8 : i64" in text
    # what was written parses again
    again = run_opt(str(out))
    assert again.returncode == 0, again.stderr
    assert "tile_x = 8 : i64" in again.stdout


def test_help_mentions_passes_and_c_target() -> None:
    result = run_opt("--help")
    assert result.returncode == 0, result.stderr
    assert "patdnn" in result.stdout
    # argparse wraps the comma-separated lists (also inside names, after a '-'): drop all spaces
    targets = re.search(r"Available targets are:(.*?)\n\s*-o", result.stdout, re.S)
    passes = re.search(r"Available passes are:(.*?)\n\s*--", result.stdout, re.S)
    assert targets and passes, result.stdout
    assert "c" in re.sub(r"\s+", "", targets.group(1)).split(",")
    assert "lower-pattern-to-kernel" in re.sub(r"\s+", "", passes.group(1)).split(",")


# -- user mistakes ----------------------------------------------------------------------------


def test_verifier_error(tmp_path: Path) -> None:
    bad = write(tmp_path, conv_ir(out="1x2x4x5"))
    result = run_opt(str(bad))
    assert_diagnostic(result, "output height 4 does not match the input: (5 + 2*1 - 3) / 1 + 1 = 5")
    assert result.stderr.splitlines()[0].startswith("error: output height 4")


def test_attribute_verifier_error(tmp_path: Path) -> None:
    bad = write(tmp_path, conv_ir(library='3x3, ["010|111|000", "010|111|000"]'))
    result = run_opt(str(bad))
    assert_diagnostic(result, 'pattern masks 0 and 1 are identical ("010|111|000")')


def test_parse_error_has_location(tmp_path: Path) -> None:
    bad = write(tmp_path, conv_ir(activation="mish"))
    result = run_opt(str(bad))
    assert_diagnostic(result, "unknown activation 'mish', expected one of none, relu, relu6, sigmoid")
    line = "  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation "
    assert result.stderr.splitlines()[0] == f"{bad}:2:{len(line) + 1}", result.stderr


def test_parse_error_non_square_library(tmp_path: Path) -> None:
    bad = write(tmp_path, conv_ir(library='2x3, ["010|111|000", "010|110|010"]'))
    result = run_opt(str(bad))
    assert_diagnostic(result, "pattern library kernels must be square, got 2x3")
    assert result.stderr.startswith(f"{bad}:3:")


def test_pattern_id_out_of_i8_range(tmp_path: Path) -> None:
    bad = write(tmp_path, conv_ir(kernels="[[0, 300], [-1, 0]]"))
    result = run_opt(str(bad))
    assert_diagnostic(result, "pattern id 300 does not fit in i8")
    assert result.stderr.startswith(f"{bad}:")  # a location, not just a message


def test_unknown_pass(valid_file: Path) -> None:
    result = run_opt(str(valid_file), "-p", "lower-pattern-to-kernal")
    assert_diagnostic(result, "lower-pattern-to-kernal", max_lines=3)


@pytest.mark.parametrize(
    "spec", ["lower-pattern-to-kernel{tile_x=", "lower-pattern-to-kernel{tile_x=4", "lower-pattern-to-kernel{"]
)
def test_malformed_pass_options(valid_file: Path, spec: str) -> None:
    result = run_opt(str(valid_file), "-p", spec)
    assert_diagnostic(result, "malformed option string", spec, max_lines=8)


def test_pass_option_of_the_wrong_type(valid_file: Path) -> None:
    result = run_opt(str(valid_file), "-p", "lower-pattern-to-kernel{tile_x=wide}")
    assert_diagnostic(result, "error: lower-pattern-to-kernel: option tile_x takes an integer, got 'wide'", max_lines=1)


def test_unknown_pass_option(valid_file: Path) -> None:
    result = run_opt(str(valid_file), "-p", "lower-pattern-to-kernel{tilex=8}")
    assert_diagnostic(
        result, 'error: lower-pattern-to-kernel: no option "tilex" (its options: "tile_x", "tile_y")', max_lines=1
    )


def test_pass_option_out_of_range(valid_file: Path) -> None:
    result = run_opt(str(valid_file), "-p", "lower-pattern-to-kernel{tile_x=0}")
    assert_diagnostic(result, "tile_x=0 must be >= 1", max_lines=3)


def test_unknown_isa(valid_file: Path) -> None:
    result = run_opt(str(valid_file), "-p", "lower-pattern-to-kernel", "-t", "c{isa=avx9}")
    assert_diagnostic(result, "unknown isa 'avx9'", "scalar", "neon", max_lines=3)


def test_unknown_target_option(valid_file: Path) -> None:
    result = run_opt(str(valid_file), "-p", "lower-pattern-to-kernel", "-t", "c{isa=neon tile=3}")
    assert_diagnostic(result, "unknown target option 'tile'", "expected: isa, platform", max_lines=3)


def test_unlowered_conv_to_c(valid_file: Path) -> None:
    result = run_opt(str(valid_file), "-t", "c{isa=scalar}")
    assert_diagnostic(result, "'pattern.conv2d' cannot be printed as C", "lower-pattern-to-kernel", max_lines=3)


def test_stride3_compiles_on_every_isa(tmp_path: Path) -> None:
    # Stride 3 used to be refused by isa=neon; the tap-shifted input planes (pdnn_shift_input
    # applies the column stride, the row stride is a plane-row offset) make any stride printable.
    # 5x5, padding 1, stride 3 -> 2x2, one row block; planes of (2-1)*3 + 3 = 6 rows x tile floats,
    # the block's first input row y_begin * 3 - 1 (the top padding).
    path = write(tmp_path, conv_ir(out="1x2x2x2", stride="[3, 3]"))
    for isa, row_len in (("neon", 4), ("avx2", 8), ("avx512", 16), ("scalar", 2)):
        result = run_opt(str(path), "-p", "lower-pattern-to-kernel", "-t", f"c{{isa={isa}}}")
        assert result.returncode == 0, (isa, result.stderr)
        assert result.stderr == "", (isa, result.stderr)
        assert f"(int64_t)(y0 - job->y_begin) * {3 * row_len} + x0;" in result.stdout, isa
        assert f"patdnn_scratch, 2, 5, 5, 3, 3, y_begin * 3 - 1, 1, 6, {row_len});" in result.stdout, isa


def test_unknown_target(valid_file: Path) -> None:
    result = run_opt(str(valid_file), "-t", "cuda")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "invalid choice: 'cuda'" in result.stderr


def test_missing_input_file(tmp_path: Path) -> None:
    missing = tmp_path / "does_not_exist.mlir"
    result = run_opt(str(missing))
    assert_diagnostic(result, "No such file or directory", str(missing), max_lines=2)


def test_unwritable_output_file(valid_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "dir" / "out.mlir"
    result = run_opt(str(valid_file), "-o", str(out))
    assert_diagnostic(result, str(out), max_lines=2)


def test_verify_diagnostics_exit_zero(tmp_path: Path) -> None:
    """--verify-diagnostics prints the verifier message on stdout and succeeds."""
    bad = write(tmp_path, conv_ir(kernels="[[0, 2], [-1, 0]]"))
    result = run_opt(str(bad), "--verify-diagnostics")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "kernel (0, 1) has pattern id 2, expected -1 (removed) or 0..1 (library size 2)"
    )
