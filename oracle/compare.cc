// Comparing execution logs; see compare.h.
#include "oracle/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "oracle/normalise.h"
#include "oracle/trap_class.h"

namespace slabfuzz {
namespace {

using LogStatus = ExecutionLog::Status;
constexpr std::string_view kEnd = "<end>";

NormaliseOptions normaliseFor(const ExecutionLog& a, const ExecutionLog& b) {
  NormaliseOptions n;
  n.keep_slabfuzz_lines = a.ours && b.ours;
  n.keep_trap_messages = a.ours && b.ours;
  n.trap_classes = true;
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

// Where the comparable part of a log ends (an index into its normalised
// lines): at its first resource line, or at its end when a limit ended it
// without one (a time-out, a log cap); npos when it ran to the end.
size_t cutOf(const ExecutionLog& log, std::span<const std::string> lines) {
  auto limit = std::ranges::find_if(lines, [](const std::string& l) { return isResourceLine(l); });
  if (limit != lines.end()) return static_cast<size_t>(limit - lines.begin());
  return log.status == LogStatus::Inconclusive ? lines.size() : std::string_view::npos;
}

TrapClass trapClassByName(std::string_view line) {
  for (TrapClass c : {TrapClass::Unreachable, TrapClass::Null, TrapClass::Cast, TrapClass::Bounds,
                      TrapClass::IndirectCall, TrapClass::Arithmetic, TrapClass::Host})
    if (line == fmt::format("[trap {}]", trapClassName(c))) return c;
  return TrapClass::Unknown;
}

// Two normalised lines at the same place. Where trap messages were reduced
// to their class, two traps match by class.
bool linesMatch(std::string_view x, std::string_view y, const ExecutionLog& a,
                const ExecutionLog& b) {
  if (x == y) return true;
  if (a.ours && b.ours) return false;
  if (!x.starts_with("[trap ") || !y.starts_with("[trap ")) return false;
  return trapClassesMatch(trapClassByName(x), a.engine, trapClassByName(y), b.engine);
}

Verdict violationFinding(const ExecutionLog& log) {
  Verdict v;
  v.kind = Verdict::Kind::Finding;
  v.signature = signatureOf(*log.violation);
  v.engine_a = log.engine;
  v.detail = fmt::format("{}: {}", log.engine, log.message);
  return v;
}

// One side refused a module the other ran: the kind names who refused and
// what ("diff:status:ours-rejects:type-mismatch", "diff:status:v8-rejects:
// unlinkable"), the phase where (validate, link); an engine that aborted
// part-way is "diff:status:binaryen-aborts" in the mutator phase.
Verdict statusFinding(const ExecutionLog& a, const ExecutionLog& b) {
  const ExecutionLog& refuser = a.status == LogStatus::Rejected ? a : b;
  Verdict v;
  v.kind = Verdict::Kind::Finding;
  v.signature.kind = FindingKind::DiffStatus;
  const std::string what = refuser.ours && !refuser.rejection_code.empty()
                               ? refuser.rejection_code
                               : std::string(rejectionName(refuser.rejection));
  const std::string who = refuser.ours ? "ours" : refuser.engine;
  v.signature.site = "module";
  if (refuser.rejection == Rejection::Aborted) {
    // Not a refusal: the engine crashed while it ran the module.
    v.signature.detail = who + "-aborts";
    v.signature.phase = "mutator";
  } else {
    v.signature.detail = fmt::format("{}-rejects:{}", who, what);
    v.signature.phase = refuser.rejection == Rejection::Unlinkable ? "link" : "validate";
  }
  v.engine_a = a.engine;
  v.engine_b = b.engine;
  auto say = [](const ExecutionLog& l) {
    return l.status == LogStatus::Rejected ? fmt::format("rejected it ({})", l.message)
                                           : std::string("ran it");
  };
  v.detail = fmt::format("{} {}; {} {}", a.engine, say(a), b.engine, say(b));
  return v;
}

Verdict notComparable(const ExecutionLog& refuser) {
  Verdict v;
  v.kind = Verdict::Kind::NotComparable;
  v.detail = fmt::format("{} cannot run it on equal terms ({}): {}", refuser.engine,
                         rejectionName(refuser.rejection), refuser.message);
  return v;
}

}  // namespace

std::string_view rejectionName(Rejection r) {
  switch (r) {
    case Rejection::None: return "none";
    case Rejection::Module: return "module";
    case Rejection::Unlinkable: return "unlinkable";
    case Rejection::Unsupported: return "unsupported";
    case Rejection::Limit: return "limit";
    case Rejection::Harness: return "harness";
    case Rejection::Aborted: return "aborted";
  }
  return "?";
}

std::string_view verdictKindName(Verdict::Kind kind) {
  switch (kind) {
    case Verdict::Kind::Agree: return "agree";
    case Verdict::Kind::AgreeUpToLimit: return "agree-up-to-limit";
    case Verdict::Kind::Rejected: return "rejected";
    case Verdict::Kind::NotComparable: return "not-comparable";
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
  for (const std::string& i : inconclusive) out += fmt::format("  limit: {}\n", i);
  return out;
}

Verdict compareLogs(const ExecutionLog& a, const ExecutionLog& b) {
  if (a.status == LogStatus::Violation) return violationFinding(a);
  if (b.status == LogStatus::Violation) return violationFinding(b);
  Verdict v;
  for (const ExecutionLog* l : {&a, &b})
    if (l->status == LogStatus::Rejected && !comparableRejection(l->rejection))
      return notComparable(*l);
  if ((a.status == LogStatus::Rejected) != (b.status == LogStatus::Rejected)) return statusFinding(a, b);
  if (a.status == LogStatus::Rejected) {
    v.kind = Verdict::Kind::Rejected;
    v.detail = fmt::format("{}: {}", a.engine, a.message);
    return v;
  }
  NormaliseOptions n = normaliseFor(a, b);
  // Between our own configurations every line is kept and normalised on
  // its own, so logs equal as printed are equal normalised: the common case
  // needs no copy of either.
  const bool conclusive = a.status == LogStatus::Ran && b.status == LogStatus::Ran;
  if (conclusive && n.keep_trap_messages && n.keep_slabfuzz_lines && a.lines == b.lines) return v;
  std::vector<std::string> na = normaliseLog(a.lines, n), nb = normaliseLog(b.lines, n);
  const size_t cut_a = cutOf(a, na), cut_b = cutOf(b, nb), cut = std::min(cut_a, cut_b);
  size_t i = 0;
  while (i < cut && i < na.size() && i < nb.size() && linesMatch(na[i], nb[i], a, b)) ++i;
  if (i >= cut) {
    v.kind = Verdict::Kind::AgreeUpToLimit;
    for (auto [log, at, lines] : {std::tuple{&a, cut_a, &na}, std::tuple{&b, cut_b, &nb}}) {
      if (at == std::string_view::npos) continue;
      std::string why = at < lines->size() ? (*lines)[at] : log->message;
      v.inconclusive.push_back(fmt::format("{}: {} (log line {})", log->engine, why, at + 1));
    }
    v.detail = fmt::format("compared up to log line {}, where a resource limit ended a run", cut);
    return v;
  }
  if (i == na.size() && i == nb.size()) return v;
  std::string_view la = i < na.size() ? std::string_view(na[i]) : kEnd;
  std::string_view lb = i < nb.size() ? std::string_view(nb[i]) : kEnd;
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

Verdict judge(std::span<const ExecutionLog> logs) {
  for (const ExecutionLog& l : logs)
    if (l.status == LogStatus::Violation) return violationFinding(l);
  Verdict v;
  if (!logs.empty() && std::ranges::all_of(logs, [](const ExecutionLog& l) { return l.status == LogStatus::Rejected; })) {
    v.kind = Verdict::Kind::Rejected;
    v.detail = fmt::format("{}: {}", logs[0].engine, logs[0].message);
    return v;
  }
  // Refusals for a limit or a feature leave their engine out.
  std::vector<const ExecutionLog*> kept;
  const ExecutionLog* left_out = nullptr;
  for (const ExecutionLog& l : logs) {
    if (l.status == LogStatus::Rejected && !comparableRejection(l.rejection)) {
      if (!left_out) left_out = &l;
    } else {
      kept.push_back(&l);
    }
  }
  if (kept.size() < 2 && left_out) return notComparable(*left_out);
  if (kept.empty()) return v;
  for (const ExecutionLog* l : kept)
    if ((l->status == LogStatus::Rejected) != (kept[0]->status == LogStatus::Rejected))
      return statusFinding(*kept[0], *l);
  // The baseline ran to the end if any log did; each other log is compared
  // with it as far as both went.
  auto base_it = std::ranges::find_if(kept, [](const ExecutionLog* l) { return l->status == LogStatus::Ran; });
  const ExecutionLog* base = base_it != kept.end() ? *base_it : kept[0];
  for (const ExecutionLog* l : kept) {
    if (l == base) continue;
    Verdict pair = compareLogs(*base, *l);
    if (pair.kind == Verdict::Kind::Finding) return pair;
    if (pair.kind == Verdict::Kind::AgreeUpToLimit) {
      for (std::string& i : pair.inconclusive)
        if (std::ranges::find(v.inconclusive, i) == v.inconclusive.end()) v.inconclusive.push_back(std::move(i));
      if (v.detail.empty()) v.detail = pair.detail;
    }
  }
  if (!v.inconclusive.empty()) v.kind = Verdict::Kind::AgreeUpToLimit;
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
