// RUN: not patdnn-opt %s -t opencl 2>&1 | filecheck %s --check-prefix=UNLOWERED
// RUN: not patdnn-opt %s -p lower-pattern-to-kernel,plan-buffers -t "opencl{precision=fp64}" 2>&1 | filecheck %s --check-prefix=PRECISION
// RUN: not patdnn-opt %s -p lower-pattern-to-kernel,plan-buffers -t "opencl{tile_x=0}" 2>&1 | filecheck %s --check-prefix=TILE
// RUN: patdnn-opt %s -p lower-pattern-to-kernel,plan-buffers -t opencl | filecheck %s --check-prefix=OK

// User mistakes with the OpenCL target: one diagnostic, no traceback.

func.func @net(%x: memref<1x1x5x5xf32>, %y: memref<1x1x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x1x5x5xf32>) outs(%y : memref<1x1x5x5xf32>) stride [1, 1] padding [1, 1] activation none
      library #pattern.library<3x3, ["010|111|000"]>
      kernels [[0]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  func.return
}

// UNLOWERED:      error: 'pattern.conv2d' cannot be printed for the OpenCL target: lower it first with -p lower-pattern-to-kernel
// UNLOWERED-NOT:  Traceback
// PRECISION:      error: unknown precision 'fp64', expected one of: fp32, fp16
// PRECISION-NOT:  Traceback
// TILE:           error: OpenCL schedule tile_x=0 must be >= 1
// TILE-NOT:       Traceback
// OK:             void conv0(
