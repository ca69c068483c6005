/* 1x1 convolutions with few pixels per channel, vectorised along output channels.
 *
 * pdnn_gemm puts its vectors along pixels, in strips of 32 (AVX-512): a 7x7 plane (49 pixels)
 * fills 49 of 64 lanes, so ResNet-50's last stage ran at 52-60% of peak. Here a register tile is
 * 64 output channels (4 vectors) x 7 pixels (28 accumulators; 7 divides every ResNet plane): per
 * input channel k it loads 4 vectors of weights and broadcasts 7 pixels. The weights are packed once, at model load, into [cout / 64][cin][64] (pdnn_pack_cm);
 * the input is packed per call into [pixel tile][cin][8], which also applies the stride, so a
 * strided 1x1 (ResNet's downsample) needs no gather. Each output is bias + products fused in k
 * order, as in pdnn_gemm: the same bits as the pixel-vector path.
 *
 * AVX-512 builds only: elsewhere pdnn_pack_cm returns NULL and pdnn_conv1x1_cm runs
 * pdnn_conv2d_dense. */
#include <string.h>

#include "patdnn_ops.h"
#include "pdnn_internal.h"

#define CM_CH 64 /* output channels per tile (and per packed weight strip) */
#define CM_NP 7  /* pixels per tile */
#define CM_LD 8  /* floats per input channel in a packed pixel tile (7 used, 1 zero) */

/* Where this kernel is built and pays: pdnn_gemm's 32-pixel strips would leave over 15% of the
 * lanes idle. One Zen 5 core: 2048->512 @7x7 (49 of 64 lanes) 151 -> 195 GFLOP/s; at 14x14 (196
 * of 224) pdnn_gemm is as fast or faster (256->1024: 191 vs 172). */
static int cm_supported(int cout, int pixels) {
#if defined(__AVX512F__)
  const int strips = (pixels + 31) / 32;
  return cout % CM_CH == 0 && pixels > 0 && 20 * pixels < 17 * 32 * strips;
#else
  (void)cout;
  (void)pixels;
  return 0;
#endif
}

float *pdnn_pack_cm(const float *w, int cout, int cin, int pixels) {
  if (!cm_supported(cout, pixels)) return NULL;
  float *packed = (float *)pdnn_alloc((size_t)cout * (size_t)cin * sizeof(float));
  for (int s = 0; s < cout / CM_CH; s++)
    for (int k = 0; k < cin; k++)
      for (int c = 0; c < CM_CH; c++) packed[((int64_t)s * cin + k) * CM_CH + c] = w[(int64_t)(s * CM_CH + c) * cin + k];
  return packed;
}

#if defined(__AVX512F__)
#include <immintrin.h>

typedef struct {
  const float *in; /* one image */
  float *bp;       /* packed input: [tiles][cin][CM_LD] */
  const float *wcm, *bias, *res; /* res: NULL or one image's residual, like out */
  float *out; /* one image */
  int cin, h, wd, wo, sh, sw, p, tiles, act;
} cm_job;

/* Pixel tiles of the input, strided, into [tile][cin][CM_LD] (missing pixels are zero). */
static void cm_pack_input(void *arg, int64_t begin, int64_t end) {
  const cm_job *j = (const cm_job *)arg;
  for (int64_t t = begin; t < end; t++) {
    int64_t src[CM_NP] = {0};
    int np = 0;
    for (; np < CM_NP && t * CM_NP + np < j->p; np++) {
      const int64_t px = t * CM_NP + np, oy = px / j->wo, ox = px % j->wo;
      src[np] = oy * j->sh * j->wd + ox * j->sw;
    }
    float *d = j->bp + t * (int64_t)j->cin * CM_LD;
    for (int k = 0; k < j->cin; k++, d += CM_LD) {
      const float *plane = j->in + (int64_t)k * j->h * j->wd;
      for (int i = 0; i < CM_LD; i++) d[i] = i < np ? plane[src[i]] : 0.0f;
    }
  }
}

