/* patdnn runtime: the only header generated code includes.
 * Generated models are written against exactly these names; keep them stable. */
#ifndef PATDNN_RUNTIME_H
#define PATDNN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PDNN_PRINTF(fmt_idx, first_arg) __attribute__((format(printf, fmt_idx, first_arg)))
#else
#define PDNN_PRINTF(fmt_idx, first_arg)
#endif

/* ---- context: thread pool, weight blobs, last error ---- */
typedef struct pdnn_ctx pdnn_ctx; /* opaque */

/* num_threads <= 0 -> 1; weights_dir NULL -> "."; returns NULL only on OOM. */
pdnn_ctx *pdnn_ctx_create(int num_threads, const char *weights_dir);
void pdnn_ctx_destroy(pdnn_ctx *ctx);
const char *pdnn_ctx_error(const pdnn_ctx *ctx); /* "" when no error */
int pdnn_ctx_fail(pdnn_ctx *ctx, const char *fmt, ...) PDNN_PRINTF(2, 3); /* records, returns -1 */
int pdnn_ctx_num_threads(const pdnn_ctx *ctx);

/* Loads weights_dir/file once (cached by file name), 64-byte aligned. Checks the file has at
 * least required_size bytes and that the sha256 of the WHOLE file equals sha256_hex (64 lowercase
 * hex chars). On failure records an error in ctx and returns NULL. */
const unsigned char *pdnn_ctx_blob(pdnn_ctx *ctx, const char *file, uint64_t required_size,
                                   const char *sha256_hex);

/* ---- parallelism ---- */
/* Static split of [0,n) into num_threads contiguous chunks run on the ctx's persistent pool; the
 * caller runs one chunk and returns when all are done. Serial with 1 thread or small n. */
typedef void (*pdnn_range_fn)(void *arg, int64_t begin, int64_t end);
void pdnn_parallel_for(pdnn_ctx *ctx, int64_t n, pdnn_range_fn fn, void *arg);

/* ---- memory, time, hashing ---- */
void *pdnn_alloc(size_t bytes); /* 64-byte aligned, zero-filled; aborts on OOM */
void pdnn_free(void *p);
/* A generated model's scratch buffer: `shared` floats, or one slot of `per_thread` floats for each
 * thread of ctx, whichever is larger. Returns `scratch` while it holds *slots >= ctx's threads, else
 * frees it and returns a bigger one (*slots updated): call it from a model's init. */
float *pdnn_scratch_for(pdnn_ctx *ctx, float *scratch, int *slots, size_t shared, size_t per_thread);
double pdnn_now(void); /* monotonic seconds */
void pdnn_sha256(const void *data, size_t len, unsigned char digest[32]);
void pdnn_sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- model-level API ---- */
/* A tensor descriptor (NCHW, fp32). */
typedef struct {
  float *data;
  int64_t n, c, h, w;
} pdnn_tensor;

/* Every generated model defines exactly one of these, named patdnn_model. Tensors are dense fp32,
 * outermost dimension first (NCHW); input_dims[i] holds input_ranks[i] dims (likewise outputs), and
 * input_sizes[i] is their product. Mirrored field by field in patdnn/runners/host.py (_ModelDesc). */
typedef struct {
  const char *name;
  int num_inputs, num_outputs;
  const int64_t *input_sizes; /* element counts */
  const int64_t *output_sizes;
  const int *input_ranks; /* shapes: ranks ... */
  const int *output_ranks;
  const int64_t *const *input_dims; /* ... and dims */
  const int64_t *const *output_dims;
  int (*init)(pdnn_ctx *ctx); /* resolves weight blobs; 0 on success, else -1 with ctx error set */
  void (*run)(pdnn_ctx *ctx, const float *const *inputs, float *const *outputs);
} pdnn_model_desc;

#ifdef __cplusplus
}
#endif

#endif /* PATDNN_RUNTIME_H */
