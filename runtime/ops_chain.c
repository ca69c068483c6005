/* A fused convolution chain (nn.conv_chain, the fuse-conv-chain pass): [1x1 expand] -> depthwise
 * -> [1x1 project] (MobileNet's inverted residual; either 1x1 may be absent), band by band of
 * output rows, with the intermediate tensors in channels-last form in a per-thread slot.
 *
 * Why channels-last inside: the NCHW depthwise pays per plane (padding, row tails narrower than a
 * vector), which on 7x7 and 14x14 planes costs 10-20x its arithmetic; with the channels innermost,
 * every tap of a vector of channels is one unit-stride load, whatever the plane's size. The chain's
 * input and output stay NCHW: the expand broadcasts input pixels (each register tile is PT pixels x
 * CB channels), the project computes PT pixels x CB output channels and writes them back as planes.
 *
 * A thread takes a contiguous range of output rows of an image and walks it in bands of `rows`
 * rows. E (the expanded input rows a band reads, padded: (w + 2*pw) columns of cmidp floats, zero
 * borders and zero rows outside the input) keeps the rows the next band reads again — one memmove —
 * and only the new rows are computed. D (the band's depthwise output, pixels x cmidp) feeds the
 * project. Every output is the bias plus its products in the order of the unfused kernels
 * (pdnn_gemm: k order; the depthwise: row-major taps), each product fused where the target has FMA,
 * and the activations are pdnn_act_row's: the chain gives the same bits as the three ops. */
#include <stdio.h>
#include <stdlib.h>

#include "patdnn_ops.h"
#include "pdnn_internal.h"
#include "pdnn_vec.h"

#define CHAIN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CHAIN_MAX(a, b) ((a) > (b) ? (a) : (b))
#define CHAIN_PAD(c) (((c) + PDNN_VL - 1) / PDNN_VL * PDNN_VL) /* channels rounded up to whole vectors */
#if PDNN_VL == 8
#define CHAIN_NV 2 /* AVX2: 6 x 2 accumulators + 2 weight vectors of 16 registers */
#else
#define CHAIN_NV 4 /* AVX-512 / NEON: 6 x 4 accumulators + 4 weight vectors of 32 */
#endif
#define CHAIN_PT 6 /* pixels per register tile */
#define CHAIN_CB (CHAIN_NV * PDNN_VL)

/* Whether `act` runs in registers as a register tile is stored (relu, relu6, hardswish,
 * hardsigmoid on x86: the operations of pdnn_act_row in its order, so the same bits); any other
 * activation is applied by a pdnn_act_row pass afterwards. */
static inline int act_in_registers(int act) {
  return PDNN_VEC_CLAMP && (act == PDNN_ACT_NONE || act == PDNN_ACT_RELU || act == PDNN_ACT_RELU6 ||
                            act == PDNN_ACT_HARDSWISH || act == PDNN_ACT_HARDSIGMOID);
}

static inline __attribute__((always_inline)) pdnn_v act_vec(pdnn_v v, int act) {
#if PDNN_VEC_CLAMP
  if (act == PDNN_ACT_RELU) return pv_max(pv_set1(0.0f), v);
  if (act == PDNN_ACT_RELU6) return pv_min(pv_set1(6.0f), pv_max(pv_set1(0.0f), v));
  if (act == PDNN_ACT_HARDSWISH || act == PDNN_ACT_HARDSIGMOID) { /* t = clamp(x + 3, 0, 6): x * t / 6, t / 6 */
    const pdnn_v t = pv_min(pv_set1(6.0f), pv_max(pv_set1(0.0f), pv_add(v, pv_set1(3.0f))));
    return pv_div(act == PDNN_ACT_HARDSWISH ? pv_mul(v, t) : t, pv_set1(6.0f));
  }
#else
  (void)act;
#endif
  return v;
}

/* Weights in channels-last order, zero-padded to whole vectors (made once, at model load). */
struct pdnn_chain_weights {
  int cin, cmid, cout, cmidp, coutp, taps;
  pdnn_chain_head head; /* the expand's window: a 1x1, or a stem's (read through columns) */
  int head_k;           /* cin x head kernel: the expand's reduction length */
  float *we, *be; /* cin x cmidp, cmidp (NULL: no expand) */
  float *wd, *bd; /* taps x cmidp, cmidp */
  float *wp, *bp; /* cmid x coutp, coutp (NULL: no project) */
};

