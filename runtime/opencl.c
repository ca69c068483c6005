/* The OpenCL host runtime behind `-t opencl` (API and behaviour: pdnn_opencl.h).
 * Compiled only with -DPDNN_OPENCL, so CPU-only builds (which compile every .c file of runtime/)
 * need neither OpenCL headers nor libOpenCL. */
#ifndef PDNN_OPENCL
typedef int pdnn_opencl_disabled; /* ISO C wants a non-empty translation unit */
#else

#define _POSIX_C_SOURCE 200809L /* fileno, getpid under -std=c11 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pdnn_opencl.h"

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

typedef struct {
  cl_kernel kernel;
  char *name, *label;
  cl_event event; /* of the last launch, for the profile */
  double ms;      /* of the last completed run */
} site;

struct pdnn_cl {
  pdnn_ctx *ctx;
  int failed;
  cl_platform_id platform;
  cl_device_id device;
  cl_context context;
  cl_command_queue queue;
  cl_program program;
  int fp16;
  size_t real_size; /* bytes per element of `real` buffers */
  char device_name[256];
  cl_mem *buffers;
  int num_buffers, cap_buffers;
  site *sites;
  int num_sites, cap_sites;
  cl_mem staging; /* f32 host values in fp16 mode */
  size_t staging_bytes;
  cl_kernel to_real, to_f32;
};

/* ---- error codes as names ---------------------------------------------------------------- */

