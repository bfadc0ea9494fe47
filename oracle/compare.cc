// Comparing execution logs; see compare.h.
#include "oracle/compare.h"

#include <fmt/format.h>

#include <algorithm>

#include "oracle/normalise.h"

namespace slabfuzz {
namespace {

using LogStatus = ExecutionLog::Status;
constexpr std::string_view kEnd = "<end>";

NormaliseOptions normaliseFor(const ExecutionLog& a, const ExecutionLog& b) {
  NormaliseOptions n;
  n.keep_slabfuzz_lines = a.ours && b.ours;
  n.keep_trap_messages = a.ours && b.ours;
  return n;
}

// The call a line belongs to: the nearest export line at or before it.
std::string siteOf(std::span<const std::string> lines, size_t index) {
  for (size_t i = std::min(index + 1, lines.size()); i-- > 0;) {
    if (isExportLine(lines[i])) {
      return fmt::format("export {}, log line {}", lines[i].substr(19), index + 1);
    }
  }
  return fmt::format("instantiation, log line {}", index + 1);
}

// What kind of difference the first differing lines show.
FindingKind classify(std::string_view la, std::string_view lb) {
  if (la.starts_with(kDigestLineOpening) && lb.starts_with(kDigestLineOpening))
    return FindingKind::DiffHeapDigest;
  if (isTrapLine(la) || isTrapLine(lb)) return FindingKind::DiffTrap;
  // Result lines, and the bare values after one (multi-value results).
  auto resultish = [](std::string_view l) {
    return isResultLine(l) || (!l.empty() && l != kEnd && l[0] != '[');
  };
  if (resultish(la) || resultish(lb)) return FindingKind::DiffResult;
  return FindingKind::DiffLog;
}

Verdict violationFinding(const ExecutionLog& log) {
  Verdict v;
  v.kind = Verdict::Kind::Finding;
  v.signature = signatureOf(*log.violation);
  v.engine_a = log.engine;
  v.detail = fmt::format("{}: {}", log.engine, log.message);
  return v;
}

Verdict statusFinding(const ExecutionLog& a, const ExecutionLog& b) {
  Verdict v;
  v.kind = Verdict::Kind::Finding;
  v.signature.kind = FindingKind::DiffStatus;
  v.signature.site = "module";
  v.engine_a = a.engine;
  v.engine_b = b.engine;
  auto say = [](const ExecutionLog& l) {
    return l.status == LogStatus::Rejected ? fmt::format("rejected it ({})", l.message)
                                        : std::string("ran it");
  };
  v.detail = fmt::format("{} {}; {} {}", a.engine, say(a), b.engine, say(b));
  return v;
}

}  // namespace

std::string_view verdictKindName(Verdict::Kind kind) {
  switch (kind) {
    case Verdict::Kind::Agree: return "agree";
    case Verdict::Kind::Inconclusive: return "inconclusive";
    case Verdict::Kind::Rejected: return "rejected";
    case Verdict::Kind::Finding: return "finding";
  }
  return "?";
}

std::string Verdict::report() const {
  std::string out;
  if (kind == Kind::Finding) {
    out = fmt::format("finding: {}\n", signature.toString());
  } else {
    out = fmt::format("{}\n", verdictKindName(kind));
  }
  if (!detail.empty()) out += fmt::format("  {}\n", detail);
  if (line > 0) {
    out += fmt::format("  line {}:\n    {:<18} {}\n    {:<18} {}\n", line, engine_a + ":", line_a,
                       engine_b + ":", line_b);
  }
  for (const std::string& i : inconclusive) out += fmt::format("  inconclusive: {}\n", i);
  return out;
}

Verdict compareLogs(const ExecutionLog& a, const ExecutionLog& b, const CompareOptions& options) {
  if (a.status == LogStatus::Violation) return violationFinding(a);
  if (b.status == LogStatus::Violation) return violationFinding(b);
  Verdict v;
  if ((a.status == LogStatus::Rejected) != (b.status == LogStatus::Rejected)) return statusFinding(a, b);
  if (a.status == LogStatus::Rejected) {
    v.kind = Verdict::Kind::Rejected;
    v.detail = fmt::format("{}: {}", a.engine, a.message);
    return v;
  }
  for (const ExecutionLog* l : {&a, &b})
    if (l->status == LogStatus::Inconclusive)
      v.inconclusive.push_back(fmt::format("{}: {}", l->engine, l->message));
  if (!v.inconclusive.empty()) {
    v.kind = Verdict::Kind::Inconclusive;
    return v;
  }
  NormaliseOptions n = normaliseFor(a, b);
  // Between our own configurations every line is kept and normalised on
  // its own, so logs equal as printed are equal normalised: the common case
  // needs no copy of either.
  if (n.keep_trap_messages && n.keep_slabfuzz_lines && a.lines == b.lines) return v;
  std::vector<std::string> na = normaliseLog(a.lines, n), nb = normaliseLog(b.lines, n);
  size_t i = 0;
  while (i < na.size() && i < nb.size() && na[i] == nb[i]) ++i;
  if (i == na.size() && i == nb.size()) return v;
  std::string_view la = i < na.size() ? std::string_view(na[i]) : kEnd;
  std::string_view lb = i < nb.size() ? std::string_view(nb[i]) : kEnd;
  if (options.stop_at_one_sided_trap && isTrapLine(la) != isTrapLine(lb)) {
    v.up_to_trap = true;
    v.detail = fmt::format("compared up to the trap at line {}", i + 1);
    return v;
  }
  v.kind = Verdict::Kind::Finding;
  v.signature.kind = classify(la, lb);
  v.signature.site = siteOf(i < na.size() ? na : nb, i);
  v.engine_a = a.engine;
  v.engine_b = b.engine;
  v.line = i + 1;
  v.line_a = std::string(la);
  v.line_b = std::string(lb);
  v.detail = fmt::format("{} and {} differ first at line {}", a.engine, b.engine, i + 1);
  return v;
}

Verdict judge(std::span<const ExecutionLog> logs, const CompareOptions& options) {
  for (const ExecutionLog& l : logs)
    if (l.status == LogStatus::Violation) return violationFinding(l);
  Verdict v;
  if (logs.empty()) return v;
  for (const ExecutionLog& l : logs.subspan(1))
    if ((l.status == LogStatus::Rejected) != (logs[0].status == LogStatus::Rejected))
      return statusFinding(logs[0], l);
  if (logs[0].status == LogStatus::Rejected) return compareLogs(logs[0], logs[0], options);
  // The first conclusive log is the baseline; inconclusive ones are counted.
  const ExecutionLog* base = nullptr;
  for (const ExecutionLog& l : logs) {
    if (l.status == LogStatus::Inconclusive) {
      v.inconclusive.push_back(fmt::format("{}: {}", l.engine, l.message));
    } else if (!base) {
      base = &l;
    } else {
      Verdict pair = compareLogs(*base, l, options);
      if (pair.kind == Verdict::Kind::Finding) return pair;
      v.up_to_trap = v.up_to_trap || pair.up_to_trap;
      if (pair.up_to_trap && v.detail.empty()) v.detail = pair.detail;
    }
  }
  if (!v.inconclusive.empty()) v.kind = Verdict::Kind::Inconclusive;
  return v;
}

std::string unifiedDiff(const ExecutionLog& a, const ExecutionLog& b, size_t context) {
  NormaliseOptions n = normaliseFor(a, b);
  std::vector<std::string> x = normaliseLog(a.lines, n), y = normaliseLog(b.lines, n);
  if (x == y) return {};
  // Common prefix and suffix first; an LCS table over what is left, unless
  // that is large, when the middle is shown as removed then added.
  size_t pre = 0;
  while (pre < x.size() && pre < y.size() && x[pre] == y[pre]) ++pre;
  size_t suf = 0;
  while (suf < x.size() - pre && suf < y.size() - pre &&
         x[x.size() - 1 - suf] == y[y.size() - 1 - suf])
    ++suf;
  const size_t nx = x.size() - pre - suf, ny = y.size() - pre - suf;
  // ops: ' ' both, '-' only in a, '+' only in b, with indices into x / y.
  struct Op {
    char tag;
    size_t ix, iy;
  };
  std::vector<Op> ops;
  for (size_t i = 0; i < pre; ++i) ops.push_back({' ', i, i});
  constexpr size_t kMaxCells = size_t{4} << 20;
  if (nx * ny <= kMaxCells) {
    std::vector<uint32_t> lcs((nx + 1) * (ny + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (ny + 1) + j]; };
    for (size_t i = nx; i-- > 0;)
      for (size_t j = ny; j-- > 0;)
        at(i, j) = x[pre + i] == y[pre + j] ? at(i + 1, j + 1) + 1
                                            : std::max(at(i + 1, j), at(i, j + 1));
    size_t i = 0, j = 0;
    while (i < nx || j < ny) {
      if (i < nx && j < ny && x[pre + i] == y[pre + j]) {
        ops.push_back({' ', pre + i++, pre + j++});
      } else if (j == ny || (i < nx && at(i + 1, j) >= at(i, j + 1))) {
        ops.push_back({'-', pre + i++, 0});
      } else {
        ops.push_back({'+', 0, pre + j++});
      }
    }
  } else {
    for (size_t i = 0; i < nx; ++i) ops.push_back({'-', pre + i, 0});
    for (size_t j = 0; j < ny; ++j) ops.push_back({'+', 0, pre + j});
  }
  for (size_t k = 0; k < suf; ++k) ops.push_back({' ', pre + nx + k, pre + ny + k});

  std::string out = fmt::format("--- {}\n+++ {}\n", a.engine, b.engine);
  // Hunks: runs of changes with `context` equal lines around them.
  size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].tag == ' ') ++k;
    if (k == ops.size()) break;
    size_t start = k >= context ? k - context : 0;
    size_t end = k;
    // Extend while the next change is within 2*context equal lines.
    while (end < ops.size()) {
      size_t e = end;
      while (e < ops.size() && ops[e].tag != ' ') ++e;
      size_t gap = e;
      while (gap < ops.size() && ops[gap].tag == ' ' && gap - e < 2 * context + 1) ++gap;
      if (gap < ops.size() && ops[gap].tag != ' ' && gap - e <= 2 * context) {
        end = gap;
        continue;
      }
      end = std::min(ops.size(), e + context);
      break;
    }
    size_t a_line = 0, b_line = 0;
    for (size_t m = 0; m < start; ++m) {
      if (ops[m].tag != '+') ++a_line;
      if (ops[m].tag != '-') ++b_line;
    }
    out += fmt::format("@@ -{} +{} @@\n", a_line + 1, b_line + 1);
    for (size_t m = start; m < end; ++m) {
      const Op& op = ops[m];
      out += op.tag;
      out += op.tag == '+' ? y[op.iy] : x[op.ix];
      out += '\n';
    }
    k = end;
  }
  return out;
}

}  // namespace slabfuzz
