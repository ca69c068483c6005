"""The nn layout and normalisation ops on OpenCL (PoCL here) vs PyTorch: every case of
tests/test_nn_layout_ops.py in ONE program (PoCL compiles are slow), and the fp16 variant of the
program type-checked with clang."""

from __future__ import annotations

import pytest
import test_nn_layout_ops as layout_cases
from op_cases import assert_close, opencl_results, opencl_run
from test_opencl_layers import clang_type_check

from patdnn.testing import need_toolchain


@pytest.mark.parametrize("case", list(layout_cases.CASES))
def test_layout_op_matches_torch(case: str, tmp_path_factory):
    need_toolchain("opencl")
    actual, expected = opencl_results(layout_cases.CASES, "layout", tmp_path_factory)[case]
    assert_close(actual, expected)


@pytest.mark.parametrize("defines", [[], ["-DPDNN_FP16"]], ids=["fp32", "fp16"])
def test_program_type_checks_with_clang(defines, tmp_path_factory, tmp_path):
    need_toolchain("opencl")
    model = opencl_run(layout_cases.CASES, "layout", tmp_path_factory).model
    clang_type_check(model.executable.with_name("model.c"), tmp_path / "program.cl", defines)
