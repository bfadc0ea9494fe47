// Child processes of `slabfuzz campaign`; see process.h.
#include "tools/campaign/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace slabfuzz::cli::campaign {
namespace {

using Clock = std::chrono::steady_clock;

ChildEnd endOf(int status) {
  ChildEnd e;
  if (WIFEXITED(status)) {
    e.exited = true;
    e.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.code = WTERMSIG(status);
  }
  return e;
}

}  // namespace

void signalChildrenOf(pid_t pid, int sig) {
  DIR* proc = ::opendir("/proc");
  if (!proc) return;
  while (dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    long child = std::strtol(e->d_name, &end, 10);
    if (*end || child <= 0) continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", child);
    FILE* f = std::fopen(path, "r");
    if (!f) continue;
    char buf[512];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
    const char* close = std::strrchr(buf, ')');
    char state = 0;
    long ppid = 0;
    if (close && std::sscanf(close + 1, " %c %ld", &state, &ppid) == 2 && ppid == pid)
      ::kill(static_cast<pid_t>(child), sig);
  }
  ::closedir(proc);
}

std::string ChildEnd::describe() const {
  std::string s = exited ? fmt::format("exit code {}", code)
                         : fmt::format("killed by signal {} ({})", code, strsignal(code));
  if (timed_out) s += ", stopped at its time limit";
  return s;
}

pid_t spawnChild(const SpawnSpec& spec, std::string* error, const ExtraEnv& env) {
  if (spec.argv.empty()) {
    *error = "nothing to run";
    return -1;
  }
  const std::string log = spec.log.empty() ? "/dev/null" : spec.log;
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = fmt::format("{}: {}", log, std::strerror(errno));
    return -1;
  }
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    *error = fmt::format("fork: {}", std::strerror(errno));
    ::close(fd);
    return -1;
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec, bar setenv, which
    // is safe here because the campaign runs no other threads.
    int in = ::open("/dev/null", O_RDONLY);
    if (in >= 0) ::dup2(in, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) {
      dprintf(2, "slabfuzz campaign: cannot enter %s: %s\n", spec.cwd.c_str(), std::strerror(errno));
      _exit(127);
    }
    if (spec.fault) {
      ::setenv("SLABFUZZ_FAULT", spec.fault->c_str(), 1);
    } else {
      ::unsetenv("SLABFUZZ_FAULT");
    }
    for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
    // A shell starts a background job with SIGINT ignored, and exec keeps
    // an ignored signal ignored: the campaign stops its children with it.
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::execvp(argv[0], argv.data());
    dprintf(2, "slabfuzz campaign: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  ::close(fd);
  return pid;
}

std::optional<ChildEnd> pollChild(pid_t pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == pid) return endOf(status);
  if (r < 0 && errno == ECHILD) return ChildEnd{true, 0, false};  // already reaped
  return std::nullopt;
}

ChildEnd stopChild(pid_t pid, double grace_s) {
  ::kill(pid, SIGTERM);
  auto until = Clock::now() + std::chrono::duration<double>(grace_s);
  while (Clock::now() < until) {
    if (auto e = pollChild(pid)) {
      e->timed_out = true;
      return *e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ChildEnd e = endOf(status);
  e.timed_out = true;
  return e;
}

ChildEnd waitChild(pid_t pid, double timeout_s) {
  auto until = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (Clock::now() < until) {
    if (auto e = pollChild(pid)) return *e;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return stopChild(pid, 5);
}

ChildEnd runStep(const SpawnSpec& spec, double timeout_s, std::string* error) {
  pid_t pid = spawnChild(spec, error);
  if (pid < 0) return ChildEnd{true, 127, false};
  return waitChild(pid, timeout_s);
}

}  // namespace slabfuzz::cli::campaign
