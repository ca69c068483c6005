// RUN: patdnn-opt %s --split-input-file --verify-diagnostics | filecheck %s

// One chunk per verifier error of the pattern dialect. Attribute verifiers (library, blob) run
// while parsing and print the bare message; op verifiers print the message, then the module with
// "Operation does not verify: <message>" under the op. The valid chunks in between are printed as IR.

// library: a mask with 8 entries in a 3x3 library
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|00"]>
      kernels [[0, 0], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}pattern mask 0 ("01011100") has 8 entries, expected 9 for a 3x3 kernel{{$}}

// -----

// library: a mask with 10 entries
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "0101|111|000"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}pattern mask 1 ("0101111000") has 10 entries, expected 9 for a 3x3 kernel{{$}}

// -----

// library: a character other than 0/1
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|121|000"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}pattern mask 0 ("010121000") may only contain 0 and 1{{$}}

// -----

// library: no masks at all
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, []>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}pattern library is empty: it needs at least one mask{{$}}

// -----

// library: a mask that keeps nothing
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "000|000|000"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}pattern mask 1 ("000|000|000") keeps no entry{{$}}

// -----

// library: an empty mask string
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, [""]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}pattern mask 0 ("") has 0 entries, expected 9 for a 3x3 kernel{{$}}

// -----

// library: duplicate masks (reported with both indices)
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010", "010|111|000"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}pattern masks 0 and 2 are identical ("010|111|000"){{$}}

// -----

// library: a mask without the centre
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "110|101|000"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}pattern mask 1 ("110|101|000") does not keep the centre entry (add `off_centre` to the library to allow it){{$}}

// -----

// library: the same mask is valid with off_centre
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "110|101|000"], off_centre>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>)
// CHECK-SAME: library #pattern.library<3x3, ["010|111|000", "110|101|000"], off_centre> kernels {{\[}}[0, 1], [-1, 0]]

// -----

// library: kernel size above 7
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<8x8, ["1"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}pattern library kernel size 8x8 is not supported (1x1 to 7x7){{$}}

// -----

// library: an even kernel has no centre, so no off_centre is needed (valid)
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x6x6xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x6x6xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<2x2, ["10|01", "01|10"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32>
  func.return
}

// CHECK: library #pattern.library<2x2, ["10|01", "01|10"]> kernels {{\[}}[0, 1], [-1, 0]]

// -----

// conv2d: a 3-d input
func.func @layer(%x: memref<2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}input must be a static 4-d NCHW memref, got memref<2x5x5xf32>{{$}}
// CHECK: Operation does not verify: input must be a static 4-d NCHW memref, got memref<2x5x5xf32>

// -----

// conv2d: a dynamic batch
func.func @layer(%x: memref<?x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<?x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}input must be a static 4-d NCHW memref, got memref<?x2x5x5xf32>{{$}}
// CHECK: Operation does not verify: input must be a static 4-d NCHW memref, got memref<?x2x5x5xf32>

// -----

// conv2d: an f64 output
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf64>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf64>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}output element type must be f32, got f64{{$}}
// CHECK: Operation does not verify: output element type must be f32, got f64

// -----

// conv2d: an f16 input
func.func @layer(%x: memref<1x2x5x5xf16>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf16>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}input element type must be f32, got f16{{$}}
// CHECK: Operation does not verify: input element type must be f32, got f16

// -----

// conv2d: batch mismatch
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<2x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<2x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}batch sizes differ: input has 1, output has 2{{$}}
// CHECK: Operation does not verify: batch sizes differ: input has 1, output has 2

// -----

// conv2d: stride 0
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [0, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}stride [0, 1] must be two integers >= 1{{$}}
// CHECK: Operation does not verify: stride [0, 1] must be two integers >= 1

// -----

// conv2d: a one-element stride
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}stride [1] must be two integers >= 1{{$}}
// CHECK: Operation does not verify: stride [1] must be two integers >= 1

// -----

// conv2d: negative padding
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, -1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}padding [1, -1] must be two integers >= 0{{$}}
// CHECK: Operation does not verify: padding [1, -1] must be two integers >= 0

// -----

