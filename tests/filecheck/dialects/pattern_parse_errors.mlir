// RUN: patdnn-opt %s --split-input-file --parsing-diagnostics | filecheck %s

// Errors raised while parsing pattern-dialect syntax: a location line (file:line:col), the source
// line, carets and the message. --parsing-diagnostics prints them and goes on with the next chunk.

// a non-square library
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<2x3, ["010|111"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: pattern_parse_errors.mlir:[[# @LINE - 5]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}pattern library kernels must be square, got 2x3{{$}}

// -----

// an unknown activation
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation mish
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: pattern_parse_errors.mlir:[[# @LINE - 6]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}unknown activation 'mish', expected one of none, relu, relu6, sigmoid, {{.*}}, clamp_max{{$}}

// -----

// a misspelt off_centre keyword
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000"], centre>
      kernels [[0, 0], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: pattern_parse_errors.mlir:[[# @LINE - 5]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}Expected 'off_centre'{{$}}

// -----

// a mask that is not a string literal
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, [010]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: pattern_parse_errors.mlir:[[# @LINE - 5]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}string literal expected{{$}}

// -----

// a blob without its size
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"w", offset = 0, sha256 = "abababababababababababababababababababababababababababababababab">
  func.return
}

// CHECK: pattern_parse_errors.mlir:[[# @LINE - 4]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}Expected 'size'{{$}}

// -----

// a missing `weights` keyword
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]]
  func.return
}

// CHECK: pattern_parse_errors.mlir:[[# @LINE - 3]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}Expected 'weights'{{$}}

// -----

// a stride that is not a list
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride 2 padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: pattern_parse_errors.mlir:[[# @LINE - 6]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}'[' expected{{$}}

// -----

// a parametrised activation without its parameter
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation leaky_relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: activation leaky_relu takes 1 parameter(s), got 0{{$}}

// -----

// hardtanh bounds the wrong way round
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation hardtanh(2.0, -1.0)
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: activation hardtanh(2.0, -1.0): the lower bound is above the upper one{{$}}
