/*
 * ops.c - single-threaded semantic checks of every __sync_* libcall of the
 * spinlock atomics (nextrust_atomics.h), for sizes 1, 2 and 4.
 *
 * For each operation and a table of (initial, operand) pairs, including
 * wrap-around and values with the top bit set, it checks the returned value,
 * the stored value, and that the bytes around the object are untouched (the
 * object sits in the middle of a guard-filled, 16-byte-aligned buffer).
 * Also: __sync_synchronize, and nx_lock_index (in range; the bytes of one
 * naturally aligned word share a lock).
 *
 * Prints one line per failed check and `ops: N passed, M failed`; exits 1 on
 * any failure. Build: any C compiler for the host, or m68k-linux-gnu-gcc for
 * the 680x0 (LLVM's m68k backend miscompiles ordinary loops: not clang), then
 * link with the atomics library under test. -DNEXTRUST_LOCK_BITS must match
 * the library's.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nextrust_atomics.h"

static unsigned passed, failed;

static void check(int ok, unsigned size, const char *what, unsigned long init, unsigned long v,
                  unsigned long got, unsigned long expected) {
  if (ok) {
    passed++;
    return;
  }
  failed++;
  printf("FAIL size=%u %s init=0x%lx v=0x%lx: got 0x%lx, expected 0x%lx\n", size, what, init, v, got,
         expected);
}

/* A buffer of 48 guard bytes; the object under test at offset 16. */
#define GUARD 0xA5
#define OBJ_OFFSET 16
static union {
  unsigned char bytes[48];
  uint32_t align;
} __attribute__((aligned(16))) buf;

static void reset_buf(void) { memset(buf.bytes, GUARD, sizeof buf.bytes); }

static int guards_intact(unsigned size) {
  for (unsigned i = 0; i < sizeof buf.bytes; i++) {
    if (i >= OBJ_OFFSET && i < OBJ_OFFSET + size) continue;
    if (buf.bytes[i] != GUARD) return 0;
  }
  return 1;
}

static void check_guards(unsigned size, const char *what, unsigned long init, unsigned long v) {
  int ok = guards_intact(size);
  char label[64];
  snprintf(label, sizeof label, "%s (neighbouring bytes)", what);
  check(ok, size, label, init, v, ok ? 0 : 1, 0);
}

/* Operand pairs: ordinary, zero, all ones, top bit, wrap-around both ways. */
static const uint32_t pairs[][2] = {
    {5, 3},           {0, 0},          {0, 1},          {1, 0},          {0xffffffffu, 1},
    {0, 0xffffffffu}, {0x80u, 0x80u},  {0x7fu, 1},      {0xffu, 1},      {0x8000u, 0x8000u},
    {0x7fffu, 1},     {0xffffu, 1},    {0x80000000u, 0x80000000u},      {0x7fffffffu, 1},
    {0xa5a5a5a5u, 0x5a5a5a5au},        {0x12345678u, 0x0f0f0f0fu},      {0xdeadbeefu, 0xffffffffu},
};
#define NPAIRS (sizeof pairs / sizeof pairs[0])

