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

/* Fused activations: the kinds of runtime/patdnn_ops.h (PDNN_ACT_*), a and b the parameters
 * (leaky_relu's slope; hardtanh's bounds, +-INFINITY for a one-sided clamp). NaN stays NaN, as in
 * PyTorch (fmax(NaN, 0) would be 0): comparisons with NaN are false, so x itself is kept. */
inline float pdnn_act_k(float x, int kind, float a, float b) {
  switch (kind) {
  case 1: return x < 0.0f ? 0.0f : x;
  case 2: return x < 0.0f ? 0.0f : x > 6.0f ? 6.0f : x;
  case 3: return 1.0f / (1.0f + exp(-x));
  case 4: return tanh(x);
  case 5: return x / (1.0f + exp(-x));
  case 6: { float t = x + 3.0f; t = t < 0.0f ? 0.0f : t > 6.0f ? 6.0f : t; return x * t / 6.0f; }
  case 7: { float t = x + 3.0f; t = t < 0.0f ? 0.0f : t > 6.0f ? 6.0f : t; return t / 6.0f; }
  case 8: return 0.5f * x * (1.0f + erf(x * 0.707106781186547524f));
  case 9: return 0.5f * x * (1.0f + tanh(0.797884560802865356f * (x + 0.044715f * x * x * x)));
  case 10: return x > 0.0f ? x : x * a;
  case 11: return x < a ? a : x > b ? b : x;
  default: return x;
  }
}

/* Parametrised activations: the program defines PDNN_ACT_TABLE (kind, a, b per entry); an `act`
 * of 64 + i is entry i, a smaller one the kind itself. */
#ifndef PDNN_ACT_TABLE
#define PDNN_ACT_TABLE 0.0f, 0.0f, 0.0f
#endif
__constant float pdnn_act_table[] = {PDNN_ACT_TABLE};

