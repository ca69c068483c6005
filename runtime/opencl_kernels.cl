/* patdnn OpenCL kernels for the dense (`nn` dialect) layers and the zero padding of pattern
 * convolutions. The OpenCL emitter puts this file in front of a model's generated pattern kernels,
 * so one program holds all of a model's kernels. Launches use fixed work-group sizes (one compiled
 * variant per kernel, whatever the layer shapes) with the global size rounded up: kernels return
 * early for the work-items past the end.
 *
 * Tensors are `real` buffers (float; half with -DPDNN_FP16 on devices with cl_khr_fp16) addressed
 * as (buffer, element offset): intermediates share one arena buffer. Dense layers accumulate in
 * float whatever `real` is. Activations: 0 none, 1 relu, 2 relu6 (as PDNN_ACT_* in patdnn_ops.h). */
#ifdef PDNN_FP16
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
typedef half real;
#else
typedef float real;
#endif

/* NaN stays NaN, as in PyTorch (fmax(NaN, 0) would be 0): x < 0 and x > 6 are false for NaN. */
inline float pdnn_act(float x, int act) {
  return act == 1 ? (x < 0.0f ? 0.0f : x) : act == 2 ? (x < 0.0f ? 0.0f : x > 6.0f ? 6.0f : x) : x;
}

/* The model's f32 inputs/outputs <-> `real` buffers (used only in fp16 mode). */
__kernel void pdnn_f32_to_real(__global const float *src, __global real *dst) {
  const size_t i = get_global_id(0);
  dst[i] = (real)src[i];
}

__kernel void pdnn_real_to_f32(__global const real *src, __global float *dst) {
  const size_t i = get_global_id(0);
  dst[i] = (float)src[i];
}

/* A zero-padded copy of (planes x h x w) into (planes x ph x pw), `top`/`left` zeros before the
 * data: pattern kernels then read their taps without bounds checks. Global: (pw, ph, planes). */
__kernel void pdnn_pad(__global const real *in, int in_off, __global real *out, int out_off, int h, int w,
                       int ph, int pw, int top, int left) {
  const int x = get_global_id(0), y = get_global_id(1), c = get_global_id(2);
  if (x >= pw || y >= ph) return;
  const int iy = y - top, ix = x - left;
  const int inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
  out[out_off + (c * ph + y) * pw + x] = inside ? in[in_off + (c * h + iy) * w + ix] : (real)0;
}

/* Direct convolution, OIHW weights (cout x cin/groups x kh x kw), any groups / stride / padding;
 * bias may be NULL; the residual (res_off >= 0: a fused residual connection, out's layout) is added
 * before the activation. A work-item computes PDNN_CONV_BLOCK output channels of one group at one
 * pixel, so every input element it loads feeds that many FMAs. Global: (wo, ho, n * groups *
 * ceil(cout/groups / PDNN_CONV_BLOCK)). */
#define PDNN_CONV_BLOCK 4
__kernel void pdnn_conv2d(__global const real *in, int in_off, __global real *out, int out_off,
                          __global const real *res, int res_off, /* res_off < 0: no residual */
                          __global const real *w, __global const real *bias, int cin, int h, int wd, int cout,
                          int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw, int groups, int act) {
  const int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (x >= wo || y >= ho) return;
  const int cpg = cin / groups, opg = cout / groups, blocks = (opg + PDNN_CONV_BLOCK - 1) / PDNN_CONV_BLOCK;
  const int n = z / (groups * blocks), g = z / blocks % groups, o0 = g * opg + z % blocks * PDNN_CONV_BLOCK;
  const int count = min(PDNN_CONV_BLOCK, g * opg + opg - o0); /* < BLOCK only in a group's last block */
  const int filter = cpg * kh * kw;
  float acc[PDNN_CONV_BLOCK];
  for (int q = 0; q < PDNN_CONV_BLOCK; ++q) acc[q] = bias && q < count ? (float)bias[o0 + q] : 0.0f;
  __global const real *ip = in + in_off + (n * cin + g * cpg) * h * wd;
  __global const real *wp = w + o0 * filter;
  /* The window's rows/columns inside the input: loop bounds instead of per-tap branches. */
  const int y0 = y * sh - ph, x0 = x * sw - pw;
  const int i0 = max(0, -y0), i1 = min(kh, h - y0), j0 = max(0, -x0), j1 = min(kw, wd - x0);
  for (int c = 0; c < cpg; ++c, ip += h * wd, wp += kh * kw)
    for (int i = i0; i < i1; ++i)
      for (int j = j0; j < j1; ++j) {
        const float v = (float)ip[(y0 + i) * wd + x0 + j];
        for (int q = 0; q < count; ++q) acc[q] = fma(v, (float)wp[q * filter + i * kw + j], acc[q]);
      }
  for (int q = 0; q < count; ++q) {
    const int at = ((n * cout + o0 + q) * ho + y) * wo + x;
    out[out_off + at] = (real)pdnn_act(res_off >= 0 ? acc[q] + (float)res[res_off + at] : acc[q], act);
  }
}

