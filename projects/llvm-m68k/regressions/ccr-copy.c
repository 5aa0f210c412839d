/* Regression: a register copy placed between a compare and its branch must not
 * change the condition codes (llvm/llvm-project#152816, #213564). Selects and
 * loops whose PHI copies land between the compare and the branch. Expected
 * output: the same program on the build host. */
#include <stdio.h>
__attribute__((noinline)) int pick(int a, int b, int c) { return a == 5 ? b : c; }
__attribute__((noinline)) unsigned count_eq(const unsigned char *p, unsigned n, unsigned char v) {
  unsigned k = 0;
  for (unsigned i = 0; i < n; i++) if (p[i] == v) k++;
  return k;
}
__attribute__((noinline)) long long pick64(long long a, long long b, long long c) { return a < b ? c : a + b; }
__attribute__((noinline)) unsigned clamp(unsigned x, unsigned lo, unsigned hi) { return x < lo ? lo : x > hi ? hi : x; }
int main(void) {
  unsigned char buf[64];
  for (int i = 0; i < 64; i++) buf[i] = (unsigned char)(i * 7 % 5);
  printf("pick %d %d\n", pick(5, 10, 20), pick(6, 10, 20));
  printf("count %u %u\n", count_eq(buf, 64, 0), count_eq(buf, 64, 3));
  printf("pick64 %lld %lld\n", pick64(1, 2, 30), pick64(5, 2, 30));
  unsigned s = 0;
  for (unsigned x = 0; x < 100; x++) s += clamp(x, 10, 50);
  printf("clamp %u\n", s);
  return 0;
}
