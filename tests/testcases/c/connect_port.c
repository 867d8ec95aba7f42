/* Tries to connect to a host loopback port (argv[1]): the sandbox's loopback is its own. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "report.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return report_errno("connect 127.0.0.1", connect(fd, (struct sockaddr*)&addr, sizeof addr),
                      ECONNREFUSED);
}
