"""patdnn's xDSL passes, one per file; `get_all_passes()` maps pass names to lazy factories.

The default compilation pipeline (see patdnn/context.py `default_pipeline`):

    tile-tune{isa=…} → lower-pattern-to-kernel → filter-kernel-reorder{threads=…} → fkw-pack
    → load-elim → fuse-residual-add → fuse-conv-chain (C only) → plan-buffers
"""

from collections.abc import Callable
from importlib import import_module

from xdsl.passes import ModulePass

_PASSES = {
    "tile-tune": ("tile_tune", "TileTunePass"),
    "lower-pattern-to-kernel": ("lower_pattern_to_kernel", "LowerPatternToKernelPass"),
    "filter-kernel-reorder": ("filter_kernel_reorder", "FilterKernelReorderPass"),
    "fkw-pack": ("fkw_pack", "FkwPackPass"),
    "load-elim": ("load_elim", "LoadElimPass"),
    "fuse-residual-add": ("fuse_residual_add", "FuseResidualAddPass"),
    "fuse-conv-chain": ("fuse_conv_chain", "FuseConvChainPass"),
    "plan-buffers": ("plan_buffers", "PlanBuffersPass"),
}


def _factory(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    def load() -> type[ModulePass]:
        return getattr(import_module(f"patdnn.passes.{module}"), cls)

    return load


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    return {name: _factory(module, cls) for name, (module, cls) in _PASSES.items()}
