// A child process for the runtime under test; see crash_guard.h.
#include "tools/crash_guard.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace slabfuzz::cli {

std::string crashKind(const std::string& err, int status) {
  size_t at = err.rfind("SUMMARY: ");
  if (at != std::string::npos) {
    size_t end = err.find('\n', at);
    std::string line = err.substr(at + 9, end == std::string::npos ? std::string::npos : end - at - 9);
    size_t colon = line.find(": ");
    if (colon != std::string::npos) {
      std::string rest = line.substr(colon + 2);
      return rest.substr(0, rest.find(' '));
    }
  }
  if (WIFSIGNALED(status)) return fmt::format("signal-{}", WTERMSIG(status));
  return fmt::format("exit-{}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

CrashReport runGuarded(const std::function<void()>& f) {
  CrashReport r;
  int err_pipe[2];
  if (pipe(err_pipe) != 0) {
    r.crashed = true;
    r.kind = "pipe-failed";
    r.report = std::strerror(errno);
    return r;
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(err_pipe[0]);
    close(err_pipe[1]);
    r.crashed = true;
    r.kind = "fork-failed";
    r.report = std::strerror(errno);
    return r;
  }
  if (pid == 0) {
    close(err_pipe[0]);
    dup2(err_pipe[1], 2);
    close(err_pipe[1]);
    f();
    std::fflush(nullptr);
    _exit(0);
  }
  close(err_pipe[1]);
  std::string err;
  char buf[4096];
  for (ssize_t n; (n = read(err_pipe[0], buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    err.append(buf, static_cast<size_t>(n));
    // Keep the tail: the SUMMARY line comes last.
    if (err.size() > (1u << 20)) err.erase(0, err.size() - (1u << 19));
  }
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return r;
  r.crashed = true;
  r.kind = crashKind(err, status);
  r.report = err.size() > 4000 ? err.substr(err.size() - 4000) : err;
  return r;
}

}  // namespace slabfuzz::cli
