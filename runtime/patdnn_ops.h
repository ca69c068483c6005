/* patdnn runtime: dense layer kernels called by code generated for the `nn` dialect.
 * Buffers are NCHW (or NxK) f32, contiguous; `out` never aliases a weight. Generated models are
 * written against exactly these names; keep them stable. Every function threads through
 * pdnn_parallel_for on ctx. */
#ifndef PATDNN_OPS_H
#define PATDNN_OPS_H

#include <math.h> /* INFINITY: the open bound of a one-sided clamp */

#include "patdnn_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fused activations (the kinds of pattern.activation; docs/ir.md). A parametrised kind
 * (leaky_relu's slope, hardtanh's bounds: +-INFINITY for a clamp with one) is passed as the code
 * pdnn_act_code returns (PDNN_ACT_PARAM_BASE and up); every `int act` below takes either. */
enum {
  PDNN_ACT_NONE = 0,
  PDNN_ACT_RELU = 1,
  PDNN_ACT_RELU6 = 2,
  PDNN_ACT_SIGMOID = 3,
  PDNN_ACT_TANH = 4,
  PDNN_ACT_SILU = 5,
  PDNN_ACT_HARDSWISH = 6,
  PDNN_ACT_HARDSIGMOID = 7,
  PDNN_ACT_GELU = 8,
  PDNN_ACT_GELU_TANH = 9,
  PDNN_ACT_LEAKY_RELU = 10, /* a: the slope */
  PDNN_ACT_HARDTANH = 11,   /* a, b: the bounds */
  PDNN_ACT_PARAM_BASE = 64
};
/* The code of a parametrised activation (interned: the same values give the same code). */
int pdnn_act_code(int kind, float a, float b);
/* Applies activation `act` in place to n contiguous floats (the epilogue of generated kernels). */
void pdnn_act_row(float *restrict v, int64_t n, int act);
/* Pooling kinds. */
enum { PDNN_POOL_MAX = 0, PDNN_POOL_AVG = 1 };

/* out = act(conv(in, w) + bias + residual). w: OIHW, cout x (cin/groups) x kh x kw; bias: cout
 * values or NULL; residual: NULL or out's shape (a fused residual connection, added before the
 * activation). Tap (ky, kx) reads in[oy*sh + ky*dh - ph][ox*sw + kx*dw - pw] (dh, dw: the dilation,
 * 1 for a plain conv). 1x1 (any stride, no padding) and groups > 1 run as (blocked) GEMMs, other
 * convs as im2col + GEMM (in row blocks for big planes); depthwise (groups == cin == cout) has its
 * own direct kernel (its 3x3 fast loops for dilation 1). */
void pdnn_conv2d_dense(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *bias,
                       const float *residual, int n, int cin, int h, int wd, int cout, int ho, int wo, int kh, int kw,
                       int sh, int sw, int ph, int pw, int dh, int dw, int groups, int act);

/* Max or average pooling, PyTorch semantics (ceil_mode false; avg divides by kh*kw, padding
 * included). Padding must be at most half the kernel. */
void pdnn_pool2d(pdnn_ctx *ctx, const float *in, float *out, int kind, int n, int c, int h, int wd,
                 int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw);

/* Adaptive average pooling: window i spans [floor(i*H/OH), ceil((i+1)*H/OH)). */
void pdnn_adaptive_avg_pool2d(pdnn_ctx *ctx, const float *in, float *out, int n, int c, int h, int wd,
                              int ho, int wo);

/* out = act(a + b), count elements (out may alias a or b). */
void pdnn_add(pdnn_ctx *ctx, const float *a, const float *b, float *out, int64_t count, int act);

/* nn.binary: out = act(a kind b), out d0 x d1 x d2 x d3 contiguous; a and b read at element
 * strides as* / bs* (0 along a broadcast dim; the innermost 1 or 0). */
enum { PDNN_BINARY_ADD = 0, PDNN_BINARY_SUB = 1, PDNN_BINARY_MUL = 2, PDNN_BINARY_DIV = 3 };
void pdnn_binary(pdnn_ctx *ctx, const float *a, const float *b, float *out, int64_t d0, int64_t d1, int64_t d2,
                 int64_t d3, int64_t as0, int64_t as1, int64_t as2, int64_t as3, int64_t bs0, int64_t bs1, int64_t bs2,
                 int64_t bs3, int kind, int act);

/* nn.prelu (runtime/ops_prelu.c): out[o, c, i] = in > 0 ? in : w[c] * in over outer x channels x
 * inner; `slopes` 1 (w[0] for every channel) or `channels`. */
void pdnn_prelu(pdnn_ctx *ctx, const float *in, float *out, const float *w, int64_t outer, int64_t channels,
                int64_t inner, int64_t slopes);

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

/* Layout and normalisation (runtime/ops_layout.c). Each sees its buffer as outer x m x inner, m
 * the extent it works along. pdnn_permute: out = in.permute(perm), in of `rank` <= 6 dims `shape`.
 * pdnn_slice: out[o, k, i] = in[o, start + k * step, i] (in: outer x in_len x inner, out: outer x
 * out_len x inner). pdnn_layer_norm: (x - mean) / sqrt(var + eps) * w[k] + b[k] over m (biased
 * variance; w, b: m values or NULL). pdnn_softmax_axis: softmax over m (log != 0: log-softmax).
 * pdnn_mean_axes: out[o, i] = mean over m. pdnn_scale_shift: out[n, k, i] = act(in * w[k] + b[k])
 * (k < c, i < inner; b may be NULL). */
