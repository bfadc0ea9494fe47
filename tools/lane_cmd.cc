// `slabfuzz lane ttf|xcheck`: the lanes `slabfuzz campaign` runs beside the
// coverage-guided fuzzers (DESIGN.md "What users get").
//   ttf     Binaryen translate-to-fuzz modules, seed after seed: each
//           through the fuzz targets' comparison of our configurations
//           (wasm_diff's), then cross-checked against V8 and Binaryen.
//   xcheck  the fuzzers' corpus entries (--watch TARGET=DIR), as they
//           appear, run by our reference configuration and cross-checked
//           against V8 and Binaryen: what our configurations cannot see
//           because they share the bug (a cast, ref.test). When no entry is
//           waiting it cross-checks gcgen inputs of its own stream.
// Owns: the lanes' loops, their state under --state (resumable: the next
// seed, the corpus entries done), their reports on stdout, and surviving a
// crash of the runtime under test: the input in flight is kept in
// --state/inflight.* before it runs, and the next start files it as
// CRASHES/<target>/crash-lane-<hash>, a raw crash input like libFuzzer's,
// which triage replays. Does not own: judging (oracle/), the vote
// (tools/xcheck.h), bundles (tools/bundle.h).
// Contract: every finding is a reproducer bundle under --findings, written
// whole and never replacing one. The same state, seed and build give the
// same inputs and the same verdicts; the clock only paces the status lines
// and bounds --time. stdout carries one line per event:
//   lane: status {json}      counts so far (every 2 s and at the end)
//   lane: finding {json}     bucket, kind, bundle, by; under a fault,
//                            fault_triggered (its canary, for this input)
//   lane: divergence {json}  a reference engine outvoted: the same fields
//   lane: crash-filed {json} an input the previous run died on, filed
// Exit 0 at the end of --time or on SIGTERM/SIGINT, 2 on a set-up error.
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "fuzzers/targets.h"
#include "generators/binaryen/lane.h"
#include "generators/encode.h"
#include "heap/faults.h"
#include "oracle/engine.h"
#include "oracle/fuzz_check.h"
#include "tools/atomic_write.h"
#include "tools/bundle.h"
#include "tools/commands.h"
#include "tools/gen_input.h"
#include "tools/read_file.h"
#include "tools/xcheck.h"

