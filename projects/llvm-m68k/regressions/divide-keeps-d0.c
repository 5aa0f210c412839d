/* Regression: 32-bit DIVU.L/DIVS.L must not write the remainder into %d0
 * (llvm/llvm-project#224186). The quotients land in registers other than
 * %d0 while %d0 holds a live value (the first result). Expected output: the
 * same program on the build host. */
#include <stdio.h>

__attribute__((noinline)) unsigned mix(unsigned a, unsigned b, unsigned c) {
  unsigned q = b / c;
  int s = (int)a / (int)(c + 1);
  return a + q * 3 + (unsigned)s;
}

__attribute__((noinline)) void quotients(const unsigned *n, const unsigned *d, unsigned *out, int len) {
  for (int i = 0; i < len; i++) out[i] = n[i] / d[i] + n[i] % d[i] * 1000;
}

int main(void) {
  static const unsigned n[6] = {4000000000u, 123456789u, 99u, 65536u, 7u, 4294967295u};
  static const unsigned d[6] = {3u, 1000u, 100u, 255u, 7u, 65537u};
  unsigned out[6];
  printf("mix %u %u %u\n", mix(1000u, 4000000000u, 7u), mix(5u, 81u, 9u), mix(2147483647u, 10u, 2u));
  quotients(n, d, out, 6);
  for (int i = 0; i < 6; i++) printf("q[%d] = %u\n", i, out[i]);
  return 0;
}
