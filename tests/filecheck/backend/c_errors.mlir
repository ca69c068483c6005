// RUN: patdnn-opt %s -p lower-pattern-to-kernel -t "c{isa=neon}" 2>&1 | filecheck %s --check-prefix=NEON
// RUN: patdnn-opt %s -p lower-pattern-to-kernel -t "c{isa=avx2}" 2>&1 | filecheck %s --check-prefix=AVX2
// RUN: patdnn-opt %s -p lower-pattern-to-kernel -t "c{isa=scalar}" | filecheck %s --check-prefix=SCALAR

// Stride 3 used to be refused by isa=neon (no strided load form). The generated code now reads
// tap-shifted input planes (runtime pdnn_shift_input applies the column stride, the row stride
// is a plane-row offset), so every ISA prints it with plain unit-stride loads and no diagnostic.

func.func @s3(%x: memref<1x1x7x7xf32>, %y: memref<1x1x2x2xf32>) {
  pattern.conv2d ins(%x : memref<1x1x7x7xf32>) outs(%y : memref<1x1x2x2xf32>) stride [3, 3] padding [0, 0] activation none
      library #pattern.library<3x3, ["010|111|000"]>
      kernels [[0]] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  func.return
}

// NEON-NOT: error
// NEON-NOT: Traceback
// NEON-NOT: vld2q_f32
// NEON-NOT: vld3q_f32
// Output 2x2: tile min(16, ceil4(2)) = 4 columns (1 vector); plane rows of ceil(2/4)*4 = 4 floats,
// (2-1)*3 + 3 = 6 rows (the last input row is never read): 24 floats a plane, 3 planes = 72 a
// channel. Row tile y0 starts y0 * 3 * 4 = 12 floats down; offsets col * 24 + row * 4: taps (0,1)
// (1,0) (1,1) (1,2) -> 24 4 28 52.
// No bias: a zero broadcast; activation none: no epilogue.
// NEON:      /* conv0: 1 -> 1 channels, 7x7 -> 2x2, stride [3, 3], padding [0, 0], none; 1 patterns, 1/1 kernels kept; register tile 1x4, 1 channel block(s) of 1 */
// NEON-NEXT: static const int32_t conv0_seg[3] = {
// NEON-NEXT:   0, 1, 0
// NEON-NEXT: };
// NEON-NEXT: static const int32_t conv0_chan[1] = {
// NEON-NEXT:   0
// NEON-NEXT: };
// NEON:      for (int x0 = 0; x0 < 2; x0 += 4) {
// NEON-NEXT: for (int yy = job->y_begin; yy < y_end; yy += 1) {
// NEON-NEXT: const int y0 = yy + 1 <= y_end ? yy : y_end - 1;
// NEON-NEXT: const float *tile_in = job->in + (int64_t)(y0 - job->y_begin) * 12 + x0;
// NEON:      const float32x4_t vbias = vdupq_n_f32(0.0f);
// NEON-NEXT: float32x4_t acc0_0 = vbias;
// NEON-NEXT: { /* pattern 0: 010|111|000 */
// NEON-NEXT:   const float *w = conv0_weights + sg[2];
// NEON-NEXT:   for (int32_t k = sg[0]; k < sg[1]; ++k, w += 4) {
// NEON-NEXT:     const float *ip = tile_in + (int64_t)conv0_chan[k] * 72;
// NEON-NEXT:     const float32x4_t v0_0 = vld1q_f32(ip + 24);
// NEON-NEXT:     const float32x4_t w0 = vdupq_n_f32(w[0]);
// NEON-NEXT:     acc0_0 = vfmaq_f32(acc0_0, v0_0, w0);
// NEON-NEXT:     const float32x4_t v2_0 = vld1q_f32(ip + 4);
// NEON-NEXT:     const float32x4_t w1 = vdupq_n_f32(w[1]);
// NEON-NEXT:     acc0_0 = vfmaq_f32(acc0_0, v2_0, w1);
// NEON-NEXT:     const float32x4_t v4_0 = vld1q_f32(ip + 28);
// NEON-NEXT:     const float32x4_t w2 = vdupq_n_f32(w[2]);
// NEON-NEXT:     acc0_0 = vfmaq_f32(acc0_0, v4_0, w2);
// NEON-NEXT:     const float32x4_t v6_0 = vld1q_f32(ip + 52);
// NEON-NEXT:     const float32x4_t w3 = vdupq_n_f32(w[3]);
// NEON-NEXT:     acc0_0 = vfmaq_f32(acc0_0, v6_0, w3);
// NEON-NEXT:   }
// NEON-NEXT: }
// NEON-NEXT: float *out_t = job->out + (int64_t)o * 4 + (int64_t)y0 * 2 + x0;
// NEON-NEXT: if (x0 + 4 <= 2) {
// NEON-NEXT:   vst1q_f32(out_t + 0, acc0_0);
// NEON-NEXT: } else {
// NEON-NEXT:   float tail[4];
// NEON-NEXT:   vst1q_f32(tail + 0, acc0_0);
// NEON-NEXT:   for (int r = 0; r < 1; ++r)
// NEON-NEXT:     memcpy(out_t + r * 2, tail + r * 4, (size_t)(2 - x0) * sizeof(float));
// NEON-NEXT: }
// The shift gets the column stride 3, first row y_begin * 3 - 0, padding 0 and the 6 x 4 plane; scratch 72 floats = 288 bytes.
// NEON:      for (int yb = 0; yb < 2; yb += 2) {
// NEON-NEXT:      const int y_begin = yb + 2 <= 2 ? yb : 0;
// NEON-NEXT:      pdnn_shift_input(ctx, in + (int64_t)n * 49, patdnn_scratch, 1, 7, 7, 3, 3, y_begin * 3 - 0, 0, 6, 4);
// NEON-NEXT: pdnn_conv_job job = {patdnn_scratch, out + (int64_t)n * 4, NULL, y_begin, y_begin + 2};
// NEON-NEXT: pdnn_parallel_for(ctx, 1, conv0_filters, &job);
// NEON:      patdnn_scratch = pdnn_scratch_for(ctx, patdnn_scratch, &patdnn_scratch_slots, 0, 72);

