/*
 * nextrust_atomics.h - the __sync_* libcalls of the NeXTRust spinlock atomics.
 *
 * GCC's legacy __sync builtins (https://gcc.gnu.org/onlinedocs/gcc/_005f_005fsync-Builtins.html)
 * become calls to these functions when the CPU has no compare-and-swap: LLVM's
 * M68k backend turns atomic read-modify-write operations into these libcalls
 * on the 68000 and 68010 (cas.l exists from the 68020 on). C code that calls
 * the builtins by name links them on every CPU, and NeXTSTEP has no other
 * definition of them. Every function is implemented with a spinlock taken from
 * a table of cache-line-padded locks hashed by address (spinlock_atomics.c).
 *
 * clang refuses to define or declare a function named like a builtin, so each
 * libcall has a C name (nx_*) bound to the libcall's symbol by an asm label:
 * calling nx_fetch_and_add_4() calls the symbol __sync_fetch_and_add_4.
 *
 * Rules (the same as compiler-rt's lock-based atomics):
 *  - an object accessed through these libcalls must not also be accessed with
 *    native CAS (cas.l on 68020+) by other code: the two do not exclude each other;
 *  - an access of size N must be aligned to N (1, 2 or 4 bytes).
 */
#ifndef NEXTRUST_ATOMICS_H
#define NEXTRUST_ATOMICS_H

#include <stdint.h>
#include <stdbool.h>

/*
 * A symbol name for an asm label or inline assembly, with the target's user
 * label prefix that the C compiler puts before C names: none on ELF (Linux),
 * `_` on Mach-O (NeXTSTEP, docs/nextstep.md).
 */
#define NX_STR_(x) #x
#define NX_STR(x) NX_STR_(x)
#define NX_ASM_NAME(name) NX_STR(__USER_LABEL_PREFIX__) name

#define NX_SYNC_DECLARE(N, T)                                                                          \
  T nx_val_compare_and_swap_##N(volatile T *p, T expected, T desired)                                  \
      __asm__(NX_ASM_NAME("__sync_val_compare_and_swap_" #N));                                         \
  bool nx_bool_compare_and_swap_##N(volatile T *p, T expected, T desired)                              \
      __asm__(NX_ASM_NAME("__sync_bool_compare_and_swap_" #N));                                        \
  T nx_fetch_and_add_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_fetch_and_add_" #N));         \
  T nx_fetch_and_sub_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_fetch_and_sub_" #N));         \
  T nx_fetch_and_and_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_fetch_and_and_" #N));         \
  T nx_fetch_and_or_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_fetch_and_or_" #N));           \
  T nx_fetch_and_xor_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_fetch_and_xor_" #N));         \
  T nx_fetch_and_nand_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_fetch_and_nand_" #N));       \
  T nx_add_and_fetch_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_add_and_fetch_" #N));         \
  T nx_sub_and_fetch_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_sub_and_fetch_" #N));         \
  T nx_and_and_fetch_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_and_and_fetch_" #N));         \
  T nx_or_and_fetch_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_or_and_fetch_" #N));           \
  T nx_xor_and_fetch_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_xor_and_fetch_" #N));         \
  T nx_nand_and_fetch_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_nand_and_fetch_" #N));       \
  T nx_lock_test_and_set_##N(volatile T *p, T v) __asm__(NX_ASM_NAME("__sync_lock_test_and_set_" #N)); \
  void nx_lock_release_##N(volatile T *p) __asm__(NX_ASM_NAME("__sync_lock_release_" #N));

NX_SYNC_DECLARE(1, uint8_t)
NX_SYNC_DECLARE(2, uint16_t)
NX_SYNC_DECLARE(4, uint32_t)

/** Full memory barrier (__sync_synchronize). */
void nx_synchronize(void) __asm__(NX_ASM_NAME("__sync_synchronize"));

/** log2 of the number of locks in the table (10: 1024 locks, as compiler-rt). */
#ifndef NEXTRUST_LOCK_BITS
#define NEXTRUST_LOCK_BITS 10
#endif
#define NEXTRUST_LOCK_COUNT (1u << NEXTRUST_LOCK_BITS)

/**
 * Index of the lock guarding address p, in [0, NEXTRUST_LOCK_COUNT).
 * Exported for tests and benchmarks of the hash's spread.
 */
unsigned nx_lock_index(const volatile void *p);

#endif
