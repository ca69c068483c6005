/* Generic command-line runner, linked with one generated model (patdnn_model).
 *   prog [--weights-dir DIR] [--threads N] [--bench N] IN_1.bin .. IN_k.bin OUT_1.bin .. OUT_m.bin
 * Tensors are raw little-endian float32 files. Exit codes: 0 ok, 1 runtime error, 2 usage error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patdnn_runtime.h"

extern const pdnn_model_desc patdnn_model;

#define WARMUP_ITERS 3

/* "1x3x32x32" (a rank-0 tensor: "scalar") into buf. */
static const char *shape_str(char *buf, size_t size, int rank, const int64_t *dims) {
  size_t used = 0;
  buf[0] = '\0';
  if (rank == 0) snprintf(buf, size, "scalar");
  for (int d = 0; d < rank && used < size; d++)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? "x" : "", (long long)dims[d]);
  return buf;
}

static void print_tensors(FILE *out, const char *kind, int n, const int *ranks, const int64_t *const *dims,
                          const int64_t *sizes) {
  char shape[256];
  for (int i = 0; i < n; i++)
    fprintf(out, "  %s %d: %s f32 (%lld values)\n", kind, i, shape_str(shape, sizeof shape, ranks[i], dims[i]),
            (long long)sizes[i]);
}

static void usage(FILE *out, const char *prog) {
  const pdnn_model_desc *m = &patdnn_model;
  fprintf(out,
          "usage: %s [--weights-dir DIR] [--threads N] [--bench N] IN_1.bin .. IN_%d.bin OUT_1.bin .. OUT_%d.bin\n"
          "Runs model '%s' once on raw little-endian float32 inputs and writes its outputs.\n"
          "  --weights-dir DIR  folder holding the weight blobs (default: .)\n"
          "  --threads N        worker threads (default: 1)\n"
          "  --bench N          also run %d warm-up and N timed iterations; prints median_ms and min_ms\n"
          "  --help             show this message\n"
          "tensors (dense float32, outermost dimension first):\n",
          prog, m->num_inputs, m->num_outputs, m->name, WARMUP_ITERS);
  print_tensors(out, "input", m->num_inputs, m->input_ranks, m->input_dims, m->input_sizes);
  print_tensors(out, "output", m->num_outputs, m->output_ranks, m->output_dims, m->output_sizes);
}

static int usage_error(const char *prog, const char *msg, const char *arg) {
  fprintf(stderr, "%s: %s%s%s\n", prog, msg, arg ? ": " : "", arg ? arg : "");
  fprintf(stderr, "try '%s --help'\n", prog);
  return 2;
}

/* Parses a non-negative int option value; -1 when malformed. */
static int parse_count(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > 1000000000L) return -1;
  return (int)v;
}

static float *read_tensor(const char *path, int index) {
  const pdnn_model_desc *m = &patdnn_model;
  int64_t elems = m->input_sizes[index];
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "error: cannot open input '%s': %s\n", path, strerror(errno));
    return NULL;
  }
  long long expected = (long long)elems * (long long)sizeof(float);
  long long actual = -1;
  if (fseek(f, 0, SEEK_END) == 0) actual = ftell(f);
  if (actual != expected) {
    char shape[256];
    fprintf(stderr, "error: input '%s' has %lld bytes, the model expects %lld (input %d: %s float32, %lld values)\n",
            path, actual, expected, index,
            shape_str(shape, sizeof shape, m->input_ranks[index], m->input_dims[index]), (long long)elems);
    fclose(f);
    return NULL;
  }
  rewind(f);
  float *data = pdnn_alloc((size_t)expected);
  if (fread(data, 1, (size_t)expected, f) != (size_t)expected) {
    fprintf(stderr, "error: cannot read input '%s'\n", path);
    pdnn_free(data);
    data = NULL;
  }
  fclose(f);
  return data;
}