namespace slabfuzz::cli {
namespace {

namespace fs = std::filesystem;
using binaryen::BinaryenLane;
using binaryen::LaneBatch;
using binaryen::LaneOptions;
using binaryen::TtfJob;
using nlohmann::json;

// The size of a translate-to-fuzz input, as `slabfuzz ttf` makes them.
constexpr size_t kTtfInputBytes = 4000;
// A corpus entry larger than this is not a fuzz target's input.
constexpr uint64_t kMaxEntryBytes = 1 << 20;

struct LaneCmdOptions {
  std::string kind;
  std::string state, findings, crashes;
  std::string divergences;  // default: beside --findings
  std::vector<std::string> watch;  // TARGET=DIR
  uint64_t seed = 1;
  double seconds = 0;
  std::string engines = "v8,binaryen";
  bool no_stream = false;
};

volatile sig_atomic_t g_stop = 0;
void onStop(int) { g_stop = 1; }

std::string readSmall(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

uint64_t fnv64(std::span<const uint8_t> bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}

void emit(const char* what, const json& j) {
  fmt::print("lane: {} {}\n", what, j.dump());
  std::fflush(stdout);
}

class Lane {
 public:
  explicit Lane(const LaneCmdOptions& o) : o_(o), state_(o.state) {}

  std::optional<std::string> start() {
    std::error_code ec;
    divergences_ = o_.divergences.empty() ? (fs::path(o_.findings).parent_path() / "divergences").string()
                                          : o_.divergences;
    for (const std::string& d : {o_.state, o_.findings}) {
      fs::create_directories(d, ec);
      if (ec) return fmt::format("cannot create {}: {}", d, ec.message());
    }
    if (auto err = fileInflight()) return err;
    reportFaultCanariesOnDeath();
    auto x = CrossCheck::start(o_.engines);
    if (!x.ok()) return "the cross-check: " + x.error();
    xcheck_ = std::move(x).value();
    if (o_.kind == "ttf") {
      LaneOptions lo;
      lo.workers = 1;
      auto lane = BinaryenLane::start(lo);
      if (!lane.ok()) return "the Binaryen lane did not start: " + lane.error().message;
      binaryen_ = std::move(lane).value();
      next_seed_ = readCounter("next-seed", o_.seed);
    } else {
      for (const std::string& w : o_.watch) {
        size_t eq = w.find('=');
        auto target = eq == std::string::npos ? std::nullopt : diffTargetByName(w.substr(0, eq));
        if (!target) return fmt::format("--watch {}: expected TARGET=DIR with TARGET gcgen_diff or wasm_diff", w);
        watched_.push_back({*target, w.substr(eq + 1), {}});
        std::istringstream in(readSmall(state_ / seenFile(*target)));
        for (std::string line; std::getline(in, line);)
          if (!line.empty()) watched_.back().seen.insert(line);
      }
      stream_next_ = readCounter("stream-next", 0);
    }
    return std::nullopt;
  }

  // Runs until the time is up or a stop signal; status lines as it goes.
  void run() {
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    double last_status = -10, last_scan = -10;
    while (!g_stop && (o_.seconds <= 0 || elapsed() < o_.seconds)) {
      if (elapsed() - last_status >= 2) {
        last_status = elapsed();
        status();
      }
      if (o_.kind == "ttf") {
        ttfBatch();
        continue;
      }
      if (queue_.empty() && elapsed() - last_scan >= 1) {
        last_scan = elapsed();
        scan();
      }
      if (!queue_.empty()) {
        auto [w, name] = queue_.front();
        queue_.pop_front();
        corpusEntry(watched_[w], name);
      } else if (!o_.no_stream) {
        ownInput();
      } else {
        struct timespec ts{0, 200'000'000};
        nanosleep(&ts, nullptr);
      }
    }
    status();
  }

 private:
  struct Watched {
    DiffTarget target;
    fs::path dir;
    std::set<std::string> seen;
  };

  static std::string seenFile(DiffTarget t) { return fmt::format("seen-{}.txt", diffTargetName(t)); }

  uint64_t readCounter(const char* name, uint64_t fallback) {
    std::istringstream in(readSmall(state_ / name));
    uint64_t v = fallback;
    in >> v;
    return in ? v : fallback;
  }
  void writeCounter(const char* name, uint64_t v) {
    writeAtomically((state_ / name).string(), textBytes(fmt::format("{}\n", v)), true);
  }

  // The input about to run is kept until it has run: if the runtime under
  // test takes the process down, the next start files it.
  void holdInflight(DiffTarget t, std::span<const uint8_t> bytes) {
    writeAtomically((state_ / "inflight.target").string(), textBytes(std::string(diffTargetName(t))), true);
    writeAtomically((state_ / "inflight.bin").string(), {bytes.begin(), bytes.end()}, true);
  }
  void releaseInflight() {
    std::error_code ec;
    fs::remove(state_ / "inflight.bin", ec);
    fs::remove(state_ / "inflight.target", ec);
  }
  std::optional<std::string> fileInflight() {
    std::error_code ec;
    if (!fs::exists(state_ / "inflight.bin", ec)) return std::nullopt;
    auto target = diffTargetByName(readSmall(state_ / "inflight.target"));
    auto bytes = readFileCapped((state_ / "inflight.bin").string(), kMaxEntryBytes);
    if (target && std::holds_alternative<std::vector<uint8_t>>(bytes) && !o_.crashes.empty()) {
      const auto& b = std::get<std::vector<uint8_t>>(bytes);
      fs::path dir = fs::path(o_.crashes) / std::string(diffTargetName(*target));
      fs::create_directories(dir, ec);
      fs::path file = dir / fmt::format("crash-lane-{:016x}", fnv64(b));
      // An existing file is the same input (the name is its hash): kept.
      if (auto err = writeAtomically(file.string(), b, false); err && !fs::exists(file, ec))
        return "filing the input the last run died on: " + *err;
      emit("crash-filed", {{"file", file.string()}, {"target", diffTargetName(*target)}});
    }
    releaseInflight();
    return std::nullopt;
  }

  // A finding of ours (`event` "finding") or a reference engine outvoted
  // ("divergence"), as a bundle in its own directory.
  void finding(const char* by, const Verdict& v, const std::vector<ExecutionLog>& logs,
               std::vector<uint8_t> module, std::optional<std::vector<uint8_t>> input,
               std::optional<DiffTarget> target, std::optional<uint32_t> choice, std::string source,
               const char* event = "finding") {
    BundleSpec spec;
    spec.module = std::move(module);
    spec.input = std::move(input);
    spec.verdict = v;
    spec.logs = logs;
    spec.source = std::move(source);
    spec.target = target;
    spec.choice = choice;
    spec.fault = activeFault() == Fault::None ? "" : std::string(faultName(activeFault()));
    std::string dir;
    const bool divergence = std::string_view(event) == "divergence";
    ++(divergence ? divergences_found_ : findings_);
    json j = {{"bucket", v.signature.bucket()}, {"kind", v.signature.kindText()}, {"by", by}};
    // Whether the active fault changed what this input did (its canaries
    // are reset before every input): a finding the fault did not cause is
    // not of its class.
    if (activeFault() != Fault::None) j["fault_triggered"] = faultTriggered(activeFault()) > 0;
    if (auto err = writeBundle(divergence ? divergences_ : o_.findings, spec, &dir)) {
      j["error"] = *err;
    } else {
      j["bundle"] = dir;
    }
    emit(event, j);
  }

  // Our comparison of a fuzz target's run, then the cross-check. `raw` is the
  // target's input (for the bundle).
  void judge(const TargetRun& run, std::span<const uint8_t> raw, DiffTarget target,
             std::vector<uint8_t> module, const std::string& source, bool ours) {
    ++inputs_;
    resetFaultCanaries();
    if (ours) {
      FuzzJudgement j = fuzzJudge(run.input, run.choice, run.options);
      if (j.verdict.kind == Verdict::Kind::Finding) {
        finding("ours", j.verdict, j.logs, module.empty() ? encodeModule(*run.input.module) : module,
                std::vector<uint8_t>(raw.begin(), raw.end()), target, run.choice, source);
        return;
      }
      if (j.verdict.kind == Verdict::Kind::Rejected || j.verdict.kind == Verdict::Kind::NotComparable) {
        ++rejected_;
        return;
      }
    }
    if (module.empty()) module = encodeModule(*run.input.module);
    auto input = decodeInput(module);
    if (!input.ok()) {
      ++rejected_;
      return;
    }
    CrossCheckResult x = xcheck_.check(input.value());
    for (CrossCheckResult::Divergence& d : x.divergences) {
      finding(d.engine == "v8" ? "xcheck v8" : "xcheck binaryen", d.outcome.verdict, d.outcome.logs,
              module, std::vector<uint8_t>(raw.begin(), raw.end()), std::nullopt, std::nullopt,
              source + fmt::format(", cross-checked: {} outvoted", d.engine), "divergence");
    }
    switch (x.kind) {
      case CrossCheckResult::Kind::Agree: ++agree_; break;
      case CrossCheckResult::Kind::AgreeUpToLimit: ++agree_up_to_limit_; break;
      case CrossCheckResult::Kind::NotComparable:
        ++not_comparable_;
        if (not_comparable_examples_.size() < 8) not_comparable_examples_.insert(x.why_not_comparable);
        break;
      case CrossCheckResult::Kind::Rejected: ++rejected_; break;
      case CrossCheckResult::Kind::Finding:
        finding(x.engine == "v8" ? "xcheck v8" : "xcheck binaryen", x.outcome.verdict,
                x.outcome.logs, std::move(module), std::vector<uint8_t>(raw.begin(), raw.end()),
                std::nullopt, std::nullopt, source + fmt::format(", cross-checked with {}", x.engine));
        break;
    }
  }

  void ttfBatch() {
    constexpr uint64_t kBatch = 4;
    std::vector<TtfJob> jobs;
    for (uint64_t k = 0; k < kBatch; ++k) jobs.push_back({seedInput(next_seed_ + k, kTtfInputBytes), false, true});
    LaneBatch b = binaryen_->translateToFuzz(std::span<const TtfJob>(jobs));
    for (uint64_t k = 0; k < kBatch && !g_stop; ++k) {
      const uint64_t seed = next_seed_;
      writeCounter("next-seed", ++next_seed_);
      if (k >= b.results.size() || !b.results[k].ok()) {
        ++ttf_failed_;
        continue;
      }
      const std::vector<uint8_t>& module = b.results[k].value();
      std::optional<TargetRun> run = wasmDiffRun(module);
      if (!run) {
        ++inputs_;
        ++rejected_;
        continue;
      }
      holdInflight(DiffTarget::WasmDiff, module);
      judge(*run, module, DiffTarget::WasmDiff, module,
            fmt::format("ttf lane: translate-to-fuzz of seed {} (`slabfuzz ttf --seed {} --size {}`)",
                        seed, seed, kTtfInputBytes),
            true);
      releaseInflight();
    }
  }

  void scan() {
    for (size_t w = 0; w < watched_.size(); ++w) {
      std::vector<std::string> fresh;
      std::error_code ec;
      for (fs::directory_iterator it(watched_[w].dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!name.starts_with(".") && it->is_regular_file(ec) && !watched_[w].seen.count(name))
          fresh.push_back(name);
      }
      std::sort(fresh.begin(), fresh.end());
      for (std::string& n : fresh) {
        watched_[w].seen.insert(n);
        queue_.emplace_back(w, std::move(n));
      }
    }
  }

  void corpusEntry(Watched& w, const std::string& name) {
    std::ofstream((state_ / seenFile(w.target)).string(), std::ios::app) << name << "\n";
    auto bytes = readFileCapped((w.dir / name).string(), kMaxEntryBytes);
    if (!std::holds_alternative<std::vector<uint8_t>>(bytes)) return;  // gone or too big: not an input
    const auto& raw = std::get<std::vector<uint8_t>>(bytes);
    std::optional<TargetRun> run = targetRun(w.target, raw);
    ++corpus_done_;
    if (!run) return;
    holdInflight(w.target, raw);
    judge(*run, raw, w.target, w.target == DiffTarget::WasmDiff ? raw : std::vector<uint8_t>{},
          fmt::format("xcheck lane: {} corpus entry {}", diffTargetName(w.target), name), false);
    releaseInflight();
  }

  void ownInput() {
    const uint64_t i = stream_next_;
    writeCounter("stream-next", ++stream_next_);
    std::vector<uint8_t> raw = cli::streamInput(o_.seed, i, 64, 4096);
    TargetRun run = gcgenDiffRun(raw);
    holdInflight(DiffTarget::GcgenDiff, raw);
    judge(run, raw, DiffTarget::GcgenDiff, {},
          fmt::format("xcheck lane: gcgen stream seed {} input {} (`slabfuzz hunt --seed {}`)", o_.seed, i, o_.seed),
          true);
    releaseInflight();
    ++stream_done_;
  }

  void status() {
    json j = {{"inputs", inputs_},
              {"agree", agree_},
              {"agree_up_to_limit", agree_up_to_limit_},
              {"not_comparable", not_comparable_},
              {"rejected", rejected_},
              {"findings", findings_},
              {"divergences", divergences_found_},
              {"not_comparable_why", std::vector<std::string>(not_comparable_examples_.begin(),
                                                               not_comparable_examples_.end())}};
    if (o_.kind == "ttf") {
      j["next_seed"] = next_seed_;
      j["ttf_failed"] = ttf_failed_;
    } else {
      j["corpus_done"] = corpus_done_;
      j["queue"] = queue_.size();
      j["stream_done"] = stream_done_;
    }
    emit("status", j);
  }

  const LaneCmdOptions& o_;
  fs::path state_;
  CrossCheck xcheck_;
  std::unique_ptr<BinaryenLane> binaryen_;
  uint64_t next_seed_ = 0, stream_next_ = 0;
  std::vector<Watched> watched_;
  std::deque<std::pair<size_t, std::string>> queue_;
  std::string divergences_;
  uint64_t inputs_ = 0, agree_ = 0, agree_up_to_limit_ = 0, not_comparable_ = 0, rejected_ = 0,
           findings_ = 0, divergences_found_ = 0;
  std::set<std::string> not_comparable_examples_;  // a few reasons, for the report
  uint64_t ttf_failed_ = 0, corpus_done_ = 0, stream_done_ = 0;
};

int runLane(const LaneCmdOptions& o) {
  if (o.kind == "ttf" && !o.watch.empty()) {
    fmt::print(stderr, "error: --watch is for the xcheck lane\n");
    return kExitUsage;
  }
  struct sigaction sa {};
  sa.sa_handler = onStop;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  Lane lane(o);
  if (auto err = lane.start()) {
    fmt::print(stderr, "error: lane {}: {}\n", o.kind, *err);
    return kExitUsage;
  }
  lane.run();
  return kExitOk;
}

}  // namespace

void addLaneCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<LaneCmdOptions>();
  auto* cmd = app.add_subcommand(
      "lane",
      "A lane of the campaign, beside the fuzzers: ttf (Binaryen translate-to-fuzz modules through "
      "our comparison and a V8/Binaryen cross-check) or xcheck (the fuzzers' corpus entries, as "
      "they appear, cross-checked against V8 and Binaryen; gcgen inputs of its own when idle). "
      "Findings become bundles in --findings; state under --state makes it resumable.");
  cmd->add_option("kind", opts->kind, "ttf or xcheck")->required()->check(CLI::IsMember({"ttf", "xcheck"}));
  cmd->add_option("--state", opts->state, "the lane's state directory (next seed, entries done)")->required();
  cmd->add_option("--findings", opts->findings, "where reproducer bundles go")->required();
  cmd->add_option("--divergences", opts->divergences,
                  "where reference-engine divergences go as bundles (default: divergences/ beside --findings)");
  cmd->add_option("--crashes", opts->crashes,
                  "where an input the lane died on is filed, as CRASHES/<target>/crash-lane-<hash>");
  cmd->add_option("--watch", opts->watch, "xcheck: TARGET=DIR, a fuzz target's corpus directory (repeatable)");
  cmd->add_option("--seed", opts->seed,
                  "ttf: the first seed when the state has none; xcheck: its own input stream")
      ->capture_default_str();
  cmd->add_option("--time", opts->seconds, "stop after this many seconds (0: at SIGTERM/SIGINT)")
      ->capture_default_str();
  cmd->add_option("--engines", opts->engines, "the reference engines of the cross-check")->capture_default_str();
  cmd->add_flag("--no-stream", opts->no_stream, "xcheck: only corpus entries, no inputs of its own");
  cmd->callback([opts, exit_code] { *exit_code = runLane(*opts); });
}

}  // namespace slabfuzz::cli
