/* Aligned allocation and the monotonic timer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patdnn_runtime.h"

/* 64 bytes: one cache line, and enough for any SIMD load the backends emit. */
#define PDNN_ALIGN 64

void *pdnn_alloc(size_t bytes) {
  void *p = NULL;
  /* posix_memalign may return NULL for size 0; callers expect a valid pointer. */
  size_t n = bytes ? bytes : 1;
  if (posix_memalign(&p, PDNN_ALIGN, n) != 0 || p == NULL) {
    fprintf(stderr, "patdnn: out of memory (%zu bytes)\n", bytes);
    abort();
  }
  memset(p, 0, n);
  return p;
}

void pdnn_free(void *p) { free(p); }

float *pdnn_scratch_for(pdnn_ctx *ctx, float *scratch, int *slots, size_t shared, size_t per_thread) {
  const int threads = pdnn_ctx_num_threads(ctx);
  if (scratch && *slots >= threads) return scratch;
  const size_t floats = per_thread * (size_t)threads;
  pdnn_free(scratch);
  *slots = threads;
  return (float *)pdnn_alloc((floats > shared ? floats : shared) * sizeof(float));
}

double pdnn_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