static const char *cl_error_name(cl_int code) {
  switch (code) {
#define NAME(c) \
  case c:       \
    return #c;
    NAME(CL_SUCCESS) NAME(CL_DEVICE_NOT_FOUND) NAME(CL_DEVICE_NOT_AVAILABLE) NAME(CL_COMPILER_NOT_AVAILABLE)
    NAME(CL_MEM_OBJECT_ALLOCATION_FAILURE) NAME(CL_OUT_OF_RESOURCES) NAME(CL_OUT_OF_HOST_MEMORY)
    NAME(CL_PROFILING_INFO_NOT_AVAILABLE) NAME(CL_BUILD_PROGRAM_FAILURE) NAME(CL_MAP_FAILURE)
    NAME(CL_MISALIGNED_SUB_BUFFER_OFFSET) NAME(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    NAME(CL_COMPILE_PROGRAM_FAILURE) NAME(CL_LINKER_NOT_AVAILABLE) NAME(CL_LINK_PROGRAM_FAILURE)
    NAME(CL_INVALID_VALUE) NAME(CL_INVALID_DEVICE_TYPE) NAME(CL_INVALID_PLATFORM) NAME(CL_INVALID_DEVICE)
    NAME(CL_INVALID_CONTEXT) NAME(CL_INVALID_QUEUE_PROPERTIES) NAME(CL_INVALID_COMMAND_QUEUE)
    NAME(CL_INVALID_HOST_PTR) NAME(CL_INVALID_MEM_OBJECT) NAME(CL_INVALID_BINARY) NAME(CL_INVALID_BUILD_OPTIONS)
    NAME(CL_INVALID_PROGRAM) NAME(CL_INVALID_PROGRAM_EXECUTABLE) NAME(CL_INVALID_KERNEL_NAME)
    NAME(CL_INVALID_KERNEL_DEFINITION) NAME(CL_INVALID_KERNEL) NAME(CL_INVALID_ARG_INDEX)
    NAME(CL_INVALID_ARG_VALUE) NAME(CL_INVALID_ARG_SIZE) NAME(CL_INVALID_KERNEL_ARGS)
    NAME(CL_INVALID_WORK_DIMENSION) NAME(CL_INVALID_WORK_GROUP_SIZE) NAME(CL_INVALID_WORK_ITEM_SIZE)
    NAME(CL_INVALID_GLOBAL_OFFSET) NAME(CL_INVALID_EVENT_WAIT_LIST) NAME(CL_INVALID_EVENT)
    NAME(CL_INVALID_OPERATION) NAME(CL_INVALID_BUFFER_SIZE) NAME(CL_INVALID_GLOBAL_WORK_SIZE)
    NAME(CL_PLATFORM_NOT_FOUND_KHR)
#undef NAME
    default:
      return "unknown OpenCL error";
  }
}

/* Records the first failure in the ctx; later calls are no-ops (see pdnn_cl_ok). */
static void fail_code(pdnn_cl *cl, cl_int code, const char *what) {
  if (cl->failed) return;
  cl->failed = 1;
  pdnn_ctx_fail(cl->ctx, "OpenCL: %s failed: %s (%d)", what, cl_error_name(code), (int)code);
}

#define CHECK(cl, call, what)                 \
  do {                                        \
    cl_int err_ = (call);                     \
    if (err_ != CL_SUCCESS) {                 \
      fail_code((cl), err_, (what));          \
    }                                         \
  } while (0)

/* ---- devices ------------------------------------------------------------------------------ */

typedef struct {
  cl_platform_id platform;
  cl_device_id device;
  int platform_index, device_index;
  cl_device_type type;
  char text[512];  /* "platform name: device name", for messages */
  char match[1024]; /* what name selectors search: names, vendors, platform version */
} device_entry;

static const char *type_name(cl_device_type type) {
  if (type & CL_DEVICE_TYPE_GPU) return "GPU";
  if (type & CL_DEVICE_TYPE_CPU) return "CPU";
  if (type & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
  return "other";
}

/* All devices of all platforms; returns the count (0 with *status set when there are none). */
static int list_devices(device_entry *out, int max, cl_int *status) {
  cl_platform_id platforms[16];
  cl_uint num_platforms = 0;
  *status = clGetPlatformIDs(16, platforms, &num_platforms);
  if (*status != CL_SUCCESS) return 0;
  int count = 0;
  for (cl_uint p = 0; p < num_platforms && count < max; p++) {
    char pname[200] = "", pvendor[200] = "", pversion[200] = "";
    clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
    clGetPlatformInfo(platforms[p], CL_PLATFORM_VENDOR, sizeof pvendor, pvendor, NULL);
    clGetPlatformInfo(platforms[p], CL_PLATFORM_VERSION, sizeof pversion, pversion, NULL);
    cl_device_id devices[16];
    cl_uint num_devices = 0;
    if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 16, devices, &num_devices) != CL_SUCCESS) continue;
    for (cl_uint d = 0; d < num_devices && count < max; d++) {
      device_entry *e = &out[count++];
      char dname[256] = "", dvendor[200] = "";
      clGetDeviceInfo(devices[d], CL_DEVICE_NAME, sizeof dname, dname, NULL);
      clGetDeviceInfo(devices[d], CL_DEVICE_VENDOR, sizeof dvendor, dvendor, NULL);
      clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof e->type, &e->type, NULL);
      e->platform = platforms[p];
      e->device = devices[d];
      e->platform_index = (int)p;
      e->device_index = (int)d;
      snprintf(e->text, sizeof e->text, "%s: %s", pname, dname);
      snprintf(e->match, sizeof e->match, "%s|%s|%s|%s|%s", pname, pvendor, pversion, dname, dvendor);
    }
  }
  return count;
}

const char *pdnn_cl_list_devices(void) {
  static char text[2048];
  device_entry devices[32];
  cl_int status;
  int n = list_devices(devices, 32, &status);
  text[0] = '\0';
  if (n == 0) {
    snprintf(text, sizeof text, "no OpenCL device (clGetPlatformIDs: %s)",
             status == CL_SUCCESS ? "no devices" : cl_error_name(status));
    return text;
  }
  for (int i = 0; i < n; i++) {
    size_t used = strlen(text);
    snprintf(text + used, sizeof text - used, "%s%d:%d %s (%s)", i ? "; " : "", devices[i].platform_index,
             devices[i].device_index, devices[i].text, type_name(devices[i].type));
  }
  return text;
}

static int contains_ignoring_case(const char *text, const char *part) {
  size_t n = strlen(part);
  for (const char *t = text; *t; t++) {
    size_t i = 0;
    while (i < n && t[i] && tolower((unsigned char)t[i]) == tolower((unsigned char)part[i])) i++;
    if (i == n) return 1;
  }
  return n == 0;
}

