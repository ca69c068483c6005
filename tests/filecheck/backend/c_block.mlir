// RUN: patdnn-opt %s -t "c{isa=avx512}" | filecheck %s --check-prefix=AVX512
// RUN: patdnn-opt %s -t "c{isa=neon}" | filecheck %s --check-prefix=NEON

// Block-sparse layers in C. pw: a 1x1 conv (direct: the kernel reads the input rows), 3 filters in
// blocks of 2 (the last block is partial: its second filter is computed on zero weights and never
// stored, hence the `r < nr` guards); block 0 keeps columns 0, 2 and block 1 column 1. The second
// conv (3x3, stride 2, padding 1) gathers the 3 rows of its kept columns (4, 13, 22) first. The
// linear layer has an empty second block.

func.func @net(%x: memref<1x3x4x5xf32>, %y: memref<1x3x4x5xf32>, %z: memref<1x2x2x3xf32>, %a: memref<1x5xf32>, %b: memref<1x3xf32>) {
  block.conv2d ins(%x : memref<1x3x4x5xf32>) outs(%y : memref<1x3x4x5xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] activation relu block [2, 16] columns [[0, 2], [1]] weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 0.0]> : tensor<6xf32> bias dense<[0.5, 0.25, -1.0]> : tensor<3xf32> {layer = "pw"}
  block.conv2d ins(%y : memref<1x3x4x5xf32>) outs(%z : memref<1x2x2x3xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] activation none block [2, 16] columns [[4, 13, 22]] weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32>
  block.linear ins(%a : memref<1x5xf32>) outs(%b : memref<1x3xf32>) activation relu6 block [2, 8] columns [[1, 3], []] weights dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> bias dense<[0.5, 0.25, -1.0]> : tensor<3xf32>
  func.return
}


