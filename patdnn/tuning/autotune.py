"""The auto-tuner behind `tile-tune{auto=true}` / `patdnnc --autotune`.

For each pattern convolution it compiles the layer alone (its real pattern ids and library,
random weights — timing does not depend on the values) for the host with a candidate schedule,
times it with the runtime's runner (median of a few runs), and hill-climbs from the rule-based
schedule over the neighbouring schedules (one more/less vector or row in the register tile, the
channel block doubled/halved/whole, the other loop form, the filter group halved/doubled) until no
neighbour is faster or the time budget is spent.
PatDNN used a genetic algorithm over the same space; the space here is small and smooth enough
that a greedy climb from a good rule finds the same optimum with far fewer (slow) compilations.

Results go to a persistent JSON log keyed by target, threads and layer signature; a later
compile of the same layer reuses the logged schedule without compiling anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm
from xdsl.utils.exceptions import PassFailedException

from patdnn.backend.isa import Isa
from patdnn.build import build_module
from patdnn.dialects import pattern
from patdnn.ir_builder import pattern_conv_module
from patdnn.tuning.rules import TAP_LIST_GROUP, LayerShape, Schedule, form_channel_block, max_accumulators, rule_schedule

TUNE_PIPELINE = "lower-pattern-to-kernel,filter-kernel-reorder{{threads={threads}}},fkw-pack,load-elim,plan-buffers"


def default_log_path() -> Path:
    env = os.environ.get("PATDNN_TUNING_LOG")
    return Path(env) if env else Path.home() / ".cache" / "patdnn" / "tuning.json"


def layer_key(op: pattern.Conv2dOp, isa: Isa, threads: int) -> str:
    s = LayerShape.of(op)
    ids = pattern.kernel_ids(op)
    ph, pw = op.padding.get_values()
    return (
        f"{isa.name}/t{threads}/{s.cin}x{s.h}x{s.w}->{s.cout}x{s.ho}x{s.wo}/k{s.k}s{s.stride}p{ph}x{pw}"
        f"/P{op.library.num_patterns}/kept{int((ids >= 0).sum())}"
    )


def neighbours(sched: Schedule, shape: LayerShape, isa: Isa) -> list[Schedule]:
    vw, limit = isa.vector_width, max_accumulators(isa) + max_accumulators(isa) // 2
    result = []
    for dv, dy in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, -1), (-1, 1)):
        vectors = sched.tile_x // vw + dv
        rows = sched.tile_y + dy
        if vectors < 1 or rows < 1 or rows > shape.ho or vectors * rows > limit or (vectors - 1) * vw >= shape.wo:
            continue
        result.append(_with_form(Schedule(vectors * vw, rows, 0), shape, sched.filter_group))
    for block in (sched.channel_block * 2, sched.channel_block // 2, shape.cin):
        if 1 <= block <= shape.cin and block != sched.channel_block:
            result.append(Schedule(sched.tile_x, sched.tile_y, block, sched.filter_group))
    # the other loop form; in the tap-list form, half / twice the filter group
    groups = [0] if sched.filter_group else [min(TAP_LIST_GROUP, shape.cout)]
    groups += [g for g in (sched.filter_group // 2, sched.filter_group * 2) if sched.filter_group and 1 <= g <= shape.cout]
    result += [_with_form(sched, shape, g) for g in groups if g != sched.filter_group]
    return list(dict.fromkeys(result))


def _with_form(sched: Schedule, shape: LayerShape, group: int) -> Schedule:
    """`sched`'s register tile in loop form `group`, with that form's channel block."""
    return Schedule(sched.tile_x, sched.tile_y, form_channel_block(shape, sched.tile_x, sched.tile_y, group), group)


class Autotuner:
    def __init__(self, isa: Isa, threads: int = 1, budget: float = 60.0, log: str | Path | None = None,
                 runs: int = 7):
        self.isa, self.threads, self.budget, self.runs = isa, threads, budget, runs
        self.log_path = Path(log) if log else default_log_path()
        self.log: dict = json.loads(self.log_path.read_text()) if self.log_path.is_file() else {}

    def tune_all(self, convs: list[pattern.Conv2dOp]) -> list[Schedule]:
        deadline = time.monotonic() + self.budget
        results = []
        with tqdm(total=len(convs), desc="autotune", unit="layer", disable=None) as bar:
            for op in convs:
                results.append(self.tune(op, deadline))
                bar.update(1)
        return results

    def tune(self, op: pattern.Conv2dOp, deadline: float) -> Schedule:
        key = layer_key(op, self.isa, self.threads)
        if key in self.log:
            return Schedule(**self.log[key]["schedule"])
        shape = LayerShape.of(op)
        best = rule_schedule(shape, self.isa)
        with tempfile.TemporaryDirectory(prefix="patdnn-tune-") as tmp:
            timer = _LayerTimer(op, self.isa, self.threads, Path(tmp), self.runs)
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
        self.log[key] = {
            "schedule": best.as_dict(),
            "ms": tried[best],
            "tried": [[s.as_dict(), ms] for s, ms in sorted(tried.items(), key=lambda t: t[1])],
        }
        self._save()
        return best

    def _save(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.log_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.log, indent=1, sort_keys=True))
        tmp.replace(self.log_path)


class _LayerTimer:
    """Compiles one layer alone with a given schedule and times it with the runtime's runner."""

    def __init__(self, op: pattern.Conv2dOp, isa: Isa, threads: int, workdir: Path, runs: int):
        self.isa, self.threads, self.workdir, self.runs = isa, threads, workdir, runs
        n, cin, h, w = pattern.shape_of(op.input)
        cout = pattern.shape_of(op.output)[1]
        k = op.library.size
        rng = np.random.default_rng(0)
        self.ids = pattern.kernel_ids(op)
        self.library = op.library.as_array()
        self.weight = rng.standard_normal((cout, cin, k, k)).astype(np.float32)
        self.build_args = dict(
            input_shape=(1, cin, h, w), stride=op.stride.get_values()[0], padding=op.padding.get_values()[0],
            activation=op.activation.data.value, blob_path=workdir / "layer.weights",
        )
        self.input = workdir / "in.bin"
        rng.standard_normal((1, cin, h, w)).astype(np.float32).tofile(self.input)
        self.count = 0

    def time(self, sched: Schedule) -> float:
        module = pattern_conv_module(self.weight, self.ids, self.library, **self.build_args)
        for op in module.walk():
            if isinstance(op, pattern.Conv2dOp):
                op.attributes[pattern.SCHEDULE_ATTR] = sched.as_attr()
        self.count += 1
        outdir = self.workdir / f"c{self.count}"
        built = build_module(module, outdir, isa=self.isa.name, pipeline=TUNE_PIPELINE.format(threads=self.threads),
                             weights_dir=self.workdir)
        result = subprocess.run(
            [str(built.executable), "--weights-dir", str(self.workdir), "--threads", str(self.threads),
             "--bench", str(self.runs), str(self.input), str(outdir / "out.bin")],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise PassFailedException(
                f"tile-tune: timing a candidate failed (exit {result.returncode}): {(result.stderr or result.stdout).strip()}"
            )
        return float(result.stdout.split("median_ms:")[1].split()[0])
