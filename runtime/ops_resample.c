/* Resampling layers (see patdnn_ops.h): transposed convolution and nearest / bilinear upsampling
 * with PyTorch's source indices. Plain C in a fixed order, so every ISA and aarch64 give the same
 * bits. */
#include <math.h>
#include <string.h>

#include "patdnn_ops.h"
#include "pdnn_internal.h"

#if defined(__FMA__) || defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define PDNN_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define PDNN_FMA(a, b, c) ((a) * (b) + (c))
#endif

/* ============================================================================================
 * Transposed convolution
 * ========================================================================================== */

typedef struct {
  const float *in, *w, *bias;
  float *out;
  int cin, h, wd, cout, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, groups, act;
} convt_job;

/* One (image, output channel) plane per item: bias, then every input channel of the group and tap
 * scatters in[c][iy][ix] * w[c][o][ky][kx] to out[iy*sh - ph + ky*dh][ix*sw - pw + kx*dw]. */
static void convt_planes(void *arg, int64_t begin, int64_t end) {
  const convt_job *j = (const convt_job *)arg;
  const int cpg = j->cin / j->groups, opg = j->cout / j->groups;
  for (int64_t item = begin; item < end; item++) {
    const int o = (int)(item % j->cout), b = (int)(item / j->cout), g = o / opg;
    float *dst = j->out + item * j->ho * j->wo;
    const float bias = j->bias ? j->bias[o] : 0.0f;
    for (int64_t i = 0; i < (int64_t)j->ho * j->wo; i++) dst[i] = bias;
    for (int ci = 0; ci < cpg; ci++) {
      const int c = g * cpg + ci;
      const float *src = j->in + ((int64_t)b * j->cin + c) * j->h * j->wd;
      const float *w = j->w + ((int64_t)c * opg + o % opg) * j->kh * j->kw;
      for (int ky = 0; ky < j->kh; ky++)
        for (int kx = 0; kx < j->kw; kx++) {
          const float wv = w[ky * j->kw + kx];
          const int offx = kx * j->dw - j->pw; /* ox = ix * sw + offx */
          int lo = offx >= 0 ? 0 : (-offx + j->sw - 1) / j->sw;
          int hi = j->wo - 1 - offx >= 0 ? (j->wo - 1 - offx) / j->sw + 1 : 0;
          if (hi > j->wd) hi = j->wd;
          if (lo > hi) lo = hi;
          for (int iy = 0; iy < j->h; iy++) {
            const int oy = iy * j->sh + ky * j->dh - j->ph;
            if (oy < 0 || oy >= j->ho) continue;
            const float *restrict s = src + (int64_t)iy * j->wd;
            float *restrict d = dst + (int64_t)oy * j->wo + offx;
            const int sw = j->sw;
            for (int ix = lo; ix < hi; ix++) d[ix * sw] = PDNN_FMA(wv, s[ix], d[ix * sw]);
          }
        }
    }
    pdnn_act_row(dst, (int64_t)j->ho * j->wo, j->act);
  }
}

void pdnn_conv_transpose2d(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *bias, int n,
                           int cin, int h, int wd, int cout, int ho, int wo, int kh, int kw, int sh, int sw, int ph,
                           int pw, int dh, int dw, int groups, int act) {
  convt_job job = {in, w, bias, out, cin, h, wd, cout, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, groups, act};
  pdnn_parallel_for(ctx, (int64_t)n * cout, convt_planes, &job);
}

/* ============================================================================================
 * Upsampling
 * ========================================================================================== */

/* PyTorch's nearest source index (aten/src/ATen/native/UpSample.h, nearest_idx). */
static int nearest_index(int i, int in, int out, float scale) {
  if (out == in) return i;
  if (out == 2 * in) return i >> 1;
  const int src = (int)floorf((float)i * scale);
  return src < in - 1 ? src : in - 1;
}

typedef struct {
  const float *in;
  float *out;
  int h, wd, ho, wo, mode, align_corners;
  float scale_h, scale_w;
  const int *iy0, *iy1, *ix0, *ix1; /* source rows / columns of every output row / column */
  const float *ly, *lx;             /* bilinear: the weight of the second source row / column */
} upsample_job;

static void upsample_planes(void *arg, int64_t begin, int64_t end) {
  const upsample_job *j = (const upsample_job *)arg;
  for (int64_t item = begin; item < end; item++) {
    const float *src = j->in + item * j->h * j->wd;
    float *dst = j->out + item * j->ho * j->wo;
    for (int oy = 0; oy < j->ho; oy++) {
      float *restrict o = dst + (int64_t)oy * j->wo;
      const float *r0 = src + (int64_t)j->iy0[oy] * j->wd, *r1 = src + (int64_t)j->iy1[oy] * j->wd;
      if (j->mode == PDNN_UPSAMPLE_NEAREST) {
        for (int ox = 0; ox < j->wo; ox++) o[ox] = r0[j->ix0[ox]];
        continue;
      }
      const float l1h = j->ly[oy], l0h = 1.0f - l1h;
      for (int ox = 0; ox < j->wo; ox++) {
        const float l1w = j->lx[ox], l0w = 1.0f - l1w;
        const int a = j->ix0[ox], b = j->ix1[ox];
        /* PyTorch's order: (x00 * l0w + x01 * l1w) * l0h + (x10 * l0w + x11 * l1w) * l1h */
        o[ox] = (r0[a] * l0w + r0[b] * l1w) * l0h + (r1[a] * l0w + r1[b] * l1w) * l1h;
      }
    }
  }
}

/* Source indices and weights of one axis (PyTorch's area_pixel_compute_source_index and
 * compute_indices_weights_linear). */
static void axis_indices(int mode, int align_corners, int in, int out, float scale, int *i0, int *i1, float *l1) {
  for (int i = 0; i < out; i++) {
    if (mode == PDNN_UPSAMPLE_NEAREST) {
      i0[i] = i1[i] = nearest_index(i, in, out, scale);
      continue;
    }
    float src = align_corners ? scale * (float)i : scale * ((float)i + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    const int a = (int)src;
    i0[i] = a;
    i1[i] = a + (a < in - 1 ? 1 : 0);
    float lambda = src - (float)a;
    l1[i] = lambda < 0.0f ? 0.0f : lambda > 1.0f ? 1.0f : lambda;
  }
}

void pdnn_upsample2d(pdnn_ctx *ctx, const float *in, float *out, int mode, int align_corners, int n, int c, int h,
                     int wd, int ho, int wo, float scale_h, float scale_w) {
  int *idx = (int *)pdnn_alloc((size_t)2 * (ho + wo) * sizeof(int));
  float *lambda = (float *)pdnn_alloc((size_t)(ho + wo) * sizeof(float));
  int *iy0 = idx, *iy1 = idx + ho, *ix0 = idx + 2 * ho, *ix1 = idx + 2 * ho + wo;
  axis_indices(mode, align_corners, h, ho, scale_h, iy0, iy1, lambda);
  axis_indices(mode, align_corners, wd, wo, scale_w, ix0, ix1, lambda + ho);
  upsample_job job = {in, out, h, wd, ho, wo, mode, align_corners, scale_h, scale_w, iy0, iy1, ix0, ix1,
                      lambda, lambda + ho};
  pdnn_parallel_for(ctx, (int64_t)n * c, upsample_planes, &job);
  pdnn_free(lambda);
  pdnn_free(idx);
}
