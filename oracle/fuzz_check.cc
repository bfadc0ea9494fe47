// The differential fuzz targets' shared body; see fuzz_check.h.
#include "oracle/fuzz_check.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "heap/faults.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SLABFUZZ_HAS_SANITIZER 1
#endif
#endif
#if !defined(SLABFUZZ_HAS_SANITIZER) && defined(__SANITIZE_ADDRESS__)
#define SLABFUZZ_HAS_SANITIZER 1
#endif
#ifndef SLABFUZZ_HAS_SANITIZER
#define SLABFUZZ_HAS_SANITIZER 0
#endif
#if SLABFUZZ_HAS_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif
#include "oracle/engine.h"

namespace slabfuzz {
namespace {

// Verdict counts of this process, printed at exit so that a replay or a
// -runs=N session reports how many runs proved nothing (Binaryen's ignored
// runs).
struct Counts {
  uint64_t runs = 0, agree = 0, inconclusive = 0, rejected = 0, other_bucket = 0, recorded = 0;
};
std::string& recordDir();
// Record mode writes the first kMaxRecordedPerBucket inputs of each bucket
// per process: under a fault, most inputs may find it, and ten thousand
// crash files a minute would bury the campaign's disk and its triage.
constexpr uint64_t kMaxRecordedPerBucket = 16;
std::map<std::string, uint64_t>& recordedIn() {
  static std::map<std::string, uint64_t> m;
  return m;
}
Counts& counts() {
  static Counts c;
  return c;
}
std::string& keepBucket() {
  static std::string bucket;
  return bucket;
}
// The active fault's canaries, on one line that tools read back
// (tools/campaign/fuzzer_output.h: faultTriggeredInOutput): at exit, in a
// finding's report, and when a sanitizer ends the process, so that a replay
// of one input says whether the fault changed what that input did.
void printFaultCanaries() {
  if (Fault f = activeFault(); f != Fault::None) {
    std::fprintf(stderr, "slabfuzz fault %s: reached %llu, triggered %llu\n",
                 std::string(faultName(f)).c_str(),
                 static_cast<unsigned long long>(faultReached(f)),
                 static_cast<unsigned long long>(faultTriggered(f)));
    std::fflush(stderr);
  }
}

void printCounts() {
  const Counts& c = counts();
  std::fprintf(stderr,
               "slabfuzz oracle: %llu run(s): %llu agree, %llu inconclusive, %llu rejected\n",
               static_cast<unsigned long long>(c.runs), static_cast<unsigned long long>(c.agree),
               static_cast<unsigned long long>(c.inconclusive),
               static_cast<unsigned long long>(c.rejected));
  if (!keepBucket().empty())
    std::fprintf(stderr, "slabfuzz oracle: %llu finding(s) outside bucket '%s' not reported\n",
                 static_cast<unsigned long long>(c.other_bucket), keepBucket().c_str());
  if (c.recorded > 0)
    std::fprintf(stderr, "slabfuzz oracle: %llu finding(s) in %zu bucket(s), at most %llu per bucket written\n",
                 static_cast<unsigned long long>(c.recorded), recordedIn().size(),
                 static_cast<unsigned long long>(kMaxRecordedPerBucket));
  printFaultCanaries();
}

[[noreturn]] void reportFinding(const Verdict& verdict, const std::vector<ExecutionLog>& logs) {
  std::string report = verdict.report();
  report += "  engines:";
  for (const ExecutionLog& l : logs) report += fmt::format(" {} ({})", l.engine, logStatusName(l.status));
  report += '\n';
  if (Fault f = activeFault(); f != Fault::None) report += fmt::format("  fault: {}\n", faultName(f));
  printFaultCanaries();
  const ExecutionLog* a = nullptr;
  const ExecutionLog* b = nullptr;
  for (const ExecutionLog& l : logs) {
    if (l.engine == verdict.engine_a) a = &l;
    if (l.engine == verdict.engine_b) b = &l;
  }
  if (a && b) {
    std::string diff = unifiedDiff(*a, *b);
    // A fuzzer's log is no place for megabytes: the reproducer gives the rest.
    if (diff.size() > 8000) diff = diff.substr(0, 8000) + "...\n";
    report += diff;
  }
  abortOnFinding(verdict.signature, report);
}

std::string& recordDir() {
  static std::string dir;
  return dir;
}

// Writes the input to recordDir()/crash-<hash>: a temporary file, then a
// hard link to the final name, which fails (and keeps the first) when it
// exists.
void recordFinding(const Verdict& v, std::span<const uint8_t> raw) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : raw) h = (h ^ b) * 1099511628211ull;
  std::string path = fmt::format("{}/crash-{:016x}", recordDir(), h);
  std::string tmp = fmt::format("{}/.tmp-crash-{:016x}-{}", recordDir(), h, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  bool ok = fd >= 0;
  for (size_t off = 0; ok && off < raw.size();) {
    ssize_t n = ::write(fd, raw.data() + off, raw.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  if (fd >= 0) ok = ::fsync(fd) == 0 && ok, ::close(fd);
  bool fresh = ok && ::link(tmp.c_str(), path.c_str()) == 0;
  ::unlink(tmp.c_str());
  fmt::print(stderr, "slabfuzz: finding {} recorded{}: {}\n", v.signature.toString(),
             ok ? (fresh ? "" : " (seen before)") : " FAILED", path);
}

}  // namespace

uint32_t choiceFromBytes(const uint8_t* data, size_t size) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
  return h;
}

FuzzJudgement fuzzJudge(const ModuleInput& input, uint32_t choice,
                        const FuzzCheckOptions& options) {
  FuzzJudgement out;
  std::vector<ExecutionLog>& logs = out.logs;
  SharedCode code;
  for (const std::string& name : defaultComparison(choice)) {
    OurRunOptions o;
    o.shared_code = &code;
    auto config = parseEngineConfig(name);
    if (!config.ok()) std::abort();  // defaultComparison makes only valid names
    o.config = std::move(config).value();
    o.limits = options.limits;
    logs.push_back(runOurs(input, o));
    // Our configurations share the validator: when the first refuses the
    // module the rest would too, and fuzzed bytes are refused often.
    if (logs.front().status == ExecutionLog::Status::Rejected) break;
  }
  out.verdict = judge(logs);
  if (out.verdict.kind == Verdict::Kind::Rejected && options.rejection_is_finding) {
    Verdict& f = out.verdict;
    f.kind = Verdict::Kind::Finding;
    f.signature.kind = FindingKind::GenInvalid;
    f.signature.site = "module";
  }
  return out;
}

Verdict fuzzCheck(const ModuleInput& input, uint32_t choice, const FuzzCheckOptions& options) {
  static const bool registered = [] {
    reportFaultCanariesOnDeath();
    return std::atexit(printCounts) == 0;
  }();
  (void)registered;
  FuzzJudgement j = fuzzJudge(input, choice, options);
  const Verdict& v = j.verdict;
  Counts& c = counts();
  ++c.runs;
  switch (v.kind) {
    case Verdict::Kind::Agree: ++c.agree; break;
    case Verdict::Kind::AgreeUpToLimit: ++c.inconclusive; break;
    case Verdict::Kind::Rejected:
    case Verdict::Kind::NotComparable: ++c.rejected; break;
    case Verdict::Kind::Finding:
      if (!keepBucket().empty() && v.signature.bucket() != keepBucket()) {
        ++c.other_bucket;
        break;
      }
      if (!recordDir().empty()) {
        ++c.recorded;
        if (++recordedIn()[v.signature.bucket()] <= kMaxRecordedPerBucket)
          recordFinding(v, options.raw_input);
        break;
      }
      reportFinding(v, j.logs);
  }
  return v;
}

void reportFaultCanariesOnDeath() {
#if SLABFUZZ_HAS_SANITIZER
  __sanitizer_set_death_callback(printFaultCanaries);
#endif
}

void setKeepBucket(std::string bucket) { keepBucket() = std::move(bucket); }

void setRecordDir(std::string dir) { recordDir() = std::move(dir); }

}  // namespace slabfuzz
