"""Per-layer schedules of pattern convolutions: rule-based defaults and the auto-tuner."""

from patdnn.tuning.rules import Schedule, LayerShape, rule_schedule

__all__ = ["Schedule", "LayerShape", "rule_schedule"]