/* dst[k * ld + c] = src[c * stride + k] for c < n, k < m; padding lanes stay 0 (pdnn_alloc zeroes). */
static float *transposed(const float *src, int n, int m, int64_t stride, int ld) {
  float *dst = (float *)pdnn_alloc((size_t)m * ld * sizeof(float));
  for (int c = 0; c < n; c++)
    for (int k = 0; k < m; k++) dst[(int64_t)k * ld + c] = src[(int64_t)c * stride + k];
  return dst;
}

static float *padded(const float *src, int n, int ld) {
  float *dst = (float *)pdnn_alloc((size_t)ld * sizeof(float));
  if (src) memcpy(dst, src, (size_t)n * sizeof(float));
  return dst;
}

static int head_is_1x1(const pdnn_chain_head *h) {
  return h->kh == 1 && h->kw == 1 && h->sh == 1 && h->sw == 1 && h->ph == 0 && h->pw == 0;
}

pdnn_chain_weights *pdnn_conv_chain_pack(const float *we, const float *be, const float *wd, const float *bd,
                                         const float *wp, const float *bp, int cin, int cmid, int cout, int kh, int kw,
                                         const pdnn_chain_head *head) {
  pdnn_chain_weights *cw = (pdnn_chain_weights *)pdnn_alloc(sizeof(pdnn_chain_weights));
  cw->cin = cin, cw->cmid = cmid, cw->cout = cout, cw->taps = kh * kw, cw->head = *head;
  cw->head_k = cin * head->kh * head->kw;
  cw->cmidp = CHAIN_PAD(cmid), cw->coutp = CHAIN_PAD(cout);
  if (we) cw->we = transposed(we, cmid, cw->head_k, cw->head_k, cw->cmidp), cw->be = padded(be, cmid, cw->cmidp);
  cw->wd = transposed(wd, cmid, cw->taps, cw->taps, cw->cmidp), cw->bd = padded(bd, cmid, cw->cmidp);
  if (wp) cw->wp = transposed(wp, cout, cmid, cmid, cw->coutp), cw->bp = padded(bp, cout, cw->coutp);
  return cw;
}

/* One register tile: out[i][v*VL + l] = bias[v*VL + l] + sum_k w[k*wk + v*VL + l] * x[i][k*xk] for
 * i < np (rows past np repeat row 0: computed, never stored), v < NV. Inlined with a literal NV. */
static inline __attribute__((always_inline)) void cm_tile(const int NV, int np, int k, const float *const *x,
                                                          int64_t xk, const float *w, int64_t wk, const float *bias,
                                                          float *const *out, int act) {
  pdnn_v acc[CHAIN_PT][CHAIN_NV];
  for (int v = 0; v < NV; v++) {
    const pdnn_v b = pv_load(bias + v * PDNN_VL);
    for (int i = 0; i < CHAIN_PT; i++) acc[i][v] = b;
  }
  for (int kk = 0; kk < k; kk++) {
    pdnn_v wv[CHAIN_NV];
    for (int v = 0; v < NV; v++) wv[v] = pv_load(w + kk * wk + v * PDNN_VL);
    for (int i = 0; i < CHAIN_PT; i++) {
      const pdnn_v xb = pv_set1(x[i][kk * xk]);
      for (int v = 0; v < NV; v++) acc[i][v] = pv_fma(wv[v], xb, acc[i][v]);
    }
  }
  for (int i = 0; i < np; i++)
    for (int v = 0; v < NV; v++) pv_store(out[i] + v * PDNN_VL, act_vec(acc[i][v], act));
}

/* Every channel block of one pixel tile (the last block may be narrower: nv literal per case). */
static void cm_tiles(int channels_p, int np, int k, const float *const *x, int64_t xk, const float *w, int64_t wk,
                     const float *bias, float *const *out, int act) {
  for (int c0 = 0; c0 < channels_p; c0 += CHAIN_CB) {
    float *o[CHAIN_PT];
    for (int i = 0; i < CHAIN_PT; i++) o[i] = out[i] + c0;
    const int nv = CHAIN_MIN(CHAIN_NV, (channels_p - c0) / PDNN_VL);
    if (nv == CHAIN_NV)
      cm_tile(CHAIN_NV, np, k, x, xk, w + c0, wk, bias + c0, o, act);
    else if (nv == 1)
      cm_tile(1, np, k, x, xk, w + c0, wk, bias + c0, o, act);
#if CHAIN_NV > 2
    else if (nv == 2)
      cm_tile(2, np, k, x, xk, w + c0, wk, bias + c0, o, act);
    else
      cm_tile(3, np, k, x, xk, w + c0, wk, bias + c0, o, act);
#endif
  }
}

