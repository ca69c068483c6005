// RUN: patdnn-opt %s -p lower-pattern-to-kernel | filecheck %s
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel{tile_x=8}" | filecheck %s --check-prefix=TILE8
// RUN: patdnn-opt %s -p lower-pattern-to-kernel | patdnn-opt | filecheck %s
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel{tile_y=2}" | filecheck %s --check-prefix=TY2
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel{tile_y=4}" | filecheck %s --check-prefix=TY4
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel{tile_x=4 tile_y=3}" | filecheck %s --check-prefix=SCHED
// RUN: not patdnn-opt %s -p "lower-pattern-to-kernel{tile_x=0}" 2>&1 | filecheck %s --check-prefix=TILE0
// RUN: not patdnn-opt %s -p "lower-pattern-to-kernel{tile_y=0}" 2>&1 | filecheck %s --check-prefix=TILEY0
// RUN: not patdnn-opt %s -p "lower-pattern-to-kernel{tilex=4}" 2>&1 | filecheck %s --check-prefix=BADOPT

// Every pattern.conv2d becomes a kernel.pattern_conv with the same properties plus the schedule
// (tile_x, tile_y = min(option, output rows), channel_block only where the layer's patdnn.schedule
// sets it), and one kernel.pattern_body per library pattern (also for patterns no kernel uses),
// in library order. A body holds, for each row r of the register tile and each kept tap (tr, tc)
// in row-major order, one load_tap {row = r * stride + tr, col = tc} and one fma {entry = index of
// the tap in the mask, acc_row = r}.

