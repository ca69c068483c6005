// RUN: patdnn-opt %s -p lower-pattern-to-kernel,plan-buffers -t "opencl{kernels_only=true}" | filecheck %s
// RUN: patdnn-opt %s -p lower-pattern-to-kernel,filter-kernel-reorder,plan-buffers -t "opencl{kernels_only=true wg_y=2}" | filecheck %s --check-prefix=ORDER

// The OpenCL C of pattern convolutions: one kernel per layer, one branch-free segment loop per
// pattern, a per-work-item output tile (tile_y x tile_x accumulators) whose loads are shared by
// input offset, FKW buffers indexed by filter, guarded stores only past the output's end.

func.func @net(%x: memref<1x2x6x7xf32>, %y: memref<1x3x6x7xf32>, %z: memref<1x2x3x4xf32>) {
  pattern.conv2d ins(%x : memref<1x2x6x7xf32>) outs(%y : memref<1x3x6x7xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, -1], [1, 0]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]> : tensor<16xf32>
      bias dense<[0.5, -0.25, 0.125]> : tensor<3xf32> {layer = "conv1"}
  pattern.conv2d ins(%y : memref<1x3x6x7xf32>) outs(%z : memref<1x2x3x4xf32>) stride [2, 2] padding [1, 1] activation relu6
      library #pattern.library<3x3, ["010|111|000", "110|110|000"]>
      kernels [[0, -1, 1], [-1, -1, -1]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32> {patdnn.opencl = {tile_x = 3, tile_y = 2, wg_x = 2, wg_y = 1}}
  func.return
}