typedef struct {
  const pdnn_chain_weights *cw;
  const float *in, *res; /* one image (NCHW) */
  float *out;
  float *scratch;
  int64_t slot_floats;
  int act_e, act_d, act_p, rows, threads;
  pdnn_dw_shape s; /* the depthwise's: its input h x wd is the expand's output */
} chain_job;

static int64_t band_cap(const pdnn_dw_shape *s, int rows) { return (int64_t)(rows - 1) * s->sh + (s->kh - 1) * s->dh + 1; }

/* Floats of one thread's slot: E (the padded input rows of a band), D (its depthwise output) and,
 * for a head other than a 1x1, the columns of E's rows (head_k floats per pixel). */
static int64_t slot_need(const pdnn_dw_shape *s, int cmid, int rows, int columns_k) {
  const int64_t cmidp = CHAIN_PAD(cmid), cap = band_cap(s, rows);
  return cap * (s->wd + 2 * s->pw) * cmidp + (int64_t)rows * s->wo * cmidp + cap * s->wd * columns_k;
}

static int columns_k(const pdnn_chain_weights *cw) { return cw->we && !head_is_1x1(&cw->head) ? cw->head_k : 0; }

/* Input row iy, channels-last, into `interior` (the chain starts at the depthwise: no expand).
 * Read along the row, written cmidp apart; the padding lanes are zeroed once per row. */
static void transpose_row(const chain_job *j, const float *in, float *interior) {
  const pdnn_chain_weights *cw = j->cw;
  const int cmidp = cw->cmidp, wd = j->s.wd;
  const int64_t plane = (int64_t)j->s.h * wd;
  for (int c = 0; c < cw->cmid; c++) {
    const float *src = in + c * plane;
    for (int x = 0; x < wd; x++) interior[(int64_t)x * cmidp + c] = src[x];
  }
  for (int x = 0; x < wd; x++)
    for (int c = cw->cmid; c < cmidp; c++) interior[(int64_t)x * cmidp + c] = 0.0f;
}

/* The columns of `pixels` head-output pixels from row oy0 on (row-major, wd = the head's output
 * width): column p holds the head's window of pixel p, (c, ky, kx) in im2col's order, 0 outside the
 * input — the values and order of the unfused im2col, so the products are summed the same way. */
static void head_columns(const chain_job *j, float *columns, int oy0, int pixels) {
  const pdnn_chain_head *h = &j->cw->head;
  const int wd = j->s.wd, k = j->cw->head_k;
  for (int p0 = 0; p0 < pixels; p0 += wd) { /* one output row: each tap's values along it */
    const int oy = oy0 + p0 / wd, n = CHAIN_MIN(wd, pixels - p0);
    float *col = columns + (int64_t)p0 * k;
    for (int c = 0, t = 0; c < j->cw->cin; c++)
      for (int ky = 0; ky < h->kh; ky++) {
        const int iy = oy * h->sh + ky * h->dh - h->ph;
        const float *row = j->in + ((int64_t)c * h->h + iy) * h->w;
        for (int kx = 0; kx < h->kw; kx++, t++) {
          const int ix = kx * h->dw - h->pw; /* the input column of output column 0 */
          /* output columns [x0, x1) read inside the input (as im2col_rows resolves them) */
          int x0 = ix < 0 ? (-ix + h->sw - 1) / h->sw : 0, x1 = h->w - 1 - ix >= 0 ? (h->w - 1 - ix) / h->sw + 1 : 0;
          if (iy < 0 || iy >= h->h) x0 = x1 = 0;
          x0 = CHAIN_MIN(x0, n), x1 = CHAIN_MAX(x0, CHAIN_MIN(x1, n));
          for (int x = 0; x < x0; x++) col[(int64_t)x * k + t] = 0.0f;
          for (int x = x0; x < x1; x++) col[(int64_t)x * k + t] = row[x * h->sw + ix];
          for (int x = x1; x < n; x++) col[(int64_t)x * k + t] = 0.0f;
        }
      }
  }
}

/* Padded rows [first, first + count) of E (row r: input row top + r): zero borders, zero rows
 * outside the input, and in between the expand (one register tile per PT pixels, which run on
 * across input rows: a 7-wide plane fills whole tiles) with its activation — or, with no expand,
 * the input rows themselves, channels-last. */
