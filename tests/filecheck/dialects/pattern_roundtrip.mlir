// RUN: patdnn-opt %s | patdnn-opt | filecheck %s
// RUN: patdnn-opt %s --print-op-generic | patdnn-opt | filecheck %s

func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu library #pattern.library<3x3, ["010|111|000", "010|110|010"]> kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32> bias dense<[0.5, 0.25]> : tensor<2xf32>
  func.return
}

// CHECK:      pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
// CHECK-SAME: library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
// CHECK-SAME: kernels {{\[}}[0, 1], [-1, 0]]
// CHECK-SAME: weights dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, {{.*}}]> : tensor<12xf32>
// CHECK-SAME: bias dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>
