// RUN: patdnn-opt %s --split-input-file --verify-diagnostics | filecheck %s

// One chunk per verifier error of the nn dialect: the message, then "Operation does not verify"
// under the op; the last chunk is valid and printed as IR.
// nn.conv2d: the input must be 4-d NCHW
func.func @layer(%x: memref<4x6x6xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}input must be a 4-d NCHW memref, got memref<4x6x6xf32>{{$}}
// CHECK: Operation does not verify: input must be a 4-d NCHW memref, got memref<4x6x6xf32>

// -----

// nn.conv2d: static shapes only
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x?x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x?x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}output must be a static memref, got memref<1x2x?x3xf32>{{$}}
// CHECK: Operation does not verify: output must be a static memref, got memref<1x2x?x3xf32>

// -----

// nn.conv2d: f32 only
func.func @layer(%x: memref<1x4x6x6xf16>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf16>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}input element type must be f32, got f16{{$}}
// CHECK: Operation does not verify: input element type must be f32, got f16

// -----

// nn.conv2d: one batch size
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<2x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<2x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}batch sizes differ: input has 1, output has 2{{$}}
// CHECK: Operation does not verify: batch sizes differ: input has 1, output has 2

// -----

// nn.conv2d: a kernel needs two sizes
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3] stride [2, 2] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}kernel [3] must be two integers >= 1{{$}}
// CHECK: Operation does not verify: kernel [3] must be two integers >= 1

// -----

// nn.conv2d: stride >= 1
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 0] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}stride [2, 0] must be two integers >= 1{{$}}
// CHECK: Operation does not verify: stride [2, 0] must be two integers >= 1

// -----

// nn.conv2d: padding >= 0
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [-1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}padding [-1, 1] must be two integers >= 0{{$}}
// CHECK: Operation does not verify: padding [-1, 1] must be two integers >= 0

// -----

// nn.conv2d: groups must divide both channel counts
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 4 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}groups 4 must be >= 1 and divide both the input channels (4) and the output channels (2){{$}}
// CHECK: Operation does not verify: groups 4 must be >= 1 and divide both the input channels (4) and the output channels (2)

// -----

// nn.conv2d: a kernel larger than the padded input
func.func @layer(%x: memref<1x4x2x6xf32>, %y: memref<1x2x1x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x2x6xf32>) outs(%y : memref<1x2x1x3xf32>) kernel [5, 3] stride [2, 2] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<120xf32>
  func.return
}

// CHECK: {{^}}input height 2 is too small for a 5x3 kernel with padding 1{{$}}
// CHECK: Operation does not verify: input height 2 is too small for a 5x3 kernel with padding 1

// -----

// nn.conv2d: the output width follows from input, kernel, stride and padding
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x4xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x4xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}output width 4 does not match the input: (6 + 2*1 - 3) / 2 + 1 = 3{{$}}
// CHECK: Operation does not verify: output width 4 does not match the input: (6 + 2*1 - 3) / 2 + 1 = 3

// -----

// nn.conv2d: OIHW weight count (2 x 4/2 x 3 x 3 = 36 with groups 2)
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 2 activation none weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}weights: 72 values, expected 36{{$}}
// CHECK: Operation does not verify: weights: 72 values, expected 36

// -----

// nn.conv2d: a blob's byte size
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation none weights #pattern.blob<"w", offset = 0, size = 284, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff">
  func.return
}

// CHECK: {{^}}weights blob holds 284 bytes, expected 288 (72 f32 values){{$}}
// CHECK: Operation does not verify: weights blob holds 284 bytes, expected 288 (72 f32 values)

// -----

// nn.conv2d: f32 weights
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf64>
  func.return
}

// CHECK: {{^}}weights must be f32, got f64{{$}}
// CHECK: Operation does not verify: weights must be f32, got f64

// -----

// nn.conv2d: one bias per output channel
func.func @layer(%x: memref<1x4x6x6xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<72xf32> bias dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  func.return
}

// CHECK: {{^}}bias: 3 values, expected 2{{$}}
// CHECK: Operation does not verify: bias: 3 values, expected 2

