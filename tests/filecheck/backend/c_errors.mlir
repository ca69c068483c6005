// RUN: not patdnn-opt %s -p lower-pattern-to-kernel -t "c{isa=neon}" 2>&1 | filecheck %s --check-prefix=NEON
// RUN: patdnn-opt %s -p lower-pattern-to-kernel -t "c{isa=scalar}" | filecheck %s --check-prefix=SCALAR

// Stride 3 has no NEON load form: isa=neon refuses it with a diagnostic, isa=scalar prints it.

func.func @s3(%x: memref<1x1x7x7xf32>, %y: memref<1x1x2x2xf32>) {
  pattern.conv2d ins(%x : memref<1x1x7x7xf32>) outs(%y : memref<1x1x2x2xf32>) stride [3, 3] padding [0, 0] activation none
      library #pattern.library<3x3, ["010|111|000"]>
      kernels [[0]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  func.return
}

// NEON: error: stride [3, 3] is not supported by isa=neon (use isa=scalar)
// NEON-NOT: Traceback

// Scalar: 2 columns per tile, padded row of 8 floats (7 + room for the tile over-read); row y starts 3 rows down, column t 3 floats on.
// SCALAR:      /* conv0: 1 -> 1 channels, 7x7 -> 2x2, stride [3, 3], padding [0, 0], none; 1 patterns, 1/1 kernels kept, tile 2 */
// SCALAR:      const float *in_y = job->in + (int64_t)y * 24;
// SCALAR:      const float *in_x = in_y + x0 * 3;
// SCALAR-NEXT: float acc0 = vbias, acc1 = vbias;
// SCALAR:      const float v0_0 = (*(ip + 1));
// SCALAR-NEXT: const float v0_1 = (*(ip + 4));
// SCALAR-NEXT: const float w1 = w[0];
// SCALAR-NEXT: acc0 = (acc0 + v0_0 * w1);
// SCALAR-NEXT: acc1 = (acc1 + v0_1 * w1);
// SCALAR-NEXT: const float v2_0 = (*(ip + 8));
// SCALAR-NEXT: const float v2_1 = (*(ip + 11));
// SCALAR-NOT:  vmaxq
// SCALAR:      if (x0 + 2 <= 2) {
