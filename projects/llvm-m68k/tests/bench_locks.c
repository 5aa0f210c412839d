/*
 * bench_locks.c - timing and lock-index harness for the spinlock atomics'
 * lock table (NEXTRUST_LOCK_BITS, NEXTRUST_LOCK_HASH in spinlock_atomics.c).
 * Driven by tools/bench/atomics-locks.ts, which builds the library with each
 * hash and compares them; -DNEXTRUST_LOCK_BITS must match the library's.
 *
 *   bench_locks throughput WORKLOAD THREADS ITERATIONS
 *     THREADS threads each do ITERATIONS nx_fetch_and_add_4 calls, started
 *     together; prints
 *     `throughput workload=W threads=T ops=N seconds=S mops=M check=ok|FAIL`.
 *     Workloads:
 *       shared    one counter for all threads (the same lock whatever the hash)
 *       own4      thread t increments counter t of a uint32_t array (4-byte stride)
 *       own16     thread t increments its own 16-byte struct
 *       own4096   thread t increments a counter in its own page
 *       array4096 4096 consecutive words, pseudo-random index per call
 *
 *   bench_locks index BASE COUNT
 *     prints `lockbits B` and, for each layout, the lock index of COUNT object
 *     addresses starting at BASE (hex; the addresses are never dereferenced):
 *     `index LAYOUT i0 i1 ...`. Layouts: words4 (stride 4), structs16 (16),
 *     objects64 (64), pages (4096).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nextrust_atomics.h"

#define MAX_THREADS 64
#define ARRAY_WORDS 4096

enum workload { W_SHARED, W_OWN4, W_OWN16, W_OWN4096, W_ARRAY };

static enum workload workload;
static unsigned threads;
static unsigned long iters;
static pthread_barrier_t start;
static unsigned char *region; /* counters, heap-allocated and page-aligned */

/* Address of the counter thread t increments in the fixed-slot workloads. */
static volatile uint32_t *slot(unsigned t) {
  switch (workload) {
  case W_SHARED: return (volatile uint32_t *)region;
  case W_OWN4: return (volatile uint32_t *)(region + 4 * t);
  case W_OWN16: return (volatile uint32_t *)(region + 16 * t);
  case W_OWN4096: return (volatile uint32_t *)(region + 4096 * t);
  default: return NULL;
  }
}

static void *work(void *arg) {
  unsigned t = (unsigned)(uintptr_t)arg;
  pthread_barrier_wait(&start);
  if (workload == W_ARRAY) {
    volatile uint32_t *words = (volatile uint32_t *)region;
    uint32_t x = 0x9e3779b9u * (t + 1); /* xorshift32 */
    for (unsigned long i = 0; i < iters; i++) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      nx_fetch_and_add_4(&words[x & (ARRAY_WORDS - 1)], 1);
    }
  } else {
    volatile uint32_t *p = slot(t);
    for (unsigned long i = 0; i < iters; i++) nx_fetch_and_add_4(p, 1);
  }
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int throughput(const char *name, unsigned nthreads, unsigned long n) {
  static const char *names[] = {"shared", "own4", "own16", "own4096", "array4096"};
  int found = 0;
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(name, names[i]) == 0) workload = (enum workload)i, found = 1;
  if (!found || nthreads < 1 || nthreads > MAX_THREADS || n < 1) {
    fprintf(stderr, "bench_locks: bad workload, thread count or iteration count\n");
    return 2;
  }
  threads = nthreads;
  iters = n;
  size_t size = 4096 * (MAX_THREADS + 1);
  region = aligned_alloc(4096, size);
  if (!region) return 2;
  memset(region, 0, size);
  pthread_t ids[MAX_THREADS];
  pthread_barrier_init(&start, NULL, threads + 1);
  for (unsigned t = 0; t < threads; t++)
    if (pthread_create(&ids[t], NULL, work, (void *)(uintptr_t)t) != 0) return 2;
  double t0 = now();
  pthread_barrier_wait(&start);
  for (unsigned t = 0; t < threads; t++) pthread_join(ids[t], NULL);
  double secs = now() - t0;

  unsigned long long sum = 0, ops = (unsigned long long)threads * iters;
  if (workload == W_ARRAY) {
    for (unsigned i = 0; i < ARRAY_WORDS; i++) sum += ((volatile uint32_t *)region)[i];
  } else if (workload == W_SHARED) {
    sum = *slot(0);
  } else {
    for (unsigned t = 0; t < threads; t++) sum += *slot(t);
  }
  printf("throughput workload=%s threads=%u ops=%llu seconds=%.6f mops=%.3f check=%s\n", name, threads,
         ops, secs, ops / secs / 1e6, sum == (ops & 0xffffffffull) ? "ok" : "FAIL");
  return sum == (ops & 0xffffffffull) ? 0 : 1;
}

static int index_dump(const char *base_hex, unsigned long count) {
  static const struct {
    const char *name;
    uintptr_t stride;
  } layouts[] = {{"words4", 4}, {"structs16", 16}, {"objects64", 64}, {"pages", 4096}};
  uintptr_t base = (uintptr_t)strtoull(base_hex, NULL, 16);
  printf("lockbits %u\n", (unsigned)NEXTRUST_LOCK_BITS);
  for (unsigned l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
    printf("index %s", layouts[l].name);
    for (unsigned long i = 0; i < count; i++)
      printf(" %u", nx_lock_index((const volatile void *)(base + i * layouts[l].stride)));
    printf("\n");
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "throughput") == 0)
    return throughput(argv[2], (unsigned)strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
  if (argc == 4 && strcmp(argv[1], "index") == 0) return index_dump(argv[2], strtoul(argv[3], NULL, 10));
  fprintf(stderr, "usage: bench_locks throughput WORKLOAD THREADS ITERATIONS | bench_locks index BASE COUNT\n");
  return 2;
}
