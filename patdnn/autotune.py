"""The auto-tuner behind `patdnnc --autotune` and `patdnn.compile(..., autotune=SECONDS)`.

For each pattern convolution it compiles the layer alone (its real pattern ids and library,
random weights — timing does not depend on the values) for the host with a candidate schedule,
times it with the runtime's runner (median of a few runs), and hill-climbs from the rule-based
schedule over the neighbouring schedules (one more/less vector or row in the register tile, the
channel block doubled/halved/whole, the other loop form, the filter group halved/doubled) until no
neighbour is faster or the time budget is spent.
PatDNN used a genetic algorithm over the same space; the space here is small and smooth enough
that a greedy climb from a good rule finds the same optimum with far fewer (slow) compilations.

Results go to a persistent JSON log keyed by target, threads and layer signature
(patdnn/tuning/log.py); the `tile-tune{log=PATH}` pass of the pipeline reads the schedules from
there, and a later tuning of the same layer reuses the logged schedule without compiling anything.
`tune_module` is the entry point the tools and the API call before the pipeline.

**NEON is tuned by the A76 estimate, not by timings.** NEON code timed on an x86 host runs through
SIMDe and says nothing about a phone's core, and no A76 is at hand; so for `isa=neon` the objective
is the estimated milliseconds on one Cortex-A76 (patdnn.estimate: the candidate's generated loops
through the aarch64 cross compiler and llvm-mca's Neoverse-N1 model, times their trip counts,
against the stated memory model). The climb, the neighbours and the log are the same; a log entry
says which objective produced its `ms` (`"objective": "a76-estimate"` or `"host-time"`). It runs on
any host that has `aarch64-linux-gnu-gcc` and `llvm-mca-19`, whatever platform the model is built for.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm
from xdsl.dialects.builtin import ModuleOp

from patdnn.build import build_module
from patdnn.dialects import common, pattern
from patdnn.ir_builder import pattern_conv_module
from patdnn.isa import Isa, get_isa
from patdnn.pipeline import default_pipeline, without_pass
from patdnn.target import Target
from patdnn.toolchain import host_cpu_problem
from patdnn.tuning.log import TuningLog
from patdnn.tuning.rules import (
    FP16_BLOCK_CHANNELS,
    TAP_LIST_GROUP,
    LayerShape,
    Schedule,
    form_channel_block,
    max_accumulators,
    rule_schedule,
)


class TuningError(RuntimeError):
    """Tuning cannot run here (the host cannot execute the target's code) or a candidate failed."""


def tune_module(module: ModuleOp, target: Target, budget: float, log: Path | str | None = None) -> Path:
    """Tunes every pattern convolution of `module` for `target` on this host (at most `budget`
    seconds in all; logged layers cost nothing) and returns the log's path for `tile-tune{log=}`."""
    if (problem := tuning_problem(target)) is not None:
        raise TuningError(problem)
    tuner = Autotuner(get_isa(target.pattern_isa), target.threads, budget, log)
    tuner.tune_all([op for op in module.walk() if isinstance(op, pattern.Conv2dOp)])
    return tuner.log.path


def objective_of(isa: Isa) -> str:
    """How candidates of `isa` are judged: NEON by the A76 estimate, the host ISAs by timing them here."""
    return "a76-estimate" if isa.name in ("neon", "neon_fp16") else "host-time"


def tuning_problem(target: Target) -> str | None:
    """Why `target` cannot be tuned on this host (None: it can)."""
    if target.is_opencl:
        return f"auto-tuning applies to the C targets; it does not apply to target {target}"
    if objective_of(get_isa(target.pattern_isa)) == "a76-estimate":
        from patdnn.estimate import estimate_problem

        problem = estimate_problem()
        return f"cannot estimate isa=neon candidates on this host: {problem}" if problem else None
    if target.platform != "host":
        return f"auto-tuning times code on this host; it does not apply to target {target}"
    if (problem := host_cpu_problem(target.isa)) is not None:
        return f"cannot time isa={target.isa} candidates on this host: {problem}"
    return None


def neighbours(sched: Schedule, shape: LayerShape, isa: Isa) -> list[Schedule]:
    vw, limit = isa.vector_width, max_accumulators(isa) + max_accumulators(isa) // 2
    result = []
    for dv, dy in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1)):
        vectors = sched.tile_x // vw + dv
        rows = sched.tile_y + dy
        if vectors < 1 or rows < 1 or rows > shape.ho or vectors * rows > limit or (vectors - 1) * vw >= shape.wo:
            continue
        result.append(_with_form(Schedule(vectors * vw, rows, 0), shape, sched.filter_group))
    largest = FP16_BLOCK_CHANNELS if isa.elem_bytes == 2 else shape.cin  # fp16 sums <= 64 channels
    for block in (sched.channel_block * 2, sched.channel_block // 2, shape.cin):
        if 1 <= block <= min(shape.cin, largest) and block != sched.channel_block:
            result.append(Schedule(sched.tile_x, sched.tile_y, block, sched.filter_group))
    if isa.elem_bytes == 2:  # fp16 has PatDNN's loop form only (backend/c/pattern_fp16.py)
        return list(dict.fromkeys(result))
    # the other loop form; in the tap-list form, half / twice the filter group
    groups = [0] if sched.filter_group else [min(TAP_LIST_GROUP, shape.cout)]
    groups += [
        g for g in (sched.filter_group // 2, sched.filter_group * 2) if sched.filter_group and 1 <= g <= shape.cout
    ]
    result += [_with_form(sched, shape, g) for g in groups if g != sched.filter_group]
    return list(dict.fromkeys(result))


def _with_form(sched: Schedule, shape: LayerShape, group: int) -> Schedule:
    """`sched`'s register tile in loop form `group`, with that form's channel block."""
    return Schedule(sched.tile_x, sched.tile_y, form_channel_block(shape, sched.tile_x, sched.tile_y, group), group)


class Autotuner:
    def __init__(self, isa: Isa, threads: int = 1, budget: float = 60.0, log: str | Path | None = None, runs: int = 7):
        self.isa, self.threads, self.budget, self.runs = isa, threads, budget, runs
        self.log = TuningLog.read(log)

    def tune_all(self, convs: list[pattern.Conv2dOp]) -> list[Schedule]:
        deadline = time.monotonic() + self.budget
        results = []
        with tqdm(total=len(convs), desc="autotune", unit="layer", disable=None) as bar:
            for op in convs:
                results.append(self.tune(op, deadline))
                bar.update(1)
        return results

    def tune(self, op: pattern.Conv2dOp, deadline: float) -> Schedule:
        if (logged := self.log.schedule(op, self.isa, self.threads)) is not None:
            return logged
        shape = LayerShape.of(op)
        best = rule_schedule(shape, self.isa)
        objective = objective_of(self.isa)
        with tempfile.TemporaryDirectory(prefix="patdnn-tune-") as tmp:
            layer = _Layer.of(op, Path(tmp))
            if objective == "a76-estimate":
                timer = _LayerEstimator(layer, "fp16" if self.isa.elem_bytes == 2 else "fp32")
            else:
                timer = _LayerTimer(layer, self.isa, self.threads, self.runs)
            tried = {best: timer.time(best)}
            improved = True
            while improved and time.monotonic() < deadline:
                improved = False
                for cand in neighbours(best, shape, self.isa):
                    if cand in tried:
                        continue
                    if time.monotonic() >= deadline:
                        break
                    tried[cand] = timer.time(cand)
                    if tried[cand] < tried[best]:
                        best, improved = cand, True
        self.log.record(op, self.isa, self.threads, best, tried, objective)
        return best


@dataclass(frozen=True)
class _Layer:
    """One pattern layer alone, as a candidate is compiled: its real pattern ids and library,
    random weights (neither timing nor the estimate depends on the values), batch 1."""

    weight: np.ndarray
    ids: np.ndarray
    library: np.ndarray
    input_shape: tuple[int, int, int, int]
    stride: int
    padding: int
    dilation: int
    activation: str
    workdir: Path

    @staticmethod
    def of(op: pattern.Conv2dOp, workdir: Path) -> _Layer:
        _, cin, h, w = common.shape_of(op.input)
        cout, k = common.shape_of(op.output)[1], op.library.size
        weight = np.random.default_rng(0).standard_normal((cout, cin, k, k)).astype(np.float32)
        return _Layer(
            weight,
            common.kernel_ids(op),
            op.library.as_array(),
            (1, cin, h, w),
            op.stride.get_values()[0],
            op.padding.get_values()[0],
            op.dilation.get_values()[0],
            op.activation.text(),
            workdir,
        )

    def module(self, sched: Schedule) -> ModuleOp:
        """The layer with `sched` set on it (the pipeline then runs without tile-tune)."""
        return pattern_conv_module(
            self.weight,
            self.ids,
            self.library,
            self.input_shape,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            activation=self.activation,
            blob_path=self.workdir / "layer.weights",
            schedule=sched.as_attr(),
        )


class _LayerEstimator:
    """Estimated ms of the layer with a schedule on one Cortex-A76 (patdnn.estimate), the
    objective for isa=neon (the estimate is of one core, whatever the thread count)."""

    def __init__(self, layer: _Layer, precision: str = "fp32"):
        self.layer, self.precision = layer, precision

    def time(self, sched: Schedule) -> float:
        from patdnn.estimate import estimate_pattern_conv

        layer = self.layer
        return estimate_pattern_conv(
            "tune",
            layer.weight,
            layer.ids,
            layer.library,
            layer.input_shape,
            layer.stride,
            layer.padding,
            dilation=layer.dilation,
            schedule=sched,
            precision=self.precision,
        ).ms


class _LayerTimer:
    """Compiles one layer alone with a given schedule and times it with the runtime's runner."""

    def __init__(self, layer: _Layer, isa: Isa, threads: int, runs: int):
        self.layer, self.threads, self.runs = layer, threads, runs
        self.input = layer.workdir / "in.bin"
        np.random.default_rng(1).standard_normal(layer.input_shape).astype(np.float32).tofile(self.input)
        self.count = 0
        # the schedule is set on the op: everything after tile-tune
        target = Target(isa=isa.name, threads=threads)
        self.target, self.pipeline = target, without_pass(default_pipeline(target), "tile-tune")

    def time(self, sched: Schedule) -> float:
        self.count += 1
        workdir = self.layer.workdir
        outdir = workdir / f"c{self.count}"
        built = build_module(self.layer.module(sched), outdir, self.target, pipeline=self.pipeline, weights_dir=workdir)
        result = subprocess.run(
            [
                str(built.executable),
                "--weights-dir",
                str(workdir),
                "--threads",
                str(self.threads),
                "--bench",
                str(self.runs),
                str(self.input),
                str(outdir / "out.bin"),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise TuningError(
                f"autotune: timing a candidate failed (exit {result.returncode}): {(result.stderr or result.stdout).strip()}"
            )
        return float(result.stdout.split("median_ms:")[1].split()[0])
