/*
 * spinlock_atomics.c - compiler-rt style __sync_* libcalls for the 680x0.
 *
 * Every operation takes one spinlock from a table of cache-line-padded locks
 * hashed by address, does a plain read-modify-write and releases the lock.
 *
 * Starting point: a per-word table of 64 locks, index (addr >> 2) & 63, lock
 * taken with __sync_lock_test_and_set (NEXTRUST_LOCK_HASH=0 still builds that
 * table, as the baseline of tools/bench/atomics-locks.ts). That design has two
 * faults on the 68000: the lock itself is taken with __sync_lock_test_and_set,
 * which is a libcall there (it recurses into this library), and
 * (addr >> 2) & 63 puts words 256 bytes apart on the same lock. Anchor:
 * compiler-rt's lib/builtins/atomic.c (1024 locks, index
 * ((addr >> 4) ^ (addr >> 20)) & 1023;
 * https://github.com/llvm/llvm-project/blob/main/compiler-rt/lib/builtins/atomic.c).
 *
 * Here:
 *  - the lock primitive is the TAS instruction, which every 680x0 has (68000
 *    to 68060). clang-19's integrated assembler has no `tas` mnemonic, so the
 *    opcode is emitted as data: 0x4ad0 is `tas (%a0)`, with the lock's address
 *    bound to %a0. TAS sets N from bit 7 of the byte before setting it;
 *    `smi` turns N into 0xff (taken) or 0x00 (was free).
 *  - test-and-test-and-set: a waiter spins on plain reads and only retries TAS
 *    once the lock reads free, so it does not hammer the bus with locked cycles.
 *  - the index folds the 16-byte granule g = addr >> 4 three times,
 *    g ^ (g >> B) ^ (g >> 2B) with B = NEXTRUST_LOCK_BITS: objects in one
 *    granule share a lock (mixed-size accesses to one naturally aligned object
 *    always take the same lock), 1024 consecutive granules take 1024
 *    distinct locks, and the high address bits are mixed in, not dropped. Shifts and xors only:
 *    a multiplicative hash would call __mulsi3 on the 68000.
 *  - each lock is padded to NEXTRUST_CACHE_LINE bytes (16: the 68040/68060
 *    line) so two locks never share a line.
 *
 * Built for the host (x86_64, aarch64) too, where the lock primitive is the
 * compiler's __atomic_test_and_set: the tests stress it with threads there.
 */
#include "nextrust_atomics.h"

#ifndef NEXTRUST_CACHE_LINE
#define NEXTRUST_CACHE_LINE 16
#endif


/* Index hash: 0 = the 64-lock per-word table, 1 = compiler-rt's, 2 = ours (default). */
#ifndef NEXTRUST_LOCK_HASH
#define NEXTRUST_LOCK_HASH 2
#endif

typedef struct {
  volatile unsigned char flag;
  char pad[NEXTRUST_CACHE_LINE - 1];
} __attribute__((aligned(NEXTRUST_CACHE_LINE))) nx_padded_lock;

#if defined(__m68k__)
/*
 * clang reaches a static object through a 16-bit PC-relative offset
 * (R_68K_PC16, +-32 KiB), so a program with more than 32 KiB between this
 * code and .bss failed to link ("relocation truncated to fit"); no clang flag
 * changes that. The table's absolute address is loaded with `lea` instead.
 */
static nx_padded_lock nx_locks[NEXTRUST_LOCK_COUNT] __asm__(NX_ASM_NAME("nextrust_spinlock_table")) __attribute__((used));
static inline nx_padded_lock *nx_lock_table(void) {
  nx_padded_lock *base;
  __asm__("lea " NX_ASM_NAME("nextrust_spinlock_table") ", %0" : "=a"(base));
  return base;
}
#else
static nx_padded_lock nx_locks[NEXTRUST_LOCK_COUNT];
static inline nx_padded_lock *nx_lock_table(void) { return nx_locks; }
#endif

unsigned nx_lock_index(const volatile void *p) {
  uintptr_t a = (uintptr_t)p;
#if NEXTRUST_LOCK_HASH == 0
  return (unsigned)((a >> 2) & (NEXTRUST_LOCK_COUNT - 1));
#elif NEXTRUST_LOCK_HASH == 1
  uintptr_t h = a >> 4;
  uintptr_t low = h & (NEXTRUST_LOCK_COUNT - 1);
  h >>= 16;
  h ^= low;
  return (unsigned)(h & (NEXTRUST_LOCK_COUNT - 1));
#else
  uintptr_t g = a >> 4;
  return (unsigned)((g ^ (g >> NEXTRUST_LOCK_BITS) ^ (g >> (2 * NEXTRUST_LOCK_BITS))) &
                    (NEXTRUST_LOCK_COUNT - 1));
#endif
}