// -----

// nn.conv2d: the residual has the output's shape
func.func @layer(%x: memref<1x4x6x6xf32>, %r: memref<1x2x3x1xf32>, %y: memref<1x2x3x3xf32>) {
  nn.conv2d ins(%x, %r : memref<1x4x6x6xf32>, memref<1x2x3x1xf32>) outs(%y : memref<1x2x3x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 1 activation relu weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK: {{^}}residual shape [1, 2, 3, 1] must equal the output shape [1, 2, 3, 3]{{$}}
// CHECK: Operation does not verify: residual shape [1, 2, 3, 1] must equal the output shape [1, 2, 3, 3]

// -----

// nn.pool2d: batch and channels are kept
func.func @layer(%x: memref<2x3x7x7xf32>, %y: memref<2x4x4x4xf32>) {
  nn.pool2d ins(%x : memref<2x3x7x7xf32>) outs(%y : memref<2x4x4x4xf32>) kind max kernel [3, 3] stride [2, 2] padding [1, 1]
  func.return
}

// CHECK: {{^}}output batch and channels (2, 4) must equal the input's (2, 3){{$}}
// CHECK: Operation does not verify: output batch and channels (2, 4) must equal the input's (2, 3)

// -----

// nn.pool2d: padding at most half the kernel
func.func @layer(%x: memref<2x3x7x7xf32>, %y: memref<2x3x5x5xf32>) {
  nn.pool2d ins(%x : memref<2x3x7x7xf32>) outs(%y : memref<2x3x5x5xf32>) kind avg kernel [3, 3] stride [2, 2] padding [1, 2]
  func.return
}

// CHECK: {{^}}padding [1, 2] must be at most half the kernel [3, 3] (as in PyTorch){{$}}
// CHECK: Operation does not verify: padding [1, 2] must be at most half the kernel [3, 3] (as in PyTorch)

// -----

// nn.pool2d: the output height follows from the window
func.func @layer(%x: memref<2x3x7x7xf32>, %y: memref<2x3x3x4xf32>) {
  nn.pool2d ins(%x : memref<2x3x7x7xf32>) outs(%y : memref<2x3x3x4xf32>) kind max kernel [3, 3] stride [2, 2] padding [1, 1]
  func.return
}

// CHECK: {{^}}output height 3 does not match the input: (7 + 2*1 - 3) / 2 + 1 = 4{{$}}
// CHECK: Operation does not verify: output height 3 does not match the input: (7 + 2*1 - 3) / 2 + 1 = 4

// -----

// nn.adaptive_avg_pool2d: batch and channels are kept
func.func @layer(%x: memref<2x3x7x7xf32>, %y: memref<1x3x1x1xf32>) {
  nn.adaptive_avg_pool2d ins(%x : memref<2x3x7x7xf32>) outs(%y : memref<1x3x1x1xf32>)
  func.return
}

// CHECK: {{^}}output batch and channels (1, 3) must equal the input's (2, 3){{$}}
// CHECK: Operation does not verify: output batch and channels (1, 3) must equal the input's (2, 3)

// -----

// nn.adaptive_avg_pool2d: a non-empty output
func.func @layer(%x: memref<2x3x7x7xf32>, %y: memref<2x3x0x1xf32>) {
  nn.adaptive_avg_pool2d ins(%x : memref<2x3x7x7xf32>) outs(%y : memref<2x3x0x1xf32>)
  func.return
}

// CHECK: {{^}}output size 0x1 must be at least 1x1{{$}}
// CHECK: Operation does not verify: output size 0x1 must be at least 1x1

// -----

// nn.add: the operands share one shape
func.func @layer(%a: memref<2x3x4x4xf32>, %b: memref<2x3x4x2xf32>, %y: memref<2x3x4x4xf32>) {
  nn.add ins(%a, %b : memref<2x3x4x4xf32>, memref<2x3x4x2xf32>) outs(%y : memref<2x3x4x4xf32>) activation relu
  func.return
}

// CHECK: {{^}}rhs shape [2, 3, 4, 2] must equal the lhs shape [2, 3, 4, 4]{{$}}
// CHECK: Operation does not verify: rhs shape [2, 3, 4, 2] must equal the lhs shape [2, 3, 4, 4]

// -----

// nn.add: so does the output
func.func @layer(%a: memref<2x3x4x4xf32>, %b: memref<2x3x4x4xf32>, %y: memref<2x3x16xf32>) {
  nn.add ins(%a, %b : memref<2x3x4x4xf32>, memref<2x3x4x4xf32>) outs(%y : memref<2x3x16xf32>) activation none
  func.return
}

// CHECK: {{^}}output shape [2, 3, 16] must equal the lhs shape [2, 3, 4, 4]{{$}}
// CHECK: Operation does not verify: output shape [2, 3, 16] must equal the lhs shape [2, 3, 4, 4]

// -----

// nn.activation: shape kept
func.func @layer(%x: memref<2x3x4x4xf32>, %y: memref<2x3x4x5xf32>) {
  nn.activation ins(%x : memref<2x3x4x4xf32>) outs(%y : memref<2x3x4x5xf32>) activation relu
  func.return
}

// CHECK: {{^}}output shape [2, 3, 4, 5] must equal the input shape [2, 3, 4, 4]{{$}}
// CHECK: Operation does not verify: output shape [2, 3, 4, 5] must equal the input shape [2, 3, 4, 4]

// -----

// nn.activation: none is no activation
func.func @layer(%x: memref<2x3x4x4xf32>, %y: memref<2x3x4x4xf32>) {
  nn.activation ins(%x : memref<2x3x4x4xf32>) outs(%y : memref<2x3x4x4xf32>) activation none
  func.return
}

// CHECK: {{^}}activation none is a copy: use nn.reshape, or drop the op{{$}}
// CHECK: Operation does not verify: activation none is a copy: use nn.reshape, or drop the op

// -----

// nn.concat: at least one input (generic form: the custom one cannot say it)
func.func @layer(%y: memref<2x8x4x4xf32>) {
  "nn.concat"(%y) : (memref<2x8x4x4xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.concat needs at least one input{{$}}
// CHECK: Operation does not verify: nn.concat needs at least one input

// -----

// nn.concat: along axis 1 by default, so the output has two axes or more
func.func @layer(%a: memref<8xf32>, %y: memref<8xf32>) {
  nn.concat ins(%a : memref<8xf32>) outs(%y : memref<8xf32>)
  func.return
}

// CHECK: {{^}}axis 1 must be a dim of the output memref<8xf32>{{$}}
// CHECK: Operation does not verify: axis 1 must be a dim of the output memref<8xf32>

// -----

// nn.concat along another axis: the other axes match
func.func @layer(%a: memref<2x3x4x4xf32>, %y: memref<2x3x4x9xf32>) {
  nn.concat ins(%a, %a : memref<2x3x4x4xf32>, memref<2x3x4x4xf32>) outs(%y : memref<2x3x4x9xf32>) axis 3
  func.return
}

// CHECK: {{^}}output axis 3 has size 9, expected the sum of the inputs' sizes 8{{$}}
// CHECK: Operation does not verify: output axis 3 has size 9, expected the sum of the inputs' sizes 8

// -----

// nn.concat: the other axes match
func.func @layer(%a: memref<2x3x4x4xf32>, %c: memref<2x5x4x3xf32>, %y: memref<2x8x4x4xf32>) {
  nn.concat ins(%a, %c : memref<2x3x4x4xf32>, memref<2x5x4x3xf32>) outs(%y : memref<2x8x4x4xf32>)
  func.return
}

// CHECK: {{^}}input 1 shape [2, 5, 4, 3] must equal the output shape [2, 8, 4, 4] except along axis 1{{$}}
// CHECK: Operation does not verify: input 1 shape [2, 5, 4, 3] must equal the output shape [2, 8, 4, 4] except along axis 1

// -----

// nn.concat: axis 1 is the sum of the inputs'
func.func @layer(%a: memref<2x3x4x4xf32>, %c: memref<2x5x4x4xf32>, %y: memref<2x9x4x4xf32>) {
  nn.concat ins(%a, %c : memref<2x3x4x4xf32>, memref<2x5x4x4xf32>) outs(%y : memref<2x9x4x4xf32>)
  func.return
}

// CHECK: {{^}}output axis 1 has size 9, expected the sum of the inputs' sizes 8{{$}}
// CHECK: Operation does not verify: output axis 1 has size 9, expected the sum of the inputs' sizes 8

// -----

// nn.reshape: same element count
func.func @layer(%x: memref<2x8x4x4xf32>, %y: memref<2x100xf32>) {
  nn.reshape ins(%x : memref<2x8x4x4xf32>) outs(%y : memref<2x100xf32>)
  func.return
}

// CHECK: {{^}}output memref<2x100xf32> holds 200 elements, input memref<2x8x4x4xf32> holds 256{{$}}
// CHECK: Operation does not verify: output memref<2x100xf32> holds 200 elements, input memref<2x8x4x4xf32> holds 256

// -----

// nn.linear: 2-d NxK input
func.func @layer(%x: memref<2x8x4x4xf32>, %y: memref<2x10xf32>) {
  nn.linear ins(%x : memref<2x8x4x4xf32>) outs(%y : memref<2x10xf32>) activation none weights dense<0.5> : tensor<1280xf32>
  func.return
}

// CHECK: {{^}}input must be a 2-d NxK memref, got memref<2x8x4x4xf32>{{$}}
// CHECK: Operation does not verify: input must be a 2-d NxK memref, got memref<2x8x4x4xf32>

// -----

// nn.linear: one batch size
func.func @layer(%x: memref<2x128xf32>, %y: memref<3x10xf32>) {
  nn.linear ins(%x : memref<2x128xf32>) outs(%y : memref<3x10xf32>) activation none weights dense<0.5> : tensor<1280xf32>
  func.return
}

// CHECK: {{^}}batch sizes differ: input has 2, output has 3{{$}}
// CHECK: Operation does not verify: batch sizes differ: input has 2, output has 3

// -----

// nn.linear: M x K weights
func.func @layer(%x: memref<2x128xf32>, %y: memref<2x10xf32>) {
  nn.linear ins(%x : memref<2x128xf32>) outs(%y : memref<2x10xf32>) activation relu weights dense<0.5> : tensor<1270xf32>
  func.return
}

// CHECK: {{^}}weights: 1270 values, expected 1280{{$}}
// CHECK: Operation does not verify: weights: 1270 values, expected 1280

// -----

// nn.linear: M biases
func.func @layer(%x: memref<2x128xf32>, %y: memref<2x10xf32>) {
  nn.linear ins(%x : memref<2x128xf32>) outs(%y : memref<2x10xf32>) activation none weights dense<0.5> : tensor<1280xf32> bias dense<0.0> : tensor<128xf32>
  func.return
}

// CHECK: {{^}}bias: 128 values, expected 10{{$}}
// CHECK: Operation does not verify: bias: 128 values, expected 10

// -----

// nn.softmax: the axis is one of the input's
func.func @layer(%x: memref<2x10x1xf32>, %y: memref<2x10x1xf32>) {
  nn.softmax ins(%x : memref<2x10x1xf32>) outs(%y : memref<2x10x1xf32>) axis 3 log
  func.return
}

// CHECK: {{^}}axis 3 must be a dim of the 3-d input{{$}}
// CHECK: Operation does not verify: axis 3 must be a dim of the 3-d input

// -----

// nn.softmax: shape kept
func.func @layer(%x: memref<2x10xf32>, %y: memref<2x9xf32>) {
  nn.softmax ins(%x : memref<2x10xf32>) outs(%y : memref<2x9xf32>)
  func.return
}

// CHECK: {{^}}output shape [2, 9] must equal the input shape [2, 10]{{$}}
// CHECK: Operation does not verify: output shape [2, 9] must equal the input shape [2, 10]

// -----

// nn.constant: one value per element of its buffer (inline)
func.func @layer(%c: memref<1x4x1x1xf32>) {
  nn.constant outs(%c : memref<1x4x1x1xf32>) weights dense<1.0> : tensor<3xf32>
  func.return
}

// CHECK: {{^}}weights: 3 values, expected 4{{$}}
// CHECK: Operation does not verify: weights: 3 values, expected 4

// -----

// nn.constant: one value per element of its buffer (blob bytes)
func.func @layer(%c: memref<2x3xf32>) {
  nn.constant outs(%c : memref<2x3xf32>) weights #pattern.blob<"w", offset = 0, size = 20, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff">
  func.return
}

// CHECK: {{^}}weights blob holds 20 bytes, expected 24 (6 f32 values){{$}}
// CHECK: Operation does not verify: weights blob holds 20 bytes, expected 24 (6 f32 values)

// -----

// valid: the checks above are not over-eager (avg pooling may pad by half the kernel, ceil division of 7)
func.func @layer(%x: memref<2x3x7x7xf32>, %y: memref<2x3x4x4xf32>, %g: memref<2x3x3x2xf32>) {
  nn.pool2d ins(%x : memref<2x3x7x7xf32>) outs(%y : memref<2x3x4x4xf32>) kind avg kernel [2, 2] stride [2, 2] padding [1, 1]
  nn.adaptive_avg_pool2d ins(%x : memref<2x3x7x7xf32>) outs(%g : memref<2x3x3x2xf32>)
  func.return
}

// CHECK:      func.func @layer
// CHECK-NEXT:   nn.pool2d ins(%x : memref<2x3x7x7xf32>) outs(%y : memref<2x3x4x4xf32>) kind avg kernel [2, 2] stride [2, 2] padding [1, 1]
// CHECK-NEXT:   nn.adaptive_avg_pool2d
// CHECK-NOT:  does not verify

// -----

// nn.permute: perm is a permutation of the input's dims
func.func @layer(%x: memref<2x3x4xf32>, %y: memref<2x4x3xf32>) {
  nn.permute ins(%x : memref<2x3x4xf32>) outs(%y : memref<2x4x3xf32>) perm [0, 2, 2]
  func.return
}

// CHECK: {{^}}perm [0, 2, 2] must be a permutation of the 3 input dims{{$}}
// CHECK: Operation does not verify: perm [0, 2, 2] must be a permutation of the 3 input dims

// -----

// nn.slice: the selection stays inside the input
func.func @layer(%x: memref<2x6x5xf32>, %y: memref<2x3x5xf32>) {
  nn.slice ins(%x : memref<2x6x5xf32>) outs(%y : memref<2x3x5xf32>) axis 1 start 2 step 2
  func.return
}

// CHECK: {{^}}start 2, step 2 and size 3 must select within the input's 6{{$}}
// CHECK: Operation does not verify: start 2, step 2 and size 3 must select within the input's 6

// -----

// nn.layer_norm: one weight per element of the normalised dims
func.func @layer(%x: memref<2x6x5xf32>, %y: memref<2x6x5xf32>) {
  nn.layer_norm ins(%x : memref<2x6x5xf32>) outs(%y : memref<2x6x5xf32>) axes [1, 2] eps 1.0e-05 weights dense<1.0> : tensor<6xf32>
  func.return
}

// CHECK: {{^}}weights: 6 values, expected 30{{$}}
// CHECK: Operation does not verify: weights: 6 values, expected 30

// -----

// nn.scale_shift: one scale per channel (axis 1)
func.func @layer(%x: memref<2x6x5xf32>, %y: memref<2x6x5xf32>) {
  nn.scale_shift ins(%x : memref<2x6x5xf32>) outs(%y : memref<2x6x5xf32>) activation none weights dense<1.0> : tensor<5xf32>
  func.return
}

// CHECK: {{^}}weights: 5 values, expected 6{{$}}
// CHECK: Operation does not verify: weights: 5 values, expected 6
