/* Driver of call-sequence-load-fold.ll: each function stores one libcall's
 * result through its second pointer and returns another libcall's result on a
 * second load of the same memory. Floats are printed as their bits, so the
 * output is exact. The store target may alias the source (q == p): the second
 * load must then see the first result. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int64_t nextrust_div64_twice(const int64_t *p, int64_t *q);
float nextrust_fadd_twice(float *p, float *q);
int32_t nextrust_div32_twice(int32_t *p, int32_t *q);

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

int main(void) {
  static const int64_t longs[] = {INT64_C(123456789012345), INT64_C(-98765432109876), 7, INT64_C(0x7fffffffffffffff)};
  for (unsigned i = 0; i < sizeof longs / sizeof longs[0]; i++) {
    int64_t stored = 0;
    int64_t r = nextrust_div64_twice(&longs[i], &stored);
    printf("div64 %u: stored %" PRId64 " returned %" PRId64 "\n", i, stored, r);
  }
  static const float floats[] = {0.25f, -1.75f, 1e-3f, 6.5e7f};
  for (unsigned i = 0; i < sizeof floats / sizeof floats[0]; i++) {
    float x = floats[i], stored = 0;
    float r = nextrust_fadd_twice(&x, &stored);
    float y = floats[i];
    float aliased = nextrust_fadd_twice(&y, &y);
    printf("fadd %u: stored %08" PRIx32 " returned %08" PRIx32 " aliased %08" PRIx32 "\n", i, bits(stored), bits(r),
           bits(aliased));
  }
  static const int32_t ints[] = {1000003, -77777, 2147483647};
  for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    int32_t x = ints[i], stored = 0;
    int32_t r = nextrust_div32_twice(&x, &stored);
    int32_t y = ints[i];
    int32_t aliased = nextrust_div32_twice(&y, &y);
    printf("div32 %u: stored %" PRId32 " returned %" PRId32 " aliased %" PRId32 "\n", i, stored, r, aliased);
  }
  return 0;
}
