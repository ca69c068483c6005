"""The auto-tuner's persistent log: the best schedule found per layer signature, ISA and threads.

The tuner (patdnn/autotune.py) writes it; the `tile-tune` pass reads it (`log=PATH`), so a
later compile of the same layer takes the logged schedule without timing anything. Default path:
$PATDNN_TUNING_LOG, else ~/.cache/patdnn/tuning.json.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from patdnn.dialects import common, pattern
from patdnn.isa import Isa
from patdnn.tuning.rules import LayerShape, Schedule


def default_log_path() -> Path:
    env = os.environ.get("PATDNN_TUNING_LOG")
    return Path(env) if env else Path.home() / ".cache" / "patdnn" / "tuning.json"


def layer_key(op: pattern.Conv2dOp, isa: Isa, threads: int) -> str:
    """What a logged schedule is valid for: the ISA, the threads and the layer's shape and sparsity."""
    s = LayerShape.of(op)
    ids = common.kernel_ids(op)
    ph, pw = op.padding.get_values()
    return (
        f"{isa.name}/t{threads}/{s.cin}x{s.h}x{s.w}->{s.cout}x{s.ho}x{s.wo}/k{s.k}s{s.stride}p{ph}x{pw}"
        f"/P{op.library.num_patterns}/kept{int((ids >= 0).sum())}"
    )


@dataclass
class TuningLog:
    path: Path
    entries: dict = field(default_factory=dict)  # layer key -> {"schedule", "objective", "ms", "tried"}

    @classmethod
    def read(cls, path: Path | str | None = None) -> TuningLog:
        """The log at `path` (default: default_log_path()); empty if there is none yet."""
        path = Path(path) if path else default_log_path()
        if not path.is_file():
            return cls(path)
        try:
            return cls(path, json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"cannot read the tuning log {path}: {e}") from None

    def schedule(self, op: pattern.Conv2dOp, isa: Isa, threads: int) -> Schedule | None:
        entry = self.entries.get(layer_key(op, isa, threads))
        return Schedule(**entry["schedule"]) if entry else None

    def record(
        self,
        op: pattern.Conv2dOp,
        isa: Isa,
        threads: int,
        best: Schedule,
        tried: dict[Schedule, float],
        objective: str = "host-time",
    ) -> None:
        """Stores a tuning result and writes the log (atomically: a crash never leaves half a file).
        `objective` says what the milliseconds are: "host-time" (measured here) or "a76-estimate"."""
        self.entries[layer_key(op, isa, threads)] = {
            "schedule": best.as_dict(),
            "objective": objective,
            "ms": tried[best],
            "tried": [[s.as_dict(), ms] for s, ms in sorted(tried.items(), key=lambda t: t[1])],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
        tmp.replace(self.path)
