// RUN: patdnn-opt %s -p "tile-tune{isa=avx512}" | filecheck %s --check-prefix=AVX512
// RUN: patdnn-opt %s -p "tile-tune{isa=avx2}" | filecheck %s --check-prefix=AVX2
// RUN: patdnn-opt %s -p "tile-tune{isa=neon}" | filecheck %s --check-prefix=NEON
// RUN: patdnn-opt %s -p "tile-tune{isa=scalar}" | filecheck %s --check-prefix=SCALAR
// RUN: patdnn-opt %s -p "tile-tune{isa=avx512 tile_y=2 channel_block=1}" | filecheck %s --check-prefix=OPTS
// RUN: patdnn-opt %s -p "tile-tune{isa=avx512},tile-tune{isa=scalar}" | filecheck %s --check-prefix=AVX512
// RUN: patdnn-opt %s -p "tile-tune{isa=avx512},lower-pattern-to-kernel" | filecheck %s --check-prefix=LOWERED
// RUN: not patdnn-opt %s -p "tile-tune{isa=avx9}" 2>&1 | filecheck %s --check-prefix=BADISA
// RUN: not patdnn-opt %s -p "tile-tune{tile_y=-1}" 2>&1 | filecheck %s --check-prefix=NEGATIVE

// Rule (patdnn/tuning/rules.py): 1-4 vectors per row (8 lanes for scalar), the count that pads
// the 30 columns least, ties to more vectors (AVX-512 with 1 or 2 vectors both pad to 32 -> 2;
// AVX2 and NEON with 4 vectors = 32; scalar with 6 lanes = 30 exactly), then rows up to registers/2
// accumulators (AVX-512 16/2 = 8, AVX2 8/4 = 2, NEON 16/4 = 4, scalar 8/6 = 1); channel blocks
// keep a tile's tap-shifted rows within 1 MB: here all 2 input channels.
// AVX512: pattern.conv2d
// AVX512-SAME: {layer = "conv1", patdnn.schedule = {tile_x = 32 : i64, tile_y = 8 : i64, channel_block = 2 : i64}}
// AVX2: patdnn.schedule = {tile_x = 32 : i64, tile_y = 2 : i64, channel_block = 2 : i64}
// NEON: patdnn.schedule = {tile_x = 16 : i64, tile_y = 4 : i64, channel_block = 2 : i64}
// SCALAR: patdnn.schedule = {tile_x = 6 : i64, tile_y = 1 : i64, channel_block = 2 : i64}

// Options override the rule for every layer; a schedule already in the IR (from the LR or an
// earlier run, second layer) is kept key by key.
// OPTS: {layer = "conv1", patdnn.schedule = {tile_x = 32 : i64, tile_y = 2 : i64, channel_block = 1 : i64}}
// OPTS: {layer = "conv2", patdnn.schedule = {tile_y = 3 : i64, tile_x = 32 : i64, channel_block = 1 : i64}}

// The lowering reads the schedule: 8-row bodies, tile_x/tile_y/channel_block properties.
// LOWERED: kernel.pattern_conv
// LOWERED-SAME: tile_x = 32 : i64, tile_y = 8 : i64, channel_block = 2 : i64
// LOWERED: kernel.fma %{{.*}} {entry = 3 : i64, acc_row = 7 : i64}

// BADISA: error: tile-tune: unknown isa 'avx9', expected one of: scalar, neon, avx2, avx512
// NEGATIVE: tile-tune: tile_y=-1 must be >= 0

func.func @net(%x: memref<1x2x56x30xf32>, %y: memref<1x3x56x30xf32>, %z: memref<1x3x56x30xf32>) {
  pattern.conv2d ins(%x : memref<1x2x56x30xf32>) outs(%y : memref<1x3x56x30xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, -1], [1, 0]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]> : tensor<16xf32> {layer = "conv1"}
  pattern.conv2d ins(%y : memref<1x3x56x30xf32>) outs(%z : memref<1x3x56x30xf32>) stride [1, 1] padding [1, 1] activation none
      library #pattern.library<3x3, ["010|111|000"]>
      kernels [[0, -1, -1], [-1, 0, -1], [-1, -1, 0]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]> : tensor<12xf32> {layer = "conv2", patdnn.schedule = {tile_y = 3 : i64}}
  func.return
}
