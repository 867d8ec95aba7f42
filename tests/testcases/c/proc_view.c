/* What the sandbox's /proc shows of the host. `proc_view hidden PATH...`: each PATH reads
 * as empty (a file) or lists nothing (a directory); `proc_view read-only PATH...`: each PATH
 * is on a read-only mount. Exit 0 when every PATH is so, 1 when one is not, 2 on a failure. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int hidden(const char* path) {
  struct stat st;
  if (stat(path, &st) < 0) return 0; /* absent on this kernel: nothing shows */
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = opendir(path);
    if (dir == NULL) return 2;
    int entries = 0;
    for (struct dirent* e; (e = readdir(dir)) != NULL;) {
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) ++entries;
    }
    closedir(dir);
    printf("%s: %d entries\n", path, entries);
    return entries == 0 ? 0 : 1;
  }
  const int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("%s: cannot open\n", path);
    return 1; /* masked files open (they are /dev/null) and read nothing */
  }
  char byte;
  const ssize_t n = read(fd, &byte, 1);
  close(fd);
  printf("%s: %s\n", path, n == 0 ? "empty" : "shows content");
  return n == 0 ? 0 : 1;
}

static int read_only(const char* path) {
  struct statvfs fs;
  if (statvfs(path, &fs) < 0) return 0; /* absent on this kernel */
  printf("%s: %s\n", path, (fs.f_flag & ST_RDONLY) ? "read-only" : "writable");
  return (fs.f_flag & ST_RDONLY) ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  int worst = 0;
  for (int i = 2; i < argc; ++i) {
    const int r = strcmp(argv[1], "hidden") == 0 ? hidden(argv[i]) : read_only(argv[i]);
    if (r > worst) worst = r;
  }
  fflush(stdout);
  return worst;
}
