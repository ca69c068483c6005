/* FP32 FMA peak: NCHAINS independent FMA chains per thread, nothing else in the loop.
 * Build with -DVEC=512 (-march=x86-64-v4) or -DVEC=256 (-march=x86-64-v3).
 * Usage: peak_fma THREADS ITERS  ->  prints "seconds flops" for all threads together. */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if VEC == 512
#define NCHAINS 24 /* 32 zmm registers: 24 accumulators + 2 operands */
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define STORE _mm512_storeu_ps
#else
#define NCHAINS 12 /* 16 ymm registers: 12 accumulators + 2 operands */
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define STORE _mm256_storeu_ps
#endif

static long iters;
static pthread_barrier_t barrier;
static float sink[64];

static void *worker(void *arg) {
  float seed = (float)(long)arg;
  vec acc[NCHAINS];
  for (int j = 0; j < NCHAINS; j++) acc[j] = SET1(seed + 0.001f * j);
  /* acc = acc * a + b converges to b / (1 - a): no overflow, no denormals. */
  vec a = SET1(0.999999f), b = SET1(1e-6f);
  pthread_barrier_wait(&barrier);
  /* No fast-math: the compiler may neither fold nor reassociate the chains. */
  for (long i = 0; i < iters; i++) {
#pragma GCC unroll 32
    for (int j = 0; j < NCHAINS; j++) acc[j] = FMA(acc[j], a, b);
  }
  vec total = acc[0];
  for (int j = 1; j < NCHAINS; j++) total = FMA(total, a, acc[j]);
  float out[LANES];
  STORE(out, total);
  sink[(long)arg % 64] = out[0];
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s THREADS ITERS\n", argv[0]);
    return 2;
  }
  int threads = atoi(argv[1]);
  iters = atol(argv[2]);
  pthread_t tid[64];
  if (threads < 1 || threads > 64 || iters < 1) return 2;
  pthread_barrier_init(&barrier, NULL, threads + 1);
  for (long t = 0; t < threads; t++) pthread_create(&tid[t], NULL, worker, (void *)t);
  pthread_barrier_wait(&barrier);
  double start = now();
  for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
  double seconds = now() - start;
  double flops = 2.0 * LANES * NCHAINS * (double)iters * threads;
  printf("%.9f %.6e %g\n", seconds, flops, (double)sink[0]);
  return 0;
}
