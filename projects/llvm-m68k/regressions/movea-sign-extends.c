/* Regression: a 32-bit constant loaded into an address register with
 * `movea.w #imm,%an` must fit in a signed 16-bit immediate, because movea.w
 * sign-extends: 0xFEBE became 0xFFFFFEBE. A static function gets LLVM's fastcc
 * convention, which passes the third argument in %a0, so the constants below
 * reach `pick` through an address register. Found by differential testing
 * with csmith (Debian's gcc as the oracle). */
#include <stdio.h>

static __attribute__((noinline)) unsigned pick(unsigned a, unsigned b, unsigned c) { return a + b + c; }

int main(int argc, char **argv) {
  (void)argv;
  printf("%x\n", pick(argc, argc, 0xFEBE));
  printf("%x\n", pick(argc, argc, 0x8000));
  printf("%x\n", pick(argc, argc, 0xFFFF));
  printf("%x\n", pick(argc, argc, 0x7FFF));
  printf("%x\n", pick(argc, argc, 0x10));
  printf("%x\n", pick(argc, argc, -2));
  printf("%x\n", pick(argc, argc, 0xFFFF8000u));
  return 0;
}