/* Max (kind 0; padding never wins; a NaN in the window gives NaN, as in PyTorch) or average (kind
 * 1; divides by kh*kw, padding included) pooling. Global: (wo, ho, n * c). */
__kernel void pdnn_pool2d(__global const real *in, int in_off, __global real *out, int out_off, int kind, int h,
                          int wd, int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw) {
  const int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (x >= wo || y >= ho) return;
  __global const real *ip = in + in_off + z * h * wd;
  float acc = kind == 0 ? -INFINITY : 0.0f;
  for (int i = 0; i < kh; ++i) {
    const int iy = y * sh - ph + i;
    if (iy < 0 || iy >= h) continue;
    for (int j = 0; j < kw; ++j) {
      const int ix = x * sw - pw + j;
      if (ix < 0 || ix >= wd) continue;
      const float v = (float)ip[iy * wd + ix];
      acc = kind == 0 ? (v > acc || isnan(v) ? v : acc) : acc + v;
    }
  }
  out[out_off + (z * ho + y) * wo + x] = (real)(kind == 0 ? acc : acc / (float)(kh * kw));
}

/* Adaptive average pooling: window i spans [floor(i*H/OH), ceil((i+1)*H/OH)). Global: (wo, ho, n*c). */
__kernel void pdnn_adaptive_avg_pool2d(__global const real *in, int in_off, __global real *out, int out_off, int h,
                                       int wd, int ho, int wo) {
  const int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (x >= wo || y >= ho) return;
  const int y0 = y * h / ho, y1 = ((y + 1) * h + ho - 1) / ho;
  const int x0 = x * wd / wo, x1 = ((x + 1) * wd + wo - 1) / wo;
  __global const real *ip = in + in_off + z * h * wd;
  float acc = 0.0f;
  for (int i = y0; i < y1; ++i)
    for (int j = x0; j < x1; ++j) acc += (float)ip[i * wd + j];
  out[out_off + (z * ho + y) * wo + x] = (real)(acc / (float)((y1 - y0) * (x1 - x0)));
}

/* out = act(a + b). Global: (count). */
__kernel void pdnn_add(__global const real *a, int a_off, __global const real *b, int b_off, __global real *out,
                       int out_off, int count, int act) {
  const int i = get_global_id(0);
  if (i >= count) return;
  out[out_off + i] = (real)pdnn_act((float)a[a_off + i] + (float)b[b_off + i], act);
}

/* out = act(in); act 0 is a copy (nn.reshape). Global: (count). */
__kernel void pdnn_activation(__global const real *in, int in_off, __global real *out, int out_off, int count,
                              int act) {
  const int i = get_global_id(0);
  if (i >= count) return;
  out[out_off + i] = (real)pdnn_act((float)in[in_off + i], act);
}

/* One input of a concatenation along axis 1: `inner` contiguous elements per outer slice, placed
 * at out_off within slices of out_inner elements. Global: (inner, outer). */
__kernel void pdnn_concat_part(__global const real *in, int in_off, __global real *out, int out_off, int inner,
                               int out_inner) {
  const int i = get_global_id(0), o = get_global_id(1);
  if (i >= inner) return;
  out[out_off + o * out_inner + i] = in[in_off + o * inner + i];
}

/* out[i, m] = act(sum_k in[i, k] * w[m, k] + bias[m]); bias may be NULL. Global: (m, n). */
__kernel void pdnn_linear(__global const real *in, int in_off, __global real *out, int out_off,
                          __global const real *w, __global const real *bias, int k, int m, int act) {
  const int j = get_global_id(0), i = get_global_id(1);
  if (j >= m) return;
  __global const real *ip = in + in_off + i * k;
  __global const real *wp = w + j * k;
  float acc = bias ? (float)bias[j] : 0.0f;
  for (int t = 0; t < k; ++t) acc = fma((float)ip[t], (float)wp[t], acc);
  out[out_off + i * m + j] = (real)pdnn_act(acc, act);
}

/* Row-wise softmax (the row max subtracted first). Global: (n). */
__kernel void pdnn_softmax(__global const real *in, int in_off, __global real *out, int out_off, int n, int m) {
  const int i = get_global_id(0);
  if (i >= n) return;
  __global const real *ip = in + in_off + i * m;
  __global real *op = out + out_off + i * m;
  float top = -INFINITY, sum = 0.0f;
  for (int j = 0; j < m; ++j) top = fmax(top, (float)ip[j]);
  for (int j = 0; j < m; ++j) sum += exp((float)ip[j] - top);
  for (int j = 0; j < m; ++j) op[j] = (real)(exp((float)ip[j] - top) / sum);
}
