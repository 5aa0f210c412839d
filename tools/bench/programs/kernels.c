/* Compute kernels timed under qemu-m68k by tools/bench/backend.ts, built by
 * Debian's M68k backend and by the patched one. `kernels NAME [ROUNDS]` runs
 * one kernel (crc32, sort, matmul, histogram) ROUNDS times (default 40) and
 * prints its checksum, so a miscompile shows as a different line (such a pair
 * is not timed; see the benchmark). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static unsigned char buf[6144];
static int v[400], a[400], b[400], c[400];

static unsigned crc32(int round) {
  unsigned c = 0xffffffffu ^ (unsigned)round;
  for (unsigned i = 0; i < sizeof buf; i++) {
    c ^= buf[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

static unsigned sort(int round) {
  for (int i = 0; i < 400; i++) v[i] = (int)((i * 7919u + (unsigned)round * 104729u) % 1000u) - 500;
  for (int i = 1; i < 400; i++) {
    int x = v[i], j = i - 1;
    while (j >= 0 && v[j] > x) {
      v[j + 1] = v[j];
      j--;
    }
    v[j + 1] = x;
  }
  return (unsigned)v[0] + (unsigned)v[399] * 3u + (unsigned)v[200];
}

static unsigned matmul(int round) {
  for (int i = 0; i < 400; i++) {
    a[i] = i % 17 - 8 + round;
    b[i] = i % 13 - 6;
  }
  unsigned s = 0;
  for (int i = 0; i < 20; i++)
    for (int j = 0; j < 20; j++) {
      int t = 0;
      for (int k = 0; k < 20; k++) t += a[i * 20 + k] * b[k * 20 + j];
      c[i * 20 + j] = t;
      s += (unsigned)t;
    }
  return s;
}

static unsigned histogram(int round) {
  unsigned hist[16] = {0};
  for (unsigned i = 0; i < sizeof buf; i++) hist[((buf[i] + (unsigned)round) & 0xffu) >> 4]++;
  unsigned s = 0;
  for (int i = 0; i < 16; i++) s = s * 31u + hist[i];
  return s;
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "crc32";
  const int rounds = argc > 2 ? atoi(argv[2]) : 40;
  for (unsigned i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 131u + (i >> 7));
  unsigned sum = 0;
  for (int round = 0; round < rounds; round++) {
    if (!strcmp(name, "crc32")) sum += crc32(round);
    else if (!strcmp(name, "sort")) sum += sort(round);
    else if (!strcmp(name, "matmul")) sum += matmul(round);
    else if (!strcmp(name, "histogram")) sum += histogram(round);
    else {
      fprintf(stderr, "kernels: unknown kernel '%s' (crc32, sort, matmul, histogram)\n", name);
      return 2;
    }
  }
  printf("%s %u\n", name, sum);
  return 0;
}
