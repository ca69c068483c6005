"""Convolution variants, resampling and pooling modes on OpenCL (PoCL here) vs PyTorch: every case
of tests/test_resample_ops.py (dilated dense / grouped / depthwise convs, transposed convs, nearest
and bilinear upsampling, pooling with ceil_mode, count_include_pad=False and dilation) in ONE
program build. The pattern-pruned dilated convs run in test_opencl_layers.py (the DILATED_CASES of
test_pattern_conv.py are among its pattern cases)."""

from __future__ import annotations

import numpy as np
import pytest
import test_resample_ops as resample_cases

from patdnn.build import build_module
from patdnn.nn_builder import merge_functions, single_op_module
from patdnn.pipeline import default_pipeline, run_pipeline
from patdnn.target import Target
from patdnn.testing import need_toolchain

_BUILT: dict[str, object] = {}


def results(tmp_path_factory) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Builds and runs every case once; a failure is re-raised by every test."""
    if "results" not in _BUILT:
        try:
            outdir = tmp_path_factory.mktemp("opencl-resample")
            modules, inputs, expected = [], [], {}
            for index, (name, make) in enumerate(resample_cases.CASES.items()):
                built = make(np.random.default_rng(index), outdir)
                modules.append(single_op_module([x.shape for x in built.inputs], built.output_shape, built.make_op))
                inputs += built.inputs
                expected[name] = built.expected
            merged = run_pipeline(merge_functions(modules), default_pipeline(Target.parse("opencl")))
            model = build_module(merged, outdir / "build", "opencl", pipeline="", weights_dir=outdir)
            outputs = model.run(*inputs)
            _BUILT["results"] = {name: (out, y) for (name, y), out in zip(expected.items(), outputs)}
        except Exception as e:  # noqa: BLE001 - reported by each case
            _BUILT["results"] = e
    if isinstance(_BUILT["results"], Exception):
        raise _BUILT["results"]
    return _BUILT["results"]  # type: ignore[return-value]


@pytest.mark.parametrize("case", list(resample_cases.CASES))
def test_layer_matches_torch(case: str, tmp_path_factory):
    need_toolchain("opencl")
    actual, expected = results(tmp_path_factory)[case]
    assert actual.shape == expected.shape
    if case.startswith("nearest"):  # a copy: one wrong source index would be an O(1) error
        np.testing.assert_array_equal(actual, expected)
    scale = max(float(np.abs(expected).max()), 1e-3)
    error = float(np.abs(actual - expected).max())
    assert error <= 1e-4 * scale, f"max abs error {error} (scale {scale})"
