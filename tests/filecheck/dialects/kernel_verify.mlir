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

// With tile_y 1 (the default) a body may read input rows 0 .. (1-1)*1 + 3 - 1 = 2.
// CHECK: {{^}}load_tap (3, 1) in pattern 0 lies outside the 3x3 input window of a 1-row tile{{$}}

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

// -----

// a 2-row stride-1 tile reads input rows 0 .. (2-1)*1 + 3 - 1 = 3: row 4 is outside
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, tile_y = 2 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %c = kernel.load_tap {row = 3 : i64, col = 1 : i64}
      kernel.fma %c {entry = 0, acc_row = 1 : i64}
      %a = kernel.load_tap {row = 4 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0, acc_row = 1 : i64}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}load_tap (4, 1) in pattern 0 lies outside the 4x3 input window of a 2-row tile{{$}}
// CHECK: Operation does not verify: load_tap (4, 1) in pattern 0 lies outside the 4x3 input window of a 2-row tile

// -----

// a 2-row stride-2 tile (5x5 -> 3x3) reads rows 0 .. (2-1)*2 + 3 - 1 = 4: row 5 is outside
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x3x3xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x3x3xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, tile_y = 2 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %c = kernel.load_tap {row = 4 : i64, col = 2 : i64}
      kernel.fma %c {entry = 0, acc_row = 1 : i64}
      %a = kernel.load_tap {row = 5 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0, acc_row = 1 : i64}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}load_tap (5, 1) in pattern 0 lies outside the 5x3 input window of a 2-row tile{{$}}
// CHECK: Operation does not verify: load_tap (5, 1) in pattern 0 lies outside the 5x3 input window of a 2-row tile

// -----

// an accumulator row beyond the tile: acc_row 2 with tile_y 2
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, tile_y = 2 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0, acc_row = 2 : i64}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}fma acc_row 2 in pattern 0 is out of range: the tile has 2 rows{{$}}
// CHECK: Operation does not verify: fma acc_row 2 in pattern 0 is out of range: the tile has 2 rows

// -----

// acc_row 1 without tile_y: the default tile has 1 row
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0, acc_row = 1 : i64}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}fma acc_row 1 in pattern 0 is out of range: the tile has 1 rows{{$}}
// CHECK: Operation does not verify: fma acc_row 1 in pattern 0 is out of range: the tile has 1 rows

// -----

// tile_y must be positive
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, tile_y = 0 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}tile_y 0 must be >= 1{{$}}
// CHECK: Operation does not verify: tile_y 0 must be >= 1

// -----

// channel_block must be positive
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, channel_block = 0 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}channel_block 0 must be >= 1{{$}}
// CHECK: Operation does not verify: channel_block 0 must be >= 1

// -----

// fkw_segments without fkw_channels
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, fkw_segments = array<i32: 0, 1, 0, 1, 2, 4, 2, 3, 8, 3, 3, 12>} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}fkw_segments and fkw_channels come together (run fkw-pack){{$}}
// CHECK: Operation does not verify: fkw_segments and fkw_channels come together (run fkw-pack)

// -----

// fkw_channels without fkw_segments
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, fkw_channels = array<i32: 0, 1, 1>} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}fkw_segments and fkw_channels come together (run fkw-pack){{$}}
// CHECK: Operation does not verify: fkw_segments and fkw_channels come together (run fkw-pack)

// -----

// fkw_segments sized for one channel block while channel_block 1 makes 2: 2 blocks x 2 filters x 2 patterns x 3 = 24
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, channel_block = 1 : i64, fkw_segments = array<i32: 0, 1, 0, 1, 2, 4, 2, 3, 8, 3, 3, 12>, fkw_channels = array<i32: 0, 1, 1>} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}fkw_segments has 12 values, expected 24 (3 per channel block x filter x pattern){{$}}
// CHECK: Operation does not verify: fkw_segments has 12 values, expected 24 (3 per channel block x filter x pattern)

// -----

// fkw_channels must name every kept kernel: kernels [0, 1, -1, 0] keep 3
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, fkw_segments = array<i32: 0, 1, 0, 1, 2, 4, 2, 3, 8, 3, 3, 12>, fkw_channels = array<i32: 0, 1>} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}fkw_channels has 2 values, the layer keeps 3 kernels{{$}}
// CHECK: Operation does not verify: fkw_channels has 2 values, the layer keeps 3 kernels

// -----

// valid: a 2-row stride-2 tile reading its last input row (4), acc_row 1, channel_block 1 with
// the FKW index of 2 blocks (first kernel, end kernel, first weight per block, filter, pattern:
// filter 0 = {p0: chan 0, p1: chan 1}, filter 1 = {p0: chan 1}) and the channel of each kept kernel
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x3x3xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x3x3xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, tile_y = 2 : i64, channel_block = 1 : i64, fkw_segments = array<i32: 0, 1, 0, 1, 1, 4, 2, 2, 8, 3, 3, 12, 1, 1, 4, 1, 2, 4, 2, 3, 8, 3, 3, 12>, fkw_channels = array<i32: 0, 1, 1>} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 4 : i64, col = 2 : i64}
      kernel.fma %a {entry = 3, acc_row = 1 : i64}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK:      kernel.pattern_conv ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x3x3xf32>)
// CHECK-SAME:   tile_y = 2 : i64, channel_block = 1 : i64,
// CHECK-SAME:   fkw_segments = array<i32: 0, 1, 0, 1, 1, 4, 2, 2, 8, 3, 3, 12, 1, 1, 4, 1, 2, 4, 2, 3, 8, 3, 3, 12>, fkw_channels = array<i32: 0, 1, 1>
// CHECK-NEXT:     kernel.pattern_body attributes {pattern = 0 : i64} {
// CHECK-NEXT:       %{{.*}} = kernel.load_tap {row = 4 : i64, col = 2 : i64}
// CHECK-NEXT:       kernel.fma %{{.*}} {entry = 3 : i64, acc_row = 1 : i64}

// -----

// tile_y may not exceed the output rows (the emitter could not place the extra rows)
func.func @layer(%x: memref<1x2x3x3xf32>, %y: memref<1x2x1x1xf32>) {
  kernel.pattern_conv ins(%x : memref<1x2x3x3xf32>) outs(%y : memref<1x2x1x1xf32>) attributes {library = #pattern.library<3x3, ["010|111|000", "010|110|010"]>, kernels = array<i8: 0, 1, -1, 0>, weights = dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, activation = #pattern<activation none>, tile_x = 16 : i64, tile_y = 2 : i64} {
    kernel.pattern_body attributes {pattern = 0 : i64} {
      %a = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %a {entry = 0 : i64, acc_row = 1 : i64}
    }
    kernel.pattern_body attributes {pattern = 1 : i64} {
      %b = kernel.load_tap {row = 1 : i64, col = 1 : i64}
      kernel.fma %b {entry = 0 : i64}
    }
  }
  func.return
}

// CHECK: {{^}}tile_y 2 exceeds the 1 output rows{{$}}
