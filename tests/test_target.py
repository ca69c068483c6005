"""One typed Target with one string form, and one pipeline table, for every entry point."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from patdnn.api import compile as patdnn_compile
from patdnn.api import resolve_target
from patdnn.pipeline import default_pipeline, pipeline_text
from patdnn.target import Target, TargetError
from patdnn.toolchain import best_host_isa
from patdnn.tools import patdnnc

FORMS = [
    ("neon", Target(isa="neon")),
    ("avx512", Target(isa="avx512")),
    ("c{isa=scalar}", Target(isa="scalar")),
    ("avx2{threads=3}", Target(isa="avx2", threads=3)),
    ("neon{platform=aarch64 threads=2}", Target(isa="neon", platform="aarch64", threads=2)),
    ("neon{platform=aarch64 precision=fp16}", Target(isa="neon", platform="aarch64", precision="fp16")),
    ("opencl", Target(code="opencl", isa="")),
    (
        'opencl{precision=fp16 device="NVIDIA CUDA"}',
        Target(code="opencl", isa="", precision="fp16", device="NVIDIA CUDA"),
    ),
]


@pytest.mark.parametrize("text,expected", FORMS, ids=[t for t, _ in FORMS])
def test_string_form_parses_and_prints_back(text: str, expected: Target):
    target = Target.parse(text)
    assert target == expected
    assert Target.parse(str(target)) == target
    assert len(str(target)) <= len(text)  # the canonical form is the short one


def test_auto_is_the_fastest_isa_of_this_host_and_neon_on_aarch64():
    assert Target.parse("auto") == Target(isa=best_host_isa())
    assert Target.parse("auto{threads=2}").threads == 2
    assert Target.parse("auto{platform=aarch64}") == Target(isa="neon", platform="aarch64")
    assert str(Target.parse("auto")) == best_host_isa()  # resolved when parsed


BAD = [
    ("host", r"^target 'host' is an old spelling: a C target names its ISA: 'auto', 'neon'"),
    ("aarch64", r"^target 'aarch64' is an old spelling: write 'neon\{platform=aarch64\}'"),
    ("avx9", r"^unknown target 'avx9', expected: auto, scalar, neon, avx2, avx512, c\{isa=\.\.\.\} or opencl$"),
    ("c{isa=avx9}", r"^unknown isa 'avx9', expected one of: auto, scalar, neon, avx2, avx512$"),
    ("neon{tile_x=4}", r"^unknown target option 'tile_x' in 'neon\{tile_x=4\}', expected: isa, platform"),
    ("avx512{platform=aarch64}", r"^isa=avx512 does not run on aarch64; use neon or scalar there$"),
    ("neon{threads=0}", r"^threads must be a whole number >= 1, got 0$"),
    ("neon{threads=two}", r"^threads must be a whole number >= 1, got 'two'$"),
    (
        "neon{precision=fp16}",
        r"^precision=fp16 on the neon target needs platform=aarch64 .*write neon\{platform=aarch64 precision=fp16\}$",
    ),
    ("avx2{precision=fp16}", r"^precision=fp16 needs isa=neon \(ARMv8.2 FP16 arithmetic\) or the opencl target"),
    ("opencl{isa=neon}", r"^'opencl' is not a C target: drop isa=neon$"),
    ("opencl{platform=aarch64}", r"^OpenCL models are built for the host"),
    ("neon{device=gpu}", r"^device= selects an OpenCL device"),
    ("neon{", r"^malformed target 'neon\{'"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[t for t, _ in BAD])
def test_a_bad_spelling_is_one_line_naming_what_to_write(text: str, message: str):
    with pytest.raises(TargetError, match=message) as info:
        Target.parse(text)
    assert "\n" not in str(info.value)


def test_the_api_takes_the_string_form_and_the_old_keywords():
    assert resolve_target("avx2{threads=2}") == Target(isa="avx2", threads=2)
    assert resolve_target(None) == Target(isa=best_host_isa())  # the default: auto
    assert resolve_target("avx512", threads=4) == Target(isa="avx512", threads=4)
    assert resolve_target("opencl", precision="fp16") == Target(code="opencl", isa="", precision="fp16")
    # the old spellings keep working
    assert resolve_target("host", isa="scalar") == Target(isa="scalar")
    assert resolve_target("aarch64") == Target(isa="neon", platform="aarch64")
    assert resolve_target("host") == Target(isa=best_host_isa())
    assert resolve_target(None, isa="avx2") == Target(isa="avx2")
    with pytest.raises(TargetError, match="^isa= goes with the old target='host'/'aarch64'; write target='avx2'"):
        resolve_target("neon", isa="avx2")
    with pytest.raises(TargetError, match="^device= and precision= apply to the opencl target$"):
        resolve_target("neon", device="gpu")


@pytest.mark.parametrize("text", ["neon", "avx512{threads=2}", "opencl", "scalar{platform=aarch64}"])
def test_patdnnc_prints_the_pipeline_table(text: str, capsys):
    assert patdnnc.main(["--print-pipeline", "--target", text]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == pipeline_text(default_pipeline(Target.parse(text)))
    names = [spec.split("{")[0] for spec in printed.split(",")]
    head = ["lower-pattern-to-kernel", "filter-kernel-reorder", "fkw-pack", "load-elim", "fuse-residual-add"]
    opencl = [*head, "plan-buffers"]  # OpenCL runs conv chains unfused
    assert names == (opencl if text == "opencl" else ["tile-tune", *head, "fuse-conv-chain", "plan-buffers"])


def test_the_pipeline_carries_the_threads_as_values_not_text():
    tile_tune, _, reorder, *_ = default_pipeline(Target(isa="avx2", threads=3))
    assert (tile_tune.isa, tile_tune.threads, tile_tune.log) == ("avx2", 3, "")
    assert reorder.name == "filter-kernel-reorder" and reorder.threads == 3
    fuse = next(p for p in default_pipeline(Target(isa="avx2", threads=3)) if p.name == "fuse-conv-chain")
    assert fuse.threads == 3  # one scratch slot per thread
    assert all(p.name != "fuse-conv-chain" for p in default_pipeline(Target(isa="avx2"), fuse=False))
    assert default_pipeline(Target(isa="avx2"), "/tmp/t.json")[0].log == "/tmp/t.json"


def test_patdnnc_threads_fold_into_the_target(capsys):
    assert patdnnc.main(["--print-pipeline", "--target", "avx2", "--threads", "2"]) == 0
    assert "filter-kernel-reorder{threads=2}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--target", "host"], "target 'host' is an old spelling"),
        (["--target", "avx512", "--build", "aarch64"], "isa=avx512 does not run on aarch64"),
        (["--target", "neon{platform=aarch64}", "--build", "host"], "--build host contradicts --target"),
        (["--threads", "0"], "threads must be a whole number >= 1, got 0"),
    ],
)
def test_patdnnc_target_mistakes_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        patdnnc.main(["--print-pipeline", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("patdnnc: error:")


@pytest.mark.parametrize("spelling", ["c{isa=avx512}", "avx512", "avx512{threads=2}"])
def test_patdnn_opt_takes_the_same_string(spelling: str, tmp_path):
    ir = tmp_path / "empty.mlir"
    ir.write_text("func.func @main(%x: memref<1x1x2x2xf32>, %y: memref<1x1x2x2xf32>) {\n  func.return\n}\n")
    result = subprocess.run(["patdnn-opt", str(ir), "-t", spelling], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("/* Generated by patdnn (target c, isa=avx512). Do not edit. */")


def test_patdnn_opt_names_a_bad_target_in_one_line(tmp_path):
    ir = tmp_path / "empty.mlir"
    ir.write_text("func.func @main() {\n  func.return\n}\n")
    result = subprocess.run(["patdnn-opt", str(ir), "-t", "neon{platform=mars}"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: unknown platform 'mars', expected one of: host, aarch64"


def test_compile_with_no_target_builds_the_fastest_isa_of_this_host(tmp_path):
    import torch

    from patdnn.testing import need_toolchain

    isa = best_host_isa()
    need_toolchain("host", isa)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3, padding=1), torch.nn.ReLU()).eval()
    x = torch.randn(1, 3, 9, 7)
    compiled = patdnn_compile(model, x, outdir=tmp_path)
    assert (tmp_path / "model.c").read_text().startswith(f"/* Generated by patdnn (target c, isa={isa}).")
    if "avx512f" in Path("/proc/cpuinfo").read_text():
        assert isa == "avx512"  # on an AVX-512 host the default is AVX-512, not NEON through SIMDe
    torch.testing.assert_close(compiled(x), model(x), rtol=1e-5, atol=1e-5)


def test_patdnnc_defaults_to_the_fastest_isa(capsys):
    assert patdnnc.main(["--print-pipeline"]) == 0
    assert f'tile-tune{{isa="{best_host_isa()}"}}' in capsys.readouterr().out
