// RUN: patdnn-opt %s -p "tile-tune{isa=avx512 channel_block=2 filter_group=1},lower-pattern-to-kernel,fkw-pack" | filecheck %s --check-prefix=IR
// RUN: patdnn-opt %s -p "tile-tune{isa=avx512 channel_block=2 filter_group=1},lower-pattern-to-kernel,fkw-pack" -t "c{isa=avx512}" | filecheck %s --check-prefix=C
// RUN: patdnn-opt %s -p "tile-tune{isa=avx512 channel_block=2},lower-pattern-to-kernel,fkw-pack" -t "c{isa=avx512}" | filecheck %s --check-prefix=PATDNN
// RUN: not patdnn-opt %s -p "tile-tune{isa=avx512 filter_group=-2}" 2>&1 | filecheck %s --check-prefix=NEGATIVE

// The tap-list loop form (filter_group > 0, patdnn/backend/c/pattern_taps.py): the schedule carries
// the filter group into kernel.pattern_conv; the C has one tap list instead of per-pattern loops.
// IR: kernel.pattern_conv
// IR-SAME: patdnn.schedule = {tile_x = 16 : i64, tile_y = 5 : i64, channel_block = 2 : i64, filter_group = 1 : i64}
// IR-SAME: channel_block = 2 : i64, filter_group = 1 : i64

// Planes of 7 rows x 16 = 112 floats, 336 a channel; tap offset = channel * 336 + col * 112 + row * 16.
// Filter 0: channel 0 pattern 0 (taps (0,1) (1,0) (1,1) (1,2)) and channel 1 pattern 1 (taps (0,1)
// (1,0) (1,1) (2,1)) in block 0, nothing in block 1; filter 1: channel 1 pattern 0 in block 0,
// channel 2 pattern 1 in block 1. Visits (filter, block) start at kernels 0 2 2 3, 4 in all.
// C:      static const int32_t conv0_visit[5] = {
// C-NEXT:   0, 2, 2, 3, 4
// C:      static const int32_t conv0_taps[16] = {
// C-NEXT:   112, 16, 128, 240, 448, 352, 464, 480, 448, 352, 464, 576, 784, 688, 800, 816
// The weights of every kernel, copied at load time from the FKW order (filter, pattern, channel).
// C:      static const int32_t conv0_tapw_src[4] = {
// C-NEXT:   0, 4, 8, 12
// C:      static float conv0_tapw[16] __attribute__((aligned(64)));
// L2 blocks of channel blocks, groups of filter_group filters, the blocks, the filters of a group.
// C:      for (int c2 = 0; c2 < 2; c2 += 2)
// C-NEXT: for (int64_t g = begin; g < end; g += 1) {
// C-NEXT: const int64_t g_end = g + 1 < end ? g + 1 : end;
// C-NEXT: for (int b = c2; b < c2 + 2 && b < 2; ++b)
// C-NEXT: for (int64_t idx = g; idx < g_end; ++idx) {
// One loop per visit; each tap: one broadcast weight, one FMA per row with its load folded in.
// C:      for (int32_t k = conv0_visit[idx * 2 + b]; k < conv0_visit[idx * 2 + b + 1]; ++k) {
// C-NEXT:   const int32_t *t = conv0_taps + (int64_t)4 * k;
// C-NEXT:   const float *w = conv0_tapw + (int64_t)4 * k;
// C-NEXT:   { const float *ip = tile_in + t[0]; const __m512 w0 = _mm512_set1_ps(w[0]);
// C-NEXT:     acc0_0 = _mm512_fmadd_ps(_mm512_load_ps(ip + 0), w0, acc0_0);
// C-NEXT:     acc1_0 = _mm512_fmadd_ps(_mm512_load_ps(ip + 16), w0, acc1_0);
// C:      { const float *ip = tile_in + t[3]; const __m512 w3 = _mm512_set1_ps(w[3]);
// C-NOT:  pattern 0: 010|111|000
// C:      static int patdnn_init(
// C:      for (int i = 0; i < 4; ++i) memcpy(conv0_tapw + 4 * i, conv0_weights + conv0_tapw_src[i], 4 * sizeof(float));

// Without filter_group: PatDNN's per-pattern loops, no tap list.
// PATDNN-NOT: conv0_taps
// PATDNN: { /* pattern 0: 010|111|000 */
// PATDNN-NOT: conv0_taps

// NEGATIVE: tile-tune: filter_group=-2 must be >= 0

func.func @net(%x: memref<1x3x5x5xf32>, %y: memref<1x2x5x5xf32>) {
  pattern.conv2d ins(%x : memref<1x3x5x5xf32>) outs(%y : memref<1x2x5x5xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1, -1], [-1, 0, 1]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]> : tensor<16xf32>
      bias dense<[0.5, -0.5]> : tensor<2xf32>
  func.return
}