// AVX-512: 20 pixels -> register tile 2 filters x 2 vectors of 16 (capped by the pixels), then one
// vector at a time, then pixel by pixel (fused like the vector code); bias and ReLU in the epilogue.
// AVX512:      /* bconv0_pw: block conv 3 -> 3 channels, 4x5 -> 4x5, kernel [1, 1], stride [1, 1], padding [0, 0], relu; blocks of 2 filters, 3/6 block columns kept, direct input; register tile 2x32, work items of 32 pixels x 2 blocks */
// AVX512:      static const int32_t bconv0_pw_off[3] = {
// AVX512-NEXT:   0, 2, 3
// AVX512-NEXT: };
// AVX512-NEXT: static const int32_t bconv0_pw_row[3] = {
// AVX512-NEXT:   0, 2, 1
// AVX512-NEXT: };
// AVX512:      static void bconv0_pw_items(void *arg, int64_t begin, int64_t end) {
// AVX512-NEXT:   const pdnn_conv_job *job = (const pdnn_conv_job *)arg;
// AVX512-NEXT:   for (int64_t item = begin; item < end; ++item) {
// AVX512-NEXT:   const int p0 = (int)(item / 1) * 32;
// AVX512-NEXT:   const int p1 = p0 + 32 < 20 ? p0 + 32 : 20;
// AVX512-NEXT:   const int blk0 = (int)(item % 1) * 2;
// AVX512-NEXT:   const int blk1 = blk0 + 2 < 2 ? blk0 + 2 : 2;
// AVX512-NEXT:   for (int b = blk0; b < blk1; ++b) {
// AVX512-NEXT:   const int32_t *rows = bconv0_pw_row + bconv0_pw_off[b];
// AVX512-NEXT:   const int nk = bconv0_pw_off[b + 1] - bconv0_pw_off[b];
// AVX512-NEXT:   for (int r0 = 0; r0 < 2; r0 += 2) {
// AVX512-NEXT:     const int o = b * 2 + r0;
// AVX512-NEXT:     const int nr = 3 - o < 2 ? 3 - o : 2; /* filters to store */
// AVX512-NEXT:     const float *wb = bconv0_pw_weights + (int64_t)bconv0_pw_off[b] * 2 + r0;
// AVX512-NEXT:     float *ob = job->out + (int64_t)o * 20;
// AVX512-NEXT:     const float bias0 = 0 < nr ? bconv0_pw_bias[o + 0] : 0.0f;
// AVX512-NEXT:     const float bias1 = 1 < nr ? bconv0_pw_bias[o + 1] : 0.0f;
// AVX512-NEXT:     int p = p0;
// AVX512-NEXT:     for (; p + 32 <= p1; p += 32) {
// AVX512-NEXT:       const float *x = job->in + p;
// AVX512-NEXT:       __m512 acc0_0 = _mm512_set1_ps(bias0), acc0_1 = _mm512_set1_ps(bias0);
// AVX512-NEXT:       __m512 acc1_0 = _mm512_set1_ps(bias1), acc1_1 = _mm512_set1_ps(bias1);
// AVX512-NEXT:       const float *w = wb;
// AVX512-NEXT:       for (int j = 0; j < nk; ++j, w += 2) {
// AVX512-NEXT:         const float *xr = x + (int64_t)rows[j] * 20;
// AVX512-NEXT:         const __m512 x0 = _mm512_loadu_ps(xr + 0);
// AVX512-NEXT:         const __m512 x1 = _mm512_loadu_ps(xr + 16);
// AVX512-NEXT:         { const __m512 wv = _mm512_set1_ps(w[0]);
// AVX512-NEXT:           acc0_0 = _mm512_fmadd_ps(x0, wv, acc0_0);
// AVX512-NEXT:           acc0_1 = _mm512_fmadd_ps(x1, wv, acc0_1);
// AVX512-NEXT:         }
// AVX512-NEXT:         { const __m512 wv = _mm512_set1_ps(w[1]);
// AVX512-NEXT:           acc1_0 = _mm512_fmadd_ps(x0, wv, acc1_0);
// AVX512-NEXT:           acc1_1 = _mm512_fmadd_ps(x1, wv, acc1_1);
// AVX512-NEXT:         }
// AVX512-NEXT:       }
// AVX512-NEXT:       const __m512 vzero = _mm512_set1_ps(0.0f);
// AVX512-NEXT:       acc0_0 = _mm512_max_ps(vzero, acc0_0);
// AVX512-NEXT:       acc0_1 = _mm512_max_ps(vzero, acc0_1);
// AVX512-NEXT:       acc1_0 = _mm512_max_ps(vzero, acc1_0);
// AVX512-NEXT:       acc1_1 = _mm512_max_ps(vzero, acc1_1);
// AVX512-NEXT:       if (0 < nr) { _mm512_storeu_ps(ob + 0 + p + 0, acc0_0); _mm512_storeu_ps(ob + 0 + p + 16, acc0_1); }
// AVX512-NEXT:       if (1 < nr) { _mm512_storeu_ps(ob + 20 + p + 0, acc1_0); _mm512_storeu_ps(ob + 20 + p + 16, acc1_1); }
// AVX512-NEXT:     }
// AVX512-NEXT:     for (; p + 16 <= p1; p += 16) {
// AVX512-NEXT:       const float *x = job->in + p;
// AVX512-NEXT:       __m512 acc0_0 = _mm512_set1_ps(bias0);
// AVX512-NEXT:       __m512 acc1_0 = _mm512_set1_ps(bias1);
// AVX512-NEXT:       const float *w = wb;
// AVX512:      for (; p < p1; p += 1) {
// AVX512:            float acc0_0 = bias0;
// AVX512-NEXT:       float acc1_0 = bias1;
// AVX512-NEXT:       const float *w = wb;
// AVX512-NEXT:       for (int j = 0; j < nk; ++j, w += 2) {
// AVX512-NEXT:         const float *xr = x + (int64_t)rows[j] * 20;
// AVX512-NEXT:         const float x0 = (*(xr + 0));
// AVX512-NEXT:         { const float wv = w[0];
// AVX512-NEXT:           acc0_0 = __builtin_fmaf(x0, wv, acc0_0);
// AVX512-NEXT:         }
// AVX512-NEXT:         { const float wv = w[1];
// AVX512-NEXT:           acc1_0 = __builtin_fmaf(x0, wv, acc1_0);
// AVX512:      static void bconv0_pw(pdnn_ctx *ctx, const float *in, float *out) {
// AVX512-NEXT:   for (int n = 0; n < 1; ++n) {
// AVX512-NEXT:     pdnn_conv_job job = {in + (int64_t)n * 60, out + (int64_t)n * 60, NULL, 0};
// AVX512-NEXT:     pdnn_parallel_for(ctx, 1, bconv0_pw_items, &job);
// The strided 3x3 conv: rows gathered into the scratch (16 floats apart: aligned), no store guards.
// AVX512:      static const int32_t bconv1_gather[3] = {
// AVX512-NEXT:   4, 13, 22
// AVX512-NEXT: };
// AVX512:            _mm512_storeu_ps(ob + 0 + p + 0, acc0_0);
// AVX512-NEXT:       _mm512_storeu_ps(ob + 6 + p + 0, acc1_0);
// AVX512:      static void bconv1(pdnn_ctx *ctx, const float *in, float *out) {
// AVX512-NEXT:   for (int n = 0; n < 1; ++n) {
// AVX512-NEXT:     pdnn_gather_rows(ctx, in + (int64_t)n * 60, patdnn_scratch, 16, bconv1_gather, 3, 4, 5, 2, 3, 3, 3, 2, 2, 1, 1);
// AVX512-NEXT:     pdnn_conv_job job = {patdnn_scratch, out + (int64_t)n * 12, NULL, 0};
// AVX512-NEXT:     pdnn_parallel_for(ctx, 1, bconv1_items, &job);
// Linear: one work item per filter block, a loop over the R filters per kept column.
// AVX512:      static void bfc2_items(void *arg, int64_t begin, int64_t end) {
// AVX512-NEXT:   const pdnn_conv_job *job = (const pdnn_conv_job *)arg;
// AVX512-NEXT:   for (int64_t b = begin; b < end; ++b) {
// AVX512-NEXT:     const int32_t *cols = bfc2_row + bfc2_off[b];
// AVX512-NEXT:     const int nk = bfc2_off[b + 1] - bfc2_off[b];
// AVX512-NEXT:     const int o = (int)b * 2, nr = 3 - o < 2 ? 3 - o : 2;
// AVX512-NEXT:     for (int i = 0; i < 1; ++i) {
// AVX512-NEXT:       const float *x = job->in + (int64_t)i * 5;
// AVX512-NEXT:       float acc[2];
// AVX512-NEXT:       for (int r = 0; r < 2; ++r) acc[r] = r < nr ? bfc2_bias[o + r] : 0.0f;
// AVX512-NEXT:       const float *w = bfc2_weights + (int64_t)bfc2_off[b] * 2;
// AVX512-NEXT:       for (int j = 0; j < nk; ++j, w += 2) {
// AVX512-NEXT:         const float xv = x[cols[j]];
// AVX512-NEXT:         for (int r = 0; r < 2; ++r) acc[r] = __builtin_fmaf(w[r], xv, acc[r]);
// AVX512-NEXT:       }
// AVX512-NEXT:       for (int r = 0; r < 2; ++r) { const float vzero = 0.0f; const float vsix = 6.0f; acc[r] = (vsix < (vzero > acc[r] ? vzero : acc[r]) ? vsix : (vzero > acc[r] ? vzero : acc[r])); }
// AVX512-NEXT:       for (int r = 0; r < nr; ++r) job->out[(int64_t)i * 3 + o + r] = acc[r];
// AVX512-NEXT:     }
// AVX512:      static void bfc2(pdnn_ctx *ctx, const float *in, float *out) {
// AVX512-NEXT:   pdnn_conv_job job = {in, out, NULL, 0};
// AVX512-NEXT:   pdnn_parallel_for(ctx, 2, bfc2_items, &job);
// AVX512-NEXT: }
// AVX512:      patdnn_scratch = pdnn_scratch_for(ctx, patdnn_scratch, &patdnn_scratch_slots, 48, 0);

