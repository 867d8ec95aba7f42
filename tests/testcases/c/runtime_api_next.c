/* Sends GET /2018-06-01/runtime/invocation/next to AWS_LAMBDA_RUNTIME_API and prints the
 * first line of the answer. */
#include <unistd.h>

#include "report.h"
#include "runtime_api_connect.h"

int main(void) {
  const int fd = runtime_api_connect();
  if (fd < 0) return report_errno("connect", -1, 0);
  const char request[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";
  if (write(fd, request, sizeof request - 1) < 0) return 2;
  char answer[256] = {0};
  const ssize_t n = read(fd, answer, sizeof answer - 1);
  if (n <= 0) return 2;
  char* end = strchr(answer, '\r');
  if (end != NULL) *end = '\0';
  printf("answer: %s\n", answer);
  return 0;
}
