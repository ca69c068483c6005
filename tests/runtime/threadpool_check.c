/* Checks pdnn_parallel_for: every index of [0,n) runs exactly once, chunks follow the static
 * contiguous split, each non-empty chunk runs on its own thread, nested calls do not deadlock,
 * several threads sharing one ctx are serialised, idle workers sleep, and a worker woken after an
 * idle gap runs on another CPU than the caller (Linux, 2+ CPUs). Prints "ok" or the first failure. */
#define _GNU_SOURCE /* sched_getcpu */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "patdnn_runtime.h"

#define MAX_CALLS 64

typedef struct {
  atomic_int *hits;
  atomic_int calls;
  int64_t begins[MAX_CALLS], ends[MAX_CALLS];
  pthread_t threads[MAX_CALLS];
  pdnn_ctx *ctx; /* for the nested case */
  atomic_int nested_hits;
} job;

static void body(void *p, int64_t b, int64_t e) {
  job *j = p;
  int k = atomic_fetch_add(&j->calls, 1);
  if (k < MAX_CALLS) {
    j->begins[k] = b;
    j->ends[k] = e;
    j->threads[k] = pthread_self();
  }
  for (int64_t i = b; i < e; i++) atomic_fetch_add(&j->hits[i], 1);
}

static void count_nested(void *p, int64_t b, int64_t e) {
  atomic_fetch_add(&((job *)p)->nested_hits, (int)(e - b));
}

static void nested_body(void *p, int64_t b, int64_t e) {
  job *j = p;
  for (int64_t i = b; i < e; i++) pdnn_parallel_for(j->ctx, 10, count_nested, j);
}

#define FAIL(...)                  \
  do {                             \
    printf("FAIL: " __VA_ARGS__);  \
    printf("\n");                  \
    exit(1);                       \
  } while (0)

static void check(pdnn_ctx *ctx, int threads, int64_t n) {
  job j = {0};
  j.hits = calloc((size_t)(n ? n : 1), sizeof *j.hits);
  pdnn_parallel_for(ctx, n, body, &j);
  for (int64_t i = 0; i < n; i++)
    if (j.hits[i] != 1) FAIL("threads=%d n=%lld: index %lld ran %d times", threads, (long long)n, (long long)i, (int)j.hits[i]);
  int calls = j.calls;
  int64_t lo = threads > 0 ? n / threads : n, hi = lo + (n % threads != 0);
  if (n >= 2 && calls != (n < threads ? n : threads))
    FAIL("threads=%d n=%lld: %d chunks", threads, (long long)n, calls);
  for (int a = 0; a < calls; a++) {
    int64_t len = j.ends[a] - j.begins[a];
    if (n >= 2 && (len < lo || len > hi || len == 0))
      FAIL("threads=%d n=%lld: chunk [%lld,%lld) is not a static split", threads, (long long)n,
           (long long)j.begins[a], (long long)j.ends[a]);
    for (int b = 0; b < a; b++)
      if (pthread_equal(j.threads[a], j.threads[b]))
        FAIL("threads=%d n=%lld: two chunks ran on one thread", threads, (long long)n);
  }
  free(j.hits);
}

typedef struct {
  pdnn_ctx *ctx;
  int threads;
} outside;

static void *outside_caller(void *p) {
  outside *o = p;
  for (int64_t n = 0; n < 300; n++) check(o->ctx, o->threads, n);
  return NULL;
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Idle workers must go to sleep: a parked pool should cost (almost) no CPU time. */
static void check_idle_workers_sleep(void) {
  pdnn_ctx *ctx = pdnn_ctx_create(4, NULL);
  check(ctx, 4, 1000);
  struct timespec settle = {0, 50 * 1000 * 1000}, idle = {0, 300 * 1000 * 1000};
  nanosleep(&settle, NULL); /* let the spin phase end */
  double before = cpu_seconds();
  nanosleep(&idle, NULL);
  double burnt = cpu_seconds() - before;
  if (burnt > 0.05) FAIL("idle pool burnt %.3f s of CPU in 0.3 s", burnt);
  pdnn_ctx_destroy(ctx);
}

static void record_cpu(void *p, int64_t b, int64_t e) {
  for (int64_t i = b; i < e; i++) ((int *)p)[i] = sched_getcpu();
}

/* After an idle gap the woken worker used to be placed on the caller's CPU (wake-affine) and ran
 * after the caller's chunk instead of beside it; pinned workers keep off the caller's CPU. */
static void check_worker_runs_beside_caller(void) {
#ifdef __linux__
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2 || sched_getcpu() < 0) return;
  pdnn_ctx *ctx = pdnn_ctx_create(2, NULL);
  int apart = 0, runs = 40;
  for (int r = 0; r < runs; r++) {
    struct timespec gap = {0, 3 * 1000 * 1000}; /* long enough for the worker to go to sleep */
    nanosleep(&gap, NULL);
    int cpu[2] = {-1, -1};
    pdnn_parallel_for(ctx, 2, record_cpu, cpu);
    apart += cpu[0] != cpu[1];
  }
  /* not all: the OS may move the caller between the dispatch and its chunk */
  if (apart < runs * 3 / 4) FAIL("the woken worker ran on the caller's CPU in %d of %d calls", runs - apart, runs);
  pdnn_ctx_destroy(ctx);
#endif
}

int main(int argc, char **argv) {
  int max_threads = argc > 1 ? atoi(argv[1]) : 8;
  int repeats = argc > 2 ? atoi(argv[2]) : 200;
  for (int t = 1; t <= max_threads; t++) {
    pdnn_ctx *ctx = pdnn_ctx_create(t, NULL);
    if (pdnn_ctx_num_threads(ctx) != t) FAIL("num_threads %d != %d", pdnn_ctx_num_threads(ctx), t);
    for (int64_t n = 0; n <= 67; n++) check(ctx, t, n);
    check(ctx, t, 100003);
    /* Many short jobs back to back exercise the generation handshake. */
    for (int r = 0; r < repeats; r++) check(ctx, t, 1 + r % 40);

    job j = {0};
    j.ctx = ctx;
    pdnn_parallel_for(ctx, 7, nested_body, &j);
    if (j.nested_hits != 70) FAIL("threads=%d: nested parallel_for covered %d of 70", t, (int)j.nested_hits);

    pthread_t a, b;
    outside o = {ctx, t};
    pthread_create(&a, NULL, outside_caller, &o);
    pthread_create(&b, NULL, outside_caller, &o);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    pdnn_ctx_destroy(ctx);
  }
  check_idle_workers_sleep();
  check_worker_runs_beside_caller();
  printf("ok\n");
  return 0;
}
