// A small pool of spinning helper threads for the kernels' parallel loops (see WorkerPool.h).
//
// One job at a time: a caller takes the pool with `busy`, publishes its job, wakes parked
// helpers, claims indices itself, waits until every index has finished, withdraws the job and
// waits until no helper still looks at it. Everything a helper reads of a job lives on the
// caller's stack, so the withdrawal protocol below is what keeps that safe:
//   helper:  active += 1;  j = job;  if j { claim and run }  active -= 1
//   caller:  wait done == count;  job = NULL;  wait active == 0
// With sequentially consistent atomics, a helper that read a non-NULL job incremented `active`
// before the caller's store of NULL, so the caller's last wait sees it and outlasts it.
#define _GNU_SOURCE
#include "WorkerPool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PR_RELAX() _mm_pause()
#else
#define PR_RELAX() ((void)0)
#endif

typedef struct {
  PRPoolTask task;
  void *context;
  int32_t count;
  _Atomic int32_t next;
  _Atomic int32_t done;
} PRPoolJob;

/// How long an idle helper spins before it parks. Limits of 0 (a 64-pause spin), 30, 200 and
/// 2,000 µs gave the same ResNet-20 speeds within the host's noise; 200 µs bridges the serial
/// stretches inside a step and leaves an idle process's core free soon after.
static const int64_t spin_nanoseconds = 200 * 1000;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  _Atomic int busy;
  _Atomic uint64_t generation;
  _Atomic int sleepers;
  _Atomic int active;
  _Atomic(PRPoolJob *) job;
  _Atomic int helpers;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static _Thread_local int inside_pool;

static int64_t now_nanoseconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void run_claims(PRPoolJob *job) {
  for (;;) {
    int32_t i = atomic_fetch_add(&job->next, 1);
    if (i >= job->count) return;
    job->task(job->context, i);
    atomic_fetch_add(&job->done, 1);
  }
}

/// Returns the first generation after `seen`: spinning for spin_nanoseconds, then parked.
static uint64_t await_generation(uint64_t seen) {
  int64_t deadline = now_nanoseconds() + spin_nanoseconds;
  for (int spins = 1;; spins++) {
    uint64_t g = atomic_load_explicit(&pool.generation, memory_order_acquire);
    if (g != seen) return g;
    PR_RELAX();
    if ((spins & 63) == 0 && now_nanoseconds() > deadline) break;
  }
  pthread_mutex_lock(&pool.lock);
  atomic_fetch_add(&pool.sleepers, 1);
  uint64_t g;
  while ((g = atomic_load(&pool.generation)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
  atomic_fetch_sub(&pool.sleepers, 1);
  pthread_mutex_unlock(&pool.lock);
  return g;
}

static void *helper_main(void *unused) {
  (void)unused;
  inside_pool = 1;
  uint64_t seen = 0;
  for (;;) {
    seen = await_generation(seen);
    atomic_fetch_add(&pool.active, 1);
    PRPoolJob *job = atomic_load(&pool.job);
    if (job) run_claims(job);
    atomic_fetch_sub(&pool.active, 1);
  }
  return NULL;
}

/// A forked child has only the thread that forked: its jobs run inline from then on, and a job
/// another thread had in flight at the fork is forgotten rather than waited for.
static void reset_in_child(void) {
  pthread_mutex_init(&pool.lock, NULL);
  pthread_cond_init(&pool.wake, NULL);
  atomic_store(&pool.helpers, 0);
  atomic_store(&pool.busy, 0);
  atomic_store(&pool.sleepers, 0);
  atomic_store(&pool.active, 0);
  atomic_store(&pool.job, NULL);
  inside_pool = 0;
}

void pr_pool_start(int32_t helpers) {
  pthread_mutex_lock(&pool.lock);
  static int started;
  if (!started) {
    started = 1;
    pthread_atfork(NULL, NULL, reset_in_child);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    // Tasks run whole network blocks (parallelRowBlocks): give them a main thread's stack.
    pthread_attr_setstacksize(&attributes, 8u << 20);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    int made = 0;
    for (int32_t h = 0; h < helpers; h++) {
      pthread_t thread;
      if (pthread_create(&thread, &attributes, helper_main, NULL) == 0) made++;
    }
    pthread_attr_destroy(&attributes);
    atomic_store(&pool.helpers, made);
  }
  pthread_mutex_unlock(&pool.lock);
}

/// One step of the caller's waits: a pause, and now and then the core yielded, so that a
/// descheduled helper can finish.
static void back_off(int spins) {
  PR_RELAX();
  if ((spins & 1023) == 0) sched_yield();
}

void pr_pool_run(int32_t count, PRPoolTask task, void *context) {
  if (count <= 0) return;
  int expected = 0;
  if (count == 1 || inside_pool || atomic_load(&pool.helpers) == 0 ||
      !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
    for (int32_t i = 0; i < count; i++) task(context, i);
    return;
  }
  PRPoolJob job = {task, context, count, 0, 0};
  atomic_store(&pool.job, &job);
  atomic_fetch_add(&pool.generation, 1);
  if (atomic_load(&pool.sleepers) > 0) {
    pthread_mutex_lock(&pool.lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
  }
  inside_pool = 1;
  run_claims(&job);
  inside_pool = 0;
  for (int spins = 1; atomic_load(&job.done) < count; spins++) back_off(spins);
  atomic_store(&pool.job, NULL);
  for (int spins = 1; atomic_load(&pool.active) > 0; spins++) back_off(spins);
  atomic_store(&pool.busy, 0);
}
