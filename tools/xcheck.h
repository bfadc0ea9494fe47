// The cross-check against the reference engines (V8, Binaryen's
// interpreter): one module run by our reference configuration and by each
// external engine, and their vote. Shared by `slabfuzz hunt` and the
// campaign's lanes (`slabfuzz lane`), so that "the reference engines say we
// are wrong" means one thing everywhere.
// Owns: the engine pairs and the voting rule. Does not own: running or
// comparing (oracle/engine.h, oracle/compare.h), the comparable set
// (oracle/comparable.h), the external engines (oracle/external_engine.h).
// Contract: every engine whose comparable set holds the module runs it.
// Ours is wrong (a Finding) when at least one engine differs from it and
// none agrees. An engine that differs while another agrees is outvoted: a
// reference-engine divergence, recorded with its own verdict
// (ref-divergence:<engine>:<what differs>), never dropped and never a
// finding of ours.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/engine.h"
#include "runtime/error.h"

namespace slabfuzz::cli {

struct CrossCheckResult {
  enum class Kind : uint8_t {
    Agree,           // a reference engine agrees, to the end of every run
    AgreeUpToLimit,  // agrees as far as the runs went (a resource limit ended one)
    NotComparable,   // no reference engine can run it on equal terms
    Rejected,        // every engine that could judge it refused it
    Finding,         // ours differs from every engine that judged it
  };
  Kind kind = Kind::NotComparable;
  // A finding: our reference configuration against the first engine that
  // disagreed (its logs and verdict, as a bundle takes them).
  DiffOutcome outcome;
  std::string engine;  // that engine's name
  // Engines outvoted: each differs from ours while another agrees. The
  // verdict is the pair's, relabelled ref-divergence:<engine>:<what>.
  struct Divergence {
    std::string engine;
    DiffOutcome outcome;
  };
  std::vector<Divergence> divergences;
  std::string why_not_comparable;  // NotComparable: the first engine's reason
};

class CrossCheck {
 public:
  // `engines`: external engine names, comma-separated ("v8,binaryen"); ""
  // gives a cross-check that always says NotComparable.
  static Result<CrossCheck, std::string> start(std::string_view engines,
                                               const OracleLimits& limits = {});

  CrossCheckResult check(const ModuleInput& input);
  bool empty() const { return pairs_.empty(); }

 private:
  std::vector<std::vector<std::unique_ptr<Engine>>> pairs_;  // per engine: ref and it
};

// A pair's finding relabelled as a divergence of `engine`, which
// `agreeing` (the engines that agreed with ours) outvoted.
Verdict divergenceVerdict(const Verdict& pair, std::string_view engine,
                          std::string_view agreeing);

// A fixed stream of inputs: input `index` of `seed` is a function of the two
// alone, between min_len and max_len bytes (the detection loop's and the
// cross-check lane's gcgen inputs).
std::vector<uint8_t> streamInput(uint64_t seed, uint64_t index, size_t min_len, size_t max_len);

}  // namespace slabfuzz::cli
