// `slabfuzz triage DIR...`: every finding under DIR (reproducer bundles, and
// the crash inputs libFuzzer and AFL++ leave behind) grouped by signature
// bucket into a report a human reads first (DESIGN.md "What users get").
// Owns: finding the inputs, replaying raw fuzz-target inputs in-process
// (fuzzers/targets.h, oracle/fuzz_check.h) into bundles, re-running bundles
// on --rerun, and writing triage.md and triage.json. Does not own: grouping
// and the Markdown (oracle/triage.h) or what a bundle holds (bundle.h).
// Contract: exit 0 when nothing reproduced a finding, 4 when something did,
// 2 on usage or when an input could not be read (and nothing was found). No
// input is dropped silently: each is a finding, "did not reproduce", a
// resource limit, or an error in the report. Bundles are never replaced; an
// input whose bundle triage already wrote is not written again. The
// reports are replaced whole, atomically.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "fuzzers/targets.h"
#include "generators/encode.h"
#include "heap/faults.h"
#include "oracle/engine.h"
#include "oracle/external_engine.h"
#include "oracle/triage.h"
#include "runtime/decode.h"
#include "tools/bundle.h"
#include "tools/commands.h"
#include "tools/crash_guard.h"
#include "tools/read_file.h"

namespace slabfuzz::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Fuzz inputs are small (libFuzzer's -max_len is 4096 by default); a file
// far larger than any module we run is not one.
constexpr uint64_t kMaxInputSize = 64ull << 20;

struct TriageOptions {
  std::vector<std::string> dirs;
  std::string target;  // "" = from the path
  std::string out;     // "" = DIR/triage
  bool json = false;
  bool rerun = false;
  // --rerun-without-fault: bundles run again with no fault and no broken
  // stack maps, whatever they were found under (does the finding need it?).
  bool without_fault = false;
};

// What a fuzzing engine called the input it saved.
enum class RawKind : uint8_t { Crash, Timeout, Oom, Leak };

struct RawInput {
  std::string path;
  RawKind kind = RawKind::Crash;
  std::string how;  // "libFuzzer crash", "AFL++ hang", "named on the command line"
};

struct Found {
  std::vector<std::string> bundles;
  std::vector<RawInput> raws;
};

bool isBundle(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "finding.json", ec);
}

// libFuzzer: crash-<sha1>, timeout-, oom-, leak-; AFL++: crashes/id:...,
// hangs/id:....
std::optional<RawInput> rawInputOf(const fs::path& p) {
  const std::string name = p.filename().string();
  const std::string parent = p.parent_path().filename().string();
  struct Prefix {
    const char* text;
    RawKind kind;
    const char* how;
  };
  static constexpr Prefix kLibFuzzer[] = {{"crash-", RawKind::Crash, "libFuzzer crash"},
                                          {"timeout-", RawKind::Timeout, "libFuzzer timeout"},
                                          {"oom-", RawKind::Oom, "libFuzzer out-of-memory"},
                                          {"leak-", RawKind::Leak, "libFuzzer leak"}};
  for (const Prefix& x : kLibFuzzer)
    if (name.starts_with(x.text)) return RawInput{p.string(), x.kind, x.how};
  if (name.starts_with("id:") && parent == "crashes")
    return RawInput{p.string(), RawKind::Crash, "AFL++ crash"};
  if (name.starts_with("id:") && parent == "hangs")
    return RawInput{p.string(), RawKind::Timeout, "AFL++ hang"};
  return std::nullopt;
}

