// RUN: patdnn-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of the kernel dialect (kernel.pattern_conv also runs every pattern.conv2d check).

// tile_x must be positive
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 0 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}tile_x 0 must be >= 1{{$}}
// CHECK: Operation does not verify: tile_x 0 must be >= 1

// -----

// only pattern bodies inside
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0 : i64}
    }
    %z = arith.constant 0 : i32
  }
  func.return
}

// CHECK: {{^}}kernel.pattern_conv may only contain kernel.pattern_body, found arith.constant{{$}}
// CHECK: Operation does not verify: kernel.pattern_conv may only contain kernel.pattern_body, found arith.constant

// -----

// a body for a pattern outside the library
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64} {
    kernel.pattern_body attributes {pattern = 2 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}pattern_body 2 is out of range or repeated{{$}}
// CHECK: Operation does not verify: pattern_body 2 is out of range or repeated

// -----

// a repeated body
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0 : i64}
    }
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}pattern_body 0 is out of range or repeated{{$}}
// CHECK: Operation does not verify: pattern_body 0 is out of range or repeated

// -----

// filter_order is not a permutation
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, filter_order = array<i64: 0, 0>} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0 : i64}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}filter_order must be a permutation of the output channels{{$}}
// CHECK: Operation does not verify: filter_order must be a permutation of the output channels

// -----

// the pattern.conv2d checks apply too
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x4x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x4x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}output height 4 does not match the input: (5 + 2*1 - 3) / 1 + 1 = 5{{$}}
// CHECK: Operation does not verify: output height 4 does not match the input: (5 + 2*1 - 3) / 1 + 1 = 5

// -----

// load_tap outside a pattern body
func.func @f() {
  %a = kernel.load_tap {row = 0 : i64, col = 0 : i64}
  func.return
}

// CHECK: 'kernel.load_tap' expects parent op 'kernel.pattern_body'

// -----

// a tap outside the kernel
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 3 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0 : i64}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}load_tap (3, 1) in pattern 0 lies outside the 3x3 kernel{{$}}

// -----

// a weight entry the pattern does not keep
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 4 : i64}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}fma entry 4 in pattern 0 is out of range: the pattern keeps 4{{$}}
