/* A no-op custom runtime for `ember bench`: the floor of what a runtime can cost.
 *
 * One keep-alive connection to AWS_LAMBDA_RUNTIME_API (numeric host:port, no DNS), then
 * forever: GET next, read the event, POST a small JSON answer ({"ok":true}, or
 * EMBER_NOOP_ANSWER's text: `ember bench http` makes it a response document). EMBER_NOOP_INIT_MS
 * makes its init (before the connection) sleep that long: a runtime whose Init Duration is known,
 * to check what the REPORT line says of it. Raw sockets and a
 * static link, so the same binary runs under ember, under a plain posix_spawn and inside a runc
 * container with an empty rootfs. Any error ends the process (status 1): ember then reports
 * Runtime.ExitError, and the baselines simply close the connection to stop it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime_api_connect.h"

enum { kBufSize = 1 << 20 };

static char buf[kBufSize + 1]; /* one more for the terminating NUL */
static size_t have;            /* bytes in buf */

static void die(void) { _exit(1); }

static void send_all(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n <= 0) die();
    data += n;
    len -= (size_t)n;
  }
}

static void fill(int fd) {
  if (have == kBufSize) die();
  ssize_t n = recv(fd, buf + have, kBufSize - have, 0);
  if (n <= 0) die();
  have += (size_t)n;
}

/* Finds `name` (with its colon) in the header block; copies its value into out. */
static int header(const char* head, const char* name, char* out, size_t out_size) {
  size_t name_len = strlen(name);
  for (const char* line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
    const char* start = line + 2;
    if (strncasecmp(start, name, name_len) != 0 || start[name_len] != ':') continue;
    start += name_len + 1;
    while (*start == ' ') ++start;
    const char* end = strstr(start, "\r\n");
    size_t len = end != NULL ? (size_t)(end - start) : strlen(start);
    if (len >= out_size) return 0;
    memcpy(out, start, len);
    out[len] = '\0';
    return 1;
  }
  return 0;
}

/* Reads one response: head and Content-Length body. Leaves the request id in `id` (if any). */
static void read_response(int fd, char* id, size_t id_size) {
  char* end;
  buf[have] = '\0';
  while ((end = strstr(buf, "\r\n\r\n")) == NULL) {
    fill(fd);
    buf[have] = '\0';
  }
  size_t head_len = (size_t)(end - buf) + 4;
  end[2] = '\0'; /* the head, ending after its last header's \r\n */
  char value[64];
  size_t body_len =
      header(buf, "Content-Length", value, sizeof value) ? strtoul(value, NULL, 10) : 0;
  if (id != NULL && !header(buf, "Lambda-Runtime-Aws-Request-Id", id, id_size)) die();
  if (head_len + body_len > kBufSize - 1) die();
  while (have < head_len + body_len) fill(fd);
  /* Keep whatever came after this response (nothing, in practice). */
  memmove(buf, buf + head_len + body_len, have - head_len - body_len);
  have -= head_len + body_len;
}

/* Sleeps EMBER_NOOP_INIT_MS milliseconds (0 to 60000), if set. */
static void init_sleep(void) {
  const char* text = getenv("EMBER_NOOP_INIT_MS");
  if (text == NULL) return;
  const long ms = strtol(text, NULL, 10);
  if (ms <= 0 || ms > 60000) return;
  struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&left, &left) != 0) {
  }
}

int main(void) {
  init_sleep();
  const int fd = runtime_api_connect();
  if (fd < 0) die();

  static const char next[] =
      "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n";
  const char* answer = getenv("EMBER_NOOP_ANSWER");
  if (answer == NULL || strlen(answer) > 1024) answer = "{\"ok\":true}";
  char id[128];
  char request[2048];
  for (;;) {
    send_all(fd, next, sizeof next - 1);
    read_response(fd, id, sizeof id);
    int len = snprintf(request, sizeof request,
                       "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\n"
                       "Host: runtime\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       id, strlen(answer), answer);
    if (len <= 0 || (size_t)len >= sizeof request) die();
    send_all(fd, request, (size_t)len);
    read_response(fd, NULL, 0);
  }
}
