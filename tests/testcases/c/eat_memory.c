/* Touches memory in 8 MB steps until the kernel stops it (the memory cgroup OOM-kills it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each block escapes through here, so an optimiser (clang -O3) cannot elide the allocation
   and its memset as memory nobody reads. */
char* volatile last_block;

int main(void) {
  for (size_t mb = 8;; mb += 8) {
    char* p = malloc(8u << 20);
    if (p == NULL) {
      printf("malloc failed at %zu MB\n", mb);
      return 2;
    }
    memset(p, 1, 8u << 20);
    last_block = p;
    printf("%zu MB\n", mb);
    fflush(stdout);
  }
}
