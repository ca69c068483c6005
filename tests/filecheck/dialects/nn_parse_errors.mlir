// RUN: patdnn-opt %s --split-input-file --parsing-diagnostics | filecheck %s

// Errors raised while parsing nn-dialect syntax: a location line, the source line, carets and
// the message.

// a type per input
func.func @layer(%a: memref<2x3xf32>, %b: memref<2x3xf32>, %y: memref<2x3xf32>) {
  nn.add ins(%a, %b : memref<2x3xf32>) outs(%y : memref<2x3xf32>) activation none
  func.return
}

// CHECK: nn_parse_errors.mlir:[[# @LINE - 4]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}expected 2 types for the inputs, got 1{{$}}

// -----

// nn.add takes exactly two inputs
func.func @layer(%a: memref<2x3xf32>, %y: memref<2x3xf32>) {
  nn.add ins(%a : memref<2x3xf32>) outs(%y : memref<2x3xf32>) activation relu
  func.return
}

// CHECK: nn_parse_errors.mlir:[[# @LINE - 4]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}nn.add takes two inputs (lhs, rhs), got 1{{$}}

// -----

// nn.conv2d: an input and at most one residual
func.func @layer(%x: memref<1x2x4x4xf32>, %y: memref<1x2x4x4xf32>) {
  nn.conv2d ins(%x, %y, %y : memref<1x2x4x4xf32>, memref<1x2x4x4xf32>, memref<1x2x4x4xf32>) outs(%y : memref<1x2x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<1.0> : tensor<4xf32>
  func.return
}

// CHECK: nn_parse_errors.mlir:[[# @LINE - 4]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}nn.conv2d takes an input and an optional residual, got 3 inputs{{$}}

// -----

// an unknown pooling kind
func.func @layer(%x: memref<1x2x4x4xf32>, %y: memref<1x2x2x2xf32>) {
  nn.pool2d ins(%x : memref<1x2x4x4xf32>) outs(%y : memref<1x2x2x2xf32>) kind min kernel [2, 2] stride [2, 2] padding [0, 0]
  func.return
}

// CHECK: nn_parse_errors.mlir:[[# @LINE - 4]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}unknown pooling kind 'min', expected max or avg{{$}}

// -----

// an unknown activation
func.func @layer(%x: memref<2x8xf32>, %y: memref<2x4xf32>) {
  nn.linear ins(%x : memref<2x8xf32>) outs(%y : memref<2x4xf32>) activation swish weights dense<1.0> : tensor<32xf32>
  func.return
}

// CHECK: nn_parse_errors.mlir:[[# @LINE - 4]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}unknown activation 'swish', expected one of none, relu, relu6, sigmoid, {{.*}}, clamp_max{{$}}

// -----

// nn.conv2d needs its groups
func.func @layer(%x: memref<1x2x4x4xf32>, %y: memref<1x2x4x4xf32>) {
  nn.conv2d ins(%x : memref<1x2x4x4xf32>) outs(%y : memref<1x2x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] activation none weights dense<1.0> : tensor<4xf32>
  func.return
}

// CHECK: nn_parse_errors.mlir:[[# @LINE - 4]]:{{[0-9]+}}
// CHECK: {{^ *\^+$}}
// CHECK-NEXT: {{^ *}}Expected 'groups'{{$}}
