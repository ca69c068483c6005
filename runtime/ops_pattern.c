/* Input preparation for generated pattern convolutions (see patdnn_ops.h).
 *
 * A pattern convolution reads, for kernel column tc, the input columns x*sw + tc - pw of every
 * output column x. Copying those columns once per tc into a "tap-shifted" plane turns every load
 * of the inner loops into an aligned, unit-stride vector load (any stride, no line splits, no
 * bounds checks): plane (c, tc) row yp holds input row first_row + yp (zero outside the input:
 * first_row is negative by the top padding for the first block of rows), columns tc - pw,
 * tc - pw + sw, ... (tc * dw - pw, ... for a dilated convolution). Generated layers shift one block of rows at a time, so the planes stay in
 * L2 while every filter reads them. */
#include <string.h>

#include "patdnn_ops.h"
#include "pdnn_internal.h"

typedef struct {
  const float *in;
  void *out; /* float, or pdnn_half for the fp16 form */
  int cin, h, w, k, sw, dw, first_row, pw, rows, row_len;
} shift_job;

/* Output columns x of plane tc whose source column x*sw + tc*dw - pw lies inside the row: [*lo, *hi). */
static void inside_columns(const shift_job *j, int tc, int *lo, int *hi) {
  const int tap = tc * j->dw;
  const int first = j->pw - tap; /* x*sw >= first */
  int x_lo = first <= 0 ? 0 : (first + j->sw - 1) / j->sw;
  int x_hi = (j->w - 1 + j->pw - tap) / j->sw + 1; /* x*sw + tap - pw <= w - 1 */
  if (j->w - 1 + j->pw - tap < 0) x_hi = 0;
  if (x_hi > j->row_len) x_hi = j->row_len;
  if (x_lo > x_hi) x_lo = x_hi;
  *lo = x_lo;
  *hi = x_hi;
}

static void shift_channels(void *arg, int64_t begin, int64_t end) {
  const shift_job *j = (const shift_job *)arg;
  const int64_t plane = (int64_t)j->rows * j->row_len;
  for (int64_t c = begin; c < end; ++c) {
    const float *src = j->in + c * j->h * j->w;
    for (int tc = 0; tc < j->k; ++tc) {
      float *dst = (float *)j->out + (c * j->k + tc) * plane;
      int x_lo, x_hi;
      inside_columns(j, tc, &x_lo, &x_hi);
      for (int yp = 0; yp < j->rows; ++yp) {
        float *d = dst + (int64_t)yp * j->row_len;
        const int y = j->first_row + yp;
        if (y < 0 || y >= j->h) {
          memset(d, 0, (size_t)j->row_len * sizeof(float));
          continue;
        }
        const float *s = src + (int64_t)y * j->w + tc * j->dw - j->pw;
        memset(d, 0, (size_t)x_lo * sizeof(float));
        pdnn_copy_strided(d + x_lo, s + (int64_t)x_lo * j->sw, x_hi - x_lo, j->sw);
        memset(d + x_hi, 0, (size_t)(j->row_len - x_hi) * sizeof(float));
      }
    }
  }
}

#if PDNN_HAVE_FP16
/* The same planes in fp16, converted while copying (round to nearest even; no extra pass). */
static void shift_channels_f16(void *arg, int64_t begin, int64_t end) {
  const shift_job *j = (const shift_job *)arg;
  const int64_t plane = (int64_t)j->rows * j->row_len;
  for (int64_t c = begin; c < end; ++c) {
    const float *src = j->in + c * j->h * j->w;
    for (int tc = 0; tc < j->k; ++tc) {
      pdnn_half *dst = (pdnn_half *)j->out + (c * j->k + tc) * plane;
      int x_lo, x_hi;
      inside_columns(j, tc, &x_lo, &x_hi);
      for (int yp = 0; yp < j->rows; ++yp) {
        pdnn_half *d = dst + (int64_t)yp * j->row_len;
        const int y = j->first_row + yp;
        const int inside = y >= 0 && y < j->h;
        const float *s = inside ? src + (int64_t)y * j->w + tc * j->dw - j->pw : src;
        for (int x = 0; x < j->row_len; ++x)
          d[x] = (pdnn_half)(inside && x >= x_lo && x < x_hi ? s[(int64_t)x * j->sw] : 0.0f);
      }
    }
  }
}

void pdnn_shift_input_f16(pdnn_ctx *ctx, const float *in, pdnn_half *out, int cin, int h, int w, int k, int sw,
                          int dw, int first_row, int pw, int rows, int row_len) {
  shift_job job = {in, out, cin, h, w, k, sw, dw, first_row, pw, rows, row_len};
  pdnn_parallel_for(ctx, cin, shift_channels_f16, &job);
}
#endif

void pdnn_shift_input(pdnn_ctx *ctx, const float *in, float *out, int cin, int h, int w, int k, int sw,
                      int first_row, int pw, int rows, int row_len) {
  pdnn_shift_input_dilated(ctx, in, out, cin, h, w, k, sw, 1, first_row, pw, rows, row_len);
}

void pdnn_shift_input_dilated(pdnn_ctx *ctx, const float *in, float *out, int cin, int h, int w, int k, int sw,
                              int dw, int first_row, int pw, int rows, int row_len) {
  shift_job job = {in, out, cin, h, w, k, sw, dw, first_row, pw, rows, row_len};
  pdnn_parallel_for(ctx, cin, shift_channels, &job);
}
