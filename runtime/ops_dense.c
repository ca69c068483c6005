/* Dense layer kernels for the `nn` dialect (see patdnn_ops.h).
 *
 * Portable C11 written for GCC's auto-vectorizer (-O3): inner loops run over contiguous pixels
 * or a fixed-size register tile, with no per-element branches (bounds are resolved per row).
 * Reductions are spelled out lane by lane (no reassociation needed), so SIMDe-on-x86 and aarch64
 * builds compute in the same order. Where the target has FMA (aarch64, x86 with -mfma) products
 * are fused explicitly; -ffp-contract=off keeps every other operation unfused. */
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

/* pdnn_act_row (the fused activation of a row) is in ops_act.c. */

/* The end of an output row: the residual (NULL: none) added, then the activation. */
void pdnn_finish_row(float *restrict v, const float *restrict residual, int64_t n, int act) {
  if (residual)
    for (int64_t i = 0; i < n; i++) v[i] += residual[i];
  pdnn_act_row(v, n, act);
}

/* ============================================================================================
 * GEMM: C[m x p] = act(A[m x k] * B[k x p] + bias [+ R])
 *
 * Register tile GEMM_MR x GEMM_NR output channels x pixels. Full strips of GEMM_NR pixels are
 * read straight from B (GEMM_NR contiguous floats per k); the pixel tail of a chunk is copied once
 * into a zero-padded panel so it runs the same register kernel. K is split in blocks of GEMM_KC;
 * for each strip of B (GEMM_KC x GEMM_NR: stays in L1) up to GEMM_MGROUP channel blocks sweep it.
 * Work items are (pixel chunk, channel group) pairs, pixel-chunk major.
 * Every output is bias + a[0]b[0] + a[1]b[1] + ... fused in k order whatever the tile, so the x86
 * SIMD kernels and the portable one give the same bits. (One Zen 5 core, ResNet-50's 1x1 shapes:
 * AVX-512 kernel 160-227 GFLOP/s, 62-88% of peak; the portable kernel built for AVX-512 93-157.)
 * ========================================================================================== */
#if defined(__AVX512F__)
#include <immintrin.h>
/* 12 x 32: 24 zmm accumulators, 2 loads of B and 12 broadcasts of A (folded into the FMAs) per k */
#define GEMM_SIMD 1
#define GEMM_MR 12
#define GEMM_VW 16
typedef __m512 gemm_v;
#define gemm_load(p) _mm512_loadu_ps(p)
#define gemm_store(p, v) _mm512_storeu_ps((p), (v))
#define gemm_set1(x) _mm512_set1_ps(x)
#define gemm_fma(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
/* 6 x 16: 12 ymm accumulators, 2 loads of B, 6 broadcasts of A per k (16 registers in all) */
#define GEMM_SIMD 1
#define GEMM_MR 6
#define GEMM_VW 8
typedef __m256 gemm_v;
#define gemm_load(p) _mm256_loadu_ps(p)
#define gemm_store(p, v) _mm256_storeu_ps((p), (v))
#define gemm_set1(x) _mm256_set1_ps(x)
#define gemm_fma(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#else
/* Portable: 6 x 16 floats (24 NEON accumulators), written for the auto-vectorizer. */
#define GEMM_SIMD 0
#define GEMM_MR 6
#define GEMM_VW 8 /* GEMM_NR = 16 */
#define GEMM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#endif
#define GEMM_NR (2 * GEMM_VW)
#define GEMM_KC 256
#define GEMM_PCHUNK 128 /* a multiple of GEMM_NR */
#define GEMM_MGROUP 8   /* channel blocks (of GEMM_MR) per work item */

/* Rows of A for one tile: rows past mr repeat row 0 (computed, never stored). */
static void gemm_rows(const float *a, int64_t lda, int mr, const float **ar) {
  for (int i = 0; i < GEMM_MR; i++) ar[i] = a + (i < mr ? i : 0) * lda;
}

#if GEMM_SIMD
/* One register tile over kc values of the reduction; b: kc rows of GEMM_NR floats, ldb apart.
 * first: start from the bias (else from C); last: apply the activation. mr <= GEMM_MR rows,
 * nr <= GEMM_NR columns are stored (a partial tile goes through a buffer). */