/* One strip of 64 output channels per item, every pixel tile of it. */
static void cm_strips(void *arg, int64_t begin, int64_t end) {
  const cm_job *j = (const cm_job *)arg;
  float buf[CM_NP * CM_CH] __attribute__((aligned(64)));
  for (int64_t s = begin; s < end; s++) {
    const float *ws = j->wcm + s * (int64_t)j->cin * CM_CH;
    const int c0 = (int)s * CM_CH;
    for (int t = 0; t < j->tiles; t++) {
      const float *b = j->bp + (int64_t)t * j->cin * CM_LD;
      __m512 acc[CM_NP][4];
      for (int v = 0; v < 4; v++) {
        const __m512 bias = j->bias ? _mm512_loadu_ps(j->bias + c0 + 16 * v) : _mm512_setzero_ps();
        for (int i = 0; i < CM_NP; i++) acc[i][v] = bias;
      }
      for (int k = 0; k < j->cin; k++) {
        const float *wk = ws + (int64_t)k * CM_CH, *bk = b + (int64_t)k * CM_LD;
        const __m512 w0 = _mm512_loadu_ps(wk), w1 = _mm512_loadu_ps(wk + 16), w2 = _mm512_loadu_ps(wk + 32),
                     w3 = _mm512_loadu_ps(wk + 48);
        for (int i = 0; i < CM_NP; i++) { /* unrolled by the compiler: 28 accumulators in registers */
          const __m512 x = _mm512_set1_ps(bk[i]);
          acc[i][0] = _mm512_fmadd_ps(w0, x, acc[i][0]);
          acc[i][1] = _mm512_fmadd_ps(w1, x, acc[i][1]);
          acc[i][2] = _mm512_fmadd_ps(w2, x, acc[i][2]);
          acc[i][3] = _mm512_fmadd_ps(w3, x, acc[i][3]);
        }
      }
      for (int i = 0; i < CM_NP; i++)
        for (int v = 0; v < 4; v++) _mm512_store_ps(buf + i * CM_CH + 16 * v, acc[i][v]);
      /* back to channel planes: row c of the tile is 7 pixels of output channel c0 + c */
      const int p0 = t * CM_NP, np = j->p - p0 < CM_NP ? j->p - p0 : CM_NP;
      for (int c = 0; c < CM_CH; c++) {
        float *o = j->out + (int64_t)(c0 + c) * j->p + p0;
        for (int i = 0; i < np; i++) o[i] = buf[i * CM_CH + c];
        pdnn_finish_row(o, j->res ? j->res + (o - j->out) : NULL, np, j->act);
      }
    }
  }
}
#endif

void pdnn_conv1x1_cm(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *wcm, const float *bias,
                     const float *residual, int n, int cin, int h, int wd, int cout, int ho, int wo, int sh, int sw,
                     int act) {
#if defined(__AVX512F__)
  if (wcm) {
    const int p = ho * wo, tiles = (p + CM_NP - 1) / CM_NP;
    float *bp = (float *)pdnn_alloc((size_t)tiles * (size_t)cin * CM_LD * sizeof(float));
    for (int b = 0; b < n; b++) {
      const int64_t image = (int64_t)b * cout * p;
      cm_job job = {in + (int64_t)b * cin * h * wd, bp, wcm, bias, residual ? residual + image : NULL, out + image, cin, h,
                    wd, wo, sh, sw, p, tiles, act};
      pdnn_parallel_for(ctx, tiles, cm_pack_input, &job);
      pdnn_parallel_for(ctx, cout / CM_CH, cm_strips, &job);
    }
    pdnn_free(bp);
    return;
  }
#endif
  (void)wcm;
  pdnn_conv2d_dense(ctx, in, out, w, bias, residual, n, cin, h, wd, cout, ho, wo, 1, 1, sh, sw, 0, 0, 1, 1, 1, act);
}
