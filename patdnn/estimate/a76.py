"""The Cortex-A76 estimate of one layer: llvm-mca cycles of its hot loops x the trip counts the
compiler knows, against a stated memory model (see patdnn.estimate for the whole model)."""

from __future__ import annotations

import functools
import math
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from patdnn.estimate.mca import compile_to_asm, innermost_loops, marked_loops, mca_cycles
from patdnn.runtime import RUNTIME_DIR
from patdnn.toolchain import AARCH64_CC
from patdnn.tuning.rules import Schedule


@dataclass(frozen=True)
class A76:
    """One Cortex-A76 core (the 2.84 GHz prime core of a Snapdragon 855) and its memory, as modelled."""

    ghz: float = 2.84
    flops_per_cycle: int = 16  # 2 NEON FMA pipes x 4 lanes x 2 FLOP
    l1d_bytes: int = 64 * 1024
    l2_bytes: int = 512 * 1024  # 256-512 KB per core by configuration; the 855's prime core has 512
    l2_bytes_per_cycle: float = 32.0  # sustained L2 -> L1 (half the 64 B/cycle fill path)
    dram_bytes_per_cycle: float = 5.3  # ~15 GB/s for one core of LPDDR4X at 2.84 GHz
    store_bytes_per_cycle: float = 16.0  # one 128-bit store per cycle

    def ms(self, cycles: float) -> float:
        return cycles / (self.ghz * 1e6)


CORE = A76()


@dataclass
class LayerEstimate:
    name: str
    kind: str  # "pattern conv" | "dense conv" | "linear"
    flops: int  # useful FLOPs (non-zero weights only), 2 per multiply-add
    compute_cycles: float  # sum over hot loops of llvm-mca cycles/iteration x iterations (+ stores)
    memory_cycles: float  # the memory model's streaming time (overlaps compute)
    extra_cycles: float = 0.0  # not overlapped: the tap-shifted input copy, im2col
    loops: dict = field(default_factory=dict)  # loop -> {cycles_per_iter, iterations, fmas, vector_loads}
    memory: dict = field(default_factory=dict)  # the model's byte counts
    precision: str = "fp32"  # fp16: 8 lanes per FMA, twice the FLOP/cycle bound

    @property
    def flops_per_cycle(self) -> int:
        return CORE.flops_per_cycle * (2 if self.precision == "fp16" else 1)

    @property
    def cycles(self) -> float:
        return max(self.compute_cycles, self.memory_cycles) + self.extra_cycles

    @property
    def ms(self) -> float:
        return CORE.ms(self.cycles)

    @property
    def fma_bound_cycles(self) -> float:
        return self.flops / self.flops_per_cycle

    @property
    def fraction_of_fma_bound(self) -> float:
        return self.fma_bound_cycles / self.cycles if self.cycles else 0.0

    def record(self) -> dict:
        return {
            **asdict(self),
            "cycles": self.cycles,
            "ms": self.ms,
            "fma_bound_cycles": self.fma_bound_cycles,
            "fraction_of_fma_bound": self.fraction_of_fma_bound,
            "bound_by": "memory" if self.memory_cycles > self.compute_cycles else "compute",
        }


def _stream_cycles(bytes_l2: float, bytes_dram: float) -> float:
    return bytes_l2 / CORE.l2_bytes_per_cycle + bytes_dram / CORE.dram_bytes_per_cycle


# --- pattern convolutions: the generated NEON code --------------------------------------------------


