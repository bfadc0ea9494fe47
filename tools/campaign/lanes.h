// The lanes `slabfuzz campaign` runs beside its fuzzers: `slabfuzz lane ttf`
// (Binaryen translate-to-fuzz modules) and `slabfuzz lane xcheck` (the
// fuzzers' corpus entries against V8 and Binaryen), each one long-lived
// child process of this binary.
// Owns: their command lines, reading their event lines (tools/lane_cmd.cc's
// "lane: status|finding|crash-filed {json}"), counting across restarts, and
// restarting a lane the runtime under test took down (that death is a
// finding: the lane files its input on the next start). Does not own: what
// the lanes do (lane_cmd.cc) or the campaign's loop (campaign_cmd.cc).
// Contract: a lane that cannot start, or dies more than kMaxLaneRestarts
// times, stops with the reason in `stopped`; the campaign goes on without it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace slabfuzz::cli::campaign {

inline constexpr int kMaxLaneRestarts = 200;

struct LaneEvent {
  std::string bucket;  // what triage groups by
  std::string kind;    // the signature's kind ("diff:log", "sanitizer:SEGV")
  std::string where;   // a bundle directory, the input a dead lane was running, or its log
  // Under a fault: whether its canary triggered in the run that found it
  // (empty when the run could not say).
  std::optional<bool> fault_triggered;
};

struct LaneProcess {
  std::string kind;  // "ttf" or "xcheck"
  std::filesystem::path dir;  // DIR/lanes/<kind>: state/, findings/
  std::string log;            // this run's log
  std::vector<std::string> argv_tail;  // --watch ..., --seed ...
  pid_t pid = -1;
  int starts = 0;
  uint64_t log_offset = 0;
  std::string partial;
  // Counts: those of earlier processes of this run, plus the live one's.
  // Every input is one of agree, agree_up_to_limit, not_comparable,
  // rejected (by every engine that could judge it) or findings.
  struct Counts {
    uint64_t inputs = 0, agree = 0, agree_up_to_limit = 0, not_comparable = 0, rejected = 0,
             findings = 0, divergences = 0;
    Counts& operator+=(const Counts& o) {
      inputs += o.inputs;
      agree += o.agree;
      agree_up_to_limit += o.agree_up_to_limit;
      not_comparable += o.not_comparable;
      rejected += o.rejected;
      findings += o.findings;
      divergences += o.divergences;
      return *this;
    }
  } before, now;
  uint64_t deaths = 0, crash_files = 0;
  std::string stopped;
  std::string last_death;
  // Reference engines outvoted (`lane: divergence` events): bundles in
  // divergences(), never findings of ours.
  std::vector<LaneEvent> divergence_events;
  // Why inputs were not comparable: a few of the reasons the lane gave.
  std::set<std::string> not_comparable_why;

  Counts total() const {
    Counts t = before;
    t += now;
    return t;
  }
  std::filesystem::path findings() const { return dir / "findings"; }
  std::filesystem::path divergences() const { return dir / "divergences"; }
};

// Starts (or restarts) the lane: `self` is this binary, `fault` the active
// fault ("" for none), `crashes` DIR/crashes.
bool startLane(LaneProcess& l, const std::string& self, const std::string& fault,
               const std::filesystem::path& crashes, double seconds_left);

// Reads the lane's new lines and notices its end; returns the findings it
// reported since the last call (a death of the process is one, kind
// "sanitizer:<what>"). Restarts a dead lane while `restart` is true.
std::vector<LaneEvent> pumpLane(LaneProcess& l, const std::string& self, const std::string& fault,
                                const std::filesystem::path& crashes, double seconds_left,
                                bool restart);

// Stops the lane (SIGTERM, then SIGKILL) and reads what it said last. A
// lane killed mid-input has its input in flight dropped: it was not a crash.
std::vector<LaneEvent> stopLane(LaneProcess& l);

}  // namespace slabfuzz::cli::campaign
