// RUN: patdnn-opt %s | filecheck %s
// RUN: patdnn-opt %s -t "c{isa=neon}" | filecheck %s --check-prefix=C
// RUN: patdnn-opt %s -p plan-buffers -t "opencl" | filecheck %s --check-prefix=CL

// nn.prelu: per-channel slopes on NCHW (outer 2, channels 5, inner 7 * 9 = 63), one shared slope
// on NxK (outer 2, channels 7, inner 1).

func.func @prelu(%x : memref<2x5x7x9xf32>, %y : memref<2x5x7x9xf32>, %a : memref<2x7xf32>, %b : memref<2x7xf32>) {
  nn.prelu ins(%x : memref<2x5x7x9xf32>) outs(%y : memref<2x5x7x9xf32>) weights dense<[0.25, -0.5, 1.0, 0.0, 2.0]> : tensor<5xf32>
  nn.prelu ins(%a : memref<2x7xf32>) outs(%b : memref<2x7xf32>) weights dense<0.25> : tensor<1xf32>
  func.return
}

// CHECK: nn.prelu ins(%x : memref<2x5x7x9xf32>) outs(%y : memref<2x5x7x9xf32>) weights dense<[2.500000e-01, -5.000000e-01, 1.000000e+00, 0.000000e+00, 2.000000e+00]> : tensor<5xf32>
// CHECK: nn.prelu ins(%a : memref<2x7xf32>) outs(%b : memref<2x7xf32>) weights dense<2.500000e-01> : tensor<1xf32>

// C: pdnn_prelu(ctx, arg_x, arg_y, nn0_prelu_w, 2, 5, 63, 5);
// C: pdnn_prelu(ctx, arg_a, arg_b, nn1_prelu_w, 2, 7, 1, 1);

// CL: g[2] = {64, 10}
// CL: g[2] = {64, 14}
// CL: __kernel void pdnn_prelu(
// CL: PDNN_CL_BUF(nn0_prelu_w_cl), PDNN_CL_INT(5), PDNN_CL_INT(63), PDNN_CL_INT(5)}; {{.*}}"pdnn_prelu", "nn.prelu"
// CL: PDNN_CL_BUF(nn1_prelu_w_cl), PDNN_CL_INT(7), PDNN_CL_INT(1), PDNN_CL_INT(1)}; {{.*}}"pdnn_prelu", "nn.prelu"
