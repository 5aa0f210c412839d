/* Regression: an any-extending 16-bit (or 8-bit) load must not be selected as
 * a 32-bit (or 16-bit) load at the same address. On the big-endian 68k the
 * narrow value is then in the high half of the register. The load patterns
 * allowed it for aligned volatile and atomic loads: reading the volatile
 * bit-field b below (a 24-bit load, split into 16 + 8 bits) printed 10749
 * instead of 16381. Found by differential testing with csmith (Debian's gcc
 * as the oracle). */
#include <stdio.h>

struct S {
  int a : 10;
  volatile unsigned b : 14;
  unsigned c : 5;
  unsigned d : 8;
};
struct S s __attribute__((aligned(4))) = {54, 16381, 13, 36};

struct T {
  unsigned char tag;
  volatile unsigned short w : 12;
  unsigned char rest;
};
struct T t __attribute__((aligned(4))) = {7, 0xABC, 9};

int main(void) {
  printf("s.b %u\n", s.b);
  s.b = 12345;
  printf("s.b %u, s.a %d, s.c %u, s.d %u\n", s.b, s.a, s.c, s.d);
  printf("t.w %x, t.tag %u, t.rest %u\n", t.w, t.tag, t.rest);
  return 0;
}
