/* Layout and normalisation kernels for the `nn` dialect (see patdnn_ops.h): permute, slice,
 * layer norm, softmax along any axis, per-channel scale-and-shift, mean over axes.
 *
 * Every op sees its buffer as outer x m x inner (m the dims it works along): loops over m carry
 * the inner index as the contiguous, vectorisable one, and sums run in m order (no
 * reassociation), so SIMDe-on-x86 and aarch64 builds give the same bits. */
#include <math.h>
#include <string.h>

#include "patdnn_ops.h"
#include "pdnn_internal.h"

#define LAYOUT_MAX_RANK 6
#define INNER_CHUNK 256 /* inner positions per work item (a row of sums stays in L1) */

/* ============================================================================================
 * Permute: out[i0..i5] = in at the input index whose dim perm[k] is ik.
 * ========================================================================================== */
typedef struct {
  const float *in;
  float *out;
  int64_t dims[LAYOUT_MAX_RANK];    /* output dims, padded with leading 1s */
  int64_t strides[LAYOUT_MAX_RANK]; /* input stride of each output dim */
} permute_job;

static void permute_rows(void *arg, int64_t begin, int64_t end) {
  const permute_job *j = (const permute_job *)arg;
  const int64_t *d = j->dims, *s = j->strides, len = d[5];
  for (int64_t row = begin; row < end; row++) {
    int64_t rest = row, at = 0;
    for (int k = 4; k >= 0; k--) {
      at += rest % d[k] * s[k];
      rest /= d[k];
    }
    float *o = j->out + row * len;
    const float *i = j->in + at;
    if (s[5] == 1)
      memcpy(o, i, (size_t)len * sizeof(float));
    else
      for (int64_t x = 0; x < len; x++) o[x] = i[x * s[5]];
  }
}

void pdnn_permute(pdnn_ctx *ctx, const float *in, float *out, int rank, const int64_t *shape, const int *perm) {
  permute_job job = {in, out, {1, 1, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0}};
  int64_t in_strides[LAYOUT_MAX_RANK], stride = 1;
  for (int k = rank - 1; k >= 0; k--) {
    in_strides[k] = stride;
    stride *= shape[k];
  }
  const int pad = LAYOUT_MAX_RANK - rank;
  for (int k = 0; k < rank; k++) {
    job.dims[pad + k] = shape[perm[k]];
    job.strides[pad + k] = in_strides[perm[k]];
  }
  int64_t rows = 1;
  for (int k = 0; k < 5; k++) rows *= job.dims[k];
  pdnn_parallel_for(ctx, rows, permute_rows, &job);
}

/* ============================================================================================
 * Slice: out[o, k, i] = in[o, start + k * step, i]
 * ========================================================================================== */
void pdnn_slice(pdnn_ctx *ctx, const float *in, float *out, int64_t outer, int64_t in_len, int64_t out_len,
                int64_t inner, int64_t start, int64_t step) {
  (void)ctx; /* memory bound: one thread saturates the bandwidth a copy gets */
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < out_len; k++)
      memcpy(out + (o * out_len + k) * inner, in + (o * in_len + start + k * step) * inner,
             (size_t)inner * sizeof(float));
}

/* ============================================================================================
 * Reductions along m of outer x m x inner: work items are (outer, inner chunk) pairs.
 * ========================================================================================== */
typedef struct {
  const float *in;
  float *out;
  const float *w, *b;
  int64_t outer, m, inner, chunks;
  float eps;
  int flag; /* softmax: log; scale-shift: the activation */
} axis_job;

/* The first element and length of work item `item`'s inner chunk. */
static int64_t chunk_at(const axis_job *j, int64_t item, int64_t *len) {
  const int64_t o = item / j->chunks, i0 = item % j->chunks * INNER_CHUNK;
  *len = j->inner - i0 < INNER_CHUNK ? j->inner - i0 : INNER_CHUNK;
  return o * j->m * j->inner + i0;
}

static void run_axis(pdnn_ctx *ctx, axis_job *job, pdnn_range_fn fn) {
  job->chunks = (job->inner + INNER_CHUNK - 1) / INNER_CHUNK;
  pdnn_parallel_for(ctx, job->outer * job->chunks, fn, job);
}

