/* Sliding windows beyond ops_dense.c's fast paths (see patdnn_ops.h): dilated convolutions
 * (DeepLab's atrous 3x3s) and pooling with PyTorch's dilation / ceil_mode / count_include_pad=False
 * windows. Plain C, scalar order fixed (bias first, taps row-major), so every ISA and aarch64 give
 * the same bits; the GEMM of a dilated dense conv is ops_dense.c's. */
#include <math.h>
#include <string.h>

#include "patdnn_ops.h"
#include "pdnn_internal.h"

#if defined(__FMA__) || defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define PDNN_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define PDNN_FMA(a, b, c) ((a) * (b) + (c))
#endif

#define PDNN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PDNN_MAX(a, b) ((a) > (b) ? (a) : (b))

/* The output columns x whose tap column x*s + off lies inside [0, size): [*lo, *hi) within [0, out). */
static void valid_range(int size, int out, int s, int off, int *lo, int *hi) {
  int a = off >= 0 ? 0 : (-off + s - 1) / s;
  int b = size - 1 - off >= 0 ? (size - 1 - off) / s + 1 : 0;
  if (b > out) b = out;
  if (a > b) a = b;
  *lo = a;
  *hi = b;
}

/* ============================================================================================
 * Dilated convolution
 * ========================================================================================== */

typedef struct {
  const float *in; /* one image */
  float *col;      /* k rows of ho * wo */
  int c0, h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw;
} dil_col_job;

/* Column-matrix rows r = (ci, ky, kx): col[r][oy*wo + ox] = in[c0+ci][oy*sh + ky*dh - ph][ox*sw + kx*dw - pw]. */
static void dilated_col_rows(void *arg, int64_t begin, int64_t end) {
  const dil_col_job *j = (const dil_col_job *)arg;
  const int64_t p = (int64_t)j->ho * j->wo;
  for (int64_t r = begin; r < end; r++) {
    const int kx = (int)(r % j->kw), ky = (int)(r / j->kw % j->kh), ci = (int)(r / (j->kw * j->kh));
    const float *plane = j->in + (int64_t)(j->c0 + ci) * j->h * j->wd;
    float *dst = j->col + r * p;
    int lo, hi;
    valid_range(j->wd, j->wo, j->sw, kx * j->dw - j->pw, &lo, &hi);
    for (int oy = 0; oy < j->ho; oy++) {
      float *d = dst + (int64_t)oy * j->wo;
      const int iy = oy * j->sh + ky * j->dh - j->ph;
      memset(d, 0, (size_t)j->wo * sizeof(float));
      if (iy < 0 || iy >= j->h) continue;
      pdnn_copy_strided(d + lo, plane + (int64_t)iy * j->wd + (int64_t)lo * j->sw + kx * j->dw - j->pw, hi - lo,
                        j->sw);
    }
  }
}

typedef struct {
  const float *in, *w, *bias, *res;
  float *out;
  int c, h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, act;
} dil_dw_job;

/* Depthwise, one (image, channel) plane per item: o = bias, then every tap in row-major order. */
static void dilated_depthwise_planes(void *arg, int64_t begin, int64_t end) {
  const dil_dw_job *j = (const dil_dw_job *)arg;
  for (int64_t item = begin; item < end; item++) {
    const int c = (int)(item % j->c);
    const float *src = j->in + item * j->h * j->wd;
    float *dst = j->out + item * j->ho * j->wo;
    const float *w = j->w + (int64_t)c * j->kh * j->kw;
    const float b = j->bias ? j->bias[c] : 0.0f;
    for (int oy = 0; oy < j->ho; oy++) {
      float *restrict o = dst + (int64_t)oy * j->wo;
      for (int x = 0; x < j->wo; x++) o[x] = b;
      for (int ky = 0; ky < j->kh; ky++) {
        const int iy = oy * j->sh + ky * j->dh - j->ph;
        if (iy < 0 || iy >= j->h) continue;
        for (int kx = 0; kx < j->kw; kx++) {
          const float wv = w[ky * j->kw + kx];
          const int off = kx * j->dw - j->pw;
          int lo, hi;
          valid_range(j->wd, j->wo, j->sw, off, &lo, &hi);
          const float *restrict r = src + (int64_t)iy * j->wd + off;
          const int sw = j->sw;
          for (int x = lo; x < hi; x++) o[x] = PDNN_FMA(wv, r[x * sw], o[x]);
        }
      }
      pdnn_finish_row(o, j->res ? j->res + (o - j->out) : NULL, j->wo, j->act);
    }
  }
}