// conv2d: three padding values
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}padding [1, 1, 1] must be two integers >= 0{{$}}
// CHECK: Operation does not verify: padding [1, 1, 1] must be two integers >= 0

// -----

// conv2d: dilation 2 spreads the 3x3 kernel over 5x5 inputs: the output size must follow
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] dilation [2, 2] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}output height 5 does not match the input: (5 + 2*1 - (2*(3 - 1) + 1)) / 1 + 1 = 3{{$}}
// CHECK: Operation does not verify: output height 5 does not match the input: (5 + 2*1 - (2*(3 - 1) + 1)) / 1 + 1 = 3

// -----

// conv2d: dilation 0
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] dilation [1, 0] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}dilation [1, 0] must be two integers >= 1{{$}}
// CHECK: Operation does not verify: dilation [1, 0] must be two integers >= 1

// -----

// conv2d: output height
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x4x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x4x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}output height 4 does not match the input: (5 + 2*1 - 3) / 1 + 1 = 5{{$}}
// CHECK: Operation does not verify: output height 4 does not match the input: (5 + 2*1 - 3) / 1 + 1 = 5

// -----

// conv2d: output width
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x3xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x3xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}output width 3 does not match the input: (5 + 2*1 - 3) / 1 + 1 = 5{{$}}
// CHECK: Operation does not verify: output width 3 does not match the input: (5 + 2*1 - 3) / 1 + 1 = 5

// -----

// conv2d: output width with stride 2 (expected 3, not 2)
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x3x2xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x3x2xf32>) stride [2, 2] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}output width 2 does not match the input: (5 + 2*1 - 3) / 2 + 1 = 3{{$}}
// CHECK: Operation does not verify: output width 2 does not match the input: (5 + 2*1 - 3) / 2 + 1 = 3

// -----

// conv2d: stride 2 with the right output size is valid
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x3x3xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x3x3xf32>) stride [2, 2] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x3x3xf32>) stride [2, 2] padding [1, 1] activation relu

// -----

// conv2d: input too small (height checked first)
func.func @layer(%x: memref<1x2x1x1xf32>, %y: memref<1x2x1x1xf32>) {
  pattern.conv2d ins(%x : memref<1x2x1x1xf32>) outs(%y : memref<1x2x1x1xf32>) stride [1, 1] padding [0, 0] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}input height 1 is too small for a 3x3 kernel with padding 0{{$}}
// CHECK: Operation does not verify: input height 1 is too small for a 3x3 kernel with padding 0

// -----

// conv2d: input width too small
func.func @layer(%x: memref<1x2x5x1xf32>, %y: memref<1x2x3x1xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x1xf32>) outs(%y : memref<1x2x3x1xf32>) stride [1, 1] padding [0, 0] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}input width 1 is too small for a 3x3 kernel with padding 0{{$}}
// CHECK: Operation does not verify: input width 1 is too small for a 3x3 kernel with padding 0

// -----

// conv2d: 3 pattern ids for 2x2 kernels
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}kernels has 3 pattern ids, expected 2x2 = 4 (one per out/in channel pair){{$}}
// CHECK: Operation does not verify: kernels has 3 pattern ids, expected 2x2 = 4 (one per out/in channel pair)

// -----

// conv2d: 5 pattern ids for 2x2 kernels (flat form)
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [0, 1, -1, 0, 0] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}kernels has 5 pattern ids, expected 2x2 = 4 (one per out/in channel pair){{$}}
// CHECK: Operation does not verify: kernels has 5 pattern ids, expected 2x2 = 4 (one per out/in channel pair)

// -----

// conv2d: pattern id past the library
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 2], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}kernel (0, 1) has pattern id 2, expected -1 (removed) or 0..1 (library size 2){{$}}
// CHECK: Operation does not verify: kernel (0, 1) has pattern id 2, expected -1 (removed) or 0..1 (library size 2)

// -----

// conv2d: pattern id below -1
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-2, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}kernel (1, 0) has pattern id -2, expected -1 (removed) or 0..1 (library size 2){{$}}
// CHECK: Operation does not verify: kernel (1, 0) has pattern id -2, expected -1 (removed) or 0..1 (library size 2)