/* Index of the device a selector names, or -1. */
static int match_selector(const device_entry *devices, int n, const char *selector) {
  if (!selector[0] || strcmp(selector, "auto") == 0) {
    for (int i = 0; i < n; i++)
      if (devices[i].type & CL_DEVICE_TYPE_GPU) return i;
    return n > 0 ? 0 : -1;
  }
  static const struct {
    const char *name;
    cl_device_type type;
  } types[] = {{"gpu", CL_DEVICE_TYPE_GPU}, {"cpu", CL_DEVICE_TYPE_CPU}, {"accelerator", CL_DEVICE_TYPE_ACCELERATOR}};
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    if (strcmp(selector, types[t].name) != 0) continue;
    for (int i = 0; i < n; i++)
      if (devices[i].type & types[t].type) return i;
    return -1;
  }
  int p = -1, d = 0, used = 0;
  if ((sscanf(selector, "%d:%d%n", &p, &d, &used) == 2 || sscanf(selector, "%d%n", &p, &used) == 1) &&
      selector[used] == '\0') {
    for (int i = 0; i < n; i++)
      if (devices[i].platform_index == p && devices[i].device_index == d) return i;
    return -1;
  }
  for (int i = 0; i < n; i++)
    if (contains_ignoring_case(devices[i].match, selector)) return i;
  return -1;
}

static int select_device(pdnn_cl *cl, const char *selector) {
  device_entry devices[32];
  cl_int status;
  int n = list_devices(devices, 32, &status);
  if (n == 0) {
    cl->failed = 1;
    return pdnn_ctx_fail(cl->ctx,
                         "no OpenCL device found (clGetPlatformIDs: %s); install an OpenCL driver (ICD), e.g. "
                         "pocl-opencl-icd, or point OCL_ICD_VENDORS at a folder of .icd files",
                         status == CL_SUCCESS ? "no devices" : cl_error_name(status));
  }
  int i = match_selector(devices, n, selector);
  if (i < 0) {
    cl->failed = 1;
    return pdnn_ctx_fail(cl->ctx, "OpenCL device selector '%s' matches no device; available: %s", selector,
                         pdnn_cl_list_devices());
  }
  cl->platform = devices[i].platform;
  cl->device = devices[i].device;
  snprintf(cl->device_name, sizeof cl->device_name, "%s", devices[i].text);
  return 0;
}

/* ---- program build with an on-disk binary cache ------------------------------------------ */

static void cache_path(pdnn_cl *cl, const char *source, const char *options, char *path, size_t size) {
  path[0] = '\0';
  const char *dir = getenv("PATDNN_OPENCL_CACHE");
  char base[1024];
  if (dir && strcmp(dir, "off") == 0) return;
  if (dir && dir[0]) {
    snprintf(base, sizeof base, "%s", dir);
  } else if (getenv("XDG_CACHE_HOME") && getenv("XDG_CACHE_HOME")[0]) {
    snprintf(base, sizeof base, "%s/patdnn/opencl", getenv("XDG_CACHE_HOME"));
  } else if (getenv("HOME") && getenv("HOME")[0]) {
    snprintf(base, sizeof base, "%s/.cache/patdnn/opencl", getenv("HOME"));
  } else {
    return;
  }
  /* mkdir -p: failures show up when the file is written (the cache is best effort). */
  for (char *s = base + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    mkdir(base, 0755);
    *s = '/';
  }
  mkdir(base, 0755);
  /* The key: everything the binary depends on. */
  char driver[128] = "", version[128] = "";
  clGetDeviceInfo(cl->device, CL_DRIVER_VERSION, sizeof driver, driver, NULL);
  clGetDeviceInfo(cl->device, CL_DEVICE_VERSION, sizeof version, version, NULL);
  size_t len = strlen(cl->device_name) + strlen(driver) + strlen(version) + strlen(options) + strlen(source) + 8;
  char *key = malloc(len);
  if (!key) return;
  snprintf(key, len, "%s\n%s\n%s\n%s\n%s", cl->device_name, driver, version, options, source);
  char hex[65];
  pdnn_sha256_hex(key, strlen(key), hex);
  free(key);
  snprintf(path, size, "%s/%s.bin", base, hex);
}

