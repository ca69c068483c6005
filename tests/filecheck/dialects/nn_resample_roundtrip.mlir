// RUN: patdnn-opt %s | patdnn-opt | filecheck %s
// RUN: patdnn-opt %s --print-op-generic | patdnn-opt | filecheck %s

// Convolution variants, resampling and pooling modes round-trip through the custom and the generic
// form: a dilated (depthwise) conv, pooling with dilation / ceil_mode / exclude_padding, a
// transposed conv, nearest upsampling by a scale and bilinear upsampling with align_corners. The
// defaults (dilation [1, 1], floor mode, count_include_pad) print nothing, so older text is unchanged.

// CHECK-LABEL: func.func @resample
// CHECK-NEXT:    nn.conv2d ins(%x : memref<1x4x9x9xf32>) outs(%a : memref<1x4x9x9xf32>) kernel [3, 3] stride [1, 1] padding [2, 2] dilation [2, 2] groups 4 activation relu weights
// CHECK-NEXT:    nn.conv2d ins(%x : memref<1x4x9x9xf32>) outs(%a : memref<1x4x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 4 activation none weights
// CHECK-NEXT:    nn.pool2d ins(%x : memref<1x4x9x9xf32>) outs(%p : memref<1x4x5x5xf32>) kind avg kernel [3, 3] stride [2, 2] padding [1, 1] ceil_mode exclude_padding{{$}}
// CHECK-NEXT:    nn.pool2d ins(%x : memref<1x4x9x9xf32>) outs(%q : memref<1x4x3x3xf32>) kind max kernel [3, 3] stride [2, 2] padding [0, 0] dilation [2, 2] ceil_mode{{$}}
// CHECK-NEXT:    nn.pool2d ins(%x : memref<1x4x9x9xf32>) outs(%r : memref<1x4x4x4xf32>) kind max kernel [3, 3] stride [2, 2] padding [0, 0]{{$}}
// CHECK-NEXT:    nn.conv_transpose2d ins(%x : memref<1x4x9x9xf32>) outs(%t : memref<1x2x18x18xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] output_padding [1, 1] groups 2 activation relu weights
// CHECK-NEXT:    nn.upsample2d ins(%x : memref<1x4x9x9xf32>) outs(%u : memref<1x4x13x13xf32>) mode nearest scale [1.5, 1.5]{{$}}
// CHECK-NEXT:    nn.upsample2d ins(%x : memref<1x4x9x9xf32>) outs(%v : memref<1x4x4x17xf32>) mode bilinear align_corners {layer = "up"}
func.func @resample(%x : memref<1x4x9x9xf32>, %a : memref<1x4x9x9xf32>, %p : memref<1x4x5x5xf32>, %q : memref<1x4x3x3xf32>, %r : memref<1x4x4x4xf32>, %t : memref<1x2x18x18xf32>, %u : memref<1x4x13x13xf32>, %v : memref<1x4x4x17xf32>) {
  nn.conv2d ins(%x : memref<1x4x9x9xf32>) outs(%a : memref<1x4x9x9xf32>) kernel [3, 3] stride [1, 1] padding [2, 2] dilation [2, 2] groups 4 activation relu weights dense<1.0> : tensor<36xf32>
  nn.conv2d ins(%x : memref<1x4x9x9xf32>) outs(%a : memref<1x4x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] dilation [1, 1] groups 4 activation none weights dense<1.0> : tensor<36xf32>
  nn.pool2d ins(%x : memref<1x4x9x9xf32>) outs(%p : memref<1x4x5x5xf32>) kind avg kernel [3, 3] stride [2, 2] padding [1, 1] ceil_mode exclude_padding
  nn.pool2d ins(%x : memref<1x4x9x9xf32>) outs(%q : memref<1x4x3x3xf32>) kind max kernel [3, 3] stride [2, 2] padding [0, 0] dilation [2, 2] ceil_mode
  nn.pool2d ins(%x : memref<1x4x9x9xf32>) outs(%r : memref<1x4x4x4xf32>) kind max kernel [3, 3] stride [2, 2] padding [0, 0]
  nn.conv_transpose2d ins(%x : memref<1x4x9x9xf32>) outs(%t : memref<1x2x18x18xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] output_padding [1, 1] groups 2 activation relu weights dense<1.0> : tensor<36xf32>
  nn.upsample2d ins(%x : memref<1x4x9x9xf32>) outs(%u : memref<1x4x13x13xf32>) mode nearest scale [1.5, 1.5]
  nn.upsample2d ins(%x : memref<1x4x9x9xf32>) outs(%v : memref<1x4x4x17xf32>) mode bilinear align_corners {layer = "up"}
  func.return
}