// AVX2 (8 lanes): tile 8, rows of 8, 6 rows: planes of 48, 144 a channel; y0 * 3 * 8 = 24;
// offsets col * 48 + row * 8 -> 48 8 56 104; scratch 144 floats = 576 bytes.
// AVX2-NOT: error
// AVX2:      const float *tile_in = job->in + (int64_t)(y0 - job->y_begin) * 24 + x0;
// AVX2:      const float *ip = tile_in + (int64_t)conv0_chan[k] * 144;
// AVX2-NEXT: const __m256 v0_0 = _mm256_load_ps(ip + 48);
// AVX2:      const __m256 v2_0 = _mm256_load_ps(ip + 8);
// AVX2:      const __m256 v4_0 = _mm256_load_ps(ip + 56);
// AVX2:      const __m256 v6_0 = _mm256_load_ps(ip + 104);
// AVX2:      if (x0 + 8 <= 2) {
// AVX2:      for (int yb = 0; yb < 2; yb += 2) {
// AVX2-NEXT:      const int y_begin = yb + 2 <= 2 ? yb : 0;
// AVX2-NEXT:      pdnn_shift_input(ctx, in + (int64_t)n * 49, patdnn_scratch, 1, 7, 7, 3, 3, y_begin * 3 - 0, 0, 6, 8);
// AVX2:      patdnn_scratch = pdnn_scratch_for(ctx, patdnn_scratch, &patdnn_scratch_slots, 0, 144);

// Scalar: 2 columns per tile (no ragged tail), rows of 2 floats, planes of 12, 36 a channel;
// y0 * 3 * 2 = 6; offsets col * 14 + row * 2 + t -> 14 2 16 30 (+1 for the 2nd column).
// SCALAR:      /* conv0: 1 -> 1 channels, 7x7 -> 2x2, stride [3, 3], padding [0, 0], none; 1 patterns, 1/1 kernels kept; register tile 1x2, 1 channel block(s) of 1 */
// SCALAR:      const float *tile_in = job->in + (int64_t)(y0 - job->y_begin) * 6 + x0;
// SCALAR:      float acc0_0 = vbias, acc0_1 = vbias;
// SCALAR:      const float *ip = tile_in + (int64_t)conv0_chan[k] * 36;
// SCALAR-NEXT: const float v0_0 = (*(ip + 12));
// SCALAR-NEXT: const float v0_1 = (*(ip + 13));
// SCALAR-NEXT: const float w0 = w[0];
// SCALAR-NEXT: acc0_0 = (acc0_0 + v0_0 * w0);
// SCALAR-NEXT: acc0_1 = (acc0_1 + v0_1 * w0);
// SCALAR-NEXT: const float v2_0 = (*(ip + 2));
// SCALAR-NEXT: const float v2_1 = (*(ip + 3));
// SCALAR:      const float v4_0 = (*(ip + 14));
// SCALAR:      const float v6_0 = (*(ip + 26));
// SCALAR-NEXT: const float v6_1 = (*(ip + 27));
// SCALAR-NOT:  vmaxq
// SCALAR:      float *out_t = job->out + (int64_t)o * 4 + (int64_t)y0 * 2 + x0;
// SCALAR-NEXT: *(out_t + 0) = acc0_0;
// SCALAR-NEXT: *(out_t + 1) = acc0_1;
// SCALAR:      for (int yb = 0; yb < 2; yb += 2) {
// SCALAR-NEXT:      const int y_begin = yb + 2 <= 2 ? yb : 0;
// SCALAR-NEXT:      pdnn_shift_input(ctx, in + (int64_t)n * 49, patdnn_scratch, 1, 7, 7, 3, 3, y_begin * 3 - 0, 0, 6, 2);
// SCALAR:      patdnn_scratch = pdnn_scratch_for(ctx, patdnn_scratch, &patdnn_scratch_slots, 0, 36);
