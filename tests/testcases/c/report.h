/* Every testcase prints one line "name: what: result" and exits 0 when the sandbox held
 * (the attempt failed for the expected reason), 1 when the attempt succeeded, 2 otherwise. */
#ifndef EMBER_TESTCASE_REPORT_H
#define EMBER_TESTCASE_REPORT_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int report_errno(const char* what, long rc, int expected_errno) {
  const int err = rc < 0 ? errno : 0;
  printf("%s: %s errno=%d (%s)\n", what, rc < 0 ? "failed" : "succeeded", err,
         rc < 0 ? strerror(err) : "-");
  fflush(stdout);
  if (rc >= 0) return 1;
  return err == expected_errno ? 0 : 2;
}

#endif
