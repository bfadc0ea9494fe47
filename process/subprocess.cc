#include "process/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "process/spawn_setup.h"

extern char** environ;

namespace slabfuzz {
namespace {

using Clock = std::chrono::steady_clock;

int millisecondsUntil(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool isExecutableFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string ProgramRun::describe() const {
  switch (status) {
    case Status::Exited: return "exit code " + std::to_string(code);
    case Status::Signaled:
      return "killed by signal " + std::to_string(code) + " (" + strsignal(code) + ")";
    case Status::TimedOut: return "killed at the time limit";
    case Status::Missing: return "program not found";
    case Status::SpawnFailed: return "could not be started: " + output;
  }
  return "?";
}

std::string findProgram(const std::string& name) {
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) return isExecutableFile(name) ? name : std::string();
  const char* env = std::getenv("PATH");
  std::string path = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = path.find(':', start);
    if (colon == std::string::npos) colon = path.size();
    std::string dir = path.substr(start, colon - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (isExecutableFile(candidate)) return candidate;
    start = colon + 1;
  }
  return {};
}

ProgramRun runProgram(const std::vector<std::string>& argv, const ProgramLimits& limits) {
  using Status = ProgramRun::Status;
  ProgramRun run;
  if (argv.empty()) {
    run.output = "no program given";
    return run;
  }
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(limits.timeout_ms);

  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    run.output = std::string("pipe: ") + std::strerror(errno);
    return run;
  }
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // dup2 clears close-on-exec on the copies: the child keeps these two only.
  posix_spawn_file_actions_adddup2(&setup.actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, out_pipe[1], STDERR_FILENO);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  std::vector<std::string> copy = argv;  // posix_spawn wants char*, not const char*
  for (std::string& a : copy) args.push_back(a.data());
  args.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, copy[0].c_str(), &setup.actions, &setup.attr, args.data(), environ);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    run.status = rc == ENOENT || rc == EACCES ? Status::Missing : Status::SpawnFailed;
    run.output = argv[0] + ": " + std::strerror(rc);
    return run;
  }

  // Read until end of output (the child exited or closed both streams) or
  // the deadline, whichever comes first.
  bool timed_out = false;
  char buf[16384];
  for (;;) {
    pollfd fd{out_pipe[0], POLLIN, 0};
    int n = poll(&fd, 1, millisecondsUntil(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      timed_out = n == 0;
      break;
    }
    ssize_t r = read(out_pipe[0], buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) break;
    size_t room = limits.max_output - std::min(limits.max_output, run.output.size());
    run.output.append(buf, std::min(room, static_cast<size_t>(r)));
  }
  close(out_pipe[0]);

  // Reap it. A child that closed its output but lingers is waited for up to
  // the same deadline, then killed.
  int status = 0;
  pid_t reaped = 0;
  while (!timed_out && (reaped = waitpid(pid, &status, WNOHANG)) == 0) {
    if (millisecondsUntil(deadline) == 0) {
      timed_out = true;
      break;
    }
    usleep(1000);
  }
  if (timed_out) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run.status = Status::TimedOut;
    return run;
  }
  if (reaped < 0) {
    run.output = std::string("waitpid: ") + std::strerror(errno);
    return run;  // SpawnFailed: we cannot tell what happened to it
  }
  if (WIFSIGNALED(status)) {
    run.status = Status::Signaled;
    run.code = WTERMSIG(status);
  } else {
    run.status = Status::Exited;
    run.code = WEXITSTATUS(status);
  }
  return run;
}

}  // namespace slabfuzz
