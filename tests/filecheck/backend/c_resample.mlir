// RUN: patdnn-opt %s -p lower-pattern-to-kernel,plan-buffers -t "c{isa=scalar}" | filecheck %s
// RUN: patdnn-opt %s -p lower-pattern-to-kernel,plan-buffers -t opencl | filecheck %s --check-prefix=CL
// RUN: patdnn-opt %s -p lower-pattern-to-kernel | filecheck %s --check-prefix=KERNEL

// Convolution variants, resampling and pooling modes: a dilated conv calls the dense conv with its
// dilation (after the padding), pooling with ceil_mode / exclude_padding
// takes PyTorch's window loop while plain pooling keeps the fast one, a transposed conv and the
// upsamplings pass the f32 source scales PyTorch computes (C: hex literals, OpenCL: their bits as
// integer arguments; 1/1.5 = 0x1.555556p-1 = 1059760811, (15-1)/(9-1) = 1.75 = 1071644672). A
// dilated pattern conv shifts its input planes by tap column * dilation (pdnn_shift_input_dilated)
// and reads kernel row r at input row r * dilation; on OpenCL its taps are dilation apart in the
// padded input of 18 columns (kernel row 1: 3 * 18 = 54 floats down; kernel column 1: 3 floats right).

// CHECK:      conv0: 2 -> 2 channels, 9x9 -> 9x9, stride [1, 1], padding [3, 3], dilation [3, 3], none;
// CHECK:      pdnn_shift_input_dilated(ctx, in + (int64_t)n * 162, patdnn_scratch, 2, 9, 9, 3, 1, 3, y_begin * 1 - 3, 3, 15, 9);
// CHECK:      pdnn_conv2d_dense(ctx, arg_x, {{.*}}, nn0_conv_w, NULL, NULL, 1, 2, 9, 9, 2, 9, 9, 3, 3, 1, 1, 2, 2, 2, 2, 1, PDNN_ACT_RELU);
// CHECK:      pdnn_pool2d_window(ctx, {{.*}}, PDNN_POOL_AVG, 1, 2, 9, 9, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1);
// CHECK:      pdnn_pool2d(ctx, {{.*}}, PDNN_POOL_MAX, 1, 2, 9, 9, 5, 5, 3, 3, 2, 2, 1, 1);
// CHECK:      pdnn_conv_transpose2d(ctx, {{.*}}, nn1_convt_w, NULL, 1, 2, 5, 5, 2, 10, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, PDNN_ACT_NONE);
// CHECK:      pdnn_upsample2d(ctx, {{.*}}, PDNN_UPSAMPLE_NEAREST, 0, 1, 2, 10, 10, 15, 15, 0x1.5555560000000p-1f, 0x1.5555560000000p-1f);
// CHECK:      pdnn_upsample2d(ctx, {{.*}}, PDNN_UPSAMPLE_BILINEAR, 1, 1, 2, 15, 15, 9, 9, 0x1.c000000000000p+0f, 0x1.c000000000000p+0f);
// CHECK:      conv0(ctx,

// KERNEL:      kernel.pattern_conv {{.*}}dilation = array<i64: 3, 3>
// KERNEL:      kernel.pattern_body attributes {pattern = 0 : i64} {
// KERNEL-NEXT:   %0 = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// KERNEL-NEXT:   kernel.fma %0 {entry = 0 : i64, acc_row = 0 : i64}
// KERNEL-NEXT:   %1 = kernel.load_tap {row = 3 : i64, col = 0 : i64}

// CL:      conv0: 2 -> 2 channels, 9x9 -> 9x9, stride [1, 1], padding [3, 3], dilation [3, 3], none;
// CL:      "    {{.*}}pattern 0: 010|111|000
// CL:      "      const real i3 = ip[3];\n"
// CL:      "      const real i54 = ip[54];\n"
// CL:      "      const real i57 = ip[57];\n"
// CL:      "      const real i60 = ip[60];\n"
// CL:      PDNN_CL_INT(3), PDNN_CL_INT(3), PDNN_CL_INT(1), PDNN_CL_INT(1), PDNN_CL_INT(2), PDNN_CL_INT(2), PDNN_CL_INT(2), PDNN_CL_INT(2), PDNN_CL_INT(1), PDNN_CL_INT(1)}; {{.*}} "pdnn_conv2d", "nn.conv2d", a, 24); }
// CL-NEXT: PDNN_CL_INT(3), PDNN_CL_INT(3), PDNN_CL_INT(2), PDNN_CL_INT(2), PDNN_CL_INT(1), PDNN_CL_INT(1), PDNN_CL_INT(1), PDNN_CL_INT(1), PDNN_CL_INT(1)}; {{.*}} "pdnn_pool2d", "nn.pool2d", a, 18); }
// CL-NEXT: PDNN_CL_INT(1), PDNN_CL_INT(1), PDNN_CL_INT(0)}; {{.*}} "pdnn_pool2d", "nn.pool2d", a, 18); }
// CL:      "pdnn_conv_transpose2d", "nn.conv_transpose2d", a, 22); }
// CL-NEXT: PDNN_CL_INT(1059760811), PDNN_CL_INT(1059760811)}; {{.*}} "pdnn_upsample2d", "nn.upsample2d", a, 12); }
// CL-NEXT: PDNN_CL_INT(1071644672), PDNN_CL_INT(1071644672)}; {{.*}} "pdnn_upsample2d", "nn.upsample2d", a, 12); }

func.func @net(%x : memref<1x2x9x9xf32>, %out : memref<1x2x9x9xf32>) {
  %a = memref.alloc() : memref<1x2x9x9xf32>
  nn.conv2d ins(%x : memref<1x2x9x9xf32>) outs(%a : memref<1x2x9x9xf32>) kernel [3, 3] stride [1, 1] padding [2, 2] dilation [2, 2] groups 1 activation relu weights dense<0.5> : tensor<36xf32>
  %p = memref.alloc() : memref<1x2x5x5xf32>
  nn.pool2d ins(%a : memref<1x2x9x9xf32>) outs(%p : memref<1x2x5x5xf32>) kind avg kernel [3, 3] stride [2, 2] padding [1, 1] ceil_mode exclude_padding
  %q = memref.alloc() : memref<1x2x5x5xf32>
  nn.pool2d ins(%a : memref<1x2x9x9xf32>) outs(%q : memref<1x2x5x5xf32>) kind max kernel [3, 3] stride [2, 2] padding [1, 1]
  %t = memref.alloc() : memref<1x2x10x10xf32>
  nn.conv_transpose2d ins(%p : memref<1x2x5x5xf32>) outs(%t : memref<1x2x10x10xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] output_padding [1, 1] groups 1 activation none weights dense<0.25> : tensor<36xf32>
  %u = memref.alloc() : memref<1x2x15x15xf32>
  nn.upsample2d ins(%t : memref<1x2x10x10xf32>) outs(%u : memref<1x2x15x15xf32>) mode nearest scale [1.5, 1.5]
  %v = memref.alloc() : memref<1x2x9x9xf32>
  nn.upsample2d ins(%u : memref<1x2x15x15xf32>) outs(%v : memref<1x2x9x9xf32>) mode bilinear align_corners
  pattern.conv2d ins(%v : memref<1x2x9x9xf32>) outs(%out : memref<1x2x9x9xf32>) stride [1, 1] padding [3, 3] dilation [3, 3] activation none
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<12xf32>
  func.return
}
