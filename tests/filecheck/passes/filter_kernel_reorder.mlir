// RUN: patdnn-opt %s -p "lower-pattern-to-kernel,filter-kernel-reorder" | filecheck %s --check-prefix=T1
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel,filter-kernel-reorder{threads=2}" | filecheck %s --check-prefix=T2
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel,filter-kernel-reorder{threads=3}" | filecheck %s --check-prefix=T3
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel,filter-kernel-reorder{threads=2}" -t "c{isa=neon}" | filecheck %s --check-prefix=C
// RUN: not patdnn-opt %s -p "lower-pattern-to-kernel,filter-kernel-reorder{threads=0}" 2>&1 | filecheck %s --check-prefix=BAD

// Work per filter (kept weights): f0 = 4 (one p0 kernel), f1 = 16 (2 x p0, 2 x p1), f2 = 4 (one
// p1), f3 = 12, f4 = 8. Ranked longest first, ties by pattern mix (more p0 first): 1 3 4 0 2.
// T1: filter_order = array<i64: 1, 3, 4, 0, 2>
// Two threads (chunks of 3 and 2 filters), dealt in snake order 0 1 1 0 0: chunk 0 = {1, 0, 2}
// (24 FMAs per output vector), chunk 1 = {3, 4} (20).
// T2: filter_order = array<i64: 1, 0, 2, 3, 4>
// Three threads (chunks 2, 2, 1), snake 0 1 2 2 1 0: {1, 2} {3, 0} {4}.
// T3: filter_order = array<i64: 1, 2, 3, 0, 4>

// The generated loop runs filters in that order but writes each to its own output channel.
// C: static const int32_t conv0_c_order[5] = {
// C-NEXT:   1, 0, 2, 3, 4
// C: const int o = (int)conv0_c_order[idx];
// C: float *out_t = job->out + (int64_t)o * 36

// BAD: filter-kernel-reorder: threads=0 must be >= 1

func.func @net(%x: memref<1x4x6x6xf32>, %y: memref<1x5x6x6xf32>) {
  pattern.conv2d ins(%x : memref<1x4x6x6xf32>) outs(%y : memref<1x5x6x6xf32>) stride [1, 1] padding [1, 1] activation none
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, -1, -1, -1], [0, 1, 1, 0], [-1, 1, -1, -1], [1, 0, 0, -1], [0, -1, 1, -1]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0]> : tensor<44xf32> {layer = "c"}
  func.return
}
