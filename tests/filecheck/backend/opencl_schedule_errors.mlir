// RUN: not patdnn-opt %s -p lower-pattern-to-kernel,plan-buffers -t opencl 2>&1 | filecheck %s

// A layer's `patdnn.opencl` schedule may only hold tile_x, tile_y, wg_x, wg_y (integers >= 1).

func.func @net(%x: memref<1x1x5x5xf32>, %y: memref<1x1x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x1x5x5xf32>) outs(%y : memref<1x1x5x5xf32>) stride [1, 1] padding [1, 1] activation none
      library #pattern.library<3x3, ["010|111|000"]>
      kernels [[0]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> {patdnn.opencl = {tile_z = 2}}
  func.return
}

// CHECK:     error: patdnn.opencl: unknown or non-integer entry 'tile_z' (expected integers tile_x, tile_y, wg_x, wg_y)
// CHECK-NOT: Traceback