static void gemm_tile(int kc, const float *restrict a, int64_t lda, const float *restrict b, int64_t ldb,
                      float *restrict c, int64_t ldc, const float *bias, const float *res, int act, int mr, int nr,
                      int first, int last) {
  const float *ar[GEMM_MR];
  gemm_rows(a, lda, mr, ar);
  float buf[GEMM_MR * GEMM_NR];
  const int full = mr == GEMM_MR && nr == GEMM_NR;
  float *cc = full ? c : buf;
  const int64_t ldcc = full ? ldc : GEMM_NR;
  if (!full && !first)
    for (int i = 0; i < mr; i++) memcpy(buf + i * GEMM_NR, c + i * ldc, (size_t)nr * sizeof(float));
#define GEMM_ACC_INIT(i)                                                                     \
  gemm_v c##i##_0, c##i##_1;                                                                 \
  if (first) {                                                                               \
    c##i##_0 = c##i##_1 = gemm_set1(bias && (i) < mr ? bias[i] : 0.0f);                      \
  } else if ((i) < mr) {                                                                     \
    c##i##_0 = gemm_load(cc + (i) * ldcc);                                                   \
    c##i##_1 = gemm_load(cc + (i) * ldcc + GEMM_VW);                                         \
  } else {                                                                                   \
    c##i##_0 = c##i##_1 = gemm_set1(0.0f);                                                   \
  }
  GEMM_ROWS(GEMM_ACC_INIT)
#undef GEMM_ACC_INIT
#define GEMM_ACC_FMA(i)                                  \
  {                                                      \
    const gemm_v w = gemm_set1(ar[i][kk]);               \
    c##i##_0 = gemm_fma(w, b0, c##i##_0);                \
    c##i##_1 = gemm_fma(w, b1, c##i##_1);                \
  }
  for (int kk = 0; kk < kc; kk++) {
    const gemm_v b0 = gemm_load(b + kk * ldb), b1 = gemm_load(b + kk * ldb + GEMM_VW);
    GEMM_ROWS(GEMM_ACC_FMA)
  }
#undef GEMM_ACC_FMA
#define GEMM_ACC_STORE(i)                                \
  if ((i) < mr) {                                        \
    gemm_store(cc + (i) * ldcc, c##i##_0);               \
    gemm_store(cc + (i) * ldcc + GEMM_VW, c##i##_1);     \
  }
  GEMM_ROWS(GEMM_ACC_STORE)
#undef GEMM_ACC_STORE
  for (int i = 0; i < mr; i++) {
    if (last) pdnn_finish_row(cc + i * ldcc, res ? res + i * ldc : NULL, nr, act);
    if (!full) memcpy(c + i * ldc, buf + i * GEMM_NR, (size_t)nr * sizeof(float));
  }
}
#else
/* Portable form of the tile above (same arguments, same order of operations). */
static void gemm_tile(int kc, const float *restrict a, int64_t lda, const float *restrict b, int64_t ldb,
                      float *restrict c, int64_t ldc, const float *bias, const float *res, int act, int mr, int nr,
                      int first, int last) {
  float acc[GEMM_MR][GEMM_NR];
  const float *ar[GEMM_MR];
  gemm_rows(a, lda, mr, ar);
  if (first) {
    for (int i = 0; i < GEMM_MR; i++) {
      const float bi = (bias && i < mr) ? bias[i] : 0.0f;
      for (int j = 0; j < GEMM_NR; j++) acc[i][j] = bi;
    }
  } else {
    for (int i = 0; i < GEMM_MR; i++)
      for (int j = 0; j < GEMM_NR; j++) acc[i][j] = 0.0f;
    for (int i = 0; i < mr; i++)
      for (int j = 0; j < nr; j++) acc[i][j] = c[i * ldc + j];
  }
  /* The rows are spelled out (GEMM_ROWS) so the compiler keeps every accumulator in a register. */
#define GEMM_ROW_LOAD(i) const float w##i = ar[i][kk];
#define GEMM_ROW_FMA(i) acc[i][j] = PDNN_FMA(w##i, x, acc[i][j]);
  for (int kk = 0; kk < kc; kk++) {
    const float *restrict bk = b + kk * ldb;
    GEMM_ROWS(GEMM_ROW_LOAD)
    for (int j = 0; j < GEMM_NR; j++) {
      const float x = bk[j];
      GEMM_ROWS(GEMM_ROW_FMA)
    }
  }
#undef GEMM_ROW_LOAD
#undef GEMM_ROW_FMA
  for (int i = 0; i < mr; i++) {
    if (last) pdnn_finish_row(acc[i], res ? res + i * ldc : NULL, nr, act);
    memcpy(c + i * ldc, acc[i], (size_t)nr * sizeof(float));
  }
}
#endif

typedef struct {
  int m, p, k;
  const float *a;
  int64_t lda;
  const float *b;
  int64_t ldb;
  float *c;
  int64_t ldc;
  const float *bias;
  const float *res; /* NULL, or m x p added before the activation, ldc apart like C */
  int act;
  int mgroups;
} gemm_job;

/* Copies the last, partial strip of B (rows k0..k0+kc, columns j0..j0+nr) into a zero-padded
 * kc x GEMM_NR panel, so the pixel tail runs the same register kernel as full strips. */
static void gemm_pack_tail(const gemm_job *g, int k0, int kc, int j0, int nr, float *restrict pack) {
  for (int kk = 0; kk < kc; kk++) {
    float *d = pack + kk * GEMM_NR;
    memset(d, 0, GEMM_NR * sizeof(float));
    memcpy(d, g->b + (int64_t)(k0 + kk) * g->ldb + j0, (size_t)nr * sizeof(float));
  }
}

static void gemm_items(void *arg, int64_t begin, int64_t end) {
  const gemm_job *g = (const gemm_job *)arg;
  const int mblocks = (g->m + GEMM_MR - 1) / GEMM_MR;
  /* the pixel tail's panel: on the stack, so the many small GEMMs of a fused chain allocate nothing */
  float pack[GEMM_KC * GEMM_NR] __attribute__((aligned(64)));
  for (int64_t item = begin; item < end; item++) {
    const int pc = (int)(item / g->mgroups), mg = (int)(item % g->mgroups);
    const int p0 = pc * GEMM_PCHUNK, p1 = PDNN_MIN(g->p, p0 + GEMM_PCHUNK);
    const int mb0 = mg * GEMM_MGROUP, mb1 = PDNN_MIN(mblocks, mb0 + GEMM_MGROUP);
    const int tail = (p1 - p0) % GEMM_NR, full_end = p1 - tail;
    for (int k0 = 0; k0 < g->k; k0 += GEMM_KC) {
      const int kc = PDNN_MIN(GEMM_KC, g->k - k0);
      const int first = k0 == 0, last = k0 + kc == g->k;
      if (tail) gemm_pack_tail(g, k0, kc, full_end, tail, pack);
      for (int j0 = p0; j0 < p1; j0 += GEMM_NR) { /* one strip of B, in L1 for every channel block */
        const int nr = PDNN_MIN(GEMM_NR, p1 - j0);
        const float *b = j0 < full_end ? g->b + k0 * g->ldb + j0 : pack;
        const int64_t ldb = j0 < full_end ? g->ldb : GEMM_NR;
        for (int mb = mb0; mb < mb1; mb++) {
          const int i0 = mb * GEMM_MR, mr = PDNN_MIN(GEMM_MR, g->m - i0);
          gemm_tile(kc, g->a + i0 * g->lda + k0, g->lda, b, ldb, g->c + i0 * g->ldc + j0, g->ldc,
                    g->bias ? g->bias + i0 : NULL, g->res ? g->res + i0 * g->ldc + j0 : NULL, g->act, mr, nr, first,
                    last);
        }
      }
    }
  }
}

void pdnn_gemm(pdnn_ctx *ctx, int m, int p, int k, const float *a, int64_t lda, const float *b, int64_t ldb,
               float *c, int64_t ldc, const float *bias, const float *residual, int act) {
  if (m <= 0 || p <= 0) return;
  if (k <= 0) { /* no reduction: bias (or zero), the residual, the activation */
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < p; j++) c[i * ldc + j] = bias ? bias[i] : 0.0f;
      pdnn_finish_row(c + i * ldc, residual ? residual + i * ldc : NULL, p, act);
    }
    return;
  }
  const int mblocks = (m + GEMM_MR - 1) / GEMM_MR;
  gemm_job job = {m, p, k, a, lda, b, ldb, c, ldc, bias, residual, act, (mblocks + GEMM_MGROUP - 1) / GEMM_MGROUP};
  const int64_t pchunks = (p + GEMM_PCHUNK - 1) / GEMM_PCHUNK;
  pdnn_parallel_for(ctx, pchunks * job.mgroups, gemm_items, &job);
}