/* Layer norm: mean, then the biased variance of the deviations (two passes, as precise as torch). */
static void layer_norm_items(void *arg, int64_t begin, int64_t end) {
  const axis_job *j = (const axis_job *)arg;
  const int64_t m = j->m, st = j->inner;
  float mean[INNER_CHUNK], rstd[INNER_CHUNK];
  for (int64_t item = begin; item < end; item++) {
    int64_t len;
    const int64_t at = chunk_at(j, item, &len);
    const float *x = j->in + at;
    float *y = j->out + at;
    for (int64_t i = 0; i < len; i++) mean[i] = 0.0f;
    for (int64_t c = 0; c < m; c++)
      for (int64_t i = 0; i < len; i++) mean[i] += x[c * st + i];
    for (int64_t i = 0; i < len; i++) mean[i] /= (float)m, rstd[i] = 0.0f;
    for (int64_t c = 0; c < m; c++)
      for (int64_t i = 0; i < len; i++) {
        const float d = x[c * st + i] - mean[i];
        rstd[i] += d * d;
      }
    for (int64_t i = 0; i < len; i++) rstd[i] = 1.0f / sqrtf(rstd[i] / (float)m + j->eps);
    for (int64_t c = 0; c < m; c++) {
      const float w = j->w ? j->w[c] : 1.0f, b = j->b ? j->b[c] : 0.0f;
      for (int64_t i = 0; i < len; i++) y[c * st + i] = (x[c * st + i] - mean[i]) * rstd[i] * w + b;
    }
  }
}

void pdnn_layer_norm(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *b, int64_t outer,
                     int64_t m, int64_t inner, float eps) {
  axis_job job = {in, out, w, b, outer, m, inner, 0, eps, 0};
  run_axis(ctx, &job, layer_norm_items);
}

static void softmax_items(void *arg, int64_t begin, int64_t end) {
  const axis_job *j = (const axis_job *)arg;
  const int64_t m = j->m, st = j->inner;
  float top[INNER_CHUNK], sum[INNER_CHUNK];
  for (int64_t item = begin; item < end; item++) {
    int64_t len;
    const int64_t at = chunk_at(j, item, &len);
    const float *x = j->in + at;
    float *y = j->out + at;
    for (int64_t i = 0; i < len; i++) top[i] = x[i], sum[i] = 0.0f;
    for (int64_t c = 1; c < m; c++)
      for (int64_t i = 0; i < len; i++) top[i] = x[c * st + i] > top[i] ? x[c * st + i] : top[i];
    for (int64_t c = 0; c < m; c++)
      for (int64_t i = 0; i < len; i++) {
        y[c * st + i] = expf(x[c * st + i] - top[i]);
        sum[i] += y[c * st + i];
      }
    if (j->flag) { /* log-softmax: x - max - log(sum) */
      for (int64_t i = 0; i < len; i++) sum[i] = logf(sum[i]);
      for (int64_t c = 0; c < m; c++)
        for (int64_t i = 0; i < len; i++) y[c * st + i] = x[c * st + i] - top[i] - sum[i];
    } else {
      for (int64_t i = 0; i < len; i++) sum[i] = 1.0f / sum[i];
      for (int64_t c = 0; c < m; c++)
        for (int64_t i = 0; i < len; i++) y[c * st + i] *= sum[i];
    }
  }
}

void pdnn_softmax_axis(pdnn_ctx *ctx, const float *in, float *out, int64_t outer, int64_t m, int64_t inner,
                       int log) {
  axis_job job = {in, out, NULL, NULL, outer, m, inner, 0, 0.0f, log};
  run_axis(ctx, &job, softmax_items);
}

static void mean_items(void *arg, int64_t begin, int64_t end) {
  const axis_job *j = (const axis_job *)arg;
  for (int64_t item = begin; item < end; item++) {
    int64_t len;
    const int64_t at = chunk_at(j, item, &len);
    const float *x = j->in + at;
    float *y = j->out + item / j->chunks * j->inner + item % j->chunks * INNER_CHUNK;
    for (int64_t i = 0; i < len; i++) y[i] = 0.0f;
    for (int64_t c = 0; c < j->m; c++)
      for (int64_t i = 0; i < len; i++) y[i] += x[c * j->inner + i];
    for (int64_t i = 0; i < len; i++) y[i] /= (float)j->m;
  }
}

void pdnn_mean_axes(pdnn_ctx *ctx, const float *in, float *out, int64_t outer, int64_t m, int64_t inner) {
  axis_job job = {in, out, NULL, NULL, outer, m, inner, 0, 0.0f, 0};
  run_axis(ctx, &job, mean_items);
}

/* ============================================================================================
 * Scale and shift: out[n, c, i] = act(in[n, c, i] * w[c] + b[c]), one work item per (n, c) plane.
 * ========================================================================================== */
static void scale_shift_planes(void *arg, int64_t begin, int64_t end) {
  const axis_job *j = (const axis_job *)arg;
  for (int64_t plane = begin; plane < end; plane++) {
    const int64_t c = plane % j->m;
    const float w = j->w[c], b = j->b ? j->b[c] : 0.0f;
    const float *x = j->in + plane * j->inner;
    float *y = j->out + plane * j->inner;
    for (int64_t i = 0; i < j->inner; i++) y[i] = x[i] * w + b;
    pdnn_act_row(y, j->inner, j->flag);
  }
}

void pdnn_scale_shift(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *b, int64_t n,
                      int64_t c, int64_t inner, int act) {
  axis_job job = {in, out, w, b, n, c, inner, 0, 0.0f, act};
  pdnn_parallel_for(ctx, n * c, scale_shift_planes, &job);
}
