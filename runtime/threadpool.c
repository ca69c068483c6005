/* Persistent pthread pool behind pdnn_parallel_for.
 *
 * A job is published by bumping `generation`; workers spin briefly on it (a layer launches many
 * short jobs back to back, and a futex wake costs more than a typical layer chunk) and then sleep
 * on a condition variable so an idle model never burns a core. Worker i runs chunk i+1 of the
 * static split; the caller runs chunk 0 and waits until `pending` drops to zero. */
#define _GNU_SOURCE /* sched_getcpu, pthread_setaffinity_np */
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "pdnn_internal.h"

#define SPIN_ITERS 10000 /* about a millisecond, then sleep */

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* Yield now and then: with more threads than cores a pure spin starves the thread being waited on. */
static inline void spin_pause(int spin) {
  if ((spin & 63) == 63)
    sched_yield();
  else
    cpu_relax();
}

typedef struct {
  pdnn_pool *pool;
  int index; /* chunk index this worker runs (1..num_threads-1) */
  int cpu;   /* the CPU it is pinned to, -1 if not pinned */
  pthread_t thread;
} worker;

struct pdnn_pool {
  int num_threads;
  worker *workers;
  pthread_mutex_t mutex;
  pthread_cond_t work_cv; /* generation changed (or shutdown) */
  pthread_cond_t done_cv; /* pending reached zero */
  pthread_mutex_t dispatch; /* one job at a time if several threads share a ctx */
  atomic_uint generation;
  atomic_int pending; /* workers still running the current job */
  int shutdown;
  int pinned; /* workers pinned (see pin_workers) */
#ifdef __linux__
  cpu_set_t allowed; /* the CPUs the creating thread may use (sched_getaffinity) */
#endif
  /* The current job; written before generation is bumped, read after it is seen. */
  pdnn_range_fn fn;
  void *arg;
  int64_t n;
};

/* Set inside pool workers (and the dispatching caller) so nested parallel_for runs serially
 * instead of deadlocking on its own pool. */
static _Thread_local int in_parallel_region;

static void chunk_bounds(int64_t n, int parts, int i, int64_t *begin, int64_t *end) {
  int64_t base = n / parts, rem = n % parts;
  *begin = i * base + (i < rem ? i : rem);
  *end = *begin + base + (i < rem ? 1 : 0);
}

static void run_chunk(pdnn_pool *pool, int i) {
  int64_t begin, end;
  chunk_bounds(pool->n, pool->num_threads, i, &begin, &end);
  if (begin < end) pool->fn(pool->arg, begin, end);
}

static void *worker_main(void *p) {
  worker *self = (worker *)p;
  pdnn_pool *pool = self->pool;
  unsigned seen = 0;
  in_parallel_region = 1;
  for (;;) {
    unsigned gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
    for (int spin = 0; gen == seen && spin < SPIN_ITERS; spin++) {
      spin_pause(spin);
      gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
    }
    if (gen == seen) {
      pthread_mutex_lock(&pool->mutex);
      while ((gen = atomic_load(&pool->generation)) == seen && !pool->shutdown)
        pthread_cond_wait(&pool->work_cv, &pool->mutex);
      pthread_mutex_unlock(&pool->mutex);
    }
    seen = gen;
    pthread_mutex_lock(&pool->mutex);
    int stop = pool->shutdown;
    pthread_mutex_unlock(&pool->mutex);
    if (stop) return NULL;

    run_chunk(pool, self->index);
    if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
      /* Taking the mutex orders this signal after the caller's check-then-wait. */
      pthread_mutex_lock(&pool->mutex);
      pthread_cond_signal(&pool->done_cv);
      pthread_mutex_unlock(&pool->mutex);
    }
  }
}

/* Worker placement. A sleeping worker woken by the caller is often placed on the caller's CPU
 * (wake-affine; on 2-vCPU VMs 170 of 200 wake-ups after a 2 ms idle gap), where it waits for the
 * caller's chunk to finish: a 2-thread call then takes the 1-thread time. So each worker is pinned
 * to a CPU of its own, away from the caller's, when the process may use a CPU per thread;
 * PATDNN_PIN_WORKERS=0 leaves placement to the OS. The caller's thread is the user's and is never
 * pinned: if it has moved onto a worker's CPU, that worker moves to a free one (pdnn_pool_run). */
#ifdef __linux__
static void pin(pdnn_pool *pool, int i, int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
#ifdef __ANDROID__ /* bionic has no pthread_setaffinity_np */
  if (sched_setaffinity(pthread_gettid_np(pool->workers[i].thread), sizeof one, &one) == 0) pool->workers[i].cpu = cpu;
#else
  if (pthread_setaffinity_np(pool->workers[i].thread, sizeof one, &one) == 0) pool->workers[i].cpu = cpu;
#endif
}