// Walks `root` for bundles (not descending into them) and raw inputs,
// leaving out `skip` (the report directory), earlier triage reports and
// hidden entries (a bundle being written is a hidden temporary directory).
void discover(const fs::path& root, const fs::path& skip, Found& found,
              std::vector<TriageNote>& errors) {
  if (isBundle(root)) {
    found.bundles.push_back(root.string());
    return;
  }
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec), end;
  if (ec) {
    errors.push_back({root.string(), ec.message()});
    return;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      errors.push_back({root.string(), ec.message()});
      break;
    }
    const fs::path& p = it->path();
    std::error_code e2;
    if (p.filename().string().starts_with(".")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(e2)) {
      // This run's report directory, and an earlier triage's (its bundles
      // came from raw inputs that are replayed again).
      if ((!skip.empty() && fs::weakly_canonical(p, e2) == skip) ||
          fs::exists(p / "triage.json", e2)) {
        it.disable_recursion_pending();
      } else if (isBundle(p)) {
        found.bundles.push_back(p.string());
        it.disable_recursion_pending();
      } else if (fs::exists(p / "repro.sh", e2) && fs::exists(p / "module.wasm", e2)) {
        errors.push_back({p.string(),
                          "a bundle without finding.json (written before bundles had "
                          "one): run `slabfuzz diff --findings` on its module.wasm again"});
        it.disable_recursion_pending();
      }
      continue;
    }
    if (!it->is_regular_file(e2)) continue;
    if (auto raw = rawInputOf(p)) found.raws.push_back(std::move(*raw));
  }
}

// The fuzz target that made `path`: --target, else the nearest path
// component named after one.
std::optional<DiffTarget> targetOf(const TriageOptions& o, const std::string& path) {
  if (!o.target.empty()) return diffTargetByName(o.target);
  fs::path p = fs::path(path).parent_path();
  for (; !p.empty(); p = p.parent_path()) {
    if (auto t = diffTargetByName(p.filename().string())) return t;
    if (p == p.parent_path()) break;
  }
  return std::nullopt;
}

std::string modifiedAt(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return isoNow();
  return isoTime(static_cast<int64_t>(st.st_mtim.tv_sec));
}

std::string activeFaultName() {
  Fault f = activeFault();
  return f == Fault::None ? "" : std::string(faultName(f));
}

struct Context {
  const TriageOptions& opts;
  std::string findings_dir;
  TriageInputs& out;
};

// A bundle triage wrote earlier for the same input bytes and fault, so that
// triaging twice does not write a second copy.
std::optional<BundleRecord> earlierBundle(const Context& cx, const std::string& name,
                                          const std::vector<uint8_t>& bytes) {
  for (int k = 0; k < 1000; ++k) {
    std::string dir = cx.findings_dir + "/" + (k == 0 ? name : fmt::format("{}.{}", name, k));
    std::error_code ec;
    if (!fs::exists(dir, ec)) return std::nullopt;
    auto input = readFileCapped(dir + "/input.bin", kMaxInputSize);
    auto* b = std::get_if<std::vector<uint8_t>>(&input);
    if (!b || *b != bytes) continue;
    auto rec = readBundle(dir);
    if (auto* r = std::get_if<BundleRecord>(&rec); r && r->finding.fault == activeFaultName())
      return std::move(*r);
  }
  return std::nullopt;
}

// "agree", "inconclusive: slab-zeal: [out of fuel]", ...
std::string verdictLine(const Verdict& v) {
  std::string s(verdictKindName(v.kind));
  for (const std::string& i : v.inconclusive) s += fmt::format("; {}", i);
  if (!v.detail.empty()) s += fmt::format(": {}", v.detail);
  return s;
}