func.func @two_layers(%x: memref<1x2x6x6xf32>, %y: memref<1x3x6x6xf32>, %z: memref<1x2x3x3xf32>) {
  pattern.conv2d ins(%x : memref<1x2x6x6xf32>) outs(%y : memref<1x3x6x6xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "110|010|001", "101|010|101"]>
      kernels [[0, 2], [-1, -1], [1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0]> : tensor<17xf32>
      bias dense<[0.5, 0.25, 0.125]> : tensor<3xf32> {layer = "conv1"}
  pattern.conv2d ins(%y : memref<1x3x6x6xf32>) outs(%z : memref<1x2x3x3xf32>) stride [2, 2] padding [1, 1] activation relu6
      library #pattern.library<3x3, ["000|011|000"]>
      kernels [[0, -1, 0], [-1, 0, -1]] weights #pattern.blob<"w.bin", offset = 16, size = 24, sha256 = "0000000000000000000000000000000000000000000000000000000000000000">
  func.return
}

// Per-layer schedules (tile-tune or the LR write them) win over the pass options: the first
// layer sets all three, the second only channel_block (tile_x and tile_y come from the options).
func.func @scheduled(%a: memref<1x2x4x4xf32>, %b: memref<1x2x4x4xf32>, %c: memref<1x2x2x2xf32>) {
  pattern.conv2d ins(%a : memref<1x2x4x4xf32>) outs(%b : memref<1x2x4x4xf32>) stride [1, 1] padding [1, 1] activation none
      library #pattern.library<3x3, ["010|010|000"]>
      kernels [[0, 0], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32>
      {patdnn.schedule = {tile_x = 8 : i64, tile_y = 2 : i64, channel_block = 1 : i64}}
  pattern.conv2d ins(%b : memref<1x2x4x4xf32>) outs(%c : memref<1x2x2x2xf32>) stride [2, 2] padding [1, 1] activation none
      library #pattern.library<3x3, ["010|010|000"]>
      kernels [[0, -1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
      {patdnn.schedule = {channel_block = 2 : i64}}
  func.return
}

// CHECK-NOT: pattern.conv2d
// CHECK:      kernel.pattern_conv ins(%x : memref<1x2x6x6xf32>) outs(%y : memref<1x3x6x6xf32>) attributes {
// CHECK-SAME:   layer = "conv1"
// CHECK-SAME:   library = #pattern.library<3x3, ["010|111|000", "110|010|001", "101|010|101"]>
// CHECK-SAME:   kernels = array<i8: 0, 2, -1, -1, 1, 0>
// CHECK-SAME:   weights = dense<[1.000000e+00, 2.000000e+00, {{.*}}, 1.700000e+01]> : tensor<17xf32>
// CHECK-SAME:   bias = dense<[5.000000e-01, 2.500000e-01, 1.250000e-01]> : tensor<3xf32>
// CHECK-SAME:   stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>
// CHECK-SAME:   activation = #pattern<activation relu>
// CHECK-SAME:   tile_x = 16 : i64, tile_y = 1 : i64} {
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 0 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 2 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 3 : i64, acc_row = 0 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 1 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 0 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 2 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 3 : i64, acc_row = 0 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 2 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 0 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 2 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 0 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 3 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 4 : i64, acc_row = 0 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NEXT: kernel.pattern_conv ins(%y : memref<1x3x6x6xf32>) outs(%z : memref<1x2x3x3xf32>) attributes {
// CHECK-SAME:   library = #pattern.library<3x3, ["000|011|000"]>
// CHECK-SAME:   kernels = array<i8: 0, -1, 0, -1, 0, -1>
// CHECK-SAME:   weights = #pattern.blob<"w.bin", offset = 16, size = 24, sha256 = "0000000000000000000000000000000000000000000000000000000000000000">
// CHECK-NOT:    bias
// CHECK-SAME:   stride = array<i64: 2, 2>
// CHECK-SAME:   activation = #pattern<activation relu6>
// CHECK-SAME:   tile_x = 16 : i64, tile_y = 1 : i64} {
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NEXT: func.return
// The scheduled layer keeps its patdnn.schedule and gets tile_x 8, tile_y 2 (<= 4 output rows),
// channel_block 1: a 2-row body (rows r + tr for taps (0,1) (1,1)).
// CHECK:      kernel.pattern_conv ins(%a : memref<1x2x4x4xf32>) outs(%b : memref<1x2x4x4xf32>) attributes {
// CHECK-SAME:   patdnn.schedule = {tile_x = 8 : i64, tile_y = 2 : i64, channel_block = 1 : i64}
// CHECK-SAME:   tile_x = 8 : i64, tile_y = 2 : i64, channel_block = 1 : i64} {
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 1 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 1 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NEXT: kernel.pattern_conv ins(%b : memref<1x2x4x4xf32>) outs(%c : memref<1x2x2x2xf32>) attributes {
// CHECK-SAME:   patdnn.schedule = {channel_block = 2 : i64}
// CHECK-SAME:   tile_x = 16 : i64, tile_y = 1 : i64, channel_block = 2 : i64} {
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NEXT: func.return

// TILE8-COUNT-2: tile_x = 8 : i64, tile_y = 1 : i64} {
// TILE8-NEXT:    kernel.pattern_body
// TILE8-NOT:     tile_x = 16
// TILE8:         tile_x = 8 : i64, tile_y = 2 : i64, channel_block = 1 : i64} {
// TILE8:         tile_x = 8 : i64, tile_y = 1 : i64, channel_block = 2 : i64} {

// tile_y=2, stride 1: row 1 of the tile reads input rows 1 + tr, accumulates into acc_row 1.
// TY2:      kernel.pattern_conv ins(%x : memref<1x2x6x6xf32>) outs(%y : memref<1x3x6x6xf32>)
// TY2-SAME: tile_x = 16 : i64, tile_y = 2 : i64} {
// TY2-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 0 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 2 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 3 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 0 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 2 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 3 : i64, acc_row = 1 : i64}
// TY2-NEXT:   }
// TY2-NEXT:   kernel.pattern_body attributes {pattern = 1 : i64} {
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 0 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 2 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 3 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 0 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 2 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 3 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 3 : i64, acc_row = 1 : i64}
// TY2-NEXT:   }
// TY2-NEXT:   kernel.pattern_body attributes {pattern = 2 : i64} {
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 0 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 2 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 0 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 3 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 4 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 0 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 2 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 3 : i64, col = 0 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 3 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 3 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 4 : i64, acc_row = 1 : i64}
// TY2-NEXT:   }
// TY2-NEXT: }
// tile_y=2, stride 2: row 1 reads input rows 1 * 2 + tr = 3 (the tap row is 1).
// TY2-NEXT: kernel.pattern_conv ins(%y : memref<1x3x6x6xf32>) outs(%z : memref<1x2x3x3xf32>)
// TY2-SAME: tile_x = 16 : i64, tile_y = 2 : i64} {
// TY2-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 3 : i64, col = 1 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 1 : i64}
// TY2-NEXT:     %[[T:.*]] = kernel.load_tap {row = 3 : i64, col = 2 : i64}
// TY2-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 1 : i64}
// TY2-NEXT:   }
// TY2-NEXT: }
// The options do not override the first scheduled layer; the second takes tile_y 2 (2 output rows).
// TY2:      tile_x = 8 : i64, tile_y = 2 : i64, channel_block = 1 : i64} {
// TY2:      tile_x = 16 : i64, tile_y = 2 : i64, channel_block = 2 : i64} {

// tile_y=4 is clamped to the output height: 4 rows for the 6-row layer, 3 for the 3-row stride-2
// layer, whose last row reads input row 2 * 2 + 1 = 5 (inside (3-1)*2 + 3 = 7 rows).
// TY4:      tile_x = 16 : i64, tile_y = 4 : i64} {
// TY4:      kernel.pattern_conv ins(%y : memref<1x3x6x6xf32>) outs(%z : memref<1x2x3x3xf32>)
// TY4-SAME: tile_x = 16 : i64, tile_y = 3 : i64} {
// TY4-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// TY4-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// TY4-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// TY4-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 2 : i64}
// TY4-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// TY4-NEXT:     %[[T:.*]] = kernel.load_tap {row = 3 : i64, col = 1 : i64}
// TY4-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 1 : i64}
// TY4-NEXT:     %[[T:.*]] = kernel.load_tap {row = 3 : i64, col = 2 : i64}
// TY4-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 1 : i64}
// TY4-NEXT:     %[[T:.*]] = kernel.load_tap {row = 5 : i64, col = 1 : i64}
// TY4-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 2 : i64}
// TY4-NEXT:     %[[T:.*]] = kernel.load_tap {row = 5 : i64, col = 2 : i64}
// TY4-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 2 : i64}
// TY4-NEXT:   }
// TY4-NEXT: }
// TY4:      tile_x = 8 : i64, tile_y = 2 : i64, channel_block = 1 : i64} {
// TY4:      tile_x = 16 : i64, tile_y = 2 : i64, channel_block = 2 : i64} {

// tile_x=4 tile_y=3: the options reach the unscheduled layers (tile_y 3 <= 6 and 3 rows) and the
// partly scheduled one (tile_y clamped to its 2 output rows), never the fully scheduled one.
// SCHED:      tile_x = 4 : i64, tile_y = 3 : i64} {
// SCHED:      tile_x = 4 : i64, tile_y = 3 : i64} {
// SCHED:      kernel.pattern_conv ins(%a : memref<1x2x4x4xf32>) outs(%b : memref<1x2x4x4xf32>)
// SCHED-SAME: tile_x = 8 : i64, tile_y = 2 : i64, channel_block = 1 : i64} {
// SCHED-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// SCHED-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// SCHED-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// SCHED-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// SCHED-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// SCHED-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// SCHED-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 1 : i64}
// SCHED-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 1 : i64}
// SCHED-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 1 : i64}
// SCHED-NEXT:   }
// SCHED-NEXT: }
// SCHED-NEXT: kernel.pattern_conv ins(%b : memref<1x2x4x4xf32>) outs(%c : memref<1x2x2x2xf32>)
// SCHED-SAME: tile_x = 4 : i64, tile_y = 2 : i64, channel_block = 2 : i64} {
// SCHED-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// SCHED-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// SCHED-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 0 : i64}
// SCHED-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// SCHED-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 0 : i64}
// SCHED-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 1 : i64}
// SCHED-NEXT:     kernel.fma %[[T]] {entry = 0 : i64, acc_row = 1 : i64}
// SCHED-NEXT:     %[[T:.*]] = kernel.load_tap {row = 3 : i64, col = 1 : i64}
// SCHED-NEXT:     kernel.fma %[[T]] {entry = 1 : i64, acc_row = 1 : i64}
// SCHED-NEXT:   }
// SCHED-NEXT: }
// SCHED-NEXT: func.return

// TILE0: error: lower-pattern-to-kernel: tile_x=0 must be >= 1
// TILE0-NOT: Traceback
// TILEY0: error: lower-pattern-to-kernel: tile_y=0 must be >= 1
// TILEY0-NOT: Traceback
// BADOPT: error: lower-pattern-to-kernel: no option "tilex" (its options: "tile_x", "tile_y")
// BADOPT-NOT: Traceback