// -----

// conv2d: too few inline weights
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  func.return
}

// CHECK: {{^}}weights: 4 values, expected 12{{$}}
// CHECK: Operation does not verify: weights: 4 values, expected 12

// -----

// conv2d: too many inline weights (one more removed kernel)
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, -1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}

// CHECK: {{^}}weights: 12 values, expected 8{{$}}
// CHECK: Operation does not verify: weights: 12 values, expected 8

// -----

// conv2d: f64 weights
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf64>
  func.return
}

// CHECK: {{^}}weights must be f32, got f64{{$}}
// CHECK: Operation does not verify: weights must be f32, got f64

// -----

// conv2d: blob weights of the wrong size
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"model.weights", offset = 0, size = 44, sha256 = "abababababababababababababababababababababababababababababababab">
  func.return
}

// CHECK: {{^}}weights blob holds 44 bytes, expected 48 (12 f32 values){{$}}
// CHECK: Operation does not verify: weights blob holds 44 bytes, expected 48 (12 f32 values)

// -----

// conv2d: wrong inline bias count
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32> bias dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  func.return
}

// CHECK: {{^}}bias: 3 values, expected 2{{$}}
// CHECK: Operation does not verify: bias: 3 values, expected 2

// -----

// conv2d: wrong blob bias size
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32> bias #pattern.blob<"model.weights", offset = 48, size = 4, sha256 = "abababababababababababababababababababababababababababababababab">
  func.return
}

// CHECK: {{^}}bias blob holds 4 bytes, expected 8 (2 f32 values){{$}}
// CHECK: Operation does not verify: bias blob holds 4 bytes, expected 8 (2 f32 values)

// -----

// blob: upper-case sha256
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"model.weights", offset = 0, size = 48, sha256 = "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB">
  func.return
}

// CHECK: {{^}}weights blob sha256 "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB" must be 64 lower-case hexadecimal digits{{$}}

// -----

// blob: short sha256
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"model.weights", offset = 0, size = 48, sha256 = "abc">
  func.return
}

// CHECK: {{^}}weights blob sha256 "abc" must be 64 lower-case hexadecimal digits{{$}}

// -----

// blob: non-hex sha256 of the right length
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"model.weights", offset = 0, size = 48, sha256 = "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg">
  func.return
}

// CHECK: {{^}}weights blob sha256 "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg" must be 64 lower-case hexadecimal digits{{$}}

// -----

// blob: misaligned offset
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"model.weights", offset = 2, size = 48, sha256 = "abababababababababababababababababababababababababababababababab">
  func.return
}

// CHECK: {{^}}weights blob offset 2 must be a non-negative multiple of 4{{$}}

// -----

// blob: negative offset
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"model.weights", offset = -4, size = 48, sha256 = "abababababababababababababababababababababababababababababababab">
  func.return
}

// CHECK: {{^}}weights blob offset -4 must be a non-negative multiple of 4{{$}}

// -----

// blob: negative size
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"model.weights", offset = 0, size = -4, sha256 = "abababababababababababababababababababababababababababababababab">
  func.return
}

// CHECK: {{^}}weights blob size -4 must be non-negative{{$}}

// -----

// blob: empty file name
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"", offset = 0, size = 48, sha256 = "abababababababababababababababababababababababababababababababab">
  func.return
}

// CHECK: {{^}}weights blob file name is empty{{$}}

// -----

// blob weights and blob bias of the right sizes are valid
func.func @layer(%x: memref<1x2x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x2x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights #pattern.blob<"model.weights", offset = 0, size = 48, sha256 = "abababababababababababababababababababababababababababababababab"> bias #pattern.blob<"model.weights", offset = 48, size = 8, sha256 = "abababababababababababababababababababababababababababababababab">
  func.return
}

// CHECK: weights #pattern.blob<"model.weights", offset = 0, size = 48, sha256 = "abababababababababababababababababababababababababababababababab">
// CHECK-SAME: bias #pattern.blob<"model.weights", offset = 48, size = 8, sha256 = "abababababababababababababababababababababababababababababababab">
