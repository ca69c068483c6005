"""Per-layer schedules of pattern convolutions: the rule-based defaults (rules.py) and the
auto-tuner's log (log.py) that the tile-tune pass reads. The tuner itself, which compiles and
times candidates, is patdnn/autotune.py (driven by patdnnc and patdnn.compile)."""

from patdnn.tuning.rules import LayerShape, Schedule, rule_schedule

__all__ = ["LayerShape", "Schedule", "rule_schedule"]
