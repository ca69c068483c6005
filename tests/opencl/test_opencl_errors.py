"""OpenCL user mistakes and runtime failures give one clear message (no traceback): device
selection (bad name/index, no platform at all), precision, a kernel build failure (with the
build log), an invalid work-group size (error code name, layer, what the device allows); and the
program binary cache survives a damaged entry."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, i64

from patdnn.build import build_host_library, build_module, build_runner, emit_source
from patdnn.ir_builder import pattern_conv_module
from patdnn.runners import OpenCLModel, RunError
from patdnn.sparsity.patterns import random_pattern_layer
from patdnn.testing import need_toolchain

SHAPE = (1, 5, 9, 11)


def small_layer(tmp: Path, schedule: dict | None = None):
    rng = np.random.default_rng(11)
    weight, ids, library = random_pattern_layer(rng, 6, SHAPE[1])
    module = pattern_conv_module(weight, ids, library, SHAPE, padding=1, blob_path=tmp / "layer.weights")
    if schedule:
        conv = next(op for op in module.walk() if op.name == "pattern.conv2d")
        conv.attributes["patdnn.opencl"] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in schedule.items()})
    x = rng.standard_normal(SHAPE).astype(np.float32)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(weight), padding=1).numpy()
    return module, x, expected


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """The runner of one small pattern layer, its input file and the expected output."""
    need_toolchain("opencl")
    tmp = tmp_path_factory.mktemp("opencl-errors")
    module, x, expected = small_layer(tmp)
    model = build_module(module, tmp / "build", "opencl", weights_dir=tmp)
    x.tofile(tmp / "in.bin")
    return model, tmp, expected


def run(runner, env: dict[str, str], source_exe: Path | None = None) -> subprocess.CompletedProcess:
    model, tmp, _ = runner
    exe = source_exe or model.executable
    return subprocess.run(
        [str(exe), "--weights-dir", str(tmp), str(tmp / "in.bin"), str(tmp / "out.bin")],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *parts: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    for part in parts:
        assert part in result.stderr, result.stderr


@pytest.mark.parametrize("selector", ["pocl", "0:0", "PORTABLE computing"])
def test_device_selectors_that_match(runner, selector):
    result = run(runner, {"PATDNN_OPENCL_DEVICE": selector})
    assert result.returncode == 0, result.stderr
    out = np.fromfile(runner[1] / "out.bin", dtype=np.float32).reshape(runner[2].shape)
    assert float(np.abs(out - runner[2]).max()) <= 1e-5 * max(1.0, float(np.abs(runner[2]).max()))


@pytest.mark.parametrize("selector", ["no-such-gpu", "0:3", "accelerator"])
def test_bad_device_selector_lists_the_devices(runner, selector):
    result = run(runner, {"PATDNN_OPENCL_DEVICE": selector})
    assert_one_line_error(
        result, f"OpenCL device selector '{selector}' matches no device; available: 0:0 ", "Portable Computing Language"
    )


def test_no_platform_says_how_to_get_one(runner, tmp_path):
    result = run(runner, {"OCL_ICD_VENDORS": str(tmp_path), "OPENCL_VENDOR_PATH": str(tmp_path)})
    assert_one_line_error(result, "no OpenCL device found", "pocl-opencl-icd", "OCL_ICD_VENDORS")


def test_bad_precision(runner):
    result = run(runner, {"PATDNN_OPENCL_PRECISION": "fp8"})
    assert_one_line_error(result, "OpenCL precision 'fp8' is not supported; use fp32 or fp16")


def test_python_api_bad_device_raises_one_line(tmp_path):
    need_toolchain("opencl")
    module, x, _ = small_layer(tmp_path)
    library = build_host_library(module, tmp_path / "lib", "opencl")
    with pytest.raises(RunError) as info:
        OpenCLModel(library, tmp_path, SHAPE, (1, 6, 9, 11), device="nvidia")
    assert "'nvidia' matches no device; available: 0:0 " in str(info.value)
    assert "\n" not in str(info.value)


def test_kernel_build_failure_shows_the_build_log(runner, tmp_path):
    model, tmp, _ = runner
    source = model.executable.with_name("model.c").read_text()
    broken = source.replace('"  const int b = z / ', '"  const int b = undeclared_thing + z / ', 1)
    assert broken != source
    (tmp_path / "model.c").write_text(broken)
    exe = build_runner(tmp_path / "model.c", tmp_path / "model_run", "opencl")
    result = run(runner, {"PATDNN_OPENCL_CACHE": "off"}, exe)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "OpenCL program build failed on 'Portable Computing Language" in result.stderr
    assert "CL_BUILD_PROGRAM_FAILURE (-11); build log" in result.stderr
    assert "undeclared_thing" in result.stderr  # the compiler's own words, from the log


def test_invalid_work_group_names_code_layer_and_limit(tmp_path):
    need_toolchain("opencl")
    module, x, _ = small_layer(tmp_path, {"tile_x": 1, "tile_y": 1, "wg_x": 11, "wg_y": 9})
    source = emit_source(module, tmp_path / "lib", "opencl").read_text()
    # A work-group the device cannot run: drop the kernel's required size, ask for 8192 items.
    source = source.replace("__attribute__((reqd_work_group_size(11, 9, 1)))", "")
    source = source.replace("l[3] = {11, 9, 1}", "l[3] = {11, 9, 100}").replace(
        "g[3] = {11, 9, 6}", "g[3] = {11, 9, 600}"
    )
    (tmp_path / "lib" / "model.c").write_text(source)
    from patdnn.toolchain import build_shared_library, runtime_sources

    build_shared_library(
        [tmp_path / "lib" / "model.c", *runtime_sources()], tmp_path / "lib" / "libbad.so", isa="opencl"
    )
    model = OpenCLModel(tmp_path / "lib" / "libbad.so", tmp_path, SHAPE, (1, 6, 9, 11))
    with pytest.raises(RunError) as info:
        model.run(x)
    message = str(info.value)
    assert "clEnqueueNDRangeKernel('conv0', layer 'conv0', global 11x9x600, local 11x9x100" in message
    assert "CL_INVALID_WORK" in message and "the device allows" in message


def test_binary_cache_is_written_and_a_damaged_entry_is_rebuilt(runner, tmp_path):
    cache = tmp_path / "cache"
    assert run(runner, {"PATDNN_OPENCL_CACHE": str(cache)}).returncode == 0
    (entry,) = cache.glob("*.bin")
    entry.write_bytes(b"not a program binary")
    result = run(runner, {"PATDNN_OPENCL_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr
    out = np.fromfile(runner[1] / "out.bin", dtype=np.float32).reshape(runner[2].shape)
    assert float(np.abs(out - runner[2]).max()) <= 1e-5 * max(1.0, float(np.abs(runner[2]).max()))


def test_a_second_model_of_the_same_library_reuses_the_device_state(tmp_path):
    """One OpenCL state per loaded library: a later model (new context) reuses it and still works
    after the first model's context is gone."""
    need_toolchain("opencl")
    module, x, expected = small_layer(tmp_path)
    library = build_host_library(module, tmp_path / "lib", "opencl")
    first = OpenCLModel(library, tmp_path, SHAPE, expected.shape)
    first.run(x)
    del first
    second = OpenCLModel(library, tmp_path, SHAPE, expected.shape)
    out = second.run(x)
    assert float(np.abs(out - expected).max()) <= 1e-5 * max(1.0, float(np.abs(expected).max()))
