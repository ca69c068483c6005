/* The app-facing C API of a generated model, generic over its patdnn_model descriptor: what the
 * header include/<name>.h of a `patdnnc --emit package` folder declares. The functions are named
 * PDNN_API_PREFIX_create, _run, ...; the package's CMakeLists.txt sets PDNN_API_PREFIX to the
 * model's name (default here: pdnn_model, e.g. in the libmodel.so that Python loads).
 *
 * The generated code keeps its weights pointers, scratch and activation arena in static storage, so
 * one instance is open per process at a time, and runs are serialised. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "patdnn_runtime.h"

#ifndef PDNN_API_PREFIX
#define PDNN_API_PREFIX pdnn_model
#endif
#define PDNN_API_CAT_(prefix, fn) prefix##_##fn
#define PDNN_API_CAT(prefix, fn) PDNN_API_CAT_(prefix, fn)
#define API(fn) PDNN_API_CAT(PDNN_API_PREFIX, fn)

/* Weak: the runtime also links without a model (its own tests). A static library that holds the
 * model links with `-u patdnn_model`, so that the model's object comes along with this one. */
extern const pdnn_model_desc patdnn_model __attribute__((weak));

struct PDNN_API_PREFIX {
  pdnn_ctx *ctx;
};
typedef struct PDNN_API_PREFIX api_model;

static pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER; /* guards api_open and every run */
static int api_open;

static void *set_error(char *error, size_t error_size, const char *message, const char *arg) {
  if (error && error_size) snprintf(error, error_size, "%s%s", message, arg ? arg : "");
  return NULL;
}

/* The weights folder of `path`: the path itself, or the folder of a file; "." for NULL or "". */
static int weights_dir(const char *path, char *dir, size_t size) {
  struct stat st;
  if (!path || !*path) path = ".";
  if (strlen(path) >= size) return -1;
  strcpy(dir, path);
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
    char *slash = strrchr(dir, '/');
    if (!slash)
      strcpy(dir, ".");
    else
      slash[slash == dir] = '\0'; /* "/x.weights" -> "/" */
  }
  return 0;
}

api_model *API(create)(const char *weights_path, int num_threads, char *error, size_t error_size) {
  const pdnn_model_desc *m = &patdnn_model;
  char dir[4096];
  set_error(error, error_size, "", NULL);
  if (!m) return set_error(error, error_size, "no patdnn model is linked into this program", NULL);
  if (weights_dir(weights_path, dir, sizeof dir) != 0)
    return set_error(error, error_size, "weights path too long: ", weights_path);
  pthread_mutex_lock(&api_lock);
  if (api_open) {
    pthread_mutex_unlock(&api_lock);
    return set_error(error, error_size, m->name,
                     " is already open in this process (its generated code keeps static state): destroy it first");
  }
  api_model *model = calloc(1, sizeof *model);
  pdnn_ctx *ctx = model ? pdnn_ctx_create(num_threads, dir) : NULL;
  if (!ctx) {
    free(model);
    pthread_mutex_unlock(&api_lock);
    return set_error(error, error_size, "out of memory creating the patdnn context", NULL);
  }
  if (m->init(ctx) != 0) {
    set_error(error, error_size, pdnn_ctx_error(ctx), NULL);
    pdnn_ctx_destroy(ctx);
    free(model);
    pthread_mutex_unlock(&api_lock);
    return NULL;
  }
  model->ctx = ctx;
  api_open = 1;
  pthread_mutex_unlock(&api_lock);
  return model;
}

int API(run_all)(api_model *model, const float *const *inputs, float *const *outputs) {
  const pdnn_model_desc *m = &patdnn_model;
  if (!model) return -1;
  int ok = inputs && outputs;
  for (int i = 0; ok && i < m->num_inputs; i++) ok = inputs[i] != NULL;
  for (int i = 0; ok && i < m->num_outputs; i++) ok = outputs[i] != NULL;
  pthread_mutex_lock(&api_lock);
  int status;
  if (!ok) {
    status = pdnn_ctx_fail(model->ctx, "run: a NULL input or output pointer");
  } else {
    pdnn_ctx_fail(model->ctx, "%s", ""); /* a run's errors (OpenCL) are its own */
    m->run(model->ctx, inputs, outputs);
    status = pdnn_ctx_error(model->ctx)[0] ? -1 : 0;
  }
  pthread_mutex_unlock(&api_lock);
  return status;
}

int API(run)(api_model *model, const float *input, float *output) {
  const pdnn_model_desc *m = &patdnn_model;
  if (model && (m->num_inputs != 1 || m->num_outputs != 1)) {
    pthread_mutex_lock(&api_lock);
    pdnn_ctx_fail(model->ctx, "run: model '%s' has %d inputs and %d outputs: call run_all", m->name, m->num_inputs,
                  m->num_outputs);
    pthread_mutex_unlock(&api_lock);
    return -1;
  }
  return API(run_all)(model, &input, &output);
}

const char *API(error)(const api_model *model) { return model ? pdnn_ctx_error(model->ctx) : "no model"; }

void API(destroy)(api_model *model) {
  if (!model) return;
  pthread_mutex_lock(&api_lock);
  pdnn_ctx_destroy(model->ctx);
  free(model);
  api_open = 0;
  pthread_mutex_unlock(&api_lock);
}

int API(num_inputs)(void) { return &patdnn_model ? patdnn_model.num_inputs : 0; }
int API(num_outputs)(void) { return &patdnn_model ? patdnn_model.num_outputs : 0; }

int API(input_rank)(int i) {
  return i >= 0 && i < API(num_inputs)() ? patdnn_model.input_ranks[i] : -1;
}
int API(output_rank)(int i) {
  return i >= 0 && i < API(num_outputs)() ? patdnn_model.output_ranks[i] : -1;
}
const int64_t *API(input_dims)(int i) {
  return i >= 0 && i < API(num_inputs)() ? patdnn_model.input_dims[i] : NULL;
}
const int64_t *API(output_dims)(int i) {
  return i >= 0 && i < API(num_outputs)() ? patdnn_model.output_dims[i] : NULL;
}
int64_t API(input_size)(int i) {
  return i >= 0 && i < API(num_inputs)() ? patdnn_model.input_sizes[i] : -1;
}
int64_t API(output_size)(int i) {
  return i >= 0 && i < API(num_outputs)() ? patdnn_model.output_sizes[i] : -1;
}