def estimate_pattern_conv(
    name: str,
    weight: np.ndarray,
    ids: np.ndarray,
    library: np.ndarray,
    input_shape: tuple[int, int, int, int],
    stride: int = 1,
    padding: int = 1,
    workdir: Path | None = None,
    pipeline=None,
    dilation: int = 1,
    schedule: Schedule | None = None,
    precision: str = "fp32",
) -> LayerEstimate:
    """One pattern layer: its NEON code (`pipeline`, default the neon pipeline for one thread;
    with `schedule`, that schedule instead of tile-tune's; `precision=fp16`: the fp16 loops of
    patdnn/backend/c/pattern_fp16.py) printed with the kernel loops marked, compiled for
    cortex-a76, each marked loop through llvm-mca, times its trips."""
    from patdnn.backend.c.printer import CEmitter
    from patdnn.dialects.common import kernel_ids
    from patdnn.ir_builder import pattern_conv_module
    from patdnn.isa import get_isa
    from patdnn.pipeline import default_pipeline, run_pipeline
    from patdnn.target import Target

    with tempfile.TemporaryDirectory(prefix="patdnn-estimate-") as tmp:
        work = Path(workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        module = pattern_conv_module(
            weight,
            ids,
            library,
            input_shape,
            stride,
            padding,
            blob_path=work / "model.weights",
            dilation=dilation,
            schedule=None if schedule is None else schedule.as_attr(),
        )
        target = Target(isa="neon", platform="aarch64", threads=1, precision=precision)
        run_pipeline(module, pipeline or default_pipeline(target))
        regions: list = []
        source = work / "layer.c"
        source.write_text(CEmitter(get_isa("neon"), mca_regions=regions, precision=precision).emit_module(module))
        loops = marked_loops(compile_to_asm(source, work / "layer.s"))
        missing = [r[0] for r in regions if r[0] not in loops]
        if missing:
            raise RuntimeError(f"{name}: the compiler dropped the marked loop(s) {', '.join(missing)}")
        cycles = mca_cycles([loops[r[0]] for r in regions], work)
    op, geo = regions[0][1], regions[0][2]
    kept_ids = kernel_ids(op)
    tiles = geo.n * math.ceil(geo.wo / geo.tile) * geo.num_row_blocks * math.ceil(geo.block_rows / geo.rows)
    entries = int(library.sum(axis=1).max())
    kept = int((kept_ids >= 0).sum())
    kept_weights = int(library[kept_ids[kept_ids >= 0]].sum())
    report, compute, loads = {}, 0.0, 0
    for region, _op, _geo, pattern in regions:
        kernels = kept if pattern is None else int((kept_ids == pattern).sum())
        iterations = kernels * tiles
        loop = loops[region]
        report[region] = {
            "cycles_per_iter": cycles[region],
            "iterations": iterations,
            "fmas": loop.fmas,
            "vector_loads": loop.vector_loads,
        }
        compute += cycles[region] * iterations
        loads += loop.vector_loads * iterations
    # accumulators in and out: one visit per (tile, filter, channel block), the fp32 tile stored
    visits = tiles * geo.cout * geo.num_blocks
    compute += visits * geo.rows * geo.tile * 4 / CORE.store_bytes_per_cycle
    # memory: a tile's input rows of one channel block (k shifted planes) stay in L1 when they fit
    eb = geo.elem_bytes  # 2 in fp16: planes and weights are half the bytes
    in_rows = (geo.rows - 1) * geo.stride[0] + geo.span  # input rows of one tile (span: dilated kernel)
    tile_input = geo.block * geo.k * in_rows * geo.tile * eb
    weight_bytes = kept * (entries * eb + 4)  # FKW weights + one channel index per kept kernel
    input_l2 = tiles * geo.num_blocks * tile_input if tile_input <= CORE.l1d_bytes // 2 else loads * 16
    weights_l2, weights_dram = (
        (tiles * weight_bytes, 0) if weight_bytes <= CORE.l2_bytes // 2 else (0, tiles * weight_bytes)
    )
    shifted = geo.num_row_blocks * geo.cin * geo.k * geo.plane * eb * geo.n
    raw = geo.n * geo.cin * geo.h * geo.w * 4
    out_bytes = geo.n * geo.cout * geo.ho * geo.wo * 4
    return LayerEstimate(
        name,
        "pattern conv",
        2 * kept_weights * geo.ho * geo.wo * geo.n,
        compute,
        _stream_cycles(input_l2 + weights_l2, weights_dram + out_bytes),
        shifted / CORE.store_bytes_per_cycle + raw / CORE.dram_bytes_per_cycle,
        report,
        {
            "tiles": tiles,
            "tile_input_bytes": tile_input,
            "input_from_l2_bytes": input_l2,
            "weight_bytes": weight_bytes,
            "weights_from": "L2" if weights_l2 else "DRAM",
            "shifted_input_bytes": shifted,
        },
        precision,
    )


# --- dense convolutions and linears: the runtime's GEMM ------------------------------------------------


@functools.cache
def gemm_kernel() -> dict:
    """The runtime GEMM's register kernel on aarch64: its tile (GEMM_MR x GEMM_NR, from the
    preprocessor) and llvm-mca cycles per reduction step of its hot loop (the single-block loop of
    gemm_tile with the most FMAs, unrolled by the compiler: steps = its FMAs / (MR * NR / 4))."""
    source = RUNTIME_DIR / "ops_dense.c"
    macros = subprocess.run(
        [AARCH64_CC, "-O3", "-E", "-dM", f"-I{RUNTIME_DIR}", str(source)], capture_output=True, text=True, check=True
    ).stdout
    mr = int(re.search(r"#define GEMM_MR (\d+)", macros).group(1))
    vw = int(re.search(r"#define GEMM_VW (\d+)", macros).group(1))
    nr = 2 * vw
    with tempfile.TemporaryDirectory(prefix="patdnn-estimate-gemm-") as tmp:
        asm = compile_to_asm(source, Path(tmp) / "ops_dense.s")
        loops = [loop for loop in innermost_loops(asm, "gemm_tile") if loop.fmas]
        if not loops:
            raise RuntimeError("no FMA loop found in the runtime's gemm_tile (aarch64 assembly)")
        hot = max(loops, key=lambda loop: loop.fmas)
        cycles = mca_cycles([hot], Path(tmp))[hot.name]
    steps = hot.fmas / (mr * nr / 4)
    return {"mr": mr, "nr": nr, "loop": hot.name, "fmas": hot.fmas, "cycles_per_step": cycles / steps}


def estimate_dense_conv(
    name: str,
    cout: int,
    cin: int,
    kernel: tuple[int, int],
    groups: int,
    out_hw: tuple[int, int],
    in_hw: tuple[int, int],
    n: int = 1,
) -> LayerEstimate:
    """A dense conv as the runtime runs it: im2col (not for 1x1 stride-1) and the GEMM
    C[cout/g x pixels] per group, in GEMM_MR x GEMM_NR tiles over k = cin/g * kh * kw steps."""
    g = gemm_kernel()
    k = cin // groups * kernel[0] * kernel[1]
    pixels = out_hw[0] * out_hw[1]
    tiles = n * groups * math.ceil(cout // groups / g["mr"]) * math.ceil(pixels / g["nr"])
    compute = tiles * k * g["cycles_per_step"]
    weights = cout * k * 4
    col = n * groups * k * pixels * 4 if kernel != (1, 1) else 0
    act_in, act_out = n * cin * in_hw[0] * in_hw[1] * 4, n * cout * pixels * 4
    # B (pixels) strips stay in L1 (GEMM_KC x GEMM_NR); A is re-read per pixel chunk from L2 or DRAM
    chunks = n * math.ceil(pixels / 128)  # GEMM_PCHUNK pixels per work item
    weights_l2, weights_dram = (chunks * weights, 0) if weights <= CORE.l2_bytes // 2 else (0, chunks * weights)
    return LayerEstimate(
        name,
        "dense conv",
        2 * cout * k * pixels * n,
        compute,
        _stream_cycles(weights_l2 + col, weights_dram + act_out + (0 if col else act_in)),
        (col / CORE.store_bytes_per_cycle + act_in / CORE.dram_bytes_per_cycle) if col else 0.0,
        {g["loop"]: {"cycles_per_step": g["cycles_per_step"], "steps": tiles * k, "fmas": g["fmas"]}},
        {"weight_bytes": weights, "im2col_bytes": col, "weights_from": "L2" if weights_l2 else "DRAM"},
    )


def estimate_linear(name: str, in_features: int, out_features: int, n: int = 1) -> LayerEstimate:
    """A batch-1 linear: a matrix-vector product, streaming its weights once (from DRAM when they
    exceed L2); compute at the FMA bound."""
    weights = in_features * out_features * 4
    flops = 2 * in_features * out_features * n
    l2, dram = (weights, 0) if weights <= CORE.l2_bytes // 2 else (0, weights)
    return LayerEstimate(
        name,
        "linear",
        flops,
        flops / CORE.flops_per_cycle,
        _stream_cycles(l2, dram),
        0.0,
        {},
        {"weight_bytes": weights},
    )
