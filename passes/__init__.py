"""patdnn's xDSL passes, one per file; `get_all_passes()` maps pass names to lazy factories."""

from collections.abc import Callable

from xdsl.passes import ModulePass


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    def lower_pattern_to_kernel():
        from patdnn.passes.lower_pattern_to_kernel import LowerPatternToKernelPass

        return LowerPatternToKernelPass

    def plan_buffers():
        from patdnn.passes.plan_buffers import PlanBuffersPass

        return PlanBuffersPass

    return {"lower-pattern-to-kernel": lower_pattern_to_kernel, "plan-buffers": plan_buffers}
