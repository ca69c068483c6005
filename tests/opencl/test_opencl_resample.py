"""Convolution variants, resampling and pooling modes on OpenCL (PoCL here) vs PyTorch: every case
of tests/test_resample_ops.py (dilated dense / grouped / depthwise convs, transposed convs, nearest
and bilinear upsampling, pooling with ceil_mode, count_include_pad=False and dilation) in ONE
program build. The pattern-pruned dilated convs run in test_opencl_layers.py (the DILATED_CASES of
test_pattern_conv.py are among its pattern cases)."""

from __future__ import annotations

import numpy as np
import pytest
import test_resample_ops as resample_cases
from op_cases import assert_close, opencl_results

from patdnn.testing import need_toolchain


@pytest.mark.parametrize("case", list(resample_cases.CASES))
def test_layer_matches_torch(case: str, tmp_path_factory):
    need_toolchain("opencl")
    actual, expected = opencl_results(resample_cases.CASES, "resample", tmp_path_factory)[case]
    assert_close(actual, expected)
    if case.startswith("nearest"):  # a copy: one wrong source index would be an O(1) error
        np.testing.assert_array_equal(actual, expected)
