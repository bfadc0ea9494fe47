#include "process/node_worker.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "process/spawn_setup.h"

extern char** environ;

namespace slabfuzz {
namespace {

std::string describeStatus(int status) {
  if (status < 0) return "still running";
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "status " + std::to_string(status);
}

// write(2) to the worker's stdin. A worker that has died must show up as
// EPIPE, not as a SIGPIPE that kills us; the signal is blocked for this
// thread during the write and a SIGPIPE it raised is consumed, so the
// process's own disposition (which decides what `spec_run | head`
// does) is left alone.
ssize_t writeWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t written = write(fd, data, size);
  int saved_errno = errno;
  if (written < 0 && saved_errno == EPIPE) {
    timespec no_wait{0, 0};
    sigtimedwait(&pipe_set, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved_errno;
  return written;
}

void closeFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

Result<std::unique_ptr<NodeWorker>, WorkerError> NodeWorker::start(WorkerOptions options) {
  using Kind = WorkerError::Kind;
  if (options.argv.empty()) return WorkerError{Kind::SpawnFailed, "no program given"};
  const std::string& program = options.argv[0];
  // A path is checked up front so that "node is not installed" is told apart
  // from "node failed": the first is a reason to skip, the second a failure.
  if (program.find('/') != std::string::npos && access(program.c_str(), X_OK) != 0) {
    return WorkerError{Kind::ProgramMissing,
                       "no executable at " + program + " (" + std::strerror(errno) + ")"};
  }

  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) {
    return WorkerError{Kind::SpawnFailed, std::string("pipe: ") + std::strerror(errno)};
  }
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    close(in_pipe[0]);
    close(in_pipe[1]);
    return WorkerError{Kind::SpawnFailed, std::string("pipe: ") + std::strerror(e)};
  }

  SpawnSetup setup;
  // dup2 clears close-on-exec on the copies, so the child keeps exactly
  // stdin and stdout from these pipes and none of our other descriptors.
  posix_spawn_file_actions_adddup2(&setup.actions, in_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, out_pipe[1], STDOUT_FILENO);
  if (!options.stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&setup.actions, STDERR_FILENO, options.stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  // Whatever our SIGPIPE disposition, the child starts with the default.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (std::string& a : options.argv) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, program.c_str(), &setup.actions, &setup.attr, argv.data(), environ);
  close(in_pipe[0]);
  close(out_pipe[1]);
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    Kind kind = rc == ENOENT ? Kind::ProgramMissing : Kind::SpawnFailed;
    return WorkerError{kind, "cannot start " + program + ": " + std::strerror(rc)};
  }