/* ============================================================================================
 * Convolution
 * ========================================================================================== */

typedef struct {
  const float *in;      /* one image: cin x h x wd */
  float *col;           /* rows of ldcol floats (ho * wo used), for the current group */
  const int32_t *rows;  /* column-matrix row of each output row (NULL: all rows, in order) */
  int64_t ldcol;
  int c0;               /* first input channel of the group */
  int h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw;
  int oy0, oy1;         /* the output rows to gather (column j of col is pixel oy0 * wo + j) */
} im2col_job;

/* Rows r = (ci, ky, kx) of the column matrix: col[r][oy*wo + ox] = in[ci][oy*sh+ky*dh-ph][ox*sw+kx*dw-pw]
 * (0 outside). The valid ox range is computed per row, so the copy loops have no branches. */
static void im2col_rows(void *arg, int64_t begin, int64_t end) {
  const im2col_job *j = (const im2col_job *)arg;
  for (int64_t i = begin; i < end; i++) {
    const int64_t r = j->rows ? j->rows[i] : i;
    const int kx = (int)(r % j->kw), ky = (int)(r / j->kw % j->kh), ci = (int)(r / (j->kw * j->kh));
    const float *plane = j->in + (int64_t)(j->c0 + ci) * j->h * j->wd;
    float *dst = j->col + i * j->ldcol;
    const int ix = kx * j->dw - j->pw; /* the input column of ox = 0 */
    /* ox valid iff 0 <= ox*sw + ix < wd */
    int ox0 = ix < 0 ? (-ix + j->sw - 1) / j->sw : 0;
    int ox1 = j->wd - 1 - ix >= 0 ? (j->wd - 1 - ix) / j->sw + 1 : 0;
    ox0 = PDNN_MIN(ox0, j->wo);
    ox1 = PDNN_MAX(ox0, PDNN_MIN(ox1, j->wo));
    for (int oy = j->oy0; oy < j->oy1; oy++) {
      float *d = dst + (int64_t)(oy - j->oy0) * j->wo;
      const int iy = oy * j->sh + ky * j->dh - j->ph;
      if (iy < 0 || iy >= j->h) {
        memset(d, 0, (size_t)j->wo * sizeof(float));
        continue;
      }
      const float *s = plane + (int64_t)iy * j->wd + ix;
      for (int ox = 0; ox < ox0; ox++) d[ox] = 0.0f;
      pdnn_copy_strided(d + ox0, s + (int64_t)ox0 * j->sw, ox1 - ox0, j->sw);
      for (int ox = ox1; ox < j->wo; ox++) d[ox] = 0.0f;
    }
  }
}

typedef struct {
  const float *in, *w, *bias, *res;
  float *out;
  int c, act;
  pdnn_dw_shape shape;
} dw_job;

/* The 3x3 window whose top-left tap is at index i of rows r0, r1, r2: b + its 9 products, fused in
 * row-major tap order (every 3x3 depthwise loop below, so all give the same bits). Inlined into
 * loops with a literal index step, which GCC vectorises. */
static inline __attribute__((always_inline)) float window3x3(const float *w, const float *r0, const float *r1,
                                                             const float *r2, int64_t i, float b) {
  float acc = b;
  acc = PDNN_FMA(w[0], r0[i], acc);
  acc = PDNN_FMA(w[1], r0[i + 1], acc);
  acc = PDNN_FMA(w[2], r0[i + 2], acc);
  acc = PDNN_FMA(w[3], r1[i], acc);
  acc = PDNN_FMA(w[4], r1[i + 1], acc);
  acc = PDNN_FMA(w[5], r1[i + 2], acc);
  acc = PDNN_FMA(w[6], r2[i], acc);
  acc = PDNN_FMA(w[7], r2[i + 1], acc);
  acc = PDNN_FMA(w[8], r2[i + 2], acc);
  return acc;
}

/* One padded input row of a depthwise band: wp floats, zero outside [pw, pw + wd). Spelled as loops
 * (not memset/memcpy: 7- to 28-wide rows are shorter than a libc call's overhead); the attribute
 * keeps GCC from turning them back into such calls. */
