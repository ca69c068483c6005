/* Fused activations: pdnn_act_row (every kernel's epilogue) and the codes of parametrised kinds.
 *
 * The transcendental kinds use our own expf / tanh / erf approximations, written as plain f32
 * operations with no FMA and no libm call (the project compiles with -ffp-contract=off), so an
 * x86 build, SIMDe on x86 and aarch64 under qemu give the same bits; each is within a few f32
 * ulps of libm (PyTorch agreement ~1e-6 relative). The row loops have no branches per element,
 * so GCC vectorises them. NaN propagates as in PyTorch: every kind maps NaN to NaN. */
/* Selects like `x == x ? y : x` only if-convert (and so vectorise) when GCC may assume FP
 * exceptions are not observed; values are unchanged (no reassociation, no contraction). */
#pragma GCC optimize("no-trapping-math")
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "patdnn_ops.h"
#include "pdnn_internal.h"

/* ---- e^x: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial (Cephes expf), 2^n by the
 * exponent bits. Inputs are clamped to [-87.3, 88.7] (the f32 range; above it: inf); NaN stays. */
static inline float act_exp(float x) {
  float c = x < -87.33654f ? -87.33654f : (x > 88.72283f ? 88.72283f : x);
  c = c == c ? c : 0.0f; /* NaN: computed as 0, replaced below */
  float n = __builtin_floorf(c * 1.44269504088896341f + 0.5f);
  float r = c - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  /* 2^n in two halves so n = 128 (x near 88.7) does not overflow the exponent field */
  int32_t ni = (int32_t)n;
  int32_t h = ni >> 1;
  uint32_t b1 = (uint32_t)(h + 127) << 23, b2 = (uint32_t)(ni - h + 127) << 23;
  float s1, s2;
  memcpy(&s1, &b1, 4);
  memcpy(&s2, &b2, 4);
  float y = p * s1 * s2;
  y = x > 88.72283f ? __builtin_inff() : y; /* overflow (and +inf) */
  return x == x ? y : x;
}

static inline float act_sigmoid(float x) { return 1.0f / (1.0f + act_exp(-x)); }

/* tanh: odd polynomial (Cephes tanhf) for |x| < 0.625, else 1 - 2 / (e^2|x| + 1), sign restored. */
static inline float act_tanh(float x) {
  float ax = x < 0.0f ? -x : x;
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  float small = p * z * x + x;
  float big = 1.0f - 2.0f / (act_exp(2.0f * ax) + 1.0f);
  big = x < 0.0f ? -big : big;
  return ax < 0.625f ? small : big; /* NaN: ax < 0.625 is false, big is NaN */
}

/* erf: its Taylor series to x^11 for |x| < 0.5 (truncation < 3e-8 relative), else
 * Abramowitz-Stegun 7.1.26, 1 - poly(t) e^-x^2 with t = 1 / (1 + p|x|) (|error| < 1.5e-7). */
static inline float act_erf(float x) {
  float ax = x < 0.0f ? -x : x;
  float z = x * x;
  float q = -1.0f / 1320.0f;
  q = q * z + 1.0f / 216.0f;
  q = q * z - 1.0f / 42.0f;
  q = q * z + 1.0f / 10.0f;
  q = q * z - 1.0f / 3.0f;
  q = q * z + 1.0f;
  float small = q * x * 1.12837916709551257f;
  float t = 1.0f / (1.0f + 0.3275911f * ax);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  float big = 1.0f - p * t * act_exp(-z);
  big = x < 0.0f ? -big : big;
  return ax < 0.5f ? small : big;
}

/* ---- parametrised kinds: a small table of (kind, a, b), interned once per distinct value ---- */
#define ACT_TABLE_SIZE 256
typedef struct {
  int kind;
  float a, b;
} act_desc;
static act_desc act_table[ACT_TABLE_SIZE];
static int act_count;
static pthread_mutex_t act_lock = PTHREAD_MUTEX_INITIALIZER;

int pdnn_act_code(int kind, float a, float b) {
  pthread_mutex_lock(&act_lock);
  int i = 0;
  while (i < act_count &&
         !(act_table[i].kind == kind && memcmp(&act_table[i].a, &a, 4) == 0 && memcmp(&act_table[i].b, &b, 4) == 0))
    i++;
  if (i == act_count && act_count < ACT_TABLE_SIZE) act_table[act_count++] = (act_desc){kind, a, b};
  pthread_mutex_unlock(&act_lock);
  return i < ACT_TABLE_SIZE ? PDNN_ACT_PARAM_BASE + i : PDNN_ACT_NONE; /* full: cannot happen in a model */
}

/* ---- the row ---- */
void pdnn_act_row(float *restrict v, int64_t n, int act) {
  float a = 0.0f, b = 0.0f;
  int kind = act;
  if (act >= PDNN_ACT_PARAM_BASE) {
    act_desc d = act_table[act - PDNN_ACT_PARAM_BASE];
    kind = d.kind, a = d.a, b = d.b;
  }
  switch (kind) {
  case PDNN_ACT_RELU:
    for (int64_t i = 0; i < n; i++) v[i] = v[i] < 0.0f ? 0.0f : v[i];
    break;
  case PDNN_ACT_RELU6:
    for (int64_t i = 0; i < n; i++) v[i] = v[i] < 0.0f ? 0.0f : (v[i] > 6.0f ? 6.0f : v[i]);
    break;
  case PDNN_ACT_SIGMOID:
    for (int64_t i = 0; i < n; i++) v[i] = act_sigmoid(v[i]);
    break;
  case PDNN_ACT_TANH:
    for (int64_t i = 0; i < n; i++) v[i] = act_tanh(v[i]);
    break;
  case PDNN_ACT_SILU: /* PyTorch: x / (1 + e^-x) */
    for (int64_t i = 0; i < n; i++) v[i] = v[i] / (1.0f + act_exp(-v[i]));
    break;
  case PDNN_ACT_HARDSWISH: /* x * min(max(x + 3, 0), 6) / 6 */
    for (int64_t i = 0; i < n; i++) {
      float t = v[i] + 3.0f;
      t = t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t);
      v[i] = v[i] * t / 6.0f;
    }
    break;
  case PDNN_ACT_HARDSIGMOID:
    for (int64_t i = 0; i < n; i++) {
      float t = v[i] + 3.0f;
      t = t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t);
      v[i] = t / 6.0f;
    }
    break;
  case PDNN_ACT_GELU: /* x/2 (1 + erf(x / sqrt 2)) */
    for (int64_t i = 0; i < n; i++) v[i] = v[i] * 0.5f * (1.0f + act_erf(v[i] * 0.707106781186547524f));
    break;
  case PDNN_ACT_GELU_TANH: /* x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    for (int64_t i = 0; i < n; i++) {
      float x = v[i];
      float inner = 0.797884560802865356f * (x + 0.044715f * x * x * x);
      v[i] = 0.5f * x * (1.0f + act_tanh(inner));
    }
    break;
  case PDNN_ACT_LEAKY_RELU:
    for (int64_t i = 0; i < n; i++) v[i] = v[i] > 0.0f ? v[i] : v[i] * a;
    break;
  case PDNN_ACT_HARDTANH: /* a, b: the bounds (+-inf for a clamp with one) */
    for (int64_t i = 0; i < n; i++) v[i] = v[i] < a ? a : (v[i] > b ? b : v[i]);
    break;
  default:
    break;
  }
}