// The NEON build: 32 registers -> 2 filters x 4 vectors of 4 pixels; unaligned loads are vld1q_f32 too.
// NEON:      /* bconv0_pw: block conv 3 -> 3 channels, 4x5 -> 4x5, kernel [1, 1], stride [1, 1], padding [0, 0], relu; blocks of 2 filters, 3/6 block columns kept, direct input; register tile 2x16, work items of 32 pixels x 2 blocks */
// NEON:          for (; p + 16 <= p1; p += 16) {
// NEON-NEXT:       const float *x = job->in + p;
// NEON-NEXT:       float32x4_t acc0_0 = vdupq_n_f32(bias0), acc0_1 = vdupq_n_f32(bias0), acc0_2 = vdupq_n_f32(bias0), acc0_3 = vdupq_n_f32(bias0);
// NEON-NEXT:       float32x4_t acc1_0 = vdupq_n_f32(bias1), acc1_1 = vdupq_n_f32(bias1), acc1_2 = vdupq_n_f32(bias1), acc1_3 = vdupq_n_f32(bias1);
// NEON-NEXT:       const float *w = wb;
// NEON-NEXT:       for (int j = 0; j < nk; ++j, w += 2) {
// NEON-NEXT:         const float *xr = x + (int64_t)rows[j] * 20;
// NEON-NEXT:         const float32x4_t x0 = vld1q_f32(xr + 0);
// NEON-NEXT:         const float32x4_t x1 = vld1q_f32(xr + 4);
// NEON-NEXT:         const float32x4_t x2 = vld1q_f32(xr + 8);
// NEON-NEXT:         const float32x4_t x3 = vld1q_f32(xr + 12);
// NEON-NEXT:         { const float32x4_t wv = vdupq_n_f32(w[0]);
// NEON-NEXT:           acc0_0 = vfmaq_f32(acc0_0, x0, wv);
// NEON-NEXT:           acc0_1 = vfmaq_f32(acc0_1, x1, wv);
// NEON-NEXT:           acc0_2 = vfmaq_f32(acc0_2, x2, wv);
// NEON-NEXT:           acc0_3 = vfmaq_f32(acc0_3, x3, wv);
// NEON-NEXT:         }
// NEON-NEXT:         { const float32x4_t wv = vdupq_n_f32(w[1]);
// NEON-NEXT:           acc1_0 = vfmaq_f32(acc1_0, x0, wv);
// NEON-NEXT:           acc1_1 = vfmaq_f32(acc1_1, x1, wv);
// NEON-NEXT:           acc1_2 = vfmaq_f32(acc1_2, x2, wv);
// NEON-NEXT:           acc1_3 = vfmaq_f32(acc1_3, x3, wv);
// NEON-NEXT:         }
// NEON-NEXT:       }
// NEON-NEXT:       const float32x4_t vzero = vdupq_n_f32(0.0f);
// NEON-NEXT:       acc0_0 = vmaxq_f32(acc0_0, vzero);
// NEON-NEXT:       acc0_1 = vmaxq_f32(acc0_1, vzero);
// NEON-NEXT:       acc0_2 = vmaxq_f32(acc0_2, vzero);
// NEON-NEXT:       acc0_3 = vmaxq_f32(acc0_3, vzero);
// NEON-NEXT:       acc1_0 = vmaxq_f32(acc1_0, vzero);
// NEON-NEXT:       acc1_1 = vmaxq_f32(acc1_1, vzero);
// NEON-NEXT:       acc1_2 = vmaxq_f32(acc1_2, vzero);
// NEON:      for (; p + 4 <= p1; p += 4) {
// NEON:      for (; p < p1; p += 1) {
// NEON-NOT:  _mm512