inline float pdnn_act(float x, int act) {
  if (act < 64) return pdnn_act_k(x, act, 0.0f, 0.0f);
  const int i = 3 * (act - 64);
  return pdnn_act_k(x, (int)pdnn_act_table[i], pdnn_act_table[i + 1], pdnn_act_table[i + 2]);
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

/* Direct convolution, OIHW weights (cout x cin/groups x kh x kw), any groups / stride / padding /
 * dilation (tap (i, j) reads input row y*sh - ph + i*dh, column x*sw - pw + j*dw);
 * bias may be NULL; the residual (res_off >= 0: a fused residual connection, out's layout) is added
 * before the activation. A work-item computes PDNN_CONV_BLOCK output channels of one group at one
 * pixel, so every input element it loads feeds that many FMAs. Global: (wo, ho, n * groups *
 * ceil(cout/groups / PDNN_CONV_BLOCK)). */
#define PDNN_CONV_BLOCK 4
__kernel void pdnn_conv2d(__global const real *in, int in_off, __global real *out, int out_off,
                          __global const real *res, int res_off, /* res_off < 0: no residual */
                          __global const real *w, __global const real *bias, int cin, int h, int wd, int cout,
                          int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups,
                          int act) {
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
  /* The window's taps inside the input: loop bounds instead of per-tap branches. */
  const int y0 = y * sh - ph, x0 = x * sw - pw;
  const int i0 = y0 < 0 ? (-y0 + dh - 1) / dh : 0, i1 = h - 1 - y0 < 0 ? 0 : min(kh, (h - 1 - y0) / dh + 1);
  const int j0 = x0 < 0 ? (-x0 + dw - 1) / dw : 0, j1 = wd - 1 - x0 < 0 ? 0 : min(kw, (wd - 1 - x0) / dw + 1);
  for (int c = 0; c < cpg; ++c, ip += h * wd, wp += kh * kw)
    for (int i = i0; i < i1; ++i)
      for (int j = j0; j < j1; ++j) {
        const float v = (float)ip[(y0 + i * dh) * wd + x0 + j * dw];
        for (int q = 0; q < count; ++q) acc[q] = fma(v, (float)wp[q * filter + i * kw + j], acc[q]);
      }
  for (int q = 0; q < count; ++q) {
    const int at = ((n * cout + o0 + q) * ho + y) * wo + x;
    out[out_off + at] = (real)pdnn_act(res_off >= 0 ? acc[q] + (float)res[res_off + at] : acc[q], act);
  }
}

/* Max (kind 0; taps dh / dw apart; padding never wins; a NaN in the window gives NaN, as in
 * PyTorch) or average (kind 1; divides by the window's taps inside the padded input, or with
 * exclude_pad inside the input: count_include_pad=False) pooling; ceil_mode is in ho / wo (a last
 * window running past the padded input counts only its taps inside it). Global: (wo, ho, n * c). */
__kernel void pdnn_pool2d(__global const real *in, int in_off, __global real *out, int out_off, int kind, int h,
                          int wd, int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                          int exclude_pad) {
  const int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (x >= wo || y >= ho) return;
  __global const real *ip = in + in_off + z * h * wd;
  float acc = kind == 0 ? -INFINITY : 0.0f;
  int inside = 0, padded = 0;
  for (int i = 0; i < kh; ++i) {
    const int iy = y * sh - ph + i * dh;
    if (iy >= h + ph) break;
    for (int j = 0; j < kw; ++j) {
      const int ix = x * sw - pw + j * dw;
      if (ix >= wd + pw) break;
      ++padded;
      if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
      ++inside;
      const float v = (float)ip[iy * wd + ix];
      acc = kind == 0 ? (v > acc || isnan(v) ? v : acc) : acc + v;
    }
  }
  out[out_off + (z * ho + y) * wo + x] = (real)(kind == 0 ? acc : acc / (float)(exclude_pad ? inside : padded));
}

/* Transposed convolution, weights cin x cout/groups x kh x kw (PyTorch's order): output (y, x)
 * gathers every input pixel (iy, ix) and tap (i, j) with iy*sh - ph + i*dh = y (and the same for
 * x); bias may be NULL. Global: (wo, ho, n * cout). */
__kernel void pdnn_conv_transpose2d(__global const real *in, int in_off, __global real *out, int out_off,
                                    __global const real *w, __global const real *bias, int cin, int h, int wd,
                                    int cout, int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw, int dh,
                                    int dw, int groups, int act) {
  const int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (x >= wo || y >= ho) return;
  const int n = z / cout, o = z % cout, cpg = cin / groups, opg = cout / groups, g = o / opg;
  float acc = bias ? (float)bias[o] : 0.0f;
  for (int c = g * cpg; c < g * cpg + cpg; ++c) {
    __global const real *ip = in + in_off + (n * cin + c) * h * wd;
    __global const real *wp = w + (c * opg + o % opg) * kh * kw;
    for (int i = 0; i < kh; ++i) {
      const int ty = y + ph - i * dh; /* = iy * sh */
      if (ty < 0 || ty % sh || ty / sh >= h) continue;
      for (int j = 0; j < kw; ++j) {
        const int tx = x + pw - j * dw;
        if (tx < 0 || tx % sw || tx / sw >= wd) continue;
        acc = fma((float)ip[ty / sh * wd + tx / sw], (float)wp[i * kw + j], acc);
      }
    }
  }
  out[out_off + z * ho * wo + y * wo + x] = (real)pdnn_act(acc, act);
}

/* Nearest (mode 0) or bilinear (mode 1) upsampling with PyTorch's source indices (see
 * pdnn_upsample2d in patdnn_ops.h; scale_h / scale_w: the bits of the f32 factors PyTorch computes,
 * launch arguments being integers). Global: (wo, ho, n * c). */
inline int pdnn_nearest_index(int i, int in, int out, float scale) {
  if (out == in) return i;
  if (out == 2 * in) return i >> 1;
  return min((int)floor((float)i * scale), in - 1);
}

inline float pdnn_linear_source(int i, float scale, int align_corners) {
  const float src = align_corners ? scale * (float)i : scale * ((float)i + 0.5f) - 0.5f;
  return src < 0.0f ? 0.0f : src;
}

__kernel void pdnn_upsample2d(__global const real *in, int in_off, __global real *out, int out_off, int mode,
                              int align_corners, int h, int wd, int ho, int wo, int scale_h_bits, int scale_w_bits) {
  const int x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  if (x >= wo || y >= ho) return;
  const float scale_h = as_float(scale_h_bits), scale_w = as_float(scale_w_bits);
  __global const real *ip = in + in_off + z * h * wd;
  float v;
  if (mode == 0) {
    v = (float)ip[pdnn_nearest_index(y, h, ho, scale_h) * wd + pdnn_nearest_index(x, wd, wo, scale_w)];
  } else {
    const float sy = pdnn_linear_source(y, scale_h, align_corners), sx = pdnn_linear_source(x, scale_w, align_corners);
    const int y0 = (int)sy, x0 = (int)sx, y1 = y0 + (y0 < h - 1), x1 = x0 + (x0 < wd - 1);
    const float l1h = clamp(sy - (float)y0, 0.0f, 1.0f), l1w = clamp(sx - (float)x0, 0.0f, 1.0f);
    const float l0h = 1.0f - l1h, l0w = 1.0f - l1w;
    v = ((float)ip[y0 * wd + x0] * l0w + (float)ip[y0 * wd + x1] * l1w) * l0h +
        ((float)ip[y1 * wd + x0] * l0w + (float)ip[y1 * wd + x1] * l1w) * l1h;
  }
  out[out_off + (z * ho + y) * wo + x] = (real)v;
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

/* nn.binary: out = act(a kind b), kind 0..3 add / sub / mul / div; out d0 x d1 x d2 x d3, a and
 * b read at element strides (0 along a broadcast dim). Global: (count). */
__kernel void pdnn_binary(__global const real *a, int a_off, __global const real *b, int b_off, __global real *out,
                          int out_off, int count, int d1, int d2, int d3, int as0, int as1, int as2, int as3, int bs0,
                          int bs1, int bs2, int bs3, int kind, int act) {
  const int i = get_global_id(0);
  if (i >= count) return;
  const int i3 = i % d3, r = i / d3, i2 = r % d2, i1 = r / d2 % d1, i0 = r / d2 / d1;
  const float x = (float)a[a_off + i0 * as0 + i1 * as1 + i2 * as2 + i3 * as3];
  const float y = (float)b[b_off + i0 * bs0 + i1 * bs1 + i2 * bs2 + i3 * bs3];
  const float v = kind == 0 ? x + y : kind == 1 ? x - y : kind == 2 ? x * y : x / y;
  out[out_off + i] = (real)pdnn_act(v, act);
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

/* ---- Layout and normalisation (nn.permute, channel_shuffle, slice, layer_norm, softmax along an
 * axis, mean, scale_shift): each sees its tensor as outer x m x inner, one work-item per (outer,
 * inner) position looping over m, so the m loop reads with stride inner and work-items adjacent
 * in dimension 0 read adjacent elements. */

/* A permute: output dims d0..d5 (padded with leading 1s; d0 implied by `rows` = d0*...*d4), s0..s5
 * the input stride of each output dim. Global: (d5, rows). */
__kernel void pdnn_permute(__global const real *in, int in_off, __global real *out, int out_off, int d1, int d2,
                           int d3, int d4, int d5, int s0, int s1, int s2, int s3, int s4, int s5, int rows) {
  const int x = get_global_id(0), row = get_global_id(1);
  if (x >= d5 || row >= rows) return;
  int rest = row;
  const int i4 = rest % d4; rest /= d4;
  const int i3 = rest % d3; rest /= d3;
  const int i2 = rest % d2; rest /= d2;
  const int i1 = rest % d1; rest /= d1;
  const int at = rest * s0 + i1 * s1 + i2 * s2 + i3 * s3 + i4 * s4 + x * s5;
  out[out_off + row * d5 + x] = in[in_off + at];
}

/* out[o, k, i] = in[o, start + k * step, i]. Global: (inner, out_len, outer). */
__kernel void pdnn_slice(__global const real *in, int in_off, __global real *out, int out_off, int in_len,
                         int out_len, int inner, int start, int step) {
  const int i = get_global_id(0), k = get_global_id(1), o = get_global_id(2);
  if (i >= inner || k >= out_len) return;
  out[out_off + (o * out_len + k) * inner + i] = in[in_off + (o * in_len + start + k * step) * inner + i];
}

/* (x - mean) / sqrt(var + eps) * w[c] + b[c] over m (biased variance, two passes); w, b may be NULL;
 * eps_bits: eps's IEEE-754 bits (kernel arguments are buffers and ints). Global: (inner, outer). */
__kernel void pdnn_layer_norm(__global const real *in, int in_off, __global real *out, int out_off,
                              __global const real *w, __global const real *b, int m, int inner, int eps_bits) {
  const int i = get_global_id(0), o = get_global_id(1);
  if (i >= inner) return;
  const float eps = as_float(eps_bits);
  __global const real *x = in + in_off + o * m * inner + i;
  __global real *y = out + out_off + o * m * inner + i;
  float mean = 0.0f, var = 0.0f;
  for (int c = 0; c < m; ++c) mean += (float)x[c * inner];
  mean /= (float)m;
  for (int c = 0; c < m; ++c) {
    const float d = (float)x[c * inner] - mean;
    var += d * d;
  }
  const float rstd = 1.0f / sqrt(var / (float)m + eps);
  for (int c = 0; c < m; ++c)
    y[c * inner] = (real)((((float)x[c * inner] - mean) * rstd) * (w ? (float)w[c] : 1.0f) + (b ? (float)b[c] : 0.0f));
}

/* Softmax over m (log != 0: log-softmax), the max subtracted first. Global: (inner, outer). */
__kernel void pdnn_softmax_axis(__global const real *in, int in_off, __global real *out, int out_off, int m,
                                int inner, int log_softmax) {
  const int i = get_global_id(0), o = get_global_id(1);
  if (i >= inner) return;
  __global const real *x = in + in_off + o * m * inner + i;
  __global real *y = out + out_off + o * m * inner + i;
  float top = -INFINITY, sum = 0.0f;
  for (int c = 0; c < m; ++c) top = fmax(top, (float)x[c * inner]);
  for (int c = 0; c < m; ++c) sum += exp((float)x[c * inner] - top);
  const float shift = top + log(sum);
  for (int c = 0; c < m; ++c)
    y[c * inner] = (real)(log_softmax ? (float)x[c * inner] - shift : exp((float)x[c * inner] - top) / sum);
}

/* out[o, i] = the mean over m of in[o, :, i]. Global: (inner, outer). */
__kernel void pdnn_mean_axes(__global const real *in, int in_off, __global real *out, int out_off, int m,
                             int inner) {
  const int i = get_global_id(0), o = get_global_id(1);
  if (i >= inner) return;
  __global const real *x = in + in_off + o * m * inner + i;
  float acc = 0.0f;
  for (int c = 0; c < m; ++c) acc += (float)x[c * inner];
  out[out_off + o * inner + i] = (real)(acc / (float)m);
}

/* nn.prelu: out[o, c, i] = in > 0 ? in : w[c] * in (slopes 1: w[0] for every channel); NaN stays
 * NaN. Global: (inner, outer * channels). */
__kernel void pdnn_prelu(__global const real *in, int in_off, __global real *out, int out_off, __global const real *w,
                         int channels, int inner, int slopes) {
  const int i = get_global_id(0), plane = get_global_id(1);
  if (i >= inner) return;
  const int at = plane * inner + i;
  const float x = (float)in[in_off + at], slope = (float)w[slopes == 1 ? 0 : plane % channels];
  out[out_off + at] = (real)(x > 0.0f ? x : slope * x);
}

/* out[n, c, i] = act(in[n, c, i] * w[c] + b[c]); b may be NULL. Global: (inner, n * channels). */
__kernel void pdnn_scale_shift(__global const real *in, int in_off, __global real *out, int out_off,
                               __global const real *w, __global const real *b, int channels, int inner, int act) {
  const int i = get_global_id(0), plane = get_global_id(1);
  if (i >= inner) return;
  const int c = plane % channels, at = plane * inner + i;
  const float v = (float)in[in_off + at] * (float)w[c] + (b ? (float)b[c] : 0.0f);
  out[out_off + at] = (real)pdnn_act(v, act);
}