static void fill_rows(const chain_job *j, float *e, int64_t row_len, int first, int count, int top, float *columns) {
  const pdnn_chain_weights *cw = j->cw;
  const pdnn_dw_shape *s = &j->s;
  const int cmidp = cw->cmidp, wd = s->wd, pw = s->pw;
  const int64_t plane = (int64_t)cw->head.h * cw->head.w;
  int ra = first + count, rb = first; /* the rows inside the input: [ra, rb) */
  for (int r = first; r < first + count; r++) {
    float *row = e + r * row_len;
    const int inside = top + r >= 0 && top + r < s->h;
    if (!inside) {
      memset(row, 0, (size_t)row_len * sizeof(float));
      continue;
    }
    ra = CHAIN_MIN(ra, r), rb = r + 1;
    memset(row, 0, (size_t)pw * cmidp * sizeof(float));
    memset(row + (int64_t)(pw + wd) * cmidp, 0, (size_t)pw * cmidp * sizeof(float));
    if (!cw->we) transpose_row(j, j->in + (int64_t)(top + r) * wd, row + (int64_t)pw * cmidp);
  }
  if (!cw->we || ra >= rb) return;
  const int pixels = (rb - ra) * wd;
  const float *in = j->in + (int64_t)(top + ra) * wd; /* a 1x1 head reads its pixels in place */
  int64_t xk = plane, xp = 1;
  if (!head_is_1x1(&cw->head)) { /* a stem: each pixel's window as a column, in the GEMM's k order */
    head_columns(j, columns, top + ra, pixels);
    in = columns, xk = 1, xp = cw->head_k;
  }
  /* channel blocks outside, pixel tiles inside: a block's weights (cin x CB) stay in L1/L2 while
   * every pixel of the band passes (160 -> 960 @7x7: 614 KB of weights per sweep otherwise) */
  for (int c0 = 0; c0 < cmidp; c0 += CHAIN_CB) {
    const int cb = CHAIN_MIN(CHAIN_CB, cmidp - c0);
    for (int p0 = 0; p0 < pixels; p0 += CHAIN_PT) {
      const int np = CHAIN_MIN(CHAIN_PT, pixels - p0);
      const float *xr[CHAIN_PT];
      float *o[CHAIN_PT];
      for (int i = 0; i < CHAIN_PT; i++) {
        const int p = p0 + (i < np ? i : 0);
        xr[i] = in + p * xp;
        o[i] = e + (ra + p / wd) * row_len + (int64_t)(pw + p % wd) * cmidp + c0;
      }
      cm_tiles(cb, np, cw->head_k, xr, xk, cw->we + c0, cmidp, cw->be + c0, o, act_in_registers(j->act_e) ? j->act_e : 0);
    }
  }
  if (!act_in_registers(j->act_e))
    for (int r = ra; r < rb; r++) pdnn_act_row(e + r * row_len + (int64_t)pw * cmidp, (int64_t)wd * cmidp, j->act_e);
}

/* Output pixels [x0, x0 + XN) of one 3x3 row of one channel vector: XN independent sums (FMA
 * latency hides behind each other), each the bias then the taps in row-major order. */
#define CHAIN_XN 8
static inline __attribute__((always_inline)) void dw3x3_pixels(const int XN, const pdnn_v *w, pdnn_v b,
                                                               const float *const *r, int64_t xs, int64_t ts, float *d,
                                                               int64_t ds, int act) {
  pdnn_v acc[CHAIN_XN];
  for (int i = 0; i < XN; i++) acc[i] = b;
  for (int ky = 0; ky < 3; ky++)
    for (int kx = 0; kx < 3; kx++)
      for (int i = 0; i < XN; i++) acc[i] = pv_fma(w[ky * 3 + kx], pv_load(r[ky] + i * xs + kx * ts), acc[i]);
  for (int i = 0; i < XN; i++) pv_store(d + i * ds, act_vec(acc[i], act));
}

/* XN pixels of any kh x kw window (taps s->dh rows, ts floats apart; pixels xs apart), one channel
 * vector: the bias, then the taps in row-major order. */
