// Grouping findings and the triage report; see triage.h.
#include "oracle/triage.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "heap/heap_id.h"

namespace slabfuzz {
namespace {

// A cell of a Markdown table: no '|' or newline may break the row.
std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

// Inline code that survives backticks inside.
std::string code(std::string_view s) {
  return s.find('`') == std::string_view::npos ? fmt::format("`{}`", s)
                                               : fmt::format("`` {} ``", s);
}

void noteList(std::string& md, const char* title, const std::vector<TriageNote>& notes) {
  if (notes.empty()) return;
  md += fmt::format("\n## {} ({})\n\n", title, notes.size());
  for (const TriageNote& n : notes) md += fmt::format("- {}: {}\n", code(n.input), n.what);
}

}  // namespace

SlabIdNote slabIdNoteOf(const HeapViolation& violation, std::string engine) {
  SlabIdNote n;
  n.engine = std::move(engine);
  n.id = slabid::decode(violation.id.raw);
  n.now_holds = violation.now_holds;
  n.expected = violation.expected;
  n.operation = violation.operation;
  n.gc_cycle = violation.gc_cycle;
  return n;
}

std::string describeId(const DecodedId& id) {
  return fmt::format("heap tag {}, slab {} (identity {}), slot {}, generation {} (id {:#x})",
                     id.heap_tag, id.slab, id.slab_identity, id.slot, id.generation, id.raw);
}

std::vector<TriageGroup> groupFindings(std::span<const TriageFinding> findings) {
  std::map<std::string, TriageGroup> by_bucket;
  std::vector<size_t> order(findings.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Members in bundle-name order whatever order the findings came in.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(findings[a].bundle, a) < std::tie(findings[b].bundle, b);
  });
  for (size_t i : order) {
    const TriageFinding& f = findings[i];
    TriageGroup& g = by_bucket[f.bucket];
    if (g.members.empty()) {
      g.bucket = f.bucket;
      g.smallest = i;
      g.first_seen = f.found_at;
    } else {
      const TriageFinding& s = findings[g.smallest];
      if (std::tie(f.module_bytes, f.bundle) < std::tie(s.module_bytes, s.bundle)) g.smallest = i;
      // ISO-8601 in UTC sorts as text; an unknown time never wins.
      if (!f.found_at.empty() && (g.first_seen.empty() || f.found_at < g.first_seen))
        g.first_seen = f.found_at;
    }
    g.members.push_back(i);
  }
  std::vector<TriageGroup> groups;
  for (auto& [bucket, g] : by_bucket) groups.push_back(std::move(g));
  std::stable_sort(groups.begin(), groups.end(), [](const TriageGroup& a, const TriageGroup& b) {
    return a.members.size() > b.members.size();
  });
  return groups;
}

std::vector<std::string> differingLines(std::string_view verdict_text, size_t max) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < verdict_text.size()) {
    size_t end = verdict_text.find('\n', start);
    if (end == std::string_view::npos) end = verdict_text.size();
    lines.emplace_back(verdict_text.substr(start, end - start));
    start = end + 1;
  }
  std::vector<std::string> picked;
  bool has_diff = false;
  for (const std::string& l : lines) {
    if (l.starts_with("--- ") || l.starts_with("+++ ")) {
      has_diff = true;
      continue;
    }
    if (has_diff && (l.starts_with("-") || l.starts_with("+"))) picked.push_back(l);
  }
  if (picked.empty()) {
    // A heap violation has no second log: its verdict says what happened.
    for (size_t i = 1; i < lines.size(); ++i) {
      if (lines[i].starts_with("--- ") || lines[i].starts_with("@@")) break;
      if (!lines[i].empty()) picked.push_back(lines[i]);
    }
  }
  if (picked.size() > max) {
    size_t more = picked.size() - max;
    picked.resize(max);
    picked.push_back(fmt::format("... {} more line(s) in verdict.txt", more));
  }
  return picked;
}

