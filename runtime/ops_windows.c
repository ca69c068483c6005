/* Pooling windows beyond ops_dense.c's fast path (see patdnn_ops.h): PyTorch's dilation / ceil_mode /
 * count_include_pad=False windows. Plain C, scalar order fixed (taps row-major), so every ISA and
 * aarch64 give the same bits. (Dilated convolutions are ops_dense.c's pdnn_conv2d_dense.) */
#include <math.h>

#include "patdnn_ops.h"

#define PDNN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PDNN_MAX(a, b) ((a) > (b) ? (a) : (b))

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