  std::unique_ptr<NodeWorker> worker(new NodeWorker());
  worker->options_ = std::move(options);
  worker->pid_ = pid;
  worker->to_child_ = in_pipe[1];
  worker->from_child_ = out_pipe[0];
  // Writes must never block: callMany interleaves them with reads.
  fcntl(worker->to_child_, F_SETFL, fcntl(worker->to_child_, F_GETFL) | O_NONBLOCK);
  return worker;
}

NodeWorker::~NodeWorker() {
  shutdown(false);
}

void NodeWorker::shutdown(bool kill_now) {
  closeFd(to_child_);  // end of input: the worker's cue to exit
  if (pid_ > 0) {
    if (kill_now) kill(pid_, SIGKILL);
    // Give it a second to exit by itself, then insist.
    int status = 0;
    pid_t r = 0;
    for (int waited_ms = 0; (r = waitpid(pid_, &status, WNOHANG)) == 0; waited_ms += 10) {
      if (waited_ms >= 1000) {
        kill(pid_, SIGKILL);
        r = waitpid(pid_, &status, 0);
        break;
      }
      usleep(10'000);
    }
    if (r == pid_) exit_status_ = status;
    pid_ = -1;
  }
  closeFd(from_child_);
}

std::string NodeWorker::stderrTail() const {
  if (options_.stderr_path.empty()) return {};
  std::ifstream in(options_.stderr_path, std::ios::binary);
  if (!in) return {};
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  constexpr size_t kTail = 2000;
  if (text.size() > kTail) text = "..." + text.substr(text.size() - kTail);
  return text;
}

WorkerError NodeWorker::broken(WorkerError::Kind kind, std::string message) {
  bool kill_now = kind != WorkerError::Kind::Exited;
  shutdown(kill_now);
  if (kind == WorkerError::Kind::Exited) message += " (" + describeStatus(exit_status_) + ")";
  std::string tail = stderrTail();
  if (!tail.empty()) message += "; its stderr (" + options_.stderr_path + ") ends with:\n" + tail;
  return WorkerError{kind, std::move(message)};
}

Result<NodeWorker::json, WorkerError> NodeWorker::call(json request) {
  std::vector<json> one;
  one.push_back(std::move(request));
  auto responses = callMany(std::move(one));
  if (!responses.ok()) return responses.error();
  return std::move(responses.value()[0]);
}

Result<std::vector<NodeWorker::json>, WorkerError> NodeWorker::callMany(
    std::vector<json> requests) {
  using Kind = WorkerError::Kind;
  if (!alive()) return WorkerError{Kind::Exited, "the worker is not running (it failed earlier)"};

  // Number the requests and serialise them all. Non-ASCII is escaped, so a
  // line can hold no byte that any reader might take for a line break
  // (U+2028 and U+2029 are, to some); invalid UTF-8 in a string is replaced
  // rather than thrown on (callers that care check it first).
  std::unordered_map<uint64_t, size_t> index_of_id;
  std::string out;
  for (size_t i = 0; i < requests.size(); ++i) {
    uint64_t id = next_id_++;
    requests[i]["id"] = id;
    index_of_id.emplace(id, i);
    out += requests[i].dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
    out += '\n';
  }

  std::vector<json> responses(requests.size());
  size_t written = 0, received = 0;
  char buf[65536];
  while (received < requests.size()) {
    pollfd fds[2] = {{from_child_, POLLIN, 0}, {to_child_, POLLOUT, 0}};
    nfds_t nfds = written < out.size() ? 2 : 1;
    int n = poll(fds, nfds, options_.timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return broken(Kind::Exited, std::string("poll: ") + std::strerror(errno));
    }
    if (n == 0) {
      return broken(Kind::Timeout, "no response from the worker within " +
                                       std::to_string(options_.timeout_ms) + " ms (" +
                                       std::to_string(received) + " of " +
                                       std::to_string(requests.size()) + " answered)");
    }
    if (nfds == 2 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = writeWithoutSigpipe(to_child_, out.data() + written, out.size() - written);
      if (w > 0) {
        written += static_cast<size_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        return broken(Kind::Exited, "the worker stopped reading its input");
      }
    }
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
      ssize_t r = read(from_child_, buf, sizeof buf);
      if (r < 0 && errno != EAGAIN && errno != EINTR) {
        return broken(Kind::Exited,
                      std::string("reading from the worker: ") + std::strerror(errno));
      }
      if (r == 0) {
        return broken(Kind::Exited, "the worker exited with " +
                                        std::to_string(requests.size() - received) +
                                        " responses outstanding");
      }
      if (r > 0) pending_.append(buf, static_cast<size_t>(r));
      size_t start = 0, newline;
      while ((newline = pending_.find('\n', start)) != std::string::npos) {
        std::string_view line(pending_.data() + start, newline - start);
        start = newline + 1;
        json response = json::parse(line, nullptr, /*allow_exceptions=*/false);
        auto id =
            response.is_object() && response.contains("id") && response["id"].is_number_unsigned()
                ? index_of_id.find(response["id"].get<uint64_t>())
                : index_of_id.end();
        if (id == index_of_id.end()) {
          return broken(Kind::Protocol,
                        "unexpected line from the worker: " + std::string(line.substr(0, 300)));
        }
        responses[id->second] = std::move(response);
        index_of_id.erase(id);
        ++received;
      }
      pending_.erase(0, start);
    }
  }
  return responses;
}

}  // namespace slabfuzz
