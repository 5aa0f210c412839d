/*
 * stress.c - T threads x N iterations of concurrent __sync_* libcalls on
 * shared counters; detects lost updates.
 *
 * Usage: stress T N   (defaults 4 and 100000)
 *
 * Counters (each iteration of each thread touches every group once):
 *  - one 16-byte granule holding adjacent counters of every size: a 4-byte
 *    counter (nx_fetch_and_add_4), a 2-byte one (nx_fetch_and_add_2), a 1-byte
 *    one (nx_fetch_and_add_1) sharing a word with the 2-byte one, and a 4-byte
 *    counter incremented by a compare-and-swap retry loop
 *    (nx_val_compare_and_swap_4);
 *  - SPREAD counters in different granules (64 bytes apart), iteration i of
 *    every thread increments spread[i % SPREAD];
 *  - two counters a page apart, iteration i increments far[i % 2].
 *
 * Checks, after all threads joined:
 *  - every final value equals its expected total (mod 2^8 / 2^16 for the small ones);
 *  - the old values returned by fetch_and_add are each a distinct step: for the
 *    4-byte counter every value 0 .. T*N-1 was returned exactly once, for the
 *    1- and 2-byte counters every residue the exact number of times. Two threads
 *    reading the same old value is a lost update even when a later one hides it.
 * Prints `counter NAME got X expected Y`, the retries of the CAS loop, and
 * `stress: ok` (exit 0) or `stress: LOST UPDATES` (exit 1). Exit 2: usage or
 * out of memory.
 *
 * -DNX_BROKEN_LOCK: negative control. The increments bypass the library and do
 * an unlocked read, a sched_yield() now and then, and a write, so other threads
 * run between the read and the write: the checks must report lost updates.
 *
 * Build: host compiler, or m68k-linux-gnu-gcc for the 680x0 (LLVM's m68k
 * backend miscompiles ordinary loops: not clang), with -pthread, linked with
 * the atomics library under test.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nextrust_atomics.h"

#define SPREAD 8

/*
 * On the heap, not in .bss: LLVM 19's m68k backend addresses the library's
 * lock table with a 16-bit PC-relative displacement (R_68K_PC16), so a big
 * .bss in front of it makes the link fail ("relocation truncated to fit").
 */
struct shared_counters {
  struct {
    volatile uint32_t c4;   /* fetch_and_add_4 */
    volatile uint16_t c2;   /* fetch_and_add_2 */
    volatile uint8_t c1;    /* fetch_and_add_1, same word as c2 */
    volatile uint8_t pad;
    volatile uint32_t cas4; /* CAS retry loop */
    volatile uint32_t pad2;
  } __attribute__((aligned(16))) granule;
  struct {
    volatile uint32_t v;
    char pad[60];
  } __attribute__((aligned(64))) spread[SPREAD];
  struct {
    volatile uint32_t v;
    char pad[4092];
  } __attribute__((aligned(4096))) far[2];
};
static struct shared_counters *sh;

#ifdef NX_BROKEN_LOCK
/* Unlocked read-modify-write with a window for other threads: loses updates. */
static __thread unsigned long broken_ops;
#define BROKEN_WINDOW() \
  do {                                                                                   \
    if (++broken_ops % 61 == 0) sched_yield(); /* 61: prime, hits every op */                                         \
  } while (0)
static uint32_t inc4(volatile uint32_t *p, uint32_t v) {
  uint32_t old = *p;
  BROKEN_WINDOW();
  *p = old + v;
  return old;
}
static uint16_t inc2(volatile uint16_t *p, uint16_t v) {
  uint16_t old = *p;
  BROKEN_WINDOW();
  *p = (uint16_t)(old + v);
  return old;
}
static uint8_t inc1(volatile uint8_t *p, uint8_t v) {
  uint8_t old = *p;
  BROKEN_WINDOW();
  *p = (uint8_t)(old + v);
  return old;
}
static uint32_t cas_4(volatile uint32_t *p, uint32_t expected, uint32_t desired) {
  uint32_t cur = *p;
  BROKEN_WINDOW();
  if (cur == expected) *p = desired;
  return cur;
}
#else
#define inc4 nx_fetch_and_add_4
#define inc2 nx_fetch_and_add_2
#define inc1 nx_fetch_and_add_1
#define cas_4 nx_val_compare_and_swap_4
#endif

static unsigned threads;
static unsigned long iters;
static pthread_barrier_t start;

struct worker {
  pthread_t id;
  uint32_t *old4;    /* iters values returned for c4 */
  uint32_t *hist2;   /* 65536 counts of values returned for c2 */
  uint32_t hist1[256];
  unsigned long cas_retries;
};

