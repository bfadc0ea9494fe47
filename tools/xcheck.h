// The cross-check against the reference engines (V8, Binaryen's
// interpreter): one module run by our reference configuration and by each
// external engine, and their vote. Shared by `slabfuzz hunt` and the
// campaign's lanes (`slabfuzz lane`), so that "the reference engines say we
// are wrong" means one thing everywhere.
// Owns: the engine pairs and the voting rule. Does not own: running or
// comparing (oracle/engine.h), the external engines (oracle/external_engine.h).
// Contract: ours is wrong only when no conclusive reference engine agrees
// with it and at least one conclusive one disagrees. An engine that alone
// disagrees while another agrees has a bug of its own (corpus/divergences/),
// so it is not a finding. The next engine runs only while no conclusive one
// has agreed, so a module usually costs one external run.
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
  enum class Kind : uint8_t { Agree, Finding, Inconclusive, Rejected };
  Kind kind = Kind::Inconclusive;
  // A finding: our reference configuration against the first engine that
  // disagreed (its logs and verdict, as a bundle takes them).
  DiffOutcome outcome;
  std::string engine;  // that engine's name
};

class CrossCheck {
 public:
  // `engines`: external engine names, comma-separated ("v8,binaryen"); ""
  // gives a cross-check that always says Inconclusive.
  static Result<CrossCheck, std::string> start(std::string_view engines,
                                               const OracleLimits& limits = {});

  CrossCheckResult check(const ModuleInput& input);
  bool empty() const { return pairs_.empty(); }

 private:
  std::vector<std::vector<std::unique_ptr<Engine>>> pairs_;  // per engine: ref and it
};

// A fixed stream of inputs: input `index` of `seed` is a function of the two
// alone, between min_len and max_len bytes (the detection loop's and the
// cross-check lane's gcgen inputs).
std::vector<uint8_t> streamInput(uint64_t seed, uint64_t index, size_t min_len, size_t max_len);

}  // namespace slabfuzz::cli