// conv1: default schedule, tile 2 rows x 4 columns (output 6x7: 2 x 3 tiles), work-group capped
// at the tiles: 2x3 -> global 2x3x3 exactly, so no early return. Padded input: width
// max(7 + 2, (2*4 - 1) + 3) = 10, height max(6 + 2, (3*2 - 1) + 3) = 8: plane 80, 2 channels 160.
// CHECK:      /* conv0_conv1: 2 -> 3 channels, 6x7 -> 6x7, stride [1, 1], padding [1, 1], relu; 2 patterns; tile 2x4, work-group 2x3; padded input 8x10 */
// CHECK-NEXT: __kernel __attribute__((reqd_work_group_size(2, 3, 1)))
// CHECK-NEXT: void conv0_conv1(__global const real *in, __global real *out, int out_off, __global const real *w, __global const real *bias, __global const int *seg, __global const int *wseg, __global const int *chan) {
// CHECK-NEXT:   const int tx = get_global_id(0), ty = get_global_id(1), z = get_global_id(2);
// CHECK-NEXT:   const int b = z / 3, o = z % 3;
// CHECK-NEXT:   const int x0 = tx * 4, y0 = ty * 2;
// CHECK-NEXT:   __global const real *in_t = in + b * 160 + y0 * 10 + x0 * 1;
// CHECK-NEXT:   __global real *out_t = out + out_off + (b * 3 + o) * 42 + y0 * 7 + x0;
// CHECK-NEXT:   const real init = bias[o];
// CHECK-NEXT:   real acc0_0 = init, acc0_1 = init, acc0_2 = init, acc0_3 = init, acc1_0 = init, acc1_1 = init, acc1_2 = init, acc1_3 = init;
// CHECK-NEXT:   { /* pattern 0: 010|111|000 */
// CHECK-NEXT:     __global const real *wp = w + wseg[o * 2 + 0];
// CHECK-NEXT:     const int end = seg[o * 2 + 1];
// CHECK-NEXT:     for (int k = seg[o * 2 + 0]; k < end; ++k, wp += 4) {
// CHECK-NEXT:       __global const real *ip = in_t + chan[k] * 80;
// Tap (0, 1), entry 0: offsets row*10 + col + t for rows 0 and 1 of the tile.
// CHECK-NEXT:       const real w0 = wp[0];
// CHECK-NEXT:       const real i1 = ip[1];
// CHECK-NEXT:       acc0_0 = fma(i1, w0, acc0_0);
// CHECK:            const real i4 = ip[4];
// CHECK-NEXT:       acc0_3 = fma(i4, w0, acc0_3);
// CHECK-NEXT:       const real i11 = ip[11];
// CHECK-NEXT:       acc1_0 = fma(i11, w0, acc1_0);
// Tap (1, 0), entry 1: input 11 is tap (0, 1) of tile row 1 already: loaded once, used again.
// CHECK:            const real w1 = wp[1];
// CHECK-NEXT:       const real i10 = ip[10];
// CHECK-NEXT:       acc0_0 = fma(i10, w1, acc0_0);
// CHECK-NEXT:       acc0_1 = fma(i11, w1, acc0_1);
// Tap (1, 2), entry 3, last column of tile row 1: offset 10 + 2 + 3 + 10 = 25.
// CHECK:            const real w3 = wp[3];
// CHECK:            const real i25 = ip[25];
// CHECK-NEXT:       acc1_3 = fma(i25, w3, acc1_3);
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT:   { /* pattern 1: 010|110|010 */
// CHECK-NEXT:     __global const real *wp = w + wseg[o * 2 + 1];
// CHECK-NEXT:     const int end = seg[o * 2 + 2];
// CHECK-NEXT:     for (int k = seg[o * 2 + 1]; k < end; ++k, wp += 4) {
// Tap (2, 1), entry 3: offset 2*10 + 1 = 21.
// CHECK:            const real w3 = wp[3];
// CHECK-NEXT:       acc0_0 = fma(i21, w3, acc0_0);
// CHECK:          }
// CHECK-NEXT:   }
// CHECK-NEXT:   acc0_0 = acc0_0 < (real)0 ? (real)0 : acc0_0;
// CHECK:        acc1_3 = acc1_3 < (real)0 ? (real)0 : acc1_3;
// 7 columns = 4 + 3: only column 3 of a tile can fall outside; 6 rows = 3 tiles of 2: no row guard.
// CHECK-NEXT:   out_t[0] = acc0_0;
// CHECK-NEXT:   out_t[1] = acc0_1;
// CHECK-NEXT:   out_t[2] = acc0_2;
// CHECK-NEXT:   if (x0 + 3 < 7) out_t[3] = acc0_3;
// CHECK-NEXT:   out_t[7] = acc1_0;
// CHECK:        if (x0 + 3 < 7) out_t[10] = acc1_3;
// CHECK-NEXT: }

// conv2: the layer's patdnn.opencl schedule (tile 2x3, work-group 2x1), stride 2, no bias,
// relu6. Padded width max(9, (2*3 - 1)*2 + 3) = 13, height max(8, (2*2 - 1)*2 + 3) = 9: plane 117.
// CHECK:      /* conv1: 3 -> 2 channels, 6x7 -> 3x4, stride [2, 2], padding [1, 1], relu6; 2 patterns; tile 2x3, work-group 2x1; padded input 9x13 */
// CHECK-NEXT: __kernel __attribute__((reqd_work_group_size(2, 1, 1)))
// CHECK-NEXT: void conv1(__global const real *in, __global real *out, int out_off, __global const real *w, __global const int *seg, __global const int *wseg, __global const int *chan) {
// CHECK:        __global const real *in_t = in + b * 351 + y0 * 26 + x0 * 2;
// CHECK:        const real init = (real)0;
// CHECK-NEXT:   real acc0_0 = init, acc0_1 = init, acc0_2 = init, acc1_0 = init, acc1_1 = init, acc1_2 = init;
// CHECK:            __global const real *ip = in_t + chan[k] * 117;
// Tap (0, 1) at column stride 2, tile row 1 two input rows down: 1 3 5, 27 29 31.
// CHECK-NEXT:       const real w0 = wp[0];
// CHECK-NEXT:       const real i1 = ip[1];
// CHECK-NEXT:       acc0_0 = fma(i1, w0, acc0_0);
// CHECK-NEXT:       const real i3 = ip[3];
// CHECK-NEXT:       acc0_1 = fma(i3, w0, acc0_1);
// CHECK-NEXT:       const real i5 = ip[5];
// CHECK-NEXT:       acc0_2 = fma(i5, w0, acc0_2);
// CHECK-NEXT:       const real i27 = ip[27];
// CHECK-NEXT:       acc1_0 = fma(i27, w0, acc1_0);
// CHECK:        acc1_2 = acc1_2 < (real)0 ? (real)0 : (acc1_2 > (real)6 ? (real)6 : acc1_2);
// 4 columns = 3 + 1, 3 rows = 2 + 1: columns 1, 2 and row 1 are guarded.
// CHECK-NEXT:   out_t[0] = acc0_0;
// CHECK-NEXT:   if (x0 + 1 < 4) out_t[1] = acc0_1;
// CHECK-NEXT:   if (x0 + 2 < 4) out_t[2] = acc0_2;
// CHECK-NEXT:   if (y0 + 1 < 3) out_t[4] = acc1_0;
// CHECK-NEXT:   if (x0 + 1 < 4 && y0 + 1 < 3) out_t[5] = acc1_1;
// CHECK-NEXT:   if (x0 + 2 < 4 && y0 + 1 < 3) out_t[6] = acc1_2;
// CHECK-NEXT: }

// With filter-kernel-reorder the kernel reads the filter of its work-group from `order`; a
// work-group of 2 rows over 3 row tiles pads the NDRange, and the padding work-items return.
// ORDER:      __kernel __attribute__((reqd_work_group_size(2, 2, 1)))
// ORDER-NEXT: void conv0_conv1({{.*}}, __global const int *chan, __global const int *order) {
// ORDER-NEXT:   const int tx = get_global_id(0), ty = get_global_id(1), z = get_global_id(2);
// ORDER-NEXT:   if (tx >= 2 || ty >= 3) return; /* work-group padding */
// ORDER-NEXT:   const int b = z / 3, o = order[z % 3];
// ORDER:      void conv1({{.*}}, __global const int *order) {
// ORDER-NOT:    return;
// ORDER:        const int b = z / 2, o = order[z % 2];