void pdnn_permute(pdnn_ctx *ctx, const float *in, float *out, int rank, const int64_t *shape, const int *perm);
void pdnn_slice(pdnn_ctx *ctx, const float *in, float *out, int64_t outer, int64_t in_len, int64_t out_len,
                int64_t inner, int64_t start, int64_t step);
void pdnn_layer_norm(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *b, int64_t outer,
                     int64_t m, int64_t inner, float eps);
void pdnn_softmax_axis(pdnn_ctx *ctx, const float *in, float *out, int64_t outer, int64_t m, int64_t inner,
                       int log);
void pdnn_mean_axes(pdnn_ctx *ctx, const float *in, float *out, int64_t outer, int64_t m, int64_t inner);
void pdnn_scale_shift(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *b, int64_t n,
                      int64_t c, int64_t inner, int act);

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

/* A fused chain [head conv] -> depthwise kh x kw -> [1x1 project] (runtime/ops_chain.c; nn.conv_chain):
 * the values pdnn_conv2d_dense gives run two or three times, computed in bands of `rows` output rows
 * whose intermediate values stay in a per-thread slot of `scratch` (`slots` slots of slot_floats
 * floats, at least what the chain needs: it aborts with a message otherwise). The weights are packed
 * once, at model load, by pdnn_conv_chain_pack from pdnn_conv2d_dense's OIHW arrays: we/be the head
 * (cmid x cin x its kernel, and bias; we NULL: no head, the input has cmid channels), wd/bd the
 * depthwise (cmid x kh x kw), wp/bp the project (cout x cmid; wp NULL: none, out has cmid channels);
 * biases may be NULL. Each conv has its activation; the residual (NULL or out's shape) is the last's. */
typedef struct pdnn_chain_weights pdnn_chain_weights;
/* The expand's input h x w and window: 1x1 (kernel 1, stride 1, pad 0) or any (a stem, cin x kh x kw). */
typedef struct {
  int h, w, kh, kw, sh, sw, ph, pw, dh, dw;
} pdnn_chain_head;
pdnn_chain_weights *pdnn_conv_chain_pack(const float *we, const float *be, const float *wd, const float *bd,
                                         const float *wp, const float *bp, int cin, int cmid, int cout, int kh, int kw,
                                         const pdnn_chain_head *head);
void pdnn_conv_chain(pdnn_ctx *ctx, const pdnn_chain_weights *cw, const float *in, float *out, const float *residual,
                     int act_e, int act_d, int act_p, int n, int h, int wdt, int ho, int wo, int kh, int kw, int sh,
                     int sw, int ph, int pw, int dh, int dw, int rows, float *scratch, int slots, int64_t slot_floats);

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
/* The same for a dilated pattern convolution: column x of plane (c, tc) holds in[c][..][x*sw + tc*dw - pw]. */
void pdnn_shift_input_dilated(pdnn_ctx *ctx, const float *in, float *out, int cin, int h, int w, int k, int sw,
                              int dw, int first_row, int pw, int rows, int row_len);
#if defined(__aarch64__) && defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
#define PDNN_HAVE_FP16 1
typedef __fp16 pdnn_half;
/* The fp16 form (precision=fp16 pattern convolutions): the same planes, of pdnn_half, any dilation dw. */
void pdnn_shift_input_f16(pdnn_ctx *ctx, const float *in, pdnn_half *out, int cin, int h, int w, int k, int sw,
                          int dw, int first_row, int pw, int rows, int row_len);
#else
#define PDNN_HAVE_FP16 0
#endif

/* Pooling windows beyond pdnn_pool2d (runtime/ops_windows.c): PyTorch's max / average pooling
 * windows with dilation (max), ceil_mode (ho, wo as PyTorch sizes them) and exclude_pad
 * (count_include_pad=False: an average divides by the taps inside the input; else by the taps
 * inside the padded input). */
void pdnn_pool2d_window(pdnn_ctx *ctx, const float *in, float *out, int kind, int n, int c, int h, int wd, int ho,
                        int wo, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int exclude_pad);

/* Resampling (runtime/ops_resample.c). pdnn_conv_transpose2d: out = act(conv_transpose(in, w) +
 * bias), w: cin x (cout/groups) x kh x kw (PyTorch's order), in[c][iy][ix] feeding
 * out[iy*sh - ph + ky*dh][ix*sw - pw + kx*dw]. pdnn_upsample2d: nearest (source index
 * min(floor(i * scale), in - 1), i >> 1 when doubling) or bilinear (source coordinate i * scale
 * with align_corners, else max(scale * (i + 0.5) - 0.5, 0)); `scale` per axis is the f32 value
 * PyTorch computes (1 / scale_factor, in / out, or (in - 1) / (out - 1) with align_corners). */
enum { PDNN_UPSAMPLE_NEAREST = 0, PDNN_UPSAMPLE_BILINEAR = 1 };
void pdnn_conv_transpose2d(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *bias, int n,
                           int cin, int h, int wd, int cout, int ho, int wo, int kh, int kw, int sh, int sw, int ph,
                           int pw, int dh, int dw, int groups, int act);
void pdnn_upsample2d(pdnn_ctx *ctx, const float *in, float *out, int mode, int align_corners, int n, int c, int h,
                     int wd, int ho, int wo, float scale_h, float scale_w);

#ifdef __cplusplus
}
#endif

#endif /* PATDNN_OPS_H */
