// RUN: patdnn-opt %s -p "tile-tune{isa=neon_fp16},lower-pattern-to-kernel" -t "neon{platform=aarch64 precision=fp16}" | filecheck %s
// RUN: not patdnn-opt %s -p lower-pattern-to-kernel -t "neon{precision=fp16}" 2>&1 | filecheck %s --check-prefix=HOST
// RUN: not patdnn-opt %s -p lower-pattern-to-kernel -t "avx512{precision=fp16}" 2>&1 | filecheck %s --check-prefix=X86

// HOST: precision=fp16 on the neon target needs platform=aarch64
// HOST-NOT: Traceback
// X86: precision=fp16 needs isa=neon (ARMv8.2 FP16 arithmetic) or the opencl target
// X86-NOT: Traceback

// precision=fp16 (patdnn/backend/c/pattern_fp16.py): tile-tune tiles for neon_fp16's 8 half lanes,
// the weights are converted to fp16 once at init, the tap-shifted planes are fp16, the loops
// accumulate in fp16 and widen to fp32 (bias, activation, output) when the channel block closes.

func.func @net(%x: memref<1x2x6x10xf32>, %y: memref<1x3x6x10xf32>) {
  pattern.conv2d ins(%x : memref<1x2x6x10xf32>) outs(%y : memref<1x3x6x10xf32>) stride [1, 1] padding [1, 1] activation relu
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, -1], [1, 0]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]> : tensor<16xf32>
      bias dense<[0.5, -0.25, 0.125]> : tensor<3xf32> {layer = "conv1"}
  func.return
}

// 10 output columns: two 8-lane vectors (a 16-column tile, the last column tile is ragged).
// CHECK:      register tile {{[0-9]+}}x16, 1 channel block(s) of 2 */
// CHECK:      static const float *conv0_conv1_weights;
// CHECK:      static float16_t conv0_conv1_weights_h[16];
// CHECK:      static void conv0_conv1_filters(void *arg, int64_t begin, int64_t end) {
// CHECK:        const float16_t *tile_in = (const float16_t *)job->in +
// CHECK:        const float32x4_t vbias = vdupq_n_f32(conv0_conv1_bias[o]);
// CHECK:        float16x8_t acc0_0 = vdupq_n_f16(0), acc0_1 = vdupq_n_f16(0)
// CHECK:          const float16_t *w = conv0_conv1_weights_h + sg[2];
// CHECK:            const float16x8_t v{{[0-9]+}}_0 = vld1q_f16(ip + {{[0-9]+}});
// CHECK:            acc0_0 = vfmaq_f16(acc0_0, v{{[0-9]+}}_0, w0);
// CHECK:        float32x4_t o0_0 = vcvt_f32_f16(vget_low_f16(acc0_0));
// CHECK-NEXT:   float32x4_t o0_1 = vcvt_high_f32_f16(acc0_0);
// CHECK:        o0_0 = vaddq_f32(o0_0, vbias);
// CHECK:        o0_0 = vmaxq_f32(o0_0, vzero);
// CHECK:        vst1q_f32(out_t + 0, o0_0);
// CHECK:      pdnn_shift_input_f16(ctx, in + (int64_t)n * 120, (pdnn_half *)patdnn_scratch, 2, 6, 10, 3, 1, 1,
// CHECK:      static int patdnn_init(pdnn_ctx *ctx) {
// CHECK:        for (int i = 0; i < 16; ++i) conv0_conv1_weights_h[i] = (float16_t)conv0_conv1_weights[i];
