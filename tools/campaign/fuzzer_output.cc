// Parsing a fuzz target's output; see fuzzer_output.h.
#include "tools/campaign/fuzzer_output.h"

#include <charconv>
#include <cmath>
#include <string>
#include <vector>

namespace slabfuzz::cli::campaign {
namespace {

// The number right after `key` in `line` (spaces skipped), if any.
std::optional<uint64_t> numberAfter(std::string_view line, std::string_view key) {
  size_t at = line.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  size_t i = at + key.size();
  while (i < line.size() && line[i] == ' ') ++i;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(line.data() + i, line.data() + line.size(), v);
  if (ec != std::errc() || end == line.data() + i) return std::nullopt;
  return v;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<FuzzerProgress> parseProgressLine(std::string_view line) {
  if (line.empty() || line.front() != '#') return std::nullopt;
  FuzzerProgress p;
  auto n = numberAfter(line, "#");
  auto cov = numberAfter(line, " cov:");
  auto ft = numberAfter(line, " ft:");
  if (!n || !cov || !ft) return std::nullopt;
  p.execs = *n;
  p.cov = *cov;
  p.ft = *ft;
  if (auto c = numberAfter(line, " corp:")) p.corpus = *c;
  // Plain mode writes "exec/s: N", the fork parent "exec/s N".
  if (auto e = numberAfter(line, " exec/s:")) p.exec_per_s = *e;
  else if (auto e2 = numberAfter(line, " exec/s ")) p.exec_per_s = *e2;
  size_t otc = line.find("oom/timeout/crash:");
  if (otc != std::string_view::npos) {
    std::string_view rest = trimmed(line.substr(otc + 18));
    uint64_t v[3] = {0, 0, 0};
    const char* at = rest.data();
    const char* end = rest.data() + rest.size();
    bool ok = true;
    for (int k = 0; k < 3 && ok; ++k) {
      auto [next, ec] = std::from_chars(at, end, v[k]);
      ok = ec == std::errc();
      at = next;
      if (k < 2) ok = ok && at < end && *at++ == '/';
    }
    if (ok) {
      p.ooms = v[0];
      p.timeouts = v[1];
      p.crashes = v[2];
    }
  }
  return p;
}

std::optional<OracleCounts> parseOracleCounts(std::string_view line) {
  constexpr std::string_view kPrefix = "slabfuzz oracle: ";
  size_t at = line.find(kPrefix);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(at + kPrefix.size());
  OracleCounts c;
  auto runs = numberAfter(rest, "");
  auto agree = numberAfter(rest, "run(s):");
  auto incon = numberAfter(rest, "agree,");
  auto rej = numberAfter(rest, "inconclusive,");
  if (!runs || !agree || !incon || !rej) return std::nullopt;
  c.runs = *runs;
  c.agree = *agree;
  c.inconclusive = *incon;
  c.rejected = *rej;
  return c;
}

std::string bucketOfSignature(std::string_view sig) {
  size_t at = sig.find(" at ");
  size_t ph = sig.rfind(" [");
  if (at == std::string_view::npos || ph == std::string_view::npos || ph < at)
    return std::string(sig);
  std::string_view kind = sig.substr(0, at);
  std::string_view site = sig.substr(at + 4, ph - at - 4);
  std::string_view phase = sig.substr(ph + 1);  // "[mutator]"
  size_t ir = site.find(", IR ");
  size_t space = ir == std::string_view::npos ? ir : site.find(' ', ir + 5);
  if (space == std::string_view::npos) return std::string(kind) + " " + std::string(phase);
  return std::string(kind) + " at " + std::string(site.substr(space + 1)) + " " +
         std::string(phase);
}

std::optional<bool> faultTriggeredInOutput(std::string_view output) {
  constexpr std::string_view kLine = "slabfuzz fault ", kTriggered = ", triggered ";
  std::optional<bool> triggered;
  for (size_t start = 0; start < output.size();) {
    size_t nl = output.find('\n', start);
    if (nl == std::string_view::npos) nl = output.size();
    std::string_view l = trimmed(output.substr(start, nl - start));
    start = nl + 1;
    size_t at = l.find(kTriggered);
    if (!l.starts_with(kLine) || at == std::string_view::npos) continue;
    std::string_view n = l.substr(at + kTriggered.size());
    if (n.empty() || n.find_first_not_of("0123456789") != std::string_view::npos) continue;
    triggered = n != "0" && n.find_first_not_of('0') != std::string_view::npos;
  }
  return triggered;
}

std::optional<NamedFinding> findingInOutput(std::string_view output) {
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < output.size();) {
    size_t nl = output.find('\n', start);
    if (nl == std::string_view::npos) nl = output.size();
    lines.push_back(trimmed(output.substr(start, nl - start)));
    start = nl + 1;
  }
  for (std::string_view l : lines) {
    if (l.starts_with("finding: ")) {
      std::string sig(l.substr(9));
      return NamedFinding{sig, bucketOfSignature(sig)};
    }
  }
  for (std::string_view l : lines) {
    constexpr std::string_view kAbort = "slabfuzz: finding ";
    if (l.starts_with(kAbort)) {
      std::string_view kind = l.substr(kAbort.size());
      kind = kind.substr(0, kind.find(','));
      return NamedFinding{std::string(kind), std::string(kind)};
    }
  }
  for (std::string_view l : lines) {
    constexpr std::string_view kAsan = "ERROR: AddressSanitizer: ";
    size_t at = l.find(kAsan);
    if (at != std::string_view::npos) {
      std::string_view kind = l.substr(at + kAsan.size());
      kind = kind.substr(0, kind.find(' '));
      std::string k = "sanitizer:" + std::string(kind);
      return NamedFinding{k, k};
    }
    if (l.find("runtime error:") != std::string_view::npos) {
      return NamedFinding{"sanitizer:undefined-behavior", "sanitizer:undefined-behavior"};
    }
  }
  return std::nullopt;
}

AflStats parseAflStats(std::string_view text) {
  AflStats st;
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = trimmed(line.substr(0, colon)), value = trimmed(line.substr(colon + 1));
    auto num = [&]() -> uint64_t {
      uint64_t v = 0;
      std::from_chars(value.data(), value.data() + value.size(), v);
      return v;
    };
    // AFL writes "inf" for a rate over a run too short to time.
    auto real = [&]() -> double {
      double v = 0;
      std::from_chars(value.data(), value.data() + value.size(), v);
      return std::isfinite(v) && v >= 0 ? v : 0;
    };
    if (key == "execs_done") {
      st.execs = num();
      st.valid = true;
    } else if (key == "execs_per_sec") st.execs_per_sec = real();
    else if (key == "corpus_count" || key == "paths_total") st.corpus = num();
    else if (key == "edges_found") st.edges = num();
    else if (key == "saved_crashes" || key == "unique_crashes") st.crashes = num();
    else if (key == "saved_hangs" || key == "unique_hangs") st.hangs = num();
    else if (key == "stability") st.stability = real();
    else if (key == "target_mode") st.target_mode = std::string(value);
  }
  return st;
}

std::optional<uint64_t> parseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  bool any = false;
  while (!text.empty()) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc()) return std::nullopt;
    text.remove_prefix(static_cast<size_t>(end - text.data()));
    uint64_t unit = 1;
    if (!text.empty()) {
      switch (text.front()) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        default: return std::nullopt;
      }
      text.remove_prefix(1);
    } else if (any) {
      return std::nullopt;  // "1h30": a number without a unit after a unit
    }
    if (v > 100ull * 24 * 3600) return std::nullopt;
    total += v * unit;
    any = true;
  }
  if (total == 0) return std::nullopt;
  return total;
}

}  // namespace slabfuzz::cli::campaign
