"""C for `kernel.pattern_conv`: one layer's index arrays, weights, filter loop and driver.

For one layer the handler `emit_pattern_conv` prints

* the FKW index (from fkw-pack, else derived from the pattern ids): per (channel block, filter,
  pattern) a segment (first kernel, end kernel, first weight), and the input channel of every kept
  kernel; weights stay in the canonical FKW order, inline or from the blob;
* `<layer>_filters(job, begin, end)`, run by the thread pool on a range of (reordered) filters:
  PatDNN's loop form (patdnn.backend.c.pattern_loop.FilterLoop), or with `filter_group` > 0 the
  tap-list form (patdnn.backend.c.pattern_taps);
* `<layer>(ctx, in, out)`: for each block of output rows (sized so its input stays in L2), builds
  the block's tap-shifted input (runtime `pdnn_shift_input`: one aligned, unit-stride plane per
  kernel column, any stride) in scratch, then runs the filters on that block. The last block is
  shifted up to end on the last row, like the last tile. With several threads each thread takes
  a band of output rows (whole register tiles) and shifts and computes its blocks in its own
  scratch slot: one fork/join per layer instead of two barriers per block, and each core reads
  the shifted input from its own L2 (VGG-16's 256->512 @28 layer on 2 cores: 2.03 -> 1.32 ms). Only
  when there are fewer register-tile rows than threads (7x7, 14x14 layers with tall tiles) do
  the threads split the filters of each shared block instead.
"""

from __future__ import annotations

import numpy as np

from patdnn.backend.c.pattern_fp16 import HalfFilterLoop, half_weights_lines
from patdnn.backend.c.pattern_loop import ConvGeometry, FilterLoop
from patdnn.backend.c.pattern_taps import emit_tap_list, tap_list_supported
from patdnn.backend.c.state import CState
from patdnn.backend.common import int32_array, weights_count
from patdnn.dialects import kernel
from patdnn.dialects.common import kernel_ids
from patdnn.sparsity.fkw import BlockedFkw, blocked_fkw


def _fkw(op: kernel.PatternConvOp, geo: ConvGeometry) -> tuple[np.ndarray, np.ndarray]:
    """The (segments, channels) arrays: fkw-pack's, or derived here from the pattern ids."""
    if op.fkw_segments is not None and op.fkw_channels is not None:
        segments = np.frombuffer(op.fkw_segments.data.data, dtype=np.int32)
        return segments, np.frombuffer(op.fkw_channels.data.data, dtype=np.int32)
    index: BlockedFkw = blocked_fkw(kernel_ids(op), op.library.entries(), geo.block)
    return index.segments.reshape(-1), index.channel


def emit_pattern_conv(emitter: CState, op: kernel.PatternConvOp) -> str:
    """Prints one layer's data, filter loop and driver; returns the call for the function body."""
    name = emitter.layer_symbol(op, "conv")
    isa = emitter.pattern_isa
    half = isa.elem_bytes == 2
    geo = ConvGeometry.of(op, isa)
    segments, channels = _fkw(op, geo)
    ids = kernel_ids(op)
    # fp16 runs PatDNN's form only (pattern_fp16.py)
    tap_lists = not half and op.schedule_value("filter_group") > 0 and tap_list_supported(op.library.entries())
    emitter.out.append(
        f"/* {name}: {geo.cin} -> {geo.cout} channels, {geo.h}x{geo.w} -> {geo.ho}x{geo.wo}, "
        f"stride {list(geo.stride)}, padding {list(geo.pad)}, "
        f"{f'dilation {list(geo.dilation)}, ' if geo.dilation != (1, 1) else ''}{op.activation.text()}; "
        f"{op.library.num_patterns} patterns, {channels.size}/{ids.size} kernels kept; "
        f"register tile {geo.rows}x{geo.tile}, {geo.num_blocks} channel block(s) of {geo.block} */"
    )
    if not tap_lists:  # the tap-list form reads its own arrays, derived from these
        emitter.out += [int32_array(f"{name}_seg", segments), int32_array(f"{name}_chan", channels)]
    emitter.declare_weights_and_bias(name, op)
    if half:
        declaration, init = half_weights_lines(name, weights_count(op.weights))
        emitter.out += declaration
        emitter.init_lines += init
    if op.filter_order is not None:  # never empty: one entry per filter
        emitter.out.append(int32_array(f"{name}_order", np.array(list(op.filter_order.get_values()))))
    if tap_lists:
        emit_tap_list(emitter, op, name, geo, segments, channels)
    else:
        loop = HalfFilterLoop if half else FilterLoop
        emitter.out += loop(isa, op, name, geo, emitter.mca_regions).lines()
    emitter.out += _driver(name, geo)
    emitter.reserve_thread_slot(geo.shifted_floats + geo.psum_floats)
    return f"{name}(ctx, {emitter.value_names[op.input]}, {emitter.value_names[op.output]});"


