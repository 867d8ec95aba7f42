/* The bench's no-op runtime after allocating and touching EMBER_HOLD_MB MiB at init, for the
 * memory mode's test: a worker of this runtime must weigh that much more than one of the
 * plain no-op runtime. The no-op runtime's source is included as it is, its main renamed. */
#include <stdlib.h>
#include <string.h>

int noop_main(void);
#define main noop_main
#include "bootstrap.c"
#undef main

static char* volatile held; /* volatile: the allocation must not be optimised away */

int main(void) {
  const size_t bytes = (size_t)EMBER_HOLD_MB << 20;
  held = malloc(bytes);
  if (held == NULL) return 1;
  memset(held, 0x5a, bytes); /* touched, so it is resident and charged */
  return noop_main();
}