void triageRaw(Context& cx, const RawInput& raw) {
  auto target = targetOf(cx.opts, raw.path);
  if (!target) {
    cx.out.errors.push_back(
        {raw.path,
         "which fuzz target made it? Name it with --target gcgen_diff|wasm_diff, or "
         "keep it under a directory named gcgen_diff or wasm_diff"});
    return;
  }
  auto read = readFileCapped(raw.path, kMaxInputSize);
  if (auto* fe = std::get_if<FileError>(&read)) {
    cx.out.errors.push_back({raw.path, fe->message});
    return;
  }
  const std::vector<uint8_t>& bytes = std::get<std::vector<uint8_t>>(read);
  const bool resource = raw.kind == RawKind::Timeout || raw.kind == RawKind::Oom;
  auto run = targetRun(*target, bytes);
  if (!run) {
    TriageNote n{raw.path, fmt::format("{} ({}): did not reproduce: the bytes are not a module, "
                                       "so {} makes no run of them",
                                       raw.how, diffTargetName(*target), diffTargetName(*target))};
    (resource ? cx.out.resource : cx.out.not_reproduced).push_back(std::move(n));
    return;
  }
  // The runtime under test may crash on it (a sanitizer report, a signal):
  // a child process runs it first, and a crash is the finding.
  FuzzJudgement j;
  CrashReport crash = runGuarded([&] { (void)fuzzJudge(run->input, run->choice, run->options); });
  if (crash.crashed) {
    j.verdict.kind = Verdict::Kind::Finding;
    j.verdict.signature.kind = FindingKind::Crash;
    j.verdict.signature.detail = crash.kind;
    j.verdict.signature.site = "module";
    j.verdict.detail = fmt::format("the runtime crashed ({}); the end of its report:\n{}",
                                   crash.kind, crash.report);
    // No log survived the crash; the engines are those the input chose, so
    // that the bundle's repro.sh runs the same comparison.
    for (const std::string& name : defaultComparison(run->choice)) {
      ExecutionLog l;
      l.engine = name;
      l.ours = true;
      l.message = "crashed before its log was complete (see verdict.txt)";
      j.logs.push_back(std::move(l));
    }
  } else {
    j = fuzzJudge(run->input, run->choice, run->options);
  }
  if (j.verdict.kind != Verdict::Kind::Finding) {
    TriageNote n{raw.path,
                 fmt::format("{} ({}{}): did not reproduce: {}", raw.how, diffTargetName(*target),
                             activeFault() == Fault::None ? "" : ", fault " + activeFaultName(),
                             verdictLine(j.verdict))};
    (resource ? cx.out.resource : cx.out.not_reproduced).push_back(std::move(n));
    return;
  }
  BundleSpec spec;
  spec.module = run->input.wasm.empty()
                    ? encodeModule(*run->input.module)
                    : std::vector<uint8_t>(run->input.wasm.begin(), run->input.wasm.end());
  spec.input = bytes;
  spec.verdict = j.verdict;
  spec.logs = std::move(j.logs);
  spec.source = raw.path;
  spec.target = *target;
  spec.choice = run->choice;
  spec.fault = activeFaultName();
  spec.limits = run->options.limits;
  spec.found_at = modifiedAt(raw.path);
  std::optional<BundleRecord> rec = earlierBundle(cx, bundleName(spec.verdict, spec.module), bytes);
  if (!rec) {
    std::string dir;
    if (auto err = writeBundle(cx.findings_dir, spec, &dir)) {
      cx.out.errors.push_back({raw.path, "its bundle was not written: " + *err});
      return;
    }
    auto r = readBundle(dir);
    if (auto* e = std::get_if<std::string>(&r)) {
      cx.out.errors.push_back({raw.path, "its bundle cannot be read back: " + *e});
      return;
    }
    rec = std::move(std::get<BundleRecord>(r));
  }
  if (resource) rec->finding.note = raw.how + ", reproduced here as a finding";
  cx.out.findings.push_back(std::move(rec->finding));
}

