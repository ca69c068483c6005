/* One float vector type for the runtime's channel-vectorised kernels (ops_chain.c): AVX-512,
 * AVX2+FMA, NEON (aarch64) or one scalar lane, chosen by the compiler's target macros like the GEMM
 * of ops_dense.c. pv_fma(a, b, c) is a * b + c rounded once wherever the target has FMA, so every
 * build sums in the same order with the same rounding as the NCHW kernels. */
#ifndef PDNN_VEC_H
#define PDNN_VEC_H

#if defined(__AVX512F__)
#include <immintrin.h>
#define PDNN_VL 16
typedef __m512 pdnn_v;
#define pv_load(p) _mm512_loadu_ps(p)
#define pv_store(p, v) _mm512_storeu_ps((p), (v))
#define pv_set1(x) _mm512_set1_ps(x)
#define pv_fma(a, b, c) _mm512_fmadd_ps((a), (b), (c))
/* max/min with the value second: x86 returns the second operand for NaN and for +-0, exactly
 * what pdnn_act_row's `x < 0 ? 0 : x` gives (PDNN_VEC_CLAMP: the activation may run in registers) */
#define PDNN_VEC_CLAMP 1
#define pv_max(bound, x) _mm512_max_ps((bound), (x))
#define pv_min(bound, x) _mm512_min_ps((bound), (x))
#define pv_add(a, b) _mm512_add_ps((a), (b))
#define pv_mul(a, b) _mm512_mul_ps((a), (b))
#define pv_div(a, b) _mm512_div_ps((a), (b))
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define PDNN_VL 8
typedef __m256 pdnn_v;
#define pv_load(p) _mm256_loadu_ps(p)
#define pv_store(p, v) _mm256_storeu_ps((p), (v))
#define pv_set1(x) _mm256_set1_ps(x)
#define pv_fma(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define PDNN_VEC_CLAMP 1
#define pv_max(bound, x) _mm256_max_ps((bound), (x))
#define pv_min(bound, x) _mm256_min_ps((bound), (x))
#define pv_add(a, b) _mm256_add_ps((a), (b))
#define pv_mul(a, b) _mm256_mul_ps((a), (b))
#define pv_div(a, b) _mm256_div_ps((a), (b))
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define PDNN_VL 4
typedef float32x4_t pdnn_v;
#define pv_load(p) vld1q_f32(p)
#define pv_store(p, v) vst1q_f32((p), (v))
#define pv_set1(x) vdupq_n_f32(x)
#define pv_fma(a, b, c) vfmaq_f32((c), (a), (b))
#else
#define PDNN_VL 1
typedef float pdnn_v;
#define pv_load(p) (*(p))
#define pv_store(p, v) (*(p) = (v))
#define pv_set1(x) (x)
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define pv_fma(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define pv_fma(a, b, c) ((a) * (b) + (c))
#endif
#endif

/* NEON's FMAX turns -0.0 into +0.0 where pdnn_act_row keeps it, so elsewhere activations run as
 * their own pass (pdnn_act_row) and every build keeps the NCHW kernels' bits. */
#ifndef PDNN_VEC_CLAMP
#define PDNN_VEC_CLAMP 0
#endif

#endif /* PDNN_VEC_H */