static cl_program program_from_cache(pdnn_cl *cl, const char *path, const char *options) {
  FILE *f = path[0] ? fopen(path, "rb") : NULL;
  if (!f) return NULL;
  cl_program program = NULL;
  struct stat st;
  unsigned char *bytes = NULL;
  if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && (bytes = malloc((size_t)st.st_size)) &&
      fread(bytes, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
    size_t size = (size_t)st.st_size;
    const unsigned char *binaries[1] = {bytes};
    cl_int status, err;
    program = clCreateProgramWithBinary(cl->context, 1, &cl->device, &size, binaries, &status, &err);
    if (program && (err != CL_SUCCESS || status != CL_SUCCESS ||
                    clBuildProgram(program, 1, &cl->device, options, NULL, NULL) != CL_SUCCESS)) {
      clReleaseProgram(program); /* a stale or foreign binary: rebuild from source */
      program = NULL;
    }
  }
  free(bytes);
  fclose(f);
  return program;
}

static void program_to_cache(pdnn_cl *cl, const char *path) {
  size_t size = 0;
  if (!path[0] || clGetProgramInfo(cl->program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS ||
      size == 0)
    return;
  unsigned char *bytes = malloc(size);
  if (!bytes) return;
  unsigned char *binaries[1] = {bytes};
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
  FILE *f = NULL;
  if (clGetProgramInfo(cl->program, CL_PROGRAM_BINARIES, sizeof binaries, binaries, NULL) == CL_SUCCESS &&
      (f = fopen(tmp, "wb"))) {
    int ok = fwrite(bytes, 1, size, f) == size;
    ok = fclose(f) == 0 && ok;
    if (ok) rename(tmp, path); /* atomic: concurrent builders never see half a file */
    else remove(tmp);
  }
  free(bytes);
}

/* The build failure with the build log: whole when it fits the ctx message, else its start and
 * the path of a file holding all of it. */
static void report_build_log(pdnn_cl *cl, cl_int err) {
  size_t size = 0;
  clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size);
  char *log = calloc(size + 1, 1);
  if (log && size) clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, size, log, NULL);
  char saved[600] = "";
  if (log && strlen(log) > 600) {
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/patdnn-opencl-build-%ld.log", tmp && tmp[0] ? tmp : "/tmp", (long)getpid());
    FILE *f = fopen(path, "w");
    if (f && fputs(log, f) >= 0 && fclose(f) == 0) snprintf(saved, sizeof saved, " (whole log: %s)", path);
    else if (f) fclose(f);
    log[600] = '\0';
  }
  cl->failed = 1;
  pdnn_ctx_fail(cl->ctx, "OpenCL program build failed on '%s': %s (%d); build log%s:\n%s", cl->device_name,
                cl_error_name(err), (int)err, saved, log ? log : "(out of memory)");
  free(log);
}

static int build_program(pdnn_cl *cl, const char *source) {
  char options[512];
  const char *extra = getenv("PATDNN_OPENCL_OPTIONS"); /* e.g. -cl-opt-disable: faster PoCL builds */
  snprintf(options, sizeof options, "-cl-std=CL1.2%s %s", cl->fp16 ? " -DPDNN_FP16" : "", extra ? extra : "");
  char path[1200];
  cache_path(cl, source, options, path, sizeof path);
  cl->program = program_from_cache(cl, path, options);
  if (cl->program) return 0;
  cl_int err;
  cl->program = clCreateProgramWithSource(cl->context, 1, &source, NULL, &err);
  if (err != CL_SUCCESS) {
    fail_code(cl, err, "clCreateProgramWithSource");
    return -1;
  }
  err = clBuildProgram(cl->program, 1, &cl->device, options, NULL, NULL);
  if (err != CL_SUCCESS) {
    report_build_log(cl, err);
    return -1;
  }
  program_to_cache(cl, path);
  return 0;
}

/* ---- state -------------------------------------------------------------------------------- */

static char *configured_selector, *configured_precision;

static char *dup_or_null(const char *s) {
  if (!s) return NULL;
  char *d = malloc(strlen(s) + 1);
  if (d) strcpy(d, s);
  return d;
}