// Runs a bundle again, under its own fault (or, `without_fault`, under none
// and with sound stack maps): the finding it gives now, or why there is none.
std::variant<FuzzJudgement, std::string> rerunBundle(const BundleRecord& b, bool without_fault) {
  if (auto err = selectFault(without_fault ? std::string() : b.finding.fault)) return "its fault: " + *err;
  if (b.target && b.has_input) {
    auto read = readFileCapped(b.dir + "/input.bin", kMaxInputSize);
    if (auto* fe = std::get_if<FileError>(&read)) return "input.bin: " + fe->message;
    auto run = targetRun(*b.target, std::get<std::vector<uint8_t>>(read));
    if (!run) return "input.bin is not a module";
    run->options.limits = b.limits;
    return fuzzJudge(run->input, run->choice, run->options);
  }
  auto read = readFileCapped(b.dir + "/module.wasm", kMaxModuleSize);
  if (auto* fe = std::get_if<FileError>(&read)) return "module.wasm: " + fe->message;
  const auto& bytes = std::get<std::vector<uint8_t>>(read);
  auto input = decodeInput(bytes);
  if (!input.ok()) return "module.wasm: " + input.error();
  std::string list;
  for (const std::string& e : b.engines) list += (list.empty() ? "" : ",") + e;
  CompileOptions compile;
  compile.liveness_ignores_back_edges = b.broken_stack_maps && !without_fault;
  auto engines = makeEngines(list, b.limits, externalEngineFactory(), compile);
  if (!engines.ok()) return "engines: " + engines.error();
  DiffOutcome d = runDifferential(engines.value(), input.value());
  return FuzzJudgement{std::move(d.verdict), std::move(d.logs)};
}

void triageBundle(Context& cx, const std::string& dir) {
  auto r = readBundle(dir);
  if (auto* e = std::get_if<std::string>(&r)) {
    cx.out.errors.push_back({dir, "malformed bundle: " + *e});
    return;
  }
  BundleRecord& b = std::get<BundleRecord>(r);
  if (!cx.opts.rerun && !cx.opts.without_fault) {
    cx.out.findings.push_back(std::move(b.finding));
    return;
  }
  const std::string before = activeFaultName();
  auto again = rerunBundle(b, cx.opts.without_fault);
  (void)selectFault(before);  // it was valid when the process chose it
  if (auto* e = std::get_if<std::string>(&again)) {
    cx.out.errors.push_back({dir, "--rerun: " + *e});
    return;
  }
  FuzzJudgement& j = std::get<FuzzJudgement>(again);
  if (j.verdict.kind != Verdict::Kind::Finding) {
    cx.out.not_reproduced.push_back(
        {dir, fmt::format("bundle of {}: did not reproduce on --rerun: {}", b.finding.signature,
                          verdictLine(j.verdict))});
    return;
  }
  TriageFinding& f = b.finding;
  const Signature& s = j.verdict.signature;
  f.note = s.toString() == f.signature
               ? "reproduced on --rerun"
               : fmt::format("on --rerun it is now {} (was {})", s.toString(), f.signature);
  f.signature = s.toString();
  f.bucket = s.bucket();
  f.kind = s.kindText();
  f.differing = differingLines(verdictText(j.verdict, j.logs));
  f.slab_id.reset();
  for (const ExecutionLog& l : j.logs)
    if (l.violation && !f.slab_id) f.slab_id = slabIdNoteOf(*l.violation, l.engine);
  cx.out.findings.push_back(std::move(f));
}

json noteJson(const std::vector<TriageNote>& notes) {
  json a = json::array();
  for (const TriageNote& n : notes) a.push_back({{"input", n.input}, {"what", n.what}});
  return a;
}

