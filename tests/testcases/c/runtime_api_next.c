/* Sends GET /2018-06-01/runtime/invocation/next to AWS_LAMBDA_RUNTIME_API and prints the
 * first line of the answer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "report.h"

int main(void) {
  const char* api = getenv("AWS_LAMBDA_RUNTIME_API");
  if (api == NULL) return 2;
  char host[64];
  const char* colon = strchr(api, ':');
  if (colon == NULL || (size_t)(colon - api) >= sizeof host) return 2;
  memcpy(host, api, (size_t)(colon - api));
  host[colon - api] = '\0';
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(colon + 1));
  inet_pton(AF_INET, host, &addr.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) < 0) return report_errno("connect", -1, 0);
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
