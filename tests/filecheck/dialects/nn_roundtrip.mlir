// RUN: patdnn-opt %s | patdnn-opt | filecheck %s
// RUN: patdnn-opt %s --print-op-generic | patdnn-opt | filecheck %s

// Every nn op's custom syntax round-trips through the custom and the generic form: optional
// residual operand and bias, blob weights, groups, every activation and pooling kind, variadic
// concat inputs and discardable attributes.

// nn.conv2d: a biased strided conv (72 = 2 x 4 x 3 x 3 weights), a grouped 1x3 conv with a fused
// residual and blob weights (2 x 4/2 x 1 x 3 = 12 values = 48 bytes), a depthwise conv without bias.
// CHECK-LABEL: func.func @convs
// CHECK-NEXT:    nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation relu
// CHECK-SAME:      weights dense<5.000000e-01> : tensor<72xf32> bias dense<[2.500000e-01, -1.000000e+00]> : tensor<2xf32> {layer = "c1"}
// CHECK-NEXT:    nn.conv2d ins(%x, %r : memref<1x4x6x6xf32>, memref<1x2x3x3xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [1, 3] stride [2, 2] padding [0, 1] groups 2 activation relu6
// CHECK-SAME:      weights #pattern.blob<"model.weights", offset = 64, size = 48, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff">{{$}}
// CHECK-NEXT:    nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%d : memref<1x4x6x6xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 4 activation none
// CHECK-SAME:      weights dense<1.000000e+00> : tensor<36xf32>{{$}}
// CHECK-NEXT:    func.return
func.func @convs(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x3xf32>, %r: memref<1x2x3x3xf32>, %d: memref<1x4x6x6xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation relu weights dense<0.5> : tensor<72xf32> bias dense<[0.25, -1.0]> : tensor<2xf32> {layer = "c1"}
  nn.conv2d ins(%x, %r : memref<1x4x6x6xf32>, memref<1x2x3x3xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [1, 3] stride [2, 2] padding [0, 1] groups 2 activation relu6 weights #pattern.blob<"model.weights", offset = 64, size = 48, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff">
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%d : memref<1x4x6x6xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 4 activation none weights dense<1.0> : tensor<36xf32>
  func.return
}

// Pooling: max with padding, avg, adaptive average to 1x1.
// CHECK-LABEL: func.func @pools
// CHECK-NEXT:    nn.pool2d ins(%x : memref<2x3x7x7xf32>) outs(%m : memref<2x3x4x4xf32>) kind max kernel [3, 3] stride [2, 2] padding [1, 1]{{$}}
// CHECK-NEXT:    nn.pool2d ins(%x : memref<2x3x7x7xf32>) outs(%a : memref<2x3x3x3xf32>) kind avg kernel [2, 2] stride [2, 2] padding [0, 0] {layer = "p"}
// CHECK-NEXT:    nn.adaptive_avg_pool2d ins(%x : memref<2x3x7x7xf32>) outs(%g : memref<2x3x1x1xf32>){{$}}
// CHECK-NEXT:    func.return
func.func @pools(%x: memref<2x3x7x7xf32>, %m: memref<2x3x4x4xf32>, %a: memref<2x3x3x3xf32>, %g: memref<2x3x1x1xf32>) {
  nn.pool2d ins(%x : memref<2x3x7x7xf32>) outs(%m : memref<2x3x4x4xf32>) kind max kernel [3, 3] stride [2, 2] padding [1, 1]
  nn.pool2d ins(%x : memref<2x3x7x7xf32>) outs(%a : memref<2x3x3x3xf32>) kind avg kernel [2, 2] stride [2, 2] padding [0, 0] {layer = "p"}
  nn.adaptive_avg_pool2d ins(%x : memref<2x3x7x7xf32>) outs(%g : memref<2x3x1x1xf32>)
  func.return
}

// Elementwise, concat (3 + 5 channels), reshape (8x4x4 -> 128), linear with and without bias, softmax.
// CHECK-LABEL: func.func @rest
// CHECK-NEXT:    nn.add ins(%a, %b : memref<2x3x4x4xf32>, memref<2x3x4x4xf32>) outs(%b : memref<2x3x4x4xf32>) activation relu{{$}}
// CHECK-NEXT:    nn.add ins(%a, %b : memref<2x3x4x4xf32>, memref<2x3x4x4xf32>) outs(%a : memref<2x3x4x4xf32>) activation none {layer = "add"}
// CHECK-NEXT:    nn.activation ins(%a : memref<2x3x4x4xf32>) outs(%a : memref<2x3x4x4xf32>) activation relu6{{$}}
// CHECK-NEXT:    nn.concat ins(%a, %c : memref<2x3x4x4xf32>, memref<2x5x4x4xf32>) outs(%s : memref<2x8x4x4xf32>){{$}}
// CHECK-NEXT:    nn.reshape ins(%s : memref<2x8x4x4xf32>) outs(%f : memref<2x128xf32>){{$}}
// CHECK-NEXT:    nn.linear ins(%f : memref<2x128xf32>) outs(%o : memref<2x10xf32>) activation none weights dense<1.250000e-01> : tensor<1280xf32>
// CHECK-SAME:      bias dense<[0.000000e+00, 1.000000e+00, {{.*}}, 9.000000e+00]> : tensor<10xf32>{{$}}
// CHECK-NEXT:    nn.linear ins(%f : memref<2x128xf32>) outs(%o : memref<2x10xf32>) activation relu weights dense<1.250000e-01> : tensor<1280xf32>{{$}}
// CHECK-NEXT:    nn.softmax ins(%o : memref<2x10xf32>) outs(%p : memref<2x10xf32>) {layer = "prob"}
// CHECK-NEXT:    func.return
func.func @rest(%a: memref<2x3x4x4xf32>, %b: memref<2x3x4x4xf32>, %c: memref<2x5x4x4xf32>, %s: memref<2x8x4x4xf32>, %f: memref<2x128xf32>, %o: memref<2x10xf32>, %p: memref<2x10xf32>) {
  nn.add ins(%a, %b : memref<2x3x4x4xf32>, memref<2x3x4x4xf32>) outs(%b : memref<2x3x4x4xf32>) activation relu
  nn.add ins(%a, %b : memref<2x3x4x4xf32>, memref<2x3x4x4xf32>) outs(%a : memref<2x3x4x4xf32>) activation none {layer = "add"}
  nn.activation ins(%a : memref<2x3x4x4xf32>) outs(%a : memref<2x3x4x4xf32>) activation relu6
  nn.concat ins(%a, %c : memref<2x3x4x4xf32>, memref<2x5x4x4xf32>) outs(%s : memref<2x8x4x4xf32>)
  nn.reshape ins(%s : memref<2x8x4x4xf32>) outs(%f : memref<2x128xf32>)
  nn.linear ins(%f : memref<2x128xf32>) outs(%o : memref<2x10xf32>) activation none weights dense<0.125> : tensor<1280xf32> bias dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]> : tensor<10xf32>
  nn.linear ins(%f : memref<2x128xf32>) outs(%o : memref<2x10xf32>) activation relu weights dense<0.125> : tensor<1280xf32>
  nn.softmax ins(%o : memref<2x10xf32>) outs(%p : memref<2x10xf32>) {layer = "prob"}
  func.return
}

// nn.constant: a learned tensor materialised into a buffer, inline (4 values for 1x4x1x1) and
// from a blob (2 x 3 = 6 values = 24 bytes), with a discardable attribute.
// CHECK-LABEL: func.func @constants
// CHECK-NEXT:    nn.constant outs(%c : memref<1x4x1x1xf32>) weights dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>{{$}}
// CHECK-NEXT:    nn.constant outs(%d : memref<2x3xf32>) weights #pattern.blob<"model.weights", offset = 0, size = 24, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"> {layer = "p"}
// CHECK-NEXT:    func.return
func.func @constants(%c: memref<1x4x1x1xf32>, %d: memref<2x3xf32>) {
  nn.constant outs(%c : memref<1x4x1x1xf32>) weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  nn.constant outs(%d : memref<2x3xf32>) weights #pattern.blob<"model.weights", offset = 0, size = 24, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"> {layer = "p"}
  func.return
}
