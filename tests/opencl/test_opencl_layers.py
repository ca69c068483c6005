"""Every layer kind on OpenCL (PoCL here) vs PyTorch, per-layer schedules, fp16 fallback.

All cases go into ONE function (one program build: PoCL compiles are slow): the pattern
convolutions of tests/test_pattern_conv.py (odd sizes, channel counts that are not multiples of
4, stride 2, padding 0/1, empty filters, bias + relu/relu6, 2-5 entry patterns, 12 random
shapes) each with a different work-item tile / work-group schedule (ragged edge tiles on purpose),
some with a filter order, and every dense case of tests/test_nn_ops.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import test_nn_ops as nn_cases  # the dense cases and their torch references
import test_pattern_conv as conv_cases
from op_cases import OpenCLRun, once, single_op_modules
from xdsl.dialects.builtin import DenseArrayBase, DictionaryAttr, IntegerAttr, i64

from patdnn.build import build_module
from patdnn.dialects import kernel
from patdnn.nn_builder import merge_functions
from patdnn.pipeline import default_pipeline, run_pipeline
from patdnn.runners import BuiltModel, OpenCLModel
from patdnn.runtime import RUNTIME_DIR
from patdnn.target import Target
from patdnn.testing import need_toolchain
from patdnn.toolchain import build_shared_library, runtime_sources

SCHEDULES = [  # `patdnn.opencl` per layer, cycled over the pattern cases (None: target defaults)
    None,
    {"tile_x": 1, "tile_y": 1},
    {"tile_x": 3, "tile_y": 3, "wg_x": 2, "wg_y": 5},
    {"tile_x": 8, "tile_y": 1, "wg_x": 16, "wg_y": 1},
    {"tile_x": 5, "tile_y": 4, "wg_x": 1, "wg_y": 1},
]
ORDERED = {2, 7, 11}  # pattern cases that also get a (random) filter_order


def pattern_case(case, index: int, blob_dir):
    module, x, expected = conv_cases.case_module(case, blob_dir / f"layer{index}.weights")
    conv = next(op for op in module.walk() if op.name == "pattern.conv2d")
    schedule = SCHEDULES[index % len(SCHEDULES)]
    if schedule is not None:
        conv.attributes["patdnn.opencl"] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in schedule.items()})
    if index % 4 == 1:  # a CPU multi-row register tile in the lowered bodies (FMAs with acc_row)
        conv.attributes["patdnn.schedule"] = DictionaryAttr({"tile_y": IntegerAttr(3, i64)})
    return module, [x], expected


def build_all(outdir) -> tuple[BuiltModel, list[np.ndarray], dict[str, np.ndarray]]:
    modules, inputs, expected = [], [], {}
    for index, case in enumerate(conv_cases.CASES):
        module, xs, y = pattern_case(case, index, outdir)
        modules.append(module)
        inputs += xs
        expected[f"pattern-{case.name}"] = y
    nn_modules, nn_inputs, nn_expected = single_op_modules(nn_cases.CASES, outdir, prefix="nn-")
    modules, inputs, expected = modules + nn_modules, inputs + nn_inputs, expected | nn_expected
    merged = run_pipeline(merge_functions(modules), default_pipeline(Target.parse("opencl")))
    convs = [op for op in merged.walk() if isinstance(op, kernel.PatternConvOp)]
    rng = np.random.default_rng(5)
    for index in ORDERED:
        order = rng.permutation(pattern_cout(convs[index]))
        convs[index].properties["filter_order"] = DenseArrayBase.from_list(i64, [int(o) for o in order])
    merged.verify()
    model = build_module(merged, outdir / "build", "opencl", pipeline="", weights_dir=outdir)
    return model, inputs, expected


def pattern_cout(op: kernel.PatternConvOp) -> int:
    return op.output.type.get_shape()[1]  # type: ignore[union-attr]


def built(tmp_path_factory) -> OpenCLRun:
    """Builds and runs every case once; a failure is re-raised by every test."""

    def build() -> OpenCLRun:
        model, inputs, expected = build_all(tmp_path_factory.mktemp("opencl-layers"))
        outputs = model.run(*inputs)
        return OpenCLRun(model, inputs, {name: (out, y) for (name, y), out in zip(expected.items(), outputs)})

    return once(("opencl-layers",), build)  # type: ignore[return-value]


CASE_NAMES = [f"pattern-{c.name}" for c in conv_cases.CASES] + [f"nn-{n}" for n in nn_cases.CASES]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_layer_matches_torch(case: str, tmp_path_factory):
    need_toolchain("opencl")
    actual, expected = built(tmp_path_factory).results[case]
    assert actual.shape == expected.shape
    scale = max(float(np.abs(expected).max()), 1.0 if case.startswith("pattern") else 1e-3)
    error = float(np.abs(actual - expected).max())
    assert error <= 1e-5 * scale * (10 if case.startswith("nn") else 1), f"max abs error {error} (scale {scale})"


def check_fp16_request(model: BuiltModel, inputs, fp32: dict, library_path) -> None:
    """Runs `model` asking for fp16: on a device without half (PoCL) it must select fp32 and give
    `fp32`'s results ({name: (output, reference)}) bit for bit; with half, stay within half precision."""
    library = build_shared_library(
        [model.executable.with_name("model.c"), *runtime_sources()], library_path, isa="opencl"
    )
    chosen = OpenCLModel(library, model.weights_dir, precision="fp16")  # init only
    os.environ["PATDNN_OPENCL_PRECISION"] = "fp16"
    try:
        outputs = model.run(*inputs)
    finally:
        del os.environ["PATDNN_OPENCL_PRECISION"]
    if "Portable Computing Language" in chosen.device:
        assert chosen.precision == "fp32"
    for (name, (reference, _)), out in zip(fp32.items(), outputs):
        if chosen.precision == "fp32":
            np.testing.assert_array_equal(out.view(np.uint32), reference.view(np.uint32), err_msg=name)
        else:
            assert float(np.abs(out - reference).max()) <= 2e-2 * max(float(np.abs(reference).max()), 1.0), name


