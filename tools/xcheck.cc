#include "tools/xcheck.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "oracle/external_engine.h"
#include "tools/gen_input.h"

namespace slabfuzz::cli {

Result<CrossCheck, std::string> CrossCheck::start(std::string_view engines, const OracleLimits& limits) {
  CrossCheck x;
  for (std::string_view rest = engines; !rest.empty();) {
    std::string_view name = rest.substr(0, rest.find(','));
    rest.remove_prefix(std::min(rest.size(), name.size() + 1));
    if (name.empty()) continue;
    auto pair = makeEngines(fmt::format("ref,{}", name), limits, externalEngineFactory());
    if (!pair.ok()) return pair.error();
    x.pairs_.push_back(std::move(pair).value());
  }
  return x;
}

Verdict divergenceVerdict(const Verdict& pair, std::string_view engine, std::string_view agreeing) {
  Verdict v = pair;
  // "ref-divergence:binaryen:log": the engine, then what differs (the
  // pair's kind less its "diff:"), so that triage keeps a wrong log apart
  // from a wrong trap or a refusal.
  std::string what = pair.signature.kindText();
  if (what.starts_with("diff:")) what.erase(0, 5);
  v.signature.kind = FindingKind::RefDivergence;
  v.signature.detail = fmt::format("{}:{}", engine, what);
  v.detail = fmt::format("{} differs from ours ({}), while {} agrees with ours: {}", engine,
                         pair.signature.kindText(), agreeing, pair.detail);
  return v;
}

CrossCheckResult CrossCheck::check(const ModuleInput& input) {
  CrossCheckResult r;
  std::vector<std::pair<std::string, DiffOutcome>> differing;
  std::vector<std::string> agreeing;
  bool full_agreement = false, up_to_limit = false;
  for (auto& pair : pairs_) {
    DiffOutcome out = runDifferential(pair, input);
    const std::string& name = pair[1]->name();
    // An engine that refuses the module as ours does agrees with ours.
    switch (out.verdict.kind) {
      case Verdict::Kind::Agree: full_agreement = true; agreeing.push_back(name); break;
      case Verdict::Kind::AgreeUpToLimit: up_to_limit = true; agreeing.push_back(name); break;
      case Verdict::Kind::Finding: differing.emplace_back(name, std::move(out)); break;
      case Verdict::Kind::Rejected: agreeing.push_back(name); break;
      case Verdict::Kind::NotComparable:
        if (r.why_not_comparable.empty()) r.why_not_comparable = out.verdict.detail;
        break;
    }
  }
  if (!differing.empty() && agreeing.empty()) {
    r.kind = CrossCheckResult::Kind::Finding;
    r.engine = differing.front().first;
    r.outcome = std::move(differing.front().second);
    return r;
  }
  const std::string agreed = fmt::format("{}", fmt::join(agreeing, " and "));
  for (auto& [engine, out] : differing) {
    out.verdict = divergenceVerdict(out.verdict, engine, agreed);
    r.divergences.push_back({engine, std::move(out)});
  }
  r.kind = full_agreement     ? CrossCheckResult::Kind::Agree
           : up_to_limit      ? CrossCheckResult::Kind::AgreeUpToLimit
           : !agreeing.empty() ? CrossCheckResult::Kind::Rejected
                               : CrossCheckResult::Kind::NotComparable;
  return r;
}

std::vector<uint8_t> streamInput(uint64_t seed, uint64_t index, size_t min_len, size_t max_len) {
  uint64_t x = seed * 0x2545F4914F6CDD1Dull ^ (index + 1) * 0x9E3779B97F4A7C15ull;
  size_t len = min_len + splitmix64Next(x) % (max_len - min_len + 1);
  std::vector<uint8_t> bytes(len);
  for (size_t i = 0; i < len; i += 8) {
    uint64_t w = splitmix64Next(x);
    std::memcpy(bytes.data() + i, &w, std::min<size_t>(8, len - i));
  }
  return bytes;
}

}  // namespace slabfuzz::cli
