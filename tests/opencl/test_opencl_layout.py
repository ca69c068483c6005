"""The nn layout and normalisation ops on OpenCL (PoCL here) vs PyTorch: every case of
tests/test_nn_layout_ops.py in ONE program (PoCL compiles are slow), and the fp16 variant of the
program type-checked with clang."""

from __future__ import annotations

import numpy as np
import pytest
import test_nn_layout_ops as layout_cases
from test_opencl_layers import clang_type_check

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
            outdir = tmp_path_factory.mktemp("opencl-layout")
            modules, inputs, expected = [], [], {}
            for index, (name, make) in enumerate(layout_cases.CASES.items()):
                built = make(np.random.default_rng(index), outdir)
                modules.append(single_op_module([x.shape for x in built.inputs], built.output_shape, built.make_op))
                inputs += built.inputs
                expected[name] = built.expected
            merged = run_pipeline(merge_functions(modules), default_pipeline(Target.parse("opencl")))
            model = build_module(merged, outdir / "build", "opencl", pipeline="", weights_dir=outdir)
            _BUILT["model"] = model
            outputs = model.run(*inputs)
            _BUILT["results"] = {name: (out, y) for (name, y), out in zip(expected.items(), outputs)}
        except Exception as e:  # noqa: BLE001 - reported by each case
            _BUILT["results"] = e
    if isinstance(_BUILT["results"], Exception):
        raise _BUILT["results"]
    return _BUILT["results"]  # type: ignore[return-value]


@pytest.mark.parametrize("case", list(layout_cases.CASES))
def test_layout_op_matches_torch(case: str, tmp_path_factory):
    need_toolchain("opencl")
    actual, expected = results(tmp_path_factory)[case]
    layout_cases.assert_close(actual, expected)


@pytest.mark.parametrize("defines", [[], ["-DPDNN_FP16"]], ids=["fp32", "fp16"])
def test_program_type_checks_with_clang(defines, tmp_path_factory, tmp_path):
    need_toolchain("opencl")
    results(tmp_path_factory)
    model = _BUILT["model"]
    clang_type_check(model.executable.with_name("model.c"), tmp_path / "program.cl", defines)  # type: ignore[attr-defined]