void pdnn_cl_configure(const char *selector, const char *precision) {
  free(configured_selector);
  free(configured_precision);
  configured_selector = dup_or_null(selector);
  configured_precision = dup_or_null(precision);
}

static const char *first_set(const char *a, const char *b, const char *c) {
  return a ? a : b ? b : c ? c : "";
}

static int device_has_fp16(cl_device_id device) {
  char extensions[8192] = "";
  clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, sizeof extensions - 1, extensions, NULL);
  return strstr(extensions, "cl_khr_fp16") != NULL;
}

pdnn_cl *pdnn_cl_create(pdnn_ctx *ctx, const char *source, const char *default_selector,
                        const char *default_precision) {
  pdnn_cl *cl = calloc(1, sizeof *cl);
  if (!cl) {
    pdnn_ctx_fail(ctx, "OpenCL: out of host memory");
    return NULL;
  }
  cl->ctx = ctx;
  const char *selector = first_set(configured_selector, getenv("PATDNN_OPENCL_DEVICE"), default_selector);
  const char *precision = first_set(configured_precision, getenv("PATDNN_OPENCL_PRECISION"), default_precision);
  if (precision[0] && strcmp(precision, "fp32") != 0 && strcmp(precision, "fp16") != 0) {
    pdnn_ctx_fail(ctx, "OpenCL precision '%s' is not supported; use fp32 or fp16", precision);
    free(cl);
    return NULL;
  }
  if (select_device(cl, selector) != 0) {
    free(cl);
    return NULL;
  }
  cl->fp16 = strcmp(precision, "fp16") == 0 && device_has_fp16(cl->device); /* else fp32 */
  cl->real_size = cl->fp16 ? 2 : 4;
  cl_int err;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)cl->platform, 0};
  cl->context = clCreateContext(props, 1, &cl->device, NULL, NULL, &err);
  if (err != CL_SUCCESS) fail_code(cl, err, "clCreateContext");
  if (!cl->failed) {
    cl->queue = clCreateCommandQueue(cl->context, cl->device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) fail_code(cl, err, "clCreateCommandQueue");
  }
  if (!cl->failed && build_program(cl, source) == 0 && cl->fp16) {
    cl->to_real = clCreateKernel(cl->program, "pdnn_f32_to_real", &err);
    CHECK(cl, err, "clCreateKernel(pdnn_f32_to_real)");
    cl->to_f32 = clCreateKernel(cl->program, "pdnn_real_to_f32", &err);
    CHECK(cl, err, "clCreateKernel(pdnn_real_to_f32)");
  }
  if (cl->failed) return NULL; /* the state leaks a little: init failures are final */
  return cl;
}

int pdnn_cl_ok(const pdnn_cl *cl) { return cl && !cl->failed; }

int pdnn_cl_attach(pdnn_cl *cl, pdnn_ctx *ctx) {
  const char *previous = pdnn_ctx_error(cl->ctx);
  if (cl->failed && ctx != cl->ctx) pdnn_ctx_fail(ctx, "%s", previous);
  cl->ctx = ctx;
  return cl->failed ? -1 : 0;
}

/* ---- buffers ------------------------------------------------------------------------------ */

/* Grows a table (*items, *cap entries of `size` bytes) so that entry `used` exists. */
static int make_room(pdnn_cl *cl, void **items, int used, int *cap, size_t size) {
  if (used < *cap) return 0;
  int grown_cap = *cap ? 2 * *cap : 64;
  void *grown = realloc(*items, (size_t)grown_cap * size);
  if (!grown) {
    fail_code(cl, CL_OUT_OF_HOST_MEMORY, "growing a table");
    return -1;
  }
  *items = grown;
  *cap = grown_cap;
  return 0;
}

static int add_buffer(pdnn_cl *cl, size_t bytes) {
  if (cl->failed) return -1;
  if (make_room(cl, (void **)&cl->buffers, cl->num_buffers, &cl->cap_buffers, sizeof *cl->buffers) != 0) return -1;
  cl_int err;
  cl_mem mem = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err);
  if (err != CL_SUCCESS) {
    char what[96];
    snprintf(what, sizeof what, "clCreateBuffer(%zu bytes)", bytes);
    fail_code(cl, err, what);
    return -1;
  }
  cl->buffers[cl->num_buffers] = mem;
  return cl->num_buffers++;
}

