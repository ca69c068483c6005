/* patdnn runtime: dense layer kernels called by code generated for the `nn` dialect.
 * Buffers are NCHW (or NxK) f32, contiguous; `out` never aliases a weight. Generated models are
 * written against exactly these names; keep them stable. Every function threads through
 * pdnn_parallel_for on ctx. */
#ifndef PATDNN_OPS_H
#define PATDNN_OPS_H

#include "patdnn_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fused activations (the values of pattern.activation). */
enum { PDNN_ACT_NONE = 0, PDNN_ACT_RELU = 1, PDNN_ACT_RELU6 = 2 };
/* Pooling kinds. */
enum { PDNN_POOL_MAX = 0, PDNN_POOL_AVG = 1 };

/* out = act(conv(in, w) + bias + residual). w: OIHW, cout x (cin/groups) x kh x kw; bias: cout
 * values or NULL; residual: NULL or out's shape (a fused residual connection, added before the
 * activation). Dilation 1. 1x1 (any stride, no padding) and groups > 1 run as (blocked) GEMMs,
 * other convs as im2col + GEMM; depthwise (groups == cin == cout) has its own direct kernel. */
void pdnn_conv2d_dense(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *bias,
                       const float *residual, int n, int cin, int h, int wd, int cout, int ho, int wo, int kh, int kw,
                       int sh, int sw, int ph, int pw, int groups, int act);

/* Max or average pooling, PyTorch semantics (ceil_mode false; avg divides by kh*kw, padding
 * included). Padding must be at most half the kernel. */
void pdnn_pool2d(pdnn_ctx *ctx, const float *in, float *out, int kind, int n, int c, int h, int wd,
                 int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw);

/* Adaptive average pooling: window i spans [floor(i*H/OH), ceil((i+1)*H/OH)). */
void pdnn_adaptive_avg_pool2d(pdnn_ctx *ctx, const float *in, float *out, int n, int c, int h, int wd,
                              int ho, int wo);

/* out = act(a + b), count elements (out may alias a or b). */
void pdnn_add(pdnn_ctx *ctx, const float *a, const float *b, float *out, int64_t count, int act);

/* out = act(in), count elements (out may alias in). */
void pdnn_activation(pdnn_ctx *ctx, const float *in, float *out, int64_t count, int act);

/* Concatenation along axis 1: for each of `outer` slices, input i contributes inner[i]
 * contiguous elements (its axis-1 size times the product of the later dimensions). */
void pdnn_concat(pdnn_ctx *ctx, const float *const *inputs, const int64_t *inner, int num_inputs,
                 float *out, int64_t outer);

/* out[i, m] = act(sum_k in[i, k] * w[m, k] + bias[m]); in: n x k, w: m x k row-major, bias or NULL. */
void pdnn_linear(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *bias, int n,
                 int k, int m, int act);

/* Row-wise softmax of an n x m buffer (the row max is subtracted first). */
void pdnn_softmax(pdnn_ctx *ctx, const float *in, float *out, int n, int m);

/* out = in, count elements (a reshape; nothing happens when out == in). */
void pdnn_copy(pdnn_ctx *ctx, const float *in, float *out, int64_t count);

/* C[m x p] = act(A[m x k] * B[k x p] + bias[m] + R) with row strides lda, ldb, ldc (bias may be
 * NULL; R, the residual, is NULL or m x p with C's stride ldc). The blocked GEMM behind the
 * convolutions; exported for tests and generated code. */
void pdnn_gemm(pdnn_ctx *ctx, int m, int p, int k, const float *a, int64_t lda, const float *b, int64_t ldb,
               float *c, int64_t ldc, const float *bias, const float *residual, int act);

/* 1x1 convolutions (no padding, one group) vectorised along output channels, for planes of few
 * pixels (runtime/ops_conv1x1_cm.c). pdnn_pack_cm: the weights (cout x cin) packed for it, allocated
 * once (at model load), or NULL where this build lacks the kernel or it does not pay for `pixels` =
 * ho * wo (it needs AVX-512 and cout % 64 == 0, and pays on planes that fill pdnn_gemm's 32-pixel
 * strips badly: 7x7). pdnn_conv1x1_cm: the convolution, with the packed weights, or through
 * pdnn_conv2d_dense when wcm is NULL. Same bits either way. */
float *pdnn_pack_cm(const float *w, int cout, int cin, int pixels);
void pdnn_conv1x1_cm(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *wcm, const float *bias,
                     const float *residual, int n, int cin, int h, int wd, int cout, int ho, int wo, int sh, int sw,
                     int act);

/* Selected rows of a convolution's column (im2col) matrix, for block-sparse convolutions: output row
 * i (ldcol floats apart, ho*wo used) is column-matrix row rows[i] = (c*kh + ky)*kw + kx of one image,
 * i.e. col[i][oy*wo + ox] = in[c][oy*sh + ky - ph][ox*sw + kx - pw] (0 outside the input). */
void pdnn_gather_rows(pdnn_ctx *ctx, const float *in, float *col, int64_t ldcol, const int32_t *rows, int nrows,
                      int h, int wd, int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw);

/* The tap-shifted input of a pattern convolution (runtime/ops_pattern.c): for every channel c and
 * kernel column tc, `rows` x `row_len` floats at out + (c*k + tc)*rows*row_len where row yp,
 * column x holds in[c][first_row + yp][x*sw + tc - pw] (zero outside the input). */
void pdnn_shift_input(pdnn_ctx *ctx, const float *in, float *out, int cin, int h, int w, int k, int sw,
                      int first_row, int pw, int rows, int row_len);

#ifdef __cplusplus
}
#endif

#endif /* PATDNN_OPS_H */
