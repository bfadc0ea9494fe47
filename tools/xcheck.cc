#include "tools/xcheck.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

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

CrossCheckResult CrossCheck::check(const ModuleInput& input) {
  CrossCheckResult r;
  bool any_conclusive = false, all_rejected = !pairs_.empty();
  for (auto& pair : pairs_) {
    DiffOutcome out = runDifferential(pair, input);
    switch (out.verdict.kind) {
      case Verdict::Kind::Agree:
        r.kind = CrossCheckResult::Kind::Agree;
        r.outcome = {};
        r.engine.clear();
        return r;
      case Verdict::Kind::Finding:
        all_rejected = false;
        if (!any_conclusive) {
          any_conclusive = true;
          r.outcome = std::move(out);
          r.engine = pair[1]->name();
        }
        break;
      case Verdict::Kind::Rejected:
        break;
      case Verdict::Kind::Inconclusive:
        all_rejected = false;
        break;
    }
  }
  if (any_conclusive) r.kind = CrossCheckResult::Kind::Finding;
  else if (all_rejected) r.kind = CrossCheckResult::Kind::Rejected;
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
