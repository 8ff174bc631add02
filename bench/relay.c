/* The floor of one more process hop: a relay between an MCP client and a stdio server that copies
 * bytes both ways with read/write and parses nothing (bench/run.mjs builds it with cc -O2 when a C
 * compiler is there). Usage: relay COMMAND [ARGS...] */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int pump(int from, int to) {
  char buf[65536];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return -1;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w <= 0) return -1;
    off += w;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int in[2], out[2];
  if (pipe(in) || pipe(out)) return 1;
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]); close(in[1]); close(out[0]); close(out[1]);
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  struct pollfd fds[2] = {{0, POLLIN, 0}, {out[0], POLLIN, 0}};
  int open0 = 1;
  for (;;) {
    if (poll(fds, 2, -1) < 0) continue;
    if (open0 && (fds[0].revents & (POLLIN | POLLHUP))) {
      if (pump(0, in[1])) { close(in[1]); open0 = 0; fds[0].fd = -1; }
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      if (pump(out[0], 1)) break;
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
