// RUN: patdnn-opt %s -p lower-pattern-to-kernel | filecheck %s
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel{tile_x=8}" | filecheck %s --check-prefix=TILE8
// RUN: patdnn-opt %s -p lower-pattern-to-kernel | patdnn-opt | filecheck %s
// RUN: not patdnn-opt %s -p "lower-pattern-to-kernel{tile_x=0}" 2>&1 | filecheck %s --check-prefix=TILE0
// RUN: not patdnn-opt %s -p "lower-pattern-to-kernel{tilex=4}" 2>&1 | filecheck %s --check-prefix=BADOPT

// Every pattern.conv2d becomes a kernel.pattern_conv with the same properties plus tile_x, and one
// kernel.pattern_body per library pattern (also for patterns no kernel uses), in library order;
// a body holds one load_tap + fma per kept tap, row-major, entry = index of the tap in the mask.

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

// CHECK-NOT: pattern.conv2d
// CHECK:      kernel.pattern_conv ins(%x : memref<1x2x6x6xf32>) outs(%y : memref<1x3x6x6xf32>) attributes {
// CHECK-SAME:   layer = "conv1"
// CHECK-SAME:   library = #pattern.library<3x3, ["010|111|000", "110|010|001", "101|010|101"]>
// CHECK-SAME:   kernels = array<i8: 0, 2, -1, -1, 1, 0>
// CHECK-SAME:   weights = dense<[1.000000e+00, 2.000000e+00, {{.*}}, 1.700000e+01]> : tensor<17xf32>
// CHECK-SAME:   bias = dense<[5.000000e-01, 2.500000e-01, 1.250000e-01]> : tensor<3xf32>
// CHECK-SAME:   stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>
// CHECK-SAME:   activation = #pattern<activation relu>
// CHECK-SAME:   tile_x = 16 : i64} {
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 0 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 2 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 3 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 1 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 0 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 2 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 3 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 2 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 0 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 0 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 2 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 0 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 3 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 2 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 4 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NEXT: kernel.pattern_conv ins(%y : memref<1x3x6x6xf32>) outs(%z : memref<1x2x3x3xf32>) attributes {
// CHECK-SAME:   library = #pattern.library<3x3, ["000|011|000"]>
// CHECK-SAME:   kernels = array<i8: 0, -1, 0, -1, 0, -1>
// CHECK-SAME:   weights = #pattern.blob<"w.bin", offset = 16, size = 24, sha256 = "0000000000000000000000000000000000000000000000000000000000000000">
// CHECK-NOT:    bias
// CHECK-SAME:   stride = array<i64: 2, 2>
// CHECK-SAME:   activation = #pattern<activation relu6>
// CHECK-SAME:   tile_x = 16 : i64} {
// CHECK-NEXT:   kernel.pattern_body attributes {pattern = 0 : i64} {
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 0 : i64}
// CHECK-NEXT:     %[[T:.*]] = kernel.load_tap {row = 1 : i64, col = 2 : i64}
// CHECK-NEXT:     kernel.fma %[[T]] {entry = 1 : i64}
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NEXT: func.return

// TILE8-COUNT-2: tile_x = 8 : i64} {
// TILE8-NOT:     tile_x = 16

// TILE0: error: lower-pattern-to-kernel: tile_x=0 must be >= 1
// TILE0-NOT: Traceback
// BADOPT: error: Provided arguments ["tilex"] not found in expected arguments ["tile_x"]
