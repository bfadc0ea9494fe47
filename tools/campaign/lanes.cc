// The campaign's lanes; see lanes.h.
#include "tools/campaign/lanes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tools/campaign/fuzzer_output.h"
#include "tools/campaign/process.h"
#include "tools/crash_guard.h"

namespace slabfuzz::cli::campaign {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string tailOf(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::streamoff size = in.tellg();
  if (size <= 0) return {};
  std::streamoff from = size > static_cast<std::streamoff>(max) ? size - static_cast<std::streamoff>(max) : 0;
  in.seekg(from);
  std::string s(static_cast<size_t>(size - from), '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  return s;
}

void readLines(LaneProcess& l, std::vector<LaneEvent>& events) {
  std::ifstream in(l.log, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(l.log_offset));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  l.log_offset += chunk.size();
  l.partial += chunk;
  size_t start = 0;
  for (size_t nl; (nl = l.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(l.partial.data() + start, nl - start);
    if (!line.starts_with("lane: ")) continue;
    line.remove_prefix(6);
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    std::string_view what = line.substr(0, sp);
    json j = json::parse(line.substr(sp + 1), nullptr, false);
    if (!j.is_object()) continue;
    if (what == "status") {
      auto n = [&](const char* k) { return j.value(k, uint64_t{0}); };
      l.now = {n("inputs"),         n("agree"),    n("agree_up_to_limit"), n("not_comparable"),
               n("rejected"),       n("findings"), n("divergences")};
      if (j.contains("not_comparable_why") && j["not_comparable_why"].is_array())
        for (const json& w : j["not_comparable_why"])
          if (w.is_string() && l.not_comparable_why.size() < 16) l.not_comparable_why.insert(w.get<std::string>());
    } else if (what == "finding" || what == "divergence") {
      LaneEvent e{j.value("bucket", std::string("?")), j.value("kind", std::string("?")),
                  j.value("bundle", l.log), std::nullopt};
      if (j.contains("fault_triggered") && j["fault_triggered"].is_boolean())
        e.fault_triggered = j["fault_triggered"].get<bool>();
      (what == "finding" ? events : l.divergence_events).push_back(std::move(e));
    } else if (what == "crash-filed") {
      ++l.crash_files;
    }
  }
  l.partial.erase(0, start);
}

}  // namespace

bool startLane(LaneProcess& l, const std::string& self, const std::string& fault,
               const fs::path& crashes, double seconds_left) {
  if (!l.stopped.empty() || seconds_left < 3) return false;
  std::vector<std::string> argv = {self};
  if (!fault.empty()) {
    argv.push_back("--fault");
    argv.push_back(fault);
  }
  for (std::string a : {std::string("lane"), l.kind, std::string("--state"), (l.dir / "state").string(),
                        std::string("--findings"), l.findings().string(), std::string("--divergences"),
                        l.divergences().string(), std::string("--crashes"),
                        crashes.string(), std::string("--time"),
                        fmt::format("{}", static_cast<uint64_t>(seconds_left))})
    argv.push_back(std::move(a));
  argv.insert(argv.end(), l.argv_tail.begin(), l.argv_tail.end());
  {
    std::ofstream head(l.log, std::ios::app);
    head << "# " << fmt::format("{}", fmt::join(argv, " ")) << "\n";
  }
  l.before += l.now;
  l.now = {};
  ++l.starts;
  std::string err;
  std::optional<std::string> f;
  if (!fault.empty()) f = fault;
  l.pid = spawnChild({argv, "", l.log, f}, &err);
  if (l.pid < 0) {
    l.stopped = "could not start: " + err;
    return false;
  }
  return true;
}

// DIR/lanes/<kind>/deaths/<target>/crash-death-<n>: the input the lane was
// running when it died, or nothing when it left none. Outside crashes/, so
// triage does not count it twice; named as a crash input, in a directory
// named after its target, so that `slabfuzz triage` can replay it.
std::optional<std::string> keepDeathInput(const LaneProcess& l, pid_t dead) {
  std::error_code ec;
  const fs::path state = l.dir / "state";
  std::string target;
  std::getline(std::ifstream(state / "inflight.target"), target);
  if (target.empty() || target.find('/') != std::string::npos || !fs::exists(state / "inflight.bin", ec))
    return std::nullopt;
  const fs::path dir = l.dir / "deaths" / target;
  fs::create_directories(dir, ec);
  // Named by the dead process: never the name of an earlier death's copy.
  const fs::path copy = dir / fmt::format("crash-death-{}-{}", dead, l.deaths);
  if (ec || !fs::copy_file(state / "inflight.bin", copy, fs::copy_options::none, ec)) return std::nullopt;
  return copy.string();
}

std::vector<LaneEvent> pumpLane(LaneProcess& l, const std::string& self, const std::string& fault,
                                const fs::path& crashes, double seconds_left, bool restart) {
  std::vector<LaneEvent> events;
  if (l.pid <= 0) return events;
  readLines(l, events);
  std::optional<ChildEnd> end = pollChild(l.pid);
  if (!end) return events;
  const pid_t dead = l.pid;
  l.pid = -1;
  readLines(l, events);
  if (end->exited && end->code == 0) return events;  // its time was up
  if (end->exited && end->code == 2) {
    l.stopped = fmt::format("it ended with a set-up error; log {}", l.log);
    return events;
  }
  // The runtime under test took the lane down: a finding. The next start
  // files the input it was running into crashes/ (lane_cmd.cc, inflight);
  // a copy is kept now as the death's own input, so that it can be
  // replayed even if the lane never starts again.
  ++l.deaths;
  int status = end->exited ? (end->code << 8) : end->code;
  const std::string tail = tailOf(l.log, 16384);
  std::string kind = "sanitizer:" + crashKind(tail, status);
  l.last_death = fmt::format("{} ({})", kind, end->describe());
  events.push_back({kind, kind, keepDeathInput(l, dead).value_or(l.log), faultTriggeredInOutput(tail)});
  if (l.deaths > static_cast<uint64_t>(kMaxLaneRestarts)) {
    l.stopped = fmt::format("it died {} times (last: {}); log {}", l.deaths, l.last_death, l.log);
  } else if (restart) {
    startLane(l, self, fault, crashes, seconds_left);
  }
  return events;
}

std::vector<LaneEvent> stopLane(LaneProcess& l) {
  std::vector<LaneEvent> events;
  if (l.pid <= 0) return events;
  ChildEnd end = stopChild(l.pid, 5);
  l.pid = -1;
  readLines(l, events);
  // Killed by us in the middle of an input: that input did not crash it,
  // so the next start must not file it as a crash.
  if (!end.exited) {
    std::error_code ec;
    fs::remove(l.dir / "state" / "inflight.bin", ec);
    fs::remove(l.dir / "state" / "inflight.target", ec);
  }
  return events;
}

}  // namespace slabfuzz::cli::campaign