/* fetch_and_OP returns the old value and stores EXPR; OP_and_fetch returns and stores EXPR. */
#define CHECK_RMW(N, T, OP, EXPR)                                                         \
  for (unsigned k = 0; k < NPAIRS; k++) {                                                  \
    T init = (T)pairs[k][0], v = (T)pairs[k][1], cur = init;                               \
    T expected = (T)(EXPR);                                                                \
    volatile T *p = (volatile T *)(buf.bytes + OBJ_OFFSET);                                \
    reset_buf();                                                                           \
    *p = init;                                                                             \
    T r = nx_fetch_and_##OP##_##N(p, v);                                                   \
    check(r == init, N, "fetch_and_" #OP " result", init, v, r, init);                     \
    check(*p == expected, N, "fetch_and_" #OP " stored", init, v, *p, expected);           \
    check_guards(N, "fetch_and_" #OP, init, v);                                            \
    reset_buf();                                                                           \
    *p = init;                                                                             \
    r = nx_##OP##_and_fetch_##N(p, v);                                                     \
    check(r == expected, N, #OP "_and_fetch result", init, v, r, expected);                \
    check(*p == expected, N, #OP "_and_fetch stored", init, v, *p, expected);              \
    check_guards(N, #OP "_and_fetch", init, v);                                            \
  }

#define CHECK_SIZE(N, T)                                                                  \
  static void check_size_##N(void) {                                                      \
    volatile T *p = (volatile T *)(buf.bytes + OBJ_OFFSET);                                \
    for (unsigned k = 0; k < NPAIRS; k++) {                                                \
      T a = (T)pairs[k][0], b = (T)pairs[k][1], other = (T)(a + 1);                        \
      /* compare-and-swap: success (stores desired) */                                     \
      reset_buf();                                                                         \
      *p = a;                                                                              \
      T r = nx_val_compare_and_swap_##N(p, a, b);                                          \
      check(r == a, N, "val_compare_and_swap success result", a, b, r, a);                 \
      check(*p == b, N, "val_compare_and_swap success stored", a, b, *p, b);               \
      check_guards(N, "val_compare_and_swap success", a, b);                               \
      /* failure (leaves the object alone, returns the current value) */                   \
      reset_buf();                                                                         \
      *p = a;                                                                              \
      r = nx_val_compare_and_swap_##N(p, other, b);                                        \
      check(r == a, N, "val_compare_and_swap failure result", a, b, r, a);                 \
      check(*p == a, N, "val_compare_and_swap failure stored", a, b, *p, a);               \
      check_guards(N, "val_compare_and_swap failure", a, b);                               \
      reset_buf();                                                                         \
      *p = a;                                                                              \
      bool ok = nx_bool_compare_and_swap_##N(p, a, b);                                     \
      check(ok == true, N, "bool_compare_and_swap success result", a, b, ok, 1);           \
      check(*p == b, N, "bool_compare_and_swap success stored", a, b, *p, b);              \
      check_guards(N, "bool_compare_and_swap success", a, b);                              \
      reset_buf();                                                                         \
      *p = a;                                                                              \
      ok = nx_bool_compare_and_swap_##N(p, other, b);                                      \
      check(ok == false, N, "bool_compare_and_swap failure result", a, b, ok, 0);          \
      check(*p == a, N, "bool_compare_and_swap failure stored", a, b, *p, a);              \
      check_guards(N, "bool_compare_and_swap failure", a, b);                              \
      /* lock_test_and_set: stores v, returns the old value */                             \
      reset_buf();                                                                         \
      *p = a;                                                                              \
      r = nx_lock_test_and_set_##N(p, b);                                                  \
      check(r == a, N, "lock_test_and_set result", a, b, r, a);                            \
      check(*p == b, N, "lock_test_and_set stored", a, b, *p, b);                          \
      check_guards(N, "lock_test_and_set", a, b);                                          \
      /* lock_release: stores 0 */                                                         \
      reset_buf();                                                                         \
      *p = a;                                                                              \
      nx_lock_release_##N(p);                                                              \
      check(*p == 0, N, "lock_release stored", a, 0, *p, 0);                               \
      check_guards(N, "lock_release", a, 0);                                               \
    }                                                                                      \
    CHECK_RMW(N, T, add, cur + v)                                                          \
    CHECK_RMW(N, T, sub, cur - v)                                                          \
    CHECK_RMW(N, T, and, cur & v)                                                          \
    CHECK_RMW(N, T, or, cur | v)                                                           \
    CHECK_RMW(N, T, xor, cur ^ v)                                                          \
    CHECK_RMW(N, T, nand, ~(cur & v))                                                      \
  }

CHECK_SIZE(1, uint8_t)
CHECK_SIZE(2, uint16_t)
CHECK_SIZE(4, uint32_t)

/* Spot checks with literal values, independent of the expression table above. */
static void check_literals(void) {
  volatile uint8_t *p1 = (volatile uint8_t *)(buf.bytes + OBJ_OFFSET);
  volatile uint16_t *p2 = (volatile uint16_t *)(buf.bytes + OBJ_OFFSET);
  volatile uint32_t *p4 = (volatile uint32_t *)(buf.bytes + OBJ_OFFSET);
  unsigned long r;
  reset_buf();
  *p1 = 0xff;
  r = nx_add_and_fetch_1(p1, 2);
  check(r == 1 && *p1 == 1, 1, "literal 0xff + 2 wraps to 1", 0xff, 2, r, 1);
  reset_buf();
  *p2 = 0;
  r = nx_fetch_and_sub_2(p2, 1);
  check(r == 0 && *p2 == 0xffff, 2, "literal 0 - 1 wraps to 0xffff", 0, 1, *p2, 0xffff);
  reset_buf();
  *p4 = 0xf0f0f0f0u;
  r = nx_nand_and_fetch_4(p4, 0xff00ff00u);
  check(r == 0x0fff0fffu && *p4 == 0x0fff0fffu, 4, "literal nand", 0xf0f0f0f0u, 0xff00ff00u, r,
        0x0fff0fffu);
  reset_buf();
  *p1 = 0x0f;
  r = nx_fetch_and_nand_1(p1, 0x3c);
  check(r == 0x0f && *p1 == 0xf3, 1, "literal fetch_and_nand", 0x0f, 0x3c, *p1, 0xf3);
  reset_buf();
  *p4 = 7;
  r = nx_val_compare_and_swap_4(p4, 7, 0x80000000u);
  check(r == 7 && *p4 == 0x80000000u, 4, "literal cas", 7, 0x80000000u, *p4, 0x80000000u);
}

static void check_synchronize(void) {
  volatile uint32_t *p4 = (volatile uint32_t *)(buf.bytes + OBJ_OFFSET);
  reset_buf();
  *p4 = 42;
  nx_synchronize();
  check(*p4 == 42 && guards_intact(4), 0, "synchronize leaves memory alone", 42, 0, *p4, 42);
}

/* nx_lock_index: in range, and the bytes/halves of one aligned word share its lock. */
static void check_lock_index(void) {
  static uint32_t words[1024];
  unsigned bad_range = 0, bad_share = 0;
  for (unsigned i = 0; i < 1024; i++) {
    const volatile unsigned char *w = (const volatile unsigned char *)&words[i];
    unsigned idx = nx_lock_index(w);
    if (idx >= NEXTRUST_LOCK_COUNT) bad_range++;
    for (unsigned b = 1; b < 4; b++)
      if (nx_lock_index(w + b) != idx) bad_share++;
  }
  for (uintptr_t a = 0; a < 0x100000; a += 0x1234) /* sparse addresses, never dereferenced */
    if (nx_lock_index((const volatile void *)a) >= NEXTRUST_LOCK_COUNT) bad_range++;
  check(bad_range == 0, 0, "lock_index out of range", 0, 0, bad_range, 0);
  check(bad_share == 0, 0, "lock_index differs within one word", 0, 0, bad_share, 0);
}

int main(void) {
  check_size_1();
  check_size_2();
  check_size_4();
  check_literals();
  check_synchronize();
  check_lock_index();
  printf("ops: %u passed, %u failed\n", passed, failed);
  return failed ? 1 : 0;
}