static inline __attribute__((always_inline)) void dw_pixels(const int XN, const pdnn_dw_shape *s, const float *w,
                                                            int cmidp, pdnn_v b, const float *r, int64_t row_len,
                                                            int64_t xs, int64_t ts, float *d, int64_t ds, int act) {
  pdnn_v acc[CHAIN_XN];
  for (int i = 0; i < XN; i++) acc[i] = b;
  for (int ky = 0; ky < s->kh; ky++) {
    const float *ry = r + (int64_t)ky * s->dh * row_len;
    for (int kx = 0; kx < s->kw; kx++) {
      const pdnn_v wv = pv_load(w + (ky * s->kw + kx) * cmidp);
      for (int i = 0; i < XN; i++) acc[i] = pv_fma(wv, pv_load(ry + i * xs + kx * ts), acc[i]);
    }
  }
  for (int i = 0; i < XN; i++) pv_store(d + i * ds, act_vec(acc[i], act));
}

/* The depthwise of output rows [0, nrows) of a band from E (row 0: the band's first padded input
 * row) into D: pixel oy * wo + x, cmidp channels each; the bias, then the taps in row-major order. */
static void depthwise_band(const chain_job *j, const float *e, int64_t row_len, int nrows, float *d) {
  const pdnn_chain_weights *cw = j->cw;
  const pdnn_dw_shape *s = &j->s;
  const int cmidp = cw->cmidp, wo = s->wo;
  const int64_t xs = (int64_t)s->sw * cmidp, ts = (int64_t)s->dw * cmidp; /* next pixel, next tap */
  /* with a project the activation is the depthwise's own (in registers where it can be); without,
   * write_band adds the residual first, then activates */
  const int act = cw->wp && act_in_registers(j->act_d) ? j->act_d : PDNN_ACT_NONE;
  for (int oy = 0; oy < nrows; oy++)
    for (int c = 0; c < cmidp; c += PDNN_VL) {
      const pdnn_v b = pv_load(cw->bd + c);
      float *dst = d + (int64_t)oy * wo * cmidp + c;
      if (s->kh == 3 && s->kw == 3) {
        pdnn_v w[9];
        for (int t = 0; t < 9; t++) w[t] = pv_load(cw->wd + t * cmidp + c);
        const float *r[3];
        for (int ky = 0; ky < 3; ky++) r[ky] = e + (int64_t)(oy * s->sh + ky * s->dh) * row_len + c;
        int x = 0;
        for (; x + CHAIN_XN <= wo; x += CHAIN_XN) {
          const float *rx[3] = {r[0] + x * xs, r[1] + x * xs, r[2] + x * xs};
          dw3x3_pixels(CHAIN_XN, w, b, rx, xs, ts, dst + (int64_t)x * cmidp, cmidp, act);
        }
        for (; x < wo; x++) {
          const float *rx[3] = {r[0] + x * xs, r[1] + x * xs, r[2] + x * xs};
          dw3x3_pixels(1, w, b, rx, xs, ts, dst + (int64_t)x * cmidp, cmidp, act);
        }
        continue;
      }
      /* any other window: CHAIN_XN pixels' sums at once, each tap's weights loaded once for them */
      const float *r0 = e + (int64_t)oy * s->sh * row_len + c;
      int x = 0;
      for (; x + CHAIN_XN <= wo; x += CHAIN_XN)
        dw_pixels(CHAIN_XN, s, cw->wd + c, cmidp, b, r0 + x * xs, row_len, xs, ts, dst + (int64_t)x * cmidp, cmidp, act);
      for (; x < wo; x++)
        dw_pixels(1, s, cw->wd + c, cmidp, b, r0 + x * xs, row_len, xs, ts, dst + (int64_t)x * cmidp, cmidp, act);
    }
}

/* D (np pixels of cmidp channels) -> output rows from oy0 on: the project, or with no project the
 * depthwise's values themselves, written back as NCHW planes; then residual and activation. */
