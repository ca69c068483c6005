// RUN: patdnn-opt %s | filecheck %s --check-prefix=TEXT
// RUN: patdnn-opt %s -p lower-pattern-to-kernel -t "c{isa=avx512}" | filecheck %s --check-prefix=C
// RUN: patdnn-opt %s -p lower-pattern-to-kernel,plan-buffers -t "opencl" | filecheck %s --check-prefix=CL

// Fused activations beyond ReLU: the text of parametrised kinds round-trips; the C register
// epilogue runs a transcendental kind (SiLU) through the runtime's pdnn_act_row on a stack tile
// and a piecewise-linear one (leaky ReLU) as vector max/min/fma; runtime calls take the kind, or
// pdnn_act_code(kind, a, b) for a parametrised one (a one-sided clamp: an infinite bound).
// OpenCL: the pattern kernels call pdnn_act_k or inline the piecewise-linear form; runtime
// kernels get 64 + an index into the program's PDNN_ACT_TABLE.

func.func @net(%x: memref<1x2x6x6xf32>, %y: memref<1x3x6x6xf32>, %z: memref<1x3x6x6xf32>, %w: memref<1x3x6x6xf32>) {
  pattern.conv2d ins(%x : memref<1x2x6x6xf32>) outs(%y : memref<1x3x6x6xf32>) stride [1, 1] padding [1, 1] activation silu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0], [1, 1]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<20xf32>
  pattern.conv2d ins(%x : memref<1x2x6x6xf32>) outs(%z : memref<1x3x6x6xf32>) stride [1, 1] padding [1, 1] activation leaky_relu(0.1)
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, 0], [1, 1]] weights dense<[1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<20xf32>
  nn.conv2d ins(%z : memref<1x3x6x6xf32>) outs(%w : memref<1x3x6x6xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation hardtanh(-1.0, 2.5) weights dense<1.0> : tensor<9xf32>
  nn.activation ins(%w : memref<1x3x6x6xf32>) outs(%y : memref<1x3x6x6xf32>) activation gelu_tanh
  nn.activation ins(%y : memref<1x3x6x6xf32>) outs(%z : memref<1x3x6x6xf32>) activation clamp_max(3.0)
  func.return
}

// TEXT: pattern.conv2d {{.*}} activation silu
// TEXT: pattern.conv2d {{.*}} activation leaky_relu(0.1)
// TEXT: nn.conv2d {{.*}} activation hardtanh(-1.0, 2.5) weights
// TEXT: nn.activation {{.*}} activation gelu_tanh
// TEXT: nn.activation {{.*}} activation clamp_max(3.0)

// C:      float act_tile[16];
// C-NEXT: _mm512_storeu_ps(act_tile + 0, acc0_0);
// C-NEXT: pdnn_act_row(act_tile, 16, PDNN_ACT_SILU);
// C-NEXT: acc0_0 = _mm512_loadu_ps(act_tile + 0);
// C:      const __m512 vslope = _mm512_set1_ps(0.1f);
// C-NEXT: acc0_0 = _mm512_fmadd_ps(_mm512_min_ps(vzero, acc0_0), vslope, _mm512_max_ps(vzero, acc0_0));
// C:      pdnn_conv1x1_cm({{.*}}, pdnn_act_code(11, -1.0f, 2.5f));
// C-NEXT: pdnn_activation(ctx, arg_w, arg_y, 108, PDNN_ACT_GELU_TANH);
// C-NEXT: pdnn_activation(ctx, arg_y, arg_z, 108, pdnn_act_code(11, -INFINITY, 3.0f));

// CL:     "#define PDNN_ACT_TABLE 11.0f, -1.0f, 2.5f, 11.0f, -INFINITY, 3.0f\n"
// CL:     "  acc0_0 = (real)pdnn_act_k((float)acc0_0, 5, 0.0f, 0.0f);\n"
// CL:     "  { const float v = (float)acc0_0; acc0_0 = (real)(v > 0.0f ? v : v * 0.1f); }\n"
// CL:     PDNN_CL_INT(108), PDNN_CL_INT(9)}; {{.*}} "pdnn_activation"
// CL-NEXT: PDNN_CL_INT(108), PDNN_CL_INT(65)}; {{.*}} "pdnn_activation"
