/* nn.binary: out = act(a kind b) with NumPy broadcasting, read through strides (0 along a
 * broadcast dim: no broadcast copy). The output is d0 x d1 x d2 rows of d3 contiguous floats;
 * each input's innermost stride is 1 or 0 (a scalar along the row). The activation runs on each
 * row right after it is written. */
#include "patdnn_ops.h"
#include "pdnn_internal.h"

typedef struct {
  const float *a, *b;
  float *out;
  int64_t d[4], as[4], bs[4];
  int kind, act;
} binary_job;

#define BIN_ROW(OP)                                                                                                    \
  do {                                                                                                                 \
    if (sa && sb)                                                                                                      \
      for (int64_t i = 0; i < n; i++) o[i] = a[i] OP b[i];                                                             \
    else if (sa) {                                                                                                     \
      const float bv = b[0];                                                                                           \
      for (int64_t i = 0; i < n; i++) o[i] = a[i] OP bv;                                                               \
    } else if (sb) {                                                                                                   \
      const float av = a[0];                                                                                           \
      for (int64_t i = 0; i < n; i++) o[i] = av OP b[i];                                                               \
    } else {                                                                                                           \
      const float v = a[0] OP b[0];                                                                                    \
      for (int64_t i = 0; i < n; i++) o[i] = v;                                                                        \
    }                                                                                                                  \
  } while (0)

static void binary_rows(void *arg, int64_t begin, int64_t end) {
  const binary_job *j = (const binary_job *)arg;
  const int64_t n = j->d[3];
  const int sa = j->as[3] != 0, sb = j->bs[3] != 0;
  for (int64_t row = begin; row < end; row++) {
    const int64_t i2 = row % j->d[2], i1 = row / j->d[2] % j->d[1], i0 = row / j->d[2] / j->d[1];
    const float *a = j->a + i0 * j->as[0] + i1 * j->as[1] + i2 * j->as[2];
    const float *b = j->b + i0 * j->bs[0] + i1 * j->bs[1] + i2 * j->bs[2];
    float *o = j->out + row * n;
    switch (j->kind) {
    case PDNN_BINARY_ADD: BIN_ROW(+); break;
    case PDNN_BINARY_SUB: BIN_ROW(-); break;
    case PDNN_BINARY_MUL: BIN_ROW(*); break;
    default: BIN_ROW(/); break;
    }
    pdnn_act_row(o, n, j->act);
  }
}

void pdnn_binary(pdnn_ctx *ctx, const float *a, const float *b, float *out, int64_t d0, int64_t d1, int64_t d2,
                 int64_t d3, int64_t as0, int64_t as1, int64_t as2, int64_t as3, int64_t bs0, int64_t bs1, int64_t bs2,
                 int64_t bs3, int kind, int act) {
  binary_job job = {a, b, out, {d0, d1, d2, d3}, {as0, as1, as2, as3}, {bs0, bs1, bs2, bs3}, kind, act};
  pdnn_parallel_for(ctx, d0 * d1 * d2, binary_rows, &job);
}