void pdnn_conv2d_dilated(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *bias,
                         const float *residual, int n, int cin, int h, int wd, int cout, int ho, int wo, int kh,
                         int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups, int act) {
  if (groups == cin && cout == cin && groups > 1) {
    dil_dw_job job = {in, w, bias, residual, out, cin, h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, act};
    pdnn_parallel_for(ctx, (int64_t)n * cin, dilated_depthwise_planes, &job);
    return;
  }
  const int cin_g = cin / groups, cout_g = cout / groups, k = cin_g * kh * kw;
  const int64_t p = (int64_t)ho * wo;
  float *col = (float *)pdnn_alloc((size_t)k * (size_t)p * sizeof(float));
  for (int b = 0; b < n; b++)
    for (int g = 0; g < groups; g++) {
      dil_col_job job = {in + (int64_t)b * cin * h * wd, col, g * cin_g, h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw};
      pdnn_parallel_for(ctx, k, dilated_col_rows, &job);
      const int64_t oc = (int64_t)b * cout + (int64_t)g * cout_g;
      pdnn_gemm(ctx, cout_g, (int)p, k, w + (int64_t)g * cout_g * k, k, col, p, out + oc * p, p,
                bias ? bias + g * cout_g : NULL, residual ? residual + oc * p : NULL, act);
    }
  pdnn_free(col);
}

/* ============================================================================================
 * Pooling windows (PyTorch's max_pool2d / avg_pool2d loops)
 * ========================================================================================== */

typedef struct {
  const float *in;
  float *out;
  int kind, h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, exclude_pad;
} pool_window_job;

static void pool_window_planes(void *arg, int64_t begin, int64_t end) {
  const pool_window_job *j = (const pool_window_job *)arg;
  for (int64_t item = begin; item < end; item++) {
    const float *src = j->in + item * j->h * j->wd;
    float *dst = j->out + item * j->ho * j->wo;
    for (int oy = 0; oy < j->ho; oy++)
      for (int ox = 0; ox < j->wo; ox++) {
        int y0 = oy * j->sh - j->ph, x0 = ox * j->sw - j->pw;
        float result;
        if (j->kind == PDNN_POOL_MAX) {
          /* the window's taps y0, y0 + dh, ... inside the input (the padding never wins) */
          const int y1 = PDNN_MIN(y0 + (j->kh - 1) * j->dh + 1, j->h), x1 = PDNN_MIN(x0 + (j->kw - 1) * j->dw + 1, j->wd);
          while (y0 < 0) y0 += j->dh;
          while (x0 < 0) x0 += j->dw;
          result = -INFINITY;
          for (int y = y0; y < y1; y += j->dh)
            for (int x = x0; x < x1; x += j->dw) {
              const float v = src[(int64_t)y * j->wd + x];
              if (v > result || v != v) result = v; /* a NaN wins and stays */
            }
        } else {
          /* count_include_pad: the window clipped to the padded input; else to the input */
          int y1 = PDNN_MIN(y0 + j->kh, j->h + j->ph), x1 = PDNN_MIN(x0 + j->kw, j->wd + j->pw);
          const int padded = (y1 - y0) * (x1 - x0);
          y0 = PDNN_MAX(y0, 0);
          x0 = PDNN_MAX(x0, 0);
          y1 = PDNN_MIN(y1, j->h);
          x1 = PDNN_MIN(x1, j->wd);
          float sum = 0.0f;
          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) sum += src[(int64_t)y * j->wd + x];
          result = sum / (float)(j->exclude_pad ? (y1 - y0) * (x1 - x0) : padded);
        }
        dst[(int64_t)oy * j->wo + ox] = result;
      }
  }
}

void pdnn_pool2d_window(pdnn_ctx *ctx, const float *in, float *out, int kind, int n, int c, int h, int wd, int ho,
                        int wo, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int exclude_pad) {
  pool_window_job job = {in, out, kind, h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, exclude_pad};
  pdnn_parallel_for(ctx, (int64_t)n * c, pool_window_planes, &job);
}