static inline void pad_row(float *restrict d,
                                                                                         const float *restrict src,
                                                                                         int wd, int pw, int wp) {
  for (int x = 0; x < pw; x++) d[x] = 0.0f;
  if (src)
    for (int x = 0; x < wd; x++) d[pw + x] = src[x];
  else
    for (int x = 0; x < wd; x++) d[pw + x] = 0.0f;
  for (int x = pw + wd; x < wp; x++) d[x] = 0.0f;
}

/* d[i] = src[2i + off] where that column is inside [0, wd), else 0, for i < n (src NULL: all 0). */
static inline void every_other(float *restrict d,
                                                                                            const float *restrict src,
                                                                                            int off, int wd, int n) {
  int i0 = off >= 0 ? 0 : (1 - off) / 2, i1 = wd - 1 - off >= 0 ? (wd - 1 - off) / 2 + 1 : 0;
  if (!src) i0 = i1 = 0;
  i0 = PDNN_MIN(i0, n);
  i1 = PDNN_MAX(i0, PDNN_MIN(i1, n));
  for (int i = 0; i < i0; i++) d[i] = 0.0f;
  const float *restrict s = src + off; /* literal stride 2: vectorised with permutes */
  for (int i = i0; i < i1; i++) d[i] = s[2 * i];
  for (int i = i1; i < n; i++) d[i] = 0.0f;
}

/* Stride-2 3x3 depthwise rows through the four phase planes of the padded input: plane (ry, rx)
 * row k, column x holds padded[2k + ry][2x + rx], wq = wo + 1 columns. Output (oy, x) reads planes
 * (0,0) (0,1) (0,0)+1 | (1,0) (1,1) (1,0)+1 | the (0,*) ones a row down: every tap is a unit-stride
 * load at flat index oy * wq + x, so the whole band is one vectorised loop (1/wq of it dropped)
 * instead of strided gathers on rows often narrower than a vector (576 @14 -> 7, 96 @112 -> 56).
 * The same taps, in window3x3's order. */
static void depthwise_3x3s2_phases(const pdnn_dw_shape *s, const float *w, float b, const float *src, int iy0, int top,
                                   int nrows, float *pad, float *flat, float *dst) {
  const int wo = s->wo, wq = wo + 1;
  const int64_t plane = (int64_t)(nrows + 1) * wq;
  float *ee = pad, *eo = pad + plane, *oe = pad + 2 * plane, *oo = pad + 3 * plane;
  for (int k = 0; k <= nrows; k++)
    for (int ry = 0; ry < 2 && (ry == 0 || k < nrows); ry++) {
      const int iy = top + 2 * k + ry;
      const float *row = iy < 0 || iy >= s->h ? NULL : src + (int64_t)(iy - iy0) * s->wd;
      every_other((ry ? oe : ee) + (int64_t)k * wq, row, -s->pw, s->wd, wq);
      every_other((ry ? oo : eo) + (int64_t)k * wq, row, 1 - s->pw, s->wd, wq);
    }
  const int n = (nrows - 1) * wq + wo;
  for (int i = 0; i < n; i++) {
    float acc = b;
    acc = PDNN_FMA(w[0], ee[i], acc);
    acc = PDNN_FMA(w[1], eo[i], acc);
    acc = PDNN_FMA(w[2], ee[i + 1], acc);
    acc = PDNN_FMA(w[3], oe[i], acc);
    acc = PDNN_FMA(w[4], oo[i], acc);
    acc = PDNN_FMA(w[5], oe[i + 1], acc);
    acc = PDNN_FMA(w[6], ee[i + wq], acc);
    acc = PDNN_FMA(w[7], eo[i + wq], acc);
    acc = PDNN_FMA(w[8], ee[i + wq + 1], acc);
    flat[i] = acc;
  }
  for (int oy = 0; oy < nrows; oy++)
    for (int x = 0; x < wo; x++) dst[(int64_t)oy * wo + x] = flat[(int64_t)oy * wq + x];
}

/* One output row of any depthwise window: the bias, then each tap's products over the row (taps in
 * row-major order, as window3x3). Inlined where `sw` is a literal, so the tap loops vectorise. */
static inline __attribute__((always_inline)) void depthwise_row_taps(const pdnn_dw_shape *s, const float *w, float b,
                                                                     const float *r, int wp, float *restrict o,
                                                                     int sw) {
  for (int x = 0; x < s->wo; x++) o[x] = b;
  for (int ky = 0; ky < s->kh; ky++) {
    const float *ry = r + (int64_t)ky * s->dh * wp;
    for (int kx = 0; kx < s->kw; kx++) {
      const float wv = w[ky * s->kw + kx];
      const float *restrict rx = ry + (int64_t)kx * s->dw;
      for (int x = 0; x < s->wo; x++) o[x] = PDNN_FMA(wv, rx[x * sw], o[x]);
    }
  }
}

/* Depthwise output rows [oy0, oy1) of one channel (pdnn_internal.h). The rows they read are copied
 * into the zero-padded scratch `pad` so every tap is an unconditional load (the scratch is written
 * whole each call, so it may be shared with other kernels). The 3x3 loops (dilation 1) read
 * adjacent taps, the general loop taps dh rows / dw columns apart; every path sums the taps in
 * row-major order from the bias (window3x3), so all give the same bits. The band's rows are
 * contiguous in dst: the residual and the activation run once over all of them. */
