// `slabfuzz hunt`: the deterministic detection loop of the fault zoo. With
// one fault active (--fault), it feeds a fixed stream of inputs (a function
// of --seed alone) through a lane until the harness reports a finding, and
// says after how many executions, with which signature, and whether the
// signature names the fault's class (heap/faults.def "expect").
// Lanes: gcgen (gcgen_diff's comparison of our configurations, then the
// same module against V8 and Binaryen), ttf (Binaryen translate-to-fuzz
// modules, the same two steps), both (alternating).
// Owns: the input stream, the loop, and running it in a child process so
// that a crash of the runtime under test (a sanitizer report, a signal) is
// a detection, not the end of the hunt. Does not own: judging (oracle/),
// generating (generators/) or the faults (heap/faults.h).
// Contract: the same seed, lane, fault and build give the same executions
// and the same verdicts (the clock only bounds --time). Exit 0 when
// detected, 1 when not within the budget, 2 on usage errors.
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fuzzers/targets.h"
#include "generators/binaryen/lane.h"
#include "generators/encode.h"
#include "heap/faults.h"
#include "oracle/engine.h"
#include "oracle/fuzz_check.h"
#include "tools/campaign/fuzzer_output.h"
#include "tools/commands.h"
#include "tools/crash_guard.h"
#include "tools/xcheck.h"

namespace slabfuzz::cli {
namespace {

using binaryen::BinaryenLane;
using binaryen::LaneBatch;
using binaryen::LaneOptions;
using binaryen::TtfJob;

struct HuntOptions {
  std::string lane = "gcgen";
  uint64_t seed = 1;
  uint64_t max_execs = 2000;
  double max_seconds = 0;
  std::string xcheck = "v8,binaryen";
  bool json = false;
  bool in_process = false;
};

// What the child tells the parent, in shared memory (a crash loses nothing
// written before it).
struct Shared {
  uint64_t started = 0;   // index of the execution in progress, plus one
  uint64_t finished = 0;  // executions completed
  uint64_t reached = 0;   // the active fault's canaries after the last one
  uint64_t triggered = 0;
  uint32_t result_len = 0;
  char result[1 << 16];
};

struct Detection {
  std::string by;  // "gcgen_diff", "gcgen xcheck", "ttf diff", "ttf xcheck", "crash"
  Signature signature;
  std::string kind_text;  // signature kind as text ("sanitizer:..." for crashes)
  std::string bucket;
  std::string detail;
};

class Hunter {
 public:
  explicit Hunter(const HuntOptions& o) : o_(o) {}

  // Sets up external engines and the Binaryen lane; the error says why not.
  std::optional<std::string> start() {
    auto x = CrossCheck::start(o_.xcheck);
    if (!x.ok()) return "--xcheck: " + x.error();
    xcheck_ = std::move(x).value();
    if (o_.lane != "gcgen") {
      auto lane = BinaryenLane::start(LaneOptions{});
      if (!lane.ok()) return "the Binaryen lane did not start: " + lane.error().message;
      lane_ = std::move(lane).value();
    }
    return std::nullopt;
  }

  bool ttfTurn(uint64_t i) const { return o_.lane == "ttf" || (o_.lane == "both" && i % 2 == 1); }

  // Runs execution i; a detection when the harness reports a finding.
  std::optional<Detection> step(uint64_t i) {
    std::vector<uint8_t> module_bytes, input_bytes;
    std::optional<TargetRun> run;
    const char* lane = ttfTurn(i) ? "ttf" : "gcgen";
    if (!ttfTurn(i)) {
      input_bytes = streamInput(o_.seed, i, 64, 4096);  // the run holds spans into it
      run = gcgenDiffRun(input_bytes);
    } else {
      TtfJob job{streamInput(o_.seed, i, 1000, 16000), false, true};
      LaneBatch b = lane_->translateToFuzz(std::span<const TtfJob>(&job, 1));
      if (b.results.empty() || !b.results[0].ok()) return std::nullopt;  // counted, nothing run
      module_bytes = b.results[0].value();
      run = wasmDiffRun(module_bytes);
      if (!run) return std::nullopt;
    }
    FuzzJudgement j = fuzzJudge(run->input, run->choice, run->options);
    if (j.verdict.kind == Verdict::Kind::Finding) {
      return detection(fmt::format("{} diff", lane), j.verdict);
    }
    if (xcheck_.empty() || j.verdict.kind == Verdict::Kind::Rejected ||
        j.verdict.kind == Verdict::Kind::NotComparable)
      return std::nullopt;
    if (module_bytes.empty()) module_bytes = encodeModule(*run->input.module);
    auto input = decodeInput(module_bytes);
    if (!input.ok()) return std::nullopt;
    CrossCheckResult x = xcheck_.check(input.value());
    if (x.kind == CrossCheckResult::Kind::Finding)
      return detection(fmt::format("{} xcheck", lane), x.outcome.verdict);
    return std::nullopt;
  }

