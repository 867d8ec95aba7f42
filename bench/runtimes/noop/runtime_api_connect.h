/* What a runtime written in C does first: connect to the Runtime API named by
 * AWS_LAMBDA_RUNTIME_API ("numeric-IPv4:port", no DNS). Shared by the bench's no-op runtime
 * and the sandbox tests' probe (tests/testcases/c/runtime_api_next.c). */
#ifndef EMBER_RUNTIME_API_CONNECT_H
#define EMBER_RUNTIME_API_CONNECT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A connected socket with TCP_NODELAY, or -1 with errno set (EINVAL: the variable is missing
 * or not host:port). */
static inline int runtime_api_connect(void) {
  const char* api = getenv("AWS_LAMBDA_RUNTIME_API");
  const char* colon = api != NULL ? strrchr(api, ':') : NULL;
  char host[64];
  if (colon == NULL || (size_t)(colon - api) >= sizeof host) {
    errno = EINVAL;
    return -1;
  }
  memcpy(host, api, (size_t)(colon - api));
  host[colon - api] = '\0';

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(colon + 1));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    errno = EINVAL;
    return -1;
  }
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    const int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

#endif