static void *work(void *arg) {
  struct worker *w = arg;
  pthread_barrier_wait(&start);
  for (unsigned long i = 0; i < iters; i++) {
    w->old4[i] = inc4(&sh->granule.c4, 1);
    w->hist2[inc2(&sh->granule.c2, 1)]++;
    w->hist1[inc1(&sh->granule.c1, 1)]++;
    uint32_t cur = sh->granule.cas4;
    for (;;) {
      uint32_t seen = cas_4(&sh->granule.cas4, cur, cur + 1);
      if (seen == cur) break;
      cur = seen;
      w->cas_retries++;
    }
    inc4(&sh->spread[i % SPREAD].v, 1);
    inc4(&sh->far[i % 2].v, 1);
  }
  return NULL;
}

static unsigned failures;

static void report(const char *name, unsigned long got, unsigned long expected) {
  printf("counter %s got %lu expected %lu%s\n", name, got, expected, got == expected ? "" : " LOST");
  if (got != expected) failures++;
}

/* Number of k in [0, total) with k % mod == r. */
static unsigned long residue_count(unsigned long total, unsigned long mod, unsigned long r) {
  return total / mod + (r < total % mod ? 1 : 0);
}

int main(int argc, char **argv) {
  threads = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 4;
  iters = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
  if (threads < 1 || threads > 64 || iters < 1) {
    fprintf(stderr, "usage: stress THREADS(1..64) ITERATIONS(>=1)\n");
    return 2;
  }
  unsigned long total = threads * iters;
  struct worker *w = calloc(threads, sizeof *w);
  uint8_t *seen4 = calloc(total, 1);
  sh = aligned_alloc(4096, sizeof *sh);
  if (!w || !seen4 || !sh) return 2;
  memset(sh, 0, sizeof *sh);
  for (unsigned t = 0; t < threads; t++) {
    w[t].old4 = malloc(iters * sizeof(uint32_t));
    w[t].hist2 = calloc(65536, sizeof(uint32_t));
    if (!w[t].old4 || !w[t].hist2) return 2;
  }
  pthread_barrier_init(&start, NULL, threads);
  for (unsigned t = 0; t < threads; t++) {
    if (pthread_create(&w[t].id, NULL, work, &w[t]) != 0) {
      fprintf(stderr, "stress: pthread_create failed\n");
      return 2;
    }
  }
  unsigned long retries = 0;
  for (unsigned t = 0; t < threads; t++) {
    pthread_join(w[t].id, NULL);
    retries += w[t].cas_retries;
  }
  printf("stress: threads=%u iterations=%lu\n", threads, iters);

  report("c4", sh->granule.c4, total & 0xffffffffUL);
  report("c2", sh->granule.c2, total & 0xffffUL);
  report("c1", sh->granule.c1, total & 0xffUL);
  report("cas4", sh->granule.cas4, total & 0xffffffffUL);
  for (unsigned k = 0; k < SPREAD; k++) {
    char name[16];
    snprintf(name, sizeof name, "spread%u", k);
    report(name, sh->spread[k].v, threads * residue_count(iters, SPREAD, k));
  }
  report("far0", sh->far[0].v, threads * residue_count(iters, 2, 0));
  report("far1", sh->far[1].v, threads * residue_count(iters, 2, 1));
  if (sh->granule.pad != 0 || sh->granule.pad2 != 0) {
    printf("counter padding got %u expected 0 LOST\n", sh->granule.pad | sh->granule.pad2);
    failures++;
  }

  /* Returned old values: each step exactly once. */
  unsigned long dup4 = 0, out4 = 0;
  for (unsigned t = 0; t < threads; t++)
    for (unsigned long i = 0; i < iters; i++) {
      uint32_t v = w[t].old4[i];
      if (v >= total) out4++;
      else if (seen4[v]++) dup4++;
    }
  unsigned long bad2 = 0, bad1 = 0;
  for (unsigned long r = 0; r < 65536; r++) {
    unsigned long n = 0;
    for (unsigned t = 0; t < threads; t++) n += w[t].hist2[r];
    if (n != residue_count(total, 65536, r)) bad2++;
  }
  for (unsigned long r = 0; r < 256; r++) {
    unsigned long n = 0;
    for (unsigned t = 0; t < threads; t++) n += w[t].hist1[r];
    if (n != residue_count(total, 256, r)) bad1++;
  }
  report("c4-duplicate-old-values", dup4 + out4, 0);
  report("c2-wrong-old-value-counts", bad2, 0);
  report("c1-wrong-old-value-counts", bad1, 0);
  printf("stress: cas retries %lu\n", retries);
  puts(failures ? "stress: LOST UPDATES" : "stress: ok");
  return failures ? 1 : 0;
}