void pdnn_depthwise_rows(const pdnn_dw_shape *s, const float *w, float b, const float *src, int iy0, int oy0, int oy1,
                         float *pad, float *flat, float *dst, const float *res, int act) {
  const int wp = s->wd + 2 * s->pw, nrows = oy1 - oy0, top = oy0 * s->sh - s->ph, wo = s->wo;
  /* rows of pad: the taps of nrows output rows; (wo-1)*sw + (kw-1)*dw < wp holds by construction */
  const int prows = (nrows - 1) * s->sh + (s->kh - 1) * s->dh + 1;
  const int win3x3 = s->kh == 3 && s->kw == 3 && s->dh == 1 && s->dw == 1; /* window3x3's taps */
  if (win3x3 && s->sh == 2 && s->sw == 2 && flat) {
    depthwise_3x3s2_phases(s, w, b, src, iy0, top, nrows, pad, flat, dst);
    pdnn_finish_row(dst, res, (int64_t)nrows * wo, act);
    return;
  }
  for (int r = 0; r < prows; r++) {
    const int iy = top + r;
    pad_row(pad + (int64_t)r * wp, iy < 0 || iy >= s->h ? NULL : src + (int64_t)(iy - iy0) * s->wd, s->wd, s->pw, wp);
  }
  if (win3x3 && s->sh == 1 && s->sw == 1 && wo < 32 && flat) {
    /* Stride 1, narrow planes: output (oy, x) is the 3x3 window at pad[oy * wp + x], so the whole
     * band is one long loop over i = oy * wp + x (the wp - wo columns between rows are computed
     * and dropped): full vectors for 7- to 28-wide planes, where a loop per row hardly
     * vectorises (one Zen 5 core: 960 @7x7 0.164 -> 0.071 ms, 576 @14x14 0.214 -> 0.136, 192 @28x28
     * 0.137 -> 0.120; at 56 and wider the row loop is faster). */
    const int n = (nrows - 1) * wp + wo;
    for (int i = 0; i < n; i++) flat[i] = window3x3(w, pad, pad + wp, pad + 2 * wp, i, b);
    for (int oy = 0; oy < nrows; oy++)
      for (int x = 0; x < wo; x++) dst[(int64_t)oy * wo + x] = flat[(int64_t)oy * wp + x];
  } else {
    for (int oy = 0; oy < nrows; oy++) {
      float *restrict o = dst + (int64_t)oy * wo;
      const float *r = pad + (int64_t)oy * s->sh * wp;
      if (win3x3 && s->sw == 1) {
        for (int x = 0; x < wo; x++) o[x] = window3x3(w, r, r + wp, r + 2 * wp, x, b);
      } else if (s->sw == 1) { /* literal strides vectorise (dw 5x5 240 @28, one Zen 5 core: 1.07 -> 0.63 ms) */
        depthwise_row_taps(s, w, b, r, wp, o, 1);
      } else if (s->sw == 2) {
        depthwise_row_taps(s, w, b, r, wp, o, 2);
      } else {
        depthwise_row_taps(s, w, b, r, wp, o, s->sw);
      }
    }
  }
  pdnn_finish_row(dst, res, (int64_t)nrows * wo, act);
}

size_t pdnn_depthwise_pad_floats(const pdnn_dw_shape *s, int nrows) {
  const size_t rows = (size_t)((nrows - 1) * s->sh + (s->kh - 1) * s->dh + 1) * (size_t)(s->wd + 2 * s->pw);
  const size_t phases = 4 * (size_t)(nrows + 1) * (size_t)(s->wo + 1); /* depthwise_3x3s2_phases */
  return rows > phases ? rows : phases;
}

/* Depthwise: one (image, channel) plane per item, all its output rows at once. */
static void depthwise_planes(void *arg, int64_t begin, int64_t end) {
  const dw_job *j = (const dw_job *)arg;
  const pdnn_dw_shape *s = &j->shape;
  float *pad = (float *)pdnn_alloc(pdnn_depthwise_pad_floats(s, s->ho) * sizeof(float));
  float *flat = (float *)pdnn_alloc((size_t)s->ho * (s->wd + 2 * s->pw) * sizeof(float));
  for (int64_t item = begin; item < end; item++) {
    const int c = (int)(item % j->c);
    const float *src = j->in + item * s->h * s->wd;
    float *dst = j->out + item * s->ho * s->wo;
    const float *res = j->res ? j->res + (dst - j->out) : NULL;
    pdnn_depthwise_rows(s, j->w + (int64_t)c * s->kh * s->kw, j->bias ? j->bias[c] : 0.0f, src, 0, 0, s->ho, pad, flat,
                        dst, res, j->act);
  }
  pdnn_free(flat);
  pdnn_free(pad);
}

void pdnn_gather_rows(pdnn_ctx *ctx, const float *in, float *col, int64_t ldcol, const int32_t *rows, int nrows,
                      int h, int wd, int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw) {
  im2col_job job = {in, col, rows, ldcol, 0, h, wd, ho, wo, kh, kw, sh, sw, ph, pw, 1, 1, 0, ho};
  pdnn_parallel_for(ctx, nrows, im2col_rows, &job);
}

#define COL_BLOCK_BYTES (256 * 1024) /* a row block's column matrix: stays in L2 for its GEMM */

typedef struct {
  im2col_job gather; /* col, ldcol, oy0 and oy1 set per block */
  int rows_per_block, cout, k;
  const float *w, *bias, *res; /* res: the group's residual planes, like out (or NULL) */
  float *out; /* the group's output planes (ho * wo apart) */
  int act;
} conv_blocks_job;

/* Row blocks of a convolution whose column matrix outgrows L2: each thread gathers a block of
 * output rows into its own buffer and multiplies it while it is cached, instead of writing the
 * whole matrix to memory and reading it back (ResNet-50's 7x7 stem: 7.4 MB of columns). */
