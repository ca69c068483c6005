"""With several threads a pattern convolution splits its output rows into bands, one per thread,
each shifted into the thread's own scratch slot (patdnn/backend/c/pattern.py, _driver); with one
thread, or fewer register tiles than threads, threads split the filters of shared row blocks.

Every output is computed by the same FMAs in the same order whichever way the work is split, so
the results must be bit-identical across thread counts (and match PyTorch). Row blocks are made
tiny (SHIFTED_BLOCK_BYTES) so that bands hold several blocks and the last block of a band is
shifted back inside it; heights are not multiples of the register tile's rows.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_pattern_conv import Case, assert_close, make_layer, reference

from patdnn.backend.c import pattern_loop as c_pattern
from patdnn.build import build_host_library
from patdnn.ir_builder import pattern_conv_module
from patdnn.isa import get_isa
from patdnn.pipeline import default_pipeline, replace_pass
from patdnn.runners import HostModel
from patdnn.target import Target
from patdnn.testing import need_toolchain

CASES = [  # (case, register-tile rows, filter_group: 0 = PatDNN's loop form, > 0 = tap lists)
    (Case("h13_rows3", 1, 5, 6, 13, 11, bias=True, activation="relu"), 3, 0),
    (Case("h17_rows2_stride2", 2, 6, 5, 33, 9, stride=2), 2, 2),
    (Case("h9_rows4_pad0", 1, 7, 9, 11, 20, padding=0, bias=True, activation="relu6"), 4, 3),
    (Case("h5_rows3", 1, 3, 4, 5, 7), 3, 0),  # one whole tile: filters split instead of rows
]
THREADS = (1, 2, 3, 4, 7)


def _build(case: Case, rows: int, group: int, isa: str, workdir):
    weight, ids, library, bias, x = make_layer(case)
    module = pattern_conv_module(
        weight, ids, library, x.shape, stride=case.stride, padding=case.padding, bias=bias, activation=case.activation
    )
    target = Target(isa=isa, threads=2)
    pipeline = replace_pass(
        default_pipeline(target),
        name="tile-tune",
        threads=1,
        tile_y=rows,
        channel_block=max(1, case.cin // 2),
        filter_group=group,
    )
    library_path = build_host_library(module, workdir, target, pipeline)
    return library_path, x, reference(case, weight, bias, x)


@pytest.mark.parametrize("isa", ["neon", "avx512"])
@pytest.mark.parametrize("case,rows,group", CASES, ids=[c.name for c, _, _ in CASES])
def test_bands_bit_identical_across_threads(case: Case, rows: int, group: int, isa: str, tmp_path, monkeypatch):
    need_toolchain("host", isa)
    monkeypatch.setattr(c_pattern, "SHIFTED_BLOCK_BYTES", 1)  # row blocks of one register tile
    library_path, x, expected = _build(case, rows, group, isa, tmp_path)
    out_shape = expected.shape
    # models on the same library share its scratch: it must grow when a context has more threads
    models = {t: HostModel(library_path, tmp_path, x.shape, out_shape, threads=t) for t in THREADS}
    outputs = {t: m.run(x) for t, m in models.items()}
    assert_close(outputs[1], expected)
    for t in THREADS[1:]:
        np.testing.assert_array_equal(outputs[t].view(np.uint32), outputs[1].view(np.uint32), err_msg=f"{t} threads")
    source = (tmp_path / "model.c").read_text()
    geo_rows = min(rows, expected.shape[2])
    assert f"if (bands > {expected.shape[2] // geo_rows}) bands = {expected.shape[2] // geo_rows};" in source
    assert get_isa(isa).name in source.splitlines()[0]