def test_fp16_request_falls_back_to_fp32_on_a_device_without_half(tmp_path_factory, tmp_path):
    """PoCL has no cl_khr_fp16: asking for fp16 must select fp32 and give the fp32 results bit for
    bit; a device with half must select fp16 and stay within half precision of fp32."""
    need_toolchain("opencl")
    run = built(tmp_path_factory)
    check_fp16_request(run.model, run.inputs, run.results, tmp_path / "libcases.so")


def test_opencl_runtime_compiles_warning_free(tmp_path):
    need_toolchain("opencl")
    for defines in (["-DPDNN_OPENCL"], []):  # without PDNN_OPENCL it must compile to nothing
        warnings = "-O2 -std=c11 -Wall -Wextra -Wpedantic -Werror".split()
        source, obj = RUNTIME_DIR / "opencl.c", tmp_path / "opencl.o"
        cmd = ["gcc", *warnings, *defines, f"-I{RUNTIME_DIR}", "-c", str(source), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def embedded_program(model_c: str) -> str:
    """The OpenCL C program a generated model embeds (patdnn_cl_source), unescaped."""
    block = re.search(r"patdnn_cl_source\[\] =\n(.*?);\n", model_c, re.S)
    assert block is not None
    lines = re.findall(r'^  "(.*)\\n"$', block.group(1), re.M)
    return "\n".join(line.replace('\\"', '"').replace("\\\\", "\\") for line in lines)


def clang_type_check(source: Path, program: Path, defines: list[str]) -> None:
    """Checks the OpenCL program embedded in the generated host C `source` with clang as OpenCL C
    1.2 with cl_khr_fp16 on (PoCL cannot build the fp16 variant), so the half path is at least
    well-typed before it meets a real GPU; skips without clang."""
    clang = shutil.which("clang-15") or shutil.which("clang")
    if clang is None:
        pytest.skip("clang is not installed (optional: type-checks the fp16 OpenCL program)")
    program.write_text(embedded_program(source.read_text()))
    flags = "-cl-std=CL1.2 -Xclang -finclude-default-header -Xclang -cl-ext=+cl_khr_fp16".split()
    cmd = [clang, *flags, *defines, "-Werror", "-fsyntax-only", "-x", "cl", str(program)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("defines", [[], ["-DPDNN_FP16"]], ids=["fp32", "fp16"])
def test_program_type_checks_with_clang(defines, tmp_path_factory, tmp_path):
    need_toolchain("opencl")
    model = built(tmp_path_factory).model
    clang_type_check(model.executable.with_name("model.c"), tmp_path / "program.cl", defines)