/* An allowed CPU that is neither `avoid` nor any worker's, searching from `from`; -1 if none. */
static int free_cpu(const pdnn_pool *pool, int from, int avoid) {
  for (int step = 1; step <= CPU_SETSIZE; step++) {
    int cpu = (from + step) % CPU_SETSIZE, taken = cpu == avoid || !CPU_ISSET(cpu, &pool->allowed);
    for (int i = 0; !taken && i < pool->num_threads - 1; i++) taken = pool->workers[i].cpu == cpu;
    if (!taken) return cpu;
  }
  return -1;
}
#endif

static void pin_workers(pdnn_pool *pool) {
  for (int i = 0; i < pool->num_threads - 1; i++) pool->workers[i].cpu = -1;
#ifdef __linux__
  const char *env = getenv("PATDNN_PIN_WORKERS");
  if ((env && strcmp(env, "0") == 0) || sched_getaffinity(0, sizeof pool->allowed, &pool->allowed) != 0 ||
      CPU_COUNT(&pool->allowed) < pool->num_threads)
    return;
  int caller = sched_getcpu();
  for (int i = 0, cpu = caller; i < pool->num_threads - 1 && (cpu = free_cpu(pool, cpu, caller)) >= 0; i++) pin(pool, i, cpu);
  pool->pinned = 1;
#endif
}

/* Called by the dispatching thread: move a worker off the caller's CPU. */
static void keep_off_caller(pdnn_pool *pool) {
#ifdef __linux__
  if (!pool->pinned) return;
  int caller = sched_getcpu();
  for (int i = 0; i < pool->num_threads - 1; i++) {
    if (pool->workers[i].cpu != caller) continue;
    int cpu = free_cpu(pool, caller, caller);
    if (cpu >= 0) pin(pool, i, cpu);
  }
#else
  (void)pool;
#endif
}

pdnn_pool *pdnn_pool_create(int num_threads) {
  pdnn_pool *pool = calloc(1, sizeof *pool);
  if (!pool) return NULL;
  pool->num_threads = num_threads > 0 ? num_threads : 1;
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_mutex_init(&pool->dispatch, NULL);
  pthread_cond_init(&pool->work_cv, NULL);
  pthread_cond_init(&pool->done_cv, NULL);
  atomic_init(&pool->generation, 0);
  atomic_init(&pool->pending, 0);
  int nworkers = pool->num_threads - 1;
  if (nworkers > 0) {
    pool->workers = calloc((size_t)nworkers, sizeof *pool->workers);
    if (!pool->workers) {
      pool->num_threads = 1; /* no workers to join */
      pdnn_pool_destroy(pool);
      return NULL;
    }
  }
  for (int i = 0; i < nworkers; i++) {
    pool->workers[i].pool = pool;
    pool->workers[i].index = i + 1;
    if (pthread_create(&pool->workers[i].thread, NULL, worker_main, &pool->workers[i]) != 0) {
      /* Run with the workers that did start: shrink the split to match. */
      pool->num_threads = i + 1;
      break;
    }
  }
  pin_workers(pool);
  return pool;
}

void pdnn_pool_destroy(pdnn_pool *pool) {
  if (!pool) return;
  pthread_mutex_lock(&pool->mutex);
  pool->shutdown = 1;
  atomic_fetch_add(&pool->generation, 1);
  pthread_cond_broadcast(&pool->work_cv);
  pthread_mutex_unlock(&pool->mutex);
  for (int i = 0; i < pool->num_threads - 1; i++) pthread_join(pool->workers[i].thread, NULL);
  pthread_cond_destroy(&pool->work_cv);
  pthread_cond_destroy(&pool->done_cv);
  pthread_mutex_destroy(&pool->mutex);
  pthread_mutex_destroy(&pool->dispatch);
  free(pool->workers);
  free(pool);
}

void pdnn_pool_run(pdnn_pool *pool, int64_t n, pdnn_range_fn fn, void *arg) {
  if (n <= 0) return;
  /* One item, one thread, or a nested call: run inline. With fewer items than threads the
   * static split simply leaves some chunks empty. */
  if (!pool || pool->num_threads <= 1 || n < 2 || in_parallel_region) {
    fn(arg, 0, n);
    return;
  }
  pthread_mutex_lock(&pool->dispatch);
  keep_off_caller(pool);
  pthread_mutex_lock(&pool->mutex);
  pool->fn = fn;
  pool->arg = arg;
  pool->n = n;
  atomic_store(&pool->pending, pool->num_threads - 1);
  atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
  pthread_cond_broadcast(&pool->work_cv);
  pthread_mutex_unlock(&pool->mutex);

  in_parallel_region = 1;
  run_chunk(pool, 0);
  in_parallel_region = 0;

  for (int spin = 0; atomic_load(&pool->pending) != 0 && spin < SPIN_ITERS; spin++) spin_pause(spin);
  if (atomic_load(&pool->pending) != 0) {
    pthread_mutex_lock(&pool->mutex);
    while (atomic_load(&pool->pending) != 0) pthread_cond_wait(&pool->done_cv, &pool->mutex);
    pthread_mutex_unlock(&pool->mutex);
  }
  pthread_mutex_unlock(&pool->dispatch);
}
