/* pdnn_ctx: the thread pool, the last error, and the cache of verified weight blobs. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pdnn_internal.h"

typedef struct blob {
  struct blob *next;
  char *file; /* cache key: the name the model asked for */
  unsigned char *data;
  uint64_t size;
  char sha256[65];
} blob;

struct pdnn_ctx {
  int num_threads;
  char *weights_dir;
  pdnn_pool *pool;
  pthread_mutex_t blobs_mutex; /* init may be called from several threads */
  blob *blobs;
  char error[1024];
};

static char *dup_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

pdnn_ctx *pdnn_ctx_create(int num_threads, const char *weights_dir) {
  pdnn_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return NULL;
  ctx->num_threads = num_threads > 0 ? num_threads : 1;
  ctx->weights_dir = dup_string(weights_dir ? weights_dir : ".");
  ctx->pool = pdnn_pool_create(ctx->num_threads);
  pthread_mutex_init(&ctx->blobs_mutex, NULL);
  if (!ctx->weights_dir || !ctx->pool) {
    pdnn_ctx_destroy(ctx);
    return NULL;
  }
  return ctx;
}

void pdnn_ctx_destroy(pdnn_ctx *ctx) {
  if (!ctx) return;
  pdnn_pool_destroy(ctx->pool);
  for (blob *b = ctx->blobs, *next; b; b = next) {
    next = b->next;
    pdnn_free(b->data);
    free(b->file);
    free(b);
  }
  pthread_mutex_destroy(&ctx->blobs_mutex);
  free(ctx->weights_dir);
  free(ctx);
}

const char *pdnn_ctx_error(const pdnn_ctx *ctx) { return ctx ? ctx->error : "no patdnn context"; }

int pdnn_ctx_fail(pdnn_ctx *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (ctx) {
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
  } else { /* nowhere to record it: do not lose it */
    fputs("patdnn: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
  }
  va_end(ap);
  return -1;
}

int pdnn_ctx_num_threads(const pdnn_ctx *ctx) { return ctx ? ctx->num_threads : 1; }

void pdnn_parallel_for(pdnn_ctx *ctx, int64_t n, pdnn_range_fn fn, void *arg) {
  pdnn_pool_run(ctx ? ctx->pool : NULL, n, fn, arg);
}

/* Compares hex digests ignoring case, so an upper-case expectation is not a false alarm. */
static int same_hex(const char *a, const char *b) {
  for (int i = 0; i < 64; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'F') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'F') y = (char)(y - 'A' + 'a');
    if (x != y || !x) return 0;
  }
  return b[64] == '\0';
}

/* Reads path into a fresh aligned buffer; NULL with ctx error set on failure. */
static unsigned char *read_file(pdnn_ctx *ctx, const char *path, uint64_t *size) {
  FILE *f = fopen(path, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0) {
    pdnn_ctx_fail(ctx, "weights blob '%s': cannot open: %s", path, strerror(errno));
    if (f) fclose(f);
    return NULL;
  }
  if (!S_ISREG(st.st_mode)) {
    fclose(f);
    pdnn_ctx_fail(ctx, "weights blob '%s': cannot open: not a regular file", path);
    return NULL;
  }
  uint64_t n = (uint64_t)st.st_size;
  unsigned char *data = pdnn_alloc((size_t)n);
  size_t got = n ? fread(data, 1, (size_t)n, f) : 0;
  int read_error = ferror(f);
  fclose(f);
  if (got != n || read_error) {
    pdnn_free(data);
    pdnn_ctx_fail(ctx, "weights blob '%s': cannot read: %s", path,
                  read_error ? strerror(errno) : "file changed while reading");
    return NULL;
  }
  *size = n;
  return data;
}

/* Size and hash checks, shared by a fresh load and a cache hit under another expectation. */
static int check_blob(pdnn_ctx *ctx, const char *path, uint64_t size, const char *got_hex,
                      uint64_t required_size, const char *sha256_hex) {
  if (size < required_size)
    return pdnn_ctx_fail(ctx, "weights blob '%s' is truncated: %llu bytes, the model needs at least %llu",
                         path, (unsigned long long)size, (unsigned long long)required_size);
  if (!same_hex(got_hex, sha256_hex))
    return pdnn_ctx_fail(ctx, "weights blob '%s' is corrupted: sha256 %s does not match the expected %s",
                         path, got_hex, sha256_hex);
  return 0;
}

const unsigned char *pdnn_ctx_blob(pdnn_ctx *ctx, const char *file, uint64_t required_size,
                                   const char *sha256_hex) {
  if (!ctx || !file || !sha256_hex) {
    pdnn_ctx_fail(ctx, "pdnn_ctx_blob: NULL argument");
    return NULL;
  }
  /* Absolute names are taken as they are; relative ones live in the weights directory. */
  size_t len = strlen(ctx->weights_dir) + strlen(file) + 2;
  char *path = malloc(len);
  if (!path) {
    pdnn_ctx_fail(ctx, "weights blob '%s': out of memory", file);
    return NULL;
  }
  if (file[0] == '/')
    snprintf(path, len, "%s", file);
  else
    snprintf(path, len, "%s/%s", ctx->weights_dir, file);

  const unsigned char *result = NULL;
  pthread_mutex_lock(&ctx->blobs_mutex);
  blob *b = ctx->blobs;
  while (b && strcmp(b->file, file) != 0) b = b->next;
  if (b) {
    if (check_blob(ctx, path, b->size, b->sha256, required_size, sha256_hex) == 0) result = b->data;
    goto done;
  }

  uint64_t size = 0;
  unsigned char *data = read_file(ctx, path, &size);
  if (!data) goto done;
  char hex[65];
  pdnn_sha256_hex(data, (size_t)size, hex);
  if (check_blob(ctx, path, size, hex, required_size, sha256_hex) != 0) {
    pdnn_free(data); /* not cached: a fixed file can be retried */
    goto done;
  }
  b = calloc(1, sizeof *b);
  char *key = dup_string(file);
  if (!b || !key) {
    free(b);
    free(key);
    pdnn_free(data);
    pdnn_ctx_fail(ctx, "weights blob '%s': out of memory", path);
    goto done;
  }
  b->file = key;
  b->data = data;
  b->size = size;
  memcpy(b->sha256, hex, sizeof hex);
  b->next = ctx->blobs;
  ctx->blobs = b;
  result = data;
done:
  pthread_mutex_unlock(&ctx->blobs_mutex);
  free(path);
  return result;
}