 private:
  static Detection detection(std::string by, const Verdict& v) {
    Detection d;
    d.by = std::move(by);
    d.signature = v.signature;
    d.kind_text = v.signature.kindText();
    d.bucket = v.signature.bucket();
    d.detail = v.detail;
    return d;
  }

  const HuntOptions& o_;
  CrossCheck xcheck_;
  std::unique_ptr<BinaryenLane> lane_;
};

nlohmann::json detectionJson(const Detection& d) {
  return {{"by", d.by},       {"signature", d.signature.toString()}, {"kind", d.kind_text},
          {"bucket", d.bucket}, {"detail", d.detail}};
}

// The loop, in this process. Writes progress and the result to `shared`.
int huntLoop(const HuntOptions& o, Shared* shared) {
  // An execution that crashes never publishes its canaries below: the
  // sanitizer's death callback prints them for the parent to read.
  reportFaultCanariesOnDeath();
  Hunter h(o);
  nlohmann::json result;
  if (auto err = h.start()) {
    result = {{"error", *err}};
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t i = 0;
    std::optional<Detection> found;
    for (; i < o.max_execs && !found; ++i) {
      if (o.max_seconds > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >
              o.max_seconds)
        break;
      shared->started = i + 1;
      found = h.step(i);
      shared->finished = i + 1;
      shared->reached = faultReached(activeFault());
      shared->triggered = faultTriggered(activeFault());
    }
    result = {{"execs", i}};
    if (found) result["detection"] = detectionJson(*found);
  }
  std::string text = result.dump();
  size_t n = std::min(text.size(), sizeof(shared->result));
  std::memcpy(shared->result, text.data(), n);
  shared->result_len = static_cast<uint32_t>(n);
  return 0;
}

int hunt(const HuntOptions& o) {
  if (o.lane != "gcgen" && o.lane != "ttf" && o.lane != "both") {
    fmt::print(stderr, "error: --lane takes gcgen, ttf or both\n");
    return kExitUsage;
  }
  const Fault fault = activeFault();
  const FaultInfo* info = faultInfo(fault);
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json result;
  std::string child_err;
  int status = 0;
  auto* shared = static_cast<Shared*>(
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (shared == MAP_FAILED) {
    fmt::print(stderr, "error: mmap: {}\n", std::strerror(errno));
    return kExitUsage;
  }
  new (shared) Shared();
  if (o.in_process) {
    huntLoop(o, shared);
  } else {
    int err_pipe[2];
    if (pipe(err_pipe) != 0) {
      fmt::print(stderr, "error: pipe: {}\n", std::strerror(errno));
      return kExitUsage;
    }
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
      fmt::print(stderr, "error: fork: {}\n", std::strerror(errno));
      return kExitUsage;
    }
    if (pid == 0) {
      close(err_pipe[0]);
      dup2(err_pipe[1], 2);
      close(err_pipe[1]);
      huntLoop(o, shared);
      std::fflush(nullptr);
      _exit(0);
    }
    close(err_pipe[1]);
    // The child's stderr goes on to ours, and is kept for a crash's report.
    char buf[4096];
    for (ssize_t n; (n = read(err_pipe[0], buf, sizeof(buf))) != 0;) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      child_err.append(buf, static_cast<size_t>(n));
      if (child_err.size() > (1u << 20)) child_err.erase(0, child_err.size() - (1u << 19));
    }
    close(err_pipe[0]);
    waitpid(pid, &status, 0);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (shared->result_len > 0) {
    result = nlohmann::json::parse(std::string(shared->result, shared->result_len), nullptr, false);
  }
  if (result.is_discarded() || result.is_null()) {
    // The child died in execution `started - 1`: the runtime under test crashed.
    uint64_t at = shared->started;
    std::string kind = crashKind(child_err, status);
    Detection d;
    d.by = "crash";
    d.kind_text = "sanitizer:" + kind;
    d.bucket = d.kind_text;
    d.signature.site = fmt::format("execution {}", at == 0 ? 0 : at - 1);
    d.detail = child_err.size() > 2000 ? child_err.substr(child_err.size() - 2000) : child_err;
    result = {{"execs", at}, {"detection", detectionJson(d)}};
    result["detection"]["signature"] = d.kind_text + " at " + d.signature.site;
  }
  uint64_t shared_reached = shared->reached, shared_triggered = shared->triggered;
  // A crashed execution's canaries, as its death callback printed them.
  if (auto t = campaign::faultTriggeredInOutput(child_err); t && *t && shared_triggered == 0) shared_triggered = 1;
  munmap(shared, sizeof(Shared));
  if (result.contains("error")) {
    fmt::print(stderr, "error: {}\n", result["error"].get<std::string>());
    return kExitUsage;
  }
  const bool detected = result.contains("detection");
  result["fault"] = std::string(faultName(fault));
  result["lane"] = o.lane;
  result["seed"] = o.seed;
  result["seconds"] = seconds;
  result["reached"] = shared_reached;
  result["triggered"] = shared_triggered;
  if (detected && info) {
    // The bucket the fault expects, with its canary triggered during the
    // hunt (the stream is not replayed without the fault here: the
    // campaign's summary does that).
    result["right_class"] = faultExpects(*info, result["detection"]["bucket"].get<std::string>()) &&
                            shared_triggered > 0;
  }
  if (o.json) {
    fmt::print("{}\n", result.dump(2));
  } else if (detected) {
    const auto& d = result["detection"];
    fmt::print("hunt: fault {} detected after {} execution(s) ({:.1f} s), lane {}, seed {}, by {}\n"
               "  signature: {}\n  bucket: {}{}\n  canaries: reached {}, triggered {}\n",
               faultName(fault), result["execs"].get<uint64_t>(), seconds, o.lane, o.seed,
               d["by"].get<std::string>(), d["signature"].get<std::string>(),
               d["bucket"].get<std::string>(),
               info ? (result["right_class"].get<bool>() ? " (names the fault's class)"
                                                         : " (does NOT name the fault's class)")
                    : "",
               shared_reached, shared_triggered);
  } else {
    fmt::print(
        "hunt: fault {} not detected in {} execution(s) ({:.1f} s), lane {}, seed {}\n"
        "  canaries: reached {}, triggered {}\n",
        faultName(fault), result["execs"].get<uint64_t>(), seconds, o.lane, o.seed,
        shared_reached, shared_triggered);
  }
  return detected ? kExitOk : kExitRejected;
}

}  // namespace

void addHuntCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<HuntOptions>();
  auto* cmd = app.add_subcommand(
      "hunt",
      "Run a fixed stream of inputs until the harness finds the active fault (--fault NAME): "
      "executions to detection, signature, and whether it names the fault's class. "
      "Exit 0 detected, 1 not within the budget, 2 usage. Without a fault, a detection is a "
      "false positive.");
  cmd->add_option("--lane", opts->lane, "gcgen, ttf (Binaryen translate-to-fuzz) or both")
      ->capture_default_str();
  cmd->add_option("--seed", opts->seed, "the input stream (inputs are a function of it alone)")
      ->capture_default_str();
  cmd->add_option("--max-execs", opts->max_execs, "give up after this many executions")
      ->capture_default_str();
  cmd->add_option("--time", opts->max_seconds, "give up after this many seconds (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--xcheck", opts->xcheck,
                  "external engines each module is also compared with, beside `ref` "
                  "(\"\" for none)")
      ->capture_default_str();
  cmd->add_flag("--json", opts->json, "the result as JSON");
  cmd->add_flag("--in-process", opts->in_process,
                "run the loop in this process (a crash of the runtime then ends the hunt)");
  cmd->callback([opts, exit_code] { *exit_code = hunt(*opts); });
}

}  // namespace slabfuzz::cli
