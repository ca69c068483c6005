// RUN: patdnn-opt %s -p "tile-tune{isa=neon channel_block=2},lower-pattern-to-kernel,fkw-pack" | filecheck %s
// RUN: patdnn-opt %s -p "tile-tune{isa=neon channel_block=2},lower-pattern-to-kernel,fkw-pack{report=true}" 2>&1 >/dev/null | filecheck %s --check-prefix=REPORT
// RUN: patdnn-opt %s -p "tile-tune{isa=neon channel_block=2},lower-pattern-to-kernel,fkw-pack" -t "c{isa=neon}" | filecheck %s --check-prefix=C

// Kept kernels in FKW order (filter, pattern, channel): f0 p0 c0 | f1 p0 c0 c3, p1 c1 c2 | f2 p1 c1
// | f3 p0 c1 c2, p1 c0 | f4 p0 c0, p1 c2  ->  fkw_channels.
// fkw_segments: (first kernel, end kernel, first weight) per (channel block, filter, pattern);
// block 0 = channels {0, 1}, block 1 = {2, 3}; 4 weights per kernel, canonical order kept.
// Storage: 44 kept weights. Dense 5*4*9*4 = 720 B; CSR 44*(4+4) + 6*4 = 376 B;
// FKW 44*4 + 11 channel ids*4 + (5*2+1)*2 offsets*4 = 308 B.
// CHECK: kernel.pattern_conv
// CHECK-SAME: patdnn.storage = {dense = 720 : i64, csr = 376 : i64, fkw = 308 : i64}
// CHECK-SAME: fkw_segments = array<i32:
// block 0:   f0: p0 {k0}        p1 {}          f1: p0 {k1}        p1 {k3}
// CHECK-SAME: 0, 1, 0, 1, 1, 4, 1, 2, 4, 3, 4, 12,
//            f2: p0 {}          p1 {k5}        f3: p0 {k6}        p1 {k8}
// CHECK-SAME: 5, 5, 20, 5, 6, 20, 6, 7, 24, 8, 9, 32,
//            f4: p0 {k9}        p1 {}
// CHECK-SAME: 9, 10, 36, 10, 10, 40,
// block 1:   f0: {} {}                         f1: p0 {k2}        p1 {k4}
// CHECK-SAME: 1, 1, 4, 1, 1, 4, 2, 3, 8, 4, 5, 16,
//            f2: {} {}                         f3: p0 {k7}        p1 {}
// CHECK-SAME: 5, 5, 20, 6, 6, 24, 7, 8, 28, 9, 9, 36,
//            f4: p0 {}          p1 {k10}
// CHECK-SAME: 10, 10, 40, 10, 11, 40>
// CHECK-SAME: fkw_channels = array<i32: 0, 0, 3, 1, 2, 1, 1, 2, 0, 0, 2>

// REPORT: layer {{ +}} dense {{ +}} CSR {{ +}} FKW  FKW/dense  FKW/CSR
// REPORT-NEXT: c {{ +}} 720 {{ +}} 376 {{ +}} 308 {{ +}} 0.428 {{ +}} 0.819

// The emitter prints exactly these arrays.
// C: 2 channel block(s) of 2
// C: static const int32_t conv0_c_seg[60] = {
// C-NEXT: 0, 1, 0, 1, 1, 4, 1, 2, 4, 3, 4, 12, 5, 5, 20, 5, 6, 20, 6, 7,
// C-NEXT: 24, 8, 9, 32, 9, 10, 36, 10, 10, 40, 1, 1, 4, 1, 1, 4, 2, 3, 8, 4,
// C-NEXT: 5, 16, 5, 5, 20, 6, 6, 24, 7, 8, 28, 9, 9, 36, 10, 10, 40, 10, 11, 40
// C: static const int32_t conv0_c_chan[11] = {
// C-NEXT: 0, 0, 3, 1, 2, 1, 1, 2, 0, 0, 2

func.func @net(%x: memref<1x4x6x6xf32>, %y: memref<1x5x6x6xf32>) {
  pattern.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x5x6x6xf32>) stride [1, 1] padding [1, 1] activation none
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, -1, -1, -1], [0, 1, 1, 0], [-1, 1, -1, -1], [1, 0, 0, -1], [0, -1, 1, -1]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0]> : tensor<44xf32> {layer = "c"}
  func.return
}
