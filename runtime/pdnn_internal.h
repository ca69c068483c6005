/* Runtime-internal declarations shared by the runtime's .c files (not for generated code). */
#ifndef PDNN_INTERNAL_H
#define PDNN_INTERNAL_H

#include <string.h>

#include "patdnn_runtime.h"

typedef struct pdnn_pool pdnn_pool;

/* A pool of num_threads-1 workers (the caller is the remaining thread); NULL on OOM. */
pdnn_pool *pdnn_pool_create(int num_threads);
void pdnn_pool_destroy(pdnn_pool *pool);
void pdnn_pool_run(pdnn_pool *pool, int64_t n, pdnn_range_fn fn, void *arg);

/* d[x] = s[x * stride] for x < n (the input columns a strided window reads): memcpy for stride 1;
 * stride 2 gets a loop with a literal stride, which GCC vectorises with permutes where a variable
 * stride stays a scalar gather (ResNet-50's 7x7/2 stem: 2.0 -> 1.6 ms). */
static inline void pdnn_copy_strided(float *restrict d, const float *restrict s, int64_t n, int stride) {
  if (stride == 1)
    memcpy(d, s, (size_t)n * sizeof(float));
  else if (stride == 2)
    for (int64_t x = 0; x < n; x++) d[x] = s[2 * x];
  else
    for (int64_t x = 0; x < n; x++) d[x] = s[x * stride];
}

/* A fused activation (PDNN_ACT_* or a pdnn_act_code) applied in place to n values (ops_act.c). */
void pdnn_act_row(float *restrict v, int64_t n, int act);
/* The end of an output row: + residual (unless NULL), then the activation (ops_dense.c). */
void pdnn_finish_row(float *restrict v, const float *restrict residual, int64_t n, int act);

/* The geometry of a depthwise convolution's plane: input h x wd, output ho x wo, kernel kh x kw,
 * stride, padding, dilation. */
typedef struct {
  int h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw;
} pdnn_dw_shape;
/* Output rows [oy0, oy1) of one depthwise channel (ops_dense.c): out = act(b + taps of w [+ res]).
 * src holds the plane's input rows from row iy0 on (wd floats apart): every row the band reads
 * that lies inside the input (rows oy0*sh - ph ... (oy1-1)*sh - ph + (kh-1)*dh). dst and res
 * (NULL: none) point at output row oy0, rows wo apart. pad: pdnn_depthwise_pad_floats(s, oy1 - oy0)
 * floats of scratch, written whole; flat: (oy1 - oy0) * (wd + 2*pw) floats (the narrow stride-1
 * 3x3 loop), or NULL. The same bits whatever the band. */
void pdnn_depthwise_rows(const pdnn_dw_shape *s, const float *w, float b, const float *src, int iy0, int oy0, int oy1,
                         float *pad, float *flat, float *dst, const float *res, int act);
size_t pdnn_depthwise_pad_floats(const pdnn_dw_shape *s, int nrows);

#endif /* PDNN_INTERNAL_H */