static void conv_row_blocks(void *arg, int64_t begin, int64_t end) {
  const conv_blocks_job *cb = (const conv_blocks_job *)arg;
  const int64_t ld = (int64_t)cb->rows_per_block * cb->gather.wo;
  float *col = (float *)pdnn_alloc((size_t)cb->k * (size_t)ld * sizeof(float));
  for (int64_t blk = begin; blk < end; blk++) {
    im2col_job g = cb->gather;
    g.col = col;
    g.ldcol = ld;
    g.oy0 = (int)blk * cb->rows_per_block;
    g.oy1 = PDNN_MIN(g.ho, g.oy0 + cb->rows_per_block);
    im2col_rows(&g, 0, cb->k);
    const int64_t p0 = (int64_t)g.oy0 * g.wo, p = (int64_t)g.ho * g.wo;
    /* ctx NULL: runs on this thread (it is one of the pool's already) */
    pdnn_gemm(NULL, cb->cout, (int)((g.oy1 - g.oy0) * g.wo), cb->k, cb->w, cb->k, col, ld, cb->out + p0, p, cb->bias,
              cb->res ? cb->res + p0 : NULL, cb->act);
  }
  pdnn_free(col);
}

void pdnn_conv2d_dense(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *bias,
                       const float *residual, int n, int cin, int h, int wd, int cout, int ho, int wo, int kh, int kw,
                       int sh, int sw, int ph, int pw, int dh, int dw, int groups, int act) {
  if (groups == cin && cout == cin && groups > 1) {
    dw_job job = {in, w, bias, residual, out, cin, act, {h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw}};
    pdnn_parallel_for(ctx, (int64_t)n * cin, depthwise_planes, &job);
    return;
  }
  const int cin_g = cin / groups, cout_g = cout / groups;
  const int k = cin_g * kh * kw;
  const int64_t p = (int64_t)ho * wo;
  /* a 1x1 kernel has one tap (ky = kx = 0), so dilation never moves it: B is the input itself */
  const int direct = kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
  const int rows_per_block = (int)PDNN_MAX(1, COL_BLOCK_BYTES / ((int64_t)k * wo * (int64_t)sizeof(float)));
  if (!direct && (int64_t)k * p * (int64_t)sizeof(float) > 8 * COL_BLOCK_BYTES && rows_per_block < ho) {
    for (int b = 0; b < n; b++)
      for (int g = 0; g < groups; g++) {
        const int64_t oc = (int64_t)b * cout + (int64_t)g * cout_g;
        conv_blocks_job job = {{in + (int64_t)b * cin * h * wd, NULL, NULL, 0, g * cin_g, h, wd, ho, wo, kh, kw, sh, sw, ph,
                                pw, dh, dw, 0, 0},
                               rows_per_block, cout_g, k, w + (int64_t)g * cout_g * k, bias ? bias + g * cout_g : NULL,
                               residual ? residual + oc * p : NULL, out + oc * p, act};
        pdnn_parallel_for(ctx, (ho + rows_per_block - 1) / rows_per_block, conv_row_blocks, &job);
      }
    return;
  }
  float *col = direct ? NULL : (float *)pdnn_alloc((size_t)k * (size_t)p * sizeof(float));
  for (int b = 0; b < n; b++) {
    const float *img = in + (int64_t)b * cin * h * wd;
    for (int g = 0; g < groups; g++) {
      const float *bmat = img + (int64_t)g * cin_g * h * wd;
      if (!direct) {
        im2col_job job = {img, col, NULL, p, g * cin_g, h, wd, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, 0, ho};
        pdnn_parallel_for(ctx, k, im2col_rows, &job);
        bmat = col;
      }
      const int64_t oc = (int64_t)b * cout + (int64_t)g * cout_g;
      pdnn_gemm(ctx, cout_g, (int)p, k, w + (int64_t)g * cout_g * k, k, bmat, p, out + oc * p, p,
                bias ? bias + g * cout_g : NULL, residual ? residual + oc * p : NULL, act);
    }
  }
  pdnn_free(col);
}

/* ============================================================================================
 * Pooling
 * ========================================================================================== */

typedef struct {
  const float *in;
  float *out;
  int kind, h, wd, ho, wo, kh, kw, sh, sw, ph, pw;
} pool_job;

/* One tap of a pooling window over an output row: o[x] = max(o[x], r[x * sw]) or o[x] += r[x * sw].
 * mode POOL_NAN is the NaN-keeping max (PyTorch: a window holding a NaN gives NaN; ~2x slower at
 * stride 2), taken only for planes that hold a NaN. Inlined, so calls with a literal stride get
 * their own vectorised loop. */
enum { POOL_SUM, POOL_MAX, POOL_NAN };
static inline __attribute__((always_inline)) void pool_row(float *restrict o, const float *restrict r, int wo, int sw,
                                                           int mode) {
  if (mode == POOL_NAN) {
    for (int x = 0; x < wo; x++) {
      const float v = r[x * sw], m = o[x];
      o[x] = (v > m || v != v) ? v : m; /* a NaN in o stays: v > NaN is false */
    }
  } else if (mode == POOL_MAX) {
    for (int x = 0; x < wo; x++) o[x] = r[x * sw] > o[x] ? r[x * sw] : o[x];
  } else {
    for (int x = 0; x < wo; x++) o[x] += r[x * sw];
  }
}

/* Copies n floats; returns whether any is NaN (vectorised; as fast as memcpy on wide rows). */
static inline __attribute__((always_inline)) int copy_row_nan(float *restrict d, const float *restrict s, int64_t n) {
  int nan = 0;
  for (int64_t i = 0; i < n; i++) {
    d[i] = s[i];
    nan |= s[i] != s[i];
  }
  return nan;
}