def _driver(name: str, geo: ConvGeometry) -> list[str]:
    """`<name>(ctx, in, out)`. With as many threads as register-tile rows allow, each thread takes
    its own band of output rows and shifts that band's input into its own scratch slot: no barrier
    between shifting and computing, and each core reads the input it wrote from its own L2.
    Otherwise (one thread, or fewer tile rows than threads) the threads share each row block,
    shifted once, and split its filters."""
    slot = geo.shifted_floats + geo.psum_floats
    psum = f" + {geo.shifted_floats}" if geo.psum_floats else ""
    sh, ph, b = geo.stride[0], geo.pad[0], geo.block_rows
    full = geo.ho // geo.rows  # whole register tiles in the output's height
    image_in, image_out = (
        f"in + (int64_t)n * {geo.cin * geo.h * geo.w}",
        f"out + (int64_t)n * {geo.cout * geo.ho * geo.wo}",
    )

    def shift(scratch: str, y_begin: str) -> str:
        dilated = geo.dilation[1] != 1  # the columns of plane tc start at tc * dilation
        function, dw = ("pdnn_shift_input_dilated", f" {geo.dilation[1]},") if dilated else ("pdnn_shift_input", "")
        if geo.elem_bytes == 2:  # fp16 planes (any dilation)
            function, dw, scratch = "pdnn_shift_input_f16", f" {geo.dilation[1]},", f"(pdnn_half *){scratch}"
        return (
            f"{function}(ctx, {image_in}, {scratch}, {geo.cin}, {geo.h}, {geo.w}, {geo.k}, {geo.stride[1]},{dw} "
            f"{y_begin} * {sh} - {ph}, {geo.pad[1]}, {geo.plane_rows}, {geo.row_len});"
        )

    def job(scratch: str, y_begin: str, y_end: str) -> str:
        return (
            f"pdnn_conv_job job = {{{scratch}, {image_out}, {f'{scratch}{psum}' if psum else 'NULL'}, "
            f"{y_begin}, {y_end}}};"
        )

    return [
        f"typedef struct {{ pdnn_ctx *ctx; const float *in; float *out; int n, bands; }} {name}_band_job;",
        f"static void {name}_bands(void *arg, int64_t begin, int64_t end) {{",
        f"  const {name}_band_job *bj = ({name}_band_job *)arg;",
        "  pdnn_ctx *ctx = bj->ctx; /* nested calls run inline on this thread */",
        "  const float *in = bj->in; float *out = bj->out; const int n = bj->n;",
        "  for (int64_t s = begin; s < end; ++s) {",
        f"    const int lo = (int)(s * {full} / bj->bands) * {geo.rows}; /* whole register tiles; the last band gets the rest */",
        f"    const int hi = s + 1 == bj->bands ? {geo.ho} : (int)((s + 1) * {full} / bj->bands) * {geo.rows};",
        f"    float *slot = patdnn_scratch + s * {slot};",
        f"    {job('slot', '0', '0')}",
        f"    for (int yb = lo; yb < hi; yb += {b}) {{",
        f"      job.y_begin = yb + {b} <= hi ? yb : (hi - {b} > lo ? hi - {b} : lo);",
        f"      job.y_end = job.y_begin + {b} < hi ? job.y_begin + {b} : hi;",
        f"      {shift('slot', 'job.y_begin')}",
        f"      {name}_filters(&job, 0, {geo.cout});",
        "    }",
        "  }",
        "}",
        f"static void {name}(pdnn_ctx *ctx, const float *in, float *out) {{",
        "  int bands = pdnn_ctx_num_threads(ctx);",
        "  if (bands > patdnn_scratch_slots) bands = patdnn_scratch_slots;",
        f"  if (bands > {full}) bands = {full}; /* a band holds a register tile */",
        f"  for (int n = 0; n < {geo.n}; ++n) {{",
        "    if (bands > 1) {",
        f"      {name}_band_job bj = {{ctx, in, out, n, bands}};",
        f"      pdnn_parallel_for(ctx, bands, {name}_bands, &bj);",
        "      continue;",
        "    }",
        f"    for (int yb = 0; yb < {geo.ho}; yb += {b}) {{",
        f"      const int y_begin = yb + {b} <= {geo.ho} ? yb : {geo.ho - b};",
        f"      {shift('patdnn_scratch', 'y_begin')}",
        f"      {job('patdnn_scratch', 'y_begin', f'y_begin + {b}')}",
        f"      pdnn_parallel_for(ctx, {geo.cout}, {name}_filters, &job);",
        "    }",
        "  }",
        "}",
        "",
    ]
