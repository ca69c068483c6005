"""An instruction-level estimate of patdnn's NEON code on one Cortex-A76 core (issue 17).

No A76 is at hand, so the estimate is built from what the compiler knows:

1. **Pattern convolutions**: the layer's NEON code (the `neon` pipeline, one thread) is printed
   with its innermost kernel loops marked (`CEmitter(isa, mca_regions=[...])`: asm comments
   `# LLVM-MCA-BEGIN/END <layer>_p<pattern>`, or `<layer>_taps` in the tap-list form), compiled
   with `aarch64-linux-gnu-gcc -O3 -mcpu=cortex-a76 -S`; each marked loop (with its latch) goes
   through `llvm-mca-19 -mtriple=aarch64 -mcpu=neoverse-n1` (N1 is the A76's core; llvm-mca's
   `cortex-a76` silently uses an A57 model) for its steady-state cycles per iteration, multiplied
   by its trip count: kept kernels of that pattern (all of them in tap-list form) x register
   tiles (column tiles x row blocks x row tiles per block). Accumulator loads/stores per
   (tile, filter, channel block) visit are added at one 128-bit store per cycle.
2. **Dense convolutions**: the runtime's GEMM (runtime/ops_dense.c, gemm_tile) built the same way;
   its hot loop (the single-block loop with the most FMAs) through llvm-mca, per reduction step,
   times steps = tiles (GEMM_MR x GEMM_NR) x k. **Linears** (batch 1): weight streaming.
3. **Memory** (`a76.A76`): 64 KB L1d, 512 KB L2 (the 855 prime core; A76s have 256-512 KB),
   L2 -> L1 32 B/cycle, DRAM 5.3 B/cycle (~15 GB/s for one core). A tile's input of one channel
   block that fits half the L1 is read from L2 once per (tile, block), else every vector load
   reads L2; the layer's weights (+ channel index) are streamed once per register tile, from L2
   when they fit half the L2, else from DRAM. Memory streaming overlaps compute
   (max(compute, memory)); the tap-shifted input copy (or im2col) does not (stores at 16 B/cycle).

Reported per layer: cycles, ms at 2.84 GHz, and the fraction of the 16 FLOP/cycle FMA bound
(2 FMA pipes x 4 lanes) for the useful (non-zero) FLOPs. Limits: llvm-mca assumes every load
hits L1 and every branch is predicted (PatDNN's form runs one short loop per pattern per filter:
its exits mispredict on a real core); the memory model is a roofline, not a cache simulation;
layers other than convolutions and linears (pooling, adds, activations) are not counted.
See docs/benchmarks.md.
"""

from patdnn.estimate.a76 import (
    A76,
    CORE,
    LayerEstimate,
    estimate_dense_conv,
    estimate_linear,
    estimate_pattern_conv,
    gemm_kernel,
)
from patdnn.estimate.mca import estimate_problem

__all__ = [
    "A76",
    "CORE",
    "LayerEstimate",
    "estimate_dense_conv",
    "estimate_linear",
    "estimate_pattern_conv",
    "estimate_problem",
    "gemm_kernel",
]