/* One plane's output rows from the padded plane `pad` (mode: a literal, see pool_row). */
static inline __attribute__((always_inline)) void pool_plane(const pool_job *j, const float *pad, float *dst, int mode) {
  const int wp = j->wd + 2 * j->pw, wo = j->wo, sw = j->sw;
  const float fill = mode == POOL_SUM ? 0.0f : -INFINITY, count = (float)(j->kh * j->kw);
  for (int oy = 0; oy < j->ho; oy++) {
    float *restrict o = dst + (int64_t)oy * wo;
    const float *r = pad + (int64_t)oy * j->sh * wp;
    for (int x = 0; x < wo; x++) o[x] = fill;
    for (int ky = 0; ky < j->kh; ky++) {
      for (int kx = 0; kx < j->kw; kx++) {
        const float *rx = r + (int64_t)ky * wp + kx;
        /* literal strides 1 and 2 vectorise (ResNet-50's 3x3/2 max pool: 0.41 -> 0.33 ms) */
        if (sw == 1)
          pool_row(o, rx, wo, 1, mode);
        else if (sw == 2)
          pool_row(o, rx, wo, 2, mode);
        else
          pool_row(o, rx, wo, sw, mode);
      }
    }
    if (mode == POOL_SUM)
      for (int x = 0; x < wo; x++) o[x] /= count;
  }
}

static __attribute__((noinline)) void pool_plane_nan(const pool_job *j, const float *pad, float *dst) {
  pool_plane(j, pad, dst, POOL_NAN);
}

static void pool_planes(void *arg, int64_t begin, int64_t end) {
  const pool_job *j = (const pool_job *)arg;
  const int hp = j->h + 2 * j->ph, wp = j->wd + 2 * j->pw, max = j->kind == PDNN_POOL_MAX;
  const float fill = max ? -INFINITY : 0.0f;
  float *pad = (float *)pdnn_alloc((size_t)hp * wp * sizeof(float));
  for (int64_t i = 0; i < (int64_t)hp * wp; i++) pad[i] = fill;
  for (int64_t item = begin; item < end; item++) {
    const float *src = j->in + item * j->h * j->wd;
    float *dst = j->out + item * j->ho * j->wo;
    int nan = 0; /* does the plane hold a NaN? (average pooling: sums carry it anyway) */
    for (int y = 0; y < j->h; y++) /* the border keeps `fill` from the first plane on */
      nan |= copy_row_nan(pad + (int64_t)(y + j->ph) * wp + j->pw, src + (int64_t)y * j->wd, j->wd);
    if (!max)
      pool_plane(j, pad, dst, POOL_SUM);
    else if (nan)
      pool_plane_nan(j, pad, dst);
    else
      pool_plane(j, pad, dst, POOL_MAX);
  }
  pdnn_free(pad);
}

void pdnn_pool2d(pdnn_ctx *ctx, const float *in, float *out, int kind, int n, int c, int h, int wd,
                 int ho, int wo, int kh, int kw, int sh, int sw, int ph, int pw) {
  pool_job job = {in, out, kind, h, wd, ho, wo, kh, kw, sh, sw, ph, pw};
  pdnn_parallel_for(ctx, (int64_t)n * c, pool_planes, &job);
}

typedef struct {
  const float *in;
  float *out;
  int h, wd, ho, wo;
} adaptive_job;

static void adaptive_planes(void *arg, int64_t begin, int64_t end) {
  const adaptive_job *j = (const adaptive_job *)arg;
  for (int64_t item = begin; item < end; item++) {
    const float *src = j->in + item * j->h * j->wd;
    float *dst = j->out + item * j->ho * j->wo;
    for (int oy = 0; oy < j->ho; oy++) {
      const int y0 = oy * j->h / j->ho, y1 = ((oy + 1) * j->h + j->ho - 1) / j->ho;
      for (int ox = 0; ox < j->wo; ox++) {
        const int x0 = ox * j->wd / j->wo, x1 = ((ox + 1) * j->wd + j->wo - 1) / j->wo;
        float sum = 0.0f;
        for (int y = y0; y < y1; y++)
          for (int x = x0; x < x1; x++) sum += src[(int64_t)y * j->wd + x];
        dst[oy * j->wo + ox] = sum / (float)((y1 - y0) * (x1 - x0));
      }
    }
  }
}

void pdnn_adaptive_avg_pool2d(pdnn_ctx *ctx, const float *in, float *out, int n, int c, int h, int wd,
                              int ho, int wo) {
  adaptive_job job = {in, out, h, wd, ho, wo};
  pdnn_parallel_for(ctx, (int64_t)n * c, adaptive_planes, &job);
}

/* ============================================================================================
 * Elementwise, concat, copy
 * ========================================================================================== */
#define EW_CHUNK 16384 /* elements per work item */

typedef struct {
  const float *a, *b;
  float *out;
  int64_t count;
  int act;
} ew_job;

static void add_chunks(void *arg, int64_t begin, int64_t end) {
  const ew_job *j = (const ew_job *)arg;
  for (int64_t item = begin; item < end; item++) {
    const int64_t i0 = item * EW_CHUNK, len = PDNN_MIN(EW_CHUNK, j->count - i0);
    const float *a = j->a + i0, *b = j->b + i0;
    float *o = j->out + i0;
    for (int64_t i = 0; i < len; i++) o[i] = a[i] + b[i];
    pdnn_act_row(o, len, j->act);
  }
}

void pdnn_add(pdnn_ctx *ctx, const float *a, const float *b, float *out, int64_t count, int act) {
  ew_job job = {a, b, out, count, act};
  pdnn_parallel_for(ctx, (count + EW_CHUNK - 1) / EW_CHUNK, add_chunks, &job);
}

