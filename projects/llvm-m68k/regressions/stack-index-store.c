#include <stdio.h>
/* Regression: a store into a local (stack) array at a variable index must keep
 * the index (llvm/llvm-project#200984). Expected output: the same program on
 * the build host. */
__attribute__((noinline)) unsigned fill(unsigned n, unsigned seed) {
  unsigned char buf[32];
  for (unsigned i = 0; i < 32; i++) buf[i] = 0;
  for (unsigned i = 0; i < n; i++) buf[(i * seed) & 31] = (unsigned char)(i + 1);
  unsigned s = 0;
  for (unsigned i = 0; i < 32; i++) s = s * 31 + buf[i];
  return s;
}
__attribute__((noinline)) int digits(unsigned v, char *out) {
  char tmp[12];
  int n = 0;
  do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  out[n] = 0;
  return n;
}
int main(void) {
  char s[16];
  printf("fill %u %u\n", fill(20, 7), fill(32, 3));
  digits(4294967295u, s); printf("digits %s\n", s);
  digits(1234509876u, s); printf("digits %s\n", s);
  return 0;
}
