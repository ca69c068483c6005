// RUN: patdnn-opt %s | patdnn-opt | filecheck %s
// RUN: patdnn-opt %s --print-op-generic | patdnn-opt | filecheck %s
// RUN: patdnn-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// The lowered (register-level) form round-trips through the custom and the generic syntax:
// properties, the schedule (tile_x, filter_order), blob weights, discardable attributes and the
// per-pattern bodies with their taps and weight entries.

func.func @layer(%x: memref<1x3x6x6xf32>, %y: memref<1x2x3x2xf32>) {
  kernel.pattern_conv ins(%x : memref<1x3x6x6xf32>) outs(%y : memref<1x2x3x2xf32>) attributes {layer = "c1", library = #pattern.library<3x3, ["010|111|000", "100|110|000"], off_centre>, kernels = array<i8: 0, -1, 1, -1, -1, -1>, weights = #pattern.blob<"model.weights", offset = 64, size = 28, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff">, bias = dense<[5.000000e-01, -2.500000e-01]> : tensor<2xf32>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, activation = #pattern<activation relu6>, tile_x = 8 : i64, filter_order = array<i64: 1, 0>} {
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %a = kernel.load_tap {row = 0 : i64, col = 0 : i64}
      kernel.fma %a {entry = 0 : i64}
      %b = kernel.load_tap {row = 1 : i64, col = 0 : i64}
      kernel.fma %b {entry = 1 : i64}
      kernel.fma %a {entry = 2 : i64}
    }
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %c = kernel.load_tap {row = 1 : i64, col = 2 : i64}
      kernel.fma %c {entry = 3 : i64}
    }
  }
  func.return
}

// CHECK:      func.func @layer(%x: memref<1x3x6x6xf32>, %y: memref<1x2x3x2xf32>) {
// CHECK-NEXT:   kernel.pattern_conv ins(%x : memref<1x3x6x6xf32>) outs(%y : memref<1x2x3x2xf32>) attributes {
// CHECK-SAME:     layer = "c1"
// CHECK-SAME:     library = #pattern.library<3x3, ["010|111|000", "100|110|000"], off_centre>
// CHECK-SAME:     kernels = array<i8: 0, -1, 1, -1, -1, -1>
// CHECK-SAME:     weights = #pattern.blob<"model.weights", offset = 64, size = 28, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff">
// CHECK-SAME:     bias = dense<[5.000000e-01, -2.500000e-01]> : tensor<2xf32>
// CHECK-SAME:     stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>
// CHECK-SAME:     activation = #pattern<activation relu6>, tile_x = 8 : i64, filter_order = array<i64: 1, 0>} {
// CHECK-NEXT:     kernel.pattern_body attributes {pattern = 1 : i64} {
// CHECK-NEXT:       %[[A:.*]] = kernel.load_tap {row = 0 : i64, col = 0 : i64}
// CHECK-NEXT:       kernel.fma %[[A]] {entry = 0 : i64}
// CHECK-NEXT:       %[[B:.*]] = kernel.load_tap {row = 1 : i64, col = 0 : i64}
// CHECK-NEXT:       kernel.fma %[[B]] {entry = 1 : i64}
// CHECK-NEXT:       kernel.fma %[[A]] {entry = 2 : i64}
// CHECK-NEXT:     }
// CHECK-NEXT:     kernel.pattern_body attributes {pattern = 0 : i64} {
// CHECK-NEXT:       %[[C:.*]] = kernel.load_tap {row = 1 : i64, col = 2 : i64}
// CHECK-NEXT:       kernel.fma %[[C]] {entry = 3 : i64}
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT:   func.return

// The generic form: semantic and schedule values are properties, `layer` stays a discardable attribute.
// GENERIC:      "kernel.pattern_conv"(%x, %y) <{
// GENERIC-SAME:   tile_x = 8 : i64
// GENERIC-SAME:   filter_order = array<i64: 1, 0>}> ({
// GENERIC-NEXT:   "kernel.pattern_body"() <{pattern = 1 : i64}> ({
// GENERIC-NEXT:     %[[A:.*]] = "kernel.load_tap"() <{row = 0 : i64, col = 0 : i64}> : () -> !kernel.vec
// GENERIC-NEXT:     "kernel.fma"(%[[A]]) <{entry = 0 : i64}> : (!kernel.vec) -> ()
// GENERIC:      }) {layer = "c1"} : (memref<1x3x6x6xf32>, memref<1x2x3x2xf32>) -> ()
