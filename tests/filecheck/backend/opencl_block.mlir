// RUN: patdnn-opt %s -p plan-buffers -t "opencl{kernels_only=true}" | filecheck %s
// RUN: patdnn-opt %s -p plan-buffers -t opencl | filecheck %s --check-prefix=HOST

// The OpenCL C of block-sparse layers: one kernel per layer; a work-item computes the R filters of
// one filter block over a pixel tile, looping over the block's kept columns (column offsets
// decoded at compile time, R weights per column); block.linear splits a block's columns over a
// work-group and reduces in local memory.

func.func @net(%x: memref<1x4x3x5xf32>, %y: memref<1x5x3x5xf32>, %a: memref<1x6xf32>, %b: memref<1x3xf32>) {
  block.conv2d ins(%x : memref<1x4x3x5xf32>) outs(%y : memref<1x5x3x5xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] activation relu
      block [4, 4] columns [[0, 2], [1]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.0, 0.0, 0.0]> : tensor<12xf32>
      bias dense<[0.5, -0.25, 0.125, 1.0, 2.0]> : tensor<5xf32> {layer = "pw1", patdnn.opencl = {tile_x = 5, tile_y = 1}}
  block.linear ins(%a : memref<1x6xf32>) outs(%b : memref<1x3xf32>) activation none
      block [2, 3] columns [[0, 5], []]
      weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  func.return
}

// 5 filters in blocks of 4: 2 filter blocks (global dimension 2); the 1x5 tile divides the 3x5
// output, so the kernel reads its input in place (no padded copy); filters 5..7 of the last block
// clamp their bias read and are not stored.
// CHECK:      /* bconv0_pw1: block-sparse 4 -> 5 channels, 3x5 -> 3x5, kernel [1, 1], stride [1, 1], padding [0, 0], relu; 2 filter blocks of 4, 3 kept columns of 8; tile 1x5, work-group 1x3; input 3x5 */
// CHECK-NEXT: __kernel __attribute__((reqd_work_group_size(1, 3, 1)))
// CHECK-NEXT: void bconv0_pw1(__global const real *in, int in_off, __global real *out, int out_off, __global const real *w, __global const real *bias, __global const int *start, __global const int *coff) {
// CHECK:        const int b = z / 2, o0 = z % 2 * 4;
// CHECK:        float acc1_0_0 = (float)bias[min(o0 + 1, 4)],
// CHECK:        for (int k = start[z % 2]; k < end; ++k, wp += 4) {
// CHECK-NEXT:     __global const real *ip = in_t + coff[k];
// CHECK-NEXT:     const float w0 = (float)wp[0];
// CHECK:          const float i0_4 = (float)ip[4];
// CHECK-NEXT:     acc0_0_0 = fma(w0, i0_0, acc0_0_0); acc0_0_1 = fma(w0, i0_1, acc0_0_1);
// CHECK:        acc3_0_4 = acc3_0_4 < (float)0 ? (float)0 : acc3_0_4;
// CHECK-NEXT:   out_t[0] = (real)acc0_0_0;
// CHECK:        if (o0 + 1 < 5) out_t[15] = (real)acc1_0_0;
// CHECK:        if (o0 + 3 < 5) out_t[49] = (real)acc3_0_4;
// CHECK-NEXT: }

// block.linear: 2 kept columns at most per block -> 2 work-items per filter block; block 1 is empty.
// CHECK:      /* bfc1: block-sparse linear 6 -> 3, batch 1, none; 2 filter blocks of 2, 2 kept columns of 12; 1 batch row per work-item, 2 work-items per filter block */
// CHECK-NEXT: __kernel __attribute__((reqd_work_group_size(2, 1, 1)))
// CHECK:        __local float part[2][2];
// CHECK:        for (int k = start[blk] + lid; k < end; k += 2, wp += 4) {
// CHECK-NEXT:     const int c = col[k];
// CHECK:        barrier(CLK_LOCAL_MEM_FENCE);
// CHECK:          if (o0 + r >= 3 || n >= 1) continue;
// CHECK:          out[out_off + n * 3 + o0 + r] = (real)s;

// Column (c, ky, kx) -> c * plane + ky * row + kx: columns [0, 2] and [1] of a 3x5 plane.
// HOST:      static const int32_t bconv0_pw1_start_data[3] = {
// HOST-NEXT:   0, 2, 3
// HOST:      static const int32_t bconv0_pw1_coff_data[3] = {
// HOST-NEXT:   0, 30, 15
// HOST:      static const int32_t bfc1_col_data[2] = {
// HOST-NEXT:   0, 5
// HOST:      void net(
// HOST-NOT:  pdnn_pad
// HOST:      { static const size_t g[3] = {1, 3, 2}, l[3] = {1, 3, 1}; pdnn_cl_launch(patdnn_opencl, net_sites[0], 3, g, l); }
// HOST-NEXT: { static const size_t g[3] = {2, 1, 2}, l[3] = {2, 1, 1}; pdnn_cl_launch(patdnn_opencl, net_sites[1], 3, g, l); }