json reportJson(const TriageInputs& in, const std::vector<TriageGroup>& groups) {
  json gs = json::array();
  for (const TriageGroup& g : groups) {
    const TriageFinding& s = in.findings[g.smallest];
    json members = json::array();
    for (size_t i : g.members)
      members.push_back({{"bundle", in.findings[i].bundle},
                         {"signature", in.findings[i].signature},
                         {"module_bytes", in.findings[i].module_bytes},
                         {"found_at", in.findings[i].found_at}});
    json id = nullptr;
    if (s.slab_id) {
      const SlabIdNote& n = *s.slab_id;
      id = {{"engine", n.engine},
            {"raw", n.id.raw},
            {"heap_tag", n.id.heap_tag},
            {"slab", n.id.slab},
            {"slab_identity", n.id.slab_identity},
            {"slot", n.id.slot},
            {"generation", n.id.generation},
            {"now_holds", n.now_holds},
            {"expected", n.expected},
            {"operation", n.operation},
            {"gc_cycle", n.gc_cycle}};
    }
    gs.push_back({
        {"bucket", g.bucket},
        {"count", g.members.size()},
        {"first_seen", g.first_seen},
        {"example", s.signature},
        {"smallest",
         {{"bundle", s.bundle},
          {"module_bytes", s.module_bytes},
          {"instructions", s.instructions ? json(*s.instructions) : json(nullptr)},
          {"source", s.source},
          {"target", s.target.empty() ? json(nullptr) : json(s.target)},
          {"wat", s.wat_path.empty() ? json(nullptr) : json(s.wat_path)},
          {"wat_missing", s.wat_missing}}},
        {"fault", s.fault},
        {"reproduce", s.bundle + "/repro.sh"},
        {"repro", s.repro},
        {"note", s.note},
        {"slab_id", id},
        {"differing", s.differing},
        {"members", members},
    });
  }
  return json{{"dirs", in.dirs},
              {"findings", in.findings.size()},
              {"groups", gs},
              {"not_reproduced", noteJson(in.not_reproduced)},
              {"resource", noteJson(in.resource)},
              {"errors", noteJson(in.errors)}};
}

int triage(const TriageOptions& o) {
  std::vector<RawInput> named;  // files given on the command line
  Found found;
  TriageInputs in;
  in.dirs = o.dirs;
  // Raw inputs are replayed under the process's fault: none, here.
  if (o.without_fault) (void)selectFault("");
  std::error_code ec;
  for (const std::string& d : o.dirs) {
    if (!fs::exists(d, ec)) {
      fmt::print(stderr, "error: {}: no such file or directory\n", d);
      return kExitUsage;
    }
  }
  fs::path first(o.dirs.front());
  if (!first.has_filename()) first = first.parent_path();  // "DIR/"
  // Beside a bundle or a file named on its own, never inside a bundle.
  fs::path report_dir = !o.out.empty() ? fs::path(o.out)
                        : fs::is_directory(first, ec) && !isBundle(first)
                            ? first / "triage"
                            : first.parent_path() / "triage";
  fs::path skip = fs::weakly_canonical(report_dir, ec);
  for (const std::string& d : o.dirs) {
    if (fs::is_directory(d, ec)) {
      discover(d, skip, found, in.errors);
    } else {
      auto raw = rawInputOf(d);
      found.raws.push_back(raw ? *raw : RawInput{d, RawKind::Crash, "input"});
    }
  }
  std::sort(found.bundles.begin(), found.bundles.end());
  found.bundles.erase(std::unique(found.bundles.begin(), found.bundles.end()), found.bundles.end());
  std::sort(found.raws.begin(), found.raws.end(),
            [](const RawInput& a, const RawInput& b) { return a.path < b.path; });
  if (found.bundles.empty() && found.raws.empty()) {
    for (const TriageNote& e : in.errors) fmt::print(stderr, "error: {}: {}\n", e.input, e.what);
    fmt::print(stderr,
               "error: nothing to triage in {}: no bundles (directories with finding.json) and no "
               "crash inputs (crash-*, timeout-*, oom-*, leak-*, crashes/id:*, hangs/id:*)\n",
               fmt::join(o.dirs, ", "));
    return kExitUsage;
  }
  if (!fs::is_directory(report_dir, ec) && !fs::create_directories(report_dir, ec)) {
    fmt::print(stderr, "error: {}: {}\n", report_dir.string(),
               ec ? ec.message() : "not a directory");
    return kExitUsage;
  }
  Context cx{o, (report_dir / "findings").string(), in};
  for (const std::string& b : found.bundles) triageBundle(cx, b);
  for (const RawInput& r : found.raws) triageRaw(cx, r);

  std::vector<TriageGroup> groups = groupFindings(in.findings);
  std::string md = triageMarkdown(in, groups);
  std::string js = reportJson(in, groups).dump(2) + "\n";
  const std::string md_path = (report_dir / "triage.md").string();
  const std::string js_path = (report_dir / "triage.json").string();
  for (const auto& [path, text] : {std::pair{md_path, md}, std::pair{js_path, js}}) {
    if (auto err = writeAtomically(path, textBytes(text), /*force=*/true)) {
      fmt::print(stderr, "error: {}\n", *err);
      return kExitUsage;
    }
  }

  if (o.json) {
    fmt::print("{}", js);
  } else {
    for (const TriageNote& n : in.not_reproduced) fmt::print("{}: {}\n", n.input, n.what);
    for (const TriageNote& n : in.resource) fmt::print("{}: {}\n", n.input, n.what);
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const TriageGroup& g = groups[gi];
      const TriageFinding& s = in.findings[g.smallest];
      fmt::print("{}. {} x{} (smallest: {}, {} bytes)\n", gi + 1, g.bucket, g.members.size(),
                 s.bundle, s.module_bytes);
    }
    fmt::print(
        "{} finding(s) in {} group(s), {} did not reproduce, {} resource-limited, {} "
        "unreadable; report: {}\n",
        in.findings.size(), groups.size(), in.not_reproduced.size(), in.resource.size(),
        in.errors.size(), md_path);
  }
  for (const TriageNote& e : in.errors) fmt::print(stderr, "error: {}: {}\n", e.input, e.what);
  if (!in.findings.empty()) return kExitFinding;
  return in.errors.empty() ? kExitOk : kExitUsage;
}

}  // namespace

void addTriageCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<TriageOptions>();
  CLI::App* cmd = app.add_subcommand(
      "triage",
      "Group every finding under DIR by signature bucket (kind, instruction, phase) and\n"
      "write REPORT_DIR/triage.md and triage.json: per group the count, first seen, the\n"
      "smallest reproducer with its .wat, the differing log lines, the decoded slab id,\n"
      "the fault and the command that reproduces it.\n"
      "Inputs, found recursively: reproducer bundles (directories with finding.json, as\n"
      "`diff --findings` writes them) and crash inputs of the differential fuzz targets\n"
      "(libFuzzer crash-*, timeout-*, oom-*, leak-*; AFL++ crashes/id:*, hangs/id:*),\n"
      "replayed here under --fault / $SLABFUZZ_FAULT; one that reproduces becomes a\n"
      "bundle in REPORT_DIR/findings/ (reused, not rewritten, by the next triage).\n"
      "Earlier triage reports under DIR are left out.\n"
      "Exit status: 0 no findings; 4 findings; 2 usage, nothing to triage, or an input\n"
      "that could not be read (and no findings).");
  cmd->add_option("dirs", opts->dirs, "directories (or single crash inputs) to triage")->required();
  cmd->add_option("--target", opts->target,
                  "the fuzz target raw inputs came from (default: a path component named "
                  "gcgen_diff or wasm_diff)")
      ->check(CLI::IsMember({"gcgen_diff", "wasm_diff"}));
  cmd->add_option("--out", opts->out, "report directory (default DIR/triage)");
  cmd->add_flag("--json", opts->json, "print triage.json instead of the summary");
  cmd->add_flag("--rerun", opts->rerun,
                "run existing bundles again (each under its own fault) instead of reading them");
  cmd->add_flag("--rerun-without-fault", opts->without_fault,
                "run existing bundles again with no fault (and sound stack maps), whatever "
                "they were found under: a finding that still reproduces is not the fault's");
  cmd->callback([opts, exit_code] { *exit_code = triage(*opts); });
}

}  // namespace slabfuzz::cli