static void write_band(const chain_job *j, const float *d, int oy0, int np) {
  const pdnn_chain_weights *cw = j->cw;
  const int64_t out_plane = (int64_t)j->s.ho * j->s.wo, p0 = (int64_t)oy0 * j->s.wo;
  const int cout = cw->wp ? cw->cout : cw->cmid;
  if (cw->wp) {
    float tile[CHAIN_PT * 4 * 16]; /* PT pixels x one channel block (CB <= 64) */
    for (int c0 = 0; c0 < cw->coutp; c0 += CHAIN_CB) { /* a block's weights stay cached across the tiles */
      const int cb = CHAIN_MIN(CHAIN_CB, cw->coutp - c0);
      for (int t0 = 0; t0 < np; t0 += CHAIN_PT) {
        const int n = CHAIN_MIN(CHAIN_PT, np - t0);
        const float *xr[CHAIN_PT];
        float *o[CHAIN_PT];
        for (int i = 0; i < CHAIN_PT; i++) {
          xr[i] = d + (int64_t)(t0 + (i < n ? i : 0)) * cw->cmidp;
          o[i] = tile + i * CHAIN_CB;
        }
        cm_tiles(cb, n, cw->cmid, xr, 1, cw->wp + c0, cw->coutp, cw->bp + c0, o, PDNN_ACT_NONE);
        for (int c = c0; c < CHAIN_MIN(c0 + cb, cout); c++)
          for (int i = 0; i < n; i++) j->out[c * out_plane + p0 + t0 + i] = tile[i * CHAIN_CB + c - c0];
      }
    }
  } else {
    for (int c = 0; c < cout; c++)
      for (int p = 0; p < np; p++) j->out[c * out_plane + p0 + p] = d[(int64_t)p * cw->cmidp + c];
  }
  const int act = cw->wp ? j->act_p : j->act_d;
  for (int c = 0; c < cout; c++)
    pdnn_finish_row(j->out + c * out_plane + p0, j->res ? j->res + c * out_plane + p0 : NULL, np, act);
}

static void chain_threads(void *arg, int64_t begin, int64_t end) {
  const chain_job *j = (const chain_job *)arg;
  const pdnn_dw_shape *s = &j->s;
  const int cmidp = j->cw->cmidp;
  const int64_t row_len = (int64_t)(s->wd + 2 * s->pw) * cmidp, cap = band_cap(s, j->rows);
  for (int64_t t = begin; t < end; t++) {
    float *e = j->scratch + t * j->slot_floats, *d = e + cap * row_len, *columns = d + (int64_t)j->rows * s->wo * cmidp;
    const int lo = (int)(t * s->ho / j->threads), hi = (int)((t + 1) * s->ho / j->threads);
    int held_top = 0, held = 0; /* E holds padded rows [held_top, held_top + held) */
    for (int oy0 = lo; oy0 < hi; oy0 += j->rows) {
      const int nrows = CHAIN_MIN(hi - oy0, j->rows), top = oy0 * s->sh - s->ph;
      const int need = (int)band_cap(s, nrows);
      int kept = 0; /* rows of the last band this one reads again: moved to the front */
      if (held > 0 && top >= held_top && top < held_top + held) {
        kept = CHAIN_MIN(held_top + held - top, need);
        memmove(e, e + (top - held_top) * row_len, (size_t)(kept * row_len) * sizeof(float));
      }
      fill_rows(j, e, row_len, kept, need - kept, top, columns);
      held_top = top, held = need;
      depthwise_band(j, e, row_len, nrows, d);
      if (j->cw->wp && !act_in_registers(j->act_d)) pdnn_act_row(d, (int64_t)nrows * s->wo * cmidp, j->act_d);
      write_band(j, d, oy0, nrows * s->wo);
    }
  }
}

void pdnn_conv_chain(pdnn_ctx *ctx, const pdnn_chain_weights *cw, const float *in, float *out, const float *residual,
                     int act_e, int act_d, int act_p, int n, int h, int wdt, int ho, int wo, int kh, int kw, int sh,
                     int sw, int ph, int pw, int dh, int dw, int rows, float *scratch, int slots, int64_t slot_floats) {
  const pdnn_dw_shape s = {h, wdt, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw};
  const int64_t need = slot_need(&s, cw->cmid, rows, columns_k(cw));
  if (slot_floats < need || slots < 1) {
    fprintf(stderr, "patdnn: pdnn_conv_chain: scratch slot of %lld floats, needs %lld\n", (long long)slot_floats,
            (long long)need);
    abort();
  }
  const int threads = CHAIN_MAX(1, CHAIN_MIN(CHAIN_MIN(pdnn_ctx_num_threads(ctx), slots), ho));
  const int c_in = cw->we ? cw->cin : cw->cmid, c_out = cw->wp ? cw->cout : cw->cmid;
  const int64_t image_in = (int64_t)c_in * (cw->we ? (int64_t)cw->head.h * cw->head.w : (int64_t)h * wdt);
  for (int b = 0; b < n; b++) {
    const int64_t image_out = (int64_t)b * c_out * ho * wo;
    chain_job job = {cw, in + b * image_in, residual ? residual + image_out : NULL, out + image_out,
                     scratch, slot_floats, act_e, act_d, act_p, rows, threads, s};
    pdnn_parallel_for(ctx, threads, chain_threads, &job);
  }
}