int pdnn_cl_buffer(pdnn_cl *cl, int64_t count) { return add_buffer(cl, (size_t)count * cl->real_size); }

int pdnn_cl_int32(pdnn_cl *cl, const int32_t *values, int64_t count) {
  int id = add_buffer(cl, (size_t)count * sizeof(int32_t));
  if (id >= 0 && count > 0)
    CHECK(cl, clEnqueueWriteBuffer(cl->queue, cl->buffers[id], CL_TRUE, 0, (size_t)count * sizeof(int32_t), values, 0,
                                   NULL, NULL),
          "clEnqueueWriteBuffer(int32)");
  return cl->failed ? -1 : id;
}

/* Enqueues `kernel` over `count` elements, waiting for nothing but queue order. */
static void run_cast(pdnn_cl *cl, cl_kernel kernel, cl_mem from, cl_mem to, int64_t count) {
  size_t global = (size_t)count;
  CHECK(cl, clSetKernelArg(kernel, 0, sizeof(cl_mem), &from), "clSetKernelArg(cast)");
  CHECK(cl, clSetKernelArg(kernel, 1, sizeof(cl_mem), &to), "clSetKernelArg(cast)");
  if (!cl->failed && count > 0)
    CHECK(cl, clEnqueueNDRangeKernel(cl->queue, kernel, 1, NULL, &global, NULL, 0, NULL, NULL),
          "clEnqueueNDRangeKernel(cast)");
}

static int ensure_staging(pdnn_cl *cl, size_t bytes) {
  if (cl->staging_bytes >= bytes) return 0;
  if (cl->staging) clReleaseMemObject(cl->staging);
  cl_int err;
  cl->staging = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
  cl->staging_bytes = err == CL_SUCCESS ? bytes : 0;
  if (err != CL_SUCCESS) fail_code(cl, err, "clCreateBuffer(staging)");
  return cl->failed ? -1 : 0;
}

void pdnn_cl_write(pdnn_cl *cl, int buffer, const float *values, int64_t count) {
  if (cl->failed || count <= 0) return;
  size_t bytes = (size_t)count * sizeof(float);
  if (!cl->fp16) {
    CHECK(cl, clEnqueueWriteBuffer(cl->queue, cl->buffers[buffer], CL_TRUE, 0, bytes, values, 0, NULL, NULL),
          "clEnqueueWriteBuffer");
    return;
  }
  if (ensure_staging(cl, bytes) != 0) return;
  CHECK(cl, clEnqueueWriteBuffer(cl->queue, cl->staging, CL_TRUE, 0, bytes, values, 0, NULL, NULL),
        "clEnqueueWriteBuffer(staging)");
  run_cast(cl, cl->to_real, cl->staging, cl->buffers[buffer], count);
}

int pdnn_cl_weights(pdnn_cl *cl, const float *values, int64_t count) {
  int id = pdnn_cl_buffer(cl, count);
  if (id >= 0) pdnn_cl_write(cl, id, values, count);
  if (cl->fp16 && !cl->failed) CHECK(cl, clFinish(cl->queue), "clFinish"); /* staging is reused */
  return cl->failed ? -1 : id;
}

static void collect_profile(pdnn_cl *cl) {
  for (int i = 0; i < cl->num_sites; i++) {
    site *s = &cl->sites[i];
    if (!s->event) continue;
    cl_ulong start = 0, end = 0;
    if (clGetEventProfilingInfo(s->event, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) == CL_SUCCESS &&
        clGetEventProfilingInfo(s->event, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) == CL_SUCCESS)
      s->ms = (double)(end - start) * 1e-6;
    clReleaseEvent(s->event);
    s->event = NULL;
  }
}

void pdnn_cl_read(pdnn_cl *cl, int buffer, float *values, int64_t count) {
  if (cl->failed || count <= 0) return;
  size_t bytes = (size_t)count * sizeof(float);
  cl_mem source = cl->buffers[buffer];
  if (cl->fp16) {
    if (ensure_staging(cl, bytes) != 0) return;
    run_cast(cl, cl->to_f32, source, cl->staging, count);
    source = cl->staging;
  }
  CHECK(cl, clEnqueueReadBuffer(cl->queue, source, CL_TRUE, 0, bytes, values, 0, NULL, NULL), "clEnqueueReadBuffer");
  if (!cl->failed) collect_profile(cl);
}