std::string triageMarkdown(const TriageInputs& in, std::span<const TriageGroup> groups) {
  const std::vector<TriageFinding>& fs = in.findings;
  std::string md = "# slabfuzz triage\n\n";
  std::string dirs;
  for (const std::string& d : in.dirs) dirs += (dirs.empty() ? "" : ", ") + code(d);
  md += fmt::format(
      "{} finding(s) in {} group(s) from {}; {} input(s) did not reproduce, {} hit a resource "
      "limit, {} could not be read.\n\n",
      fs.size(), groups.size(), dirs, in.not_reproduced.size(), in.resource.size(),
      in.errors.size());
  if (!groups.empty()) {
    md += "| # | bucket | count | first seen | smallest reproducer | bytes | fault |\n";
    md += "|---|---|---|---|---|---|---|\n";
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const TriageGroup& g = groups[gi];
      const TriageFinding& s = fs[g.smallest];
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", gi + 1, cell(code(g.bucket)),
                        g.members.size(), g.first_seen.empty() ? "?" : g.first_seen,
                        cell(code(s.bundle)), s.module_bytes, s.fault.empty() ? "-" : s.fault);
    }
  }
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const TriageGroup& g = groups[gi];
    const TriageFinding& s = fs[g.smallest];
    md += fmt::format("\n## {}. {}\n\n", gi + 1, code(g.bucket));
    md += fmt::format("- count: {}; first seen {}\n", g.members.size(),
                      g.first_seen.empty() ? "?" : g.first_seen);
    md += fmt::format("- example: {}\n", code(s.signature));
    md += fmt::format("- smallest reproducer: {} ({} bytes{})\n", code(s.bundle), s.module_bytes,
                      s.instructions ? fmt::format(", {} instructions", *s.instructions) : "");
    if (!s.source.empty())
      md += fmt::format("- from: {}{}\n", code(s.source),
                        s.target.empty() ? "" : fmt::format(" ({} input)", s.target));
    md += fmt::format("- fault: {}\n", s.fault.empty() ? "none" : s.fault);
    md += fmt::format("- reproduce: {}\n", code(s.bundle + "/repro.sh"));
    if (!s.repro.empty()) md += fmt::format("  (runs {})\n", code(s.repro));
    if (!s.note.empty()) md += fmt::format("- note: {}\n", s.note);
    if (s.slab_id) {
      const SlabIdNote& n = *s.slab_id;
      md += fmt::format("- id ({}): {}\n", n.engine, describeId(n.id));
      if (!n.now_holds.empty()) md += fmt::format("  - the slot holds now: {}\n", n.now_holds);
      if (!n.expected.empty()) md += fmt::format("  - expected: {}\n", n.expected);
      if (!n.operation.empty())
        md += fmt::format("  - operation: {}, after {} collection(s)\n", n.operation, n.gc_cycle);
    }
    if (!s.differing.empty()) {
      md += "\nWhat differs (from verdict.txt):\n\n```\n";
      for (const std::string& l : s.differing) md += l + "\n";
      md += "```\n";
    }
    if (!s.wat_path.empty()) {
      md += fmt::format("\n{} ({} lines{}):\n\n```wat\n", code(s.wat_path), s.wat_lines,
                        s.wat_lines > s.wat_head.size()
                            ? fmt::format(", the first {} shown", s.wat_head.size())
                            : "");
      for (const std::string& l : s.wat_head) md += l + "\n";
      md += "```\n";
    } else if (!s.wat_missing.empty()) {
      md += fmt::format("\nNo .wat: {}\n", s.wat_missing);
    }
    if (g.members.size() > 1) {
      md += "\nAll members:\n\n";
      for (size_t i : g.members)
        md += fmt::format("- {} ({} bytes): {}{}\n", code(fs[i].bundle), fs[i].module_bytes,
                          code(fs[i].signature), fs[i].note.empty() ? "" : "; " + fs[i].note);
    }
  }
  noteList(md, "Did not reproduce", in.not_reproduced);
  noteList(md, "Timeouts and out-of-memory", in.resource);
  noteList(md, "Could not be read", in.errors);
  return md;
}

}  // namespace slabfuzz