#if defined(__m68k__)
/* Returns nonzero when the lock was already taken. */
static inline unsigned char nx_tas(volatile unsigned char *lock) {
  register volatile unsigned char *a0 __asm__("a0") = lock;
  unsigned char was_set;
  __asm__ __volatile__(".short 0x4ad0\n\t" /* tas (%a0) */
                       "smi %0"
                       : "=d"(was_set)
                       : "a"(a0)
                       : "cc", "memory");
  return was_set;
}
static inline void nx_unlock(volatile unsigned char *lock) {
  __asm__ __volatile__("" ::: "memory");
  *lock = 0;
}
static inline void nx_barrier(void) {
  /* nop synchronises the 68040/68060 pipeline (writes drained) */
  __asm__ __volatile__("nop" ::: "memory");
}
#else
static inline unsigned char nx_tas(volatile unsigned char *lock) {
  return __atomic_test_and_set((unsigned char *)lock, __ATOMIC_ACQUIRE);
}
static inline void nx_unlock(volatile unsigned char *lock) {
  __atomic_clear((unsigned char *)lock, __ATOMIC_RELEASE);
}
static inline void nx_barrier(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif

static inline volatile unsigned char *nx_lock_for(const volatile void *p) {
  volatile unsigned char *lock = &nx_lock_table()[nx_lock_index(p)].flag;
  while (nx_tas(lock)) {
    while (*lock) {
      /* spin on plain reads until the holder releases */
    }
  }
  return lock;
}

void nx_synchronize(void) { nx_barrier(); }

#define NX_SYNC_DEFINE(N, T)                                                          \
  T nx_val_compare_and_swap_##N(volatile T *p, T expected, T desired) {               \
    volatile unsigned char *l = nx_lock_for(p);                                        \
    T cur = *p;                                                                        \
    if (cur == expected) *p = desired;                                                 \
    nx_unlock(l);                                                                      \
    return cur;                                                                        \
  }                                                                                    \
  bool nx_bool_compare_and_swap_##N(volatile T *p, T expected, T desired) {           \
    return nx_val_compare_and_swap_##N(p, expected, desired) == expected;              \
  }                                                                                    \
  NX_SYNC_RMW(N, T, add, cur + v)                                                      \
  NX_SYNC_RMW(N, T, sub, cur - v)                                                      \
  NX_SYNC_RMW(N, T, and, cur & v)                                                      \
  NX_SYNC_RMW(N, T, or, cur | v)                                                       \
  NX_SYNC_RMW(N, T, xor, cur ^ v)                                                      \
  NX_SYNC_RMW(N, T, nand, ~(cur & v))                                                  \
  T nx_lock_test_and_set_##N(volatile T *p, T v) {                                    \
    volatile unsigned char *l = nx_lock_for(p);                                        \
    T cur = *p;                                                                        \
    *p = v;                                                                            \
    nx_unlock(l);                                                                      \
    return cur;                                                                        \
  }                                                                                    \
  void nx_lock_release_##N(volatile T *p) {                                           \
    volatile unsigned char *l = nx_lock_for(p);                                        \
    *p = 0;                                                                            \
    nx_unlock(l);                                                                      \
  }

/* fetch_and_OP returns the old value, OP_and_fetch the new one. */
#define NX_SYNC_RMW(N, T, OP, EXPR)                                                   \
  T nx_fetch_and_##OP##_##N(volatile T *p, T v) {                                     \
    volatile unsigned char *l = nx_lock_for(p);                                        \
    T cur = *p;                                                                        \
    *p = (T)(EXPR);                                                                    \
    nx_unlock(l);                                                                      \
    return cur;                                                                        \
  }                                                                                    \
  T nx_##OP##_and_fetch_##N(volatile T *p, T v) {                                     \
    volatile unsigned char *l = nx_lock_for(p);                                        \
    T cur = *p;                                                                        \
    T next = (T)(EXPR);                                                                \
    *p = next;                                                                         \
    nx_unlock(l);                                                                      \
    return next;                                                                       \
  }

NX_SYNC_DEFINE(1, uint8_t)
NX_SYNC_DEFINE(2, uint16_t)
NX_SYNC_DEFINE(4, uint32_t)