/* ---- launch sites ------------------------------------------------------------------------- */

int pdnn_cl_site(pdnn_cl *cl, const char *name, const char *label, const pdnn_cl_arg *args, int num_args) {
  if (cl->failed) return -1;
  if (make_room(cl, (void **)&cl->sites, cl->num_sites, &cl->cap_sites, sizeof *cl->sites) != 0) return -1;
  char what[320];
  cl_int err;
  cl_kernel kernel = clCreateKernel(cl->program, name, &err);
  if (err != CL_SUCCESS) {
    snprintf(what, sizeof what, "clCreateKernel('%s', layer '%s')", name, label);
    fail_code(cl, err, what);
    return -1;
  }
  for (int i = 0; i < num_args && !cl->failed; i++) {
    snprintf(what, sizeof what, "clSetKernelArg('%s' argument %d, layer '%s')", name, i, label);
    if (args[i].kind == PDNN_CL_ARG_INT) {
      cl_int value = (cl_int)args[i].value;
      CHECK(cl, clSetKernelArg(kernel, (cl_uint)i, sizeof value, &value), what);
    } else {
      cl_mem mem = args[i].value >= 0 ? cl->buffers[args[i].value] : NULL;
      CHECK(cl, clSetKernelArg(kernel, (cl_uint)i, sizeof mem, args[i].value >= 0 ? &mem : NULL), what);
    }
  }
  site *s = &cl->sites[cl->num_sites];
  memset(s, 0, sizeof *s);
  s->kernel = kernel;
  s->name = dup_or_null(name);
  s->label = dup_or_null(label);
  return cl->failed ? -1 : cl->num_sites++;
}

void pdnn_cl_launch(pdnn_cl *cl, int id, int dims, const size_t *global, const size_t *local) {
  if (cl->failed) return;
  site *s = &cl->sites[id];
  if (s->event) clReleaseEvent(s->event);
  s->event = NULL;
  cl_int err = clEnqueueNDRangeKernel(cl->queue, s->kernel, (cl_uint)dims, NULL, global, local, 0, NULL, &s->event);
  if (err == CL_SUCCESS) return;
  char what[512];
  int n = snprintf(what, sizeof what, "clEnqueueNDRangeKernel('%s', layer '%s', global", s->name, s->label);
  for (int d = 0; d < dims; d++) n += snprintf(what + n, sizeof what - (size_t)n, "%s%zu", d ? "x" : " ", global[d]);
  if (local) {
    size_t allowed = 0;
    clGetKernelWorkGroupInfo(s->kernel, cl->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof allowed, &allowed, NULL);
    n += snprintf(what + n, sizeof what - (size_t)n, ", local");
    for (int d = 0; d < dims; d++) n += snprintf(what + n, sizeof what - (size_t)n, "%s%zu", d ? "x" : " ", local[d]);
    n += snprintf(what + n, sizeof what - (size_t)n, "; the device allows %zu work-items per group here", allowed);
  }
  snprintf(what + n, sizeof what - (size_t)n, ")");
  fail_code(cl, err, what);
}

/* ---- queries ------------------------------------------------------------------------------ */

const char *pdnn_cl_device_name(const pdnn_cl *cl) { return cl ? cl->device_name : ""; }
const char *pdnn_cl_precision(const pdnn_cl *cl) { return cl && cl->fp16 ? "fp16" : "fp32"; }
int pdnn_cl_num_sites(const pdnn_cl *cl) { return cl ? cl->num_sites : 0; }
const char *pdnn_cl_site_label(const pdnn_cl *cl, int i) { return cl->sites[i].label; }
const char *pdnn_cl_site_kernel(const pdnn_cl *cl, int i) { return cl->sites[i].name; }
double pdnn_cl_site_ms(const pdnn_cl *cl, int i) { return cl->sites[i].ms; }

#endif /* PDNN_OPENCL */
