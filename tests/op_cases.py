"""The harness the op-case test files share (not a test module itself).

A case is a factory `(rng, blob_dir) -> Built`: its inputs, output shape, an op factory and the
torch reference. All cases of a dict go into ONE module per backend (one build: C compiles and
PoCL programs are slow), run once, and each case is then its own test against torch.

* `host_and_qemu_tests(CASES, QEMU_CASES)`: the three C tests (host ISAs, aarch64 under qemu,
  SIMDe bit-identical to aarch64), assigned at module level so pytest collects them.
* `opencl_results(CASES, tag, tmp_path_factory)`: every case in one OpenCL program (PoCL here).

Until nn ops are wired into CEmitter, the C side prints with a CEmitter subclass that hands nn
ops to `patdnn.backend.c.nn.emit_nn_op` and includes patdnn_ops.h.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue

from patdnn.backend.c import CEmitter
from patdnn.backend.c.nn import emit_nn_op
from patdnn.backend.signature import entry_signature
from patdnn.build import build_module
from patdnn.isa import get_isa
from patdnn.nn_builder import merge_functions, single_op_module
from patdnn.pipeline import default_pipeline, run_pipeline
from patdnn.runners import BuiltModel
from patdnn.runtime import RUNTIME_DIR
from patdnn.target import Target
from patdnn.testing import need_toolchain
from patdnn.toolchain import build_executable, runtime_sources

# ---------------------------------------------------------------------------------------------
# Building nn modules (a CEmitter that knows nn ops)
# ---------------------------------------------------------------------------------------------


class NNEmitter(CEmitter):
    def print(self, op: Operation):  # type: ignore[override]
        if op.name.startswith("nn."):
            return emit_nn_op(self, op, self.value_names)
        return super().print(op)

    def emit_module(self, module: ModuleOp) -> str:
        text = super().emit_module(module)
        return text.replace('#include "patdnn_runtime.h"', '#include "patdnn_runtime.h"\n#include "patdnn_ops.h"', 1)


def build_nn(module: ModuleOp, outdir: Path, isa: str, target: str, weights_dir: Path | None = None) -> BuiltModel:
    module.verify()
    outdir.mkdir(parents=True, exist_ok=True)
    signature = entry_signature(module)
    source = outdir / "model.c"
    source.write_text(NNEmitter(get_isa(isa)).emit_module(module))
    exe = build_executable([source, *runtime_sources(), RUNTIME_DIR / "runner_main.c"], outdir / "model", target, isa)
    return BuiltModel(
        exe,
        target,
        weights_dir or outdir,
        [signature.shape(a) for a in signature.inputs],
        [signature.shape(a) for a in signature.outputs],
    )


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

OpFactory = Callable[[list[SSAValue], SSAValue], Operation]


@dataclass
class Built:
    inputs: list[np.ndarray]
    output_shape: tuple[int, ...]
    make_op: OpFactory
    expected: np.ndarray


Case = Callable[[np.random.Generator, Path], Built]
Results = dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (our output, torch's)


def rand(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    scale = max(float(np.abs(expected).max()), 1e-3)
    error = float(np.abs(actual - expected).max())
    assert error <= 1e-4 * scale, f"max abs error {error} (output scale {scale})"


_ONCE: dict[tuple, object] = {}


def once(key: tuple, build: Callable[[], object]):
    """`build()`'s result, computed once per session per `key`; a failure is cached too and
    re-raised by every caller (each case reports the build error, none is skipped)."""
    if key not in _ONCE:
        try:
            _ONCE[key] = build()
        except Exception as e:  # noqa: BLE001 - reported by each case
            _ONCE[key] = e
    result = _ONCE[key]
    if isinstance(result, Exception):
        raise result
    return result


# ---------------------------------------------------------------------------------------------
# C: one module, one build per backend
# ---------------------------------------------------------------------------------------------


def all_cases_module(names: list[str], blob_dir: Path, cases: dict[str, Case]) -> tuple[ModuleOp, dict[str, Built]]:
    """One function holding every named case: all inputs first, then one output per case."""
    built = {name: cases[name](np.random.default_rng(i), blob_dir) for i, name in enumerate(names)}
    in_shapes = [x.shape for b in built.values() for x in b.inputs]
    out_shapes = [b.output_shape for b in built.values()]

    def make_ops(_ins: list[SSAValue], _out: SSAValue) -> Operation:
        args = [*_ins, _out]
        inputs, outputs = args[: len(in_shapes)], args[len(in_shapes) :]
        op = None
        for b, out in zip(built.values(), outputs):
            ins, inputs = inputs[: len(b.inputs)], inputs[len(b.inputs) :]
            op = b.make_op(ins, out)
        assert op is not None
        return op

    # single_op_module gives the last argument the `output` role: pass the extra outputs as inputs.
    module = single_op_module([*in_shapes, *out_shapes[:-1]], out_shapes[-1], make_ops)
    return module, built


def run_cases(names: list[str], outdir: Path, isa: str, target: str, cases: dict[str, Case]) -> Results:
    module, built = all_cases_module(names, outdir, cases)
    model = build_nn(module, outdir / f"{isa}-{target}", isa, target, weights_dir=outdir)
    inputs = [x for b in built.values() for x in b.inputs]
    outputs = model.run(*inputs, threads=2)
    return {name: (out, b.expected) for (name, b), out in zip(built.items(), outputs)}


def results_for(isa: str, target: str, names: list[str], tmp_path_factory, cases: dict[str, Case]) -> Results:
    """Builds and runs the named `cases` once per backend (per cases dict: two test files may
    share case names); a build error is re-raised by every case."""
    return once(
        ("c", id(cases), isa, target, tuple(names)),
        lambda: run_cases(names, tmp_path_factory.mktemp(f"nn-{isa}-{target}"), isa, target, cases),
    )  # type: ignore[return-value]


def assert_bit_identical(ours: Results, theirs: Results, names: Iterable[str]) -> None:
    for case in names:
        np.testing.assert_array_equal(ours[case][0].view(np.uint32), theirs[case][0].view(np.uint32), case)


def host_and_qemu_tests(
    cases: dict[str, Case],
    qemu_cases: list[str],
    isas: tuple[str, ...] = ("scalar", "neon", "avx2", "avx512"),
    exempt_from_bit_identity: Callable[[str], bool] = lambda case: False,
):
    """The three C tests of a cases dict: `test_host_matches_torch` (every case on every host
    ISA), `test_aarch64_matches_torch` (the small `qemu_cases` on aarch64 under qemu) and
    `test_simde_bit_identical_to_aarch64` (NEON through SIMDe on the host gives aarch64's bits,
    except cases that call each target's libm, e.g. expf)."""

    @pytest.mark.parametrize("isa", list(isas))
    @pytest.mark.parametrize("case", list(cases))
    def test_host_matches_torch(case: str, isa: str, tmp_path_factory):
        need_toolchain("host", isa)
        actual, expected = results_for(isa, "host", list(cases), tmp_path_factory, cases)[case]
        assert_close(actual, expected)

    @pytest.mark.qemu
    @pytest.mark.parametrize("case", qemu_cases)
    def test_aarch64_matches_torch(case: str, tmp_path_factory):
        need_toolchain("aarch64")
        actual, expected = results_for("neon", "aarch64", qemu_cases, tmp_path_factory, cases)[case]
        assert_close(actual, expected)

    @pytest.mark.qemu
    def test_simde_bit_identical_to_aarch64(tmp_path_factory):
        need_toolchain("aarch64")
        need_toolchain("host", "neon")
        on_arm = results_for("neon", "aarch64", qemu_cases, tmp_path_factory, cases)
        on_host = results_for("neon", "host", qemu_cases, tmp_path_factory, cases)
        assert_bit_identical(on_host, on_arm, [c for c in qemu_cases if not exempt_from_bit_identity(c)])

    return test_host_matches_torch, test_aarch64_matches_torch, test_simde_bit_identical_to_aarch64


# ---------------------------------------------------------------------------------------------
# OpenCL: every case in one program
# ---------------------------------------------------------------------------------------------


def single_op_modules(
    cases: dict[str, Case], blob_dir: Path, prefix: str = ""
) -> tuple[list[ModuleOp], list[np.ndarray], dict[str, np.ndarray]]:
    """One module per case (to be merged into one program), all inputs, and the references by
    `prefix + name`."""
    modules, inputs, expected = [], [], {}
    for index, (name, make) in enumerate(cases.items()):
        built = make(np.random.default_rng(index), blob_dir)
        modules.append(single_op_module([x.shape for x in built.inputs], built.output_shape, built.make_op))
        inputs += built.inputs
        expected[prefix + name] = built.expected
    return modules, inputs, expected


@dataclass
class OpenCLRun:
    model: BuiltModel
    inputs: list[np.ndarray]
    results: Results


def run_opencl(outdir: Path, modules: list[ModuleOp], inputs: list[np.ndarray], expected: dict) -> OpenCLRun:
    """Merges `modules` into one OpenCL program, builds it and runs it once."""
    merged = run_pipeline(merge_functions(modules), default_pipeline(Target.parse("opencl")))
    merged.verify()
    model = build_module(merged, outdir / "build", "opencl", pipeline="", weights_dir=outdir)
    outputs = model.run(*inputs)
    return OpenCLRun(model, inputs, {name: (out, y) for (name, y), out in zip(expected.items(), outputs)})


def opencl_run(cases: dict[str, Case], tag: str, tmp_path_factory) -> OpenCLRun:
    """Every case of `cases` built into one OpenCL program and run once per session."""

    def build() -> OpenCLRun:
        outdir = tmp_path_factory.mktemp(f"opencl-{tag}")
        return run_opencl(outdir, *single_op_modules(cases, outdir))

    return once(("opencl", id(cases), tag), build)  # type: ignore[return-value]


def opencl_results(cases: dict[str, Case], tag: str, tmp_path_factory) -> Results:
    return opencl_run(cases, tag, tmp_path_factory).results
