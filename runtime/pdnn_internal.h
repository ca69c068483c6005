/* Runtime-internal declarations shared by the runtime's .c files (not for generated code). */
#ifndef PDNN_INTERNAL_H
#define PDNN_INTERNAL_H

#include "patdnn_runtime.h"

typedef struct pdnn_pool pdnn_pool;

/* A pool of num_threads-1 workers (the caller is the remaining thread); NULL on OOM. */
pdnn_pool *pdnn_pool_create(int num_threads);
void pdnn_pool_destroy(pdnn_pool *pool);
void pdnn_pool_run(pdnn_pool *pool, int64_t n, pdnn_range_fn fn, void *arg);

/* A fused activation (PDNN_ACT_*) applied in place to n contiguous values (ops_dense.c). */
void pdnn_act_row(float *restrict v, int64_t n, int act);
/* The end of an output row: + residual (unless NULL), then the activation (ops_dense.c). */
void pdnn_finish_row(float *restrict v, const float *restrict residual, int64_t n, int act);

#endif /* PDNN_INTERNAL_H */