static int write_tensor(const char *path, const float *data, int64_t elems) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "error: cannot create output '%s': %s\n", path, strerror(errno));
    return -1;
  }
  size_t n = (size_t)elems;
  int ok = fwrite(data, sizeof(float), n, f) == n;
  ok = (fclose(f) == 0) && ok;
  if (!ok) fprintf(stderr, "error: cannot write output '%s'\n", path);
  return ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void bench(pdnn_ctx *ctx, const float *const *in, float *const *out, int iters) {
  for (int i = 0; i < WARMUP_ITERS; i++) patdnn_model.run(ctx, in, out);
  double *ms = pdnn_alloc(sizeof(double) * (size_t)iters);
  for (int i = 0; i < iters; i++) {
    double t0 = pdnn_now();
    patdnn_model.run(ctx, in, out);
    ms[i] = (pdnn_now() - t0) * 1e3;
  }
  qsort(ms, (size_t)iters, sizeof(double), cmp_double);
  double median = iters % 2 ? ms[iters / 2] : 0.5 * (ms[iters / 2 - 1] + ms[iters / 2]);
  printf("median_ms: %.6f\nmin_ms: %.6f\n", median, ms[0]);
  pdnn_free(ms);
}

int main(int argc, char **argv) {
  const pdnn_model_desc *m = &patdnn_model;
  const char *prog = argv[0];
  const char *weights_dir = ".";
  int threads = 1, bench_iters = 0;
  int first_file = argc;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout, prog);
      return 0;
    } else if (strcmp(a, "--") == 0) {
      first_file = i + 1;
      break;
    } else if (strcmp(a, "--weights-dir") == 0 || strcmp(a, "--threads") == 0 ||
               strcmp(a, "--bench") == 0) {
      if (i + 1 >= argc) return usage_error(prog, "missing value for option", a);
      const char *v = argv[++i];
      if (strcmp(a, "--weights-dir") == 0) {
        weights_dir = v;
      } else {
        int n = parse_count(v);
        if (n < 0) return usage_error(prog, "expected a non-negative integer for option", a);
        if (strcmp(a, "--threads") == 0)
          threads = n;
        else
          bench_iters = n;
      }
    } else if (a[0] == '-' && a[1] == '-') {
      return usage_error(prog, "unknown option", a);
    } else {
      first_file = i;
      break;
    }
  }
  int nfiles = argc - first_file;
  if (nfiles != m->num_inputs + m->num_outputs) {
    fprintf(stderr, "%s: model '%s' takes %d input file(s) and %d output file(s), got %d file(s)\n",
            prog, m->name, m->num_inputs, m->num_outputs, nfiles);
    fprintf(stderr, "try '%s --help'\n", prog);
    return 2;
  }
  char **in_paths = argv + first_file, **out_paths = in_paths + m->num_inputs;

  pdnn_ctx *ctx = pdnn_ctx_create(threads, weights_dir);
  if (!ctx) {
    fprintf(stderr, "error: out of memory creating the patdnn context\n");
    return 1;
  }
  int status = 1;
  float **in = calloc((size_t)m->num_inputs + 1, sizeof *in);
  float **out = calloc((size_t)m->num_outputs + 1, sizeof *out);
  if (!in || !out) goto cleanup;
  for (int i = 0; i < m->num_inputs; i++)
    if (!(in[i] = read_tensor(in_paths[i], i))) goto cleanup;
  for (int i = 0; i < m->num_outputs; i++)
    out[i] = pdnn_alloc((size_t)m->output_sizes[i] * sizeof(float));

  if (m->init(ctx) != 0) {
    fprintf(stderr, "error: %s\n", pdnn_ctx_error(ctx));
    goto cleanup;
  }
  m->run(ctx, (const float *const *)in, out);
  for (int i = 0; i < m->num_outputs; i++)
    if (write_tensor(out_paths[i], out[i], m->output_sizes[i]) != 0) goto cleanup;
  if (bench_iters > 0) bench(ctx, (const float *const *)in, out, bench_iters);
  status = 0;

cleanup:
  for (int i = 0; in && i < m->num_inputs; i++) pdnn_free(in[i]);
  for (int i = 0; out && i < m->num_outputs; i++) pdnn_free(out[i]);
  free(in);
  free(out);
  pdnn_ctx_destroy(ctx);
  return status;
}
