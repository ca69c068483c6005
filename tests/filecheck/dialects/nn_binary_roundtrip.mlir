// RUN: patdnn-opt %s | filecheck %s
// RUN: patdnn-opt %s -t "c{isa=neon}" | filecheck %s --check-prefix=C
// RUN: patdnn-opt %s -p plan-buffers -t "opencl" | filecheck %s --check-prefix=CL

// nn.binary: broadcast inputs are read with stride 0 (SE's (N,C,1,1) scale: strides 5, 1, 0, 0).

func.func @se(%x : memref<2x5x7x9xf32>, %s : memref<2x5x1x1xf32>, %y : memref<2x5x7x9xf32>, %c : memref<1xf32>) {
  nn.binary ins(%x, %s : memref<2x5x7x9xf32>, memref<2x5x1x1xf32>) outs(%y : memref<2x5x7x9xf32>) kind mul activation hardsigmoid
  nn.binary ins(%c, %x : memref<1xf32>, memref<2x5x7x9xf32>) outs(%y : memref<2x5x7x9xf32>) kind sub activation leaky_relu(0.5)
  func.return
}

// CHECK: nn.binary ins(%x, %s : memref<2x5x7x9xf32>, memref<2x5x1x1xf32>) outs(%y : memref<2x5x7x9xf32>) kind mul activation hardsigmoid
// CHECK: nn.binary ins(%c, %x : memref<1xf32>, memref<2x5x7x9xf32>) outs(%y : memref<2x5x7x9xf32>) kind sub activation leaky_relu(0.5)

// C: pdnn_binary(ctx, arg_x, arg_s, arg_y, 2, 5, 7, 9, 315, 63, 9, 1, 5, 1, 0, 0, PDNN_BINARY_MUL, PDNN_ACT_HARDSIGMOID);
// C: pdnn_binary(ctx, arg_c, arg_x, arg_y, 2, 5, 7, 9, 0, 0, 0, 0, 315, 63, 9, 1, PDNN_BINARY_SUB, pdnn_act_code(10, 0.5f, 0.0f));

// CL: "#define PDNN_ACT_TABLE 10.0f, 0.5f, 0.0f\n"
// CL: PDNN_CL_INT(630), PDNN_CL_INT(5), PDNN_CL_INT(7), PDNN_CL_INT(9), PDNN_CL_INT(315), PDNN_CL_INT(63), PDNN_CL_INT(9), PDNN_CL_INT(1), PDNN_CL_INT(5), PDNN_CL_INT(1), PDNN_CL_INT(0), PDNN_CL_INT(0), PDNN_CL_INT(2), PDNN_CL_INT(7)}; {{.*}}"pdnn_binary"
// CL: PDNN_CL_INT(64)}; {{.*}}"pdnn_binary"
