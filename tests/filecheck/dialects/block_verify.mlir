// RUN: patdnn-opt %s --split-input-file --verify-diagnostics | filecheck %s

// One chunk per verifier error of the block dialect: the message names the bad value.

// two column lists for one block of 4 filters
func.func @layer(%x: memref<1x2x4x4xf32>, %y: memref<1x3x4x4xf32>) {
  block.conv2d ins(%x : memref<1x2x4x4xf32>) outs(%y : memref<1x3x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] activation none block [4, 2] columns [[0], [1]] weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>
  func.return
}

// CHECK: {{^}}columns has 2 lists, expected 1 (one per block of 4 of the 3 filters)

// -----

// a column past the GEMM width (2 channels x 1x1 = 2 columns)
func.func @layer(%x: memref<1x2x4x4xf32>, %y: memref<1x2x4x4xf32>) {
  block.conv2d ins(%x : memref<1x2x4x4xf32>) outs(%y : memref<1x2x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] activation none block [2, 2] columns [[0, 2]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  func.return
}

// CHECK: {{^}}filter block 0: column 2 is outside 0..1

// -----

// columns out of order
func.func @layer(%x: memref<1x2x4x4xf32>, %y: memref<1x2x4x4xf32>) {
  block.conv2d ins(%x : memref<1x2x4x4xf32>) outs(%y : memref<1x2x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] activation none block [2, 2] columns [[1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  func.return
}

// CHECK: {{^}}filter block 0: columns must be strictly ascending, got [1, 0]

// -----

// 2 kept columns x 2 filters need 4 weights
func.func @layer(%x: memref<1x2x4x4xf32>, %y: memref<1x2x4x4xf32>) {
  block.conv2d ins(%x : memref<1x2x4x4xf32>) outs(%y : memref<1x2x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] activation none block [2, 2] columns [[0, 1]] weights dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  func.return
}

// CHECK: {{^}}weights: 3 values, expected 4{{$}}

// -----

// the output size does not follow from kernel, stride and padding
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  block.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] activation none block [2, 2] columns [[0]] weights dense<[1.0, 2.0]> : tensor<2xf32>
  func.return
}

// CHECK: {{^}}output height 5 does not match the input: (5 + 2*1 - 3) / 2 + 1 = 3{{$}}

// -----

// block.linear: batch sizes differ
func.func @layer(%a: memref<2x5xf32>, %b: memref<1x4xf32>) {
  block.linear ins(%a : memref<2x5xf32>) outs(%b : memref<1x4xf32>) activation none block [4, 8] columns [[1]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  func.return
}

// CHECK: {{^}}batch sizes differ: input has 2, output has 1

// -----

// block.linear: a bias of the wrong size
func.func @layer(%a: memref<1x5xf32>, %b: memref<1x4xf32>) {
  block.linear ins(%a : memref<1x5xf32>) outs(%b : memref<1x4xf32>) activation none block [4, 8] columns [[1]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> bias dense<[1.0]> : tensor<1xf32>
  func.return
}

// CHECK: {{^}}bias: 1 values, expected 4{{$}}
