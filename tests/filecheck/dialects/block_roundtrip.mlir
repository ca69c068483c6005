// RUN: patdnn-opt %s | patdnn-opt | filecheck %s
// RUN: patdnn-opt %s --print-op-generic | patdnn-opt | filecheck %s

// block.conv2d: 3 filters in blocks of 2 (the last block is partial: its second filter's weights are
// zero padding), 2 channels x 3x3 = 18 GEMM columns; block 0 keeps columns 0, 4, 13, block 1 keeps 9.
// Weights: per kept column the block's 2 values. block.linear: 5 -> 4, blocks of 4, one block.
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x3x3x3xf32>, %a: memref<2x5xf32>, %b: memref<2x4xf32>) {
  block.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x3x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] activation relu block [2, 16] columns [[0, 4, 13], [9]] weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 0.0]> : tensor<8xf32> bias dense<[0.5, 0.25, -1.0]> : tensor<3xf32> {layer = "conv", patdnn.prune = "block 2x16 4x"}
  block.linear ins(%a : memref<2x5xf32>) outs(%b : memref<2x4xf32>) activation relu6 block [4, 8] columns [[1, 3]] weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>
  func.return
}

// CHECK:      block.conv2d ins(%{{.*}} : memref<1x2x5x5xf32>) outs(%{{.*}} : memref<1x3x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] activation relu
// CHECK-SAME: block [2, 16] columns {{\[}}[0, 4, 13], [9]]
// CHECK-SAME: weights dense<[1.000000e+00, 2.000000e+00, {{.*}}, 0.000000e+00]> : tensor<8xf32>
// CHECK-SAME: bias dense<[5.000000e-01, 2.500000e-01, -1.000000e+00]> : tensor<3xf32>
// CHECK-SAME: {layer = "conv", patdnn.prune = "block 2x16 4x"}
// CHECK:      block.linear ins(%{{.*}} : memref<2x5xf32>) outs(%{{.*}} : memref<2x4xf32>) activation relu6
// CHECK-SAME: block [4, 8] columns {{\[}}[1, 3]] weights dense<[1.000000e+00, {{.*}}]> : tensor<8xf32>
// CHECK-NOT:  bias