static void act_chunks(void *arg, int64_t begin, int64_t end) {
  const ew_job *j = (const ew_job *)arg;
  for (int64_t item = begin; item < end; item++) {
    const int64_t i0 = item * EW_CHUNK, len = PDNN_MIN(EW_CHUNK, j->count - i0);
    if (j->out != j->a) memcpy(j->out + i0, j->a + i0, (size_t)len * sizeof(float));
    pdnn_act_row(j->out + i0, len, j->act);
  }
}

void pdnn_activation(pdnn_ctx *ctx, const float *in, float *out, int64_t count, int act) {
  ew_job job = {in, NULL, out, count, act};
  pdnn_parallel_for(ctx, (count + EW_CHUNK - 1) / EW_CHUNK, act_chunks, &job);
}

void pdnn_copy(pdnn_ctx *ctx, const float *in, float *out, int64_t count) {
  (void)ctx;
  if (in != out) memmove(out, in, (size_t)count * sizeof(float));
}

void pdnn_concat(pdnn_ctx *ctx, const float *const *inputs, const int64_t *inner, int num_inputs, float *out,
                 int64_t outer) {
  (void)ctx; /* memory bound: one thread saturates the bandwidth a copy gets */
  for (int64_t o = 0; o < outer; o++) {
    for (int i = 0; i < num_inputs; i++) {
      memcpy(out, inputs[i] + o * inner[i], (size_t)inner[i] * sizeof(float));
      out += inner[i];
    }
  }
}

/* ============================================================================================
 * Linear, softmax
 * ========================================================================================== */
#define DOT_LANES 16
#define DOT_ROWS 4 /* weight rows streamed at once: more misses in flight than one row's stream */

/* DOT_ROWS dot products of x with consecutive rows of w (ldw apart), each with DOT_LANES explicit
 * partial sums: vectorizes without reassociation, and every row gets exactly the sums (and bits)
 * a one-row loop gives it. rows <= DOT_ROWS results are stored. */
static void dot_rows(const float *restrict x, const float *restrict w, int64_t ldw, int k, int rows,
                     float *restrict out) {
  /* rows past `rows` repeat row 0 (computed, never stored); spelled out so the sums stay in registers */
  const float *restrict w0 = w, *restrict w1 = w + (rows > 1) * ldw, *restrict w2 = w + (rows > 2) * 2 * ldw,
              *restrict w3 = w + (rows > 3) * 3 * ldw;
  float p0[DOT_LANES], p1[DOT_LANES], p2[DOT_LANES], p3[DOT_LANES];
  for (int j = 0; j < DOT_LANES; j++) p0[j] = p1[j] = p2[j] = p3[j] = 0.0f;
  int i = 0;
  for (; i + DOT_LANES <= k; i += DOT_LANES) {
    for (int j = 0; j < DOT_LANES; j++) {
      const float xv = x[i + j];
      p0[j] = PDNN_FMA(xv, w0[i + j], p0[j]);
      p1[j] = PDNN_FMA(xv, w1[i + j], p1[j]);
      p2[j] = PDNN_FMA(xv, w2[i + j], p2[j]);
      p3[j] = PDNN_FMA(xv, w3[i + j], p3[j]);
    }
  }
  const float *wr[DOT_ROWS] = {w0, w1, w2, w3}, *pr[DOT_ROWS] = {p0, p1, p2, p3};
  for (int r = 0; r < rows; r++) {
    float sum = 0.0f;
    for (int j = 0; j < DOT_LANES; j++) sum += pr[r][j];
    for (int t = i; t < k; t++) sum = PDNN_FMA(x[t], wr[r][t], sum);
    out[r] = sum;
  }
}

typedef struct {
  const float *in, *w, *bias;
  float *out;
  int n, k, m, act;
} linear_job;

static void linear_rows(void *arg, int64_t begin, int64_t end) {
  const linear_job *j = (const linear_job *)arg;
  for (int i = 0; i < j->n; i++) {
    float *o = j->out + (int64_t)i * j->m;
    for (int64_t r = begin; r < end; r += DOT_ROWS) {
      const int rows = (int)PDNN_MIN(DOT_ROWS, end - r);
      dot_rows(j->in + (int64_t)i * j->k, j->w + r * j->k, j->k, j->k, rows, o + r);
      for (int t = 0; t < rows; t++) o[r + t] += j->bias ? j->bias[r + t] : 0.0f;
    }
    pdnn_act_row(o + begin, end - begin, j->act);
  }
}

void pdnn_linear(pdnn_ctx *ctx, const float *in, float *out, const float *w, const float *bias, int n,
                 int k, int m, int act) {
  linear_job job = {in, w, bias, out, n, k, m, act};
  pdnn_parallel_for(ctx, m, linear_rows, &job);
}

typedef struct {
  const float *in;
  float *out;
  int m;
} softmax_job;

static void softmax_rows(void *arg, int64_t begin, int64_t end) {
  const softmax_job *j = (const softmax_job *)arg;
  for (int64_t r = begin; r < end; r++) {
    const float *x = j->in + r * j->m;
    float *y = j->out + r * j->m;
    float mx = x[0];
    for (int i = 1; i < j->m; i++) mx = x[i] > mx ? x[i] : mx;
    float sum = 0.0f;
    for (int i = 0; i < j->m; i++) {
      y[i] = expf(x[i] - mx);
      sum += y[i];
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < j->m; i++) y[i] *= inv;
  }
}

void pdnn_softmax(pdnn_ctx *ctx, const float *in, float *out, int n, int m) {
  softmax_job job = {in, out, m};
  pdnn_parallel_for(ctx, n, softmax_rows, &job);
}
