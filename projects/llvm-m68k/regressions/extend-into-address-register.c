/* Driver of extend-into-address-register.ll: calls nextrust_relay, which passes
 * its arguments on to nextrust_sink; the sink reports whether the pointer
 * arrived intact. */
#include <stdio.h>

unsigned nextrust_relay(const char *p, unsigned len, short e);

static const char text[] = "Motorola 68040";
static const char *expected;

unsigned nextrust_sink(const char *p, unsigned len, short e, unsigned a, _Bool b, void *c, unsigned d) {
  printf("sink: pointer %s, len %u, e %d, rest %u %d %s %u\n", p == expected ? "intact" : "CHANGED", len, e, a, (int)b,
         c ? "non-null" : "null", d);
  return len * 10u + (unsigned short)e;
}

int main(void) {
  expected = text;
  printf("relay -> %u\n", nextrust_relay(expected, 14, -3));
  expected = text + 9;
  printf("relay -> %u\n", nextrust_relay(expected, 5, 12345));
  return 0;
}
